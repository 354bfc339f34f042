"""The message every load test sends: about 2 KB, like a lesson's exercise.

It has an accented subject (RFC 2047 encoded), a short Spanish body and a small
binary attachment, so the server receives the same MIME structure as in the
lessons.
"""

from __future__ import annotations

from email.message import EmailMessage

SENDER = "alumno@curso.test"
RECIPIENT = "luis@ejemplo.test"
ATTACHMENT_SIZE = 600

BODY = (
    "Hola, Luis:\n\n"
    "Te envío el informe del año con las cifras de cada trimestre. "
    "Revisa la tabla de gastos, porque la partida de envíos subió un 12 %, "
    "y dime si ves algún error antes del viernes.\n\n"
) * 3 + "Un saludo,\nAna\n"


def build_message(sender: str = SENDER, recipient: str = RECIPIENT) -> EmailMessage:
    """Build the benchmark message with an accented subject and an attachment."""
    message = EmailMessage()
    message["From"] = f"Ana Pérez <{sender}>"
    message["To"] = f"Luis Núñez <{recipient}>"
    message["Subject"] = "Informe del año: cifras del último trimestre"
    message.set_content(BODY)
    attachment = bytes(index % 256 for index in range(ATTACHMENT_SIZE))
    message.add_attachment(
        attachment, maintype="image", subtype="png", filename="gráfico.png"
    )
    return message


def message_bytes(sender: str = SENDER, recipient: str = RECIPIENT) -> bytes:
    """Return the benchmark message serialized once, as ``send_message`` would.

    ``send_message`` flattens with CRLF line endings; ``sendmail`` sends bytes
    unchanged, so the CRLF policy is applied here.
    """
    message = build_message(sender, recipient)
    return message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
