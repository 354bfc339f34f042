"""Probe a student's size function with messages built around the SIZE limit.

Sizes are wire sizes: the bytes ``smtplib.SMTP.send_message()`` announces in
``MAIL FROM ... SIZE=``. In CPython 3.11 it flattens the message with
``linesep="\\r\\n"``, so every line ends in CRLF and the size is larger than
``len(message.as_bytes())``, which ends lines in LF.
"""

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


def wire_size(message: EmailMessage) -> int:
    """Return the size ``send_message()`` announces for a message without Bcc.

    It is the length of the message with CRLF line ends. ``send_message()``
    drops the Bcc header first, so a message with Bcc is sent a little smaller.
    """
    return len(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))


def lf_size(message: EmailMessage) -> int:
    """Return ``len(message.as_bytes())``, the size with LF line ends."""
    return len(message.as_bytes())


def message_of_size(
    size: int, measure: Callable[[EmailMessage], int] = wire_size
) -> EmailMessage:
    """Build an ASCII message whose ``measure`` is exactly ``size`` bytes.

    Raises ``ValueError`` when the search does not reach ``size``.
    """
    characters = size
    for _ in range(MAX_SIZE_STEPS):
        message = _message_with_body("a" * characters)
        missing = size - measure(message)
        if missing == 0:
            return message
        characters += missing
    raise ValueError(f"no message of exactly {size} bytes")


def accented_message_below(limit: int) -> EmailMessage:
    """Build a message of ñ letters that fits ``limit`` in bytes but not as text.

    With the default policy, ``as_string()`` of an 8bit UTF-8 body is longer
    than its bytes, so a function that measures the text returns False for
    it. Raises ``ValueError`` if that stops being true.
    """
    # Each line contains LINE_LENGTH two-byte letters and a CRLF.
    letters = (limit - 2000) * LINE_LENGTH // (2 * LINE_LENGTH + 2)
    message = _message_with_body("ñ" * letters)
    if wire_size(message) > limit or len(message.as_string()) <= limit:
        raise ValueError("as_string() of the probe is not longer than its bytes")
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
    """Call ``fits`` on a live connection to ``simulator`` with five probes."""
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
    lf_at_limit = message_of_size(limit, measure=lf_size)
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
            "con el tamaño del mensaje con saltos de línea CRLF.",
        ),
        (
            "un mensaje que cabe con saltos de línea LF pero no con CRLF",
            lf_at_limit,
            False,
            "send_message() transmite cada línea terminada en CRLF (\\r\\n), "
            "que ocupa un byte más que LF. Mide len(mensaje.as_bytes("
            "policy=mensaje.policy.clone(linesep=\"\\r\\n\"))).",
        ),
        (
            "un mensaje con ñ que en bytes cabe",
            accented,
            True,
            "Cuenta bytes, no caracteres: usa as_bytes() con saltos de línea "
            "CRLF, no as_string() ni str().",
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
