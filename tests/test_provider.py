"""The provider simulator, driven by the real smtplib client on 127.0.0.1."""

from __future__ import annotations

import base64
import email.policy
import gc
import logging
import smtplib
import socket
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import pytest
from aiosmtpd.smtp import SMTP

from sample_messages import make_message
from mailcourse import (
    ACCENT_PASSWORD,
    ACCENT_USER,
    LAB_PASSWORD,
    LAB_USER,
    ProviderSimulator,
    PortInUseError,
    running_simulators,
    start_provider_simulator,
    stop_all_simulators,
)
from mailcourse.maildir_store import MaildirStore
from mailcourse.provider import (
    MAX_MESSAGE_SIZE,
    build_provider_protocol,
    provider_smtp_kwargs,
)

REFUSED = "nadie@rechazado.test"


@pytest.fixture
def tls_client(provider_simulator):
    """A client on the implicit-TLS port that trusts the simulator's CA."""
    client = smtplib.SMTP_SSL(
        provider_simulator.host,
        provider_simulator.tls_port,
        context=provider_simulator.client_context(),
        timeout=10,
    )
    yield client
    client.close()


@pytest.fixture
def starttls_client(provider_simulator):
    """A client on the STARTTLS port, still in plain text."""
    client = smtplib.SMTP(
        provider_simulator.host, provider_simulator.starttls_port, timeout=10
    )
    yield client
    client.close()


@pytest.fixture
def logged_in_client(tls_client):
    tls_client.login(LAB_USER, LAB_PASSWORD)
    return tls_client


