"""Section 1: server CPU per message, throughput and latency, bundled vs Sink.

Each server runs in its own process and reports its own CPU time, because a
Python load generator saturates before the server does: messages per second
alone would measure the client. Rounds alternate between the servers (and
swap their order every round) so that both see the same machine load, and the
ratios are taken round by round.
"""

from __future__ import annotations

import importlib.util
import math
import os
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from .load import CONNECTION_MODES, Target, run_load
from .results import (
    SectionResult,
    Table,
    TargetCheck,
    format_ms,
    format_number,
    format_ratio_spread,
    median,
    percentile,
)
from .sample_message import RECIPIENT, SENDER, message_bytes
from .server_under_test import ServerProcessError, ServerUnderTest

CLIENT_THREADS = 4
MAX_CPU_RATIO = 1.3
MIN_THROUGHPUT_RATIO = 0.9
BASELINE = "sink"
CHECKED = "bundled"
# A RAM-backed folder: file creation there skips the disk file system.
TMPFS_FOLDER = Path("/dev/shm")


@dataclass(frozen=True)
class Contender:
    """One server configuration in the comparison."""

    key: str
    label: str
    kind: str
    temporary_folder: Path | None = None


def contenders() -> list[Contender]:
    """Return the Sink baseline, the bundled server and, on Linux, a tmpfs variant.

    The tmpfs variant runs the same bundled server with its temporary Maildir
    in RAM, which separates the server's own work from the file system's.
    """
    found = [
        Contender(BASELINE, "aiosmtpd Controller + Sink", "sink"),
        Contender(CHECKED, "bundled server, Maildir in temp folder", "bundled"),
    ]
    if TMPFS_FOLDER.is_dir() and os.access(TMPFS_FOLDER, os.W_OK):
        found.append(
            Contender(
                "bundled-tmpfs",
                f"bundled server, Maildir on tmpfs ({TMPFS_FOLDER})",
                "bundled",
                TMPFS_FOLDER,
            )
        )
    return found


@dataclass(frozen=True)
class Workload:
    """Messages per client thread for each security and connection mode."""

    rounds: int
    per_thread: dict[tuple[str, str], int]

    def messages(self, security: str, connection_mode: str) -> int:
        return self.per_thread[(security, connection_mode)]


DEFAULT_WORKLOAD = Workload(
    rounds=5,
    per_thread={
        ("plain", "persistent"): 150,
        ("plain", "per-message"): 60,
        ("starttls", "persistent"): 100,
        ("starttls", "per-message"): 15,
    },
)
QUICK_WORKLOAD = Workload(
    rounds=1,
    per_thread={
        ("plain", "persistent"): 10,
        ("plain", "per-message"): 5,
        ("starttls", "persistent"): 5,
        ("starttls", "per-message"): 2,
    },
)


@dataclass
class ServerTotals:
    """Totals of one server over all measured rounds of one mode."""

    sent: int = 0
    stored: int = 0
    cpu_seconds: float = 0.0
    wall_seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def cpu_per_message(self) -> float:
        return self.cpu_seconds / self.sent if self.sent else math.nan

    @property
    def throughput(self) -> float:
        return self.sent / self.wall_seconds if self.wall_seconds else math.nan


