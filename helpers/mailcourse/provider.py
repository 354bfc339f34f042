"""The provider simulator: the bundled server behaving like a real mail provider.

``start_provider_simulator()`` opens two ports on 127.0.0.1, both chosen by
the operating system, that share one handler, one authenticator and one
Maildir:

- an implicit-TLS port, the role port 465 plays at a provider: TLS starts
  before the greeting;
- a submission port, the role of port 587: plain text until STARTTLS, which
  is required before anything but EHLO, NOOP and QUIT.

Both require AUTH (PLAIN or LOGIN, offered only over an encrypted connection)
before MAIL, refuse recipients matching a rule with 550 and reject messages
larger than :data:`MAX_MESSAGE_SIZE` with 552. Certificates come from a test
CA made at start (see :mod:`mailcourse.tls`), or from premade files under
emulated TLS (see :mod:`mailcourse.loopback.emulated_tls`).
``client_context()`` trusts that CA and nothing else.

The SMTP protocol configuration is built without sockets or threads
(:func:`build_provider_protocol` and :func:`provider_smtp_kwargs`), so a
transport other than TCP can reuse it with aiosmtpd's ``SMTP`` class.
"""

from __future__ import annotations

import atexit
import errno
import logging
import os
import shutil
import ssl
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.smtp import SMTP, Envelope, Session

from .auth import (
    ACCENT_PASSWORD,
    ACCENT_USER,
    LAB_ACCOUNTS,
    LAB_PASSWORD,
    LAB_USER,
    LabAuthenticator,
)
from .controller import LOOPBACK_HOST, LoopbackController, listening_addresses
from .handler import CourseHandler, RecipientRule
from .inbox import Inbox
from .loopback import controller_class
from .maildir_store import MaildirStore
from .server import SERVER_HOSTNAME
from .server_errors import PortInUseError, explain_bind_error
from .tls import client_context_for, make_certificate_authority

__all__ = [
    "ACCENT_PASSWORD",
    "ACCENT_USER",
    "IMPLICIT_TLS",
    "LAB_PASSWORD",
    "LAB_USER",
    "MAX_MESSAGE_SIZE",
    "REFUSED_DOMAIN",
    "STARTTLS",
    "ProviderProtocol",
    "ProviderSimulator",
    "build_provider_protocol",
    "find_simulator",
    "provider_smtp_kwargs",
    "refuse_domain",
    "running_simulators",
    "start_provider_simulator",
    "stop_all_simulators",
]

log = logging.getLogger(__name__)

PortRole = Literal["tls", "starttls"]
IMPLICIT_TLS: PortRole = "tls"
STARTTLS: PortRole = "starttls"

SIMULATOR_IDENT = "ESMTP simulador de proveedor del curso"
MAX_MESSAGE_SIZE = 1024 * 1024
REFUSED_DOMAIN = "rechazado.test"
CA_FILE_NAME = "ca-simulador.pem"


def refuse_domain(domain: str) -> RecipientRule:
    """Return a recipient rule that is true for addresses at ``domain``."""
    suffix = "@" + domain.lower()

    def is_refused(address: str) -> bool:
        return address.lower().endswith(suffix)

    return is_refused


AUTH_REQUIRED_REPLY = "530 5.7.0 Authentication required"


class ProviderHandler(CourseHandler):
    """The course handler plus the rule of a submission server: AUTH before MAIL.

    The rule lives in the handler rather than in aiosmtpd's ``auth_required``
    because, combined with ``auth_require_tls=False`` (needed on the
    implicit-TLS port), aiosmtpd 1.4 emits a ``UserWarning`` for every
    connection. MAIL comes before RCPT and DATA, so guarding MAIL guards all.
    """

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        if not session.authenticated:
            log.info("rejected MAIL without AUTH from %s", session.peer)
            return AUTH_REQUIRED_REPLY
        return await super().handle_MAIL(
            server, session, envelope, address, mail_options
        )


@dataclass(frozen=True)
class ProviderProtocol:
    """The SMTP behaviour both simulator ports share, independent of transport."""

    handler: ProviderHandler
    authenticator: LabAuthenticator
    max_message_size: int


def build_provider_protocol(
    store: MaildirStore,
    *,
    refuse_recipient: RecipientRule | None = None,
    max_message_size: int = MAX_MESSAGE_SIZE,
) -> ProviderProtocol:
    """Build the simulator's handler and authenticator, without sockets or threads.

    With no ``refuse_recipient``, addresses at :data:`REFUSED_DOMAIN` are
    refused.
    """
    if refuse_recipient is None:
        refuse_recipient = refuse_domain(REFUSED_DOMAIN)
    return ProviderProtocol(
        handler=ProviderHandler(store, refuse_recipient),
        authenticator=LabAuthenticator(LAB_ACCOUNTS),
        max_message_size=max_message_size,
    )


