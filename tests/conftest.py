"""Shared fixtures: real bundled servers on 127.0.0.1."""

from __future__ import annotations

import smtplib

import pytest

from mailcourse import (
    LocalServer,
    ProviderSimulator,
    stop_all_servers,
    stop_all_simulators,
)


@pytest.fixture
def local_server(tmp_path):
    """A running bundled server with its Maildir under the test's tmp_path."""
    server = LocalServer(maildir=tmp_path / "Maildir").start()
    yield server
    server.stop()


@pytest.fixture
def smtp_client(local_server):
    """A real smtplib client connected to ``local_server``."""
    client = smtplib.SMTP(local_server.host, local_server.port, timeout=10)
    yield client
    client.close()


@pytest.fixture
def provider_simulator(tmp_path):
    """A running provider simulator with its Maildir under the test's tmp_path."""
    simulator = ProviderSimulator(maildir=tmp_path / "Maildir").start()
    yield simulator
    simulator.stop()


@pytest.fixture(autouse=True)
def _no_servers_left_running():
    yield
    stop_all_servers()
    stop_all_simulators()
