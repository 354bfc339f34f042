"""Rules for failures while sending: sender, recipients, size and encoding."""

from __future__ import annotations

import smtplib
from collections.abc import Mapping

from . import kinds
from .authentication import auth_required, starttls_required
from .model import Context, Diagnosis, error_summary, reply_text, smtplib_functions

RefusedRecipients = Mapping[str, tuple[int, bytes | str]]

# smtplib functions that send the envelope addresses.
_ADDRESS_FUNCTIONS = {"mail", "rcpt"}


def recipient_hint(code: int, reply: str) -> str:
    """Return a short Spanish hint for one refused recipient's reply."""
    lowered = reply.lower()
    if "relay" in lowered or (code in (550, 554) and "5.7.1" in reply):
        return "el servidor no reenvía correo a otros dominios sin iniciar sesión"
    if code == 452 or "too many" in lowered:
        return "demasiados destinatarios en un mensaje; envíalo en varias tandas"
    if 400 <= code < 500:
        return "error temporal; vuelve a intentarlo más tarde"
    if code in (501, 553) or "syntax" in lowered:
        return "la dirección está mal escrita"
    return "el buzón no existe o no acepta correo; revisa la dirección"


def _recipient_lines(refused: RefusedRecipients, context: Context) -> str:
    entries = []
    for address, (code, response) in refused.items():
        reply = reply_text(response)
        entries.append(f"{address} ({code} {reply}: {recipient_hint(code, reply)})")
    return context.clean("; ".join(entries))


def diagnose_refused(
    refused: RefusedRecipients,
    *,
    host: str | None = None,
    port: int | None = None,
    security: str | None = None,
) -> Diagnosis:
    """Explain the dict ``send_message()`` / ``sendmail()`` return.

    The dict maps each refused address to ``(code, reply)``; an empty dict
    means every recipient was accepted.
    """
    context = Context(host=host, port=port, security=security)
    return refused_recipients(refused, context)


def refused_recipients(refused: RefusedRecipients, context: Context) -> Diagnosis:
    """Build the diagnosis for a ``send_message()`` result dict."""
    if not refused:
        return Diagnosis(
            kind=kinds.ALL_RECIPIENTS_ACCEPTED,
            title="Todos los destinatarios aceptados",
            cause=(
                "send_message() ha devuelto un diccionario vacío: el servidor "
                "ha aceptado el mensaje para todas las direcciones."
            ),
            fix="Nada que arreglar.",
        )
    count = len(refused)
    some = "una dirección" if count == 1 else f"{count} direcciones"
    return Diagnosis(
        kind=kinds.SOME_RECIPIENTS_REFUSED,
        title=f"El servidor ha rechazado {some}",
        cause=(
            "El mensaje se ha enviado a los demás destinatarios, pero no a "
            f"estos: {_recipient_lines(refused, context)}. send_message() no "
            "lanza una excepción en este caso: lo dice el diccionario que "
            "devuelve."
        ),
        fix=(
            "Corrige esas direcciones y envía el mensaje solo a ellas; los "
            "demás ya lo tienen. Revisa siempre el diccionario que devuelve "
            "send_message()."
        ),
        details=context.clean(repr(dict(refused))),
    )


def diagnose_recipients_refused(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, smtplib.SMTPRecipientsRefused):
        return None
    if not error.recipients:
        return _no_recipients(error, context)
    lines = _recipient_lines(error.recipients, context)
    codes = {code for code, _ in error.recipients.values()}
    if codes == {530}:
        return auth_required(lines, context)
    return Diagnosis(
        kind=kinds.ALL_RECIPIENTS_REFUSED,
        title="El servidor ha rechazado todos los destinatarios",
        cause=(
            "No se ha enviado nada: el servidor no ha aceptado ninguna de las "
            f"direcciones: {lines}."
        ),
        fix=(
            "Revisa las direcciones de To, Cc y Bcc: que estén bien escritas "
            "y existan. Si el motivo es que el servidor no reenvía correo, "
            "inicia sesión con login() antes de enviar."
        ),
        details=context.clean(repr(error.recipients)),
    )


def _no_recipients(error: BaseException, context: Context) -> Diagnosis:
    # sendmail() raises SMTPRecipientsRefused({}) when it has no address to
    # send RCPT TO for, because zero refused out of zero counts as all refused.
    return Diagnosis(
        kind=kinds.NO_RECIPIENTS,
        title="El mensaje no tiene destinatarios",
        cause=(
            "send_message() toma los destinatarios de las cabeceras To, Cc y "
            "Bcc, y el mensaje no tiene ninguna, así que no hay a quién "
            "enviarlo. El servidor no ha rechazado nada: no ha llegado a "
            "recibir ninguna dirección."
        ),
        fix=(
            "Añade al menos un destinatario antes de enviar, por ejemplo "
            "mensaje['To'] = 'ana@ejemplo.test' (o Cc, o Bcc). Con sendmail(), "
            "pasa la lista de direcciones como segundo argumento."
        ),
        details=error_summary(error, context),
    )


def diagnose_sender_refused(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, smtplib.SMTPSenderRefused):
        return None
    code = error.smtp_code
    reply = reply_text(error.smtp_error)
    details = context.clean(f"{code} {reply} (remitente {error.sender})")
    if code == 530:
        if "starttls" in reply.lower():
            return starttls_required(details, context)
        return auth_required(details, context)
    if code == 552:
        return message_too_large(details, context, at_mail_from=True)
    return Diagnosis(
        kind=kinds.SENDER_REFUSED,
        title=f"El servidor ha rechazado el remitente {error.sender}",
        cause=(
            f"El servidor ha respondido {code} al remitente (MAIL FROM). Los "
            "proveedores solo dejan enviar desde la dirección de la cuenta "
            "con la que has iniciado sesión, o desde sus alias."
        ),
        fix=(
            "Pon en From la misma dirección que usas en login(). Si la "
            "dirección está mal escrita (falta la @ o el dominio), corrígela."
        ),
        details=details,
    )


