"""A bounded smtplib load generator: a few client threads, a fixed message count.

Each thread either keeps one connection open for all its messages
(``persistent``) or opens, greets, sends and quits for every message
(``per-message``). In ``starttls`` mode every connection upgrades with
``starttls()`` and logs in before sending. The message is serialized once and
sent with ``sendmail`` so the client spends its time on SMTP, not on
flattening the same message again.
"""

from __future__ import annotations

import smtplib
import ssl
import threading
import time
from dataclasses import dataclass, field

CONNECTION_MODES = ("persistent", "per-message")
CLIENT_HOSTNAME = "client.bench.test"
CLIENT_TIMEOUT_SECONDS = 10


@dataclass(frozen=True)
class Target:
    """Destination of the load: server address, security mode and lab account."""

    host: str
    port: int
    security: str
    context: ssl.SSLContext | None = None
    user: str | None = None
    password: str | None = field(default=None, repr=False)


@dataclass
class LoadResult:
    """Messages accepted for every recipient, wall time, per-message latencies."""

    sent: int = 0
    wall_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def open_connection(target: Target) -> smtplib.SMTP:
    """Connect, greet and, in ``starttls`` mode, upgrade and log in.

    Raises ``smtplib.SMTPException`` subclasses or ``OSError`` as smtplib does.
    """
    # local_hostname avoids smtplib's socket.getfqdn(), which may query DNS.
    client = smtplib.SMTP(
        target.host,
        target.port,
        local_hostname=CLIENT_HOSTNAME,
        timeout=CLIENT_TIMEOUT_SECONDS,
    )
    try:
        if target.security == "starttls":
            client.starttls(context=target.context)
            client.login(target.user, target.password)
    except BaseException:
        client.close()
        raise
    return client


def _send_persistent(
    target: Target,
    message: bytes,
    sender: str,
    recipient: str,
    count: int,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    latencies = []
    sent = 0
    with open_connection(target) as client:
        for _ in range(count):
            started = time.perf_counter()
            refused = client.sendmail(sender, [recipient], message)
            latencies.append(time.perf_counter() - started)
            sent += not refused
    with lock:
        result.latencies += latencies
        result.sent += sent


def _send_per_message(
    target: Target,
    message: bytes,
    sender: str,
    recipient: str,
    count: int,
    result: LoadResult,
    lock: threading.Lock,
) -> None:
    latencies = []
    sent = 0
    for _ in range(count):
        started = time.perf_counter()
        with open_connection(target) as client:
            refused = client.sendmail(sender, [recipient], message)
        latencies.append(time.perf_counter() - started)
        sent += not refused
    with lock:
        result.latencies += latencies
        result.sent += sent


def run_load(
    target: Target,
    *,
    connection_mode: str,
    message: bytes,
    sender: str,
    recipient: str,
    threads: int,
    messages_per_thread: int,
) -> LoadResult:
    """Send ``threads * messages_per_thread`` messages and time them.

    Latency is one ``sendmail`` call on a persistent connection, and the whole
    connect-greet-send-quit cycle in ``per-message`` mode. Errors are collected
    per thread rather than raised, so the caller can report them.
    """
    worker = _send_persistent if connection_mode == "persistent" else _send_per_message
    result = LoadResult()
    lock = threading.Lock()
    start_together = threading.Barrier(threads + 1)

    def run_thread() -> None:
        start_together.wait()
        try:
            worker(
                target, message, sender, recipient, messages_per_thread, result, lock
            )
        except (smtplib.SMTPException, OSError) as error:
            with lock:
                result.errors.append(f"{type(error).__name__}: {error}")

    workers = [threading.Thread(target=run_thread) for _ in range(threads)]
    for thread in workers:
        thread.start()
    start_together.wait()
    started = time.perf_counter()
    for thread in workers:
        thread.join()
    result.wall_seconds = time.perf_counter() - started
    return result
