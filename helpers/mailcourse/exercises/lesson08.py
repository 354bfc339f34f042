"""Checks for lesson 08: a provider preset, the TLS port, and explained errors."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from ..presets import PRESETS
from ..provider import LAB_PASSWORD, LAB_USER
from ..settings import ConnectionSettings
from .inbox_checks import is_running_simulator, newest_message
from .result import ExerciseResult, FeedbackList

WRONG_PASSWORD = "clave-equivocada-de-la-comprobacion"
PROBE_SUBJECT = "Comprobación del ejercicio 08-3"


def check_yahoo_settings(datos: Any) -> ExerciseResult:
    """Check 08-1: Yahoo's host, port, security and STARTTLS port, in order."""
    feedback = FeedbackList("08-1")
    yahoo = PRESETS["yahoo"]
    expected = (yahoo.host, yahoo.port, yahoo.security, yahoo.port_for("starttls"))
    if not isinstance(datos, tuple) or len(datos) != len(expected):
        feedback.problem(
            "datos debe ser una tupla de cuatro valores.",
            "Escribe los cuatro valores separados por comas: así Python "
            "crea una tupla.",
        )
        return feedback.result()
    # Each name with the article that agrees with it: "el de Yahoo", "la de Yahoo".
    names = (
        ("El servidor", "el"),
        ("El puerto", "el"),
        ("La seguridad", "la"),
        ("El puerto de starttls", "el"),
    )
    hints = (
        "Toma los datos de PRESETS[\"yahoo\"], no de otro proveedor.",
        "Usa el atributo port del preset.",
        "Usa el atributo security del preset.",
        "Llama a port_for(\"starttls\"), no a port_for(\"tls\").",
    )
    for (name, article), value, expected_value, hint in zip(
        names, datos, expected, hints
    ):
        if value == expected_value:
            feedback.good(f"{name} es {value}.")
        else:
            feedback.problem(
                f"{name} no es {article} de Yahoo: tienes {value!r}.", hint
            )
    return feedback.result()


def check_tls_port_send(simulador: Any) -> ExerciseResult:
    """Check 08-2: the newest message went to LAB_USER, with a subject.

    NOTE: the simulator does not record which port a message came through,
    so this check cannot tell the TLS port from the STARTTLS one.
    """
    feedback = FeedbackList("08-2")
    message = newest_message(simulador, feedback, "simulador")
    if message is None:
        return feedback.result()
    recipients = [address.lower() for address in message.envelope_recipients]
    if LAB_USER in recipients:
        feedback.good(f"El mensaje ha llegado a {LAB_USER}.")
    else:
        feedback.problem(
            f"El mensaje más nuevo no iba para {LAB_USER}.",
            "Pon LAB_USER en la cabecera To del mensaje.",
        )
    if message.subject:
        feedback.good(f"Tiene asunto: «{message.subject}».")
    else:
        feedback.problem("El mensaje no tiene asunto.", "Ponlo en la cabecera Subject.")
    return feedback.result()


def check_explained_send(enviar: Any, simulador: Any) -> ExerciseResult:
    """Check 08-3: ``enviar`` explains a failed login and sends when all is right.

    Calls ``enviar`` twice against ``simulador``'s TLS port: with a wrong
    password, where no exception may escape, and with the lab account, where
    a new message must arrive. The explanation the student's function
    displays for the first call shows in the cell too.
    """
    feedback = FeedbackList("08-3")
    if not callable(enviar):
        feedback.problem(
            f"enviar es de tipo {type(enviar).__name__}, no una función.",
            "Pasa el nombre de la función, sin paréntesis.",
        )
        return feedback.result()
    if not is_running_simulator(simulador, feedback):
        return feedback.result()
    _probe_wrong_password(enviar, simulador, feedback)
    _probe_right_password(enviar, simulador, feedback)
    return feedback.result()


def _probe_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = LAB_USER
    message["To"] = LAB_USER
    message["Subject"] = PROBE_SUBJECT
    message.set_content("Mensaje de la comprobación.\n")
    return message


def _settings(simulator: Any, password: str) -> ConnectionSettings:
    return ConnectionSettings(
        simulator.host, simulator.tls_port, "tls", LAB_USER, password
    )


def _probe_wrong_password(
    enviar: Any, simulator: Any, feedback: FeedbackList
) -> None:
    try:
        enviar(_settings(simulator, WRONG_PASSWORD), _probe_message())
    except Exception as error:  # the student's code may let anything escape
        feedback.problem(
            f"Con una contraseña mala, tu función se para con "
            f"{type(error).__name__}.",
            "Envuelve la llamada a send() en try y atrapa "
            "(smtplib.SMTPException, OSError).",
        )
        return
    feedback.good("Con una contraseña mala, tu función no se para.")


def _probe_right_password(
    enviar: Any, simulator: Any, feedback: FeedbackList
) -> None:
    before = len(simulator.inbox)
    try:
        enviar(_settings(simulator, LAB_PASSWORD), _probe_message())
    except Exception as error:  # the student's code may let anything escape
        feedback.problem(
            f"Con la cuenta del laboratorio, tu función lanza {type(error).__name__}.",
            "Comprueba que llamas a send(ajustes, mensaje) con los dos argumentos.",
        )
        return
    if len(simulator.inbox) > before:
        feedback.good("Con la cuenta del laboratorio, el mensaje llega.")
    else:
        feedback.problem(
            "Con la cuenta del laboratorio, no ha llegado ningún mensaje.",
            "Tu función debe llamar a send(ajustes, mensaje) dentro del try.",
        )
