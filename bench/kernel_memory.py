"""Section 5: memory a kernel needs with the bundled server running.

One ipykernel is started with jupyter_client's ``KernelManager``. Its resident
set size (RSS) is read from the operating system after each step: bare, with
the modules a lesson imports, with the server started, and after the server
stored messages that the inbox then read. The server's share is the difference
to the step before it was imported.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from jupyter_client.manager import KernelManager

from .results import SectionResult, Table, TargetCheck, format_number

MAX_SERVER_MEGABYTES = 15
KERNEL_READY_TIMEOUT_SECONDS = 60
CELL_TIMEOUT_SECONDS = 120
SETTLE_SECONDS = 0.5
DEFAULT_MESSAGES = 200
QUICK_MESSAGES = 10
MEGABYTE = 1024 * 1024

LESSON_IMPORTS = "import smtplib, mimetypes\nfrom email.message import EmailMessage"
START_SERVER = "import mailcourse\nserver = mailcourse.start_local_server()"
SEND_AND_READ = """
from bench.sample_message import build_message
message = build_message()
with smtplib.SMTP(server.host, server.port, local_hostname="client.bench.test",
                  timeout=10) as client:
    for _ in range({count}):
        client.send_message(message)
assert len(server.inbox.messages()) == {count}
"""
STOP_SERVER = "server.stop()"


class KernelStepError(RuntimeError):
    """Raised when a step's code fails inside the kernel."""


class MemoryReadingUnavailable(RuntimeError):
    """Raised when neither /proc nor psutil can report a process's RSS."""


def resident_bytes(pid: int) -> int:
    """Return the RSS of process ``pid`` in bytes (Linux /proc, else psutil).

    Raises :class:`MemoryReadingUnavailable` without /proc and psutil.
    """
    status = Path(f"/proc/{pid}/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    try:
        import psutil  # Not a declared dependency: only needed without /proc.
    except ImportError as error:
        raise MemoryReadingUnavailable(
            "reading a process's RSS needs Linux /proc or the psutil package; "
            "install psutil to run this section"
        ) from error
    return psutil.Process(pid).memory_info().rss


def execute(client, code: str) -> None:
    """Run ``code`` in the kernel and raise :class:`KernelStepError` if it fails."""
    reply = client.execute_interactive(
        code, timeout=CELL_TIMEOUT_SECONDS, output_hook=lambda message: None
    )
    content = reply["content"]
    if content["status"] != "ok":
        raise KernelStepError(
            f"kernel step failed: {content.get('ename')}: {content.get('evalue')}"
        )


def measure_steps(count: int) -> list[tuple[str, int]]:
    """Start a kernel, run each step and return (step, RSS bytes) pairs."""
    steps = [
        ("bare kernel", "pass"),
        ("+ smtplib, email, mimetypes imported", LESSON_IMPORTS),
        ("+ mailcourse imported, server started", START_SERVER),
        (
            f"+ {count} messages stored and read from the inbox",
            SEND_AND_READ.format(count=count),
        ),
    ]
    figures = []
    with tempfile.TemporaryDirectory(prefix="bench-kernel-") as folder:
        # Unix sockets in the scratch folder: no TCP port, and no warning
        # about unencrypted TCP from the kernel.
        manager = KernelManager(
            kernel_name="python3",
            transport="ipc",
            ip=os.path.join(folder, "kernel-ipc"),
        )
        environment = dict(os.environ)
        root = str(Path(__file__).resolve().parents[1])
        environment["PYTHONPATH"] = os.pathsep.join(
            path for path in (root, environment.get("PYTHONPATH", "")) if path
        )
        manager.start_kernel(cwd=folder, env=environment)
        client = manager.client()
        client.start_channels()
        try:
            client.wait_for_ready(timeout=KERNEL_READY_TIMEOUT_SECONDS)
            pid = manager.provisioner.process.pid
            for label, code in steps:
                execute(client, code)
                time.sleep(SETTLE_SECONDS)
                figures.append((label, resident_bytes(pid)))
            execute(client, STOP_SERVER)
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
    return figures


def run(quick: bool) -> SectionResult:
    count = QUICK_MESSAGES if quick else DEFAULT_MESSAGES
    section = SectionResult(key="memory", title="Kernel memory with the server")
    try:
        figures = measure_steps(count)
    except KernelStepError as error:
        section.problems.append(str(error))
        return section
    except MemoryReadingUnavailable as error:
        section.skipped = str(error)
        return section

    table = Table(
        title="RSS of one ipykernel process after each step",
        columns=["Step", "RSS MB", "change MB"],
    )
    previous = None
    for label, rss in figures:
        change = "" if previous is None else format_number((rss - previous) / MEGABYTE)
        table.rows.append([label, format_number(rss / MEGABYTE), change])
        previous = rss

    before_server = figures[1][1]
    server_share = max(rss for _, rss in figures[2:]) - before_server
    table.notes.append(
        "The server's share is the largest RSS after the server started minus the "
        "RSS with the lesson's own imports, which every lesson has anyway."
    )
    section.checks.append(
        TargetCheck(
            "memory the server adds to a kernel",
            server_share / MEGABYTE,
            MAX_SERVER_MEGABYTES,
            " MB",
        )
    )
    section.raw = {label: rss for label, rss in figures}
    section.tables.append(table)
    return section
