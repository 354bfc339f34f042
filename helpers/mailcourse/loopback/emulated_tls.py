"""Emulated TLS for the in-memory loopback, where real TLS is unavailable (Pyodide).

Pyodide's ``ssl`` module is a stub: contexts exist, but ``wrap_bio`` and
``wrap_socket`` raise ``NotImplementedError``. Without TLS the provider
simulator cannot start in the browser. This module replaces OpenSSL's
``SSLObject`` on both ends of an in-memory connection, and on no other
connection: :func:`client_tls_object` picks it only for a
:class:`~mailcourse.loopback.LoopbackSocket`, and the server side through an
:class:`EmulatedServerContext` the provider simulator builds only on the
in-memory network.

**It does not encrypt.** Both ends run in the same browser tab, so there is
no one in between to hide the bytes from. What it keeps is what a student
observes: records framed like TLS (so a plain client on the TLS port waits
for a greeting and ``SMTP_SSL`` on the STARTTLS port reads a "wrong version
number"), a handshake that succeeds only when the client's context trusts the
CA that issued the server certificate (compared by DER bytes) and the host
name matches it, and the exception classes and messages of CPython 3.11 with
OpenSSL 3.0. The server side runs under asyncio's own ``SSLProtocol``, so
aiosmtpd treats the connection as encrypted and offers AUTH as on a desktop.

It is used when :func:`emulated_tls_in_use` is true: on the in-memory
network, when real TLS is missing or ``MAILCOURSE_TLS=emulated`` is set.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import json
import logging
import os
import ssl
from typing import Any

from . import _ssl_internals

log = logging.getLogger(__name__)

TLS_VARIABLE = "MAILCOURSE_TLS"

# The C source line CPython 3.11 reports in ssl errors, as in the committed
# desktop outputs of the lessons (nbval hides it: it changes with each Python).
SOURCE_LINE = "(_ssl.c:1006)"
# The protocol version and cipher suite that the loopback's real TLS
# negotiates on the desktop (CPython 3.11, OpenSSL 3.0).
PROTOCOL_VERSION = "TLSv1.3"
CIPHER = ("TLS_AES_256_GCM_SHA384", "TLSv1.3", 256)

_HANDSHAKE = 0x16
_ALERT = 0x15
_APPLICATION_DATA = 0x17
_RECORD_VERSION = b"\x03\x03"
_HEADER_SIZE = 5
_MAX_PAYLOAD = 16 * 1024
_CLIENT_HELLO = b"mailcourse emulated TLS: client hello"
_CLIENT_FINISHED = b"mailcourse emulated TLS: finished"
_CLOSE_NOTIFY = b"\x01\x00"
_UNKNOWN_CA_ALERT = b"\x02\x30"
_BAD_CERTIFICATE_ALERT = b"\x02\x2a"

# OpenSSL's X509_V_ERR codes and texts for the failures a student can cause.
_UNABLE_TO_GET_ISSUER = (20, "unable to get local issuer certificate")
_HOSTNAME_MISMATCH = 62
_IP_ADDRESS_MISMATCH = 64


@functools.lru_cache(maxsize=1)
def real_tls_available() -> bool:
    """Return whether this Python's ``ssl`` can run TLS over memory buffers.

    False under Pyodide, whose ``SSLContext.wrap_bio`` raises
    ``NotImplementedError``.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    try:
        context.wrap_bio(ssl.MemoryBIO(), ssl.MemoryBIO(), server_hostname="probe")
    except NotImplementedError:
        return False
    return True


def emulated_tls_in_use() -> bool:
    """Return whether loopback TLS is emulated rather than run by OpenSSL.

    Only ever on the in-memory network. There ``MAILCOURSE_TLS=emulated``
    forces it (for tests in CPython), ``MAILCOURSE_TLS=real`` disables it, and
    otherwise it is used when real TLS is unavailable.
    """
    from .network import in_memory_by_default  # network imports this module

    if not in_memory_by_default():
        return False
    chosen = os.environ.get(TLS_VARIABLE, "").strip().lower()
    if chosen == "emulated":
        return True
    if chosen == "real":
        return False
    return not real_tls_available()


# Errors worded as CPython 3.11 with OpenSSL 3.0 words them.


def _openssl_error(
    error_class: type[ssl.SSLError], number: int, reason: str, text: str
) -> ssl.SSLError:
    error = error_class(number, f"[SSL: {reason}] {text} {SOURCE_LINE}")
    error.library = "SSL"  # type: ignore[misc]
    error.reason = reason  # type: ignore[misc]
    return error


