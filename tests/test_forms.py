"""The ipywidgets forms, driven as a notebook would: set values, click, read.

Every send goes to a real course server on 127.0.0.1 (the bundled server or
the provider simulator), and each test checks what reached its Maildir. An
audit hook records every outgoing connection and name look-up, so tests can
prove that a flagged or invalid form connects to nothing.
"""

from __future__ import annotations

import base64
import json
import socket
import sys
import threading
from datetime import datetime, timezone

import ipywidgets as widgets
import pytest

from mailcourse import (
    ACCENT_PASSWORD,
    ACCENT_USER,
    LAB_PASSWORD,
    LAB_USER,
    start_local_server,
    start_provider_simulator,
)
from mailcourse.diagnosis import kinds
from mailcourse.forms import ComposeForm, ConnectionForm, InboxView, SendForm
from mailcourse.forms.connection import CUSTOM_PRESET, host_problem
from mailcourse.presets import PRESETS, PROVIDER_KEYS

_network_events: list[tuple[str, object]] = []
_recording = threading.Event()


def _audit(event: str, arguments: tuple) -> None:
    if not _recording.is_set():
        return
    if event == "socket.connect":
        _network_events.append((event, arguments[1]))
    elif event == "socket.getaddrinfo":
        _network_events.append((event, arguments[0]))


sys.addaudithook(_audit)


@pytest.fixture
def network_events():
    """The connections and name look-ups made while the test body runs."""
    _network_events.clear()
    _recording.set()
    yield _network_events
    _recording.clear()


@pytest.fixture
def course_server(tmp_path):
    """The bundled server, registered so the forms know its port's role."""
    return start_local_server(maildir=tmp_path / "Maildir")


@pytest.fixture
def simulator(tmp_path):
    """The provider simulator (1 MiB SIZE limit, lab accounts)."""
    return start_provider_simulator(maildir=tmp_path / "Simulador")


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that was bound and closed, so nothing listens there."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reserved:
        reserved.bind(("127.0.0.1", 0))
        return reserved.getsockname()[1]


def valid_compose(**fields: str) -> ComposeForm:
    values = {
        "sender": "Ana Pérez <ana@ejemplo.test>",
        "to": "luis@ejemplo.test",
        "subject": "Informe del año",
        "body": "Hola, Luis:\nTe lo envío desde el formulario.\n",
    }
    values.update(fields)
    return ComposeForm(**values)


@pytest.fixture
def local_forms(course_server):
    """Connection, compose and send forms aimed at the bundled server."""
    connection = ConnectionForm(local_server=course_server)
    compose = valid_compose()
    return connection, compose, SendForm(connection, compose)


@pytest.fixture
def simulator_forms(simulator):
    """The three forms aimed at the simulator's STARTTLS port, lab account."""
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    compose = valid_compose(sender=LAB_USER)
    return connection, compose, SendForm(connection, compose)


def upload(name: str, data: bytes, content_type: str = "") -> dict:
    """Return one FileUpload item in the ipywidgets 8 value format."""
    return {
        "name": name,
        "type": content_type,
        "size": len(data),
        "content": memoryview(data),
        "last_modified": datetime.now(timezone.utc),
    }


def type_password(connection: ConnectionForm, password: str) -> None:
    """Set the password as the browser does: through the synced value."""
    connection.password.input.value = password


def widget_tree(widget: widgets.Widget) -> list[widgets.Widget]:
    """Return ``widget`` and every widget inside it."""
    found = [widget]
    for child in getattr(widget, "children", ()):
        found += widget_tree(child)
    return found


def synced_state_text(*roots: widgets.Widget) -> str:
    """Return the synced state of every widget under ``roots`` as JSON text.

    This is what ipywidgets sends to the browser and what a saved notebook's
    widget state contains.
    """
    states = []
    for root in roots:
        for widget in widget_tree(root):
            states.append(widget.get_state())
    return json.dumps(states, ensure_ascii=False, default=str)


# Connection form: presets ----------------------------------------------------


def test_local_preset_fills_running_server(course_server):
    connection = ConnectionForm(local_server=course_server)
    assert connection.host.value == "127.0.0.1"
    assert connection.port.value == course_server.port
    assert connection.security.value == "none"
    assert connection.user.value == ""
    assert connection.problems() == []


