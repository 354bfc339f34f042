"""Shared steps for checks that use a course server or read what it received."""

from __future__ import annotations

from typing import Any

from ..inbox import InboxMessage
from .result import FeedbackList


def newest_message(
    server: Any, feedback: FeedbackList, name: str
) -> InboxMessage | None:
    """Return the newest message ``server`` stored, recording why there is none.

    ``server`` is a ``LocalServer`` or a ``ProviderSimulator``, and ``name`` the
    name of the student's variable for it, used in the messages.
    """
    inbox = getattr(server, "inbox", None)
    if inbox is None:
        feedback.problem(
            "Lo que has pasado no es un servidor del curso.",
            f"Pasa la variable {name}, la del servidor al que has enviado.",
        )
        return None
    if len(inbox) == 0:
        feedback.problem(
            f"{name} aún no ha recibido ningún mensaje.",
            "¿Has llamado a send_message() antes de cerrar la conexión?",
        )
        return None
    return inbox[0]


def is_running_simulator(simulator: Any, feedback: FeedbackList) -> bool:
    """Record a problem and return False unless ``simulator`` is a running simulator."""
    if not hasattr(simulator, "tls_port"):
        feedback.problem(
            "El valor que has pasado no es el simulador de proveedor.",
            "Pasa la variable simulador, la de start_provider_simulator().",
        )
        return False
    if getattr(simulator, "ca_file", None) is None:
        feedback.problem(
            "El simulador no está en marcha.",
            "Ejecuta simulador = start_provider_simulator() y vuelve a comprobar.",
        )
        return False
    return True