def _big_body() -> str:
    line = "x" * 76 + "\n"
    return line * (MAX_MESSAGE_SIZE // len(line) + 100)


# Ports and addresses


def test_ports_are_distinct_loopback(provider_simulator):
    assert provider_simulator.host == "127.0.0.1"
    assert provider_simulator.tls_port > 0
    assert provider_simulator.starttls_port > 0
    assert provider_simulator.tls_port != provider_simulator.starttls_port


def test_greeting_uses_fixed_hostname(tls_client):
    code, reply = tls_client.ehlo("cliente.test")
    assert code == 250
    assert reply.decode().startswith("smtp.curso.test")


def test_tls_port_rejects_plain_client(provider_simulator):
    # The server waits for a TLS handshake, so a plain client never gets a
    # greeting and gives up after its timeout.
    with pytest.raises(smtplib.SMTPServerDisconnected):
        smtplib.SMTP(provider_simulator.host, provider_simulator.tls_port, timeout=0.5)


# Implicit TLS port


def test_tls_port_offers_auth(tls_client):
    tls_client.ehlo("cliente.test")
    assert tls_client.has_extn("auth")
    assert tls_client.esmtp_features["auth"].split() == ["LOGIN", "PLAIN"]


def test_tls_port_offers_no_starttls(tls_client):
    tls_client.ehlo("cliente.test")
    assert not tls_client.has_extn("starttls")


def test_tls_port_advertises_size(tls_client):
    tls_client.ehlo("cliente.test")
    assert tls_client.esmtp_features["size"] == str(MAX_MESSAGE_SIZE)


def test_login_returns_235(tls_client):
    code, _ = tls_client.login(LAB_USER, LAB_PASSWORD)
    assert code == 235


def test_wrong_password_gets_535(tls_client):
    # A short timeout: if the server sent no reply, the client would raise
    # SMTPServerDisconnected instead of the authentication error.
    tls_client.timeout = 2
    tls_client.sock.settimeout(2)
    with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        tls_client.login(LAB_USER, "no-es-la-clave")
    assert caught.value.smtp_code == 535


def test_unknown_user_gets_535(tls_client):
    with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
        tls_client.login("intruso@curso.test", LAB_PASSWORD)
    assert caught.value.smtp_code == 535


def test_invalid_utf8_user_gets_535(tls_client):
    tls_client.ehlo("cliente.test")
    payload = base64.b64encode(b"\0alumno\xff@curso.test\0" + LAB_PASSWORD.encode())
    code, _ = tls_client.docmd("AUTH", "PLAIN " + payload.decode())
    assert code == 535


def test_log_has_no_password(tls_client, caplog):
    caplog.set_level(logging.DEBUG)
    with pytest.raises(smtplib.SMTPAuthenticationError):
        tls_client.login(LAB_USER, "clave-secreta-equivocada")
    assert "wrong password" in caplog.text
    assert "clave-secreta-equivocada" not in caplog.text


def test_smtplib_login_fails_on_accented_password(tls_client):
    with pytest.raises(UnicodeEncodeError):
        tls_client.login(ACCENT_USER, ACCENT_PASSWORD)


def test_send_without_auth_gets_530(tls_client):
    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        tls_client.send_message(make_message())
    assert caught.value.smtp_code == 530


def test_send_after_login_is_stored(provider_simulator, logged_in_client):
    refused = logged_in_client.send_message(make_message())
    assert refused == {}
    assert len(provider_simulator.inbox) == 1


def test_partial_refusal_returns_dict(provider_simulator, logged_in_client):
    message = make_message(to=f"luis@ejemplo.test, {REFUSED}")
    refused = logged_in_client.send_message(message)
    assert list(refused) == [REFUSED]
    assert refused[REFUSED][0] == 550
    assert provider_simulator.inbox.latest().envelope_recipients == [
        "luis@ejemplo.test"
    ]


def test_total_refusal_raises(provider_simulator, logged_in_client):
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        logged_in_client.send_message(make_message(to=REFUSED))
    assert caught.value.recipients[REFUSED][0] == 550
    assert len(provider_simulator.inbox) == 0


def test_refusal_ignores_address_case(logged_in_client):
    address = "Nadie@Rechazado.TEST"
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        logged_in_client.send_message(make_message(to=address))
    assert caught.value.recipients[address][0] == 550


def test_oversized_message_refused_at_mail(logged_in_client):
    message = make_message(body=_big_body())
    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        logged_in_client.send_message(message)
    assert caught.value.smtp_code == 552


def test_oversized_data_gets_552(provider_simulator, logged_in_client):
    # Without the SIZE parameter in MAIL FROM, the server finds out while
    # reading DATA and must still reject the message.
    raw = make_message(body=_big_body()).as_bytes(policy=email.policy.SMTP)
    logged_in_client.mail("ana@ejemplo.test")
    logged_in_client.rcpt("luis@ejemplo.test")
    code, _ = logged_in_client.data(raw)
    assert code == 552
    assert len(provider_simulator.inbox) == 0


def test_message_under_limit_accepted(provider_simulator, logged_in_client):
    body = "x" * 76 + "\n"
    message = make_message(body=body * (MAX_MESSAGE_SIZE // 100))
    assert logged_in_client.send_message(message) == {}
    assert len(provider_simulator.inbox) == 1


# STARTTLS port


def test_starttls_port_hides_auth_before_tls(starttls_client):
    starttls_client.ehlo("cliente.test")
    assert starttls_client.has_extn("starttls")
    assert not starttls_client.has_extn("auth")


def test_starttls_port_offers_auth_after_tls(provider_simulator, starttls_client):
    starttls_client.ehlo("cliente.test")
    starttls_client.starttls(context=provider_simulator.client_context())
    starttls_client.ehlo("cliente.test")
    assert starttls_client.has_extn("auth")
    assert not starttls_client.has_extn("starttls")


def test_starttls_port_requires_tls_first(starttls_client):
    starttls_client.ehlo("cliente.test")
    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        starttls_client.send_message(make_message())
    assert caught.value.smtp_code == 530
    assert b"STARTTLS" in caught.value.smtp_error


def test_starttls_port_refuses_plain_auth(starttls_client):
    starttls_client.ehlo("cliente.test")
    code, _ = starttls_client.docmd("AUTH", "PLAIN AGFsdW1ubwBjbGF2ZQ==")
    assert code == 530


def test_starttls_port_login_and_send(provider_simulator, starttls_client):
    starttls_client.starttls(context=provider_simulator.client_context())
    code, _ = starttls_client.login(LAB_USER, LAB_PASSWORD)
    refused = starttls_client.send_message(make_message())
    assert code == 235
    assert refused == {}
    assert len(provider_simulator.inbox) == 1


def test_starttls_port_requires_auth(provider_simulator, starttls_client):
    starttls_client.starttls(context=provider_simulator.client_context())
    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        starttls_client.send_message(make_message())
    assert caught.value.smtp_code == 530


def test_ports_share_one_maildir(provider_simulator, logged_in_client):
    logged_in_client.send_message(make_message(subject="Por el 465"))
    with smtplib.SMTP(
        provider_simulator.host, provider_simulator.starttls_port, timeout=10
    ) as client:
        client.starttls(context=provider_simulator.client_context())
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(make_message(subject="Por el 587"))
    subjects = sorted(message.subject for message in provider_simulator.inbox)
    assert subjects == ["Por el 465", "Por el 587"]


# Life cycle


def test_start_twice_returns_same_simulator():
    first = start_provider_simulator()
    second = start_provider_simulator()
    assert first is second
    assert running_simulators() == [first]


def test_start_with_other_maildir_is_new(tmp_path):
    first = start_provider_simulator()
    second = start_provider_simulator(tmp_path / "otra")
    assert first is not second
    assert first.tls_port != second.tls_port


def test_stop_releases_ports_and_threads():
    threads_before = threading.active_count()
    simulator = start_provider_simulator()
    ports = (simulator.tls_port, simulator.starttls_port)
    simulator.stop()
    assert threading.active_count() == threads_before
    for port in ports:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", port))


def test_stop_removes_temporary_files():
    simulator = start_provider_simulator()
    ca_folder = simulator.ca_file.parent
    maildir = simulator.store.path
    simulator.stop()
    assert not ca_folder.exists()
    assert not maildir.exists()


def test_ca_file_in_own_temp_folder(provider_simulator):
    assert provider_simulator.ca_file.is_file()
    assert provider_simulator.ca_file.parent.name.startswith("mailcourse-provider-")


def test_named_maildir_is_kept(tmp_path):
    folder = tmp_path / "Maildir"
    with ProviderSimulator(maildir=folder) as simulator, smtplib.SMTP_SSL(
        simulator.host,
        simulator.tls_port,
        context=simulator.client_context(),
        timeout=10,
    ) as client:
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(make_message())
    assert len(list((folder / "new").iterdir())) == 1


def test_restart_after_stop_serves_again():
    simulator = ProviderSimulator()
    simulator.start()
    simulator.stop()
    simulator.start()
    with smtplib.SMTP_SSL(
        simulator.host,
        simulator.tls_port,
        context=simulator.client_context(),
        timeout=10,
    ) as client:
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(make_message())
    assert len(simulator.inbox) == 1
    simulator.stop()


def test_start_after_stop_is_new_simulator():
    first = start_provider_simulator()
    first.stop()
    second = start_provider_simulator()
    assert second is not first
    assert second.is_running


def test_client_context_needs_running_simulator():
    simulator = ProviderSimulator()
    with pytest.raises(RuntimeError) as caught:
        simulator.client_context()
    assert "start_provider_simulator" in str(caught.value)


def test_port_in_use_names_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            start_provider_simulator(starttls_port=taken)
    assert str(taken) in str(caught.value)
    assert "start_provider_simulator()" in str(caught.value)
    assert running_simulators() == []


def test_failed_start_leaves_nothing(tmp_path):
    threads_before = threading.active_count()
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        simulator = ProviderSimulator(starttls_port=holder.getsockname()[1])
        with pytest.raises(PortInUseError):
            simulator.start()
    assert threading.active_count() == threads_before
    assert not simulator.is_running
    assert simulator.ca_file is None


def test_stop_all_simulators_stops_each(tmp_path):
    start_provider_simulator()
    start_provider_simulator(tmp_path / "otra")
    stop_all_simulators()
    assert running_simulators() == []


def test_exit_stops_and_cleans_up(tmp_path):
    script = (
        "from mailcourse import start_provider_simulator\n"
        "simulator = start_provider_simulator()\n"
        "print(simulator.ca_file.parent)\n"
        "print(simulator.store.path)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    folders = [Path(line) for line in result.stdout.splitlines()]
    assert len(folders) == 2
    for folder in folders:
        assert not folder.exists()


def test_repr_shows_both_ports(provider_simulator):
    text = repr(provider_simulator)
    assert str(provider_simulator.tls_port) in text
    assert str(provider_simulator.starttls_port) in text


# Protocol configuration without sockets


def test_kwargs_build_smtp_without_threads(tmp_path):
    threads_before = threading.active_count()
    protocol = build_provider_protocol(MaildirStore(tmp_path / "Maildir"))
    for role in ("tls", "starttls"):
        context = None if role == "tls" else _any_server_context()
        smtp = SMTP(**provider_smtp_kwargs(protocol, role, tls_context=context))
        assert smtp.hostname == "smtp.curso.test"
        smtp.loop.close()
    assert threading.active_count() == threads_before


def test_kwargs_share_handler_and_authenticator(tmp_path):
    protocol = build_provider_protocol(MaildirStore(tmp_path / "Maildir"))
    tls = provider_smtp_kwargs(protocol, "tls")
    starttls = provider_smtp_kwargs(
        protocol, "starttls", tls_context=_any_server_context()
    )
    assert tls["handler"] is starttls["handler"]
    assert tls["authenticator"] is starttls["authenticator"]


def test_kwargs_starttls_needs_context(tmp_path):
    protocol = build_provider_protocol(MaildirStore(tmp_path / "Maildir"))
    with pytest.raises(ValueError):
        provider_smtp_kwargs(protocol, "starttls")


def test_kwargs_reject_unknown_role(tmp_path):
    protocol = build_provider_protocol(MaildirStore(tmp_path / "Maildir"))
    with pytest.raises(ValueError) as caught:
        provider_smtp_kwargs(protocol, "ssl")  # type: ignore[arg-type]
    assert "'ssl'" in str(caught.value)


def test_custom_refusal_rule(tmp_path):
    simulator = ProviderSimulator(
        refuse_recipient=lambda address: address.startswith("bloqueado@")
    ).start()
    try:
        with smtplib.SMTP_SSL(
            simulator.host,
            simulator.tls_port,
            context=simulator.client_context(),
            timeout=10,
        ) as client:
            client.login(LAB_USER, LAB_PASSWORD)
            refused = client.send_message(
                make_message(to=f"bloqueado@ejemplo.test, {REFUSED}")
            )
    finally:
        simulator.stop()
    assert list(refused) == ["bloqueado@ejemplo.test"]


def _any_server_context():
    from mailcourse.tls import TestCertificateAuthority

    return TestCertificateAuthority().server_context()


@pytest.mark.parametrize("port_name", ["tls_port", "starttls_port"])
@pytest.mark.parametrize("client_state", ["open", "just_closed"])
def test_stop_with_client_leaks_nothing(port_name, client_state, caplog):
    simulator = ProviderSimulator().start()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        client = socket.create_connection(
            (simulator.host, getattr(simulator, port_name)), timeout=5
        )
        if client_state == "just_closed":
            client.close()
        simulator.stop()
        client.close()
        gc.collect()
    resource_warnings = [w for w in caught if w.category is ResourceWarning]
    assert resource_warnings == []
    assert "Task was destroyed" not in caplog.text


def test_stop_closes_logged_in_client(provider_simulator, logged_in_client):
    provider_simulator.stop()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        logged_in_client.noop()
