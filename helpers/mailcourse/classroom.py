"""The classroom server: the course's SMTP ports run on their own for a class.

An instructor starts it once in a terminal and every student sends to it. The
messages land in one persistent Maildir, which ``Inbox(path)`` and the
projector notebook open. The command prints the address, ports, lab accounts
and CA file that students need, then one line per accepted message with its
sender, recipients, subject and size (never the body).

On 127.0.0.1 it opens three ports that share the Maildir: plain SMTP with no
TLS or AUTH (as ``start_local_server()``), implicit TLS and STARTTLS (as
``start_provider_simulator()``: AUTH with the lab accounts before MAIL, 550 for
addresses at ``rechazado.test``, 552 above 1 MiB). With ``--listen`` on any
other address it opens only the two TLS ports, so a message from another
machine always travels encrypted and authenticated. No port relays mail.

    python -m mailcourse.classroom [--listen ADDRESS] [--maildir FOLDER] ...

SIGINT (Ctrl+C) and SIGTERM stop it and exit 0. A message is written to the
Maildir before its 250 reply is sent, so every acknowledged message is kept.
"""

from __future__ import annotations

import argparse
import errno
import ipaddress
import logging
import os
import signal
import ssl
import sys
import threading
import time
import unicodedata
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path
from typing import TextIO

from .auth import ACCENT_PASSWORD, ACCENT_USER, LAB_PASSWORD, LAB_USER
from .controller import LOOPBACK_HOST, LoopbackController
from .handler import CourseHandler
from .inbox import format_size, message_count
from .maildir_store import MaildirStore
from .provider import (
    IMPLICIT_TLS,
    REFUSED_DOMAIN,
    STARTTLS,
    build_provider_protocol,
    provider_smtp_kwargs,
    refuse_domain,
)
from .server import DEFAULT_DATA_SIZE_LIMIT, smtp_parameters
from .server_errors import PortInUseError, explain_bind_error
from .tls import SERVER_IDENTITIES, TestCertificateAuthority

log = logging.getLogger(__name__)

DEFAULT_MAILDIR = "bandeja-clase"
DEFAULT_CA_FILE = "ca-clase.pem"
# Fixed defaults so the numbers on the board stay right after a restart.
DEFAULT_PORT = 2525
DEFAULT_TLS_PORT = 2465
DEFAULT_STARTTLS_PORT = 2587
SUBJECT_DISPLAY_LIMIT = 80
STOP_POLL_SECONDS = 0.5

PLAIN = "plain"
PORT_ORDER = (PLAIN, IMPLICIT_TLS, STARTTLS)


@dataclass(frozen=True)
class Delivery:
    """The envelope and subject of one stored message, as shown to the instructor."""

    sender: str
    recipients: tuple[str, ...]
    subject: str
    size: int


def printable(text: str) -> str:
    """Replace control characters, which could rewrite the instructor's terminal."""
    return "".join(
        " " if unicodedata.category(character).startswith("C") else character
        for character in text
    )


def describe_delivery(
    raw_message: bytes, mail_from: str, rcpt_tos: list[str]
) -> Delivery:
    """Read the envelope and the Subject header of a message, not its body."""
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw_message)
    subject = " ".join(str(headers.get("Subject", "")).split())
    if len(subject) > SUBJECT_DISPLAY_LIMIT:
        subject = subject[: SUBJECT_DISPLAY_LIMIT - 1] + "…"
    return Delivery(
        sender=mail_from,
        recipients=tuple(rcpt_tos),
        subject=subject,
        size=len(raw_message),
    )


def format_delivery(delivery: Delivery, clock: time.struct_time) -> str:
    """Format one delivery as the line the command prints."""
    recipients = ", ".join(delivery.recipients)
    subject = delivery.subject or "(sin asunto)"
    line = (
        f"{time.strftime('%H:%M:%S', clock)}  De: {delivery.sender or '<>'}  "
        f"Para: {recipients}  Asunto: {subject}  ({format_size(delivery.size)})"
    )
    return printable(line)


DeliveryListener = Callable[[Delivery], None]


class ReportingMaildirStore(MaildirStore):
    """A Maildir store that passes a :class:`Delivery` to a listener after each write.

    One instance serves every port, so its Maildir file names cannot collide.
    """

    def __init__(
        self, path: str | os.PathLike[str], listener: DeliveryListener
    ) -> None:
        super().__init__(path)
        self.listener = listener

    def deliver(self, raw_message: bytes, mail_from: str, rcpt_tos: list[str]) -> str:
        key = super().deliver(raw_message, mail_from, rcpt_tos)
        try:
            self.listener(describe_delivery(raw_message, mail_from, rcpt_tos))
        except Exception:
            # The message is already stored and gets its 250, so a failure to
            # report it (a closed terminal, an odd header) must not reach SMTP.
            log.exception("stored message %s but could not report it", key)
        return key


