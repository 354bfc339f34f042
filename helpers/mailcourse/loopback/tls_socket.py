"""TLS on the client end of an in-memory connection: ``SMTP_SSL`` and ``starttls()``.

smtplib encrypts with ``context.wrap_socket(sock)``, which needs a real file
descriptor. ``SSLContext.sslsocket_class`` (documented since Python 3.7 as the
type ``wrap_socket`` returns) is set to :class:`LoopbackAwareSSLSocket` while
the in-memory network is in use: for a :class:`LoopbackSocket` it returns a
:class:`MemoryTLSSocket`, which runs the same TLS through
``context.wrap_bio()``; for any other socket it builds the standard
``ssl.SSLSocket`` exactly as before. Where real TLS is unavailable (Pyodide)
or ``MAILCOURSE_TLS=emulated`` is set, the TLS object is the emulated one of
:mod:`mailcourse.loopback.emulated_tls` instead of ``wrap_bio``'s.
"""

from __future__ import annotations

import ssl
from typing import Any

from . import _ssl_internals
from .connection import LoopbackSocket
from .emulated_tls import client_tls_object

_TLS_RECORD_READ_SIZE = 16 * 1024 + 512


class MemoryTLSSocket(LoopbackSocket):
    """A TLS client connection over a :class:`LoopbackSocket`.

    Certificate checks, errors (``ssl.SSLCertVerificationError``,
    ``ssl.SSLError``) and ``getpeercert()`` / ``version()`` / ``cipher()`` come
    from the context's own ``SSLObject``, so they match a real ``SSLSocket``.
    """

    def __init__(
        self,
        raw: LoopbackSocket,
        context: ssl.SSLContext,
        server_hostname: str | None,
        suppress_ragged_eofs: bool = True,
    ) -> None:
        super().__init__(
            raw._connection, raw.getsockname(), raw.getpeername(), raw.gettimeout()
        )
        self._raw = raw
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._suppress_ragged_eofs = suppress_ragged_eofs
        self.context = context
        self.server_hostname = server_hostname
        self._tls = client_tls_object(
            context, self._incoming, self._outgoing, server_hostname
        )

    def do_handshake(self) -> None:
        """Run the TLS handshake; errors are ``ssl.SSLError`` subclasses."""
        self._call_with_io(self._tls.do_handshake)

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        self._check_open()
        view = memoryview(bytes(data))
        while view:
            written = self._call_with_io(self._tls.write, view)
            view = view[written:]

    def recv(self, max_bytes: int, flags: int = 0) -> bytes:
        self._check_open()
        try:
            return self._call_with_io(self._tls.read, max_bytes)
        except ssl.SSLZeroReturnError:
            return b""
        except ssl.SSLEOFError:
            if self._suppress_ragged_eofs:
                return b""
            raise

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._raw.close()

    def getpeercert(self, binary_form: bool = False) -> Any:
        return self._tls.getpeercert(binary_form)

    def cipher(self) -> tuple[str, str, int] | None:
        return self._tls.cipher()

    def version(self) -> str | None:
        return self._tls.version()

    def selected_alpn_protocol(self) -> str | None:
        return self._tls.selected_alpn_protocol()

    def _call_with_io(self, operation: Any, *args: Any) -> Any:
        """Call an ``SSLObject`` method, moving TLS records until it completes."""
        while True:
            try:
                result = operation(*args)
            except ssl.SSLWantReadError:
                self._flush_outgoing()
                self._read_incoming()
                continue
            self._flush_outgoing()
            return result

    def _flush_outgoing(self) -> None:
        pending = self._outgoing.read()
        if pending:
            self._raw.sendall(pending)

    def _read_incoming(self) -> None:
        records = self._raw.recv(_TLS_RECORD_READ_SIZE)
        if records:
            self._incoming.write(records)
        else:
            self._incoming.write_eof()


class LoopbackAwareSSLSocket(ssl.SSLSocket):
    """The ``sslsocket_class`` used while the in-memory network is active."""

    @classmethod
    def _create(cls, sock: Any, **options: Any) -> Any:  # type: ignore[override]
        if not isinstance(sock, LoopbackSocket):
            return ssl.SSLSocket._create(sock, **options)
        if options.get("server_side"):
            raise ValueError("in-memory TLS supports the client side only")
        tls_socket = MemoryTLSSocket(
            sock,
            options["context"],
            options.get("server_hostname"),
            options.get("suppress_ragged_eofs", True),
        )
        if options.get("do_handshake_on_connect", True):
            tls_socket.do_handshake()
        return tls_socket


def install_tls_hook() -> None:
    """Route ``wrap_socket`` of loopback sockets to :class:`MemoryTLSSocket`."""
    ssl.SSLContext.sslsocket_class = LoopbackAwareSSLSocket
    _ssl_internals.install_stub_bridges()


def remove_tls_hook() -> None:
    """Restore the standard ``sslsocket_class``."""
    if ssl.SSLContext.sslsocket_class is LoopbackAwareSSLSocket:
        ssl.SSLContext.sslsocket_class = ssl.SSLSocket
    _ssl_internals.remove_stub_bridges()
