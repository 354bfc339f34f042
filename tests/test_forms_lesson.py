"""Lesson 09 (forms): the lesson structure, and what its stored notebook keeps.

nbval runs the notebook and compares outputs, but skips the widget view MIME
type. These tests check what it cannot see. Each form has a stable text
fallback, and the code each form runs is printed. The widget state that
nbclient stores in the notebook contains no password, and the outputs
contain no machine values that nbval would not sanitize.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
import pytest

from mailcourse import ACCENT_PASSWORD, LAB_PASSWORD
from mailcourse.forms import ComposeForm, ConnectionForm, InboxView, SendForm
from lesson_cells import code_cells, is_hidden, output_texts, sanitized, tags

ROOT = Path(__file__).resolve().parents[1]
LESSON = ROOT / "lessons" / "09-formularios.md"
NOTEBOOK = ROOT / "notebooks" / "09-formularios.ipynb"
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"

MAX_CELL_LINES = 6
MAX_OUTPUT_LINES = 30

MACHINE_SPECIFIC = {
    "absolute path": re.compile(r"(?<![\w.])/(?:tmp|home|root|work|Users|var)/"),
    "port number": re.compile(r"127\.0\.0\.1['\"]?[:,]\s*\d+"),
    "port argument": re.compile(r"port=\d+"),
    "date": re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\b"),
}


@pytest.fixture(scope="module")
def notebook() -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOK, as_version=4)


def widget_outputs(notebook: nbformat.NotebookNode) -> list[dict]:
    return [
        output.data
        for cell in code_cells(notebook)
        for output in cell.outputs
        if output.output_type == "execute_result" and WIDGET_VIEW in output.data
    ]


def stored_widget_state(notebook: nbformat.NotebookNode) -> dict:
    return notebook.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})


def test_key_points_before_exercises(notebook):
    headings = [
        cell.source.splitlines()[0]
        for cell in notebook.cells
        if cell.cell_type == "markdown" and cell.source.startswith("## ")
    ]
    after_key_points = headings[headings.index("## Puntos clave") + 1 :]
    assert len(after_key_points) == 2
    assert all(heading.startswith("## Ejercicio") for heading in after_key_points)


def test_only_solutions_hidden(notebook):
    hidden = [cell for cell in code_cells(notebook) if is_hidden(cell)]
    # Five solution cells, then one check_exercise() cell per exercise.
    assert len(hidden) == 7
    for cell in code_cells(notebook):
        assert is_hidden(cell) == ("solution" in tags(cell)), cell.source


def test_every_code_cell_executed(notebook):
    for cell in code_cells(notebook):
        assert cell.execution_count is not None, cell.source
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert errors == [], cell.source


def test_code_cells_stay_short(notebook):
    for cell in code_cells(notebook):
        assert len(cell.source.splitlines()) <= MAX_CELL_LINES, cell.source


def test_stored_outputs_stay_short(notebook):
    for cell in code_cells(notebook):
        for text in output_texts(cell):
            assert len(text.splitlines()) <= MAX_OUTPUT_LINES, cell.source


@pytest.mark.parametrize("kind", sorted(MACHINE_SPECIFIC))
def test_sanitized_outputs_free_of_machine_values(notebook, kind):
    pattern = MACHINE_SPECIFIC[kind]
    for cell in code_cells(notebook):
        for text in output_texts(cell):
            assert not pattern.search(sanitized(text)), f"{kind}: {cell.source!r}"


def test_each_form_shown_once(notebook, local_server):
    connection = ConnectionForm(local_server=local_server)
    compose = ComposeForm()
    sender = SendForm(connection, compose)
    forms = [connection, compose, sender, InboxView(local_server)]
    fallbacks = [data["text/plain"] for data in widget_outputs(notebook)]
    assert fallbacks == [repr(form) for form in forms]


def test_code_of_each_form_printed(notebook):
    sources = [cell.source for cell in code_cells(notebook)]
    for form in ("conexion", "mensaje", "envio"):
        assert f"print({form}.code())" in sources


def test_widget_state_holds_no_password(notebook):
    state_text = json.dumps(stored_widget_state(notebook), ensure_ascii=False)
    assert LAB_PASSWORD not in state_text
    assert ACCENT_PASSWORD not in state_text


def test_notebook_stores_no_widget_state(notebook):
    # The build leaves widget state out (authoring.py), so no password box,
    # filled or not, can be saved with the lesson. The browser test checks
    # a notebook saved by JupyterLab with widget state on.
    assert stored_widget_state(notebook) == {}


def test_lesson_names_no_secret():
    text = LESSON.read_text(encoding="utf-8")
    assert LAB_PASSWORD not in text
    assert ACCENT_PASSWORD not in text
