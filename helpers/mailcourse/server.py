"""The bundled local SMTP server, started from a notebook cell.

``start_local_server()`` runs aiosmtpd in a background thread on 127.0.0.1,
on a free port chosen by the operating system unless a port is given, and
stores every message in a Maildir. Calling it again with the same settings
returns the server already running, so re-running a cell never starts a
second one. Every server is stopped at interpreter exit.
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from typing import Any

from .controller import LOOPBACK_HOST, LoopbackController, listening_addresses
from .handler import CourseHandler, RecipientRule
from .inbox import Inbox
from .loopback import MemoryController, controller_class
from .maildir_store import MaildirStore
from .server_errors import PortInUseError, explain_bind_error

log = logging.getLogger(__name__)

# A fixed greeting name keeps transcripts identical on every machine.
SERVER_HOSTNAME = "smtp.curso.test"
SERVER_IDENT = "ESMTP servidor del curso"
DEFAULT_DATA_SIZE_LIMIT = 10 * 1024 * 1024

# aiosmtpd logs on "mail.log": every command line at INFO, every DATA line at
# DEBUG, and a deprecation warning after each login. Raising its level keeps
# message bodies and AUTH continuation lines out of any log an instructor
# turns on; lower it explicitly to see the wire traffic. The NullHandler stops
# Python's last-resort handler from printing its warnings in a student's cell.
_aiosmtpd_log = logging.getLogger("mail.log")
_aiosmtpd_log.addHandler(logging.NullHandler())
if _aiosmtpd_log.level == logging.NOTSET:
    _aiosmtpd_log.setLevel(logging.ERROR)
logging.getLogger("mailcourse").addHandler(logging.NullHandler())


def smtp_parameters(data_size_limit: int) -> dict[str, Any]:
    """Return the aiosmtpd ``SMTP`` keyword arguments every transport shares."""
    return {
        "server_hostname": SERVER_HOSTNAME,
        "ident": SERVER_IDENT,
        "enable_SMTPUTF8": True,
        "data_size_limit": data_size_limit,
    }


class LocalServer:
    """A running bundled SMTP server and the Maildir it writes to.

    Use :func:`start_local_server` rather than this class directly, so that a
    re-run notebook cell gets the running server back.
    """

    def __init__(
        self,
        *,
        port: int = 0,
        maildir: str | os.PathLike[str] | None = None,
        refuse_recipient: RecipientRule | None = None,
        data_size_limit: int = DEFAULT_DATA_SIZE_LIMIT,
    ) -> None:
        self.host = LOOPBACK_HOST
        self.requested_port = port
        self.store = MaildirStore(maildir)
        self.handler = CourseHandler(self.store, refuse_recipient)
        self.data_size_limit = data_size_limit
        self._controller: LoopbackController | MemoryController | None = None

    @property
    def port(self) -> int:
        """The TCP port the server listens on (known once started)."""
        if self._controller is None:
            return self.requested_port
        return self._controller.port

    @property
    def is_running(self) -> bool:
        return self._controller is not None

    @property
    def listening_addresses(self) -> list[tuple[str, int]]:
        """The (host, port) pairs the server's sockets are bound to."""
        if self._controller is None:
            return []
        return listening_addresses(self._controller)

    @property
    def inbox(self) -> Inbox:
        """The messages this server has stored."""
        return Inbox(self.store.path)

    def start(self) -> "LocalServer":
        """Bind the port and start serving; raise :class:`PortInUseError` if taken."""
        if self._controller is not None:
            return self
        # In-memory under Pyodide (no sockets, no threads), TCP elsewhere.
        controller = controller_class()(
            self.handler,
            port=self.requested_port,
            **smtp_parameters(self.data_size_limit),
        )
        try:
            controller.start()
        except OSError as error:
            self.store.close()
            raise explain_bind_error(error, self.host, self.requested_port) from error
        self._controller = controller
        log.info(
            "started SMTP server on %s:%d, maildir %s",
            self.host,
            self.port,
            self.store.path,
        )
        return self

    def stop(self) -> None:
        """Stop serving, join the thread and remove a temporary Maildir."""
        if self._controller is None:
            return
        port = self.port
        self._controller.stop()
        self._controller = None
        self.store.close()
        _forget(self)
        log.info("stopped SMTP server on %s:%d", self.host, port)

    def __enter__(self) -> "LocalServer":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "en marcha" if self.is_running else "detenido"
        return f"<LocalServer {self.host}:{self.port} ({state})>"

    def _repr_html_(self) -> str:
        state = "en marcha" if self.is_running else "detenido"
        return (
            f"<b>Servidor SMTP del curso</b> {state} en "
            f"<code>{self.host}:{self.port}</code>"
        )


_running: dict[tuple[int, str | None], LocalServer] = {}
_running_lock = threading.Lock()


def _forget(server: LocalServer) -> None:
    with _running_lock:
        for key, running in list(_running.items()):
            if running is server:
                del _running[key]


def start_local_server(
    port: int | None = None,
    maildir: str | os.PathLike[str] | None = None,
) -> LocalServer:
    """Start the bundled server, or return the one already running.

    With no ``port`` a free port is chosen, and a running server started the
    same way is returned. With no ``maildir`` messages go to a temporary
    folder that is removed when the server stops.

    Raises :class:`PortInUseError` when ``port`` is taken by another program.
    """
    maildir_key = None if maildir is None else str(os.path.abspath(maildir))
    with _running_lock:
        for (running_port, running_maildir), server in _running.items():
            same_port = port is None or port == running_port
            if same_port and running_maildir == maildir_key:
                return server
        server = LocalServer(port=port or 0, maildir=maildir).start()
        _running[(server.port, maildir_key)] = server
        return server


def stop_all_servers() -> None:
    """Stop every server started by :func:`start_local_server`."""
    with _running_lock:
        servers = list(_running.values())
    for server in servers:
        server.stop()


def running_servers() -> list[LocalServer]:
    """Return the servers started by :func:`start_local_server` and still running."""
    with _running_lock:
        return list(_running.values())


atexit.register(stop_all_servers)
