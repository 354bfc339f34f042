"""Section 4: how long each notebook takes under nbval, against a floor.

The floor is a notebook with one cell (``1 + 1``) run the same way: pytest and
nbval start-up plus one kernel start, which every notebook pays. Each lesson
notebook runs in its own pytest process, then all of them in one process (the
suite), with the repository's pytest settings (strict ``--nbval``, the
sanitize file).
"""

from __future__ import annotations

import resource
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
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


@dataclass(frozen=True)
class PytestRun:
    """Wall and CPU seconds of one pytest run, and whether it passed.

    CPU time is that of pytest and the kernels it started and waited for. It
    moves less than wall time when other programs share the machine.
    """

    seconds: float
    cpu_seconds: float
    passed: bool


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def time_pytest(paths: list[Path]) -> PytestRun:
    """Run pytest with the repository's settings on ``paths`` and time it."""
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
    cpu_before = _children_cpu_seconds()
    began = time.perf_counter()
    completed = subprocess.run(
        command,
        cwd=ROOT,
        env=child_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=PYTEST_TIMEOUT_SECONDS,
    )
    return PytestRun(
        seconds=time.perf_counter() - began,
        cpu_seconds=_children_cpu_seconds() - cpu_before,
        passed=completed.returncode == 0,
    )


def time_floor(runs: int) -> PytestRun:
    """Return the fastest of ``runs`` one-cell runs (failed if any failed)."""
    with tempfile.TemporaryDirectory(prefix="bench-floor-") as folder:
        floor_path = write_floor_notebook(Path(folder))
        floor_runs = [time_pytest([floor_path]) for _ in range(runs)]
    return PytestRun(
        seconds=min(floor_run.seconds for floor_run in floor_runs),
        cpu_seconds=min(floor_run.cpu_seconds for floor_run in floor_runs),
        passed=all(floor_run.passed for floor_run in floor_runs),
    )


def table_row(
    label: str, timed: PytestRun, floor: PytestRun, notebooks: int = 1
) -> list[str]:
    """Format one row; a suite row divides its times by its ``notebooks``."""
    suffix = " per notebook" if notebooks > 1 else ""
    wall_ratio = timed.seconds / notebooks / floor.seconds
    cpu_ratio = timed.cpu_seconds / notebooks / floor.cpu_seconds
    return [
        label,
        format_number(timed.seconds),
        format_ratio(wall_ratio) + suffix,
        format_number(timed.cpu_seconds),
        format_ratio(cpu_ratio) + suffix,
        "passed" if timed.passed else "FAILED",
    ]


def run(quick: bool) -> SectionResult:
    section = SectionResult(key="notebooks", title="Notebooks under nbval")
    notebooks = sorted(NOTEBOOKS.glob("*.ipynb"))
    floor_runs = 1 if quick else FLOOR_RUNS
    floor = time_floor(floor_runs)
    if not floor.passed:
        section.problems.append("the one-cell floor notebook failed under nbval")

    table = Table(
        title=f"pytest --nbval, one process per row; floor = fastest of {floor_runs} "
        "one-cell runs",
        columns=["Notebook", "wall s", "vs floor", "CPU s", "vs floor", "result"],
    )
    table.rows.append(table_row("one-cell floor", floor, floor))
    section.raw["floor"] = [floor.seconds, floor.cpu_seconds]
    if not notebooks:
        table.notes.append("No notebooks in notebooks/ yet: only the floor was timed.")
        section.tables.append(table)
        return section

    for path in notebooks:
        notebook_run = time_pytest([path])
        table.rows.append(table_row(path.name, notebook_run, floor))
        section.raw[path.name] = [notebook_run.seconds, notebook_run.cpu_seconds]

    suite = time_pytest(notebooks)
    label = f"suite: all {len(notebooks)} in one pytest run"
    table.rows.append(table_row(label, suite, floor, notebooks=len(notebooks)))
    section.raw["suite"] = [suite.seconds, suite.cpu_seconds]
    table.notes += [
        "CPU s counts pytest and the kernels it started. It moves less than wall "
        "time when other programs share the machine.",
        "A failed notebook is timed all the same; its time may be shorter or longer "
        "than a passing run.",
    ]
    section.checks.append(
        TargetCheck(
            "nbval suite wall time per notebook vs one-cell floor",
            suite.seconds / len(notebooks) / floor.seconds,
            MAX_SUITE_RATIO,
            "x",
        )
    )
    section.tables.append(table)
    return section
