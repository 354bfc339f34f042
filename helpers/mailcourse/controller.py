"""Socket transport for the bundled server: aiosmtpd's threaded controller.

aiosmtpd's ``Controller`` cannot start on port 0 (its readiness check connects
to the port it was given) and listens on the IPv6 loopback by default. The
subclass here reads the port the operating system chose and confirms the SMTP
factory works without opening a connection to itself, which also keeps start-up
free of a TLS handshake on implicit-TLS ports. When the port cannot be bound,
``start()`` raises at once. aiosmtpd 1.4 would wait for its ready timeout (5 s)
and leave the thread's event loop open. ``stop()`` closes open client
connections before it stops the loop. aiosmtpd 1.4 leaves them open, so their
sockets leak and asyncio logs "Task was destroyed but it is pending!" at ERROR,
which Python prints in a notebook cell. These fixes override private methods
of aiosmtpd's ``BaseThreadedController`` and are tested against aiosmtpd 1.4.6.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import ssl
import threading
import weakref
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP

log = logging.getLogger(__name__)

LOOPBACK_HOST = "127.0.0.1"
# How long stop() waits for open connections to close, in seconds.
CLOSE_CONNECTIONS_TIMEOUT = 2.0


# asyncio's socket transports read up to 256 KiB at once (max_size of
# _SelectorTransport in CPython 3.10-3.13), allocating a buffer that size.
_ASYNCIO_READ_SIZE = 256 * 1024
_malloc_threshold_raised = False


def _raise_malloc_mmap_threshold() -> None:
    """Free one block larger than asyncio's read buffer, once per process.

    glibc serves requests above its mmap threshold (128 KiB by default) with
    mmap, and raises the threshold to the size of the first such block that
    is freed. Until then every 256 KiB read buffer is mapped and unmapped,
    which the benchmarks measured (strace) as four system calls and about
    60 microseconds of CPU per message. aiosmtpd's own start-up connection
    happens to free such a block; LoopbackController skips that connection,
    so it frees one itself. Other C libraries are unaffected.
    """
    global _malloc_threshold_raised
    if _malloc_threshold_raised:
        return
    block = bytearray(_ASYNCIO_READ_SIZE + 64 * 1024)
    del block
    _malloc_threshold_raised = True


class LoopbackController(Controller):
    """An aiosmtpd ``Controller`` that accepts ``port=0`` and reports the real port."""

    def __init__(
        self,
        handler: Any,
        *,
        hostname: str = LOOPBACK_HOST,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
        **smtp_parameters: Any,
    ) -> None:
        super().__init__(
            handler,
            hostname=hostname,
            port=port,
            ssl_context=ssl_context,
            **smtp_parameters,
        )
        self._connections: weakref.WeakSet[SMTP] = weakref.WeakSet()

    @classmethod
    def from_smtp_kwargs(
        cls,
        smtp_kwargs: dict[str, Any],
        *,
        hostname: str = LOOPBACK_HOST,
        port: int = 0,
        ssl_context: ssl.SSLContext | None = None,
    ) -> "LoopbackController":
        """Build a controller from the keyword arguments of aiosmtpd's ``SMTP`` class.

        ``smtp_kwargs`` contains ``handler`` and may contain ``hostname``, the
        name in the greeting. The controller's own ``hostname`` is the address
        to bind, so the greeting name is passed on as ``server_hostname``.
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

    def _run(self, ready_event: threading.Event) -> None:
        super()._run(ready_event)
        # The base class closes the loop after a normal stop; only a failed
        # bind returns with the loop open. Close it, and wake start() now
        # rather than after ready_timeout.
        if not self.loop.is_closed():
            self.loop.close()
            ready_event.set()

    def _trigger_server(self) -> None:
        if self.server is None:
            self._raise_bind_error()
        # Runs after the listening socket is bound, so the chosen port is known.
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        _raise_malloc_mmap_threshold()
        # Build one SMTP instance inside the loop thread, as a first connection
        # would, so that errors in factory() still surface from start().
        self.loop.call_soon_threadsafe(self._factory_invoker)

    def _raise_bind_error(self) -> None:
        error = self._thread_exception
        assert error is not None
        # The thread has nothing left to do once it reported the error.
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self._cleanup()
        raise error

    def factory(self) -> SMTP:
        smtp = super().factory()
        self._connections.add(smtp)
        return smtp

    def stop(self, no_assert: bool = False) -> None:
        """Close open client connections, then stop the loop and join the thread."""
        if self._thread is not None and self.loop.is_running():
            future = asyncio.run_coroutine_threadsafe(
                self._close_connections(), self.loop
            )
            try:
                future.result(timeout=CLOSE_CONNECTIONS_TIMEOUT + 1)
            except concurrent.futures.TimeoutError:
                log.warning("open SMTP connections did not close in time")
        super().stop(no_assert)

    async def _close_connections(self) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + CLOSE_CONNECTIONS_TIMEOUT
        current = asyncio.current_task()
        # The listening socket stays open until the base class closes it: a
        # connection accepted after Server.close() never reaches its protocol
        # and leaks. A new connection calls connection_made() a few loop
        # iterations after the accept, so abort and wait until no task is left.
        while True:
            await asyncio.sleep(0)
            for smtp in list(self._connections):
                if smtp.transport is not None:
                    smtp.transport.abort()
            pending = {task for task in asyncio.all_tasks() if task is not current}
            if not pending or loop.time() > deadline:
                break
            await asyncio.wait(pending, timeout=0.05)
        # NOTE: a client still in the TLS handshake of an implicit-TLS port has
        # no SMTP transport yet, so its socket stays open until the loop closes.


def listening_addresses(controller: object) -> list[tuple[str, int]]:
    """Return the (host, port) pairs a started controller's sockets are bound to.

    An in-memory controller has no sockets and returns an empty list.
    """
    server = getattr(controller, "server", None)
    if server is None:
        return []
    return [socket.getsockname()[:2] for socket in server.sockets]
