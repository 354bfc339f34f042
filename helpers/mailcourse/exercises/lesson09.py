"""Checks for lesson 09: a blind copy and a refused connection, with the forms."""

from __future__ import annotations

from typing import Any

from ..diagnosis import kinds
from .inbox_checks import newest_message
from .result import ExerciseResult, FeedbackList

REPORT_RECIPIENT = "luis@ejemplo.test"
ARCHIVE_RECIPIENT = "archivo@ejemplo.test"


def check_form_blind_copy(servidor: Any) -> ExerciseResult:
    """Check 09-1: sent to luis with archivo only in Bcc, which did not travel."""
    feedback = FeedbackList("09-1")
    message = newest_message(servidor, feedback, "servidor")
    if message is None:
        return feedback.result()
    recipients = [address.lower() for address in message.envelope_recipients]
    if REPORT_RECIPIENT in recipients:
        feedback.good(f"{REPORT_RECIPIENT} lo ha recibido.")
    else:
        feedback.problem(
            f"{REPORT_RECIPIENT} no lo ha recibido.",
            "Deja su dirección en la casilla «Para» del formulario del mensaje.",
        )
    if ARCHIVE_RECIPIENT not in recipients:
        feedback.problem(
            f"{ARCHIVE_RECIPIENT} no lo ha recibido.",
            "Escribe su dirección en la casilla de copia oculta (mensaje.bcc).",
        )
        return feedback.result()
    visible = [
        name
        for name in ("To", "Cc")
        if ARCHIVE_RECIPIENT in [pair[1].lower() for pair in message.addresses(name)]
    ]
    if visible:
        feedback.problem(
            f"{ARCHIVE_RECIPIENT} lo ha recibido, pero a la vista, en {visible[0]}.",
            "Ponla en la casilla de copia oculta, no en «Para» ni en «Cc».",
        )
    else:
        feedback.good(f"{ARCHIVE_RECIPIENT} lo ha recibido sin que se vea.")
    return feedback.result()


def check_refused_connection(envio: Any) -> ExerciseResult:
    """Check 09-2: the send form diagnosed a refused connection."""
    feedback = FeedbackList("09-2")
    if not hasattr(envio, "last_diagnosis"):
        feedback.problem(
            "Lo que has pasado no es el formulario de envío.",
            "Pasa la variable envio, la del SendForm.",
        )
        return feedback.result()
    diagnosis = envio.last_diagnosis
    if diagnosis is None and envio.last_result is not None:
        feedback.problem(
            "El último envío ha salido bien: algo escuchaba en ese puerto.",
            "Usa un puerto en el que nada escuche: arranca un segundo servidor "
            "con LocalServer().start(), escribe su puerto en la casilla "
            "«Puerto», detenlo con stop() y pulsa «Enviar».",
        )
    elif diagnosis is None:
        feedback.problem(
            "El formulario aún no ha intentado ningún envío.",
            "Pulsa «Enviar» con envio.send_button.click().",
        )
    elif diagnosis.kind == kinds.CONNECTION_REFUSED:
        feedback.good("El formulario ha diagnosticado connection-refused.")
    else:
        feedback.problem(
            f"El formulario ha diagnosticado {diagnosis.kind}.",
            "Para este ejercicio el puerto no debe tener nada escuchando: "
            "usa el de un servidor que hayas detenido con stop().",
        )
    return feedback.result()
