"""Section 3: how long the servers take to start and stop.

Plain mode is ``start_local_server()``; provider mode is
``start_provider_simulator()``, which also makes a CA and a certificate. A bare
aiosmtpd ``Controller`` and the trustme and ``ssl`` steps alone are timed in
the same run as the floors to compare with. A cold start in a new interpreter
(imports included) is what the first cell of a lesson pays.

The timings run in a child process (``python -m bench.startup``) with a time
limit, so a server start that hangs is reported instead of stopping the run.
"""

from __future__ import annotations

import argparse
import json
import ssl
import subprocess
import sys
import time
from typing import Callable

from .results import SectionResult, Table, TargetCheck, format_ms, median, percentile
from .server_process import LOOPBACK_HOST, SINK_HOSTNAME, CountingSink, free_port
from .server_under_test import ROOT, child_environment
from .throughput import provider_available

MAX_PLAIN_START_MS = 5
MAX_PROVIDER_START_MS = 60
CHILD_TIMEOUT_SECONDS = 120
COLD_START_SCRIPT = """
import json, time
began = time.perf_counter()
from mailcourse import start_local_server
imported = time.perf_counter()
server = start_local_server()
started = time.perf_counter()
server.stop()
print(json.dumps({"import": imported - began, "start": started - imported}))
"""
# Rows of the table: key in the measured figures, label, note.
ROWS = (
    ("bare_start", "bare aiosmtpd Controller: start", "floor"),
    ("bare_stop", "bare aiosmtpd Controller: stop", "floor"),
    ("plain_start", "start_local_server()", ""),
    ("plain_stop", "LocalServer.stop()", ""),
    ("certificates", "trustme CA + server certificate", "floor"),
    ("contexts", "server SSLContext with the certificate", "floor"),
    ("provider_start", "start_provider_simulator()", "CA, certs, 2 ports"),
    ("provider_stop", "ProviderSimulator.stop()", ""),
    ("cold_import", "new interpreter: import mailcourse", ""),
    ("cold_start", "new interpreter: first start_local_server()", ""),
)


def time_start_stop(
    start: Callable[[], object], stop: Callable[[object], None], repeats: int
) -> tuple[list[float], list[float]]:
    """Return the start and stop durations of ``repeats`` cycles."""
    start_times = []
    stop_times = []
    for _ in range(repeats):
        began = time.perf_counter()
        server = start()
        started = time.perf_counter()
        stop(server)
        stopped = time.perf_counter()
        start_times.append(started - began)
        stop_times.append(stopped - started)
    return start_times, stop_times


def time_calls(call: Callable[[], object], repeats: int) -> list[float]:
    durations = []
    for _ in range(repeats):
        began = time.perf_counter()
        call()
        durations.append(time.perf_counter() - began)
    return durations


def start_bare_controller():
    from aiosmtpd.controller import Controller

    controller = Controller(
        CountingSink(),
        hostname=LOOPBACK_HOST,
        port=free_port(),
        server_hostname=SINK_HOSTNAME,
    )
    controller.start()
    return controller


def make_certificate():
    import trustme

    authority = trustme.CA()
    return authority.issue_cert("localhost", LOOPBACK_HOST)


def build_server_context(certificate) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    certificate.configure_cert(context)
    return context


def cold_start_times(repeats: int) -> tuple[list[float], list[float]]:
    """Time ``import mailcourse`` and the first start in fresh interpreters."""
    imports = []
    starts = []
    for _ in range(repeats):
        output = subprocess.run(
            [sys.executable, "-c", COLD_START_SCRIPT],
            cwd=ROOT,
            env=child_environment(),
            capture_output=True,
            text=True,
            check=True,
            timeout=CHILD_TIMEOUT_SECONDS,
        ).stdout
        figures = json.loads(output)
        imports.append(figures["import"])
        starts.append(figures["start"])
    return imports, starts


def measure(quick: bool) -> dict[str, list[float]]:
    """Time every start and stop step; run by the child process."""
    from mailcourse import start_local_server

    repeats = 3 if quick else 30
    tls_repeats = 2 if quick else 10
    figures: dict[str, list[float]] = {}
    figures["bare_start"], figures["bare_stop"] = time_start_stop(
        start_bare_controller, lambda controller: controller.stop(), repeats
    )
    figures["plain_start"], figures["plain_stop"] = time_start_stop(
        start_local_server, lambda server: server.stop(), repeats
    )
    figures["certificates"] = time_calls(make_certificate, tls_repeats)
    certificate = make_certificate()
    figures["contexts"] = time_calls(
        lambda: build_server_context(certificate), tls_repeats
    )
    if provider_available():
        from mailcourse.provider import start_provider_simulator

        figures["provider_start"], figures["provider_stop"] = time_start_stop(
            start_provider_simulator, lambda simulator: simulator.stop(), tls_repeats
        )
    figures["cold_import"], figures["cold_start"] = cold_start_times(1 if quick else 3)
    return figures


def measure_in_child(quick: bool) -> dict[str, list[float]]:
    """Run :func:`measure` in a new interpreter and return its figures.

    Raises ``subprocess.TimeoutExpired`` when the child hangs and
    ``RuntimeError`` when it fails.
    """
    command = [sys.executable, "-m", "bench.startup"] + (["--quick"] if quick else [])
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env=child_environment(),
        capture_output=True,
        text=True,
        timeout=CHILD_TIMEOUT_SECONDS,
    )
    if completed.returncode != 0:
        raise RuntimeError(
            f"{' '.join(command)} failed with code {completed.returncode}:\n"
            f"{completed.stderr.strip()}"
        )
    return json.loads(completed.stdout)


def timing_row(label: str, values: list[float], note: str) -> list[str]:
    return [
        label,
        format_ms(median(values)),
        format_ms(percentile(values, 0.95)),
        str(len(values)),
        note,
    ]


def run(quick: bool) -> SectionResult:
    section = SectionResult(key="startup", title="Server start and stop")
    try:
        figures = measure_in_child(quick)
    except subprocess.TimeoutExpired:
        section.problems.append(
            f"start/stop timing did not finish within {CHILD_TIMEOUT_SECONDS} s: "
            "a server start or stop hangs"
        )
        return section
    except RuntimeError as error:
        section.problems.append(str(error))
        return section
    table = Table(
        title="Start and stop, timed in a fresh child process",
        columns=["Step", "median ms", "p95 ms", "runs", "Note"],
    )
    table.rows = [
        timing_row(label, figures[key], note)
        for key, label, note in ROWS
        if key in figures
    ]
    if "provider_start" not in figures:
        table.notes.append(
            "Provider mode skipped: mailcourse.provider is not in this tree yet."
        )
    table.notes.append(
        "Start ends when start() returns and the port accepts connections; stop "
        "ends when the server thread has been joined."
    )
    section.tables.append(table)
    section.checks.append(
        TargetCheck(
            "plain start (median)",
            median(figures["plain_start"]) * 1000,
            MAX_PLAIN_START_MS,
            " ms",
        )
    )
    if "provider_start" in figures:
        section.checks.append(
            TargetCheck(
                "provider mode start (median)",
                median(figures["provider_start"]) * 1000,
                MAX_PROVIDER_START_MS,
                " ms",
            )
        )
    section.raw = figures
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description="Time server start and stop.")
    parser.add_argument("--quick", action="store_true", help="few repeats")
    options = parser.parse_args()
    print(json.dumps(measure(options.quick)))


if __name__ == "__main__":
    main()
