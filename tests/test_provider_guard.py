"""The guard that keeps tests and lesson builds away from real mail providers.

Lesson 08 will send with the ``MAILCOURSE_SMTP_*`` settings of the
environment or of a ``.env`` file. The root ``conftest.py`` and the lesson
build blank those variables, so that a developer's real settings never make
a test or a build contact a provider.
"""

from __future__ import annotations

import os
from pathlib import Path

from mailcourse import authoring, load_settings
from mailcourse.settings import ENV_VARIABLES


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