def provider_smtp_kwargs(
    protocol: ProviderProtocol,
    role: PortRole,
    *,
    tls_context: ssl.SSLContext | None = None,
) -> dict[str, Any]:
    """Return the keyword arguments of aiosmtpd's ``SMTP`` class for one port role.

    ``SMTP(**provider_smtp_kwargs(...))`` gives one connection's protocol.
    For ``"tls"`` the transport must encrypt every byte before aiosmtpd reads
    it (an SSL server socket does), because AUTH is then offered from the
    first EHLO. aiosmtpd does not count implicit TLS as encryption, so without
    ``auth_require_tls=False`` it would never offer AUTH there. For
    ``"starttls"``, ``tls_context`` is the server context STARTTLS switches to,
    and AUTH is offered only after STARTTLS.

    Raises ``ValueError`` for an unknown role or a missing ``tls_context``.
    """
    kwargs: dict[str, Any] = {
        "handler": protocol.handler,
        "hostname": SERVER_HOSTNAME,
        "ident": SIMULATOR_IDENT,
        "enable_SMTPUTF8": True,
        "data_size_limit": protocol.max_message_size,
        "authenticator": protocol.authenticator,
    }
    if role == IMPLICIT_TLS:
        kwargs["auth_require_tls"] = False
    elif role == STARTTLS:
        if tls_context is None:
            raise ValueError(
                "tls_context is missing: the 'starttls' role needs the server "
                "SSLContext that STARTTLS switches to"
            )
        kwargs["auth_require_tls"] = True
        kwargs["tls_context"] = tls_context
        kwargs["require_starttls"] = True
    else:
        raise ValueError(f"invalid port role {role!r}: use 'tls' or 'starttls'")
    return kwargs


class ProviderSimulator:
    """A running provider simulator: two TLS ports, lab accounts and a Maildir.

    Use :func:`start_provider_simulator` rather than this class directly, so
    that a re-run notebook cell gets the running simulator back. Port 0 means
    a free port chosen by the operating system.
    """

    def __init__(
        self,
        *,
        maildir: str | os.PathLike[str] | None = None,
        tls_port: int = 0,
        starttls_port: int = 0,
        refuse_recipient: RecipientRule | None = None,
        max_message_size: int = MAX_MESSAGE_SIZE,
    ) -> None:
        self.host = LOOPBACK_HOST
        self.requested_ports = {IMPLICIT_TLS: tls_port, STARTTLS: starttls_port}
        self.max_message_size = max_message_size
        self._maildir = maildir
        self._refuse_recipient = refuse_recipient
        self._open_store()
        self.ca_file: Path | None = None
        self._folder: Path | None = None
        self._controllers: dict[PortRole, LoopbackController] = {}

    def _open_store(self) -> None:
        # Also called by a restart, because stop() removes a temporary Maildir.
        self.store = MaildirStore(self._maildir)
        self.protocol = build_provider_protocol(
            self.store,
            refuse_recipient=self._refuse_recipient,
            max_message_size=self.max_message_size,
        )
        self._store_open = True

    @property
    def tls_port(self) -> int:
        """The implicit-TLS port (the role of 465), known once started."""
        return self._port(IMPLICIT_TLS)

    @property
    def starttls_port(self) -> int:
        """The STARTTLS submission port (the role of 587), known once started."""
        return self._port(STARTTLS)

    def _port(self, role: PortRole) -> int:
        controller = self._controllers.get(role)
        if controller is None:
            return self.requested_ports[role]
        return controller.port

    @property
    def is_running(self) -> bool:
        return bool(self._controllers)

    @property
    def listening_addresses(self) -> list[tuple[str, int]]:
        """The (host, port) pairs both ports' sockets are bound to."""
        return [
            address
            for controller in self._controllers.values()
            for address in listening_addresses(controller)
        ]

    @property
    def handler(self) -> ProviderHandler:
        return self.protocol.handler

    @property
    def inbox(self) -> Inbox:
        """The messages this simulator has stored."""
        return Inbox(self.store.path)

    def client_context(self) -> ssl.SSLContext:
        """Return a verifying client context that trusts only the simulator's CA.

        Raises ``RuntimeError`` before :meth:`start`.
        """
        if self.ca_file is None:
            raise RuntimeError(
                "El simulador no está en marcha: llama antes a "
                "start_provider_simulator()."
            )
        return client_context_for(self.ca_file)

    def start(self) -> "ProviderSimulator":
        """Make the test CA and start both ports.

        Raises :class:`~mailcourse.server_errors.PortInUseError` when a
        requested port is taken.
        """
        if self._controllers:
            return self
        if not self._store_open:
            self._open_store()
        self._folder = Path(tempfile.mkdtemp(prefix="mailcourse-provider-"))
        try:
            authority = make_certificate_authority()
            self.ca_file = authority.write_ca_file(self._folder / CA_FILE_NAME)
            server_context = authority.server_context()
            self._start_port(IMPLICIT_TLS, server_context)
            self._start_port(STARTTLS, server_context)
        except BaseException:
            self._shut_down()
            raise
        with _started_lock:
            _started.add(self)
        log.info(
            "started provider simulator on %s: implicit TLS %d, STARTTLS %d, "
            "maildir %s",
            self.host,
            self.tls_port,
            self.starttls_port,
            self.store.path,
        )
        return self

    def _start_port(self, role: PortRole, server_context: ssl.SSLContext) -> None:
        port = self.requested_ports[role]
        if role == IMPLICIT_TLS:
            kwargs = provider_smtp_kwargs(self.protocol, role)
            controller = controller_class().from_smtp_kwargs(
                kwargs, hostname=self.host, port=port, ssl_context=server_context
            )
        else:
            kwargs = provider_smtp_kwargs(
                self.protocol, role, tls_context=server_context
            )
            controller = controller_class().from_smtp_kwargs(
                kwargs, hostname=self.host, port=port
            )
        try:
            controller.start()
        except OSError as error:
            raise _explain_simulator_bind_error(error, self.host, port) from error
        self._controllers[role] = controller

    def stop(self) -> None:
        """Stop both ports, join their threads and remove temporary files."""
        if not self._controllers:
            return
        ports = (self.tls_port, self.starttls_port)
        self._shut_down()
        _forget(self)
        log.info("stopped provider simulator on %s, ports %d and %d", self.host, *ports)

    def _shut_down(self) -> None:
        with _started_lock:
            _started.discard(self)
        for controller in self._controllers.values():
            controller.stop()
        self._controllers.clear()
        self.store.close()
        self._store_open = False
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = None
        self.ca_file = None

    def __enter__(self) -> "ProviderSimulator":
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "en marcha" if self.is_running else "detenido"
        return (
            f"<ProviderSimulator {self.host} TLS:{self.tls_port} "
            f"STARTTLS:{self.starttls_port} ({state})>"
        )

    def _repr_html_(self) -> str:
        if not self.is_running:
            return "<b>Simulador de proveedor</b> detenido"
        return (
            f"<b>Simulador de proveedor</b> en marcha en <code>{self.host}</code>: "
            f"TLS implícito en el puerto <code>{self.tls_port}</code>, "
            f"STARTTLS en el puerto <code>{self.starttls_port}</code>"
        )