class ClassroomServer:
    """The classroom's SMTP ports on one address, writing to one Maildir.

    ``secure_only`` (true for any address but 127.0.0.1) leaves out the plain
    port. Port 0 means a free port chosen by the operating system.
    """

    def __init__(
        self,
        *,
        host: str,
        ports: dict[str, int],
        store: MaildirStore,
        ca_file: Path,
    ) -> None:
        self.host = host
        self.secure_only = host != LOOPBACK_HOST
        self.requested_ports = dict(ports)
        if self.secure_only:
            self.requested_ports.pop(PLAIN, None)
        self.store = store
        self.ca_file = ca_file
        self._controllers: dict[str, LoopbackController] = {}
        # One handler and authenticator serve both TLS ports, as in the simulator.
        self.provider_protocol = build_provider_protocol(store)

    @property
    def ports(self) -> dict[str, int]:
        """The bound port of each role, in :data:`PORT_ORDER`."""
        return {
            role: self._controllers[role].port
            for role in PORT_ORDER
            if role in self._controllers
        }

    def certificate_identities(self) -> tuple[str, ...]:
        if self.secure_only:
            return (self.host,)
        return SERVER_IDENTITIES

    def start(self) -> "ClassroomServer":
        """Write a new CA file and open every port.

        Raises :class:`~mailcourse.server_errors.PortInUseError` when a port is
        taken and ``OSError`` when the address is not one of this machine's.
        """
        authority = TestCertificateAuthority(self.certificate_identities())
        authority.write_ca_file(self.ca_file)
        server_context = authority.server_context()
        try:
            for role in PORT_ORDER:
                if role in self.requested_ports:
                    self._start_port(role, server_context)
        except BaseException:
            self.stop()
            raise
        log.info(
            "started classroom server on %s, ports %s, maildir %s",
            self.host,
            self.ports,
            self.store.path,
        )
        return self

    def _start_port(self, role: str, server_context: ssl.SSLContext) -> None:
        port = self.requested_ports[role]
        if role == PLAIN:
            handler = CourseHandler(self.store, refuse_domain(REFUSED_DOMAIN))
            controller = LoopbackController(
                handler,
                hostname=self.host,
                port=port,
                **smtp_parameters(DEFAULT_DATA_SIZE_LIMIT),
            )
        else:
            tls_context = server_context if role == STARTTLS else None
            kwargs = provider_smtp_kwargs(
                self.provider_protocol, role, tls_context=tls_context
            )
            controller = LoopbackController.from_smtp_kwargs(
                kwargs,
                hostname=self.host,
                port=port,
                ssl_context=server_context if role == IMPLICIT_TLS else None,
            )
        try:
            controller.start()
        except OSError as error:
            raise classroom_bind_error(error, self.host, port) from error
        self._controllers[role] = controller

    def stop(self) -> None:
        """Close every port and join its thread. The Maildir is kept."""
        for controller in self._controllers.values():
            controller.stop()
        if self._controllers:
            log.info("stopped classroom server on %s", self.host)
        self._controllers.clear()


def classroom_bind_error(error: OSError, host: str, port: int) -> OSError:
    """Return an exception whose message explains the bind failure to the instructor."""
    if error.errno == errno.EADDRINUSE:
        return PortInUseError(
            error.errno,
            f"El puerto {port} de {host} ya está ocupado, quizá por otro servidor "
            "de clase que sigue en marcha. Páralo, o elige otro número con "
            "--port, --tls-port o --starttls-port (0 elige uno libre).",
        )
    if error.errno == errno.EADDRNOTAVAIL:
        return OSError(
            error.errno,
            f"La dirección {host} no es de este ordenador. Mira sus direcciones "
            "con «ip addr» (Linux), «ipconfig» (Windows) o «ifconfig» (macOS).",
        )
    return explain_bind_error(error, host, port)


class UsageError(ValueError):
    """Raised for command-line options that cannot work together."""