def message_too_large(
    details: str, context: Context, *, at_mail_from: bool
) -> Diagnosis:
    """Build the diagnosis for a 552 reply about the message size."""
    when = (
        "antes de recibirlo, al ver el tamaño anunciado (SIZE)"
        if at_mail_from
        else "al terminar de recibirlo"
    )
    return Diagnosis(
        kind=kinds.MESSAGE_TOO_LARGE,
        title="El mensaje es demasiado grande",
        cause=(
            f"{context.subject} ha rechazado el mensaje {when} con el código "
            "552: supera el tamaño máximo que admite. Los adjuntos ocupan un "
            "tercio más al codificarse en base64."
        ),
        fix=(
            "Quita o comprime los adjuntos grandes, o comparte el archivo con "
            "un enlace. El límite del servidor aparece en su respuesta a EHLO: "
            "conexion.esmtp_features.get('size') (en bytes)."
        ),
        details=details,
    )


def diagnose_data_refused(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, smtplib.SMTPDataError):
        return None
    code = error.smtp_code
    reply = reply_text(error.smtp_error)
    details = context.clean(f"{code} {reply}")
    if code == 552 or "size" in reply.lower():
        return message_too_large(details, context, at_mail_from=False)
    return Diagnosis(
        kind=kinds.DATA_REFUSED,
        title="El servidor ha rechazado el contenido del mensaje",
        cause=(
            f"El servidor ha aceptado remitente y destinatarios, pero ha "
            f"respondido {code} al recibir el mensaje. Suele ser un filtro de "
            "correo no deseado o un mensaje mal formado."
        ),
        fix=(
            "Lee la respuesta del servidor en el detalle. Construye el mensaje "
            "con EmailMessage, con asunto y texto, y envíalo con send_message()."
        ),
        details=details,
    )


def diagnose_smtputf8(error: BaseException, context: Context) -> Diagnosis | None:
    if isinstance(error, smtplib.SMTPNotSupportedError):
        if "SMTPUTF8" not in str(error) and "internationalized" not in str(error):
            return None
        details = error_summary(error, context)
        missing = "este servidor no la anuncia"
    elif isinstance(error, UnicodeEncodeError):
        if not _ADDRESS_FUNCTIONS.intersection(smtplib_functions(error)):
            return None
        details = f"{type(error).__name__} al enviar una orden al servidor"
        missing = "sendmail() no la ha pedido, así que smtplib usa ASCII"
    else:
        return None
    return Diagnosis(
        kind=kinds.SMTPUTF8_REQUIRED,
        title="Una dirección lleva letras fuera del ASCII",
        cause=(
            "El remitente o algún destinatario tiene letras como ñ o á en la "
            "dirección. Para enviarlas hace falta la extensión SMTPUTF8, y "
            f"{missing}."
        ),
        fix=(
            "Usa una dirección solo con letras ASCII si la persona tiene una. "
            "Si el servidor anuncia SMTPUTF8, send_message() la usa sola; con "
            "sendmail() pasa mail_options=['SMTPUTF8']. Compruébalo con "
            "conexion.has_extn('smtputf8')."
        ),
        details=details,
    )


def diagnose_message_not_ascii(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, UnicodeEncodeError):
        return None
    # sendmail() encodes a str message itself, so it is the innermost frame.
    functions = smtplib_functions(error)
    if not functions or functions[-1] != "sendmail":
        return None
    return Diagnosis(
        kind=kinds.MESSAGE_NOT_ASCII,
        title="El texto del mensaje lleva letras fuera del ASCII",
        cause=(
            "sendmail() con un texto (str) lo convierte a ASCII, y el mensaje "
            "tiene letras como ñ o á. El fallo ocurre en tu ordenador, antes "
            "de enviar."
        ),
        fix=(
            "Construye el mensaje con EmailMessage y envíalo con "
            "send_message(), que codifica los acentos como debe."
        ),
        details=f"{type(error).__name__} en sendmail()",
    )


def diagnose_response(error: BaseException, context: Context) -> Diagnosis | None:
    """Explain any other SMTP reply by its code class."""
    if not isinstance(error, smtplib.SMTPResponseException):
        return None
    code = error.smtp_code
    reply = reply_text(error.smtp_error)
    details = context.clean(f"{type(error).__name__}: {code} {reply}")
    if code == 530:
        if "starttls" in reply.lower():
            return starttls_required(details, context)
        return auth_required(details, context)
    if code == 552:
        return message_too_large(details, context, at_mail_from=False)
    if 400 <= code < 500:
        nature = (
            "Los códigos 4xx son errores temporales: la misma orden puede "
            "funcionar más tarde."
        )
        fix = "Espera unos minutos y vuelve a intentarlo."
    else:
        nature = (
            "Los códigos 5xx son errores permanentes: repetir lo mismo dará el "
            "mismo resultado."
        )
        fix = "Lee la respuesta del servidor en el detalle y corrige la orden."
    return Diagnosis(
        kind=kinds.SERVER_REPLY,
        title=f"El servidor ha respondido {code}",
        cause=f"{context.subject} ha contestado con el código {code}. {nature}",
        fix=fix,
        details=details,
    )


RULES = (
    diagnose_recipients_refused,
    diagnose_sender_refused,
    diagnose_data_refused,
    diagnose_smtputf8,
    diagnose_message_not_ascii,
)
