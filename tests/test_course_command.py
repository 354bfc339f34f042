"""The README's first command: ``python3 course.py lab`` opens the course.

The command runs for real against the environment of this test run (which
``python3 course.py test`` installed), with HOME and the Jupyter folders in a
scratch directory, and is asked what it serves over HTTP on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
START_TIMEOUT_SECONDS = 60


def scratch_environment(home: Path) -> dict[str, str]:
    environment = dict(os.environ, HOME=str(home), MAILCOURSE_VENV=sys.prefix)
    for name in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR"):
        environment[name] = str(home / name.lower())
    environment["XDG_CONFIG_HOME"] = str(home / "xdg")
    return environment


@pytest.fixture
def running_lab(tmp_path):
    token = secrets.token_hex(16)
    command = [
        sys.executable,
        str(ROOT / "course.py"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        "--ServerApp.port=0",
        f"--IdentityProvider.token={token}",
    ]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=scratch_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    printed = []
    base_url = None
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while base_url is None and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        printed.append(line)
        found = re.search(r"http://127\.0\.0\.1:\d+/", line)
        if found:
            base_url = found.group()
    try:
        assert base_url, "JupyterLab did not start:\n" + "".join(printed)
        wait_until_answering(f"{base_url}api/status?token={token}", process, printed)
        yield base_url, token, "".join(printed)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)


def wait_until_answering(url: str, process: subprocess.Popen, printed: list) -> None:
    deadline = time.monotonic() + START_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        assert process.poll() is None, "JupyterLab exited:\n" + "".join(printed)
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.5)
    raise AssertionError(f"JupyterLab printed {url} but never answered there")


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.load(response)


def test_lab_opens_first_notebook(running_lab):
    base_url, token, printed = running_lab
    first = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))[0].name
    # Given a notebook, JupyterLab serves the folder that contains it.
    content = get_json(f"{base_url}api/contents/{first}?token={token}")
    assert content["type"] == "notebook"
    assert f"Abriendo JupyterLab en notebooks/{first}" in printed


def test_lab_interface_is_spanish(running_lab):
    base_url, token, _ = running_lab
    plugin = "@jupyterlab/translation-extension:plugin"
    settings = get_json(f"{base_url}lab/api/settings/{plugin}?token={token}")
    languages = get_json(f"{base_url}lab/api/translations?token={token}")
    assert settings["schema"]["properties"]["locale"]["default"] == "es_ES"
    assert "es_ES" in languages["data"]
