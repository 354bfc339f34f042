"""Client-side helpers the notebooks and forms use: connect, log in, send.

They are thin layers over ``smtplib`` that always set a timeout and always
verify certificates. ``connect`` trusts the system's CAs and, for the address
of a running provider simulator, that simulator's test CA as well.
``login`` also sends passwords that are not ASCII, which ``smtplib.SMTP.login``
cannot do on Python 3.11 (it encodes the AUTH payload as ASCII).
"""

from __future__ import annotations

import base64
import contextlib
import io
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from email.message import EmailMessage, Message
from email.utils import getaddresses
from typing import Literal, Protocol

from .transcript import redact

log = logging.getLogger(__name__)

Security = Literal["starttls", "tls", "none"]
SECURITY_MODES: tuple[Security, ...] = ("starttls", "tls", "none")
DEFAULT_TIMEOUT = 10.0

# The EHLO name. smtplib's default is socket.getfqdn(), which differs between
# machines (so transcripts would too) and can take seconds to resolve.
CLIENT_HOSTNAME = "localhost"

# smtplib's order of preference without CRAM-MD5, whose smtplib code also
# encodes the password as ASCII.
_UTF8_MECHANISMS = ("PLAIN", "LOGIN")


class ConnectionSettingsLike(Protocol):
    """Connection settings as :func:`send` reads them (a ``ConnectionSettings``)."""

    host: str
    port: int
    security: str
    user: str | None
    password: str | None
    timeout: float


@dataclass(frozen=True)
class SendResult:
    """The outcome of :func:`send`.

    ``accepted`` and ``refused`` are envelope recipients. ``refused`` maps each
    refused address to the server's ``(code, message)``, as
    ``smtplib.SMTP.send_message`` returns it. ``transcript`` is the SMTP
    dialogue at debug level 1 with AUTH payloads hidden.
    """

    accepted: list[str]
    refused: dict[str, tuple[int, bytes]]
    transcript: str = field(repr=False)


def connect(
    host: str,
    port: int,
    *,
    security: Security = "starttls",
    timeout: float = DEFAULT_TIMEOUT,
    context: ssl.SSLContext | None = None,
    debuglevel: int = 0,
    local_hostname: str = CLIENT_HOSTNAME,
) -> smtplib.SMTP:
    """Open an SMTP connection: ``"tls"`` (SMTP_SSL), ``"starttls"`` or ``"none"``.

    With ``"starttls"`` the connection is upgraded before it is returned
    (EHLO, STARTTLS, EHLO again). ``context`` must verify certificates and host
    names; by default it is :func:`default_context` for ``host`` and ``port``.
    ``debuglevel`` is set before connecting, so the greeting is in the
    transcript. ``local_hostname`` is the name sent with EHLO.

    Raises ``ValueError`` for an invalid ``security``, a missing timeout or an
    unverified context. Raises ``ssl.SSLCertVerificationError`` when the
    certificate is not trusted or does not name ``host``. Also raises, as
    smtplib does, ``smtplib.SMTPConnectError``,
    ``smtplib.SMTPServerDisconnected``, ``smtplib.SMTPNotSupportedError`` (no
    STARTTLS offered), ``smtplib.SMTPResponseException`` and ``OSError``
    (connection refused, timed out, unknown host).
    """
    _check_security(security)
    _check_timeout(timeout)
    if security != "none":
        if context is None:
            context = default_context(host, port)
        _check_verifying(context)

    if security == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            local_hostname=local_hostname, timeout=timeout, context=context
        )
    else:
        client = smtplib.SMTP(local_hostname=local_hostname, timeout=timeout)
    client.set_debuglevel(debuglevel)
    _open(client, host, port)
    if security == "starttls":
        _upgrade_to_tls(client, context)
    return client


def _open(client: smtplib.SMTP, host: str, port: int) -> None:
    # smtplib.SMTP.__init__ stores the host that SMTP_SSL and starttls() send
    # as the TLS server name (SNI and the host name check), but connect() does
    # not, so set it here as __init__ would.
    client._host = host  # type: ignore[attr-defined]
    try:
        code, message = client.connect(host, port)
    except BaseException:
        client.close()
        raise
    if code != 220:
        client.close()
        raise smtplib.SMTPConnectError(code, message)


