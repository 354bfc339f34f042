"""Lessons 07-08: structure, diagnoses after each error, stable stored outputs.

nbval compares every stored output with a fresh run, and these tests check
what it cannot see. Each teaching error must be followed by the right
diagnosis. Stored outputs must be free of machine values once the sanitize
file is applied, and must never show the lab password. The facts the prose
states about a stored output (Bcc, the size limit, the QUIT of a ``with``
block, the simulator in lesson 08) are checked in that output.
"""

from __future__ import annotations

import re
from pathlib import Path

import nbformat
import pytest

from mailcourse import LAB_PASSWORD, PRESETS
from mailcourse.diagnosis import kinds
from lesson_cells import (
    code_cells,
    next_code_cell,
    output_texts,
    read_notebook,
    sanitized,
    tags,
)

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"
LESSON_NAMES = ["07-enviar-y-rechazos", "08-proveedor-real"]

MAX_CELL_LINES = 6
MAX_OUTPUT_LINES = 30

# The diagnosis kind each teaching error must get, in notebook order.
EXPECTED_DIAGNOSES = {
    "07-enviar-y-rechazos": [
        ("SMTPRecipientsRefused", kinds.ALL_RECIPIENTS_REFUSED),
        ("SMTPSenderRefused", kinds.MESSAGE_TOO_LARGE),
    ],
    "08-proveedor-real": [],
}

# Values that differ between machines or runs. A stored output may contain
# them only where the sanitize file replaces them before nbval compares.
MACHINE_SPECIFIC = {
    "absolute path": re.compile(r"(?<![\w.])/(?:tmp|home|root|work|Users|var)/"),
    "port number": re.compile(r"127\.0\.0\.1['\"]?[:,]\s*\d+"),
    "port in prose": re.compile(r"(?i)puerto\s+(?:<code>)?\d{4,5}\b"),
    "date": re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\b"),
}

PROVIDER_KEYS = ["gmail", "outlook", "yahoo", "icloud", "zoho", "gmx"]


def cell_with_source(
    notebook: nbformat.NotebookNode, fragment: str
) -> nbformat.NotebookNode:
    """Return the one code cell whose source is ``fragment`` or contains it."""
    cells = code_cells(notebook)
    exact = [cell for cell in cells if cell.source.strip() == fragment]
    (cell,) = exact or [cell for cell in cells if fragment in cell.source]
    return cell


@pytest.fixture(params=LESSON_NAMES)
def lesson_name(request) -> str:
    return request.param


@pytest.fixture
def notebook(lesson_name) -> nbformat.NotebookNode:
    return read_notebook(lesson_name)


# Structure


def test_first_code_cell_imports_mailcourse(notebook):
    # In the JupyterLite build, smtplib reaches the in-memory servers only
    # once mailcourse is imported.
    first = code_cells(notebook)[0]
    assert re.search(r"^(import mailcourse|from mailcourse import)", first.source, re.M)


def test_failing_cells_explained_above(notebook):
    for number, cell in enumerate(notebook.cells):
        if "raises-exception" not in tags(cell):
            continue
        errors = [out for out in cell.outputs if out.output_type == "error"]
        assert len(errors) == 1, cell.source
        prose_above = notebook.cells[number - 1]
        assert prose_above.cell_type == "markdown", cell.source
        assert f"`{errors[0].ename}`" in prose_above.source, cell.source


def test_untagged_cells_store_no_error(notebook):
    for cell in code_cells(notebook):
        if "raises-exception" not in tags(cell):
            error_names = [
                out.ename for out in cell.outputs if out.output_type == "error"
            ]
            assert error_names == [], cell.source


def test_each_error_gets_its_diagnosis(notebook, lesson_name):
    found = []
    for number, cell in enumerate(notebook.cells):
        if "raises-exception" not in tags(cell):
            continue
        (error,) = [out for out in cell.outputs if out.output_type == "error"]
        diagnosis_cell = next_code_cell(notebook, number)
        assert "diagnose(sys.last_value" in diagnosis_cell.source
        (result,) = diagnosis_cell.outputs
        kind = re.match(r"Diagnosis\(kind='([^']+)'", result.data["text/plain"])
        assert kind is not None, diagnosis_cell.source
        found.append((error.ename, kind.group(1)))
    assert found == EXPECTED_DIAGNOSES[lesson_name]


def test_code_cells_stay_short(notebook):
    for cell in code_cells(notebook):
        assert len(cell.source.splitlines()) <= MAX_CELL_LINES, cell.source


def test_stored_outputs_stay_short(notebook):
    for cell in notebook.cells:
        for text in output_texts(cell):
            assert len(text.splitlines()) <= MAX_OUTPUT_LINES, cell.source


@pytest.mark.parametrize("kind", sorted(MACHINE_SPECIFIC))
def test_sanitized_outputs_free_of_machine_values(notebook, kind):
    pattern = MACHINE_SPECIFIC[kind]
    for cell in notebook.cells:
        for text in output_texts(cell):
            assert not pattern.search(sanitized(text)), f"{kind} in {cell.source!r}"


def test_outputs_never_show_lab_password(notebook):
    for cell in notebook.cells:
        for text in output_texts(cell):
            assert LAB_PASSWORD not in text, cell.source


# What lesson 07 shows


def test_bcc_missing_from_stored_headers():
    notebook = read_notebook("07-enviar-y-rechazos")
    (keys,) = output_texts(cell_with_source(notebook, ".message.keys()"))
    assert "'Cc'" in keys
    assert "'Bcc'" not in keys


def test_bcc_address_in_envelope():
    notebook = read_notebook("07-enviar-y-rechazos")
    # The Bcc section comes first, and the SMTPUTF8 section repeats this cell.
    cell = next(
        cell
        for cell in code_cells(notebook)
        if cell.source == "simulador.inbox[0].envelope_recipients"
    )
    (recipients,) = output_texts(cell)
    assert "jefa@ejemplo.test" in recipients


def test_with_block_transcript_shows_quit():
    notebook = read_notebook("07-enviar-y-rechazos")
    cell = cell_with_source(notebook, "conexion.set_debuglevel(1)")
    (transcript,) = [out.text for out in cell.outputs if out.name == "stderr"]
    assert "send: 'QUIT\\r\\n'" in transcript
    assert "reply: retcode (221)" in transcript
    assert "AUTH" not in transcript.upper()


def test_size_limit_exceeded_by_message():
    notebook = read_notebook("07-enviar-y-rechazos")
    limit_cell = cell_with_source(notebook, 'conexion.esmtp_features["size"]')
    size_cell = cell_with_source(notebook, "len(pesado.as_bytes()) / 1024")
    (limit,) = output_texts(limit_cell)
    (size_in_kb,) = output_texts(size_cell)
    assert int(size_in_kb) * 1024 > int(limit.strip("'"))


# What lesson 08 shows


def test_stored_run_used_simulator():
    notebook = read_notebook("08-proveedor-real")
    cell = cell_with_source(notebook, "print(ajustes)")
    (text,) = output_texts(cell)
    assert "simulador de proveedor" in text
    assert text.splitlines()[1].startswith("127.0.0.1:")


def test_preset_table_lists_providers():
    notebook = read_notebook("08-proveedor-real")
    cell = cell_with_source(notebook, "Markdown(")
    (output,) = cell.outputs
    rows = output.data["text/markdown"].splitlines()[2:]
    assert len(rows) == len(PROVIDER_KEYS)
    for key, row in zip(PROVIDER_KEYS, rows):
        preset = PRESETS[key]
        assert f"`{preset.host}`" in row, key
        assert preset.checked_on.isoformat() in row, key
