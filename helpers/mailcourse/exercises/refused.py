"""Shared check of the refused-recipients dict that ``send_message()`` returns."""

from __future__ import annotations

import smtplib
from typing import Any

from .result import FeedbackList

REFUSED_CODE = 550


def check_refused_dict(
    refused: Any,
    feedback: FeedbackList,
    *,
    expected_refused: tuple[str, ...],
    accepted: str,
    message_name: str,
) -> None:
    """Record whether ``refused`` contains each of ``expected_refused`` with 550.

    ``accepted`` is the address the server accepts, and ``message_name`` the
    student's variable for the message, used in the hints.
    """
    if isinstance(refused, smtplib.SMTPRecipientsRefused):
        feedback.problem(
            "El servidor ha rechazado a todos los destinatarios.",
            f"Pon también a {accepted} en To: así uno llega y los demás no.",
        )
        return
    if not isinstance(refused, dict):
        feedback.problem(
            f"rechazados es de tipo {type(refused).__name__}, no un diccionario.",
            f"Guarda lo que devuelve conexion.send_message({message_name}).",
        )
        return
    by_address = {address.lower(): reply for address, reply in refused.items()}
    if not by_address:
        listed = " y ".join(expected_refused)
        feedback.problem(
            "El diccionario está vacío: se aceptaron todos los destinatarios.",
            f"¿Has puesto {listed} en la cabecera To?",
        )
        return
    for address in expected_refused:
        _check_one_refused(address, by_address.get(address), feedback)
    if accepted in by_address:
        feedback.problem(
            f"{accepted} también aparece como rechazado.",
            "¿Has iniciado sesión con login() antes de enviar?",
        )


def _check_one_refused(address: str, reply: Any, feedback: FeedbackList) -> None:
    if reply is None:
        feedback.problem(
            f"{address} no aparece entre los rechazados.",
            "Revisa cómo has escrito esa dirección en To.",
        )
        return
    code = reply[0] if isinstance(reply, tuple) and reply else None
    if code == REFUSED_CODE:
        feedback.good(f"{address} aparece rechazado con el código 550.")
    else:
        feedback.problem(
            f"{address} aparece rechazado, pero con {code}.",
            "Cada valor es una pareja (código, mensaje) del servidor.",
        )
