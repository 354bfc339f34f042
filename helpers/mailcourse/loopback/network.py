"""The in-memory loopback network: listeners by address, and smtplib's view of sockets.

While a listener is registered (and always under Pyodide), ``smtplib`` sees a
``socket`` module whose ``create_connection`` reaches those listeners. The real
``socket`` module and every other user of it are left untouched.
"""

from __future__ import annotations

import asyncio
import errno
import itertools
import logging
import os
import smtplib
import socket
import sys
import types
from collections.abc import Callable
from typing import Any

from ._asyncio_internals import SteppedEventLoop, check_python_version
from .connection import Address, LoopbackSocket, MemoryConnection
from .tls_socket import install_tls_hook, remove_tls_hook

log = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"
# Names that resolve to LOOPBACK_HOST, as "localhost" does through the resolver.
_LOOPBACK_NAMES = {LOOPBACK_HOST, "localhost", "localhost."}
# The same range Linux hands out for port 0 (net.ipv4.ip_local_port_range).
_EPHEMERAL_PORTS = range(32768, 61000)

TRANSPORT_VARIABLE = "MAILCOURSE_TRANSPORT"
ProtocolFactory = Callable[[asyncio.AbstractEventLoop], asyncio.BaseProtocol]


def in_memory_by_default() -> bool:
    """Return whether servers should use the in-memory loopback.

    True under Pyodide (``sys.platform == "emscripten"``), which has no TCP
    sockets; elsewhere only when ``MAILCOURSE_TRANSPORT=memory`` is set.
    """
    chosen = os.environ.get(TRANSPORT_VARIABLE, "").strip().lower()
    if chosen == "memory":
        return True
    if chosen == "socket":
        return False
    return sys.platform == "emscripten"


class Listener:
    """A protocol factory registered at a loopback address, like a listening socket."""

    def __init__(
        self, network: "LoopbackNetwork", address: Address, factory: ProtocolFactory
    ):
        self.network = network
        self.address = address
        self.factory = factory
        self.connections: list[MemoryConnection] = []

    @property
    def port(self) -> int:
        return self.address[1]

    def close(self) -> None:
        """Stop accepting connections and close the open ones from the server side."""
        for connection in self.connections:
            connection.transport.close()
        self.connections.clear()
        self.network.unregister(self)


class LoopbackNetwork:
    """The registry of in-memory listeners and the event loop they share."""

    def __init__(self) -> None:
        self.listeners: dict[Address, Listener] = {}
        self.loop: SteppedEventLoop | None = None
        self._client_ports = itertools.cycle(_EPHEMERAL_PORTS)
        self._server_ports = itertools.cycle(_EPHEMERAL_PORTS)
        # Pyodide has no TCP sockets; in CPython, addresses with no in-memory
        # listener (a classroom server, a real provider) stay reachable.
        self.reach_real_network = sys.platform != "emscripten"

    def listen(
        self, port: int, factory: ProtocolFactory, host: str = LOOPBACK_HOST
    ) -> Listener:
        """Register ``factory`` at ``host:port``; port 0 picks a free port.

        Raises ``OSError(EADDRINUSE)`` when the port is taken,
        ``OSError(EADDRNOTAVAIL)`` for a host other than 127.0.0.1, and
        :class:`LoopbackUnsupportedError` on a Python version never tested.
        """
        check_python_version()
        if host not in _LOOPBACK_NAMES:
            raise OSError(errno.EADDRNOTAVAIL, os.strerror(errno.EADDRNOTAVAIL))
        port = port or self._free_port()
        address = (LOOPBACK_HOST, port)
        if address in self.listeners:
            raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))
        if self.loop is None:
            self.loop = SteppedEventLoop()
        listener = Listener(self, address, factory)
        self.listeners[address] = listener
        _install_smtplib_view()
        log.info("in-memory listener registered at %s:%d", *address)
        return listener

    def unregister(self, listener: Listener) -> None:
        if self.listeners.get(listener.address) is not listener:
            return
        del self.listeners[listener.address]
        log.info("in-memory listener closed at %s:%d", *listener.address)
        if self.listeners:
            return
        if self.loop is not None:
            self.loop.run_until_idle()
            self.loop.close()
            self.loop = None
        if sys.platform != "emscripten":
            _remove_smtplib_view()

    def connect(self, address: tuple[Any, ...], timeout: float | None) -> Any:
        """Open a connection to a registered listener, as ``create_connection`` does.

        An address with no listener goes to the real network when
        :attr:`reach_real_network` is true (CPython). Otherwise (Pyodide) it
        raises :class:`ConnectionRefusedError` for a loopback port, and
        ``OSError(ENETUNREACH)`` for any other host without resolving its name.
        """
        host, port = address[0], int(address[1])
        listener = None
        if host in _LOOPBACK_NAMES:
            listener = self.listeners.get((LOOPBACK_HOST, port))
        if listener is None or self.loop is None:
            if self.reach_real_network:
                return socket.create_connection(address, timeout)
            raise _unreachable_error(host)
        client_address = (LOOPBACK_HOST, next(self._client_ports))
        protocol = listener.factory(self.loop)
        connection = MemoryConnection(
            self.loop, protocol, listener.address, client_address
        )
        listener.connections = [c for c in listener.connections if not c.server_closed]
        listener.connections.append(connection)
        return LoopbackSocket(connection, client_address, listener.address, timeout)

    def _free_port(self) -> int:
        for _ in _EPHEMERAL_PORTS:
            port = next(self._server_ports)
            if (LOOPBACK_HOST, port) not in self.listeners:
                return port
        raise OSError(errno.EADDRINUSE, os.strerror(errno.EADDRINUSE))


def _unreachable_error(host: str) -> OSError:
    if host in _LOOPBACK_NAMES:
        return ConnectionRefusedError(
            errno.ECONNREFUSED, os.strerror(errno.ECONNREFUSED)
        )
    return OSError(
        errno.ENETUNREACH,
        f"Aquí no hay red: solo se puede conectar con los servidores del "
        f"curso en {LOOPBACK_HOST}, no con {host}.",
    )


NETWORK = LoopbackNetwork()


def _create_connection(
    address: tuple[Any, ...],
    timeout: Any = socket._GLOBAL_DEFAULT_TIMEOUT,  # type: ignore[attr-defined]
    source_address: Any = None,
    **_: Any,
) -> LoopbackSocket:
    if timeout is socket._GLOBAL_DEFAULT_TIMEOUT:  # type: ignore[attr-defined]
        timeout = socket.getdefaulttimeout()
    return NETWORK.connect(address, timeout)


class _SocketModuleView(types.ModuleType):
    """The ``socket`` module as smtplib sees it: real, but for ``create_connection``."""

    def __init__(self) -> None:
        super().__init__("socket", socket.__doc__)
        self.create_connection = _create_connection

    def __getattr__(self, name: str) -> Any:
        return getattr(socket, name)


def smtplib_view_installed() -> bool:
    """Return whether smtplib's connections currently go to the in-memory network."""
    return isinstance(smtplib.socket, _SocketModuleView)


def _install_smtplib_view() -> None:
    if not smtplib_view_installed():
        smtplib.socket = _SocketModuleView()  # type: ignore[assignment]
    install_tls_hook()


def _remove_smtplib_view() -> None:
    if smtplib_view_installed():
        smtplib.socket = socket  # type: ignore[assignment]
    remove_tls_hook()


if sys.platform == "emscripten":
    # Pyodide has no TCP sockets: smtplib always goes through this network, so
    # connecting to a port with no listener is refused as on a desktop.
    _install_smtplib_view()
