"""Checks for lesson 01: build a message and add a Cc header."""

from __future__ import annotations

from email.message import EmailMessage
from typing import Any

from .result import ExerciseResult, FeedbackList

INVITATION_TO = "clase@ejemplo.test"
INVITATION_SUBJECT = "Cena de fin de curso"


def is_message(answer: Any, feedback: FeedbackList, name: str) -> bool:
    """Record a problem and return False unless ``answer`` is an EmailMessage."""
    if isinstance(answer, EmailMessage):
        return True
    if isinstance(answer, (str, bytes)):
        feedback.problem(
            f"{name} es un texto, no un mensaje.",
            "Crea el mensaje con EmailMessage() y rellénalo; print() solo lo muestra.",
        )
    else:
        feedback.problem(
            f"{name} es de tipo {type(answer).__name__}, no EmailMessage.",
            "Crea el mensaje con EmailMessage(), del módulo email.message.",
        )
    return False


def header_addresses(message: EmailMessage, name: str) -> list[str]:
    """Return the addresses in header ``name``, without display names."""
    header = message[name]
    if header is None:
        return []
    return [address.addr_spec for address in getattr(header, "addresses", ())]


def check_invitation(invitacion: Any) -> ExerciseResult:
    """Check 01-1: headers, a two-line body with accents, quoted-printable."""
    feedback = FeedbackList("01-1")
    if not is_message(invitacion, feedback, "invitacion"):
        return feedback.result()
    _check_invitation_headers(invitacion, feedback)
    _check_invitation_body(invitacion, feedback)
    return feedback.result()


def _check_invitation_headers(invitacion: EmailMessage, feedback: FeedbackList) -> None:
    if header_addresses(invitacion, "From"):
        feedback.good("Tiene remitente (From).")
    else:
        feedback.problem(
            "Falta el remitente.",
            "Asigna la cabecera From con corchetes, como un diccionario.",
        )
    if header_addresses(invitacion, "To") == [INVITATION_TO]:
        feedback.good(f"El destinatario (To) es {INVITATION_TO}.")
    else:
        feedback.problem(
            f"El destinatario (To) debe ser solo {INVITATION_TO}.",
            "Revisa la cabecera To: una sola dirección, sin erratas.",
        )
    subject = " ".join(str(invitacion["Subject"] or "").split())
    if subject == INVITATION_SUBJECT:
        feedback.good("El asunto es el que se pide.")
    elif not subject:
        feedback.problem("Falta el asunto.", "El asunto va en la cabecera Subject.")
    else:
        feedback.problem(
            f"El asunto es «{subject}».",
            f"El ejercicio pide exactamente «{INVITATION_SUBJECT}».",
        )


def _line_count(count: int) -> str:
    return f"{count} línea" if count == 1 else f"{count} líneas"


def _check_invitation_body(invitacion: EmailMessage, feedback: FeedbackList) -> None:
    if invitacion.get_content_type() != "text/plain" or invitacion.is_multipart():
        feedback.problem(
            "El cuerpo no es un texto simple (text/plain).",
            "Pon el cuerpo con set_content() y un str.",
        )
        return
    body = invitacion.get_content()
    lines = [line for line in body.splitlines() if line.strip()]
    if len(lines) == 2:
        feedback.good("El cuerpo tiene dos líneas.")
    else:
        feedback.problem(
            f"El cuerpo tiene {_line_count(len(lines))} con texto, y se piden dos.",
            "Separa las líneas con \\n dentro del texto.",
        )
    if any(not character.isascii() for character in body):
        feedback.good("El cuerpo lleva alguna letra con tilde.")
    else:
        feedback.problem(
            "El cuerpo no lleva ninguna tilde ni ñ.",
            "Escribe alguna palabra con tilde para ver cómo se codifica.",
        )
    encoding = str(invitacion.get("Content-Transfer-Encoding", "")).lower()
    if encoding == "quoted-printable":
        feedback.good("El cuerpo va en quoted-printable, casi legible.")
    else:
        feedback.problem(
            f"El cuerpo va codificado como «{encoding or 'sin codificar'}».",
            "set_content() acepta el argumento cte para elegir la codificación.",
        )


def check_copy_header(invitacion: Any) -> ExerciseResult:
    """Check 01-2: a Cc header with two addresses separated by a comma."""
    feedback = FeedbackList("01-2")
    if not is_message(invitacion, feedback, "invitacion"):
        return feedback.result()
    values = invitacion.get_all("Cc") or []
    if not values:
        feedback.problem(
            "invitacion no tiene cabecera Cc.",
            "Asígnala con corchetes, igual que To.",
        )
        return feedback.result()
    if len(values) > 1:
        feedback.problem(
            f"invitacion tiene {len(values)} cabeceras Cc.",
            "Deja una sola: bórrala con del si ya existe antes de asignarla.",
        )
        return feedback.result()
    addresses = header_addresses(invitacion, "Cc")
    if ";" in _raw_header_text(invitacion, values[0]):
        feedback.problem(
            "Las direcciones de Cc están separadas con punto y coma.",
            "En una cabecera de correo las direcciones se separan con comas.",
        )
    elif getattr(values[0], "defects", ()):
        feedback.problem(
            "Cc contiene algo que no es una dirección válida.",
            "Escribe direcciones completas (con @) separadas por una coma.",
        )
    elif len(addresses) != 2:
        feedback.problem(
            f"Se piden dos direcciones en Cc, y hay {len(addresses)}.",
            "Escribe dos direcciones completas (con @) separadas por una coma.",
        )
    else:
        feedback.good("Cc contiene dos direcciones, separadas por una coma.")
    return feedback.result()


def _raw_header_text(message: EmailMessage, header: Any) -> str:
    """Return the header as written, because parsing drops invalid parts."""
    if hasattr(header, "fold"):
        return header.fold(policy=message.policy)
    return str(header)
