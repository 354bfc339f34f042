"""Checks for lesson 07: refused recipients, Bcc only, and the SIZE limit."""

from __future__ import annotations

import smtplib
from typing import Any

from ..inbox import InboxMessage
from .inbox_checks import is_running_simulator, newest_message
from .refused import check_refused_dict
from .result import ExerciseResult, FeedbackList
from .size_probes import check_fits_function

ACCEPTED_RECIPIENT = "luis@ejemplo.test"
REFUSED_RECIPIENTS = ("ana@rechazado.test", "pablo@rechazado.test")
BLIND_RECIPIENTS = ("luis@ejemplo.test", "marta@ejemplo.test")
RECIPIENT_HEADERS = ("To", "Cc", "Bcc")


def check_refused_list(rechazados: Any) -> ExerciseResult:
    """Check 07-1: both rechazado.test addresses refused with 550, luis accepted."""
    feedback = FeedbackList("07-1")
    check_refused_dict(
        rechazados,
        feedback,
        expected_refused=REFUSED_RECIPIENTS,
        accepted=ACCEPTED_RECIPIENT,
        message_name="convocatoria",
    )
    return feedback.result()


def check_blind_copy(simulador: Any) -> ExerciseResult:
    """Check 07-2: delivered to the Bcc addresses, with no recipient header."""
    feedback = FeedbackList("07-2")
    message = newest_message(simulador, feedback, "simulador")
    if message is None:
        return feedback.result()
    _check_blind_delivery(message, feedback)
    _check_recipient_headers(message, feedback)
    return feedback.result()


def _check_blind_delivery(message: InboxMessage, feedback: FeedbackList) -> None:
    recipients = {address.lower() for address in message.envelope_recipients}
    missing = [address for address in BLIND_RECIPIENTS if address not in recipients]
    if missing:
        feedback.problem(
            f"El servidor no lo ha entregado a {', '.join(missing)}.",
            "Pon las dos direcciones en Bcc, separadas por una coma.",
        )
    else:
        feedback.good("El servidor lo ha entregado a las dos direcciones de Bcc.")


def _check_recipient_headers(message: InboxMessage, feedback: FeedbackList) -> None:
    headers = [name for name in RECIPIENT_HEADERS if name in message.message]
    if "Bcc" in headers:
        feedback.problem(
            "El mensaje guardado conserva la cabecera Bcc: todos verían la copia.",
            "Envía con send_message(), que quita Bcc antes de transmitir. "
            "sendmail() con as_string() la deja.",
        )
    visible = [name for name in headers if name != "Bcc"]
    if visible:
        feedback.problem(
            f"El mensaje lleva la cabecera {', '.join(visible)}.",
            "El ejercicio pide destinatarios solo en Bcc, sin To ni Cc.",
        )
    if not headers:
        feedback.good("El mensaje guardado no muestra ningún destinatario.")


def check_fits(cabe: Any, simulador: Any) -> ExerciseResult:
    """Check 07-3: ``cabe(mensaje, conexion)`` compares bytes with SIZE.

    Connects to ``simulador`` to get a real ``SIZE`` announcement. A failed
    connection (``OSError`` or ``smtplib.SMTPException``) becomes a problem
    in the result, with the hint to start the simulator.
    """
    feedback = FeedbackList("07-3")
    if not callable(cabe):
        feedback.problem(
            f"cabe es de tipo {type(cabe).__name__}, no una función.",
            "Defínela con def cabe(mensaje, conexion): y pasa su nombre, sin "
            "paréntesis.",
        )
        return feedback.result()
    if not is_running_simulator(simulador, feedback):
        return feedback.result()
    try:
        check_fits_function(cabe, simulador, feedback)
    except (OSError, smtplib.SMTPException) as error:
        feedback.problem(
            f"No se ha podido conectar con el simulador ({type(error).__name__}).",
            "Ejecuta simulador = start_provider_simulator() y vuelve a comprobar.",
        )
    return feedback.result()
