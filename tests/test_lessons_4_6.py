"""Lessons 04-06: structure, diagnoses after each error, stable stored outputs.

nbval compares every stored output with a fresh run, and these tests check
what it cannot see. Each teaching error must be followed by the right
diagnosis. Stored outputs must be free of machine values once the sanitize
file is applied. The lab password may show only where the prose above says
so. The smtplib facts the lessons state are checked against the simulator.
"""

from __future__ import annotations

import re
import smtplib
import ssl
from pathlib import Path

import nbformat
import pytest

from mailcourse import LAB_PASSWORD
from mailcourse.diagnosis import kinds
from lesson_cells import next_code_cell, output_texts, read_notebook, sanitized, tags

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"
LESSON_NAMES = ["04-tls", "05-depurar", "06-autenticacion"]

MAX_CELL_LINES = 6
MAX_OUTPUT_LINES = 30

# The diagnosis kind each teaching error must get, in notebook order.
EXPECTED_DIAGNOSES = {
    "04-tls": [
        ("SSLCertVerificationError", kinds.CERTIFICATE_NOT_TRUSTED),
        ("SSLError", kinds.SSL_ON_STARTTLS_PORT),
        ("SMTPServerDisconnected", kinds.PLAIN_ON_TLS_PORT),
    ],
    "05-depurar": [
        ("SMTPSenderRefused", kinds.AUTH_REQUIRED),
    ],
    "06-autenticacion": [
        ("SMTPSenderRefused", kinds.AUTH_REQUIRED),
        ("SMTPAuthenticationError", kinds.AUTH_FAILED),
        ("UnicodeEncodeError", kinds.NON_ASCII_CREDENTIALS),
    ],
}

# Values that differ between machines or runs. A stored output may contain
# them only where the sanitize file replaces them before nbval compares.
MACHINE_SPECIFIC = {
    "absolute path": re.compile(r"(?<![\w.])/(?:tmp|home|root|work|Users|var)/"),
    "port number": re.compile(r"127\.0\.0\.1['\"]?[:,]\s*\d+"),
    "port in prose": re.compile(r"(?i)puerto\s+(?:<code>)?\d{4,5}\b"),
    "ssl source line": re.compile(r"_ssl\.c:\d+"),
    "date": re.compile(r"\b\d{1,2} [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d\b"),
}

# Words the prose above a cell uses when the cell shows the lab password.
ON_PURPOSE_WORDS = ("a propósito", "contraseña del laboratorio")


@pytest.fixture(params=LESSON_NAMES)
def lesson_name(request) -> str:
    return request.param


@pytest.fixture
def notebook(lesson_name) -> nbformat.NotebookNode:
    return read_notebook(lesson_name)


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
    for cell in notebook.cells:
        if cell.cell_type == "code":
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


def test_machine_value_patterns_match_examples():
    examples = {
        "absolute path": "Maildir en /tmp/mailcourse-maildir-x1/new",
        "port number": "El certificado de 127.0.0.1:41885 no es de confianza",
        "port in prose": "El puerto 38431 empieza sin cifrar",
        "ssl source line": "wrong version number (_ssl.c:1006)",
        "date": "Date: Fri, 4 Dec 2026 16:36:30 +0000",
    }
    for kind, example in examples.items():
        assert MACHINE_SPECIFIC[kind].search(example), kind


def test_sanitize_file_hides_ports_and_ssl_details():
    # These values change between runs or between Python and OpenSSL
    # versions, so the sanitize file must replace every one of them.
    examples = [
        "El puerto 38431 empieza sin cifrar (como el 587)",
        "en el puerto <code>41885</code>",
        "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)",
        "[SSL] record layer failure (_ssl.c:1033)",
    ]
    for example in examples:
        assert not re.search(r"\d{4}", sanitized(example)), example


def test_sanitize_keeps_well_known_ports():
    text = "Si prefieres SMTP_SSL, conéctate al puerto 465 o al puerto 587."
    assert sanitized(text) == text


def test_ssl_reasons_sanitize_alike():
    old_openssl = "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"
    new_openssl = "[SSL] record layer failure (_ssl.c:1033)"
    assert sanitized(old_openssl) == sanitized(new_openssl)


def test_ehlo_never_shows_machine_name(notebook):
    for cell in notebook.cells:
        for text in output_texts(cell):
            for name in re.findall(r"send: 'ehlo ([^\\']*)", text):
                assert name == "localhost", cell.source


def test_lab_password_shown_only_on_purpose(notebook):
    for number, cell in enumerate(notebook.cells):
        shows_password = any(LAB_PASSWORD in text for text in output_texts(cell))
        if not shows_password:
            continue
        prose_above = notebook.cells[number - 1]
        assert prose_above.cell_type == "markdown", cell.source
        for words in ON_PURPOSE_WORDS:
            assert words in prose_above.source, cell.source


@pytest.mark.parametrize("role", ["tls", "starttls"])
def test_smtplib_without_context_accepts_any(provider_simulator, role):
    # Lesson 04 states this: without context=, smtplib does not verify the
    # certificate. If a Python release changes it, the lesson must change.
    host = provider_simulator.host
    if role == "tls":
        client = smtplib.SMTP_SSL(host, provider_simulator.tls_port, timeout=10)
    else:
        client = smtplib.SMTP(host, provider_simulator.starttls_port, timeout=10)
        client.starttls()
    with client:
        code, _ = client.noop()
    assert code == 250


def test_default_context_rejects_simulator(provider_simulator):
    # Negative control: the same connection with a verifying context fails.
    context = ssl.create_default_context()
    with pytest.raises(ssl.SSLCertVerificationError):
        smtplib.SMTP_SSL(
            provider_simulator.host,
            provider_simulator.tls_port,
            context=context,
            timeout=10,
        )
