"""Diagnosis of real failures, each reproduced on 127.0.0.1 where possible.

Most errors come from the real smtplib client talking to the provider
simulator, the bundled server, or a small aiosmtpd server started here that
replies with a provider's wording. Errors that cannot be produced on one
machine without the network (name resolution, unreachable networks) use the
exception object exactly as ``socket`` raises it.
"""

from __future__ import annotations

import errno
import json
import smtplib
import socket
import socketserver
import ssl
import threading
from collections.abc import Callable, Iterator

import pytest
import trustme
from aiosmtpd.smtp import AuthResult

from sample_messages import make_message
from mailcourse import (
    ACCENT_PASSWORD,
    ACCENT_USER,
    LAB_PASSWORD,
    LAB_USER,
    start_local_server,
    start_provider_simulator,
)
from mailcourse.controller import LoopbackController
from mailcourse.diagnosis import Diagnosis, diagnose, diagnose_refused, explain, kinds
from mailcourse.settings import ConnectionSettings

WRONG_PASSWORD = "equivocada-2026"
REFUSED = "nadie@rechazado.test"

GMAIL_APP_PASSWORD_REPLY = (
    "534-5.7.9 Application-specific password required. For more information, go to\r\n"
    "534 5.7.9  https://support.google.com/mail/?p=InvalidSecondFactor "
    "a1-20020a05600c000000b0040000000000sm100000wmq.1 - gsmtp"
)
GMAIL_BAD_CREDENTIALS_REPLY = (
    "535-5.7.8 Username and Password not accepted. For more information, go to\r\n"
    "535 5.7.8  https://support.google.com/mail/?p=BadCredentials "
    "a1-20020a05600c000000b0040000000000sm100000wmq.1 - gsmtp"
)
MICROSOFT_BASIC_AUTH_REPLY = (
    "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. "
    "[AM0PR01CA0000.eurprd01.prod.exchangelabs.com 2026-12-04T10:00:00.000Z]"
)
MICROSOFT_TENANT_REPLY = (
    "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled "
    "for the Tenant. Visit https://aka.ms/smtp_auth_disabled for more information."
)
MICROSOFT_CLIENT_SUBMISSION_REPLY = (
    "550 5.7.30 Basic authentication is not supported for Client Submission."
)


# Servers started by these tests


class FailingAuthenticator:
    """An aiosmtpd authenticator that rejects every login with a fixed reply."""

    def __init__(self, reply: str) -> None:
        self.reply = reply

    def __call__(self, server, session, envelope, mechanism, auth_data):
        return AuthResult(success=False, handled=False, message=self.reply)


class ScriptedHandler:
    """An aiosmtpd handler whose replies to MAIL, DATA, EHLO and HELO are fixed."""

    def __init__(self, mail=None, data=None, ehlo=None, helo=None) -> None:
        self.mail, self.data, self.ehlo, self.helo = mail, data, ehlo, helo

    async def handle_MAIL(self, server, session, envelope, address, options):
        if self.mail:
            return self.mail
        envelope.mail_from = address
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        return self.data or "250 OK"

    async def handle_EHLO(self, server, session, envelope, hostname, responses):
        if self.ehlo:
            return [self.ehlo]
        session.host_name = hostname
        return responses

    async def handle_HELO(self, server, session, envelope, hostname):
        if self.helo:
            return self.helo
        session.host_name = hostname
        return "250 smtp.prueba.test"


class OAuthOnlyHandler(ScriptedHandler):
    """A handler that adds an XOAUTH2 mechanism, which smtplib cannot use."""

    async def auth_XOAUTH2(self, server, args):
        return AuthResult(success=False, handled=False)


@pytest.fixture
def start_server() -> Iterator[Callable[..., LoopbackController]]:
    """Start aiosmtpd servers on 127.0.0.1 with the given handler and options."""
    started: list[LoopbackController] = []

    def start(handler=None, **smtp_parameters) -> LoopbackController:
        smtp_parameters.setdefault("server_hostname", "smtp.prueba.test")
        controller = LoopbackController(handler or ScriptedHandler(), **smtp_parameters)
        controller.start()
        started.append(controller)
        return controller

    yield start
    for controller in started:
        controller.stop()


@pytest.fixture
def wording_server(start_server):
    """Start a server that offers AUTH in plain text and rejects it with ``reply``."""

    def start(reply: str) -> LoopbackController:
        return start_server(
            authenticator=FailingAuthenticator(reply), auth_require_tls=False
        )

    return start


def login_error(controller: LoopbackController) -> smtplib.SMTPException:
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPException) as raised:
            client.login("ana@ejemplo.test", WRONG_PASSWORD)
    return raised.value


