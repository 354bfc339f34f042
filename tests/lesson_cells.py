"""Reading committed notebooks in tests: cells, tags, outputs, exercises.

Shared by the lesson structure tests. ``sanitized`` applies the same
sanitize file that nbval uses, so a test can ask what nbval will compare.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
from nbval.plugin import get_sanitize_patterns

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"


def read_notebook(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)


def tags(cell: nbformat.NotebookNode) -> list[str]:
    return list(cell.metadata.get("tags", []))


def is_hidden(cell: nbformat.NotebookNode) -> bool:
    return bool(cell.metadata.get("jupyter", {}).get("source_hidden"))


def code_cells(notebook: nbformat.NotebookNode) -> list[nbformat.NotebookNode]:
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def next_code_cell(
    notebook: nbformat.NotebookNode, number: int
) -> nbformat.NotebookNode:
    return next(
        cell for cell in notebook.cells[number + 1 :] if cell.cell_type == "code"
    )


def output_texts(cell: nbformat.NotebookNode) -> list[str]:
    """Return the stored text of each output, tracebacks left out."""
    texts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            texts.append(output.text)
        elif output.output_type == "error":
            texts.append(f"{output.ename}: {output.evalue}")
        else:
            texts += [
                str(value)
                for mime_type, value in output.data.items()
                if mime_type.startswith("text/")
            ]
    return texts


def sanitized(text: str) -> str:
    """Apply the nbval sanitize file to ``text``, as nbval does before comparing."""
    patterns = get_sanitize_patterns(SANITIZE_FILE.read_text(encoding="utf-8"))
    for regex, replacement in patterns:
        text = re.sub(regex, replacement, text)
    return text


def exercise_sections(notebook: nbformat.NotebookNode) -> list[list]:
    """Return, for each "## Ejercicio" heading, the cells up to the next heading."""
    sections: list[list] = []
    for cell in notebook.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("#"):
            is_exercise = cell.source.startswith("## Ejercicio")
            sections.append([] if is_exercise else None)
        elif sections and sections[-1] is not None:
            sections[-1].append(cell)
    return [section for section in sections if section is not None]
