#!/usr/bin/env python3
"""Set up and run the course with nothing but Python 3.10+ and pip.

    python3 course.py lab      install (first time) and open JupyterLab
    python3 course.py test     install test tools (first time) and run every test
    python3 course.py build    regenerate and re-execute notebooks from lessons/
    python3 course.py bench    run the benchmarks and write docs/benchmarks.md
    python3 course.py site     build the JupyterLite site into lite/_output

The environment lives in ``.venv`` beside this file and is reinstalled only
when ``pyproject.toml`` changes. This script uses the standard library only.
"""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = Path(os.environ.get("MAILCOURSE_VENV", ROOT / ".venv"))
MINIMUM_PYTHON = (3, 10)


def say(message: str) -> None:
    print(f"[curso] {message}", flush=True)


def venv_python() -> Path:
    if os.name == "nt":
        return VENV / "Scripts" / "python.exe"
    return VENV / "bin" / "python"


def create_venv() -> None:
    say(f"Creando el entorno aislado en {VENV} ...")
    result = subprocess.run([sys.executable, "-m", "venv", str(VENV)])
    if result.returncode == 0 and venv_python().exists():
        return
    # Debian's python3 lacks ensurepip unless python3-venv is installed;
    # virtualenv from PyPI carries its own pip, so pip alone is enough.
    say("El módulo venv no funciona aquí; se usa virtualenv desde PyPI.")
    with tempfile.TemporaryDirectory() as target:
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "-q", "--target", target,
             "virtualenv"],
            check=True,
        )
        environment = dict(os.environ, PYTHONPATH=target)
        subprocess.run(
            [sys.executable, "-m", "virtualenv", "-q", str(VENV)],
            check=True,
            env=environment,
        )


def install(extras: str) -> None:
    """Install the course (editable) with the given extras, unless already done."""
    if not venv_python().exists():
        create_venv()
    fingerprint = _fingerprint(extras)
    if _stamp_matches(extras, fingerprint) or (
        not extras and _stamp_matches("test", _fingerprint("test"))
    ):
        # The test install includes everything the course itself needs.
        return
    say("Instalando los paquetes del curso (la primera vez tarda un minuto) ...")
    python = str(venv_python())
    subprocess.run([python, "-m", "pip", "install", "-q", "-U", "pip"], check=True)
    target = f"{ROOT}[{extras}]" if extras else str(ROOT)
    subprocess.run([python, "-m", "pip", "install", "-q", "-e", target], check=True)
    subprocess.run([python, "-m", "mailcourse.lab_settings"], check=True)
    _stamp(extras).write_text(fingerprint)


def _fingerprint(extras: str) -> str:
    content = (ROOT / "pyproject.toml").read_bytes() + extras.encode()
    return hashlib.sha256(content).hexdigest()


def _stamp(extras: str) -> Path:
    return VENV / f".installed-{extras or 'base'}"


def _stamp_matches(extras: str, fingerprint: str) -> bool:
    stamp = _stamp(extras)
    return stamp.exists() and stamp.read_text() == fingerprint


def first_notebook() -> Path:
    notebooks = sorted((ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb"))
    return notebooks[0]


def run_in_venv(arguments: list[str]) -> int:
    """Run the environment's Python; Ctrl+C is left to that program alone."""
    command = [str(venv_python()), *arguments]
    process = subprocess.Popen(command, cwd=ROOT)
    # The terminal sends Ctrl+C to this script and to the child. Jupyter
    # reacts by asking whether to stop, so this script must not die first
    # with a traceback.
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        return process.wait()
    finally:
        signal.signal(signal.SIGINT, previous)


def command_lab(arguments: list[str]) -> int:
    install("")
    notebook = first_notebook().relative_to(ROOT)
    say(f"Abriendo JupyterLab en {notebook} (Ctrl+C para salir) ...")
    options = ["-m", "jupyter", "lab", str(notebook)]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        # Jupyter refuses to run as root without this flag (containers do).
        options.append("--allow-root")
    return run_in_venv(options + arguments)


def command_test(arguments: list[str]) -> int:
    install("test")
    return run_in_venv(["-m", "pytest", *arguments])


def command_build(arguments: list[str]) -> int:
    install("test")
    return run_in_venv(["-m", "mailcourse.authoring", *arguments])


def command_bench(arguments: list[str]) -> int:
    install("test")
    return run_in_venv(["-m", "bench", *arguments])


def command_site(arguments: list[str]) -> int:
    # The site build makes its own environment (it needs Python 3.12+).
    script = ROOT / "lite" / "build_site.py"
    return subprocess.run([sys.executable, str(script), *arguments], cwd=ROOT).returncode


COMMANDS = {
    "lab": command_lab,
    "test": command_test,
    "build": command_build,
    "bench": command_bench,
    "site": command_site,
}


def main() -> int:
    if sys.version_info < MINIMUM_PYTHON:
        say("Este curso necesita Python 3.10 o más reciente.")
        return 2
    arguments = sys.argv[1:]
    name = arguments.pop(0) if arguments else "lab"
    if name not in COMMANDS:
        say(f"Orden desconocida {name!r}. Usa una de: {', '.join(COMMANDS)}.")
        return 2
    return COMMANDS[name](arguments)


if __name__ == "__main__":
    sys.exit(main())