def free_port() -> int:
    """Return a port on 127.0.0.1 that nothing listens on (bound, then closed)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def simulator(tmp_path):
    """A provider simulator started the way notebooks start it, so diagnose() finds it."""
    return start_provider_simulator(tmp_path / "Maildir-simulador")


@pytest.fixture
def course_server(tmp_path):
    """The bundled server started the way notebooks start it, so diagnose() finds it."""
    return start_local_server(maildir=tmp_path / "Maildir-local")


def assert_complete(diagnosis: Diagnosis) -> None:
    assert diagnosis.title
    assert len(diagnosis.cause) > 40
    assert len(diagnosis.fix) > 20


# Connecting


def test_connection_refused_names_address():
    port = free_port()
    with pytest.raises(ConnectionRefusedError) as raised:
        smtplib.SMTP("127.0.0.1", port, timeout=5)
    diagnosis = diagnose(raised.value, host="127.0.0.1", port=port)
    assert diagnosis.kind == kinds.CONNECTION_REFUSED
    assert f"127.0.0.1:{port}" in diagnosis.cause
    assert "start_local_server()" in diagnosis.fix
    assert_complete(diagnosis)


def test_connection_refused_lesson_port():
    port = free_port()
    with pytest.raises(ConnectionRefusedError) as raised:
        smtplib.SMTP("127.0.0.1", port, timeout=5)
    diagnosis = diagnose(raised.value, host="localhost", port=25)
    assert "localhost:25" in diagnosis.cause
    assert "ningún ordenador personal" in diagnosis.cause


def test_connection_refused_remote_host():
    port = free_port()
    with pytest.raises(ConnectionRefusedError) as raised:
        smtplib.SMTP("127.0.0.1", port, timeout=5)
    diagnosis = diagnose(raised.value, host="smtp.ejemplo.test", port=2525)
    assert "smtp.ejemplo.test:2525" in diagnosis.cause
    assert "587" in diagnosis.fix


@pytest.fixture
def full_backlog() -> Iterator[int]:
    """A port on 127.0.0.1 whose accept queue is full, so a new connect times out."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(8):
        filler = socket.socket()
        filler.settimeout(0.5)
        fillers.append(filler)
        try:
            filler.connect(listener.getsockname())
        except TimeoutError:
            break
    else:
        pytest.fail("the accept queue never filled up")
    yield listener.getsockname()[1]
    for filler in fillers:
        filler.close()
    listener.close()


def test_connect_timeout_port_25(full_backlog):
    with pytest.raises(TimeoutError) as raised:
        smtplib.SMTP("127.0.0.1", full_backlog, timeout=1)
    diagnosis = diagnose(raised.value, host="smtp.ejemplo.test", port=25)
    assert diagnosis.kind == kinds.CONNECT_TIMEOUT
    assert "587" in diagnosis.fix
    assert "timeout=10" in diagnosis.fix
    assert "bloquean" in diagnosis.cause


def test_connect_timeout_other_port(full_backlog):
    with pytest.raises(TimeoutError) as raised:
        smtplib.SMTP("127.0.0.1", full_backlog, timeout=1)
    diagnosis = diagnose(raised.value, host="127.0.0.1", port=full_backlog)
    assert diagnosis.kind == kinds.CONNECT_TIMEOUT
    assert f"127.0.0.1:{full_backlog}" in diagnosis.title


def resolver_error_unknown_name() -> socket.gaierror:
    # AI_NUMERICHOST makes getaddrinfo fail on any name without asking a DNS
    # server, and it raises the same gaierror an unknown name gives.
    with pytest.raises(socket.gaierror) as raised:
        socket.getaddrinfo("smtp.gmial.invalid", 587, flags=socket.AI_NUMERICHOST)
    return raised.value


def test_host_not_found_names_host():
    error = resolver_error_unknown_name()
    diagnosis = diagnose(error, host="smtp.gmial.com", port=587)
    assert error.errno == socket.EAI_NONAME
    assert diagnosis.kind == kinds.HOST_NOT_FOUND
    assert "smtp.gmial.com" in diagnosis.title
    assert "errata" in diagnosis.cause


@pytest.mark.parametrize(
    ("host", "hint"),
    [
        ("ana@gmail.com", "dirección de correo"),
        ("https://smtp.gmail.com", "https://"),
        ("smtp.gmail.com:587", "Quita el puerto"),
    ],
)
def test_host_not_found_shape_hints(host, hint):
    diagnosis = diagnose(resolver_error_unknown_name(), host=host)
    assert hint in diagnosis.fix


def test_host_lookup_temporary_failure():
    # As the resolver raises it without network: EAI_AGAIN.
    error = socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    diagnosis = diagnose(error, host="smtp.gmail.com")
    assert diagnosis.kind == kinds.HOST_NOT_FOUND
    assert "internet" in diagnosis.fix


