"""Smoke test of the benchmark command in its quick mode.

It runs ``python -m bench --quick`` once against real servers on 127.0.0.1
and checks what the command prints and writes, never how fast anything was:
speed is read off the ratios in the results page, not asserted in tests.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCH_TIMEOUT_SECONDS = 240


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory):
    """The finished quick run: its process result, page and raw figures."""
    folder = tmp_path_factory.mktemp("bench")
    page = folder / "benchmarks.md"
    raw = folder / "raw.json"
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--quick",
            "--output",
            str(page),
            "--json",
            str(raw),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=BENCH_TIMEOUT_SECONDS,
    )
    return completed, page, raw


def markdown_table(text: str, first_column: str) -> list[dict[str, str]]:
    """Return the rows of the first Markdown table whose header starts so."""
    lines = text.splitlines()
    for index, line in enumerate(lines):
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if line.startswith("|") and cells[0] == first_column:
            header = cells
            break
    else:
        return []
    rows = []
    for line in lines[index + 2 :]:
        if not line.startswith("|"):
            break
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        rows.append(dict(zip(header, cells)))
    return rows


def test_quick_bench_exits_cleanly(quick_run):
    completed, _, _ = quick_run
    assert completed.returncode == 0, (
        completed.stdout[-3000:] + completed.stderr[-3000:]
    )


def test_quick_bench_prints_server_table(quick_run):
    completed, _, _ = quick_run
    rows = markdown_table(completed.stdout, "Mode")
    servers = {row["Server"] for row in rows}
    assert "aiosmtpd Controller + Sink" in servers
    assert "bundled server, Maildir in temp folder" in servers
    assert {row["Mode"] for row in rows} >= {"plain, persistent", "plain, per-message"}


def test_stored_equals_sent_every_row(quick_run):
    completed, _, _ = quick_run
    rows = markdown_table(completed.stdout, "Mode")
    assert rows
    for row in rows:
        where = f"{row['Mode']} / {row['Server']}"
        assert int(row["Sent"]) > 0, where
        assert row["Stored"] == row["Sent"], where


def test_raw_figures_match_table(quick_run):
    _, _, raw = quick_run
    figures = json.loads(raw.read_text())
    persistent = figures["throughput"]["plain, persistent"]
    assert persistent["bundled"]["stored"] == persistent["bundled"]["sent"]
    assert persistent["sink"]["stored"] == persistent["sink"]["sent"]


def test_delivery_visible_after_send(quick_run):
    completed, _, _ = quick_run
    rows = markdown_table(completed.stdout, "Step")
    steps = [row["Step"] for row in rows]
    assert "send_message returned -> visible in inbox" in steps


def test_page_has_generated_block(quick_run):
    completed, page, _ = quick_run
    text = page.read_text(encoding="utf-8")
    assert "<!-- bench:begin" in text
    assert "<!-- bench:end -->" in text
    assert markdown_table(text, "Mode") == markdown_table(completed.stdout, "Mode")
