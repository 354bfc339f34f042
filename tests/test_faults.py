"""Faults: a stopped server, bad clients, restarts and broken storage.

Each test drives the real bundled server on 127.0.0.1 with real clients: the
smtplib client, raw sockets that misbehave, and a real Jupyter kernel.
"""

from __future__ import annotations

import os
import shutil
import smtplib
import socket
import threading
import time
from pathlib import Path

import pytest
from jupyter_client.manager import start_new_kernel

from sample_messages import make_message
from mailcourse import LocalServer, start_local_server, stop_all_servers

CLIENT_TIMEOUT_SECONDS = 10


def port_is_free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_stop_mid_session_is_diagnosed(local_server):
    from mailcourse.diagnosis import diagnose
    from mailcourse.diagnosis import kinds

    client = smtplib.SMTP(
        local_server.host, local_server.port, timeout=CLIENT_TIMEOUT_SECONDS
    )
    client.ehlo("cliente.test")
    local_server.stop()
    with pytest.raises(smtplib.SMTPServerDisconnected) as caught:
        client.send_message(make_message())
    client.close()
    assert diagnose(caught.value).kind == kinds.SERVER_DISCONNECTED


def test_garbage_client_does_not_block_others(local_server):
    with socket.create_connection(
        (local_server.host, local_server.port), timeout=CLIENT_TIMEOUT_SECONDS
    ) as rogue:
        rogue.recv(1024)
        rogue.sendall(os.urandom(4096) + b"\r\n" + b"X" * 200_000)
        with smtplib.SMTP(
            local_server.host, local_server.port, timeout=CLIENT_TIMEOUT_SECONDS
        ) as client:
            assert client.send_message(make_message()) == {}
    assert len(local_server.inbox) == 1


def test_stalled_clients_do_not_block_others(local_server):
    stalled = []
    for stage in (b"", b"EHLO lento.test\r\n", b"MAIL FROM:<a@b.test>\r\n"):
        connection = socket.create_connection(
            (local_server.host, local_server.port), timeout=CLIENT_TIMEOUT_SECONDS
        )
        connection.sendall(stage)
        stalled.append(connection)
    # One more stalls in the middle of a message body.
    with_body = socket.create_connection(
        (local_server.host, local_server.port), timeout=CLIENT_TIMEOUT_SECONDS
    )
    with_body.sendall(
        b"EHLO lento.test\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<c@d.test>\r\n"
        b"DATA\r\nSubject: a medias\r\n\r\nsin terminar"
    )
    stalled.append(with_body)
    try:
        with smtplib.SMTP(
            local_server.host, local_server.port, timeout=CLIENT_TIMEOUT_SECONDS
        ) as client:
            assert client.send_message(make_message()) == {}
    finally:
        for connection in stalled:
            connection.close()
    subjects = [message.subject for message in local_server.inbox]
    assert subjects == ["Informe de año"]


def test_broken_maildir_refuses_not_loses(tmp_path):
    server = LocalServer(maildir=tmp_path / "Maildir").start()
    try:
        # Replace tmp/ with a file: every write now fails.
        shutil.rmtree(server.store.path / "tmp")
        (server.store.path / "tmp").write_text("no soy una carpeta")
        with smtplib.SMTP(
            server.host, server.port, timeout=CLIENT_TIMEOUT_SECONDS
        ) as client:
            with pytest.raises(smtplib.SMTPDataError) as caught:
                client.send_message(make_message())
    finally:
        server.stop()
    assert caught.value.smtp_code == 451
    assert list((tmp_path / "Maildir" / "new").iterdir()) == []


def test_many_restarts_leave_nothing_behind():
    threads_before = threading.active_count()
    ports = []
    folders = []
    for _ in range(25):
        server = start_local_server()
        assert start_local_server() is server
        ports.append(server.port)
        folders.append(server.store.path)
        stop_all_servers()
    assert threading.active_count() == threads_before
    assert [folder for folder in folders if folder.exists()] == []
    assert all(port_is_free(port) for port in ports)


START_CELL = """
from mailcourse import start_local_server
servidor = start_local_server()
print(servidor.port, servidor.store.path)
"""


def run_cell(client, code: str) -> str:
    output = []

    def collect(message):
        if message["msg_type"] == "stream":
            output.append(message["content"]["text"])

    reply = client.execute_interactive(code, timeout=60, output_hook=collect)
    assert reply["content"]["status"] == "ok"
    return "".join(output)


@pytest.mark.slow
def test_kernel_restart_frees_port_and_folder():
    manager, client = start_new_kernel(kernel_name="python3")
    try:
        printed = [run_cell(client, START_CELL) for _ in range(5)]
        assert len(set(printed)) == 1
        port_text, folder = printed[0].split()
        assert not port_is_free(int(port_text))
        assert Path(folder).is_dir()

        manager.restart_kernel(now=False)
        deadline = time.monotonic() + 30
        while Path(folder).exists() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=False)
    assert not Path(folder).exists()
    assert port_is_free(int(port_text))