def parse_listen_address(value: str) -> str:
    """Return ``value`` as a normalized IP address, or raise :class:`UsageError`.

    The address goes into the server certificate, so it must be the address of
    one interface. Host names and the any-address forms 0.0.0.0 and :: are
    rejected.
    """
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        raise UsageError(
            f"--listen necesita una dirección IP, como 192.168.1.20, y no "
            f"{value!r}. Mírala con «ip addr» (Linux), «ipconfig» (Windows) o "
            "«ifconfig» (macOS)."
        ) from None
    if address.is_unspecified:
        raise UsageError(
            f"--listen {value} escucharía en todas las interfaces. Indica la "
            "dirección concreta de la red de la clase: va dentro del certificado "
            "que comprueban los alumnos."
        )
    return str(address)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mailcourse-classroom",
        description=(
            "Servidor SMTP de clase del curso de correo: guarda en una bandeja "
            "Maildir todo lo que envían los alumnos y muestra una línea por "
            "mensaje (sin el cuerpo). Ctrl+C lo para sin perder nada."
        ),
        add_help=False,
    )
    parser.add_argument(
        "-h", "--help", action="help", help="muestra esta ayuda y termina"
    )
    parser.add_argument(
        "--listen",
        metavar="DIRECCIÓN",
        help=(
            "dirección IP en la que escuchar (por defecto 127.0.0.1). Con otra "
            "dirección solo se abren los puertos con TLS, y piden AUTH"
        ),
    )
    parser.add_argument(
        "--port",
        type=port_number,
        help=(
            f"puerto SMTP sin cifrar, solo en 127.0.0.1 (por defecto "
            f"{DEFAULT_PORT}; 0 elige uno libre)"
        ),
    )
    parser.add_argument(
        "--tls-port",
        type=port_number,
        default=DEFAULT_TLS_PORT,
        help="puerto con TLS implícito, como el 465 (por defecto %(default)s)",
    )
    parser.add_argument(
        "--starttls-port",
        type=port_number,
        default=DEFAULT_STARTTLS_PORT,
        help="puerto con STARTTLS obligatorio, como el 587 (por defecto %(default)s)",
    )
    parser.add_argument(
        "--maildir",
        type=Path,
        default=Path(DEFAULT_MAILDIR),
        metavar="CARPETA",
        help=(
            "carpeta Maildir donde se guardan los mensajes "
            "(por defecto ./%(default)s)"
        ),
    )
    parser.add_argument(
        "--ca-file",
        type=Path,
        default=Path(DEFAULT_CA_FILE),
        metavar="ARCHIVO",
        help=(
            "dónde escribir el certificado de la CA que necesitan los alumnos; "
            "cambia en cada arranque (por defecto ./%(default)s)"
        ),
    )
    parser.add_argument(
        "--reset",
        action="store_true",
        help="vacía la bandeja antes de arrancar, después de pedir confirmación",
    )
    parser.add_argument(
        "--yes",
        action="store_true",
        help="con --reset, vacía la bandeja sin preguntar",
    )
    return parser


def port_number(value: str) -> int:
    """Parse a TCP port number for argparse (0 to 65535)."""
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} no es un número de puerto"
        ) from None
    if not 0 <= number <= 65535:
        raise argparse.ArgumentTypeError(
            f"{number} no es un puerto válido: usa un número de 0 a 65535"
        )
    return number


def resolve_ports(options: argparse.Namespace, host: str) -> dict[str, int]:
    """Return the requested port of each role open on ``host``.

    Raises :class:`UsageError` for ``--port`` away from 127.0.0.1 and for a
    port number given to two roles.
    """
    ports = {
        PLAIN: DEFAULT_PORT if options.port is None else options.port,
        IMPLICIT_TLS: options.tls_port,
        STARTTLS: options.starttls_port,
    }
    if host != LOOPBACK_HOST:
        if options.port is not None:
            raise UsageError(
                "--port abre SMTP sin cifrar, que solo se permite en 127.0.0.1. "
                "Con --listen usa --tls-port y --starttls-port."
            )
        del ports[PLAIN]
    fixed = [port for port in ports.values() if port != 0]
    if len(fixed) != len(set(fixed)):
        raise UsageError(
            f"Cada puerto tiene que ser distinto, pero se repite alguno en {fixed}."
        )
    return ports


def confirm_reset(store: MaildirStore, assume_yes: bool, input_stream: TextIO) -> bool:
    """Empty the Maildir once the instructor confirms, and return False if declined."""
    count = store.count()
    if not assume_yes:
        print(
            f"¿Borrar {message_count(count)} de {store.path}? Escribe «s» y pulsa "
            "Enter para confirmar.",
            flush=True,
        )
        answer = input_stream.readline().strip().lower()
        if answer not in ("s", "si", "sí", "y", "yes"):
            print("No se ha borrado nada.", flush=True)
            return False
    removed = store.clear()
    print(f"Bandeja vaciada. Mensajes borrados: {removed}.", flush=True)
    return True


