"""A throwaway JupyterLab server on 127.0.0.1 for browser tests.

Every folder Jupyter, IPython and the desktop libraries write to (HOME, the
XDG folders, the ``JUPYTER_*`` folders, TMPDIR) points into one scratch
folder, so a test run writes nothing into the real home folder. News, update
checks and the PyPI extension manager are turned off, so the server itself
makes no request to another host.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

LOOPBACK = "127.0.0.1"
START_TIMEOUT_SECONDS = 60

# User settings written before start: no news or update pop-ups, no autosave
# (the test saves on purpose), and widget state saved with the notebook, so a
# test can read what ipywidgets would store in a student's file.
USER_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false",
        "checkForUpdates": False,
        "doNotDisturbMode": True,
    },
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {
        "autosave": False,
    },
    "@jupyter-widgets/jupyterlab-manager/plugin.jupyterlab-settings": {
        "saveState": True,
    },
}


def free_loopback_port() -> int:
    """Return a TCP port that was free on 127.0.0.1 a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


def isolated_environment(scratch: Path) -> dict[str, str]:
    """Return ``os.environ`` with every per-user folder moved under ``scratch``."""
    folders = {
        "HOME": "home",
        "XDG_CONFIG_HOME": "home/.config",
        "XDG_DATA_HOME": "home/.local/share",
        "XDG_CACHE_HOME": "home/.cache",
        "XDG_RUNTIME_DIR": "runtime",
        "JUPYTER_CONFIG_DIR": "jupyter/config",
        "JUPYTER_DATA_DIR": "jupyter/data",
        "JUPYTER_RUNTIME_DIR": "jupyter/runtime",
        "JUPYTERLAB_SETTINGS_DIR": "jupyter/lab/user-settings",
        "JUPYTERLAB_WORKSPACES_DIR": "jupyter/lab/workspaces",
        "IPYTHONDIR": "ipython",
        "TMPDIR": "tmp",
    }
    environment = dict(os.environ)
    for variable, relative in folders.items():
        folder = scratch / relative
        folder.mkdir(parents=True, exist_ok=True)
        environment[variable] = str(folder)
    os.chmod(scratch / "runtime", 0o700)
    environment["JUPYTER_PLATFORM_DIRS"] = "1"
    # The kernel inherits this environment; keep pytest's own variables out.
    for variable in ("PYTEST_CURRENT_TEST", "PYTEST_ADDOPTS"):
        environment.pop(variable, None)
    return environment


def write_user_settings(settings_dir: Path) -> None:
    for relative, values in USER_SETTINGS.items():
        target = settings_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values), encoding="utf-8")


@dataclass
class LabServer:
    """A running ``jupyter lab`` process and how to reach it."""

    process: subprocess.Popen
    port: int
    token: str
    root_dir: Path
    scratch: Path
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def url(self, path: str) -> str:
        """Return the address of ``path`` (relative to the root) with the token."""
        return f"{self.base_url}/lab/tree/{path}?token={self.token}"

    def log_text(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def lab_command(port: int, token: str, root_dir: Path) -> list[str]:
    command = [
        sys.executable,
        "-m",
        "jupyterlab",
        "--no-browser",
        f"--ServerApp.ip={LOOPBACK}",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        f"--ServerApp.root_dir={root_dir}",
        f"--IdentityProvider.token={token}",
        "--LabApp.news_url=None",
        "--LabApp.check_for_updates_class=jupyterlab.handlers.announcements"
        ".NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",
        "--LabApp.expose_app_in_browser=True",
    ]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Jupyter refuses to run as root (as in CI containers) without this flag.
        command.append("--allow-root")
    return command


def wait_until_ready(server: LabServer) -> None:
    """Poll the status API until the server responds; raise with its log if not."""
    status_url = f"{server.base_url}/api/status?token={server.token}"
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {server.process.returncode}:\n"
                + server.log_text()
            )
        try:
            with urllib.request.urlopen(status_url, timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.25)
    server.stop()
    raise TimeoutError(
        f"jupyter lab did not respond within {START_TIMEOUT_SECONDS} s:\n"
        + server.log_text()
    )


def start_lab(root_dir: Path, scratch: Path) -> LabServer:
    """Start JupyterLab serving ``root_dir``, isolated under ``scratch``."""
    environment = isolated_environment(scratch)
    write_user_settings(Path(environment["JUPYTERLAB_SETTINGS_DIR"]))
    port = free_loopback_port()
    token = secrets.token_hex(24)
    log_path = scratch / "jupyter-lab.log"
    with open(log_path, "wb") as log_file:
        process = subprocess.Popen(
            lab_command(port, token, root_dir),
            cwd=root_dir,
            env=environment,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    server = LabServer(process, port, token, root_dir, scratch, log_path)
    wait_until_ready(server)
    return server
