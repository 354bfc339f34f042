"""Load: a class worth of clients sending at once loses and duplicates nothing.

50 client threads send 20 messages each: 25 over plain SMTP to the bundled
local server and 25 over STARTTLS with login to the provider simulator. Both
servers write to one Maildir, so one inbox must list all 1000 messages, each
exactly once. Every socket and thread has a timeout and the test gives up on
its own after ``LOAD_DEADLINE_SECONDS``.
"""

from __future__ import annotations

import smtplib
import threading
import time
from collections import Counter

import pytest

from sample_messages import make_message
from mailcourse import LocalServer
from mailcourse.auth import LAB_PASSWORD, LAB_USER
from mailcourse.client import connect
from mailcourse.client import login as utf8_login
from mailcourse.provider import ProviderSimulator

CLIENTS = 50
MESSAGES_PER_CLIENT = 20
LOAD_DEADLINE_SECONDS = 240
SOCKET_TIMEOUT_SECONDS = 30


@pytest.fixture
def shared_servers(tmp_path):
    maildir = tmp_path / "Maildir"
    local = LocalServer(maildir=maildir).start()
    simulator = ProviderSimulator(maildir=maildir).start()
    yield local, simulator
    local.stop()
    simulator.stop()


def plain_client(local: LocalServer) -> smtplib.SMTP:
    return smtplib.SMTP(local.host, local.port, timeout=SOCKET_TIMEOUT_SECONDS)


def starttls_client(simulator: ProviderSimulator) -> smtplib.SMTP:
    client = connect(
        simulator.host,
        simulator.starttls_port,
        security="starttls",
        timeout=SOCKET_TIMEOUT_SECONDS,
        context=simulator.client_context(),
    )
    utf8_login(client, LAB_USER, LAB_PASSWORD)
    return client


def run_client(number, open_client, sent, errors, stop):
    try:
        with open_client() as client:
            for index in range(MESSAGES_PER_CLIENT):
                if stop.is_set():
                    return
                subject = f"carga {number:02d}-{index:02d} ñ"
                message = make_message(subject=subject, sender="alumno@curso.test")
                refused = client.send_message(message)
                if refused:
                    errors.append(f"{subject}: refused {refused}")
                    continue
                sent.append(subject)
    except (smtplib.SMTPException, OSError) as error:
        errors.append(f"client {number}: {error!r}")


@pytest.mark.slow
def test_fifty_clients_store_each_once(shared_servers):
    local, simulator = shared_servers
    sent: list[str] = []
    errors: list[str] = []
    stop = threading.Event()
    threads = []
    for number in range(CLIENTS):
        if number % 2:
            open_client = lambda: starttls_client(simulator)  # noqa: E731
        else:
            open_client = lambda: plain_client(local)  # noqa: E731
        thread = threading.Thread(
            target=run_client,
            args=(number, open_client, sent, errors, stop),
            daemon=True,
        )
        threads.append(thread)
        thread.start()

    deadline = time.monotonic() + LOAD_DEADLINE_SECONDS
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    stop.set()
    unfinished = sum(thread.is_alive() for thread in threads)

    assert unfinished == 0, f"{unfinished} clients still running at the deadline"
    assert errors == []
    assert len(sent) == CLIENTS * MESSAGES_PER_CLIENT

    stored_subjects = Counter(message.subject for message in local.inbox)
    duplicated = {subject for subject, count in stored_subjects.items() if count > 1}
    assert duplicated == set()
    assert set(stored_subjects) == set(sent)
    assert len(local.inbox) == CLIENTS * MESSAGES_PER_CLIENT