def _upgrade_to_tls(client: smtplib.SMTP, context: ssl.SSLContext | None) -> None:
    try:
        client.ehlo()
        client.starttls(context=context)
        client.ehlo()
    except BaseException:
        client.close()
        raise


def default_context(host: str, port: int) -> ssl.SSLContext:
    """Return a verifying context: the system's CAs, plus a simulator's test CA.

    The test CA is added only when ``host`` and ``port`` are those of a
    running provider simulator, so it is never trusted for any other server.
    """
    context = ssl.create_default_context()
    ca_file = _simulator_ca_file(host, port)
    if ca_file is not None:
        context.load_verify_locations(cafile=ca_file)
    return context


def _simulator_ca_file(host: str, port: int) -> str | None:
    # Imported here so that importing the client does not import the server.
    from .provider import find_simulator

    simulator = find_simulator(host, port)
    if simulator is None or simulator.ca_file is None:
        return None
    return str(simulator.ca_file)


def _check_security(security: str) -> None:
    if security not in SECURITY_MODES:
        raise ValueError(
            f"La seguridad {security!r} no es válida. Usa 'starttls', 'tls' o 'none'."
        )


def _check_timeout(timeout: float | None) -> None:
    if timeout is None or not timeout > 0:
        raise ValueError(
            f"El tiempo de espera debe ser un número de segundos mayor que cero, "
            f"y es {timeout!r}. Sin él, un servidor que no responde deja la celda "
            "colgada; prueba con 10."
        )


def _check_verifying(context: ssl.SSLContext) -> None:
    if context.verify_mode != ssl.CERT_REQUIRED or not context.check_hostname:
        raise ValueError(
            "Este contexto SSL no comprueba el certificado del servidor, así que "
            "cualquiera podría hacerse pasar por él. Usa "
            "ssl.create_default_context(), o client_context() del simulador."
        )


def login(client: smtplib.SMTP, user: str, password: str) -> tuple[int, bytes]:
    """Log in like ``client.login``, also when the user or password is not ASCII.

    ASCII credentials go through ``client.login`` unchanged. Otherwise the
    AUTH PLAIN or LOGIN payload is encoded as UTF-8 (RFC 4616) and sent with
    ``client.docmd``, without modifying smtplib. Returns the server's
    ``(code, message)``.

    Raises ``smtplib.SMTPAuthenticationError`` when the server rejects the
    credentials, ``smtplib.SMTPNotSupportedError`` when it offers no AUTH,
    ``smtplib.SMTPException`` when it offers neither PLAIN nor LOGIN (for
    non-ASCII credentials), ``smtplib.SMTPHeloError`` and
    ``smtplib.SMTPServerDisconnected``.
    """
    if user.isascii() and password.isascii():
        return client.login(user, password)

    client.ehlo_or_helo_if_needed()
    if not client.has_extn("auth"):
        raise smtplib.SMTPNotSupportedError(
            "SMTP AUTH extension not supported by server."
        )
    advertised = client.esmtp_features["auth"].upper().split()
    mechanisms = [name for name in _UTF8_MECHANISMS if name in advertised]
    if not mechanisms:
        raise smtplib.SMTPException(
            "No suitable authentication method found for a UTF-8 password."
        )
    # Like smtplib.login, try the next mechanism when one is rejected, because
    # some servers advertise mechanisms they do not support.
    last_error: smtplib.SMTPAuthenticationError | None = None
    for mechanism in mechanisms:
        try:
            return _authenticate_utf8(client, mechanism, user, password)
        except smtplib.SMTPAuthenticationError as error:
            last_error = error
    assert last_error is not None
    raise last_error


def _b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8")).decode("ascii")


