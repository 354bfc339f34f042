"""Lessons 01-03: the structure every lesson promises, and the sample files.

nbval compares each cell's output with the stored one. These tests check what
it cannot see. Every lesson states objectives and minutes, hides its
solutions and explains each failing cell in the prose above it. Cells and
outputs stay short. The files in ``notebooks/datos`` behave as the lesson
text says.
"""

from __future__ import annotations

import mimetypes
import re
import struct
import zlib
from pathlib import Path

import nbformat
import pytest
from lesson_cells import output_texts, read_notebook, tags

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SAMPLES = NOTEBOOKS / "datos"
LESSON_NAMES = ["01-construir-mensaje", "02-adjuntar-archivo", "03-enviar-smtp"]

MAX_CELL_LINES = 6
MAX_OUTPUT_LINES = 30
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Stored outputs are what a student compares with their own run, so they must
# not show anything that belongs to the machine that built them.
MACHINE_SPECIFIC = {
    "absolute path": re.compile(r"(?<![\w.])/(?:tmp|home|root|work|Users|var)/"),
    "port number": re.compile(r"127\.0\.0\.1['\"]?[:,]\s*\d+"),
    "date": re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\b"),
}


@pytest.fixture(params=LESSON_NAMES)
def notebook(request) -> nbformat.NotebookNode:
    return read_notebook(request.param)


def test_lesson_03_imports_mailcourse_first():
    # In the JupyterLite build, smtplib reaches the in-memory server only
    # once mailcourse is imported.
    notebook = read_notebook("03-enviar-smtp")
    first = next(cell for cell in notebook.cells if cell.cell_type == "code")
    assert "import mailcourse" in first.source


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
    for cell in notebook.cells:
        if cell.cell_type == "code" and "raises-exception" not in tags(cell):
            error_names = [
                out.ename for out in cell.outputs if out.output_type == "error"
            ]
            assert error_names == [], cell.source


def test_code_cells_stay_short(notebook):
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert len(cell.source.splitlines()) <= MAX_CELL_LINES, cell.source


def test_stored_outputs_stay_short(notebook):
    for cell in notebook.cells:
        for text in output_texts(cell):
            assert len(text.splitlines()) <= MAX_OUTPUT_LINES, cell.source


@pytest.mark.parametrize("kind", sorted(MACHINE_SPECIFIC))
def test_outputs_free_of_machine_values(notebook, kind):
    pattern = MACHINE_SPECIFIC[kind]
    for cell in notebook.cells:
        for text in output_texts(cell):
            assert not pattern.search(text), f"{kind} in output of {cell.source!r}"


def test_machine_value_patterns_match_examples():
    examples = {
        "absolute path": "Maildir en /tmp/mailcourse-maildir-x1/new",
        "port number": "<LocalServer 127.0.0.1:41833 (en marcha)>",
        "date": "Date: Fri, 4 Dec 2026 16:36:30 +0000",
    }
    for kind, example in examples.items():
        assert MACHINE_SPECIFIC[kind].search(example), kind


def png_chunks(data: bytes) -> dict[bytes, bytes]:
    """Split a PNG into its chunks, raising ValueError on a bad CRC."""
    chunks = {}
    position = len(PNG_SIGNATURE)
    while position < len(data):
        (length,) = struct.unpack(">I", data[position : position + 4])
        kind = data[position + 4 : position + 8]
        body = data[position + 8 : position + 8 + length]
        crc_bytes = data[position + 8 + length : position + 12 + length]
        (crc,) = struct.unpack(">I", crc_bytes)
        if zlib.crc32(kind + body) != crc:
            raise ValueError(f"bad CRC in PNG chunk {kind!r}")
        chunks[kind] = body
        position += 12 + length
    return chunks


def test_sample_png_is_valid():
    data = (SAMPLES / "sobre.png").read_bytes()
    assert data.startswith(PNG_SIGNATURE)
    chunks = png_chunks(data)
    width, height = struct.unpack(">II", chunks[b"IHDR"][:8])
    assert (width, height) == (16, 12)
    assert zlib.decompress(chunks[b"IDAT"])
    assert b"IEND" in chunks


def test_png_size_matches_prose():
    size = (SAMPLES / "sobre.png").stat().st_size
    lesson_02 = (ROOT / "lessons" / "02-adjuntar-archivo.md").read_text()
    lesson_03 = (ROOT / "lessons" / "03-enviar-smtp.md").read_text()
    assert f"Son {size} bytes" in lesson_02
    assert f"mismos {size} bytes" in lesson_03


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("sobre.png", ("image/png", None)),
        ("orden-del-dia.txt", ("text/plain", None)),
        ("lecturas.sensor", (None, None)),
    ],
)
def test_sample_types_guessed_as_taught(filename, expected):
    assert mimetypes.guess_type(str(SAMPLES / filename)) == expected


def test_text_sample_has_accents():
    text = (SAMPLES / "orden-del-dia.txt").read_bytes().decode("utf-8")
    assert not text.isascii()
