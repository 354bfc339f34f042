"""Checks for lesson 06: send as another account, catch 535, login order."""

from __future__ import annotations

import smtplib
from typing import Any

from ..provider import ACCENT_USER, LAB_USER
from .inbox_checks import newest_message
from .result import ExerciseResult, FeedbackList

TEACHER_RECIPIENT = "luis@ejemplo.test"
AUTH_ACCEPTED = 235
AUTH_FAILED = 535
AUTH_REQUIRED = 530


def check_send_as_teacher(simulador: Any) -> ExerciseResult:
    """Check 06-1: the newest message comes from the teacher's account."""
    feedback = FeedbackList("06-1")
    message = newest_message(simulador, feedback, "simulador")
    if message is None:
        return feedback.result()
    sender = message.sender.lower()
    if ACCENT_USER in sender:
        feedback.good(f"El remitente es {ACCENT_USER}.")
    elif LAB_USER in sender:
        feedback.problem(
            f"El mensaje más nuevo es de {LAB_USER}, la cuenta de alumno.",
            f"Pon {ACCENT_USER} en la cabecera From y entra con ACCENT_USER.",
        )
    else:
        feedback.problem(
            f"El remitente del mensaje más nuevo es «{message.sender}».",
            f"La cabecera From debe ser {ACCENT_USER}.",
        )
    recipients = [address.lower() for address in message.envelope_recipients]
    if TEACHER_RECIPIENT in recipients:
        feedback.good(f"Ha llegado a {TEACHER_RECIPIENT}.")
    else:
        feedback.problem(
            f"El mensaje no iba para {TEACHER_RECIPIENT}.",
            "Revisa la cabecera To del mensaje.",
        )
    return feedback.result()


def check_caught_code(codigo: Any) -> ExerciseResult:
    """Check 06-2: the code of the caught ``SMTPAuthenticationError``."""
    feedback = FeedbackList("06-2")
    if isinstance(codigo, tuple):
        feedback.problem(
            "Has pasado lo que devuelve login(): el inicio de sesión ha funcionado.",
            "Usa a propósito una contraseña equivocada para provocar el error.",
        )
    elif codigo is None:
        feedback.problem(
            "codigo vale None: no se ha atrapado ningún error.",
            "Guarda error.smtp_code dentro del bloque except.",
        )
    elif isinstance(codigo, str):
        feedback.problem(
            f"codigo es el texto «{codigo}», no un número.",
            "error.smtp_code ya es un número entero: guárdalo tal cual.",
        )
    elif codigo == AUTH_FAILED:
        feedback.good("El código es 535: el servidor no acepta esas credenciales.")
    elif codigo == AUTH_REQUIRED:
        feedback.problem(
            "El código es 530, que significa «falta iniciar sesión».",
            "El ejercicio pide el error de login() con una contraseña mala.",
        )
    else:
        feedback.problem(
            f"El código es {codigo}, y se espera el de unas credenciales malas.",
            "Atrapa smtplib.SMTPAuthenticationError alrededor de login().",
        )
    return feedback.result()


def check_login_order(fallo: Any, respuesta: Any) -> ExerciseResult:
    """Check 06-3: login before STARTTLS fails, login after it returns 235."""
    feedback = FeedbackList("06-3")
    if isinstance(fallo, smtplib.SMTPNotSupportedError):
        feedback.good("fallo es SMTPNotSupportedError: sin cifrar no hay AUTH.")
    elif isinstance(fallo, BaseException):
        feedback.problem(
            f"fallo es {type(fallo).__name__}, no SMTPNotSupportedError.",
            "El primer intento va sin starttls(): el servidor aún no ofrece "
            "AUTH, así que login() falla antes de enviar la contraseña.",
        )
    else:
        feedback.problem(
            "fallo no es un error.",
            "Guarda el error atrapado en fallo dentro del bloque except.",
        )
    code = respuesta[0] if isinstance(respuesta, tuple) and respuesta else None
    if code == AUTH_ACCEPTED:
        feedback.good("respuesta empieza por 235: la sesión está iniciada.")
    else:
        feedback.problem(
            "respuesta no es la pareja (235, ...) de un login correcto.",
            "En la conexión nueva, llama a starttls(context=...) antes de "
            "login(), y guarda lo que devuelve login().",
        )
    return feedback.result()
