"""Checks for lesson 02: attach a binary file and a text file with accents."""

from __future__ import annotations

from email.message import EmailMessage
from pathlib import Path
from typing import Any

from .lesson01 import is_message
from .result import ExerciseResult, FeedbackList
from .samples import (
    AGENDA_FILE,
    DEFAULT_SAMPLES,
    FALLBACK_TYPE,
    SENSOR_FILE,
    read_sample,
)


def find_attachment(
    message: EmailMessage, filename: str, feedback: FeedbackList
) -> EmailMessage | None:
    """Return the attachment named ``filename``, recording why it is missing."""
    attachments = list(message.iter_attachments())
    if not attachments:
        feedback.problem(
            "mensaje no tiene ningún adjunto.",
            "Adjunta con mensaje.add_attachment() y vuelve a comprobar.",
        )
        return None
    for part in attachments:
        name = part.get_filename() or ""
        if name == filename:
            feedback.good(f"Hay un adjunto llamado {filename}.")
            return part
        if name.endswith(("/" + filename, "\\" + filename)):
            feedback.problem(
                f"El adjunto se llama «{name}», con la carpeta incluida.",
                "El nombre del adjunto es solo el del archivo: usa "
                "os.path.basename(ruta).",
            )
            return part
    feedback.problem(
        f"No hay ningún adjunto llamado {filename}.",
        "Revisa el argumento filename de add_attachment().",
    )
    return None


def check_sensor_attachment(
    mensaje: Any, samples: str | Path = DEFAULT_SAMPLES
) -> ExerciseResult:
    """Check 02-1: ``lecturas.sensor`` attached with the fallback MIME type."""
    feedback = FeedbackList("02-1")
    if not is_message(mensaje, feedback, "mensaje"):
        return feedback.result()
    part = find_attachment(mensaje, SENSOR_FILE, feedback)
    if part is None:
        return feedback.result()
    content_type = part.get_content_type()
    if content_type == FALLBACK_TYPE:
        feedback.good(f"Su tipo es {FALLBACK_TYPE}, el de reserva.")
    elif part.get_content_maintype() == "text":
        feedback.problem(
            f"El adjunto va como {content_type}: lo has leído como texto.",
            "Abre los archivos que no son texto en modo binario, con «rb».",
        )
    else:
        feedback.problem(
            f"El adjunto va como {content_type}.",
            "mimetypes.guess_type() no conoce la extensión .sensor: mira qué "
            "devuelve y usa el tipo de reserva cuando no hay tipo.",
        )
    expected = read_sample(samples, SENSOR_FILE)
    data = part.get_payload(decode=True) or b""
    if expected is not None and data != expected:
        feedback.problem(
            f"El adjunto tiene {len(data)} bytes y el archivo {len(expected)}.",
            "Lee el archivo entero con archivo.read() dentro de open(ruta, 'rb').",
        )
    elif expected is not None:
        feedback.good(f"El adjunto contiene los {len(data)} bytes del archivo.")
    return feedback.result()


def check_agenda_attachment(
    mensaje: Any, samples: str | Path = DEFAULT_SAMPLES
) -> ExerciseResult:
    """Check 02-2: ``orden-del-dia.txt`` attached as text with its charset."""
    feedback = FeedbackList("02-2")
    if not is_message(mensaje, feedback, "mensaje"):
        return feedback.result()
    part = find_attachment(mensaje, AGENDA_FILE, feedback)
    if part is None:
        return feedback.result()
    if part.get_content_type() != "text/plain":
        feedback.problem(
            f"El adjunto va como {part.get_content_type()}, no como text/plain.",
            "Abre el archivo como texto, con encoding='utf-8', y adjunta el str "
            "que devuelve read().",
        )
        return feedback.result()
    if part.get_content_charset() is None:
        feedback.problem(
            "El adjunto es text/plain pero no dice su charset.",
            "Eso pasa al adjuntar bytes: sin charset, las tildes llegan rotas. "
            "Adjunta un str.",
        )
        return feedback.result()
    feedback.good(f"Es text/plain con charset={part.get_content_charset()}.")
    expected = read_sample(samples, AGENDA_FILE)
    if expected is not None and part.get_content() != expected.decode("utf-8"):
        feedback.problem(
            "El texto del adjunto no coincide con el del archivo.",
            "Léelo con encoding='utf-8' para que las tildes se lean bien.",
        )
    elif expected is not None:
        feedback.good("El texto llega con sus tildes intactas.")
    return feedback.result()
