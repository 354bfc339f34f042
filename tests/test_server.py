"""The bundled server, driven by the real smtplib client on 127.0.0.1."""

from __future__ import annotations

import logging
import smtplib
import socket
import threading

import pytest

from sample_messages import make_message
from mailcourse import (
    LocalServer,
    MaildirNotWritableError,
    PortInUseError,
    running_servers,
    start_local_server,
    stop_all_servers,
)


def test_binds_loopback_free_port(local_server):
    assert local_server.host == "127.0.0.1"
    assert local_server.port > 0
    assert local_server.port != 8025


def test_greeting_uses_fixed_hostname(smtp_client):
    code, reply = smtp_client.ehlo("cliente.test")
    assert code == 250
    assert reply.decode().startswith("smtp.curso.test")


def test_advertises_smtputf8(smtp_client):
    smtp_client.ehlo("cliente.test")
    assert smtp_client.has_extn("smtputf8")


def test_send_message_stores_one_copy(local_server, smtp_client):
    refused = smtp_client.send_message(make_message())
    assert refused == {}
    assert local_server.store.count() == 1
    assert len(local_server.inbox) == 1


def test_stored_message_keeps_envelope(local_server, smtp_client):
    message = make_message()
    message["Bcc"] = "oculto@ejemplo.test"
    smtp_client.send_message(message)
    stored = local_server.inbox.latest()
    assert stored.envelope_sender == "ana@ejemplo.test"
    assert stored.envelope_recipients == ["luis@ejemplo.test", "oculto@ejemplo.test"]
    assert stored.bcc == ""


def test_non_ascii_address_through_smtputf8(local_server, smtp_client):
    message = make_message(to="José <josé@ejemplo.test>")
    refused = smtp_client.send_message(message)
    assert refused == {}
    assert local_server.inbox.latest().envelope_recipients == ["josé@ejemplo.test"]


def test_start_twice_returns_same_server():
    first = start_local_server()
    second = start_local_server()
    assert first is second
    assert running_servers() == [first]


def test_start_with_other_maildir_is_new_server(tmp_path):
    first = start_local_server()
    second = start_local_server(maildir=tmp_path / "otra")
    assert first is not second
    assert first.port != second.port


def test_stop_releases_port_and_thread():
    threads_before = threading.active_count()
    server = start_local_server()
    port = server.port
    server.stop()
    assert threading.active_count() == threads_before
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_temporary_maildir_removed_at_stop():
    server = start_local_server()
    path = server.store.path
    assert path.is_dir()
    server.stop()
    assert not path.exists()


def test_named_maildir_is_kept(tmp_path):
    folder = tmp_path / "Maildir"
    with LocalServer(maildir=folder) as server, smtplib.SMTP(
        server.host, server.port, timeout=10
    ) as client:
        client.send_message(make_message())
    assert len(list((folder / "new").iterdir())) == 1


def test_explicit_port_is_used():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        free_port = probe.getsockname()[1]
    server = start_local_server(port=free_port)
    assert server.port == free_port


def test_port_in_use_names_port():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        with pytest.raises(PortInUseError) as caught:
            start_local_server(port=taken)
    assert str(taken) in str(caught.value)
    assert "ocupado" in str(caught.value)
    assert running_servers() == []


def test_unwritable_maildir_fails_at_start(tmp_path):
    blocker = tmp_path / "fichero"
    blocker.write_text("no soy una carpeta")
    with pytest.raises(MaildirNotWritableError) as caught:
        LocalServer(maildir=blocker / "Maildir")
    assert str(blocker) in str(caught.value)


def test_log_has_no_body_or_subject(local_server, smtp_client, caplog):
    caplog.set_level(logging.DEBUG)
    smtp_client.send_message(make_message(subject="Secreto", body="cuerpo privado\n"))
    assert "stored message" in caplog.text
    assert "Secreto" not in caplog.text
    assert "cuerpo privado" not in caplog.text


def test_stop_all_servers_stops_each():
    start_local_server()
    stop_all_servers()
    assert running_servers() == []


def test_recipient_without_domain_refused(local_server, smtp_client):
    message = make_message(to="luis.ejemplo.test")
    with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        smtp_client.send_message(message)
    code, reply = caught.value.recipients["luis.ejemplo.test"]
    assert code == 553
    assert b"Bad recipient address syntax" in reply
    assert len(local_server.inbox) == 0


def test_sender_without_domain_refused(local_server, smtp_client):
    with pytest.raises(smtplib.SMTPSenderRefused) as caught:
        smtp_client.send_message(make_message(sender="ana"))
    assert caught.value.smtp_code == 553
    assert len(local_server.inbox) == 0


def test_empty_sender_accepted(local_server, smtp_client):
    refused = smtp_client.sendmail("", ["luis@ejemplo.test"], b"Subject: aviso\r\n\r\nx")
    assert refused == {}
    assert local_server.inbox.latest().envelope_sender == ""
