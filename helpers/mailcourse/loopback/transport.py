"""The server half of an in-memory connection: an asyncio transport without a socket."""

from __future__ import annotations

import asyncio
import errno
import os
from typing import TYPE_CHECKING, Any

from ._asyncio_internals import ForceCloseMixin

if TYPE_CHECKING:
    from .connection import MemoryConnection


class MemoryTransport(ForceCloseMixin, asyncio.Transport):
    """An asyncio transport whose writes land in the client socket's buffer.

    Data from the client reaches the protocol through :meth:`deliver`, which
    supports both ``data_received`` protocols (aiosmtpd's ``SMTP``) and
    buffered protocols (asyncio's ``SSLProtocol``, used for STARTTLS).
    """

    def __init__(
        self,
        connection: MemoryConnection,
        protocol: asyncio.BaseProtocol,
        extra: dict[str, Any],
    ) -> None:
        super().__init__(extra)
        self._connection = connection
        self._protocol = protocol
        self._closing = False
        self._reading = True
        self._held_while_paused = bytearray()

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._protocol

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._protocol = protocol

    def is_closing(self) -> bool:
        return self._closing

    def is_reading(self) -> bool:
        return self._reading and not self._closing

    def pause_reading(self) -> None:
        self._reading = False

    def resume_reading(self) -> None:
        self._reading = True
        if self._held_while_paused:
            held = bytes(self._held_while_paused)
            self._held_while_paused.clear()
            self.deliver(held)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        self._connection.to_client.extend(data)

    def can_write_eof(self) -> bool:
        return False

    def write_eof(self) -> None:
        raise OSError(errno.EOPNOTSUPP, os.strerror(errno.EOPNOTSUPP))

    def get_write_buffer_size(self) -> int:
        # Writes are copied at once, so nothing ever waits to be sent.
        return 0

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return (0, 0)

    def set_write_buffer_limits(
        self, high: int | None = None, low: int | None = None
    ) -> None:
        pass

    def close(self) -> None:
        """Close from the server side: the client reads end of file next."""
        if self._closing:
            return
        self._closing = True
        self._connection.server_closed = True
        self._connection.loop.call_soon(self._protocol.connection_lost, None)

    def abort(self) -> None:
        self.close()

    def deliver(self, data: bytes) -> None:
        """Pass bytes the client sent to the protocol, as a socket read would."""
        if self._closing or not data:
            return
        if not self._reading:
            self._held_while_paused.extend(data)
            return
        protocol = self._protocol
        if isinstance(protocol, asyncio.BufferedProtocol):
            _feed_buffered_protocol(protocol, data)
        else:
            protocol.data_received(data)  # type: ignore[attr-defined]

    def client_closed(self) -> None:
        """Tell the protocol the client closed, as end of file then connection lost."""
        if self._closing:
            return
        # A client socket close is a full close, never a half-close, so the
        # connection ends whatever eof_received() returns.
        self._protocol.eof_received()  # type: ignore[attr-defined]
        self.close()


def _feed_buffered_protocol(protocol: asyncio.BufferedProtocol, data: bytes) -> None:
    view = memoryview(data)
    while view:
        buffer = memoryview(protocol.get_buffer(len(view)))
        count = min(len(buffer), len(view))
        if count == 0:
            raise RuntimeError("get_buffer() returned an empty buffer")
        buffer[:count] = view[:count]
        protocol.buffer_updated(count)
        view = view[count:]
