"""Run the benchmarks, print the results table and write the results page.

    python -m bench                   full run (a few minutes on 2 cores)
    python -m bench --quick           tiny counts, for the smoke test (seconds)
    python -m bench --only startup    one section (repeat --only for more)
    python bench/run.py ...           the same, without -m

The exit status is 1 when a server stored fewer or more messages than were
sent, or when a client got an error. A missed speed target only shows in the
table.
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

if __package__ in (None, ""):
    # Run as a script: make the repository root importable, as python -m does.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import delivery, kernel_memory, notebooks, startup, throughput
from bench.machine import OtherLoadWatch, describe_machine, load_average
from bench.report import render_report, write_page
from bench.results import SectionResult

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_OUTPUT = ROOT / "docs" / "benchmarks.md"
SECTIONS: dict[str, Callable[[bool], SectionResult]] = {
    "throughput": throughput.run,
    "delivery": delivery.run,
    "startup": startup.run,
    "notebooks": notebooks.run,
    "memory": kernel_memory.run,
}
# Each of these starts Jupyter kernels, which takes seconds per kernel.
SLOW_SECTIONS = ("notebooks", "memory")


def parse_arguments(arguments: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="tiny message counts and one round; skips the notebook and kernel "
        "memory sections unless --only names them",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=list(SECTIONS),
        help="run only this section (may be repeated)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        default=DEFAULT_OUTPUT,
        help="Markdown page whose generated block is replaced (default: %(default)s)",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="print the table, write no file"
    )
    parser.add_argument(
        "--json",
        type=Path,
        help="also write the raw figures to this JSON file",
    )
    return parser.parse_args(arguments)


def chosen_sections(options: argparse.Namespace) -> list[str]:
    if options.only:
        return [name for name in SECTIONS if name in options.only]
    if options.quick:
        return [name for name in SECTIONS if name not in SLOW_SECTIONS]
    return list(SECTIONS)


def run_section(name: str, quick: bool) -> SectionResult:
    print(f"[bench] {name} ...", file=sys.stderr, flush=True)
    watch = OtherLoadWatch()
    section = SECTIONS[name](quick)
    section.other_load = watch.other_cores()
    return section


def main(arguments: list[str] | None = None) -> int:
    options = parse_arguments(arguments)
    command_arguments = sys.argv[1:] if arguments is None else arguments
    command = shlex.join(["python", "-m", "bench", *command_arguments])
    started = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    began = time.perf_counter()
    machine = describe_machine()
    machine["Load average at start"] = load_average()
    numbers = {name: number for number, name in enumerate(SECTIONS, start=1)}
    sections = [
        (numbers[name], run_section(name, options.quick))
        for name in chosen_sections(options)
    ]
    machine["Load average at end"] = load_average()
    block = render_report(
        command=command,
        started=started,
        duration_seconds=time.perf_counter() - began,
        machine=machine,
        sections=sections,
    )
    print(block)
    if not options.no_write:
        write_page(options.output, block)
        print(f"\n[bench] wrote {options.output}", file=sys.stderr)
    if options.json:
        raw = {section.key: section.raw for _, section in sections}
        options.json.write_text(json.dumps(raw, indent=2), encoding="utf-8")
    problems = [problem for _, section in sections for problem in section.problems]
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