def test_simulator_preset_fills_lab_account(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    assert connection.port.value == simulator.starttls_port
    assert connection.security.value == "starttls"
    assert connection.user.value == LAB_USER
    assert connection.password.secret == LAB_PASSWORD
    assert connection.password.input.value == ""


@pytest.mark.parametrize("key", PROVIDER_KEYS)
def test_provider_preset_fills_without_connecting(course_server, key, network_events):
    connection = ConnectionForm(local_server=course_server)
    connection.preset.value = key
    preset = PRESETS[key]
    assert connection.host.value == preset.host
    assert connection.port.value == preset.port
    assert connection.security.value == preset.security
    assert preset.name in connection.requirements.value
    assert network_events == []


def test_new_host_drops_lab_account(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    connection.host.value = "smtp.ejemplo.test"
    assert connection.user.value == ""
    assert not connection.password.has_secret


def test_new_host_drops_lab_password(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    connection.user.value = "ana@ejemplo.test"
    connection.host.value = "smtp.ejemplo.test"
    assert connection.user.value == "ana@ejemplo.test"
    assert not connection.password.has_secret


def test_new_host_keeps_typed_account(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    connection.user.value = "ana@ejemplo.test"
    type_password(connection, "escrita-por-ana")
    connection.host.value = "smtp.ejemplo.test"
    assert connection.user.value == "ana@ejemplo.test"
    assert connection.password.secret == "escrita-por-ana"


def test_editing_host_marks_custom_preset(course_server):
    connection = ConnectionForm(local_server=course_server)
    connection.preset.value = "gmail"
    connection.host.value = "smtp.otro.test"
    assert connection.preset.value == CUSTOM_PRESET
    assert connection.requirements.value == ""


# Connection form: port and security ------------------------------------------


@pytest.mark.parametrize(
    ("port", "security", "expected"),
    [
        (587, "tls", "587"),
        (465, "starttls", "465"),
        (465, "none", "465"),
        (587, "none", "STARTTLS"),
    ],
)
def test_port_security_mismatch_flagged(course_server, port, security, expected):
    connection = ConnectionForm(local_server=course_server)
    connection.preset.value = "gmail"
    connection.port.value = port
    connection.security.value = security
    problems = connection.problems()
    assert [problem.field for problem in problems] == ["Seguridad"]
    assert expected in problems[0].message
    assert expected in connection.warnings.value


def test_tls_on_local_server_flagged(course_server):
    connection = ConnectionForm(local_server=course_server)
    connection.security.value = "tls"
    problems = connection.problems()
    assert [problem.field for problem in problems] == ["Seguridad"]
    assert "Ninguna" in problems[0].message


@pytest.mark.parametrize(
    ("port_role", "security"), [("tls", "starttls"), ("starttls", "tls")]
)
def test_simulator_port_mismatch_flagged(simulator, port_role, security):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    connection.port.value = getattr(simulator, f"{port_role}_port")
    connection.security.value = security
    assert [problem.field for problem in connection.problems()] == ["Seguridad"]


def test_flagged_security_never_connects(local_forms, course_server, network_events):
    connection, _compose, sender = local_forms
    connection.security.value = "tls"
    sender.send_button.click()
    assert network_events == []
    assert "«Seguridad»" in sender.status_text
    assert len(course_server.inbox) == 0


@pytest.mark.parametrize(
    "host",
    [
        "",
        "https://smtp.gmail.com",
        "ana@gmail.com",
        "smtp gmail.com",
        "smtp.gmail.com:587",
        "smtp.ejémplo..test",
        "smtp.ejemplo.test\nRCPT TO:<otro@ejemplo.test>",
    ],
)
def test_invalid_host_named_in_problems(course_server, host, network_events):
    connection = ConnectionForm(local_server=course_server)
    connection.host.value = host
    assert [problem.field for problem in connection.problems()] == ["Servidor"]
    assert "Servidor" in connection.warnings.value
    assert network_events == []


def test_accented_host_is_valid_name():
    assert host_problem("smtp.ñandú.test") is None


def test_password_without_user_flagged(course_server):
    connection = ConnectionForm(local_server=course_server)
    type_password(connection, "secreta")
    assert [problem.field for problem in connection.problems()] == ["Usuario"]


def test_user_without_password_flagged(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    connection.password.forget()
    assert [problem.field for problem in connection.problems()] == ["Contraseña"]


def test_plain_password_to_remote_host_refused(course_server, network_events):
    connection = ConnectionForm(local_server=course_server)
    connection.preset.value = CUSTOM_PRESET
    connection.host.value = "smtp.ejemplo.test"
    connection.port.value = 2525
    connection.security.value = "none"
    connection.user.value = "ana@ejemplo.test"
    type_password(connection, "secreta")
    with pytest.raises(Exception) as caught:
        connection.settings()
    assert "sin cifrar" in str(caught.value)
    assert "secreta" not in str(caught.value)
    assert network_events == []


# Connection form: checking the server ----------------------------------------


def test_check_connection_reports_size_limit(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    connection.check_button.click()
    assert connection.feedback.level == "ok"
    assert connection.size_limit == simulator.max_message_size
    assert "1,0 MB" in connection.status_text
    assert LAB_USER in connection.status_text


def test_check_connection_wrong_password(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    type_password(connection, "no-es-esta-ñ")
    connection.check_button.click()
    assert connection.feedback.level == "error"
    assert "no-es-esta-ñ" not in connection.status_text
    assert "no-es-esta-ñ" not in connection.status.value


def test_check_connection_refused_port(course_server, closed_port):
    connection = ConnectionForm(local_server=course_server)
    connection.port.value = closed_port
    connection.check_button.click()
    assert connection.feedback.level == "error"
    assert str(closed_port) in connection.status_text


# Password handling -------------------------------------------------------------


def test_typed_password_leaves_widget_state(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    connection.user.value = ACCENT_USER
    type_password(connection, ACCENT_PASSWORD)
    assert connection.password.secret == ACCENT_PASSWORD
    assert connection.password.input.value == ""
    assert ACCENT_PASSWORD not in synced_state_text(connection)


def test_password_value_not_echoed(course_server):
    # ipywidgets echoes values back to the browser unless a trait opts out.
    connection = ConnectionForm(local_server=course_server)
    password_input = connection.password.input
    assert password_input.trait_metadata("value", "echo_update") is False
    assert widgets.Password().trait_metadata("value", "echo_update") is None


def test_password_absent_from_reprs_and_code(simulator):
    connection = ConnectionForm(preset="simulador", simulator=simulator)
    compose = valid_compose(sender=LAB_USER)
    sender = SendForm(connection, compose)
    texts = [
        repr(connection),
        repr(connection.password),
        repr(connection.password.input),
        repr(connection.settings()),
        str(connection.settings()),
        connection.code(),
        sender.code(),
    ]
    for text in texts:
        assert LAB_PASSWORD not in text


def test_failed_login_hides_password(simulator_forms, simulator):
    connection, _compose, sender = simulator_forms
    type_password(connection, "equivocada-ñ")
    sender.send_button.click()
    assert sender.last_diagnosis.kind == kinds.AUTH_FAILED
    assert "equivocada-ñ" not in sender.status_text
    assert "equivocada-ñ" not in sender.transcript
    assert "equivocada-ñ" not in synced_state_text(connection, sender)
    assert len(simulator.inbox) == 0


def test_form_reprs_are_stable(local_forms, course_server):
    connection, compose, sender = local_forms
    inbox = InboxView(course_server)
    for form in (connection, compose, sender, inbox):
        bundle = form._repr_mimebundle_()
        assert bundle["text/plain"] == repr(form)
        assert str(course_server.port) not in bundle["text/plain"]


# Compose form ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "value", "label"),
    [
        ("sender", "ana", "De"),
        ("sender", "", "De"),
        ("to", "luis.ejemplo.test", "Para"),
        ("to", "", "Para"),
        ("cc", "marta@", "Cc"),
        ("bcc", "jefa@ejemplo", "Bcc"),
        ("to", "luis@ejemplo.test, @ejemplo.test", "Para"),
    ],
)
def test_invalid_address_blocks_send(
    local_forms, course_server, network_events, field, value, label
):
    _connection, compose, sender = local_forms
    getattr(compose, field).value = value
    sender.send_button.click()
    assert f"«{label}»" in sender.status_text
    assert f"«{label}»" in compose.checks.value
    assert sender.last_result is None
    assert network_events == []
    assert len(course_server.inbox) == 0


@pytest.mark.parametrize(
    ("field", "label"),
    [
        ("sender", "De"),
        ("to", "Para"),
        ("cc", "Cc"),
        ("bcc", "Bcc"),
        ("subject", "Asunto"),
    ],
)
def test_header_injection_blocks_send(local_forms, course_server, field, label):
    _connection, compose, sender = local_forms
    current = getattr(compose, field).value or "marta@ejemplo.test"
    getattr(compose, field).value = current + "\r\nBcc: victima@ejemplo.test"
    sender.send_button.click()
    assert f"«{label}»" in sender.status_text
    assert "salto de línea" in sender.status_text
    assert len(course_server.inbox) == 0


def test_line_break_in_filename_blocks_send(local_forms, course_server):
    _connection, compose, sender = local_forms
    compose.attachments.value = (upload("nota.txt\nBcc: x@ejemplo.test", b"hola"),)
    sender.send_button.click()
    assert "«Adjuntos»" in sender.status_text
    assert len(course_server.inbox) == 0


def test_several_recipients_reach_envelope(local_forms, course_server):
    _connection, compose, sender = local_forms
    compose.to.value = "luis@ejemplo.test, Marta Gil <marta@ejemplo.test>"
    compose.cc.value = "jefa@ejemplo.test"
    compose.bcc.value = "archivo@ejemplo.test"
    sender.send_button.click()
    stored = course_server.inbox.latest()
    # smtplib's order: To, then Bcc, then Cc.
    assert stored.envelope_recipients == [
        "luis@ejemplo.test",
        "marta@ejemplo.test",
        "archivo@ejemplo.test",
        "jefa@ejemplo.test",
    ]
    assert stored.cc == "jefa@ejemplo.test"
    assert stored.bcc == ""
    assert "Bcc" in sender.status_text


def test_non_ascii_in_every_field(course_server, tmp_path):
    connection = ConnectionForm(local_server=course_server)
    compose = ComposeForm(
        sender="José Núñez <josé@ejemplo.test>",
        to="María Peña <maría@ñandú.test>",
        subject="Informe del año — señales ✓",
        body="Cañón, pingüino y acción.\n",
    )
    compose.cc.value = "zoë@ejemplo.test"
    compose.bcc.value = "íñigo@ejemplo.test"
    compose.attachments.value = (
        upload("notas-año.txt", "Línea con eñe\n".encode(), "text/plain"),
    )
    sender = SendForm(connection, compose)
    sender.send_button.click()
    stored = course_server.inbox.latest()
    assert sender.feedback.level == "ok"
    assert stored.sender == "José Núñez <josé@ejemplo.test>"
    assert stored.to == "María Peña <maría@ñandú.test>"
    assert stored.subject == "Informe del año — señales ✓"
    assert stored.text == "Cañón, pingüino y acción.\n"
    assert stored.envelope_sender == "josé@ejemplo.test"
    assert stored.envelope_recipients == [
        "maría@ñandú.test",
        "íñigo@ejemplo.test",
        "zoë@ejemplo.test",
    ]
    assert [item.filename for item in stored.attachments] == ["notas-año.txt"]
    assert stored.attachments[0].data == "Línea con eñe\n".encode()


def test_attachment_reaches_maildir(local_forms, course_server):
    _connection, compose, sender = local_forms
    data = bytes(range(256)) * 40
    compose.attachments.value = (
        upload("datos.bin", data),
        upload("nota.txt", b"hola\n", "text/plain"),
    )
    sender.send_button.click()
    stored = course_server.inbox.latest()
    assert [item.filename for item in stored.attachments] == ["datos.bin", "nota.txt"]
    assert [item.content_type for item in stored.attachments] == [
        "application/octet-stream",
        "text/plain",
    ]
    assert stored.attachments[0].data == data


def test_clear_attachments_button(local_forms):
    _connection, compose, _sender = local_forms
    compose.attachments.value = (upload("nota.txt", b"hola"),)
    compose.clear_attachments_button.click()
    assert compose.attachments.value == ()
    assert compose.attachment_inputs() == []


def test_attachment_over_limit_not_sent(simulator_forms, simulator):
    _connection, compose, sender = simulator_forms
    too_big = b"x" * (simulator.max_message_size + 1024)
    compose.attachments.value = (upload("grande.bin", too_big),)
    sender.send_button.click()
    assert "«Adjuntos»" in sender.status_text
    assert "1,0 MB" in sender.status_text
    assert sender.last_result is None
    assert len(simulator.inbox) == 0


def test_size_shown_against_limit(simulator_forms, simulator):
    connection, compose, _sender = simulator_forms
    connection.check_button.click()
    compose.attachments.value = (upload("grande.bin", b"x" * 900_000),)
    assert compose.size_limit == simulator.max_message_size
    assert "1,0 MB que admite el servidor" in compose.size_text
    assert "Adjuntos: 1" in compose.size_text
    assert "grande.bin" in compose.size_text


def test_limit_follows_target_server(simulator, course_server):
    # One compose form shared by two connections: the simulator's 1 MiB
    # limit must not block a send to the bundled server (10 MiB).
    compose = valid_compose(sender=LAB_USER)
    simulator_connection = ConnectionForm(preset="simulador", simulator=simulator)
    SendForm(simulator_connection, compose)
    simulator_connection.check_button.click()
    local_sender = SendForm(ConnectionForm(local_server=course_server), compose)
    compose.attachments.value = (upload("grande.bin", b"z" * 1_200_000),)
    local_sender.send_button.click()
    assert local_sender.feedback.level == "ok"
    assert len(course_server.inbox) == 1


def test_size_under_limit_is_sent(simulator_forms, simulator):
    _connection, compose, sender = simulator_forms
    compose.attachments.value = (upload("mediano.bin", b"y" * 600_000),)
    sender.send_button.click()
    assert sender.feedback.level == "ok"
    assert len(simulator.inbox) == 1


def test_message_has_date_and_id(local_forms, course_server):
    _connection, _compose, sender = local_forms
    sender.send_button.click()
    stored = course_server.inbox.latest()
    assert stored.date != ""
    assert stored.message["Message-ID"].endswith("@ejemplo.test>")


def test_compose_code_matches_fields(local_forms):
    _connection, compose, _sender = local_forms
    compose.cc.value = "jefa@ejemplo.test"
    compose.attachments.value = (upload("nota.txt", b"hola", "text/plain"),)
    code = compose.code()
    assert "to='luis@ejemplo.test'," in code
    assert "cc='jefa@ejemplo.test'," in code
    assert "AttachmentInput('nota.txt', datos_1, 'text/plain')," in code
    assert "bcc=" not in code


# Send form ---------------------------------------------------------------------


def test_double_click_sends_once(local_forms, course_server):
    _connection, _compose, sender = local_forms
    sender.send_button.click()
    sender.send_button.click()
    assert len(course_server.inbox) == 1
    assert sender.sent_count == 1
    assert sender.send_button.disabled
    assert sender.send_button.description == "Enviado"


def test_field_change_rearms_button(local_forms, course_server):
    _connection, compose, sender = local_forms
    sender.send_button.click()
    compose.subject.value = "Segunda versión"
    assert not sender.send_button.disabled
    sender.send_button.click()
    assert len(course_server.inbox) == 2
    assert course_server.inbox.latest().subject == "Segunda versión"


def test_button_disabled_while_sending(local_forms):
    _connection, _compose, sender = local_forms
    seen = []
    sender.send_button.observe(
        lambda change: seen.append(change["new"]), names="disabled"
    )
    sender.send_button.click()
    assert seen == [True]
    assert sender.send_button.description == "Enviado"


def test_button_reenabled_after_failure(local_forms, closed_port):
    connection, _compose, sender = local_forms
    connection.port.value = closed_port
    seen = []
    sender.send_button.observe(
        lambda change: seen.append(change["new"]), names="disabled"
    )
    sender.send_button.click()
    assert seen == [True, False]
    assert sender.send_button.description == "Enviar"


def test_unreachable_server_then_recovers(local_forms, course_server, closed_port):
    connection, _compose, sender = local_forms
    connection.port.value = closed_port
    sender.send_button.click()
    assert sender.last_diagnosis.kind == kinds.CONNECTION_REFUSED
    assert str(closed_port) in sender.status_text
    assert not sender.send_button.disabled
    connection.port.value = course_server.port
    sender.send_button.click()
    assert sender.feedback.level == "ok"
    assert len(course_server.inbox) == 1


def test_wrong_password_then_recovers(simulator_forms, simulator):
    connection, _compose, sender = simulator_forms
    type_password(connection, "no-es-esta")
    sender.send_button.click()
    assert sender.last_diagnosis.kind == kinds.AUTH_FAILED
    assert sender.last_result is None
    assert not sender.send_button.disabled
    assert len(simulator.inbox) == 0
    type_password(connection, LAB_PASSWORD)
    sender.send_button.click()
    assert sender.feedback.level == "ok"
    assert len(simulator.inbox) == 1


def test_accented_password_logs_in(simulator_forms, simulator):
    connection, compose, sender = simulator_forms
    connection.user.value = ACCENT_USER
    type_password(connection, ACCENT_PASSWORD)
    compose.sender.value = ACCENT_USER
    sender.send_button.click()
    assert sender.feedback.level == "ok"
    assert simulator.inbox.latest().envelope_sender == ACCENT_USER


def test_transcript_hides_auth_payload(simulator_forms):
    connection, compose, sender = simulator_forms
    connection.user.value = ACCENT_USER
    type_password(connection, ACCENT_PASSWORD)
    compose.sender.value = ACCENT_USER
    sender.send_button.click()
    plain_payload = f"\0{ACCENT_USER}\0{ACCENT_PASSWORD}".encode()
    encoded_payload = base64.b64encode(plain_payload).decode()
    assert "AUTH" in sender.transcript.upper()
    assert ACCENT_PASSWORD not in sender.transcript
    assert encoded_payload not in sender.transcript
    assert encoded_payload not in sender.transcript_view.value


def test_refused_recipient_shown(simulator_forms, simulator):
    _connection, compose, sender = simulator_forms
    compose.to.value = "luis@ejemplo.test, nadie@rechazado.test"
    sender.send_button.click()
    assert sender.last_result.accepted == ["luis@ejemplo.test"]
    assert list(sender.last_result.refused) == ["nadie@rechazado.test"]
    assert sender.feedback.level == "warning"
    assert "Rechazado para nadie@rechazado.test: 550" in sender.status_text
    assert simulator.inbox.latest().envelope_recipients == ["luis@ejemplo.test"]


def test_all_recipients_refused_diagnosed(simulator_forms, simulator):
    _connection, compose, sender = simulator_forms
    compose.to.value = "nadie@rechazado.test"
    sender.send_button.click()
    assert sender.last_diagnosis.kind == kinds.ALL_RECIPIENTS_REFUSED
    assert len(simulator.inbox) == 0


def test_send_code_names_button_call(local_forms, course_server):
    _connection, _compose, sender = local_forms
    code = sender.code()
    assert f"port={course_server.port}," in code
    assert "resultado = send(ajustes, mensaje)" in code


def test_unexpected_error_rearms_button(
    local_forms, course_server, monkeypatch, caplog
):
    # A programming error, not an SMTP failure. In a kernel the Output
    # widget shows its traceback; here ipywidgets logs it.
    _connection, compose, sender = local_forms
    monkeypatch.setattr(compose, "problems", lambda: 1 / 0)
    sender.send_button.click()
    logged = [record.exc_info[0] for record in caplog.records if record.exc_info]
    assert logged == [ZeroDivisionError]
    assert not sender.send_button.disabled
    assert len(course_server.inbox) == 0


# Inbox view --------------------------------------------------------------------


def test_inbox_view_empty(course_server):
    view = InboxView(course_server)
    assert view.message_list.options == ()
    assert view.selected is None
    assert "vacía" in view.detail.value


def test_inbox_view_newest_first(local_forms, course_server):
    _connection, compose, sender = local_forms
    sender.send_button.click()
    compose.subject.value = "El segundo"
    compose.attachments.value = (upload("nota.txt", b"hola", "text/plain"),)
    sender.send_button.click()
    view = InboxView(course_server)
    labels = [label for label, _number in view.message_list.options]
    assert labels[0].startswith("0. El segundo")
    assert labels[1].startswith("1. Informe del año")
    assert view.selected.subject == "El segundo"
    assert "nota.txt" in view.detail.value
    assert "luis@ejemplo.test" in view.detail.value


def test_inbox_view_refresh_button(local_forms, course_server):
    _connection, _compose, sender = local_forms
    view = InboxView(course_server)
    sender.send_button.click()
    assert view.message_list.options == ()
    view.refresh_button.click()
    assert len(view.message_list.options) == 1
    assert "Te lo envío desde el formulario." in view.detail.value


def test_inbox_view_selects_older(local_forms, course_server):
    _connection, compose, sender = local_forms
    sender.send_button.click()
    compose.subject.value = "El segundo"
    sender.send_button.click()
    view = InboxView(course_server)
    view.message_list.value = 1
    assert "Informe del año" in view.detail.value
    assert view.selected.subject == "Informe del año"


def test_inbox_view_rejects_other_source():
    with pytest.raises(TypeError) as caught:
        InboxView(42)
    assert "InboxView" in str(caught.value)


def test_connection_code_runs_as_shown():
    from mailcourse.forms import ConnectionForm

    form = ConnectionForm()
    form.user.value = "alumno@curso.test"
    code = form.code()
    compile(code, "<codigo del formulario>", "exec")
    assert 'contraseña = getpass("Contraseña: ")' in code
    assert code.index("contraseña = getpass") < code.index("login(conexion")
