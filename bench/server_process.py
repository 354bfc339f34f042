"""Run one server under test in its own process and report its CPU time.

The parent starts ``python -m bench.server_process KIND SECURITY`` and talks to
it over a line protocol: the process prints one JSON line when it listens
(port, Maildir, CA file). It then replies to each ``stats`` line with its own
CPU time and the number of messages it accepted, and stops on ``quit`` or at
end of input.

Kinds:

- ``bundled``: the course's server (``start_local_server()``) or, with
  ``starttls``, the provider simulator's STARTTLS port.
- ``sink``: a bare aiosmtpd ``Controller`` whose handler only counts messages,
  with STARTTLS and AUTH built from a trustme CA in ``starttls`` mode.

Every server listens on 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import hmac
import json
import logging
import shutil
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

LOOPBACK_HOST = "127.0.0.1"
# A fixed name also stops aiosmtpd from calling socket.getfqdn(), which may
# query a DNS server.
SINK_HOSTNAME = "sink.bench.test"
KINDS = ("bundled", "sink")
SECURITIES = ("plain", "starttls")


class CountingSink:
    """An aiosmtpd handler that accepts every message and only counts it."""

    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.count += 1
        return "250 OK"


class RunningServer:
    """A started server: what the parent needs to reach it and how to stop it."""

    def __init__(
        self,
        *,
        port: int,
        stop: Callable[[], None],
        accepted: Callable[[], int | None],
        maildir: Path | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.port = port
        self.stop = stop
        self.accepted = accepted
        self.maildir = maildir
        self.ca_file = ca_file


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK_HOST, 0))
        return probe.getsockname()[1]


def start_bundled_plain() -> RunningServer:
    from mailcourse import start_local_server

    server = start_local_server()
    return RunningServer(
        port=server.port,
        stop=server.stop,
        accepted=lambda: server.handler.delivered_count,
        maildir=server.store.path,
    )


def start_bundled_starttls() -> RunningServer:
    from mailcourse.provider import start_provider_simulator

    simulator = start_provider_simulator()
    return RunningServer(
        port=simulator.starttls_port,
        stop=simulator.stop,
        # NOTE: the simulator has no public delivered counter, so the parent
        # counts the files in its Maildir instead.
        accepted=lambda: None,
        maildir=Path(simulator.inbox.path),
        ca_file=Path(simulator.ca_file),
    )


def start_sink(security: str) -> RunningServer:
    from aiosmtpd.controller import Controller

    handler = CountingSink()
    parameters: dict[str, Any] = {"server_hostname": SINK_HOSTNAME}
    ca_file = None
    if security == "starttls":
        parameters_tls, ca_file = sink_tls_parameters()
        parameters.update(parameters_tls)
    controller = Controller(
        handler, hostname=LOOPBACK_HOST, port=free_port(), **parameters
    )
    controller.start()

    def stop() -> None:
        controller.stop()
        if ca_file is not None:
            shutil.rmtree(ca_file.parent, ignore_errors=True)

    return RunningServer(
        port=controller.port,
        stop=stop,
        accepted=lambda: handler.count,
        ca_file=ca_file,
    )


def sink_tls_parameters() -> tuple[dict[str, Any], Path]:
    """Build STARTTLS and AUTH settings for the sink from a fresh trustme CA.

    The sink accepts the provider simulator's lab account, so the client does
    the same work against both servers.
    """
    import ssl

    import trustme
    from aiosmtpd.smtp import AuthResult

    from mailcourse.provider import LAB_PASSWORD, LAB_USER

    authority = trustme.CA()
    server_context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    authority.issue_cert(LOOPBACK_HOST).configure_cert(server_context)
    ca_file = Path(tempfile.mkdtemp(prefix="bench-sink-ca-")) / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_file))
    expected_user = LAB_USER.encode()
    expected_password = LAB_PASSWORD.encode()

    def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
        user_matches = hmac.compare_digest(auth_data.login, expected_user)
        password_matches = hmac.compare_digest(auth_data.password, expected_password)
        return AuthResult(success=user_matches and password_matches, handled=False)

    parameters = {
        "tls_context": server_context,
        "require_starttls": True,
        "auth_required": True,
        "auth_require_tls": True,
        "authenticator": authenticate,
    }
    return parameters, ca_file


def start_server(kind: str, security: str) -> RunningServer:
    """Start the server of ``kind`` in ``security`` mode on 127.0.0.1."""
    # aiosmtpd logs every command at INFO on "mail.log"; the bundled server
    # raises that logger to ERROR on import, so the sink gets the same level.
    logging.getLogger("mail.log").setLevel(logging.ERROR)
    if kind == "sink":
        return start_sink(security)
    if security == "starttls":
        return start_bundled_starttls()
    return start_bundled_plain()


def reply(payload: dict[str, Any]) -> None:
    print(json.dumps(payload), flush=True)


def serve(kind: str, security: str) -> None:
    """Start the server, reply to ``stats`` lines and stop on ``quit`` or EOF."""
    server = start_server(kind, security)
    reply(
        {
            "port": server.port,
            "maildir": None if server.maildir is None else str(server.maildir),
            "ca_file": None if server.ca_file is None else str(server.ca_file),
        }
    )
    try:
        for line in sys.stdin:
            command = line.strip()
            if command == "stats":
                reply(
                    {"cpu_seconds": time.process_time(), "accepted": server.accepted()}
                )
            elif command == "quit":
                break
            else:
                reply({"error": f"unknown command {command!r}"})
    finally:
        server.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("kind", choices=KINDS)
    parser.add_argument("security", choices=SECURITIES)
    options = parser.parse_args()
    serve(options.kind, options.security)


if __name__ == "__main__":
    main()
