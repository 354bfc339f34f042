"""Safe defaults: loopback only, no relay, verified TLS and a timeout always."""

from __future__ import annotations

import ssl
import sys
import threading

import pytest

from sample_messages import make_message
from mailcourse import start_local_server
from mailcourse.auth import LAB_PASSWORD, LAB_USER
from mailcourse.client import connect, login
from mailcourse.provider import start_provider_simulator

_connects: list[tuple[str, object]] = []
_recording = threading.Event()


def _audit(event: str, arguments: tuple) -> None:
    if event == "socket.connect" and _recording.is_set():
        _connects.append((threading.current_thread().name, arguments[1]))


sys.addaudithook(_audit)


def test_local_server_only_on_loopback():
    server = start_local_server()
    assert server.host == "127.0.0.1"
    assert server.listening_addresses == [("127.0.0.1", server.port)]


def test_simulator_only_on_loopback():
    simulator = start_provider_simulator()
    try:
        addresses = simulator.listening_addresses
        ports = [simulator.tls_port, simulator.starttls_port]
    finally:
        simulator.stop()
    assert addresses == [("127.0.0.1", port) for port in ports]


def test_external_recipient_stored_not_relayed():
    server = start_local_server()
    _connects.clear()
    _recording.set()
    try:
        with connect(server.host, server.port, security="none") as client:
            client.send_message(make_message(to="alguien@gmail.com"))
    finally:
        _recording.clear()
    destinations = [address for _, address in _connects]
    assert destinations == [("127.0.0.1", server.port)]
    assert server.inbox.latest().envelope_recipients == ["alguien@gmail.com"]


def test_client_rejects_unverified_context():
    simulator = start_provider_simulator()
    try:
        unverified = ssl._create_unverified_context()
        with pytest.raises(ValueError) as caught:
            connect(
                simulator.host,
                simulator.tls_port,
                security="tls",
                context=unverified,
            )
    finally:
        simulator.stop()
    assert "no comprueba el certificado" in str(caught.value)


@pytest.mark.parametrize("timeout", [None, 0, -1])
def test_client_requires_timeout(timeout):
    server = start_local_server()
    with pytest.raises(ValueError) as caught:
        connect(server.host, server.port, security="none", timeout=timeout)
    assert "tiempo de espera" in str(caught.value)


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_client_default_context_verifies(security):
    simulator = start_provider_simulator()
    port = simulator.tls_port if security == "tls" else simulator.starttls_port
    try:
        with connect(simulator.host, port, security=security) as client:
            tls_context = client.sock.context
            assert login(client, LAB_USER, LAB_PASSWORD)[0] == 235
            assert client.timeout == 10
    finally:
        simulator.stop()
    assert tls_context.verify_mode == ssl.CERT_REQUIRED
    assert tls_context.check_hostname


def test_simulator_ca_not_trusted_elsewhere():
    simulator = start_provider_simulator()
    server = start_local_server()
    try:
        from mailcourse.client import default_context

        elsewhere = default_context(server.host, server.port)
        trusted = default_context(simulator.host, simulator.tls_port)
    finally:
        simulator.stop()
    assert len(trusted.get_ca_certs()) == len(elsewhere.get_ca_certs()) + 1
