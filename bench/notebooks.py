"""Section 4: how long each notebook takes under nbval, against a floor.

The floor is a notebook with one cell (``1 + 1``) run the same way: pytest and
nbval start-up plus one kernel start, which every notebook pays. Each lesson
notebook runs in its own pytest process, then all of them in one process (the
suite), with the repository's pytest settings (strict ``--nbval``, the
sanitize file).
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from .results import SectionResult, Table, TargetCheck, format_number, format_ratio
from .server_under_test import ROOT, child_environment

NOTEBOOKS = ROOT / "notebooks"
MAX_SUITE_RATIO = 1.5
FLOOR_RUNS = 3
PYTEST_TIMEOUT_SECONDS = 900


def write_floor_notebook(folder: Path) -> Path:
    """Write an executed one-cell notebook whose stored output nbval compares."""
    notebook = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("1 + 1", id="floor-000")
    cell.execution_count = 1
    cell.outputs = [
        nbformat.v4.new_output(
            "execute_result", data={"text/plain": "2"}, execution_count=1
        )
    ]
    notebook.cells = [cell]
    notebook.metadata["kernelspec"] = {
        "display_name": "Python 3",
        "language": "python",
        "name": "python3",
    }
    path = folder / "floor.ipynb"
    nbformat.write(notebook, path)
    return path


def time_pytest(paths: list[Path]) -> tuple[float, bool]:
    """Run pytest with the repository's settings on ``paths``.

    Returns the wall time in seconds and whether pytest exited with 0.
    """
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-c",
        str(ROOT / "pyproject.toml"),
        "--rootdir",
        str(ROOT),
        *map(str, paths),
    ]
    began = time.perf_counter()
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env=child_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=PYTEST_TIMEOUT_SECONDS,
    )
    return time.perf_counter() - began, completed.returncode == 0


def time_floor(runs: int) -> tuple[float, bool]:
    """Return the fastest of ``runs`` one-cell runs and whether all passed."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as folder:
        floor_path = write_floor_notebook(Path(folder))
        floor_runs = [time_pytest([floor_path]) for _ in range(runs)]
    fastest = min(seconds for seconds, _ in floor_runs)
    return fastest, all(passed for _, passed in floor_runs)


def run(quick: bool) -> SectionResult:
    section = SectionResult(key="notebooks", title="Notebooks under nbval")
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    floor_runs = 1 if quick else FLOOR_RUNS
    floor, floor_passed = time_floor(floor_runs)
    if not floor_passed:
        section.problems.append("the one-cell floor notebook failed under nbval")

    table = Table(
        title=f"Wall time of pytest --nbval, floor = fastest of {floor_runs} "
        "one-cell runs",
        columns=["Notebook", "seconds", "vs floor", "result"],
    )
    table.rows.append(["one-cell floor", format_number(floor), "1.00x", "passed"])
    section.raw["floor_seconds"] = floor
    if not notebooks:
        table.notes.append("No notebooks in notebooks/ yet: only the floor was timed.")
        section.tables.append(table)
        return section

    for path in notebooks:
        seconds, passed = time_pytest([path])
        table.rows.append(
            [
                path.name,
                format_number(seconds),
                format_ratio(seconds / floor),
                "passed" if passed else "FAILED",
            ]
        )
        section.raw[path.name] = seconds

    suite_seconds, suite_passed = time_pytest(notebooks)
    per_notebook = suite_seconds / len(notebooks)
    table.rows.append(
        [
            f"suite: all {len(notebooks)} in one pytest run",
            format_number(suite_seconds),
            f"{format_ratio(per_notebook / floor)} per notebook",
            "passed" if suite_passed else "FAILED",
        ]
    )
    table.notes.append(
        "A failed notebook is timed all the same; its time may be shorter or longer "
        "than a passing run."
    )
    section.raw["suite_seconds"] = suite_seconds
    section.checks.append(
        TargetCheck(
            "nbval suite time per notebook vs one-cell floor",
            per_notebook / floor,
            MAX_SUITE_RATIO,
            "x",
        )
    )
    section.tables.append(table)
    return section
