"""Section 2: time from ``send_message`` returning to the message in the inbox.

This runs the way a notebook does: the bundled server in a thread of this
process and an smtplib client in the same process. The server stores the file
before it sends its 250 reply, so the first look at the inbox should already
find the message. The figure is what a student waits for after a send cell.
"""

from __future__ import annotations

import smtplib
import time
from dataclasses import dataclass, field

from mailcourse import LocalServer, start_local_server

from .load import CLIENT_HOSTNAME, CLIENT_TIMEOUT_SECONDS
from .results import SectionResult, Table, format_ms, median, percentile
from .sample_message import build_message

DEFAULT_MESSAGES = 200
QUICK_MESSAGES = 5
VISIBLE_TIMEOUT_SECONDS = 5.0


class NotVisibleError(RuntimeError):
    """Raised when a sent message does not appear in the inbox in time."""


@dataclass
class DeliveryTimes:
    """Per-message send and visibility times, and the counts to check."""

    sent: int = 0
    stored: int = 0
    extra_reads: int = 0
    send_times: list[float] = field(default_factory=list)
    visible_times: list[float] = field(default_factory=list)


def wait_until_visible(server: LocalServer, subject: str) -> tuple[float, int]:
    """Read the newest inbox message until it has ``subject``.

    Returns the seconds waited and how many reads that took. Raises
    :class:`NotVisibleError` after ``VISIBLE_TIMEOUT_SECONDS``.
    """
    started = time.perf_counter()
    reads = 0
    while True:
        reads += 1
        try:
            if server.inbox.latest().subject == subject:
                return time.perf_counter() - started, reads
        except LookupError:
            pass
        if time.perf_counter() - started > VISIBLE_TIMEOUT_SECONDS:
            raise NotVisibleError(
                f"message {subject!r} not in the inbox after "
                f"{VISIBLE_TIMEOUT_SECONDS} s"
            )


def send_one_by_one(server: LocalServer, count: int, times: DeliveryTimes) -> None:
    """Send ``count`` messages on one connection, waiting for each in the inbox.

    Raises ``smtplib.SMTPException`` or ``OSError`` as smtplib does, and
    :class:`NotVisibleError`.
    """
    with smtplib.SMTP(
        server.host,
        server.port,
        local_hostname=CLIENT_HOSTNAME,
        timeout=CLIENT_TIMEOUT_SECONDS,
    ) as client:
        for number in range(count):
            message = build_message()
            subject = f"Entrega número {number}"
            message.replace_header("Subject", subject)

            started = time.perf_counter()
            client.send_message(message)
            times.send_times.append(time.perf_counter() - started)
            times.sent += 1

            waited, reads = wait_until_visible(server, subject)
            times.visible_times.append(waited)
            times.extra_reads += reads - 1


def timing_table(times: DeliveryTimes) -> Table:
    table = Table(
        title=f"{times.sent} messages sent one by one on one connection, "
        "server in-process",
        columns=["Step", "p50 ms", "p95 ms", "max ms"],
    )
    for label, values in (
        ("send_message call", times.send_times),
        ("send_message returned -> visible in inbox", times.visible_times),
    ):
        table.rows.append(
            [
                label,
                format_ms(percentile(values, 0.50)),
                format_ms(percentile(values, 0.95)),
                format_ms(max(values, default=float("nan"))),
            ]
        )
    table.notes.append(
        f"Sent {times.sent}, stored {times.stored}; inbox reads beyond the first: "
        f"{times.extra_reads} (0 means every message was visible at the first look)."
    )
    table.notes.append(
        "The visible time is one Inbox.latest() call: it lists the Maildir and "
        "parses the newest file, so it grows with the number of stored messages."
    )
    return table


def run(quick: bool) -> SectionResult:
    """Send messages one by one and time until each is readable from the inbox."""
    count = QUICK_MESSAGES if quick else DEFAULT_MESSAGES
    section = SectionResult(key="delivery", title="From send_message to the inbox")
    times = DeliveryTimes()

    server = start_local_server()
    try:
        send_one_by_one(server, count, times)
    except (NotVisibleError, smtplib.SMTPException, OSError) as error:
        section.problems.append(f"{type(error).__name__}: {error}")
    finally:
        times.stored = server.store.count()
        server.stop()

    if times.stored != times.sent:
        section.problems.append(f"stored {times.stored} messages but sent {times.sent}")
    section.tables.append(timing_table(times))
    section.raw = {
        "sent": times.sent,
        "stored": times.stored,
        "send_median": median(times.send_times),
        "visible_median": median(times.visible_times),
        "extra_reads": times.extra_reads,
    }
    return section
