"""Lesson 09 in a real browser: fill the forms, attach a file, click, check the Maildir.

JupyterLab and the bundled SMTP server run on 127.0.0.1; the lesson's kernel
gets TMPDIR inside the test's scratch folder, so the Maildir that
``start_local_server()`` creates there is where the tests read what arrived.
The tests share one page and run in file order: send, reject bad input,
then type a password and save the notebook.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from mailcourse import ACCENT_PASSWORD, ACCENT_USER, LAB_PASSWORD, Inbox
from .notebook_page import (
    append_and_run,
    fill_field,
    open_notebook,
    run_all_cells,
    save_notebook,
    upload_file,
)

pytestmark = pytest.mark.browser

LESSON = "09-formularios.ipynb"
SUBJECT = "Informe del año — ñandú ✓"
BODY = "Hola, Luis:\nTe envío las notas con tildes: acción, pingüino.\n"
ATTACHMENT_NAME = "notas-año.txt"
ATTACHMENT_TEXT = "Reunión el miércoles a las 9.\n"
SCREENSHOT_NAME = "formulario-enviado.png"
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
# Set to 1 to refresh the README's screenshot in docs/img.
UPDATE_SCREENSHOT_VARIABLE = "MAILCOURSE_UPDATE_SCREENSHOT"
SCREENSHOT_VIEWPORT = {"width": 1100, "height": 2000}
DEFAULT_VIEWPORT = {"width": 1280, "height": 1000}
BROKEN_CHECK = "mensaje.problems = lambda: 1 / 0"
COMBINED_VIEW = "import ipywidgets\nipywidgets.VBox([conexion, mensaje, envio])"


@pytest.fixture(scope="module")
def lesson_page(lab, browser_context):
    """Lesson 09 open in Chromium with every cell run once."""
    page = open_notebook(browser_context, lab.url(LESSON))
    errors = run_all_cells(page)
    assert errors == []
    yield page
    page.close()


def maildirs(lab) -> list:
    """The Maildirs that course servers created in the kernel's TMPDIR."""
    return sorted((lab.scratch / "tmp").glob("mailcourse-maildir-*"))


def find_message(lab, subject: str):
    """Return the stored message with ``subject`` from any course Maildir, or None."""
    for folder in maildirs(lab):
        for message in Inbox(folder):
            if message.subject == subject:
                return message
    return None


def message_count(lab) -> int:
    return sum(len(Inbox(folder)) for folder in maildirs(lab))


def send_and_wait(page, expected: str):
    """Click "Enviar" in the lesson's send form and wait for ``expected``."""
    send_form = page.locator(".mailcourse-send").first
    send_form.get_by_role("button", name="Enviar").click()
    status = send_form.locator(".mailcourse-feedback").first
    status.filter(has_text=expected).wait_for()
    return status


def test_form_sends_accented_attachment(lesson_page, lab, tmp_path, artifacts_dir):
    attachment = tmp_path / ATTACHMENT_NAME
    attachment.write_text(ATTACHMENT_TEXT, encoding="utf-8")
    compose = lesson_page.locator(".mailcourse-compose").first
    fill_field(compose, "De", "Ana Pérez <ana@ejemplo.test>")
    fill_field(compose, "Para", "Luis Núñez <luis@ejemplo.test>")
    fill_field(compose, "Cc", "")
    fill_field(compose, "Bcc", "")
    fill_field(compose, "Asunto", SUBJECT)
    fill_field(compose, "Texto", BODY)
    upload_file(compose, attachment)
    compose.get_by_text(ATTACHMENT_NAME).first.wait_for()

    status = send_and_wait(lesson_page, "Mensaje enviado")

    stored = find_message(lab, SUBJECT)
    assert stored is not None, status.inner_text()
    assert stored.sender == "Ana Pérez <ana@ejemplo.test>"
    assert stored.envelope_recipients == ["luis@ejemplo.test"]
    assert stored.text == BODY
    assert [item.filename for item in stored.attachments] == [ATTACHMENT_NAME]
    assert stored.attachments[0].data == ATTACHMENT_TEXT.encode("utf-8")

    combined = append_and_run(lesson_page, COMBINED_VIEW)
    combined.locator(".mailcourse-send").wait_for()
    screenshot = artifacts_dir / SCREENSHOT_NAME
    # Tall enough for the three forms at once; the notebook scrolls inside.
    lesson_page.set_viewport_size(SCREENSHOT_VIEWPORT)
    combined.screenshot(path=str(screenshot))
    lesson_page.set_viewport_size(DEFAULT_VIEWPORT)
    if os.environ.get(UPDATE_SCREENSHOT_VARIABLE) == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, DOCS_IMAGES / SCREENSHOT_NAME)