@dataclass
class ModeResult:
    """Totals per contender and its per-round ratios to the Sink baseline."""

    security: str
    connection_mode: str
    contenders: list[Contender]
    totals: dict[str, ServerTotals] = field(default_factory=dict)
    cpu_ratios: dict[str, list[float]] = field(default_factory=dict)
    throughput_ratios: dict[str, list[float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for contender in self.contenders:
            self.totals[contender.key] = ServerTotals()
            self.cpu_ratios[contender.key] = []
            self.throughput_ratios[contender.key] = []


def provider_available() -> bool:
    return importlib.util.find_spec("mailcourse.provider") is not None


def lab_target(server: ServerUnderTest) -> Target:
    """Return the load target for a server, with the lab account in STARTTLS mode."""
    if server.security == "plain":
        return Target(server.host, server.port, "plain")
    from mailcourse.provider import LAB_PASSWORD, LAB_USER

    return Target(
        server.host,
        server.port,
        "starttls",
        context=server.client_context(),
        user=LAB_USER,
        password=LAB_PASSWORD,
    )


def measure_round(
    server: ServerUnderTest,
    connection_mode: str,
    message: bytes,
    per_thread: int,
    totals: ServerTotals | None,
) -> tuple[float, float]:
    """Load one server once; add to ``totals`` unless it is a warm-up round.

    Returns the round's server CPU seconds per message and messages per second.
    """
    before = server.stats()
    load = run_load(
        lab_target(server),
        connection_mode=connection_mode,
        message=message,
        sender=SENDER,
        recipient=RECIPIENT,
        threads=CLIENT_THREADS,
        messages_per_thread=per_thread,
    )
    after = server.stats()
    cpu = after.cpu_seconds - before.cpu_seconds
    if totals is not None:
        totals.sent += load.sent
        totals.stored += after.stored - before.stored
        totals.cpu_seconds += cpu
        totals.wall_seconds += load.wall_seconds
        totals.latencies += load.latencies
        totals.errors += load.errors
    if not load.sent:
        return math.nan, math.nan
    return cpu / load.sent, load.sent / load.wall_seconds


def measure_mode(
    security: str, connection_mode: str, workload: Workload, message: bytes
) -> ModeResult:
    """Run a warm-up round, then ``workload.rounds`` interleaved rounds."""
    per_thread = workload.messages(security, connection_mode)
    result = ModeResult(security, connection_mode, contenders())
    with ExitStack() as stack:
        servers = {
            contender.key: stack.enter_context(
                ServerUnderTest(contender.kind, security, contender.temporary_folder)
            )
            for contender in result.contenders
        }
        warm_up = max(1, per_thread // 4)
        for server in servers.values():
            measure_round(server, connection_mode, message, warm_up, None)
        keys = list(servers)
        for round_number in range(workload.rounds):
            order = keys if round_number % 2 == 0 else keys[::-1]
            figures = {}
            for key in order:
                figures[key] = measure_round(
                    servers[key],
                    connection_mode,
                    message,
                    per_thread,
                    result.totals[key],
                )
            baseline_cpu, baseline_throughput = figures[BASELINE]
            for key, (cpu, throughput) in figures.items():
                result.cpu_ratios[key].append(cpu / baseline_cpu)
                result.throughput_ratios[key].append(throughput / baseline_throughput)
    return result


def mode_label(result: ModeResult) -> str:
    return f"{result.security}, {result.connection_mode}"


def table_rows(result: ModeResult) -> list[list[str]]:
    rows = []
    for contender in result.contenders:
        totals = result.totals[contender.key]
        rows.append(
            [
                mode_label(result),
                contender.label,
                str(totals.sent),
                str(totals.stored),
                format_ms(totals.cpu_per_message),
                format_ratio_spread(result.cpu_ratios[contender.key]),
                format_number(totals.throughput),
                format_ratio_spread(result.throughput_ratios[contender.key]),
                format_ms(percentile(totals.latencies, 0.50)),
                format_ms(percentile(totals.latencies, 0.95)),
            ]
        )
    return rows


def problems_of(result: ModeResult) -> list[str]:
    problems = []
    for contender in result.contenders:
        totals = result.totals[contender.key]
        where = f"{contender.label}, {mode_label(result)}"
        if totals.stored != totals.sent:
            problems.append(
                f"{where}: stored {totals.stored} messages but sent {totals.sent}"
            )
        if totals.errors:
            problems.append(
                f"{where}: {len(totals.errors)} client errors, "
                f"first: {totals.errors[0]}"
            )
    return problems


def checks_of(result: ModeResult) -> list[TargetCheck]:
    label = mode_label(result)
    return [
        TargetCheck(
            f"bundled CPU/msg vs Sink ({label})",
            median(result.cpu_ratios[CHECKED]),
            MAX_CPU_RATIO,
            "x",
        ),
        TargetCheck(
            f"bundled msg/s vs Sink ({label})",
            median(result.throughput_ratios[CHECKED]),
            MIN_THROUGHPUT_RATIO,
            "x",
            higher_is_better=True,
        ),
    ]


def raw_figures(result: ModeResult) -> dict:
    return {
        contender.key: {
            "sent": result.totals[contender.key].sent,
            "stored": result.totals[contender.key].stored,
            "cpu_seconds": result.totals[contender.key].cpu_seconds,
            "wall_seconds": result.totals[contender.key].wall_seconds,
            "cpu_ratios": result.cpu_ratios[contender.key],
            "throughput_ratios": result.throughput_ratios[contender.key],
        }
        for contender in result.contenders
    }


def run(quick: bool) -> SectionResult:
    """Measure every security and connection mode; STARTTLS needs the simulator."""
    workload = QUICK_WORKLOAD if quick else DEFAULT_WORKLOAD
    message = message_bytes()
    section = SectionResult(
        key="throughput",
        title="Server CPU per message, throughput and latency",
    )
    table = Table(
        title=(
            f"{CLIENT_THREADS} smtplib client threads, {len(message)}-byte message, "
            f"{workload.rounds} interleaved rounds after one warm-up round"
        ),
        columns=[
            "Mode",
            "Server",
            "Sent",
            "Stored",
            "Server CPU ms/msg",
            "CPU vs Sink",
            "msg/s",
            "msg/s vs Sink",
            "p50 ms",
            "p95 ms",
        ],
    )
    securities = ["plain", "starttls"]
    if not provider_available():
        securities = ["plain"]
        table.notes.append(
            "STARTTLS rows skipped: mailcourse.provider (the provider simulator) "
            "is not installed in this tree yet."
        )
    for security in securities:
        for connection_mode in CONNECTION_MODES:
            try:
                result = measure_mode(security, connection_mode, workload, message)
            except ServerProcessError as error:
                section.problems.append(f"{security}, {connection_mode}: {error}")
                continue
            table.rows += table_rows(result)
            section.problems += problems_of(result)
            section.checks += checks_of(result)
            section.raw[mode_label(result)] = raw_figures(result)
    table.notes += [
        "Server CPU is the server process's own CPU time (user + system) over "
        "the round, divided by the messages sent in it.",
        "Latency is one sendmail call on a persistent connection, and the whole "
        "connect, EHLO, (STARTTLS, login,) send and QUIT cycle per message.",
        "Ratios are medians of the per-round ratios to the Sink, with the lowest "
        "and highest round in brackets. Stored counts "
        "files in the bundled server's Maildir and messages the Sink accepted.",
        "Targets are checked on the bundled server as shipped (Maildir in the "
        "temp folder); the tmpfs row shows how much of the gap is file creation.",
    ]
    section.tables.append(table)
    return section
