"""The in-memory loopback against real aiosmtpd servers on 127.0.0.1.

Each scenario the course teaches runs twice with the real smtplib client at
debug level 1: once over TCP to servers on 127.0.0.1, once over the in-memory
loopback that JupyterLite uses. The two transcripts (ports aside) must be equal.
The in-memory side is chosen with MAILCOURSE_TRANSPORT=memory for the local
server, and for the provider simulator by giving it the in-memory controller.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import re
import smtplib
import socket
import ssl
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from sample_messages import make_message
from mailcourse import LocalServer, provider
from mailcourse.client import login as utf8_login
from mailcourse.loopback import (
    NETWORK,
    TRANSPORT_VARIABLE,
    LoopbackSocket,
    LoopbackUnsupportedError,
    MemoryController,
    controller_class,
    in_memory_by_default,
    smtplib_view_installed,
)
from mailcourse.loopback import _asyncio_internals
from mailcourse.controller import LoopbackController
from mailcourse.provider import (
    ACCENT_PASSWORD,
    ACCENT_USER,
    LAB_PASSWORD,
    LAB_USER,
    MAX_MESSAGE_SIZE,
    ProviderSimulator,
)

PORT_NUMBER = re.compile(r"(?<=127\.0\.0\.1', )\d+|(?<=127\.0\.0\.1:)\d+")


@dataclass
class Servers:
    """The addresses and client context one scenario run talks to."""

    host: str
    plain_port: int
    tls_port: int
    starttls_port: int
    context: ssl.SSLContext
    free_port: int


def unused_loopback_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def running_servers(
    transport: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Servers]:
    """Start the local server and the provider simulator on one transport."""
    with monkeypatch.context() as patch:
        patch.setenv(TRANSPORT_VARIABLE, transport)
        if transport == "memory":
            # As under Pyodide: nothing outside the in-memory network is reached.
            patch.setattr(NETWORK, "reach_real_network", False)
        local = LocalServer(maildir=folder / "local").start()
        simulator = ProviderSimulator(maildir=folder / "provider").start()
        try:
            yield Servers(
                host="127.0.0.1",
                plain_port=local.port,
                tls_port=simulator.tls_port,
                starttls_port=simulator.starttls_port,
                context=simulator.client_context(),
                free_port=unused_loopback_port(),
            )
        finally:
            simulator.stop()
            local.stop()


# Each scenario drives smtplib exactly as a lesson does, at debug level 1.


def send_plain(servers: Servers) -> None:
    with smtplib.SMTP(servers.host, servers.plain_port, timeout=10) as client:
        client.set_debuglevel(1)
        client.ehlo("cliente.test")
        print("refused:", client.send_message(make_message()), file=sys.stderr)


def send_with_bcc(servers: Servers) -> None:
    message = make_message()
    message["Bcc"] = "oculto@ejemplo.test"
    with smtplib.SMTP(servers.host, servers.plain_port, timeout=10) as client:
        client.set_debuglevel(1)
        print("refused:", client.send_message(message), file=sys.stderr)


def send_smtputf8(servers: Servers) -> None:
    message = make_message(to="José <josé@ejemplo.test>")
    with smtplib.SMTP(servers.host, servers.plain_port, timeout=10) as client:
        client.set_debuglevel(1)
        print("refused:", client.send_message(message), file=sys.stderr)


def connect_nobody_listening(servers: Servers) -> None:
    client = smtplib.SMTP(timeout=10)
    client.set_debuglevel(1)
    client.connect(servers.host, servers.free_port)


def starttls_login_send(servers: Servers) -> None:
    with smtplib.SMTP(servers.host, servers.starttls_port, timeout=10) as client:
        client.set_debuglevel(1)
        client.ehlo("cliente.test")
        client.starttls(context=servers.context)
        client.ehlo("cliente.test")
        print("login:", client.login(LAB_USER, LAB_PASSWORD), file=sys.stderr)
        print("refused:", client.send_message(make_message()), file=sys.stderr)


def implicit_tls_login(servers: Servers) -> None:
    client = smtplib.SMTP_SSL(
        servers.host, servers.tls_port, context=servers.context, timeout=10
    )
    client.set_debuglevel(1)
    print("login:", client.login(LAB_USER, LAB_PASSWORD), file=sys.stderr)
    print("quit:", client.quit(), file=sys.stderr)


def wrong_password(servers: Servers) -> None:
    with smtplib.SMTP_SSL(
        servers.host, servers.tls_port, context=servers.context, timeout=10
    ) as client:
        client.set_debuglevel(1)
        client.login(LAB_USER, "equivocada")


def utf8_password(servers: Servers) -> None:
    with smtplib.SMTP_SSL(
        servers.host, servers.tls_port, context=servers.context, timeout=10
    ) as client:
        client.set_debuglevel(1)
        print(
            "login:", utf8_login(client, ACCENT_USER, ACCENT_PASSWORD), file=sys.stderr
        )


def partial_refusal(servers: Servers) -> None:
    message = make_message(to="luis@ejemplo.test, nadie@rechazado.test")
    with smtplib.SMTP_SSL(
        servers.host, servers.tls_port, context=servers.context, timeout=10
    ) as client:
        client.set_debuglevel(1)
        client.login(LAB_USER, LAB_PASSWORD)
        print("refused:", client.send_message(message), file=sys.stderr)


def total_refusal(servers: Servers) -> None:
    message = make_message(to="nadie@rechazado.test")
    with smtplib.SMTP_SSL(
        servers.host, servers.tls_port, context=servers.context, timeout=10
    ) as client:
        client.set_debuglevel(1)
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(message)


def message_too_large(servers: Servers) -> None:
    message = make_message(body="x" * 70 + "\n")
    message.set_content(("x" * 70 + "\n") * (MAX_MESSAGE_SIZE // 70 + 10))
    with smtplib.SMTP_SSL(
        servers.host, servers.tls_port, context=servers.context, timeout=10
    ) as client:
        client.set_debuglevel(1)
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(message)


def send_without_login(servers: Servers) -> None:
    with smtplib.SMTP_SSL(
        servers.host, servers.tls_port, context=servers.context, timeout=10
    ) as client:
        client.set_debuglevel(1)
        client.send_message(make_message())


def untrusted_certificate(servers: Servers) -> None:
    smtplib.SMTP_SSL(
        servers.host,
        servers.tls_port,
        context=ssl.create_default_context(),
        timeout=10,
    )


def implicit_tls_to_starttls_port(servers: Servers) -> None:
    smtplib.SMTP_SSL(
        servers.host, servers.starttls_port, context=servers.context, timeout=10
    )


def plain_client_to_tls_port(servers: Servers) -> None:
    smtplib.SMTP(servers.host, servers.tls_port, timeout=1)


Scenario = Callable[[Servers], None]
SCENARIOS: dict[str, tuple[Scenario, str]] = {
    # name: (scenario, a line its transcript must contain)
    "send": (send_plain, "250 OK: message stored"),
    "bcc": (send_with_bcc, "rcpt TO:<oculto@ejemplo.test>"),
    "smtputf8": (send_smtputf8, "SMTPUTF8"),
    "refused-connection": (connect_nobody_listening, "ConnectionRefusedError"),
    "starttls-login": (starttls_login_send, "235 2.7.0"),
    "implicit-tls-login": (implicit_tls_login, "221 Bye"),
    "wrong-password": (wrong_password, "SMTPAuthenticationError"),
    "utf8-password": (utf8_password, "235 2.7.0"),
    "partial-refusal": (partial_refusal, "refused: {'nadie@rechazado.test': (550"),
    "total-refusal": (total_refusal, "SMTPRecipientsRefused"),
    "size-552": (message_too_large, "552"),
    "auth-required-530": (send_without_login, "530"),
    "untrusted-certificate": (untrusted_certificate, "SSLCertVerificationError"),
    "tls-to-starttls-port": (implicit_tls_to_starttls_port, "WRONG_VERSION_NUMBER"),
    "plain-to-tls-port": (plain_client_to_tls_port, "timed out"),
}


def run_scenario(
    scenario: Scenario, transport: str, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    """Run one scenario on one transport; return its transcript, ports replaced."""
    output = io.StringIO()
    with running_servers(transport, folder, monkeypatch) as servers:
        with contextlib.redirect_stderr(output):
            try:
                scenario(servers)
            except (OSError, smtplib.SMTPException) as error:
                print(f"raised: {error!r}", file=output)
    return PORT_NUMBER.sub("PORT", output.getvalue())


@pytest.mark.parametrize("name", SCENARIOS)
def test_transcript_matches_socket(name, tmp_path, monkeypatch):
    scenario, expected_line = SCENARIOS[name]
    over_socket = run_scenario(scenario, "socket", tmp_path / "socket", monkeypatch)
    in_memory = run_scenario(scenario, "memory", tmp_path / "memory", monkeypatch)
    # Python 3.13 sends SMTP commands in capitals, earlier versions in lower case.
    assert expected_line.lower() in over_socket.lower()
    assert in_memory == over_socket


def test_memory_message_reaches_inbox(tmp_path, monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    with LocalServer(maildir=tmp_path / "Maildir") as server:
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.send_message(make_message(subject="Por la memoria"))
        stored = server.inbox.latest()
    assert stored.subject == "Por la memoria"
    assert stored.envelope_recipients == ["luis@ejemplo.test"]


def test_memory_mode_starts_no_thread(tmp_path, monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    threads_before = threading.active_count()
    with LocalServer(maildir=tmp_path / "Maildir") as server:
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.send_message(make_message())
            threads_during = threading.active_count()
    assert threads_during == threads_before


def test_memory_mode_opens_no_socket(tmp_path, monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    opened = []
    real_socket_init = socket.socket.__init__

    def recording_init(self, *args, **kwargs):
        opened.append(args)
        real_socket_init(self, *args, **kwargs)

    monkeypatch.setattr(socket.socket, "__init__", recording_init)
    with LocalServer(maildir=tmp_path / "Maildir") as server:
        with smtplib.SMTP(server.host, server.port, timeout=10) as client:
            client.send_message(make_message())
    assert opened == []


def test_transport_variable_selects_controller(monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    assert in_memory_by_default()
    assert controller_class() is MemoryController
    monkeypatch.setenv(TRANSPORT_VARIABLE, "socket")
    assert controller_class() is LoopbackController
    monkeypatch.delenv(TRANSPORT_VARIABLE)
    assert controller_class() is LoopbackController


def test_smtplib_view_only_while_listening(tmp_path, monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    assert not smtplib_view_installed()
    server = LocalServer(maildir=tmp_path / "Maildir").start()
    assert smtplib_view_installed()
    assert socket.create_connection.__module__ == "socket"
    server.stop()
    assert not smtplib_view_installed()
    assert smtplib.socket is socket
    assert ssl.SSLContext.sslsocket_class is ssl.SSLSocket


def test_other_host_unreachable_without_lookup(tmp_path, monkeypatch):
    # As under Pyodide, where the real network is never tried.
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    monkeypatch.setattr(NETWORK, "reach_real_network", False)
    looked_up = []
    monkeypatch.setattr(socket, "getaddrinfo", lambda *a, **k: looked_up.append(a))
    with LocalServer(maildir=tmp_path / "Maildir"):
        with pytest.raises(OSError) as caught:
            smtplib.SMTP("smtp.ejemplo.test", 587, timeout=10)
    assert caught.value.errno == errno.ENETUNREACH
    assert "smtp.ejemplo.test" in str(caught.value)
    assert looked_up == []


def test_localhost_name_reaches_server(tmp_path, monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    with LocalServer(maildir=tmp_path / "Maildir") as server:
        with smtplib.SMTP("localhost", server.port, timeout=10) as client:
            code, _ = client.noop()
    assert code == 250


def test_explicit_port_taken_in_memory(monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    with LocalServer() as first:
        with pytest.raises(OSError) as caught:
            LocalServer(port=first.port).start()
    assert caught.value.errno == errno.EADDRINUSE


def test_free_port_refused_without_network(monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    monkeypatch.setattr(NETWORK, "reach_real_network", False)
    with LocalServer() as server:
        with pytest.raises(ConnectionRefusedError) as caught:
            smtplib.SMTP(server.host, server.port + 1, timeout=10)
    assert caught.value.errno == errno.ECONNREFUSED


def test_stop_closes_open_connection(monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    server = LocalServer().start()
    client = smtplib.SMTP(server.host, server.port, timeout=10)
    server.stop()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        client.noop()
    client.close()


def test_server_idle_timeout_on_virtual_clock():
    controller = MemoryController(_NullHandler(), timeout=30)
    controller.start()
    try:
        client = smtplib.SMTP("127.0.0.1", controller.port, timeout=60)
        with pytest.raises(smtplib.SMTPServerDisconnected) as caught:
            client.getreply()
        client.close()
    finally:
        controller.stop()
    assert str(caught.value) == "Connection unexpectedly closed"


def test_client_timeout_before_server_timeout():
    controller = MemoryController(_NullHandler(), timeout=300)
    controller.start()
    try:
        client = smtplib.SMTP("127.0.0.1", controller.port, timeout=5)
        with pytest.raises(smtplib.SMTPServerDisconnected) as caught:
            client.getreply()
        client.close()
    finally:
        controller.stop()
    assert str(caught.value) == "Connection unexpectedly closed: timed out"


def test_works_inside_running_task(tmp_path, monkeypatch):
    # A notebook cell runs inside a task of the kernel's own event loop.
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")

    async def cell() -> dict:
        outer_task = asyncio.current_task()
        with LocalServer(maildir=tmp_path / "Maildir") as server:
            with smtplib.SMTP(server.host, server.port, timeout=10) as client:
                refused = client.send_message(make_message())
        assert asyncio.current_task() is outer_task
        return refused

    assert asyncio.run(cell()) == {}


def test_two_clients_interleaved(tmp_path, monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    with LocalServer(maildir=tmp_path / "Maildir") as server:
        first = smtplib.SMTP(server.host, server.port, timeout=10)
        second = smtplib.SMTP(server.host, server.port, timeout=10)
        first.send_message(make_message(subject="uno"))
        second.send_message(make_message(subject="dos"))
        first.quit()
        second.quit()
        subjects = sorted(message.subject for message in server.inbox)
    assert subjects == ["dos", "uno"]


def test_sockets_closed_after_quit(monkeypatch):
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    with LocalServer() as server:
        client = smtplib.SMTP(server.host, server.port, timeout=10)
        sock = client.sock
        client.quit()
        listener = NETWORK.listeners[(server.host, server.port)]
        still_open = [c for c in listener.connections if not c.server_closed]
    assert isinstance(sock, LoopbackSocket)
    assert still_open == []


def test_untested_python_raises(monkeypatch):
    monkeypatch.setattr(_asyncio_internals, "TESTED_PYTHON_VERSIONS", ())
    controller = MemoryController(_NullHandler())
    with pytest.raises(LoopbackUnsupportedError):
        controller.start()
    assert NETWORK.listeners == {}


def test_other_sockets_still_wrap_tls(monkeypatch, tmp_path):
    # While the hook is installed, a real TCP socket still gets a real SSLSocket.
    # The simulator starts on sockets before memory mode is chosen.
    simulator = ProviderSimulator(maildir=tmp_path / "provider").start()
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    with LocalServer(maildir=tmp_path / "Maildir"):
        try:
            with smtplib.SMTP_SSL(
                simulator.host,
                simulator.tls_port,
                context=simulator.client_context(),
                timeout=10,
            ) as client:
                sock_type = type(client.sock)
                code, _ = client.noop()
        finally:
            simulator.stop()
    assert issubclass(sock_type, ssl.SSLSocket)
    assert code == 250


class _NullHandler:
    """An aiosmtpd handler with no hooks, so aiosmtpd's default replies apply."""


def test_transcript_comparison_sees_greeting(tmp_path, monkeypatch):
    # Negative control: a different greeting name must change the transcript,
    # so equal transcripts above mean both servers sent the same replies.
    over_socket = run_scenario(send_plain, "socket", tmp_path / "socket", monkeypatch)
    monkeypatch.setattr(
        "mailcourse.server.SERVER_HOSTNAME", "otro-servidor.test", raising=True
    )
    in_memory = run_scenario(send_plain, "memory", tmp_path / "memory", monkeypatch)
    assert "otro-servidor.test" in in_memory
    assert in_memory != over_socket
