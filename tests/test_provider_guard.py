"""The guard that keeps tests and lesson builds away from real mail providers.

Lesson 08 sends with the ``MAILCOURSE_SMTP_*`` settings of the environment
or of a ``.env`` file. The root ``conftest.py`` and the lesson build blank
those variables, so that a developer's real settings never make a test or a
build contact a provider. The end-to-end tests use a listening socket on
127.0.0.1 as the provider, with a negative control that shows the notebook
does connect when the variables are not blanked.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from mailcourse import authoring, load_settings
from mailcourse.settings import ENV_VARIABLES

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
PROVIDER_NOTEBOOK = NOTEBOOKS / "08-proveedor-real.ipynb"
# Seconds the notebook waits for the greeting of the fake provider, which
# never sends one.
FAKE_PROVIDER_TIMEOUT = 2


def test_hide_provider_settings_blanks_all():
    environ = {name: "valor" for name in ENV_VARIABLES}
    authoring.hide_provider_settings(environ)
    assert environ == {name: "" for name in ENV_VARIABLES}


def write_provider_env_file(folder: Path) -> Path:
    path = folder / ".env"
    path.write_text(
        "MAILCOURSE_SMTP_HOST=smtp.ejemplo.test\n"
        "MAILCOURSE_SMTP_PORT=587\n"
        "MAILCOURSE_SMTP_USER=ana@ejemplo.test\n",
        encoding="utf-8",
    )
    return path


def test_blank_variables_mask_env_file(tmp_path):
    environ: dict[str, str] = {}
    authoring.hide_provider_settings(environ)
    assert load_settings(write_provider_env_file(tmp_path), environ=environ) is None


def test_env_file_read_when_unmasked(tmp_path):
    # Negative control: without the blank variables the same file is used.
    settings = load_settings(write_provider_env_file(tmp_path), environ={})
    assert settings is not None
    assert settings.host == "smtp.ejemplo.test"


def test_this_test_run_is_masked():
    for name in ENV_VARIABLES:
        assert os.environ.get(name) == "", name


def test_lesson_build_masks_variables(monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_HOST", "smtp.ejemplo.test")
    # main() sets a default TZ, and monkeypatch restores the current value.
    monkeypatch.setenv("TZ", os.environ.get("TZ", "UTC"))
    # No lesson name starts with "zz", so nothing is built.
    assert authoring.main(["zz"]) == 0
    assert os.environ["MAILCOURSE_SMTP_HOST"] == ""


@pytest.fixture
def fake_provider():
    """A listening socket on 127.0.0.1 that never greets, so connections stay queued."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.setblocking(False)
    yield listener
    listener.close()


def was_contacted(listener: socket.socket) -> bool:
    """Return true when a connection is waiting in the listener's queue."""
    try:
        connection, _ = listener.accept()
    except BlockingIOError:
        return False
    connection.close()
    return True


def provider_variables(listener: socket.socket) -> dict[str, str]:
    """Return settings that point lesson 08 at ``listener`` as its provider."""
    return {
        "MAILCOURSE_SMTP_HOST": "127.0.0.1",
        "MAILCOURSE_SMTP_PORT": str(listener.getsockname()[1]),
        "MAILCOURSE_SMTP_SECURITY": "none",
        "MAILCOURSE_SMTP_USER": "ana@ejemplo.test",
        "MAILCOURSE_SMTP_TIMEOUT": str(FAKE_PROVIDER_TIMEOUT),
    }


@pytest.mark.slow
def test_nbval_ignores_provider_variables(fake_provider):
    environment = {**os.environ, **provider_variables(fake_provider)}
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        str(PROVIDER_NOTEBOOK.relative_to(ROOT)),
    ]
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-3000:]
    assert not was_contacted(fake_provider)


@pytest.mark.slow
def test_unmasked_notebook_contacts_provider(fake_provider, monkeypatch):
    # Negative control: a kernel that inherits the settings does connect, so
    # the test above would notice a missing guard.
    for name, value in provider_variables(fake_provider).items():
        monkeypatch.setenv(name, value)
    notebook = nbformat.read(PROVIDER_NOTEBOOK, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=30,
        kernel_name="python3",
        allow_errors=True,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
    )
    client.execute()
    assert was_contacted(fake_provider)