def banner_lines(server: ClassroomServer) -> list[str]:
    """Return the start-up text: what the students need to connect."""
    ports = server.ports
    lines = ["Servidor de clase del curso de correo en marcha"]
    if server.secure_only:
        lines.append(f"  Dirección: {server.host} (desde la red: solo TLS y con AUTH)")
    else:
        lines.append(f"  Dirección: {server.host} (solo este ordenador)")
        lines.append(f"  SMTP sin cifrar ni AUTH: puerto {ports[PLAIN]}")
    lines += [
        f"  TLS implícito, como el 465: puerto {ports[IMPLICIT_TLS]}",
        f"  STARTTLS obligatorio, como el 587: puerto {ports[STARTTLS]}",
        f"  Cuenta de laboratorio: {LAB_USER}, contraseña {LAB_PASSWORD}",
        f"  Cuenta con contraseña no ASCII: {ACCENT_USER}, "
        f"contraseña {ACCENT_PASSWORD}",
        f"  Certificado de la CA para los alumnos: {server.ca_file.resolve()}",
        f"  Bandeja (Maildir): {server.store.path}, "
        f"con {server.store.count()} mensajes",
        f"  Los destinatarios de @{REFUSED_DOMAIN} reciben un 550.",
    ]
    if server.secure_only:
        lines.append(
            "  Cualquiera en esta red que conozca la cuenta de laboratorio puede "
            "enviar a esta bandeja: para el servidor al acabar la clase."
        )
    lines.append(
        "Cada mensaje aceptado aparece abajo en una línea, sin su cuerpo. "
        "Pulsa Ctrl+C para parar."
    )
    return lines


class DeliveryReporter:
    """Print one line per stored message and count them, from any server thread."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.count = 0
        self._lock = threading.Lock()

    def __call__(self, delivery: Delivery) -> None:
        with self._lock:
            self.count += 1
            self.print(format_delivery(delivery, time.localtime()))

    def print(self, line: str) -> None:
        print(line, file=self.stream, flush=True)


@contextmanager
def stop_signals_set(stop: threading.Event) -> Iterator[None]:
    """Make SIGINT and SIGTERM set ``stop`` inside the block, then restore them."""
    previous = {}
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        previous[signal_number] = signal.signal(
            signal_number, lambda number, frame: stop.set()
        )
    try:
        yield
    finally:
        for signal_number, handler in previous.items():
            signal.signal(signal_number, handler)


def serve_until_stopped(server: ClassroomServer, stop: threading.Event) -> None:
    """Start ``server``, print its banner, and stop it once ``stop`` is set.

    Raises ``OSError`` when a port cannot be opened.
    """
    server.start()
    try:
        for line in banner_lines(server):
            print(line, flush=True)
        # A timed wait, because on Windows an endless Event.wait() ignores Ctrl+C.
        while not stop.wait(STOP_POLL_SECONDS):
            pass
    finally:
        server.stop()


def describe_os_error(error: OSError) -> str:
    """Return the message and file name of ``error``, without ``[Errno N]``."""
    message = error.strerror or str(error)
    if error.filename is not None:
        message += f": {error.filename}"
    return message


def run(options: argparse.Namespace) -> int:
    """Run the classroom server until SIGINT or SIGTERM and return the exit code.

    Raises :class:`UsageError` for options that cannot work together.
    """
    host = LOOPBACK_HOST
    if options.listen is not None:
        host = parse_listen_address(options.listen)
    ports = resolve_ports(options, host)
    reporter = DeliveryReporter(sys.stdout)
    try:
        store = ReportingMaildirStore(options.maildir, reporter)
    except OSError as error:
        print(
            f"No se puede abrir la bandeja: {describe_os_error(error)}",
            file=sys.stderr,
        )
        return 1
    # Ctrl+C while the confirmation waits for input still interrupts it,
    # because the signal handlers are installed only after this point.
    if options.reset and not confirm_reset(store, options.yes, sys.stdin):
        return 1
    server = ClassroomServer(
        host=host, ports=ports, store=store, ca_file=options.ca_file
    )
    stop = threading.Event()
    with stop_signals_set(stop):
        try:
            serve_until_stopped(server, stop)
        except OSError as error:
            reason = describe_os_error(error)
            print(
                f"No se puede arrancar el servidor de clase: {reason}",
                file=sys.stderr,
            )
            return 1
    reporter.print(
        f"Servidor de clase parado. Mensajes recibidos en esta sesión: "
        f"{reporter.count}. La bandeja {store.path} guarda {store.count()}. "
        "¡Hasta la próxima!"
    )
    return 0


def main(arguments: list[str] | None = None) -> int:
    """Run ``mailcourse-classroom`` (also ``python -m mailcourse.classroom``)."""
    logging.basicConfig(
        level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    parser = build_parser()
    options = parser.parse_args(arguments)
    if options.yes and not options.reset:
        parser.error("--yes solo tiene sentido junto con --reset")
    try:
        return run(options)
    except UsageError as error:
        parser.error(str(error))
    except KeyboardInterrupt:
        print("\nCancelado: no se ha arrancado el servidor.", flush=True)
        return 1
    return 2  # Not reached, because parser.error() exits with status 2.


if __name__ == "__main__":
    sys.exit(main())
