#!/usr/bin/env python3
"""Build the course as a static JupyterLite site that needs no install and no CDN.

    python3 lite/build_site.py [--output DIR]

Steps, each reaching only the package registries (PyPI and npm):

1. a build environment in ``lite/.venv`` with Python 3.12 or newer (the
   ``--pyodide-lock`` step of jupyterlite-pyodide-kernel needs it) and the
   course's ``lite`` extra;
2. the Pyodide runtime from the npm ``pyodide`` package (``npm ci`` in
   ``lite/``), copied with its package list emptied, so that no package URL
   points at Pyodide's CDN;
3. a wheel of the course package, and ``jupyter lite build --pyodide-lock``,
   which solves the wheels the kernel and the course need from PyPI with uv
   (``UV_PYTHON_DOWNLOADS=never``: uv must not fetch an interpreter) and
   stores them in the site;
4. a check that the site's configuration and package lock name no other host.

The site is written to ``lite/_output`` unless ``--output`` is given. This
script uses the standard library only, so any Python 3.10+ can start it.
"""

from __future__ import annotations

import argparse
import glob
import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

LITE = Path(__file__).resolve().parent
ROOT = LITE.parent
VENV = LITE / ".venv"
WORK = LITE / "_work"
DEFAULT_OUTPUT = LITE / "_output"
PYODIDE_NPM = LITE / "node_modules" / "pyodide"
MINIMUM_BUILD_PYTHON = (3, 12)

# The runtime files jupyterlite-pyodide-kernel 0.8 loads from static/pyodide/.
PYODIDE_FILES = (
    "package.json",
    "pyodide.asm.mjs",
    "pyodide.asm.wasm",
    "pyodide.js",
    "pyodide.mjs",
    "python_stdlib.zip",
)
CONFIG_FILES = ("jupyter_lite_config.json", "jupyter-lite.json", "overrides.json")
CONSTRAINTS_FILE = "constraints.txt"


class BuildError(RuntimeError):
    """Raised when a build step cannot run; the message names what to install."""


def say(message: str) -> None:
    print(f"[lite] {message}", flush=True)


def run(command: list[str], **options: object) -> None:
    say("$ " + " ".join(command))
    subprocess.run(command, check=True, **options)  # type: ignore[call-overload]


def find_build_python() -> str:
    """Return an interpreter of Python 3.12 or newer, this one if it qualifies."""
    if sys.version_info >= MINIMUM_BUILD_PYTHON:
        return sys.executable
    candidates = [shutil.which(name) for name in ("python3.13", "python3.12")]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    candidates += sorted(
        glob.glob(str(pyenv_root / "versions" / "3.1[2-9]*" / "bin" / "python")),
        reverse=True,
    )
    for candidate in candidates:
        if candidate and _runs_new_enough_python(candidate):
            return candidate
    raise BuildError(
        "The site build needs Python 3.12 or newer (python3.12 or python3.13 on "
        "PATH, or a pyenv version); none was found."
    )


def _runs_new_enough_python(candidate: str) -> bool:
    # A pyenv shim exists on PATH even when it cannot run that version.
    check = f"import sys; sys.exit(sys.version_info < {MINIMUM_BUILD_PYTHON!r})"
    result = subprocess.run([candidate, "-c", check], capture_output=True)
    return result.returncode == 0


def venv_python() -> Path:
    return VENV / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


def ensure_build_environment() -> Path:
    """Create ``lite/.venv`` and install the ``lite`` extra, unless already done."""
    if not venv_python().exists():
        run([find_build_python(), "-m", "venv", str(VENV)])
    fingerprint = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = VENV / ".installed-lite"
    if not (stamp.exists() and stamp.read_text() == fingerprint):
        python = str(venv_python())
        run([python, "-m", "pip", "install", "-q", "-U", "pip"])
        run([python, "-m", "pip", "install", "-q", f"{ROOT}[lite]"])
        stamp.write_text(fingerprint)
    return venv_python()