def test_network_unreachable():
    # As connect() raises it when no route exists; no packet can be sent here.
    error = OSError(errno.ENETUNREACH, "Network is unreachable")
    diagnosis = diagnose(error, host="smtp.gmail.com", port=587)
    assert diagnosis.kind == kinds.NETWORK_UNREACHABLE
    assert "smtp.gmail.com:587" in diagnosis.title


def test_greeting_rejected(tmp_path):
    class RejectingGreeting(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.sendall(b"554 5.7.1 No hay servicio para tu red\r\n")

    with socketserver.TCPServer(("127.0.0.1", 0), RejectingGreeting) as server:
        thread = threading.Thread(target=server.handle_request)
        thread.start()
        port = server.server_address[1]
        with pytest.raises(smtplib.SMTPConnectError) as raised:
            smtplib.SMTP("127.0.0.1", port, timeout=5)
        thread.join()
    diagnosis = diagnose(raised.value, host="127.0.0.1", port=port)
    assert diagnosis.kind == kinds.CONNECT_REJECTED
    assert "554" in diagnosis.cause
    assert "No hay servicio" in diagnosis.details


def test_plain_smtp_on_tls_port(simulator):
    with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
        smtplib.SMTP(simulator.host, simulator.tls_port, timeout=1)
    diagnosis = diagnose(
        raised.value,
        host=simulator.host,
        port=simulator.tls_port,
        security="starttls",
    )
    assert diagnosis.kind == kinds.PLAIN_ON_TLS_PORT
    assert f"El puerto {simulator.tls_port}" in diagnosis.cause
    assert "SMTP_SSL" in diagnosis.fix


def test_plain_on_port_465_by_number(provider_simulator):
    with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
        smtplib.SMTP(provider_simulator.host, provider_simulator.tls_port, timeout=1)
    diagnosis = diagnose(raised.value, host="smtp.gmail.com", port=465)
    assert diagnosis.kind == kinds.PLAIN_ON_TLS_PORT


def test_plain_on_tls_without_context(provider_simulator):
    with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
        smtplib.SMTP(provider_simulator.host, provider_simulator.tls_port, timeout=1)
    assert diagnose(raised.value).kind == kinds.PLAIN_ON_TLS_PORT


def test_plain_on_tls_port_closed():
    # Some implicit-TLS servers close at once when the client says nothing.
    class ClosingAtOnce(socketserver.BaseRequestHandler):
        def handle(self):
            self.request.close()

    with socketserver.TCPServer(("127.0.0.1", 0), ClosingAtOnce) as server:
        thread = threading.Thread(target=server.handle_request)
        thread.start()
        with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
            smtplib.SMTP("127.0.0.1", server.server_address[1], timeout=5)
        thread.join()
    diagnosis = diagnose(raised.value, host="smtp.gmail.com", port=465)
    assert str(raised.value) == "Connection unexpectedly closed"
    assert diagnosis.kind == kinds.PLAIN_ON_TLS_PORT
    assert "(como el 465)" not in diagnosis.cause


def test_security_alias_understood(simulator):
    with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
        smtplib.SMTP(simulator.host, simulator.tls_port, timeout=1)
    diagnosis = diagnose(
        raised.value, host=simulator.host, port=simulator.tls_port, security="Plain"
    )
    assert diagnosis.kind == kinds.PLAIN_ON_TLS_PORT


def test_server_closed_connection(local_server):
    client = smtplib.SMTP(local_server.host, local_server.port, timeout=10)
    client.docmd("QUIT")  # The server closes; smtplib does not know yet.
    with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
        client.noop()
    diagnosis = diagnose(raised.value, host=local_server.host, port=local_server.port)
    assert diagnosis.kind == kinds.SERVER_DISCONNECTED
    assert "cerró la conexión" in diagnosis.title


def test_used_after_quit(local_server):
    with smtplib.SMTP(local_server.host, local_server.port, timeout=10) as client:
        client.noop()
    with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
        client.send_message(make_message())
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.NOT_CONNECTED
    assert "with" in diagnosis.fix



def test_never_connected_not_closed():
    client = smtplib.SMTP()  # No host given, so nothing is connected.
    with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
        client.send_message(make_message())
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.NEVER_CONNECTED
    assert "cerrar" not in diagnosis.cause
    assert "connect(" in diagnosis.fix


def test_closed_after_explicit_connect(local_server):
    client = smtplib.SMTP()
    client.connect(local_server.host, local_server.port)
    client.quit()
    with pytest.raises(smtplib.SMTPServerDisconnected) as raised:
        client.send_message(make_message())
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.NOT_CONNECTED
    assert "cerrada" in diagnosis.title


def test_disconnected_built_by_hand():
    error = smtplib.SMTPServerDisconnected("please run connect() first")
    diagnosis = diagnose(error)
    assert diagnosis.kind == kinds.NOT_CONNECTED
    assert "no se llegó a conectar" in diagnosis.cause

# TLS


def test_smtp_ssl_on_starttls_port(provider_simulator):
    with pytest.raises(ssl.SSLError) as raised:
        smtplib.SMTP_SSL(
            provider_simulator.host,
            provider_simulator.starttls_port,
            context=provider_simulator.client_context(),
            timeout=10,
        )
    diagnosis = diagnose(
        raised.value,
        host=provider_simulator.host,
        port=provider_simulator.starttls_port,
        security="tls",
    )
    assert diagnosis.kind == kinds.SSL_ON_STARTTLS_PORT
    assert "starttls(" in diagnosis.fix
    assert str(provider_simulator.starttls_port) in diagnosis.cause


def test_untrusted_simulator_certificate(simulator):
    with pytest.raises(ssl.SSLCertVerificationError) as raised:
        smtplib.SMTP_SSL(
            simulator.host,
            simulator.tls_port,
            context=ssl.create_default_context(),
            timeout=10,
        )
    diagnosis = diagnose(raised.value, host=simulator.host, port=simulator.tls_port)
    assert diagnosis.kind == kinds.CERTIFICATE_NOT_TRUSTED
    assert "client_context()" in diagnosis.fix


def test_untrusted_certificate_elsewhere(provider_simulator):
    with pytest.raises(ssl.SSLCertVerificationError) as raised:
        smtplib.SMTP_SSL(
            provider_simulator.host,
            provider_simulator.tls_port,
            context=ssl.create_default_context(),
            timeout=10,
        )
    diagnosis = diagnose(raised.value, host="smtp.ejemplo.test", port=465)
    assert "No desactives la verificación" in diagnosis.fix


@pytest.fixture
def server_for_other_name(start_server):
    """An implicit-TLS server on 127.0.0.1 whose certificate names another host."""
    authority = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert("smtp.otro-nombre.test").configure_cert(server_context)
    client_context = ssl.create_default_context()
    authority.configure_trust(client_context)
    controller = start_server(ssl_context=server_context)
    return controller, client_context


def test_hostname_mismatch(server_for_other_name):
    controller, client_context = server_for_other_name
    with pytest.raises(ssl.SSLCertVerificationError) as raised:
        smtplib.SMTP_SSL(
            "127.0.0.1", controller.port, context=client_context, timeout=10
        )
    diagnosis = diagnose(raised.value, host="127.0.0.1", port=controller.port)
    assert diagnosis.kind == kinds.HOSTNAME_MISMATCH
    assert "127.0.0.1" in diagnosis.title
    assert "nombre exacto" in diagnosis.fix


def test_smtp_ssl_on_course_server(course_server):
    with pytest.raises(ssl.SSLError) as raised:
        smtplib.SMTP_SSL(course_server.host, course_server.port, timeout=10)
    diagnosis = diagnose(
        raised.value, host=course_server.host, port=course_server.port, security="tls"
    )
    assert diagnosis.kind == kinds.TLS_ON_COURSE_SERVER
    assert "smtplib.SMTP(servidor.host, servidor.port)" in diagnosis.fix
    assert "sin starttls()" in diagnosis.fix
    assert "después starttls(" not in diagnosis.fix


def test_smtp_ssl_course_server_no_context(course_server):
    with pytest.raises(ssl.SSLError) as raised:
        smtplib.SMTP_SSL(f"{course_server.host}:{course_server.port}", timeout=10)
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.TLS_ON_COURSE_SERVER
    assert f"{course_server.host}:{course_server.port}" in diagnosis.cause


def test_smtp_ssl_unregistered_loopback_server(local_server):
    # Built from its class, this server is not in running_servers().
    with pytest.raises(ssl.SSLError) as raised:
        smtplib.SMTP_SSL(local_server.host, local_server.port, timeout=10)
    diagnosis = diagnose(raised.value, host=local_server.host, port=local_server.port)
    assert diagnosis.kind == kinds.SSL_ON_STARTTLS_PORT


def test_starttls_on_course_server(course_server):
    with smtplib.SMTP(course_server.host, course_server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPNotSupportedError) as raised:
            client.starttls()
    diagnosis = diagnose(raised.value, host=course_server.host, port=course_server.port)
    assert diagnosis.kind == kinds.STARTTLS_NOT_OFFERED
    assert "servidor del curso no cifra" in diagnosis.cause


def test_starttls_after_smtp_ssl(simulator):
    with smtplib.SMTP_SSL(
        simulator.host,
        simulator.tls_port,
        context=simulator.client_context(),
        timeout=10,
    ) as client:
        with pytest.raises(smtplib.SMTPNotSupportedError) as raised:
            client.starttls()
    diagnosis = diagnose(raised.value, host=simulator.host, port=simulator.tls_port)
    assert diagnosis.kind == kinds.STARTTLS_NOT_OFFERED
    assert "Quita la llamada a starttls()" in diagnosis.fix


def test_mail_before_starttls(provider_simulator):
    with smtplib.SMTP(
        provider_simulator.host, provider_simulator.starttls_port, timeout=10
    ) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as raised:
            client.send_message(make_message())
    diagnosis = diagnose(
        raised.value,
        host=provider_simulator.host,
        port=provider_simulator.starttls_port,
    )
    assert raised.value.smtp_code == 530
    assert diagnosis.kind == kinds.STARTTLS_REQUIRED


# Authentication


def test_auth_before_starttls(provider_simulator):
    with smtplib.SMTP(
        provider_simulator.host, provider_simulator.starttls_port, timeout=10
    ) as client:
        with pytest.raises(smtplib.SMTPNotSupportedError) as raised:
            client.login(LAB_USER, LAB_PASSWORD)
    diagnosis = diagnose(
        raised.value,
        host=provider_simulator.host,
        port=provider_simulator.starttls_port,
        security="none",
    )
    assert str(raised.value) == "SMTP AUTH extension not supported by server."
    assert diagnosis.kind == kinds.AUTH_NOT_OFFERED
    assert "antes de login()" in diagnosis.fix


def test_login_on_course_server(course_server):
    with smtplib.SMTP(course_server.host, course_server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPNotSupportedError) as raised:
            client.login(LAB_USER, LAB_PASSWORD)
    diagnosis = diagnose(raised.value, host=course_server.host, port=course_server.port)
    assert diagnosis.kind == kinds.AUTH_NOT_OFFERED
    assert "quita la llamada a login()" in diagnosis.fix


def test_wrong_password_simulator(simulator):
    with smtplib.SMTP_SSL(
        simulator.host,
        simulator.tls_port,
        context=simulator.client_context(),
        timeout=10,
    ) as client:
        with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
            client.login(LAB_USER, WRONG_PASSWORD)
    diagnosis = diagnose(
        raised.value,
        host=simulator.host,
        port=simulator.tls_port,
        secrets=[WRONG_PASSWORD],
    )
    assert diagnosis.kind == kinds.AUTH_FAILED
    assert "535" in diagnosis.cause
    assert "LAB_USER" in diagnosis.fix
    assert WRONG_PASSWORD not in str(diagnosis)


def test_wrong_password_known_provider(wording_server):
    error = login_error(wording_server("535 5.7.8 Authentication credentials invalid"))
    diagnosis = diagnose(error, host="smtp.mail.yahoo.com", port=465)
    assert diagnosis.kind == kinds.AUTH_FAILED
    assert "contraseña de aplicación" in diagnosis.fix


@pytest.mark.parametrize(
    ("reply", "code"),
    [(GMAIL_APP_PASSWORD_REPLY, 534), (GMAIL_BAD_CREDENTIALS_REPLY, 535)],
)
def test_gmail_wording(wording_server, reply, code):
    error = login_error(wording_server(reply))
    diagnosis = diagnose(error)
    assert error.smtp_code == code
    assert diagnosis.kind == kinds.GMAIL_APP_PASSWORD
    assert "contraseña de aplicación" in diagnosis.fix
    assert "verificación en dos pasos" in diagnosis.fix


def test_gmail_host_plain_535(wording_server):
    error = login_error(wording_server("535 5.7.8 Authentication credentials invalid"))
    assert diagnose(error, host="smtp.gmail.com").kind == kinds.GMAIL_APP_PASSWORD


@pytest.mark.parametrize(
    "reply",
    [
        MICROSOFT_BASIC_AUTH_REPLY,
        MICROSOFT_TENANT_REPLY,
        MICROSOFT_CLIENT_SUBMISSION_REPLY,
    ],
)
def test_microsoft_wording(wording_server, reply):
    error = login_error(wording_server(reply))
    diagnosis = diagnose(error, host="smtp.office365.com", port=587)
    assert diagnosis.kind == kinds.MICROSOFT_BASIC_AUTH_DISABLED
    assert "OAuth2" in diagnosis.cause
    assert "contraseña de aplicación" in diagnosis.cause


def test_microsoft_wrong_credentials(wording_server):
    error = login_error(
        wording_server(
            "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect."
        )
    )
    diagnosis = diagnose(error, host="smtp-mail.outlook.com", port=587)
    assert diagnosis.kind == kinds.AUTH_FAILED
    assert "OAuth2" in diagnosis.fix


def test_temporary_auth_failure(wording_server):
    error = login_error(wording_server("454 4.7.0 Temporary authentication failure"))
    assert diagnose(error).kind == kinds.AUTH_TEMPORARY_FAILURE


def test_oauth_only_server(start_server):
    controller = start_server(
        OAuthOnlyHandler(),
        authenticator=FailingAuthenticator("535 no"),
        auth_require_tls=False,
        auth_exclude_mechanism=["PLAIN", "LOGIN"],
    )
    error = login_error(controller)
    diagnosis = diagnose(error)
    assert diagnosis.kind == kinds.AUTH_MECHANISM_UNSUPPORTED
    assert "XOAUTH2" in diagnosis.cause


def test_non_ascii_password(provider_simulator):
    with smtplib.SMTP_SSL(
        provider_simulator.host,
        provider_simulator.tls_port,
        context=provider_simulator.client_context(),
        timeout=10,
    ) as client:
        with pytest.raises(UnicodeEncodeError) as raised:
            client.login(ACCENT_USER, ACCENT_PASSWORD)
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.NON_ASCII_CREDENTIALS
    assert "mailcourse.client.login" in diagnosis.fix
    assert ACCENT_PASSWORD not in str(diagnosis)
    assert "position" not in diagnosis.details


def test_non_ascii_password_built_by_hand():
    # Without a traceback, the NUL-separated PLAIN payload marks a login.
    error = UnicodeEncodeError(
        "ascii", f"\0{ACCENT_USER}\0{ACCENT_PASSWORD}", 27, 28, "x"
    )
    diagnosis = diagnose(error)
    assert diagnosis.kind == kinds.NON_ASCII_CREDENTIALS
    assert ACCENT_PASSWORD not in str(diagnosis)


def test_send_without_login(simulator):
    with smtplib.SMTP_SSL(
        simulator.host,
        simulator.tls_port,
        context=simulator.client_context(),
        timeout=10,
    ) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as raised:
            client.send_message(make_message())
    diagnosis = diagnose(raised.value, host=simulator.host, port=simulator.tls_port)
    assert diagnosis.kind == kinds.AUTH_REQUIRED
    assert "LAB_USER" in diagnosis.fix


# Sending


@pytest.fixture
def logged_in(provider_simulator):
    client = smtplib.SMTP_SSL(
        provider_simulator.host,
        provider_simulator.tls_port,
        context=provider_simulator.client_context(),
        timeout=10,
    )
    client.login(LAB_USER, LAB_PASSWORD)
    yield client
    client.close()


def test_all_recipients_refused(logged_in):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as raised:
        logged_in.send_message(make_message(sender=LAB_USER, to=REFUSED))
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.ALL_RECIPIENTS_REFUSED
    assert REFUSED in diagnosis.cause
    assert "550" in diagnosis.cause


def test_some_recipients_refused(logged_in):
    message = make_message(sender=LAB_USER, to=f"luis@ejemplo.test, {REFUSED}")
    refused = logged_in.send_message(message)
    diagnosis = diagnose(refused)
    assert diagnosis.kind == kinds.SOME_RECIPIENTS_REFUSED
    assert REFUSED in diagnosis.cause
    assert "luis@ejemplo.test" not in diagnosis.cause
    assert "una dirección" in diagnosis.title


def test_diagnose_refused_function(logged_in):
    message = make_message(sender=LAB_USER, to=f"luis@ejemplo.test, {REFUSED}")
    diagnosis = diagnose_refused(logged_in.send_message(message))
    assert diagnosis.kind == kinds.SOME_RECIPIENTS_REFUSED


def test_nothing_refused(logged_in):
    refused = logged_in.send_message(make_message(sender=LAB_USER))
    assert diagnose(refused).kind == kinds.ALL_RECIPIENTS_ACCEPTED


def test_no_recipients_explained(course_server):
    message = make_message()
    del message["To"]
    with smtplib.SMTP(course_server.host, course_server.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as raised:
            client.send_message(message)
    assert raised.value.recipients == {}
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.NO_RECIPIENTS
    assert "To, Cc y Bcc" in diagnosis.cause
    assert "mensaje['To']" in diagnosis.fix
    assert ". ." not in str(diagnosis)


def test_refused_recipients_text_clean(logged_in):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as raised:
        logged_in.send_message(make_message(sender=LAB_USER, to=REFUSED))
    assert ". ." not in str(diagnose(raised.value))


def test_sender_refused(start_server):
    controller = start_server(
        ScriptedHandler(
            mail="553 5.7.1 <ana@ejemplo.test>: Sender address rejected: not owned by user"
        )
    )
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as raised:
            client.send_message(make_message())
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.SENDER_REFUSED
    assert "ana@ejemplo.test" in diagnosis.title
    assert "login()" in diagnosis.fix


def test_message_too_large_simulator(logged_in, provider_simulator):
    body = ("x" * 76 + "\n") * (provider_simulator.max_message_size // 77 + 100)
    with pytest.raises(smtplib.SMTPSenderRefused) as raised:
        logged_in.send_message(make_message(sender=LAB_USER, body=body))
    diagnosis = diagnose(
        raised.value, host=provider_simulator.host, port=provider_simulator.tls_port
    )
    assert raised.value.smtp_code == 552
    assert diagnosis.kind == kinds.MESSAGE_TOO_LARGE
    assert "SIZE" in diagnosis.cause


def test_message_too_large_after_data(start_server):
    controller = start_server(
        ScriptedHandler(data="552 5.3.4 Message size exceeds fixed limit")
    )
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as raised:
            client.send_message(make_message())
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.MESSAGE_TOO_LARGE
    assert "al terminar de recibirlo" in diagnosis.cause


def test_data_refused_as_spam(start_server):
    controller = start_server(
        ScriptedHandler(data="554 5.7.1 Message rejected as spam")
    )
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPDataError) as raised:
            client.send_message(make_message())
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.DATA_REFUSED
    assert "554" in diagnosis.cause


def test_non_ascii_address_needs_smtputf8(start_server):
    controller = start_server(enable_SMTPUTF8=False)
    message = make_message(to="José <josé@ejemplo.test>")
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPNotSupportedError) as raised:
            client.send_message(message)
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.SMTPUTF8_REQUIRED
    assert "has_extn('smtputf8')" in diagnosis.fix


def test_non_ascii_address_in_sendmail(start_server):
    controller = start_server(enable_SMTPUTF8=False)
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        with pytest.raises(UnicodeEncodeError) as raised:
            client.sendmail(
                "josé@ejemplo.test", ["luis@ejemplo.test"], b"Subject: x\r\n\r\nx\r\n"
            )
    assert diagnose(raised.value).kind == kinds.SMTPUTF8_REQUIRED


def test_non_ascii_text_in_sendmail(local_server):
    with smtplib.SMTP(local_server.host, local_server.port, timeout=10) as client:
        with pytest.raises(UnicodeEncodeError) as raised:
            client.sendmail(
                "ana@ejemplo.test", ["luis@ejemplo.test"], "Subject: año\r\n\r\nañ\r\n"
            )
    diagnosis = diagnose(raised.value)
    assert diagnosis.kind == kinds.MESSAGE_NOT_ASCII
    assert "send_message()" in diagnosis.fix


def test_other_reply_code(start_server):
    controller = start_server(
        ScriptedHandler(ehlo="550 5.7.1 No te conozco", helo="550 5.7.1 No te conozco")
    )
    with smtplib.SMTP(controller.hostname, controller.port, timeout=10) as client:
        with pytest.raises(smtplib.SMTPHeloError) as raised:
            client.send_message(make_message())
    diagnosis = diagnose(raised.value, host=controller.hostname, port=controller.port)
    assert diagnosis.kind == kinds.SERVER_REPLY
    assert "550" in diagnosis.title
    assert "permanentes" in diagnosis.cause


# The cell's own Python code

SMTP_ADVICE = ("set_debuglevel", "starttls", "SMTP_SSL", "puerto", "seguridad")


def raised_by(code: str, namespace: dict | None = None) -> BaseException:
    """Run ``code`` as a notebook cell would and return what it raised."""
    with pytest.raises(Exception) as raised:
        exec(code, {} if namespace is None else namespace)
    return raised.value


def assert_no_smtp_advice(diagnosis: Diagnosis) -> None:
    text = f"{diagnosis.cause} {diagnosis.fix}"
    for advice in SMTP_ADVICE:
        assert advice not in text, advice


def test_missing_attachment_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    error = raised_by(
        "from pathlib import Path\ncontenido = Path('informe.pdf').read_bytes()"
    )
    diagnosis = diagnose(error, host="127.0.0.1", port=2525)
    assert diagnosis.kind == kinds.FILE_NOT_FOUND
    assert "'informe.pdf'" in diagnosis.title
    assert str(tmp_path) in diagnosis.cause
    assert "carpeta del cuaderno" in diagnosis.cause
    assert_no_smtp_advice(diagnosis)


def test_undefined_name_explained():
    error = raised_by("conexion.send_message(mensaje)")
    diagnosis = diagnose(error)
    assert diagnosis.kind == kinds.NAME_NOT_DEFINED
    assert "'conexion'" in diagnosis.title
    assert "NameError: name 'conexion' is not defined" in diagnosis.cause
    assert_no_smtp_advice(diagnosis)


def test_duplicate_subject_explained():
    error = raised_by(
        "mensaje = make_message()\nmensaje['Subject'] = 'Otro asunto'",
        {"make_message": make_message},
    )
    diagnosis = diagnose(error)
    assert diagnosis.kind == kinds.DUPLICATE_HEADER
    assert "Subject" in diagnosis.title
    assert "replace_header('Subject'" in diagnosis.fix
    assert_no_smtp_advice(diagnosis)


def test_header_line_break_explained():
    error = raised_by(
        "from email.message import EmailMessage\n"
        "EmailMessage()['Subject'] = 'Informe\\nde enero'"
    )
    diagnosis = diagnose(error)
    assert diagnosis.kind == kinds.HEADER_LINE_BREAK
    assert "linefeed or carriage return" in diagnosis.cause
    assert_no_smtp_advice(diagnosis)


@pytest.mark.parametrize(
    "call",
    [
        "mensaje.add_attachment(b'%PDF-1.4')",
        "mensaje.add_attachment('hola', maintype='text', subtype='plain')",
        "mensaje.add_attachment(Path('informe.pdf'))",
    ],
)
def test_attachment_arguments_explained(call):
    error = raised_by(
        "from email.message import EmailMessage\nfrom pathlib import Path\n"
        f"mensaje = EmailMessage()\n{call}"
    )
    diagnosis = diagnose(error)
    assert diagnosis.kind == kinds.ATTACHMENT_ARGUMENTS
    assert "maintype='application'" in diagnosis.fix
    assert_no_smtp_advice(diagnosis)


def test_other_python_error_explained():
    error = raised_by("tamano = int('veinte')")
    diagnosis = diagnose(error, host="127.0.0.1", port=2525)
    assert diagnosis.kind == kinds.PYTHON_ERROR
    assert "ValueError: invalid literal" in diagnosis.cause
    assert "última línea" in diagnosis.cause
    assert_no_smtp_advice(diagnosis)


# Anything else


def test_unknown_error_named(local_server):
    with pytest.raises(ValueError) as raised:
        smtplib.SMTP(local_server.host, local_server.port, timeout=0)
    diagnosis = diagnose(raised.value, host=local_server.host, port=local_server.port)
    assert diagnosis.kind == kinds.UNKNOWN
    assert "ValueError" in diagnosis.title
    assert "Non-blocking socket" in diagnosis.cause
    assert "set_debuglevel(1)" in diagnosis.fix


def test_unknown_error_hides_secret():
    error = RuntimeError(f"fallo con {LAB_PASSWORD} dentro")
    diagnosis = diagnose(error, secrets=[LAB_PASSWORD])
    assert LAB_PASSWORD not in str(diagnosis)
    assert LAB_PASSWORD not in diagnosis._repr_html_()


def test_settings_password_hidden():
    settings = ConnectionSettings("127.0.0.1", 2525, "none", LAB_USER, LAB_PASSWORD)
    error = smtplib.SMTPException(f"eco {LAB_PASSWORD}")
    diagnosis = diagnose(error, settings=settings)
    assert LAB_PASSWORD not in str(diagnosis)
    assert "127.0.0.1:2525" in diagnosis.fix


# Display


def test_str_has_three_parts():
    diagnosis = diagnose(resolver_error_unknown_name(), host="smtp.gmial.com")
    text = str(diagnosis)
    assert text.startswith("Diagnóstico: ")
    assert "Qué ha pasado: " in text
    assert "Cómo arreglarlo: " in text


def test_html_escapes_values():
    diagnosis = diagnose({"<b>x</b>@ejemplo.test": (550, b"5.1.1 <script>")})
    html = diagnosis._repr_html_()
    assert "<script>" not in html
    assert "&lt;b&gt;x&lt;/b&gt;" in html


def test_explain_prints_outside_jupyter(capsys):
    error = resolver_error_unknown_name()
    explain(error, host="smtp.gmial.com")
    output = capsys.readouterr().out
    assert diagnose(error, host="smtp.gmial.com").title in output


def test_explain_returns_none(capsys):
    assert explain(resolver_error_unknown_name()) is None


def test_explain_none_is_friendly(capsys):
    explain(None)
    output = capsys.readouterr().out
    assert "No hay ningún error que explicar" in output
    assert "sys.last_value" in output


def test_diagnose_none_kind():
    assert diagnose(None).kind == kinds.NO_ERROR


EXPLAIN_IN_KERNEL = """
import smtplib
from mailcourse.diagnosis import explain
try:
    smtplib.SMTP("127.0.0.1", {port}, timeout=5)
except OSError as error:
    explain(error, host="127.0.0.1", port={port})
"""


def test_explain_displays_html_in_kernel():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        messages = []
        client.execute_interactive(
            EXPLAIN_IN_KERNEL.format(port=free_port()),
            timeout=60,
            output_hook=messages.append,
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    displays = [
        m["content"]["data"] for m in messages if m["msg_type"] == "display_data"
    ]
    assert len(displays) == 1
    assert "Conexión rechazada" in displays[0]["text/html"]
    streams = [m for m in messages if m["msg_type"] == "stream"]
    assert streams == [], json.dumps(streams)


EXPLAIN_LAST_LINE = """
from mailcourse.diagnosis import explain
explain(ValueError("valor de prueba"))
"""


def test_explain_last_line_shows_once():
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3")
    try:
        messages = []
        client.execute_interactive(
            EXPLAIN_LAST_LINE, timeout=60, output_hook=messages.append
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    types = [m["msg_type"] for m in messages]
    assert types.count("display_data") == 1
    assert "execute_result" not in types