def verification_error(code: int, message: str) -> ssl.SSLCertVerificationError:
    """Return the error OpenSSL reports when the server certificate is rejected."""
    error = _openssl_error(
        ssl.SSLCertVerificationError,
        int(ssl.SSL_ERROR_SSL),
        "CERTIFICATE_VERIFY_FAILED",
        f"certificate verify failed: {message}",
    )
    error.verify_code = code  # type: ignore[attr-defined]
    error.verify_message = message  # type: ignore[attr-defined]
    return error  # type: ignore[return-value]


def wrong_version_error() -> ssl.SSLError:
    """Return the error for bytes that are not a TLS record (a plain greeting)."""
    return _openssl_error(
        ssl.SSLError,
        int(ssl.SSL_ERROR_SSL),
        "WRONG_VERSION_NUMBER",
        "wrong version number",
    )


def _unexpected_eof_error() -> ssl.SSLError:
    return _openssl_error(
        ssl.SSLEOFError,
        int(ssl.SSL_ERROR_EOF),
        "UNEXPECTED_EOF_WHILE_READING",
        "EOF occurred in violation of protocol",
    )


def _unexpected_record_error() -> ssl.SSLError:
    return _openssl_error(
        ssl.SSLError, int(ssl.SSL_ERROR_SSL), "UNEXPECTED_RECORD", "unexpected record"
    )


def _alert_error(alert: bytes) -> ssl.SSLError:
    if alert == _UNKNOWN_CA_ALERT:
        return _openssl_error(
            ssl.SSLError,
            int(ssl.SSL_ERROR_SSL),
            "TLSV1_ALERT_UNKNOWN_CA",
            "tlsv1 alert unknown ca",
        )
    return _openssl_error(
        ssl.SSLError,
        int(ssl.SSL_ERROR_SSL),
        "SSLV3_ALERT_BAD_CERTIFICATE",
        "sslv3 alert bad certificate",
    )


def _want_read_error() -> ssl.SSLWantReadError:
    return ssl.SSLWantReadError(
        int(ssl.SSL_ERROR_WANT_READ),
        f"The operation did not complete (read) {SOURCE_LINE}",
    )


def _zero_return_error() -> ssl.SSLZeroReturnError:
    return ssl.SSLZeroReturnError(
        int(ssl.SSL_ERROR_ZERO_RETURN),
        f"TLS/SSL connection has been closed (EOF) {SOURCE_LINE}",
    )


# The server certificate as the emulated handshake carries it.


class EmulatedCertificate:
    """A server certificate, the CA that issued it, and ``getpeercert()``'s view.

    ``peercert`` is the dictionary a desktop client's ``getpeercert()``
    returns for this certificate, recorded when the certificate was made.
    """

    def __init__(
        self, certificate_der: bytes, issuer_der: bytes, peercert: dict[str, Any]
    ) -> None:
        self.certificate_der = certificate_der
        self.issuer_der = issuer_der
        self.peercert = peercert

    def to_bytes(self) -> bytes:
        return json.dumps(
            {
                "certificate": base64.b64encode(self.certificate_der).decode(),
                "issuer": base64.b64encode(self.issuer_der).decode(),
                "peercert": self.peercert,
            }
        ).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> "EmulatedCertificate":
        fields = json.loads(data)
        return cls(
            base64.b64decode(fields["certificate"]),
            base64.b64decode(fields["issuer"]),
            as_peercert(fields["peercert"]),
        )

    def names(self) -> list[tuple[str, str]]:
        """Return the subjectAltName entries, such as ("DNS", "localhost")."""
        return [tuple(entry) for entry in self.peercert.get("subjectAltName", ())]


def as_peercert(fields: dict[str, Any]) -> dict[str, Any]:
    """Turn the lists JSON gives back into the tuples ``getpeercert()`` returns."""

    def to_tuples(value: Any) -> Any:
        if isinstance(value, list):
            return tuple(to_tuples(item) for item in value)
        return value

    return {key: to_tuples(value) for key, value in fields.items()}


def check_certificate(
    context: ssl.SSLContext,
    certificate: EmulatedCertificate,
    server_hostname: str | None,
) -> None:
    """Check the server certificate as OpenSSL would for ``context``.

    Raises ``ssl.SSLCertVerificationError`` when the context verifies and
    trusts neither the certificate nor its issuer, or when host names are
    checked and ``server_hostname`` is not among the certificate's names.
    """
    if context.verify_mode == ssl.CERT_NONE:
        return
    trusted = set(_ssl_internals.trusted_ca_certificates(context))
    if certificate.issuer_der not in trusted and (
        certificate.certificate_der not in trusted
    ):
        raise verification_error(*_UNABLE_TO_GET_ISSUER)
    if context.check_hostname and server_hostname is not None:
        _check_host_name(certificate, server_hostname)