def ensure_pyodide() -> None:
    """Install the pinned npm ``pyodide`` package into ``lite/node_modules``."""
    package = json.loads((LITE / "package.json").read_text())
    pinned_version = package["dependencies"]["pyodide"]
    installed = PYODIDE_NPM / "package.json"
    if (
        installed.exists()
        and json.loads(installed.read_text())["version"] == pinned_version
    ):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise BuildError("npm is needed to install Pyodide: install Node.js and npm.")
    run([npm, "ci", "--no-audit", "--no-fund", "--ignore-scripts"], cwd=LITE)


def stage_lite_dir(python: Path) -> None:
    """Fill ``lite/_work`` with configuration, notebooks, Pyodide and the wheel."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir()
    for name in CONFIG_FILES:
        shutil.copy2(LITE / name, WORK / name)
    if (LITE / CONSTRAINTS_FILE).exists():
        shutil.copy2(LITE / CONSTRAINTS_FILE, WORK / CONSTRAINTS_FILE)

    notebooks = ROOT / "notebooks"
    shutil.copytree(
        notebooks,
        WORK / "files",
        ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"),
    )

    pyodide_dir = WORK / "static" / "pyodide"
    pyodide_dir.mkdir(parents=True)
    for name in PYODIDE_FILES:
        shutil.copy2(PYODIDE_NPM / name, pyodide_dir / name)
    write_empty_lock(
        PYODIDE_NPM / "pyodide-lock.json", pyodide_dir / "pyodide-lock.json"
    )

    wheel_folder = WORK / "wheels"
    run(
        [
            str(python),
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(wheel_folder),
            str(ROOT),
        ]
    )


def write_empty_lock(source: Path, target: Path) -> None:
    """Copy Pyodide's lock with no packages: each package entry names a CDN URL.

    The build then adds every package the site needs as a local wheel.
    """
    lock = json.loads(source.read_text())
    lock["packages"] = {}
    target.write_text(json.dumps(lock, indent=1))


def build_site(python: Path, output: Path) -> None:
    environment = dict(os.environ, UV_PYTHON_DOWNLOADS="never")
    jupyter = python.parent / "jupyter"
    shutil.rmtree(output, ignore_errors=True)
    run(
        [
            str(jupyter),
            "lite",
            "build",
            "--lite-dir",
            str(WORK),
            "--output-dir",
            str(output),
            "--pyodide-lock",
        ],
        cwd=WORK,
        env=environment,
    )
    written = WORK / CONSTRAINTS_FILE
    if written.exists() and not (LITE / CONSTRAINTS_FILE).exists():
        shutil.copy2(written, LITE / CONSTRAINTS_FILE)
        say(f"wrote {LITE / CONSTRAINTS_FILE}: commit it to pin the site's wheels")


def check_offline(output: Path) -> None:
    """Raise :class:`BuildError` if the site would load anything from another host."""
    lock = json.loads(
        (output / "static" / "pyodide-lock" / "pyodide-lock.json").read_text()
    )
    remote = [
        name
        for name, package in lock["packages"].items()
        if "://" in package["file_name"]
    ]
    if remote:
        raise BuildError(f"packages still point at another host: {', '.join(remote)}")
    for config_path in output.rglob("jupyter-lite.json"):
        text = config_path.read_text()
        if "://" in text:
            raise BuildError(f"{config_path} names a URL with a host: remove it")
        settings = json.loads(text)["jupyter-config-data"].get("litePluginSettings", {})
        kernel = settings.get("@jupyterlite/pyodide-kernel-extension:kernel")
        if kernel is not None and kernel.get("disablePyPIFallback") is not True:
            raise BuildError(f"{config_path} does not set disablePyPIFallback: true")


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help=f"folder for the static site (default: {DEFAULT_OUTPUT})",
    )
    arguments = parser.parse_args(argv)
    output = arguments.output.resolve()
    started = time.perf_counter()
    try:
        python = ensure_build_environment()
        ensure_pyodide()
        stage_lite_dir(python)
        build_site(python, output)
        check_offline(output)
    except (BuildError, subprocess.CalledProcessError) as error:
        say(f"build failed: {error}")
        return 1
    size_mib = folder_size(output) / (1024 * 1024)
    elapsed = time.perf_counter() - started
    say(f"site ready in {output}: {size_mib:.1f} MiB, built in {elapsed:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
