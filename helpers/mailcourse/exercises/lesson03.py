"""Checks for lesson 03: what the bundled server received."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .inbox_checks import newest_message
from .result import ExerciseResult, FeedbackList
from .samples import DEFAULT_SAMPLES, FALLBACK_TYPE, SENSOR_FILE, read_sample

NOTICE_TO = "luis@ejemplo.test"
NOTICE_CC = "marta@ejemplo.test"


def check_two_recipients(servidor: Any) -> ExerciseResult:
    """Check 03-1: the newest message went to luis (To) and marta (Cc)."""
    feedback = FeedbackList("03-1")
    message = newest_message(servidor, feedback, "servidor")
    if message is None:
        return feedback.result()
    recipients = [address.lower() for address in message.envelope_recipients]
    for address, header in ((NOTICE_TO, "To"), (NOTICE_CC, "Cc")):
        in_header = address in [
            pair[1].lower() for pair in message.addresses(header)
        ]
        if address not in recipients:
            feedback.problem(
                f"El servidor no lo ha entregado a {address}.",
                f"send_message() solo envía a quien está en To, Cc o Bcc: "
                f"pon a {address} en {header}.",
            )
        elif not in_header:
            feedback.problem(
                f"{address} lo ha recibido, pero no está en {header}.",
                f"El ejercicio pide a {address} en la cabecera {header}.",
            )
        else:
            feedback.good(f"{address} lo ha recibido, y está en {header}.")
    return feedback.result()


def check_sensor_delivery(
    servidor: Any, samples: str | Path = DEFAULT_SAMPLES
) -> ExerciseResult:
    """Check 03-2: the newest message carries lecturas.sensor, whole and typed."""
    feedback = FeedbackList("03-2")
    message = newest_message(servidor, feedback, "servidor")
    if message is None:
        return feedback.result()
    matching = [item for item in message.attachments if item.filename == SENSOR_FILE]
    if not matching:
        feedback.problem(
            f"El último mensaje no trae ningún adjunto llamado {SENSOR_FILE}.",
            "Adjunta el archivo con add_attachment() antes de enviar, y pasa "
            "filename= con el nombre sin carpeta.",
        )
        return feedback.result()
    attachment = matching[0]
    if attachment.content_type == FALLBACK_TYPE:
        feedback.good(f"{SENSOR_FILE} ha llegado como {FALLBACK_TYPE}.")
    else:
        feedback.problem(
            f"{SENSOR_FILE} ha llegado como {attachment.content_type}.",
            "Para un tipo desconocido, usa el tipo de reserva de la lección 2.",
        )
    expected = read_sample(samples, SENSOR_FILE)
    if expected is not None and attachment.data != expected:
        feedback.problem(
            f"Han llegado {attachment.size} bytes y el archivo tiene "
            f"{len(expected)}.",
            "Lee el archivo entero en modo binario («rb») y adjunta esos bytes.",
        )
    elif expected is not None:
        feedback.good(f"Han llegado los {attachment.size} bytes del archivo.")
    return feedback.result()