def _check_host_name(certificate: EmulatedCertificate, server_hostname: str) -> None:
    try:
        address = ipaddress.ip_address(server_hostname)
    except ValueError:
        address = None
    if address is not None:
        addresses = {
            ipaddress.ip_address(value.strip())
            for kind, value in certificate.names()
            if kind == "IP Address"
        }
        if address not in addresses:
            raise verification_error(
                _IP_ADDRESS_MISMATCH,
                f"IP address mismatch, certificate is not valid for "
                f"'{server_hostname}'.",
            )
        return
    names = {value.lower() for kind, value in certificate.names() if kind == "DNS"}
    if server_hostname.lower() not in names:
        raise verification_error(
            _HOSTNAME_MISMATCH,
            f"Hostname mismatch, certificate is not valid for '{server_hostname}'.",
        )


# Records: a TLS-like header (type, version 3.3, length) and a plain payload.


def _record(kind: int, payload: bytes) -> bytes:
    return bytes([kind]) + _RECORD_VERSION + len(payload).to_bytes(2, "big") + payload


class EmulatedTLSObject:
    """One end of an emulated TLS connection, with ``ssl.SSLObject``'s interface.

    It reads records from ``incoming`` and writes them to ``outgoing``
    (``ssl.MemoryBIO`` objects), as an ``SSLObject`` made by ``wrap_bio``
    does. Methods raise ``ssl.SSLWantReadError`` while a record is incomplete,
    ``ssl.SSLCertVerificationError`` (client) when the certificate is
    rejected, ``ssl.SSLError`` for bytes that are not a record, and
    ``ssl.SSLEOFError`` when the peer vanishes mid-handshake.
    """

    def __init__(
        self,
        context: ssl.SSLContext,
        incoming: Any,
        outgoing: Any,
        *,
        server_side: bool,
        server_hostname: str | None,
        certificate: EmulatedCertificate | None = None,
    ) -> None:
        if server_side and certificate is None:
            raise ValueError("certificate is missing: an emulated TLS server needs one")
        if not server_side and context.check_hostname and not server_hostname:
            raise ValueError("check_hostname requires server_hostname")
        self.context = context
        self.server_side = server_side
        self.server_hostname = server_hostname
        self.session = None
        self.session_reused = False
        self._incoming = incoming
        self._outgoing = outgoing
        self._certificate = certificate
        self._peer_certificate: EmulatedCertificate | None = None
        self._hello_sent = False
        self._established = False
        self._closed = False
        self._received = bytearray()
        self._plaintext = bytearray()

    # Handshake

    def do_handshake(self) -> None:
        """Run the handshake; raise ``ssl.SSLWantReadError`` until it completes."""
        if self._established:
            return
        if self.server_side:
            self._server_handshake()
        else:
            self._client_handshake()

    def _client_handshake(self) -> None:
        if not self._hello_sent:
            self._outgoing.write(_record(_HANDSHAKE, _CLIENT_HELLO))
            self._hello_sent = True
        kind, payload = self._next_record()
        if kind == _ALERT:
            raise _alert_error(payload)
        if kind != _HANDSHAKE:
            raise _unexpected_record_error()
        certificate = EmulatedCertificate.from_bytes(payload)
        try:
            check_certificate(self.context, certificate, self.server_hostname)
        except ssl.SSLCertVerificationError as error:
            alert = _UNKNOWN_CA_ALERT
            if error.verify_code != _UNABLE_TO_GET_ISSUER[0]:
                alert = _BAD_CERTIFICATE_ALERT
            self._outgoing.write(_record(_ALERT, alert))
            raise
        self._peer_certificate = certificate
        self._outgoing.write(_record(_HANDSHAKE, _CLIENT_FINISHED))
        self._established = True

    def _server_handshake(self) -> None:
        assert self._certificate is not None
        if not self._hello_sent:
            kind, payload = self._next_record()
            if kind != _HANDSHAKE or payload != _CLIENT_HELLO:
                raise wrong_version_error()
            self._outgoing.write(_record(_HANDSHAKE, self._certificate.to_bytes()))
            self._hello_sent = True
        kind, payload = self._next_record()
        if kind == _ALERT:
            raise _alert_error(payload)
        if kind != _HANDSHAKE or payload != _CLIENT_FINISHED:
            raise _unexpected_record_error()
        self._established = True

    def _next_record(self) -> tuple[int, bytes]:
        """Take one whole record from what has arrived.

        Raises ``ssl.SSLWantReadError`` when it has not fully arrived,
        ``ssl.SSLEOFError`` when the peer closed first, and ``ssl.SSLError``
        (wrong version number) when the bytes are not a record.
        """
        self._received.extend(self._incoming.read())
        received = self._received
        if len(received) >= _HEADER_SIZE:
            if bytes(received[1:2]) != _RECORD_VERSION[:1]:
                raise wrong_version_error()
            size = int.from_bytes(received[3:5], "big")
            if len(received) >= _HEADER_SIZE + size:
                kind = received[0]
                payload = bytes(received[_HEADER_SIZE : _HEADER_SIZE + size])
                del received[: _HEADER_SIZE + size]
                return kind, payload
        if self._incoming.eof:
            raise _unexpected_eof_error()
        raise _want_read_error()

    # Application data

    def write(self, data: bytes | bytearray | memoryview) -> int:
        """Frame ``data`` as application records; returns the bytes taken."""
        if not self._established:
            self.do_handshake()
        view = memoryview(bytes(data))
        for start in range(0, len(view), _MAX_PAYLOAD):
            chunk = bytes(view[start : start + _MAX_PAYLOAD])
            self._outgoing.write(_record(_APPLICATION_DATA, chunk))
        return len(view)

    def read(self, size: int = 1024, buffer: Any = None) -> Any:
        """Return up to ``size`` bytes, or fill ``buffer`` and return the count.

        Raises ``ssl.SSLWantReadError`` when no data has arrived,
        ``ssl.SSLZeroReturnError`` after the peer's close_notify.
        """
        if not self._established:
            self.do_handshake()
        while not self._plaintext:
            if self._closed:
                raise _zero_return_error()
            kind, payload = self._next_record()
            if kind == _APPLICATION_DATA:
                self._plaintext.extend(payload)
            elif kind == _ALERT and payload == _CLOSE_NOTIFY:
                self._closed = True
            elif kind == _ALERT:
                raise _alert_error(payload)
        chunk = bytes(self._plaintext[:size])
        del self._plaintext[:size]
        if buffer is None:
            return chunk
        memoryview(buffer).cast("B")[: len(chunk)] = chunk
        return len(chunk)

    def pending(self) -> int:
        return len(self._plaintext)

    def unwrap(self) -> None:
        """Send close_notify, which ends the TLS session."""
        self._outgoing.write(_record(_ALERT, _CLOSE_NOTIFY))
        self._established = False

    # Connection properties, as ssl.SSLObject reports them

    def getpeercert(self, binary_form: bool = False) -> Any:
        if self.server_side or self._peer_certificate is None:
            return None
        if binary_form:
            return self._peer_certificate.certificate_der
        if self.context.verify_mode == ssl.CERT_NONE:
            return {}
        return dict(self._peer_certificate.peercert)

    def version(self) -> str | None:
        return PROTOCOL_VERSION if self._established else None

    def cipher(self) -> tuple[str, str, int] | None:
        return CIPHER if self._established else None

    def shared_ciphers(self) -> list[tuple[str, str, int]] | None:
        return [CIPHER] if self.server_side and self._established else None

    def compression(self) -> None:
        return None

    def selected_alpn_protocol(self) -> None:
        return None

    def get_channel_binding(self, cb_type: str = "tls-unique") -> None:
        return None

    def get_verified_chain(self) -> list[Any]:
        return []

    def get_unverified_chain(self) -> list[Any]:
        return []


