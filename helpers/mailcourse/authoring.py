"""Regenerate the notebooks from their lesson sources and execute them.

Each lesson is written once, as MyST Markdown in ``lessons/``; its notebook in
``notebooks/`` is generated with jupytext and executed with nbclient, so the
stored outputs are real. Cell ids are derived from the cell position, so a
rebuild changes only what the lesson or its outputs changed.

    python -m mailcourse.authoring            rebuild every lesson
    python -m mailcourse.authoring 03 05      rebuild lessons whose name starts so
    python -m mailcourse.authoring --check    list notebooks out of sync, exit 1

A build never uses a developer's provider settings, because
:func:`hide_provider_settings` blanks them before any kernel starts.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import MutableMapping
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient

from .settings import ENV_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
LESSONS = ROOT / "lessons"
NOTEBOOKS = ROOT / "notebooks"
KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
CELL_TIMEOUT_SECONDS = 120


def hide_provider_settings(environ: MutableMapping[str, str] = os.environ) -> None:
    """Set every ``MAILCOURSE_SMTP_*`` variable in ``environ`` to an empty string.

    ``load_settings()`` then returns None, so lesson 08 sends to the provider
    simulator instead of the real provider of a developer's settings. An
    environment variable wins over the same name in a ``.env`` file even when
    it is empty, so a ``.env`` file next to the notebooks is masked too.
    Kernels started afterwards inherit the blanked variables.
    """
    for name in ENV_VARIABLES:
        environ[name] = ""


def lesson_sources() -> list[Path]:
    """Return the numbered lesson sources (``NN-name.md``) in order."""
    return sorted(LESSONS.glob("[0-9][0-9]-*.md"))


def notebook_for(lesson: Path) -> Path:
    return NOTEBOOKS / f"{lesson.stem}.ipynb"


def read_lesson(lesson: Path) -> nbformat.NotebookNode:
    """Read a lesson into an unexecuted notebook with stable cell ids."""
    notebook = jupytext.read(lesson)
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["kernelspec"] = dict(KERNELSPEC)
    notebook.metadata["language_info"] = {"name": "python"}
    for number, cell in enumerate(notebook.cells):
        cell["id"] = f"{lesson.stem[:2]}-{number:03d}"
    return notebook


def execute(notebook: nbformat.NotebookNode) -> None:
    """Run every cell in ``notebooks/``; cells tagged raises-exception may fail."""
    client = NotebookClient(
        notebook,
        timeout=CELL_TIMEOUT_SECONDS,
        kernel_name="python3",
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        record_timing=False,
        # Saved widget state would show forms that do nothing until re-run,
        # and changes its random ids on every build.
        store_widget_state=False,
    )
    client.execute()
    notebook.metadata["language_info"] = {"name": "python"}


def build(lesson: Path) -> Path:
    """Regenerate and execute the notebook of one lesson; return its path."""
    notebook = read_lesson(lesson)
    execute(notebook)
    target = notebook_for(lesson)
    nbformat.write(notebook, target)
    return target


def _comparable(notebook: nbformat.NotebookNode) -> list[tuple]:
    return [
        (
            cell.cell_type,
            cell.source.strip(),
            tuple(cell.metadata.get("tags", [])),
            bool(cell.metadata.get("jupyter", {}).get("source_hidden")),
        )
        for cell in notebook.cells
    ]


def differences(lesson: Path) -> list[str]:
    """Describe how a lesson's notebook differs from its source (empty if in sync)."""
    target = notebook_for(lesson)
    if not target.exists():
        return [f"{target.name} is missing"]
    expected = _comparable(read_lesson(lesson))
    actual = _comparable(nbformat.read(target, as_version=4))
    problems = []
    if len(expected) != len(actual):
        problems.append(
            f"{target.name} has {len(actual)} cells, {lesson.name} has {len(expected)}"
        )
    for number, (want, got) in enumerate(zip(expected, actual)):
        if want != got:
            problems.append(f"{target.name} cell {number} differs from {lesson.name}")
    unexecuted = [
        number
        for number, cell in enumerate(nbformat.read(target, as_version=4).cells)
        if cell.cell_type == "code" and cell.get("execution_count") is None
    ]
    if unexecuted:
        problems.append(f"{target.name} has unexecuted code cells {unexecuted}")
    return problems


def main(arguments: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("prefixes", nargs="*", help="lesson name prefixes, e.g. 03")
    parser.add_argument("--check", action="store_true", help="only compare, exit 1")
    options = parser.parse_args(arguments)
    lessons = [
        lesson
        for lesson in lesson_sources()
        if not options.prefixes or lesson.name.startswith(tuple(options.prefixes))
    ]
    if options.check:
        problems = [problem for lesson in lessons for problem in differences(lesson)]
        print("\n".join(problems) or "all notebooks match their lessons")
        return 1 if problems else 0
    os.environ.setdefault("TZ", "UTC")
    hide_provider_settings()
    for lesson in lessons:
        print(f"building {notebook_for(lesson).relative_to(ROOT)} ...", flush=True)
        build(lesson)
    return 0


if __name__ == "__main__":
    sys.exit(main())
