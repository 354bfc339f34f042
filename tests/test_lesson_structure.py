"""Every lesson follows the course's conventions.

Objectives and minutes at the top, key points and then exercises at the
end, a hidden solution for each exercise, and nothing else hidden.
"""

from __future__ import annotations

import re

import nbformat
import pytest

from lesson_cells import (
    NOTEBOOKS,
    code_cells,
    exercise_sections,
    is_hidden,
    read_notebook,
    tags,
)

LESSON_NAMES = sorted(path.stem for path in NOTEBOOKS.glob("[0-9][0-9]-*.ipynb"))


@pytest.fixture(params=LESSON_NAMES)
def notebook(request) -> nbformat.NotebookNode:
    return read_notebook(request.param)


def test_lesson_opens_with_objectives(notebook):
    opening = notebook.cells[0].source
    assert opening.startswith("# Lección ")
    assert "**Objetivos**" in opening
    assert re.search(
        r"\*\*Tiempo estimado\*\*: \d+ minutos de explicación y \d+ de ejercicios",
        opening,
    )


def test_lesson_ends_with_key_points(notebook):
    headings = [
        cell.source.splitlines()[0]
        for cell in notebook.cells
        if cell.cell_type == "markdown" and cell.source.startswith("## ")
    ]
    assert "## Puntos clave" in headings
    after_key_points = headings[headings.index("## Puntos clave") + 1 :]
    assert after_key_points
    assert all(heading.startswith("## Ejercicio") for heading in after_key_points)


def test_each_exercise_has_hidden_solution(notebook):
    sections = exercise_sections(notebook)
    assert sections
    for section in sections:
        solutions = [
            cell
            for cell in section
            if cell.cell_type == "code" and "solution" in tags(cell)
        ]
        assert solutions
        assert all(is_hidden(cell) for cell in solutions)


def test_only_solutions_are_hidden(notebook):
    for cell in code_cells(notebook):
        assert is_hidden(cell) == ("solution" in tags(cell)), cell.source