class EmulatedServerContext(ssl.SSLContext):
    """A server context whose ``wrap_bio`` gives :class:`EmulatedTLSObject` ends.

    Made by :func:`emulated_server_context`; used by asyncio's ``SSLProtocol``
    for implicit TLS and by aiosmtpd's STARTTLS, on the in-memory network only.
    """

    emulated_certificate: EmulatedCertificate

    def wrap_bio(  # type: ignore[override]
        self,
        incoming: Any,
        outgoing: Any,
        server_side: bool = False,
        server_hostname: str | None = None,
        session: Any = None,
    ) -> Any:
        if not server_side:
            raise ValueError("an emulated server context serves the server side only")
        return EmulatedTLSObject(
            self,
            incoming,
            outgoing,
            server_side=True,
            server_hostname=None,
            certificate=self.emulated_certificate,
        )

    def wrap_socket(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        raise ValueError(
            "emulated TLS never runs over a real socket: it serves the in-memory "
            "loopback only"
        )


def emulated_server_context(certificate: EmulatedCertificate) -> EmulatedServerContext:
    """Return a server context that presents ``certificate`` in emulated handshakes."""
    context = EmulatedServerContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.emulated_certificate = certificate
    log.info("emulated TLS server context made: in-memory loopback, no encryption")
    return context


def client_tls_object(
    context: ssl.SSLContext, incoming: Any, outgoing: Any, server_hostname: str | None
) -> Any:
    """Return the client end of loopback TLS: emulated, or OpenSSL's ``SSLObject``.

    Raises ``ValueError`` when the context checks host names and
    ``server_hostname`` is missing.
    """
    if emulated_tls_in_use():
        return EmulatedTLSObject(
            context,
            incoming,
            outgoing,
            server_side=False,
            server_hostname=server_hostname,
        )
    return context.wrap_bio(
        incoming, outgoing, server_side=False, server_hostname=server_hostname
    )
