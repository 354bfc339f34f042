"""Probe a student's size function with messages built around the SIZE limit."""

from __future__ import annotations

import smtplib
from collections.abc import Callable
from email.message import EmailMessage
from typing import Any

from .result import FeedbackList

LINE_LENGTH = 70
# Each step of the exact-size search adds the bytes still missing to the body.
# Newlines shift the result a little, so it takes two or three steps.
MAX_SIZE_STEPS = 10


def message_of_size(size: int) -> EmailMessage:
    """Build an ASCII message whose ``as_bytes()`` is exactly ``size`` bytes long.

    Raises ``ValueError`` when the search does not reach ``size``.
    """
    characters = size
    for _ in range(MAX_SIZE_STEPS):
        message = _message_with_body("a" * characters)
        missing = size - len(message.as_bytes())
        if missing == 0:
            return message
        characters += missing
    raise ValueError(f"no message of exactly {size} bytes")


def accented_message_below(limit: int) -> EmailMessage:
    """Build a message of ñ letters that fits ``limit`` in bytes but not as text.

    With the default policy, ``as_string()`` of an 8bit UTF-8 body is longer
    than ``as_bytes()``, so a function that measures the text returns False
    for it. Raises ``ValueError`` if that stops being true.
    """
    # Each line contains LINE_LENGTH two-byte letters and a newline.
    letters = (limit - 2000) * LINE_LENGTH // (2 * LINE_LENGTH + 1)
    message = _message_with_body("ñ" * letters)
    if len(message.as_bytes()) > limit or len(message.as_string()) <= limit:
        raise ValueError("as_string() of the probe is not longer than as_bytes()")
    return message


def _message_with_body(text: str) -> EmailMessage:
    starts = range(0, len(text), LINE_LENGTH)
    lines = [text[start : start + LINE_LENGTH] for start in starts]
    message = EmailMessage()
    message["From"] = "alumno@curso.test"
    message["To"] = "luis@ejemplo.test"
    message["Subject"] = "Prueba de tamaño"
    message.set_content("\n".join(lines) + "\n", cte="8bit")
    return message


def check_fits_function(
    fits: Callable[[EmailMessage, smtplib.SMTP], Any],
    simulator: Any,
    feedback: FeedbackList,
) -> None:
    """Call ``fits`` on a live connection to ``simulator`` with four probes."""
    with smtplib.SMTP_SSL(
        simulator.host,
        simulator.tls_port,
        context=simulator.client_context(),
        timeout=10,
    ) as connection:
        connection.ehlo()
        limit = int(connection.esmtp_features["size"])
        for probe in _probes(limit):
            if not _run_probe(fits, connection, feedback, *probe):
                break


def _probes(limit: int) -> list[tuple[str, EmailMessage, bool, str]]:
    small = _message_with_body("Hola.")
    at_limit = message_of_size(limit)
    above = message_of_size(limit + 1)
    accented = accented_message_below(limit)
    return [
        ("un mensaje corto", small, True, "Compara el tamaño con <=."),
        (
            "un mensaje justo del tamaño del límite",
            at_limit,
            True,
            "Un mensaje igual al límite aún cabe: usa <= y no <.",
        ),
        (
            "un mensaje un byte mayor que el límite",
            above,
            False,
            "Lee el límite de conexion.esmtp_features[\"size\"] y compáralo "
            "con len(mensaje.as_bytes()).",
        ),
        (
            "un mensaje con ñ que en bytes cabe",
            accented,
            True,
            "Cuenta bytes, no caracteres: usa len(mensaje.as_bytes()), no "
            "as_string() ni str().",
        ),
    ]


def _run_probe(
    fits: Callable[[EmailMessage, smtplib.SMTP], Any],
    connection: smtplib.SMTP,
    feedback: FeedbackList,
    description: str,
    message: EmailMessage,
    expected: bool,
    hint: str,
) -> bool:
    """Record how ``fits`` handles one probe; return False if it raised."""
    try:
        answer = fits(message, connection)
    except Exception as error:  # the student's code may raise anything
        if isinstance(error, TypeError):
            error_hint = "esmtp_features guarda textos: convierte el límite con int()."
        else:
            error_hint = (
                "Tu función recibe el mensaje y una conexión abierta que ya ha "
                "saludado: no hace falta volver a conectar."
            )
        feedback.problem(
            f"Con {description}, tu función lanza {type(error).__name__}: {error}",
            error_hint,
        )
        return False
    if answer is expected:
        feedback.good(f"Con {description}, devuelve {expected}.")
    else:
        feedback.problem(f"Con {description}, devuelve {answer!r}.", hint)
    return True
