"""Exercise checks: each solution passes, and known wrong answers get their hint.

The correct answers are built the way the hidden solutions build them, and
the ones that send mail send it for real: to the bundled server or to the
provider simulator on 127.0.0.1, with the real smtplib client. Each wrong
answer is a mistake a student can make, and the check must reject it with a
hint that points at that mistake. The last tests read the committed
notebooks: every check is called at the end of a hidden solution, its stored
output passes (nbval keeps that output equal to a fresh run), and the prose
tells the student how to call it.
"""

from __future__ import annotations

import dataclasses
import email.policy
import smtplib
import socket
import ssl
import sys
from email.message import EmailMessage
from pathlib import Path

import nbformat
import pytest

from mailcourse import (
    ACCENT_PASSWORD,
    ACCENT_USER,
    LAB_PASSWORD,
    LAB_USER,
    PRESETS,
    explain,
    start_local_server,
    start_provider_simulator,
)
from mailcourse.client import connect, login, send
from mailcourse.environment_check import check_environment, evaluate, gather_facts
from mailcourse.exercises import (
    CHECKS,
    ExerciseResult,
    UnknownExerciseError,
    check_exercise,
)
from mailcourse.exercises.result import Feedback
from mailcourse.forms import ComposeForm, ConnectionForm, SendForm
from mailcourse.transcript import debug_transcript

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SAMPLES = NOTEBOOKS / "datos"
SENSOR = SAMPLES / "lecturas.sensor"
AGENDA = SAMPLES / "orden-del-dia.txt"
REPLY_PREFIX = "reply: retcode"


def assert_accepted(result: ExerciseResult) -> None:
    """Assert that ``result`` passed with at least one observation."""
    assert result.passed, result.to_text()
    assert result.feedback, result.exercise_id


def assert_rejected(result: ExerciseResult, hint_fragment: str) -> None:
    """Assert that ``result`` failed and one hint contains ``hint_fragment``."""
    assert not result.passed, result.to_text()
    assert any(hint_fragment in hint for hint in result.hints), result.to_text()


