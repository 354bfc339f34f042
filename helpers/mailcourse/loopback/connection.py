"""One in-memory connection: a client-side socket object and a server transport."""

from __future__ import annotations

import asyncio
import errno
import io
import os
import socket
from typing import Any

from ._asyncio_internals import SteppedEventLoop
from .transport import MemoryTransport

Address = tuple[str, int]


class MemoryConnection:
    """The shared state of one connection between a client and a server protocol.

    The client side runs synchronously: each send and each read that finds no
    data steps the private event loop until the server has nothing left to do.
    """

    def __init__(
        self,
        loop: SteppedEventLoop,
        protocol: asyncio.BaseProtocol,
        server_address: Address,
        client_address: Address,
    ) -> None:
        self.loop = loop
        self.to_client = bytearray()
        self.server_closed = False
        self.client_closed = False
        self.transport = MemoryTransport(
            self,
            protocol,
            {"peername": client_address, "sockname": server_address, "socket": None},
        )
        loop.call_soon(protocol.connection_made, self.transport)
        loop.run_until_idle()

    def send_to_server(self, data: bytes) -> None:
        """Deliver ``data`` to the server and let it process the bytes.

        Raises :class:`BrokenPipeError` once the server has closed the connection.
        """
        if self.server_closed:
            raise BrokenPipeError(errno.EPIPE, os.strerror(errno.EPIPE))
        self.loop.call_soon(self.transport.deliver, bytes(data))
        self.loop.run_until_idle()

    def receive(self, max_bytes: int, timeout: float | None) -> bytes:
        """Return up to ``max_bytes`` from the server, or b"" once it has closed.

        While the server has nothing to send, its pending timers fire on the
        loop's virtual clock, up to ``timeout`` seconds in total. Raises
        :class:`TimeoutError` ("timed out", as a socket with a timeout does) when
        no data can come within ``timeout``.
        """
        waited = 0.0
        while not self.to_client and not self.server_closed:
            self.loop.run_until_idle()
            if self.to_client or self.server_closed:
                break
            delay = self.loop.next_timer_delay()
            # NOTE: with timeout=None a real socket would block forever here;
            # a browser tab cannot, so the wait ends as a timeout instead.
            if delay is None or timeout is None or waited + delay > timeout:
                raise TimeoutError("timed out")
            self.loop.advance_clock(delay)
            waited += delay
        chunk = bytes(self.to_client[:max_bytes])
        del self.to_client[:max_bytes]
        return chunk

    def close_from_client(self) -> None:
        """Close the client end: the server sees end of file, then connection lost."""
        if self.client_closed:
            return
        self.client_closed = True
        if self.server_closed:
            return
        self.loop.call_soon(self.transport.client_closed)
        self.loop.run_until_idle()


class LoopbackSocket:
    """The client end of a :class:`MemoryConnection`: the socket methods smtplib uses.

    ``sendall``, ``recv``, ``makefile("rb")``, timeouts and ``close`` behave as
    on a connected TCP socket; there is no file descriptor (``fileno()`` is -1).
    """

    family = socket.AF_INET
    type = socket.SOCK_STREAM
    proto = 0

    def __init__(
        self,
        connection: MemoryConnection,
        local_address: Address,
        peer_address: Address,
        timeout: float | None,
    ) -> None:
        self._connection = connection
        self._local_address = local_address
        self._peer_address = peer_address
        self._timeout = timeout
        self._closed = False

    def _check_open(self) -> None:
        if self._closed:
            raise OSError(errno.EBADF, os.strerror(errno.EBADF))

    def sendall(self, data: bytes | bytearray | memoryview) -> None:
        self._check_open()
        self._connection.send_to_server(bytes(data))

    def send(self, data: bytes | bytearray | memoryview) -> int:
        self.sendall(data)
        return len(data)

    def recv(self, max_bytes: int, flags: int = 0) -> bytes:
        self._check_open()
        return self._connection.receive(max_bytes, self._timeout)

    def recv_into(self, buffer: Any, max_bytes: int = 0, flags: int = 0) -> int:
        view = memoryview(buffer).cast("B")
        chunk = self.recv(max_bytes or len(view))
        view[: len(chunk)] = chunk
        return len(chunk)

    def makefile(self, mode: str = "r", buffering: int | None = None, **_: Any) -> Any:
        """Return a buffered binary reader; only mode ``"rb"`` is supported."""
        if mode not in ("rb", "br"):
            raise ValueError(
                f"loopback sockets only support makefile('rb'), not {mode!r}"
            )
        return io.BufferedReader(_SocketReader(self))

    def settimeout(self, timeout: float | None) -> None:
        self._timeout = timeout

    def gettimeout(self) -> float | None:
        return self._timeout

    def setblocking(self, flag: bool) -> None:
        self._timeout = None if flag else 0.0

    def getpeername(self) -> Address:
        return self._peer_address

    def getsockname(self) -> Address:
        return self._local_address

    def fileno(self) -> int:
        return -1

    def shutdown(self, how: int) -> None:
        self._connection.close_from_client()

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._connection.close_from_client()

    def __enter__(self) -> "LoopbackSocket":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open"
        return f"<LoopbackSocket {self._local_address} -> {self._peer_address} {state}>"


class _SocketReader(io.RawIOBase):
    """A raw reader over a :class:`LoopbackSocket`, for ``makefile("rb")``."""

    def __init__(self, sock: LoopbackSocket) -> None:
        super().__init__()
        self._sock = sock

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        return self._sock.recv_into(buffer)
