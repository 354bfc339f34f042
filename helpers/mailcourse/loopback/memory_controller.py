"""aiosmtpd's ``SMTP`` protocol served on the in-memory loopback instead of a socket."""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

from aiosmtpd.smtp import SMTP

from .network import LOOPBACK_HOST, NETWORK, Listener

log = logging.getLogger(__name__)


class MemoryController:
    """Serve ``aiosmtpd.smtp.SMTP(handler, **smtp_parameters)`` at an in-memory address.

    A stand-in for aiosmtpd's ``Controller`` with the same keyword arguments
    and the same ``start()``, ``stop()``, ``hostname`` and ``port``. Each
    connection gets a new ``SMTP`` instance on the loopback's private event
    loop, so the handler, authenticator and every SMTP setting act as over TCP.
    With
    ``ssl_context`` the connection is TLS from the first byte (implicit TLS).
    """

    def __init__(
        self,
        handler: Any,
        *,
        hostname: str = LOOPBACK_HOST,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        server_hostname: str | None = None,
        **smtp_parameters: Any,
    ) -> None:
        self.handler = handler
        self.hostname = hostname
        self.port = port
        self.ssl_context = ssl_context
        # The same translation aiosmtpd's Controller (1.4) applies to its kwargs.
        self.smtp_parameters = dict(smtp_parameters)
        if server_hostname:
            self.smtp_parameters["hostname"] = server_hostname
        self.smtp_parameters.setdefault("enable_SMTPUTF8", True)
        self._listener: Listener | None = None

    @classmethod
    def from_smtp_kwargs(
        cls,
        smtp_kwargs: dict[str, Any],
        *,
        hostname: str = LOOPBACK_HOST,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> "MemoryController":
        """Build a controller from the keyword arguments of aiosmtpd's ``SMTP`` class.

        As with the socket controller, ``hostname`` is the address to listen on
        and ``smtp_kwargs["hostname"]`` the name in the greeting.
        """
        parameters = dict(smtp_kwargs)
        handler = parameters.pop("handler")
        greeting_name = parameters.pop("hostname", None)
        return cls(
            handler,
            hostname=hostname,
            port=port,
            ssl_context=ssl_context,
            server_hostname=greeting_name,
            **parameters,
        )

    def start(self) -> None:
        """Register the listener; raises ``OSError`` when the port is taken."""
        if self._listener is not None:
            return
        self._listener = NETWORK.listen(self.port, self._make_protocol, self.hostname)
        self.port = self._listener.port

    def stop(self) -> None:
        """Close open connections and unregister the listener."""
        if self._listener is None:
            return
        self._listener.close()
        self._listener = None

    def _make_protocol(self, loop: asyncio.AbstractEventLoop) -> asyncio.BaseProtocol:
        smtp = SMTP(self.handler, loop=loop, **self.smtp_parameters)
        if self.ssl_context is None:
            return smtp
        # The same wrapping loop.create_server(ssl=...) applies to each connection.
        from asyncio import sslproto

        return sslproto.SSLProtocol(
            loop, smtp, self.ssl_context, None, server_side=True
        )