def plain_message(
    sender: str = "ana@ejemplo.test", to: str = "luis@ejemplo.test"
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = "Prueba"
    message.set_content("Hola.\n")
    return message


# Lesson 00


def test_python_comparison_passes():
    assert_accepted(check_exercise("00-1", sys.version_info >= (3, 10)))


def test_python_version_text_rejected():
    assert_rejected(check_exercise("00-1", sys.version), "sys.version_info")


def test_uncompared_version_info_rejected():
    assert_rejected(check_exercise("00-1", sys.version_info), "(3, 10)")


def test_reversed_comparison_rejected():
    assert_rejected(check_exercise("00-1", sys.version_info < (3, 10)), ">=")


def test_environment_report_passes():
    assert_accepted(check_exercise("00-2", check_environment()))


def test_uncalled_function_rejected():
    assert_rejected(check_exercise("00-2", check_environment), "paréntesis")


def test_passed_attribute_alone_rejected():
    assert_rejected(check_exercise("00-2", True), "informe.passed")


def test_failing_report_points_to_fixes():
    facts = dataclasses.replace(gather_facts(), python_version=(3, 9, 0))
    assert_rejected(check_exercise("00-2", evaluate(facts)), "✘")


# Lesson 01


def invitation(cte: str = "quoted-printable") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "tu-nombre@ejemplo.test"
    message["To"] = "clase@ejemplo.test"
    message["Subject"] = "Cena de fin de curso"
    message.set_content("¡Hola!\nCenamos el viernes.\n", cte=cte)
    return message


def test_invitation_passes():
    assert_accepted(check_exercise("01-1", invitation()))


def test_invitation_without_subject_rejected():
    message = invitation()
    del message["Subject"]
    assert_rejected(check_exercise("01-1", message), "Subject")


def test_invitation_in_base64_rejected():
    assert_rejected(check_exercise("01-1", invitation(cte="base64")), "cte")


def test_printed_invitation_rejected():
    result = check_exercise("01-1", invitation().as_string())
    assert_rejected(result, "EmailMessage()")


def test_one_line_body_rejected():
    message = invitation()
    message.set_content("¡Hola a todos!\n", cte="quoted-printable")
    assert_rejected(check_exercise("01-1", message), "\\n")


def test_one_line_body_singular():
    message = invitation()
    message.set_content("¡Hola a todos!\n", cte="quoted-printable")
    texts = check_exercise("01-1", message).messages
    assert any("El cuerpo tiene 1 línea con texto" in text for text in texts)


def test_three_line_body_plural():
    message = invitation()
    message.set_content("¡Hola!\nEl lunes.\nA las diez.\n", cte="quoted-printable")
    texts = check_exercise("01-1", message).messages
    assert any("El cuerpo tiene 3 líneas con texto" in text for text in texts)


def test_copy_header_passes():
    message = invitation()
    message["Cc"] = "marta@ejemplo.test, jorge@ejemplo.test"
    assert_accepted(check_exercise("01-2", message))


def test_missing_copy_header_rejected():
    assert_rejected(check_exercise("01-2", invitation()), "corchetes")


def test_semicolon_separated_copy_rejected():
    message = invitation()
    message["Cc"] = "marta@ejemplo.test; jorge@ejemplo.test"
    assert_rejected(check_exercise("01-2", message), "comas")


def test_single_copy_address_rejected():
    message = invitation()
    message["Cc"] = "marta@ejemplo.test"
    assert_rejected(check_exercise("01-2", message), "dos direcciones")


# Lesson 02


def attach_sensor(message: EmailMessage, **overrides) -> None:
    """Attach the sensor sample as the solution does, with ``overrides`` applied."""
    arguments = {
        "data": SENSOR.read_bytes(),
        "maintype": "application",
        "subtype": "octet-stream",
        "filename": "lecturas.sensor",
    }
    arguments.update(overrides)
    data = arguments.pop("data")
    message.add_attachment(data, **arguments)


def test_sensor_attachment_passes():
    message = plain_message()
    attach_sensor(message)
    assert_accepted(check_exercise("02-1", message, samples=SAMPLES))


def test_sensor_without_attachment_rejected():
    result = check_exercise("02-1", plain_message(), samples=SAMPLES)
    assert_rejected(result, "add_attachment()")


def test_sensor_with_folder_in_name_rejected():
    message = plain_message()
    attach_sensor(message, filename="datos/lecturas.sensor")
    result = check_exercise("02-1", message, samples=SAMPLES)
    assert_rejected(result, "os.path.basename")


def test_sensor_with_windows_folder_rejected():
    message = plain_message()
    attach_sensor(message, filename="datos\\lecturas.sensor")
    result = check_exercise("02-1", message, samples=SAMPLES)
    assert_rejected(result, "os.path.basename")


def test_sensor_as_text_rejected():
    message = plain_message()
    attach_sensor(message, maintype="text", subtype="plain")
    assert_rejected(check_exercise("02-1", message, samples=SAMPLES), "«rb»")


def test_sensor_with_made_up_type_rejected():
    message = plain_message()
    attach_sensor(message, subtype="x-sensor")
    assert_rejected(check_exercise("02-1", message, samples=SAMPLES), "reserva")


def test_truncated_sensor_data_rejected():
    message = plain_message()
    attach_sensor(message, data=SENSOR.read_bytes()[:10])
    assert_rejected(check_exercise("02-1", message, samples=SAMPLES), "entero")


def test_agenda_attachment_passes():
    message = plain_message()
    text = AGENDA.read_text(encoding="utf-8")
    message.add_attachment(text, filename="orden-del-dia.txt")
    assert_accepted(check_exercise("02-2", message, samples=SAMPLES))


def test_agenda_as_text_bytes_rejected():
    message = plain_message()
    message.add_attachment(
        AGENDA.read_bytes(),
        maintype="text",
        subtype="plain",
        filename="orden-del-dia.txt",
    )
    result = check_exercise("02-2", message, samples=SAMPLES)
    assert_rejected(result, "Adjunta un str")


def test_agenda_as_octet_stream_rejected():
    message = plain_message()
    message.add_attachment(
        AGENDA.read_bytes(),
        maintype="application",
        subtype="octet-stream",
        filename="orden-del-dia.txt",
    )
    result = check_exercise("02-2", message, samples=SAMPLES)
    assert_rejected(result, "encoding='utf-8'")


def test_agenda_read_as_latin1_rejected():
    message = plain_message()
    text = AGENDA.read_text(encoding="latin-1")
    message.add_attachment(text, filename="orden-del-dia.txt")
    result = check_exercise("02-2", message, samples=SAMPLES)
    assert_rejected(result, "Léelo con encoding='utf-8'")


# Lesson 03


def send_plain(server, message: EmailMessage) -> None:
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        client.send_message(message)


def notice(
    cc: str | None = "marta@ejemplo.test", to: str = "luis@ejemplo.test"
) -> EmailMessage:
    message = plain_message(to=to)
    if cc is not None:
        message["Cc"] = cc
    return message


def test_two_recipients_pass(local_server):
    send_plain(local_server, notice())
    assert_accepted(check_exercise("03-1", local_server))


def test_nothing_sent_rejected(local_server):
    assert_rejected(check_exercise("03-1", local_server), "send_message()")


def test_missing_copy_recipient_rejected(local_server):
    send_plain(local_server, notice(cc=None))
    assert_rejected(check_exercise("03-1", local_server), "en Cc")


def test_copy_recipient_in_to_rejected(local_server):
    both = "luis@ejemplo.test, marta@ejemplo.test"
    send_plain(local_server, notice(cc=None, to=both))
    assert_rejected(check_exercise("03-1", local_server), "cabecera Cc")


def test_message_instead_of_server_rejected():
    assert_rejected(check_exercise("03-1", notice()), "servidor")


def test_sensor_delivery_passes(local_server):
    message = plain_message()
    attach_sensor(message)
    send_plain(local_server, message)
    assert_accepted(check_exercise("03-2", local_server, samples=SAMPLES))


def test_delivery_without_attachment_rejected(local_server):
    send_plain(local_server, plain_message())
    result = check_exercise("03-2", local_server, samples=SAMPLES)
    assert_rejected(result, "add_attachment()")


def test_delivery_as_text_rejected(local_server):
    message = plain_message()
    attach_sensor(message, maintype="text", subtype="plain")
    send_plain(local_server, message)
    result = check_exercise("03-2", local_server, samples=SAMPLES)
    assert_rejected(result, "tipo de reserva")


def test_truncated_delivery_rejected(local_server):
    message = plain_message()
    attach_sensor(message, data=SENSOR.read_bytes()[:10])
    send_plain(local_server, message)
    result = check_exercise("03-2", local_server, samples=SAMPLES)
    assert_rejected(result, "entero")


# Lesson 04


def auth_offers(simulator, *, greet_after_starttls: bool) -> tuple[bool, bool]:
    """Return whether AUTH is offered before and after STARTTLS."""
    client = smtplib.SMTP(simulator.host, simulator.starttls_port, timeout=10)
    client.ehlo()
    before = client.has_extn("auth")
    client.starttls(context=simulator.client_context())
    if greet_after_starttls:
        client.ehlo()
    after = client.has_extn("auth")
    client.quit()
    return before, after


def test_auth_around_starttls_passes(provider_simulator):
    antes, despues = auth_offers(provider_simulator, greet_after_starttls=True)
    assert_accepted(check_exercise("04-1", antes, despues))


def test_no_greeting_after_starttls_rejected(provider_simulator):
    antes, despues = auth_offers(provider_simulator, greet_after_starttls=False)
    assert_rejected(check_exercise("04-1", antes, despues), "ehlo()")


def test_auth_before_starttls_rejected():
    assert_rejected(check_exercise("04-1", True, True), "starttls_port")


def test_auth_reply_text_rejected():
    assert_rejected(check_exercise("04-1", "AUTH", "AUTH"), "has_extn")


def extended_context(simulator) -> ssl.SSLContext:
    context = ssl.create_default_context()
    context.load_verify_locations(cafile=simulator.ca_file)
    return context


def test_extended_context_passes(provider_simulator):
    context = extended_context(provider_simulator)
    with smtplib.SMTP_SSL(
        provider_simulator.host,
        provider_simulator.tls_port,
        context=context,
        timeout=10,
    ) as client:
        version = client.sock.version()
    result = check_exercise("04-2", context, version, simulador=provider_simulator)
    assert_accepted(result)


def test_context_without_test_ca_rejected(provider_simulator):
    context = ssl.create_default_context()
    result = check_exercise("04-2", context, "TLSv1.3", simulador=provider_simulator)
    assert_rejected(result, "load_verify_locations")


def test_unverified_context_rejected(provider_simulator):
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    result = check_exercise("04-2", context, "TLSv1.3", simulador=provider_simulator)
    assert_rejected(result, "create_default_context()")


def test_version_read_after_close_rejected(provider_simulator):
    context = extended_context(provider_simulator)
    result = check_exercise("04-2", context, None, simulador=provider_simulator)
    assert_rejected(result, "dentro del bloque with")


def test_context_check_without_simulator_rejected():
    context = ssl.create_default_context()
    assert_rejected(check_exercise("04-2", context, "TLSv1.3"), "start_provider")


# Lesson 05


def tls_client(simulator) -> smtplib.SMTP_SSL:
    return smtplib.SMTP_SSL(
        simulator.host,
        simulator.tls_port,
        context=simulator.client_context(),
        timeout=10,
    )


def send_as_student(simulator, to: str) -> dict:
    client = tls_client(simulator)
    client.login(LAB_USER, LAB_PASSWORD)
    try:
        return client.send_message(plain_message(sender=LAB_USER, to=to))
    finally:
        client.quit()


def test_refused_recipient_passes(provider_simulator):
    both = "luis@ejemplo.test, nadie@rechazado.test"
    refused = send_as_student(provider_simulator, both)
    assert_accepted(check_exercise("05-1", refused))


def test_nobody_refused_rejected(provider_simulator):
    refused = send_as_student(provider_simulator, "luis@ejemplo.test")
    assert_rejected(check_exercise("05-1", refused), "nadie@rechazado.test")


def test_everybody_refused_rejected(provider_simulator):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        send_as_student(provider_simulator, "nadie@rechazado.test")
    assert_rejected(check_exercise("05-1", caught.value), "luis@ejemplo.test")


def test_refused_result_not_stored_rejected():
    assert_rejected(check_exercise("05-1", None), "send_message(doble)")


def capture_replies(simulator, *, quit_inside: bool):
    """Capture noop(), and quit() too when ``quit_inside``, in a transcript."""
    client = tls_client(simulator)
    with debug_transcript(client, echo=False) as dialogue:
        client.noop()
        if quit_inside:
            client.quit()
    if not quit_inside:
        client.quit()
    return dialogue


def reply_lines(dialogue) -> list[str]:
    return [line for line in dialogue.lines if line.startswith(REPLY_PREFIX)]


def test_reply_lines_pass(provider_simulator):
    dialogue = capture_replies(provider_simulator, quit_inside=True)
    assert_accepted(check_exercise("05-2", reply_lines(dialogue)))


def test_whole_transcript_rejected(provider_simulator):
    dialogue = capture_replies(provider_simulator, quit_inside=True)
    assert_rejected(check_exercise("05-2", dialogue), "dialogo.lines")


def test_unfiltered_lines_rejected(provider_simulator):
    dialogue = capture_replies(provider_simulator, quit_inside=True)
    assert_rejected(check_exercise("05-2", dialogue.lines), REPLY_PREFIX)


def test_quit_outside_capture_rejected(provider_simulator):
    dialogue = capture_replies(provider_simulator, quit_inside=False)
    result = check_exercise("05-2", reply_lines(dialogue))
    assert_rejected(result, "noop() y quit()")


# Lesson 06


def send_as(simulator, user: str, password: str, sender: str, to: str) -> None:
    with tls_client(simulator) as client:
        login(client, user, password)
        client.send_message(plain_message(sender=sender, to=to))


def test_send_as_teacher_passes(provider_simulator):
    send_as(
        provider_simulator,
        ACCENT_USER,
        ACCENT_PASSWORD,
        "profe@curso.test",
        "luis@ejemplo.test",
    )
    assert_accepted(check_exercise("06-1", provider_simulator))


def test_send_as_student_rejected(provider_simulator):
    send_as(provider_simulator, LAB_USER, LAB_PASSWORD, LAB_USER, "luis@ejemplo.test")
    assert_rejected(check_exercise("06-1", provider_simulator), "ACCENT_USER")


def test_teacher_wrong_recipient_rejected(provider_simulator):
    send_as(
        provider_simulator,
        ACCENT_USER,
        ACCENT_PASSWORD,
        "profe@curso.test",
        "marta@ejemplo.test",
    )
    assert_rejected(check_exercise("06-1", provider_simulator), "To")


def test_teacher_nothing_sent_rejected(provider_simulator):
    assert_rejected(check_exercise("06-1", provider_simulator), "send_message()")


def test_caught_code_passes(provider_simulator):
    client = tls_client(provider_simulator)
    with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        client.login(LAB_USER, "otra-clave-mala")
    client.quit()
    assert_accepted(check_exercise("06-2", caught.value.smtp_code))


def test_code_as_text_rejected():
    assert_rejected(check_exercise("06-2", "535"), "número entero")


def test_successful_login_reply_rejected(provider_simulator):
    client = tls_client(provider_simulator)
    reply = client.login(LAB_USER, LAB_PASSWORD)
    client.quit()
    assert_rejected(check_exercise("06-2", reply), "contraseña equivocada")


def test_send_without_login_code_rejected(provider_simulator):
    client = tls_client(provider_simulator)
    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        client.send_message(plain_message(sender=LAB_USER))
    client.quit()
    result = check_exercise("06-2", caught.value.smtp_code)
    assert_rejected(result, "contraseña mala")


def starttls_client(simulator) -> smtplib.SMTP:
    return smtplib.SMTP(simulator.host, simulator.starttls_port, timeout=10)


def login_after_starttls(simulator, password: str) -> tuple[int, bytes]:
    client = starttls_client(simulator)
    client.starttls(context=simulator.client_context())
    try:
        return client.login(LAB_USER, password)
    finally:
        client.quit()


def test_login_order_passes(provider_simulator):
    client = starttls_client(provider_simulator)
    with pytest.raises(smtplib.SMTPNotSupportedError) as caught:
        client.login(LAB_USER, LAB_PASSWORD)
    client.quit()
    reply = login_after_starttls(provider_simulator, LAB_PASSWORD)
    assert_accepted(check_exercise("06-3", caught.value, reply))


def test_wrong_password_as_failure_rejected(provider_simulator):
    with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        login_after_starttls(provider_simulator, "otra-clave-mala")
    result = check_exercise("06-3", caught.value, None)
    assert_rejected(result, "sin starttls()")


def test_missing_failure_rejected(provider_simulator):
    reply = login_after_starttls(provider_simulator, LAB_PASSWORD)
    assert_rejected(check_exercise("06-3", None, reply), "except")


def test_missing_login_reply_rejected(provider_simulator):
    client = starttls_client(provider_simulator)
    with pytest.raises(smtplib.SMTPNotSupportedError) as caught:
        client.login(LAB_USER, LAB_PASSWORD)
    client.quit()
    result = check_exercise("06-3", caught.value, None)
    assert_rejected(result, "starttls(context=...)")


# Lesson 07


def test_refused_list_passes(provider_simulator):
    three = "luis@ejemplo.test, ana@rechazado.test, pablo@rechazado.test"
    refused = send_as_student(provider_simulator, three)
    assert_accepted(check_exercise("07-1", refused))


def test_one_refused_address_missing_rejected(provider_simulator):
    two = "luis@ejemplo.test, ana@rechazado.test"
    refused = send_as_student(provider_simulator, two)
    assert_rejected(check_exercise("07-1", refused), "Revisa cómo has escrito")


def test_all_three_refused_rejected(provider_simulator):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        send_as_student(provider_simulator, "ana@rechazado.test")
    assert_rejected(check_exercise("07-1", caught.value), "luis@ejemplo.test")


def test_empty_refused_list_rejected():
    assert_rejected(check_exercise("07-1", {}), "pablo@rechazado.test")


def blind_message(**headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = LAB_USER
    for name, value in headers.items():
        message[name] = value
    message["Subject"] = "Solo para vosotros"
    message.set_content("Este mensaje no dice a quién va.\n")
    return message


BOTH_BLIND = "luis@ejemplo.test, marta@ejemplo.test"


def test_blind_copy_passes(provider_simulator):
    with tls_client(provider_simulator) as client:
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(blind_message(Bcc=BOTH_BLIND))
    assert_accepted(check_exercise("07-2", provider_simulator))


def test_bcc_sent_with_sendmail_rejected(provider_simulator):
    message = blind_message(Bcc=BOTH_BLIND)
    recipients = ["luis@ejemplo.test", "marta@ejemplo.test"]
    with tls_client(provider_simulator) as client:
        client.login(LAB_USER, LAB_PASSWORD)
        client.sendmail(LAB_USER, recipients, message.as_string())
    assert_rejected(check_exercise("07-2", provider_simulator), "send_message()")


def test_visible_to_with_bcc_rejected(provider_simulator):
    message = blind_message(To="luis@ejemplo.test", Bcc="marta@ejemplo.test")
    with tls_client(provider_simulator) as client:
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(message)
    assert_rejected(check_exercise("07-2", provider_simulator), "sin To ni Cc")


def test_one_blind_recipient_missing_rejected(provider_simulator):
    with tls_client(provider_simulator) as client:
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(blind_message(Bcc="luis@ejemplo.test"))
    assert_rejected(check_exercise("07-2", provider_simulator), "Bcc")


def fits_by_bytes(mensaje, conexion):
    crlf_bytes = mensaje.as_bytes(policy=mensaje.policy.clone(linesep="\r\n"))
    return len(crlf_bytes) <= int(conexion.esmtp_features["size"])


def fits_by_smtp_policy(mensaje, conexion):
    crlf_bytes = mensaje.as_bytes(policy=email.policy.SMTP)
    return len(crlf_bytes) <= int(conexion.esmtp_features["size"])


def fits_with_lf_line_ends(mensaje, conexion):
    return len(mensaje.as_bytes()) <= int(conexion.esmtp_features["size"])


def fits_by_text(mensaje, conexion):
    return len(mensaje.as_string()) <= int(conexion.esmtp_features["size"])


def fits_strictly_below(mensaje, conexion):
    crlf_bytes = mensaje.as_bytes(policy=email.policy.SMTP)
    return len(crlf_bytes) < int(conexion.esmtp_features["size"])


def fits_without_int(mensaje, conexion):
    crlf_bytes = mensaje.as_bytes(policy=email.policy.SMTP)
    return len(crlf_bytes) <= conexion.esmtp_features["size"]


def test_size_function_passes(provider_simulator):
    result = check_exercise("07-3", fits_by_bytes, provider_simulator)
    assert_accepted(result)


def test_size_with_smtp_policy_passes(provider_simulator):
    result = check_exercise("07-3", fits_by_smtp_policy, provider_simulator)
    assert_accepted(result)


def test_size_with_lf_ends_rejected(provider_simulator):
    result = check_exercise("07-3", fits_with_lf_line_ends, provider_simulator)
    assert_rejected(result, "CRLF")


def test_size_counted_as_text_rejected(provider_simulator):
    result = check_exercise("07-3", fits_by_text, provider_simulator)
    assert_rejected(result, "as_bytes()")


def test_size_at_limit_rejected(provider_simulator):
    result = check_exercise("07-3", fits_strictly_below, provider_simulator)
    assert_rejected(result, "<=")


def test_size_limit_as_text_rejected(provider_simulator):
    result = check_exercise("07-3", fits_without_int, provider_simulator)
    assert_rejected(result, "int()")


def test_size_function_called_rejected(provider_simulator):
    assert_rejected(check_exercise("07-3", True, provider_simulator), "paréntesis")


def test_size_check_simulator_stopped_rejected(provider_simulator):
    provider_simulator.stop()
    result = check_exercise("07-3", fits_by_bytes, provider_simulator)
    assert_rejected(result, "start_provider_simulator()")


def test_size_check_with_local_server_rejected(local_server):
    result = check_exercise("07-3", fits_by_bytes, local_server)
    assert_rejected(result, "start_provider_simulator()")


def test_size_probe_messages_exact():
    from mailcourse.exercises.size_probes import message_of_size

    message = message_of_size(1000)
    assert len(message.as_bytes(policy=email.policy.SMTP)) == 1000


def test_lf_probe_fits_only_lf(provider_simulator):
    """The LF probe fits the limit with LF line ends and is larger with CRLF."""
    from mailcourse.exercises.size_probes import message_of_size, lf_size

    limit = provider_simulator.max_message_size
    message = message_of_size(limit, measure=lf_size)
    assert len(message.as_bytes()) == limit
    assert len(message.as_bytes(policy=email.policy.SMTP)) > limit


def test_lf_size_message_refused_552(provider_simulator):
    """A message of exactly the limit with LF ends is refused when sent."""
    from mailcourse.exercises.size_probes import message_of_size, lf_size

    message = message_of_size(provider_simulator.max_message_size, measure=lf_size)
    with tls_client(provider_simulator) as client:
        client.login(LAB_USER, LAB_PASSWORD)
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(message)
    assert refused.value.smtp_code == 552


def test_wire_size_message_accepted(provider_simulator):
    """A message of exactly the limit with CRLF ends is accepted when sent."""
    from mailcourse.exercises.size_probes import message_of_size

    message = message_of_size(provider_simulator.max_message_size)
    with tls_client(provider_simulator) as client:
        client.login(LAB_USER, LAB_PASSWORD)
        refused = client.send_message(message)
    assert refused == {}


# Lesson 08


@pytest.fixture
def running_simulator(tmp_path):
    """A simulator started like the lesson does, so ``send()`` trusts its CA."""
    simulator = start_provider_simulator(maildir=tmp_path / "Maildir")
    yield simulator
    simulator.stop()


def yahoo_values(security_for_second_port: str = "starttls") -> tuple:
    yahoo = PRESETS["yahoo"]
    second_port = yahoo.port_for(security_for_second_port)
    return yahoo.host, yahoo.port, yahoo.security, second_port


def test_yahoo_settings_pass():
    assert_accepted(check_exercise("08-1", yahoo_values()))


def test_tls_port_for_starttls_rejected():
    assert_rejected(check_exercise("08-1", yahoo_values("tls")), 'port_for("tls")')


def test_wrong_security_uses_feminine():
    yahoo = PRESETS["yahoo"]
    values = yahoo.host, yahoo.port, "starttls", yahoo.port_for("starttls")
    texts = check_exercise("08-1", values).messages
    assert any("La seguridad no es la de Yahoo" in text for text in texts)


def test_wrong_host_uses_masculine():
    yahoo = PRESETS["yahoo"]
    values = "smtp.gmail.com", yahoo.port, yahoo.security, yahoo.port_for("starttls")
    texts = check_exercise("08-1", values).messages
    assert any("El servidor no es el de Yahoo" in text for text in texts)


def test_gmail_settings_rejected():
    gmail = PRESETS["gmail"]
    values = gmail.host, gmail.port, gmail.security, gmail.port_for("starttls")
    assert_rejected(check_exercise("08-1", values), 'PRESETS["yahoo"]')


def test_settings_as_list_rejected():
    assert_rejected(check_exercise("08-1", list(yahoo_values())), "tupla")


def send_through_tls_port(simulator, message: EmailMessage) -> None:
    with connect(simulator.host, simulator.tls_port, security="tls") as client:
        login(client, LAB_USER, LAB_PASSWORD)
        client.send_message(message)


def test_tls_port_send_passes(running_simulator):
    send_through_tls_port(running_simulator, plain_message(LAB_USER, LAB_USER))
    assert_accepted(check_exercise("08-2", running_simulator))


def test_tls_port_other_recipient_rejected(running_simulator):
    send_through_tls_port(running_simulator, plain_message(LAB_USER))
    assert_rejected(check_exercise("08-2", running_simulator), "LAB_USER")


def test_tls_port_without_subject_rejected(running_simulator):
    message = plain_message(LAB_USER, LAB_USER)
    del message["Subject"]
    send_through_tls_port(running_simulator, message)
    assert_rejected(check_exercise("08-2", running_simulator), "Subject")


def test_tls_port_nothing_sent_rejected(running_simulator):
    assert_rejected(check_exercise("08-2", running_simulator), "send_message()")


def send_explained(ajustes, mensaje):
    try:
        return send(ajustes, mensaje).refused
    except (smtplib.SMTPException, OSError) as error:
        explain(error, settings=ajustes)


def send_unguarded(ajustes, mensaje):
    return send(ajustes, mensaje).refused


def send_nothing(ajustes, mensaje):
    return {}


def test_explained_send_passes(running_simulator):
    result = check_exercise("08-3", send_explained, running_simulator)
    assert_accepted(result)


def test_unguarded_send_rejected(running_simulator):
    result = check_exercise("08-3", send_unguarded, running_simulator)
    assert_rejected(result, "try")


def test_send_never_called_rejected(running_simulator):
    result = check_exercise("08-3", send_nothing, running_simulator)
    assert_rejected(result, "send(ajustes, mensaje)")


def test_explained_send_simulator_stopped_rejected(running_simulator):
    running_simulator.stop()
    result = check_exercise("08-3", send_explained, running_simulator)
    assert_rejected(result, "start_provider_simulator()")


def test_send_function_result_rejected(running_simulator):
    result = check_exercise("08-3", None, running_simulator)
    assert_rejected(result, "sin paréntesis")


# Lesson 09


@pytest.fixture
def lesson_forms(tmp_path):
    """The connection, compose and send forms of lesson 09, on the course server."""
    server = start_local_server(maildir=tmp_path / "Maildir")
    connection = ConnectionForm(local_server=server)
    compose = ComposeForm(
        sender="ana@ejemplo.test",
        to="luis@ejemplo.test",
        subject="Informe del año",
        body="Hola, Luis:\nTe escribo desde el formulario.\n",
    )
    yield server, connection, compose, SendForm(connection, compose)
    server.stop()


def test_form_blind_copy_passes(lesson_forms):
    server, _, compose, sender = lesson_forms
    compose.bcc.value = "archivo@ejemplo.test"
    sender.send_button.click()
    assert_accepted(check_exercise("09-1", server))


def test_form_visible_copy_rejected(lesson_forms):
    server, _, compose, sender = lesson_forms
    compose.cc.value = "archivo@ejemplo.test"
    sender.send_button.click()
    assert_rejected(check_exercise("09-1", server), "copia oculta")


def test_form_without_blind_copy_rejected(lesson_forms):
    server, _, _, sender = lesson_forms
    sender.send_button.click()
    assert_rejected(check_exercise("09-1", server), "mensaje.bcc")


def test_form_nothing_sent_rejected(lesson_forms):
    server = lesson_forms[0]
    assert_rejected(check_exercise("09-1", server), "send_message()")


def test_refused_connection_passes(lesson_forms):
    _, connection, _, sender = lesson_forms
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        connection.port.value = reserved.getsockname()[1]
        sender.send_button.click()
    assert_accepted(check_exercise("09-2", sender))


def test_listening_port_rejected(lesson_forms):
    sender = lesson_forms[3]
    sender.send_button.click()
    assert_rejected(check_exercise("09-2", sender), "detenlo con stop()")


def test_form_never_clicked_rejected(lesson_forms):
    sender = lesson_forms[3]
    assert_rejected(check_exercise("09-2", sender), "send_button.click()")


def test_connection_form_instead_rejected(lesson_forms):
    connection = lesson_forms[1]
    assert_rejected(check_exercise("09-2", connection), "SendForm")


# The entry point and the result


def test_unknown_exercise_lists_ids():
    with pytest.raises(UnknownExerciseError) as caught:
        check_exercise("99-1", True)
    assert "00-1" in str(caught.value)


def test_wrong_value_count_shows_call():
    with pytest.raises(TypeError) as caught:
        check_exercise("04-1", True)
    assert 'check_exercise("04-1", antes, despues)' in str(caught.value)


def test_failed_result_text_shows_hint():
    text = check_exercise("01-2", invitation()).to_text()
    assert "✘" in text
    assert "Pista:" in text


def test_result_html_escapes_text():
    feedback = (Feedback(False, "<b>", "<script>"),)
    html = ExerciseResult("01-1", feedback)._repr_html_()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


# The lessons


def check_cells(lesson: str) -> dict[str, nbformat.NotebookNode]:
    """Map each exercise id to the hidden solution cell that checks it."""
    notebook = nbformat.read(next(NOTEBOOKS.glob(f"{lesson}-*.ipynb")), 4)
    cells = {}
    for cell in notebook.cells:
        if cell.cell_type != "code" or "solution" not in cell.metadata.get("tags", []):
            continue
        source = cell.source.strip()
        if source.startswith('check_exercise("'):
            cells[source.split('"')[1]] = cell
    return cells


def lesson_prose(lesson: str) -> str:
    source = next((ROOT / "lessons").glob(f"{lesson}-*.md"))
    return source.read_text(encoding="utf-8")


LESSONS_WITH_CHECKS = sorted({exercise_id[:2] for exercise_id in CHECKS})


@pytest.mark.parametrize("lesson", LESSONS_WITH_CHECKS)
def test_every_exercise_checked_in_solution(lesson):
    expected = {exercise_id for exercise_id in CHECKS if exercise_id[:2] == lesson}
    assert set(check_cells(lesson)) == expected


@pytest.mark.parametrize("lesson", LESSONS_WITH_CHECKS)
def test_stored_check_outputs_pass(lesson):
    for exercise_id, cell in check_cells(lesson).items():
        texts = [
            output.data["text/plain"]
            for output in cell.outputs
            if output.output_type == "execute_result"
        ]
        assert len(texts) == 1, exercise_id
        passed_summary = ExerciseResult(exercise_id).summary()
        assert texts[0].endswith(passed_summary), exercise_id


@pytest.mark.parametrize("exercise_id", sorted(CHECKS))
def test_statement_shows_check_call(exercise_id):
    assert f'`check_exercise("{exercise_id}"' in lesson_prose(exercise_id[:2])