def _explain_simulator_bind_error(error: OSError, host: str, port: int) -> OSError:
    if error.errno == errno.EADDRINUSE:
        return PortInUseError(
            error.errno,
            f"El puerto {port} de {host} ya está ocupado por otro programa. "
            "Llama a start_provider_simulator() sin puertos para que el sistema "
            "elija dos libres, o elige otro número de puerto.",
        )
    return explain_bind_error(error, host, port)


# _running contains the simulators of start_provider_simulator(), for reuse.
# _started contains every running simulator, however it was started.
_running: dict[tuple[int, int, str | None], ProviderSimulator] = {}
_started: set[ProviderSimulator] = set()
# Two locks, because start_provider_simulator() holds _running_lock while
# start() takes _started_lock.
_running_lock = threading.Lock()
_started_lock = threading.Lock()


def _forget(simulator: ProviderSimulator) -> None:
    with _running_lock:
        for key, running in list(_running.items()):
            if running is simulator:
                del _running[key]


def start_provider_simulator(
    maildir: str | os.PathLike[str] | None = None,
    *,
    tls_port: int | None = None,
    starttls_port: int | None = None,
) -> ProviderSimulator:
    """Start the provider simulator, or return the one already running.

    With no ports, free ports are chosen, and a running simulator with the
    same ``maildir`` is returned. With no ``maildir``, messages go to a
    temporary folder removed when the simulator stops.

    Raises :class:`~mailcourse.server_errors.PortInUseError` when a requested
    port is taken by another program.
    """
    maildir_key = None if maildir is None else str(os.path.abspath(maildir))
    with _running_lock:
        for (running_tls, running_starttls, running_maildir), simulator in (
            _running.items()
        ):
            same_tls = tls_port is None or tls_port == running_tls
            same_starttls = starttls_port is None or starttls_port == running_starttls
            if same_tls and same_starttls and running_maildir == maildir_key:
                return simulator
        simulator = ProviderSimulator(
            maildir=maildir, tls_port=tls_port or 0, starttls_port=starttls_port or 0
        ).start()
        key = (simulator.tls_port, simulator.starttls_port, maildir_key)
        _running[key] = simulator
        return simulator


def find_simulator(host: str, port: int) -> ProviderSimulator | None:
    """Return the running simulator listening on ``host`` and ``port``, if any.

    ``host`` may be ``"localhost"``, which the simulator's certificate names.
    Simulators started with the class directly are found too.
    """
    with _started_lock:
        simulators = list(_started)
    for simulator in simulators:
        names = (simulator.host, "localhost")
        ports = (simulator.tls_port, simulator.starttls_port)
        if host in names and port in ports:
            return simulator
    return None


def running_simulators() -> list[ProviderSimulator]:
    """Return the simulators started by :func:`start_provider_simulator` and running."""
    with _running_lock:
        return list(_running.values())


def stop_all_simulators() -> None:
    """Stop every simulator started by :func:`start_provider_simulator`."""
    with _running_lock:
        simulators = list(_running.values())
    for simulator in simulators:
        simulator.stop()


atexit.register(stop_all_simulators)