def test_bad_address_shown_in_form(lesson_page, lab, artifacts_dir):
    before = message_count(lab)
    compose = lesson_page.locator(".mailcourse-compose").first
    fill_field(compose, "Para", "luis.ejemplo.test")
    compose.locator(".mailcourse-error").filter(has_text="«Para»").wait_for()

    status = send_and_wait(lesson_page, "No se ha enviado nada")
    lesson_page.screenshot(path=str(artifacts_dir / "direccion-invalida.png"))

    assert "«Para»" in status.inner_text()
    assert "luis.ejemplo.test" in status.inner_text()
    assert message_count(lab) == before


def test_unexpected_error_shown_in_form(lesson_page, lab):
    # A programming error, not an SMTP failure: its traceback must land in
    # the form's Output widget instead of the JupyterLab log console.
    append_and_run(lesson_page, BROKEN_CHECK)
    compose = lesson_page.locator(".mailcourse-compose").first
    fill_field(compose, "Asunto", "Este envío falla por un error de programación")
    before = message_count(lab)

    send_form = lesson_page.locator(".mailcourse-send").first
    send_form.get_by_role("button", name="Enviar").click()
    traceback = send_form.locator(".widget-output").filter(has_text="ZeroDivisionError")
    traceback.wait_for()
    append_and_run(lesson_page, "del mensaje.problems")

    assert message_count(lab) == before
    assert send_form.get_by_role("button", name="Enviar").is_enabled()


def test_typed_password_not_saved(lesson_page, lab, artifacts_dir):
    connection = lesson_page.locator(".mailcourse-connection").first
    connection.get_by_label("Proveedor", exact=True).select_option(
        label="Simulador de proveedor (127.0.0.1)"
    )
    user = connection.get_by_label("Usuario", exact=True)
    user.wait_for()
    lesson_page.wait_for_function(
        "(field) => field.value === 'alumno@curso.test'", arg=user.element_handle()
    )
    fill_field(connection, "Usuario", ACCENT_USER)
    fill_field(connection, "Contraseña", ACCENT_PASSWORD)
    password = connection.get_by_label("Contraseña", exact=True)
    lesson_page.wait_for_function(
        "(field) => field.placeholder.includes('guardada')",
        arg=password.element_handle(),
    )
    compose = lesson_page.locator(".mailcourse-compose").first
    fill_field(compose, "Para", "luis@ejemplo.test")
    fill_field(compose, "Asunto", "Desde el simulador, con contraseña con eñe")

    send_and_wait(lesson_page, "Mensaje enviado")
    save_notebook(lesson_page)
    lesson_page.screenshot(path=str(artifacts_dir / "contrasena-guardada.png"))

    assert password.input_value() == ""
    assert find_message(lab, "Desde el simulador, con contraseña con eñe") is not None
    saved_text = (lab.root_dir / LESSON).read_text(encoding="utf-8")
    saved = json.loads(saved_text)
    state = saved["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]
    password_models = [
        model["state"]
        for model in state["state"].values()
        if model["model_name"] == "PasswordModel"
    ]
    assert password_models
    # The saved state leaves out values equal to the default, "".
    assert all(model.get("value", "") == "" for model in password_models)
    assert ACCENT_PASSWORD not in saved_text
    assert LAB_PASSWORD not in saved_text
