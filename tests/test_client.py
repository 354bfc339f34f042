"""The client helpers against the real simulator and local server on 127.0.0.1."""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
import sys
from email.message import EmailMessage
from typing import Any

import pytest

from sample_messages import make_message
from mailcourse import ACCENT_PASSWORD, ACCENT_USER, LAB_PASSWORD, LAB_USER
from mailcourse.client import (
    CLIENT_HOSTNAME,
    connect,
    default_context,
    envelope_recipients,
    login,
    send,
)
from mailcourse.controller import LoopbackController
from mailcourse.maildir_store import MaildirStore
from mailcourse.provider import build_provider_protocol, provider_smtp_kwargs
from mailcourse.settings import ConnectionSettings
from mailcourse.tls import TestCertificateAuthority, client_context_for

REFUSED = "nadie@rechazado.test"


def _port(simulator, security: str) -> int:
    return simulator.tls_port if security == "tls" else simulator.starttls_port


def _settings(simulator, security="tls", user=LAB_USER, password=LAB_PASSWORD):
    return ConnectionSettings(
        host=simulator.host,
        port=_port(simulator, security),
        security=security,
        user=user,
        password=password,
        timeout=10,
    )


@pytest.fixture
def login_only_server(tmp_path):
    """An implicit-TLS server that offers AUTH LOGIN but not PLAIN, and its CA."""
    authority = TestCertificateAuthority()
    ca_file = authority.write_ca_file(tmp_path / "ca.pem")
    protocol = build_provider_protocol(MaildirStore(tmp_path / "Maildir"))
    kwargs = provider_smtp_kwargs(protocol, "tls")
    kwargs["auth_exclude_mechanism"] = ["PLAIN"]
    controller = LoopbackController.from_smtp_kwargs(
        kwargs, ssl_context=authority.server_context()
    )
    controller.start()
    yield controller.port, client_context_for(ca_file)
    controller.stop()