def _authenticate_utf8(
    client: smtplib.SMTP, mechanism: str, user: str, password: str
) -> tuple[int, bytes]:
    if mechanism == "PLAIN":
        code, message = client.docmd("AUTH", "PLAIN " + _b64(f"\0{user}\0{password}"))
    else:
        code, message = client.docmd("AUTH", "LOGIN " + _b64(user))
        if code == 334:
            code, message = client.docmd(_b64(password))
    if code in (235, 503):
        return code, message
    raise smtplib.SMTPAuthenticationError(code, message)


def envelope_recipients(message: Message) -> list[str]:
    """Return the addresses ``send_message`` would use: To, Cc and Bcc.

    Like smtplib, the Resent-To/Cc/Bcc fields are used instead when the
    message has exactly one Resent- block. Raises ``ValueError`` for several.
    """
    resent_dates = message.get_all("Resent-Date") or []
    if len(resent_dates) > 1:
        raise ValueError(
            "El mensaje tiene más de un bloque de cabeceras Resent-. Deja solo "
            "el del último reenvío."
        )
    prefix = "Resent-" if resent_dates else ""
    fields: list[str] = []
    for name in ("To", "Bcc", "Cc"):
        fields.extend(str(value) for value in message.get_all(prefix + name, []))
    return [address for _, address in getaddresses(fields)]


def send(settings: ConnectionSettingsLike, message: EmailMessage) -> SendResult:
    """Connect, log in when ``settings.user`` is set, send ``message`` and quit.

    A partly refused message is a success with ``refused`` filled in. Raises
    what :func:`connect` and :func:`login` raise, and from
    ``send_message``: ``smtplib.SMTPRecipientsRefused`` (every recipient
    refused), ``smtplib.SMTPSenderRefused`` (for example 530 without login,
    or 552 above the size limit), ``smtplib.SMTPDataError`` and
    ``smtplib.SMTPNotSupportedError``. The raised error carries the redacted
    transcript so far in its ``transcript`` attribute. Raises ``ValueError``,
    before connecting, when the message has no recipient.
    """
    recipients = envelope_recipients(message)
    if not recipients:
        raise ValueError(
            "El mensaje no tiene destinatarios: añade al menos una dirección "
            "en To, Cc o Bcc."
        )
    # smtplib prints its debug output to sys.stderr.
    # NOTE: redirect_stderr swaps sys.stderr for the whole process while
    # sending, so output of another thread in that time lands in the transcript.
    capture = io.StringIO()
    with contextlib.redirect_stderr(capture):
        try:
            refused = _send_once(settings, message, recipients)
        except Exception as error:
            transcript = _redacted(capture.getvalue(), settings)
            error.transcript = transcript  # type: ignore[attr-defined]
            raise
    accepted = [address for address in recipients if address not in refused]
    log.info(
        "sent message to %s:%d: %d accepted, %d refused",
        settings.host,
        settings.port,
        len(accepted),
        len(refused),
    )
    return SendResult(accepted, refused, _redacted(capture.getvalue(), settings))


def _send_once(
    settings: ConnectionSettingsLike, message: EmailMessage, recipients: list[str]
) -> dict[str, tuple[int, bytes]]:
    client = connect(
        settings.host,
        settings.port,
        security=settings.security,  # type: ignore[arg-type]
        timeout=settings.timeout,
        debuglevel=1,
    )
    try:
        if settings.user:
            login(client, settings.user, settings.password or "")
        refused = client.send_message(message, to_addrs=recipients)
        _quit_after_delivery(client, settings)
    finally:
        client.close()
    return refused


def _quit_after_delivery(
    client: smtplib.SMTP, settings: ConnectionSettingsLike
) -> None:
    # The server has already replied 250 to the message, so it is delivered.
    # A failed QUIT must not turn that into an error, because a retry would
    # then send the message twice.
    try:
        client.quit()
    except (smtplib.SMTPException, OSError) as error:
        log.warning(
            "QUIT to %s:%d failed after the message was accepted: %s",
            settings.host,
            settings.port,
            error,
        )


def _redacted(text: str, settings: ConnectionSettingsLike) -> str:
    # redact() hides AUTH payloads. The password is passed too, so that it is
    # also hidden anywhere else it shows up, in plain or base64 form.
    return redact(text, secrets=(settings.password,))
