"""Sample messages shared by the tests (importable: tests/ is on pythonpath)."""

from __future__ import annotations

from email.message import EmailMessage


def make_message(
    subject: str = "Informe de año",
    body: str = "Hola, ¿qué tal?\n",
    sender: str = "Ana Pérez <ana@ejemplo.test>",
    to: str = "Luis Núñez <luis@ejemplo.test>",
) -> EmailMessage:
    """Build a small message with accents, as the lessons do."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    return message