@pytest.fixture
def closed_port():
    """A port on 127.0.0.1 that was bound and closed, so nothing listens there."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return port


# connect


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_connect_returns_encrypted_client(provider_simulator, security):
    port = _port(provider_simulator, security)
    with connect(provider_simulator.host, port, security=security) as client:
        assert isinstance(client.sock, ssl.SSLSocket)
        assert client.sock.version() in ("TLSv1.2", "TLSv1.3")


def test_connect_starttls_ends_after_ehlo(provider_simulator):
    with connect(
        provider_simulator.host, provider_simulator.starttls_port, security="starttls"
    ) as client:
        assert client.has_extn("auth")
        assert not client.has_extn("starttls")


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_connect_rejects_untrusted_certificate(provider_simulator, security):
    port = _port(provider_simulator, security)
    with pytest.raises(ssl.SSLCertVerificationError):
        connect(
            provider_simulator.host,
            port,
            security=security,
            context=ssl.create_default_context(),
        )


def test_connect_accepts_simulator_context(provider_simulator):
    with connect(
        provider_simulator.host,
        provider_simulator.tls_port,
        security="tls",
        context=provider_simulator.client_context(),
    ) as client:
        assert client.noop()[0] == 250


def test_connect_rejects_unchecked_host_name(provider_simulator):
    context = provider_simulator.client_context()
    context.check_hostname = False
    with pytest.raises(ValueError) as caught:
        connect(
            provider_simulator.host,
            provider_simulator.tls_port,
            security="tls",
            context=context,
        )
    assert "no comprueba el certificado" in str(caught.value)


def test_connect_default_timeout_on_socket(local_server):
    with connect(local_server.host, local_server.port, security="none") as client:
        assert client.timeout == 10
        assert client.sock.gettimeout() == 10


def test_connect_custom_timeout_on_socket(local_server):
    with connect(
        local_server.host, local_server.port, security="none", timeout=2.5
    ) as client:
        assert client.sock.gettimeout() == 2.5


def test_connect_rejects_unknown_security(local_server):
    invalid_security: Any = "ssl"
    with pytest.raises(ValueError) as caught:
        connect(local_server.host, local_server.port, security=invalid_security)
    assert "'ssl'" in str(caught.value)


def test_connect_uses_fixed_ehlo_name(local_server):
    with connect(local_server.host, local_server.port, security="none") as client:
        client.ehlo()
        assert client.local_hostname == CLIENT_HOSTNAME


def test_connect_debug_shows_greeting(local_server, capsys):
    with connect(
        local_server.host, local_server.port, security="none", debuglevel=1
    ) as client:
        client.noop()
    printed = capsys.readouterr().err
    assert "reply: b'220 smtp.curso.test" in printed


def test_connect_closed_port_is_refused(closed_port):
    with pytest.raises(ConnectionRefusedError):
        connect("127.0.0.1", closed_port, security="none", timeout=2)


def test_connect_tls_on_starttls_port_fails(provider_simulator):
    with pytest.raises(ssl.SSLError) as caught:
        connect(
            provider_simulator.host,
            provider_simulator.starttls_port,
            security="tls",
            timeout=2,
        )
    assert "WRONG_VERSION_NUMBER" in str(caught.value)


def test_default_context_adds_ca_only_for_simulator(provider_simulator, closed_port):
    elsewhere = default_context("127.0.0.1", closed_port)
    for port in (provider_simulator.tls_port, provider_simulator.starttls_port):
        for host in ("127.0.0.1", "localhost"):
            trusted = default_context(host, port)
            assert len(trusted.get_ca_certs()) == len(elsewhere.get_ca_certs()) + 1


def test_default_context_skips_stopped_simulator(provider_simulator):
    port = provider_simulator.tls_port
    with_simulator = len(default_context("127.0.0.1", port).get_ca_certs())
    provider_simulator.stop()
    without_simulator = len(default_context("127.0.0.1", port).get_ca_certs())
    assert without_simulator == with_simulator - 1


# login


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_login_lab_account(provider_simulator, security):
    port = _port(provider_simulator, security)
    with connect(provider_simulator.host, port, security=security) as client:
        code, _ = login(client, LAB_USER, LAB_PASSWORD)
    assert code == 235


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_login_utf8_password(provider_simulator, security):
    port = _port(provider_simulator, security)
    with connect(provider_simulator.host, port, security=security) as client:
        code, _ = login(client, ACCENT_USER, ACCENT_PASSWORD)
    assert code == 235


def test_login_utf8_password_then_send(provider_simulator):
    with connect(
        provider_simulator.host, provider_simulator.tls_port, security="tls"
    ) as client:
        login(client, ACCENT_USER, ACCENT_PASSWORD)
        refused = client.send_message(make_message())
    assert refused == {}
    assert len(provider_simulator.inbox) == 1


def test_login_wrong_utf8_password(provider_simulator):
    with connect(
        provider_simulator.host, provider_simulator.tls_port, security="tls", timeout=2
    ) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            login(client, ACCENT_USER, "contraseña-equivocada")
    assert caught.value.smtp_code == 535


def test_login_wrong_ascii_password(provider_simulator):
    with connect(
        provider_simulator.host, provider_simulator.tls_port, security="tls", timeout=2
    ) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            login(client, LAB_USER, "otra-clave")
    assert caught.value.smtp_code == 535


def test_login_utf8_with_auth_login(login_only_server):
    port, context = login_only_server
    with connect("127.0.0.1", port, security="tls", context=context) as client:
        client.ehlo()
        assert client.esmtp_features["auth"].split() == ["LOGIN"]
        code, _ = login(client, ACCENT_USER, ACCENT_PASSWORD)
    assert code == 235


def test_login_wrong_utf8_with_auth_login(login_only_server):
    port, context = login_only_server
    with connect("127.0.0.1", port, security="tls", context=context) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            login(client, ACCENT_USER, "contraseña-mala")
    assert caught.value.smtp_code == 535


def test_login_twice_returns_503(provider_simulator):
    with connect(
        provider_simulator.host, provider_simulator.tls_port, security="tls"
    ) as client:
        login(client, ACCENT_USER, ACCENT_PASSWORD)
        code, _ = login(client, ACCENT_USER, ACCENT_PASSWORD)
    assert code == 503


@pytest.mark.parametrize(
    ("user", "password"),
    [(LAB_USER, LAB_PASSWORD), (ACCENT_USER, ACCENT_PASSWORD)],
)
def test_login_without_tls_not_offered(provider_simulator, user, password):
    # The STARTTLS port hides AUTH until STARTTLS.
    with connect(
        provider_simulator.host, provider_simulator.starttls_port, security="none"
    ) as client:
        with pytest.raises(smtplib.SMTPNotSupportedError):
            login(client, user, password)


# send


@pytest.mark.parametrize("security", ["tls", "starttls"])
def test_send_partial_refusal(provider_simulator, security):
    message = make_message(to=f"luis@ejemplo.test, {REFUSED}")
    result = send(_settings(provider_simulator, security), message)
    assert result.accepted == ["luis@ejemplo.test"]
    assert list(result.refused) == [REFUSED]
    assert result.refused[REFUSED][0] == 550


def test_send_total_refusal_raises(provider_simulator):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        send(_settings(provider_simulator), make_message(to=REFUSED))
    assert caught.value.recipients[REFUSED][0] == 550
    assert "550 5.1.1" in caught.value.transcript


def test_send_without_user_gets_530(provider_simulator):
    settings = _settings(provider_simulator, user=None, password=None)
    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        send(settings, make_message())
    assert caught.value.smtp_code == 530


def test_send_wrong_password_raises(provider_simulator):
    settings = _settings(provider_simulator, password="no-es-esta")
    with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        send(settings, make_message())
    assert caught.value.smtp_code == 535
    assert "no-es-esta" not in caught.value.transcript


@pytest.mark.parametrize(
    ("user", "password"),
    [(LAB_USER, LAB_PASSWORD), (ACCENT_USER, ACCENT_PASSWORD)],
)
def test_send_transcript_hides_password(provider_simulator, user, password):
    settings = _settings(provider_simulator, "starttls", user, password)
    result = send(settings, make_message())
    plain_payload = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
    assert "AUTH PLAIN" in result.transcript
    assert password not in result.transcript
    assert plain_payload not in result.transcript


def test_send_transcript_has_dialogue(provider_simulator):
    result = send(_settings(provider_simulator, "starttls"), make_message())
    assert "reply: b'220 smtp.curso.test" in result.transcript
    assert "send: 'STARTTLS\\r\\n'" in result.transcript
    assert "reply: b'221 Bye\\r\\n'" in result.transcript


def test_send_bcc_accepted_not_shown(provider_simulator):
    message = make_message()
    message["Bcc"] = "oculto@ejemplo.test"
    result = send(_settings(provider_simulator), message)
    stored = provider_simulator.inbox.latest()
    assert result.accepted == ["luis@ejemplo.test", "oculto@ejemplo.test"]
    assert stored.bcc == ""
    assert message["Bcc"] == "oculto@ejemplo.test"


def test_send_local_server_no_login(local_server):
    settings = ConnectionSettings(
        host=local_server.host, port=local_server.port, security="none"
    )
    result = send(settings, make_message(to="José <josé@ejemplo.test>"))
    assert result.accepted == ["josé@ejemplo.test"]
    assert result.refused == {}


def test_send_restores_stderr(closed_port):
    stderr_before = sys.stderr
    settings = ConnectionSettings(host="127.0.0.1", port=closed_port, security="none")
    with pytest.raises(ConnectionRefusedError):
        send(settings, make_message())
    assert sys.stderr is stderr_before


def test_send_without_recipients_fails_early(closed_port):
    message = make_message()
    del message["To"]
    settings = ConnectionSettings(host="127.0.0.1", port=closed_port, security="none")
    with pytest.raises(ValueError) as caught:
        send(settings, message)
    assert "destinatarios" in str(caught.value)


def test_send_repr_hides_transcript(provider_simulator):
    result = send(_settings(provider_simulator), make_message())
    assert "transcript" not in repr(result)


# envelope_recipients


def test_recipients_from_to_cc_bcc():
    message = EmailMessage()
    message["To"] = "Ana <ana@ejemplo.test>, luis@ejemplo.test"
    message["Cc"] = "eva@ejemplo.test"
    message["Bcc"] = "oculto@ejemplo.test"
    assert envelope_recipients(message) == [
        "ana@ejemplo.test",
        "luis@ejemplo.test",
        "oculto@ejemplo.test",
        "eva@ejemplo.test",
    ]


def test_recipients_from_resent_block():
    message = make_message()
    message["Resent-Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    message["Resent-To"] = "nuevo@ejemplo.test"
    assert envelope_recipients(message) == ["nuevo@ejemplo.test"]


def test_recipients_reject_two_resent_blocks():
    message = make_message()
    message["Resent-Date"] = "Mon, 1 Jun 2026 10:00:00 +0200"
    message["Resent-Date"] = "Tue, 2 Jun 2026 10:00:00 +0200"
    with pytest.raises(ValueError):
        envelope_recipients(message)


class _DropOnQuit:
    """An aiosmtpd handler that accepts mail, then hangs up instead of 221."""

    def __init__(self) -> None:
        self.delivered = 0

    async def handle_DATA(self, server, session, envelope):
        self.delivered += 1
        return "250 OK"

    async def handle_QUIT(self, server, session, envelope):
        server.transport.close()
        return None


def test_send_survives_quit_failure():
    handler = _DropOnQuit()
    controller = LoopbackController(handler)
    controller.start()
    try:
        settings = ConnectionSettings(
            host="127.0.0.1", port=controller.port, security="none"
        )
        result = send(settings, make_message())
    finally:
        controller.stop()
    assert result.accepted == ["luis@ejemplo.test"]
    assert result.refused == {}
    assert handler.delivered == 1
