"""Secrets: no password in stored outputs, lessons, fixtures or test logs.

The scan looks for each secret in clear text and inside every base64 token
it finds (AUTH PLAIN and LOGIN payloads are base64), decoding the token at
each alignment. Secrets are the simulator's lab passwords and every value of
a local ``.env`` file. Only the notebook cells listed in ``EXEMPT_CELLS``
show the lab password, on purpose and saying so in their prose.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mailcourse.auth import ACCENT_PASSWORD, LAB_PASSWORD
from mailcourse.settings import read_env_file

ROOT = Path(__file__).resolve().parents[1]

# (notebook file, cell id) of cells that show the lab password on purpose,
# each under prose that says so. Cell ids follow cell positions, so editing a
# lesson can move them: the scan then fails and this list must follow.
EXEMPT_CELLS: set[tuple[str, str]] = {
    ("05-depurar.ipynb", "05-021"),  # raw debug dialogue with AUTH PLAIN
    ("05-depurar.ipynb", "05-024"),  # decoding that base64 payload
    ("06-autenticacion.ipynb", "06-019"),  # print(clave), only for the lab one
}

BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/]{8,}={0,2}")
SHORTEST_ENV_SECRET = 6


def known_secrets() -> list[str]:
    secrets = [LAB_PASSWORD, ACCENT_PASSWORD]
    env_file = ROOT / ".env"
    if env_file.exists():
        values = read_env_file(env_file).values()
        secrets += [value for value in values if len(value) >= SHORTEST_ENV_SECRET]
    return secrets


def decoded_tokens(text: str):
    """Yield the bytes of each base64 token in ``text``, tried at every offset."""
    for match in BASE64_TOKEN.finditer(text):
        token = match.group()
        for start in range(4):
            chunk = token[start:]
            chunk = chunk[: len(chunk) - len(chunk) % 4]
            try:
                yield base64.b64decode(chunk, validate=True)
            except (binascii.Error, ValueError):
                continue


def leaks(text: str, secrets: list[str]) -> list[str]:
    """Return the secrets found in ``text``, in clear or base64."""
    found = []
    for secret in secrets:
        raw = secret.encode("utf-8")
        if secret in text or any(raw in blob for blob in decoded_tokens(text)):
            found.append(secret)
    return found


def test_scanner_finds_planted_secrets():
    plain_payload = base64.b64encode(f"\0alumno\0{LAB_PASSWORD}".encode()).decode()
    login_payload = base64.b64encode(ACCENT_PASSWORD.encode()).decode()
    assert leaks(f"send: 'AUTH PLAIN {plain_payload}\\r\\n'", [LAB_PASSWORD])
    assert leaks(f"send: '{login_payload}\\r\\n'", [ACCENT_PASSWORD])
    assert leaks(f"la clave es {LAB_PASSWORD}", [LAB_PASSWORD])
    assert not leaks("send: 'AUTH PLAIN [oculto]\\r\\n'", [LAB_PASSWORD])


def output_texts(output: dict) -> list[str]:
    texts = []
    if "text" in output:
        texts.append("".join(output["text"]))
    for value in output.get("data", {}).values():
        texts.append(value if isinstance(value, str) else json.dumps(value))
    if output.get("output_type") == "error":
        texts.append(output.get("evalue", ""))
        texts += output.get("traceback", [])
    return texts


NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=[path.stem for path in NOTEBOOKS])
def test_notebook_outputs_hold_no_secret(notebook):
    content = json.loads(notebook.read_text(encoding="utf-8"))
    secrets = known_secrets()
    found = []
    for cell in content["cells"]:
        if (notebook.name, cell.get("id")) in EXEMPT_CELLS:
            continue
        for output in cell.get("outputs", []):
            for text in output_texts(output):
                found += [(cell.get("id"), secret) for secret in leaks(text, secrets)]
    widget_state = json.dumps(content["metadata"].get("widgets", {}))
    found += [("widget state", secret) for secret in leaks(widget_state, secrets)]
    assert found == []


def test_exempt_cells_exist():
    for notebook_name, cell_id in EXEMPT_CELLS:
        content = json.loads((ROOT / "notebooks" / notebook_name).read_text())
        assert cell_id in {cell.get("id") for cell in content["cells"]}


def scanned_text_files() -> list[Path]:
    lessons = sorted((ROOT / "lessons").glob("*.md"))
    fixtures = [
        path
        for path in (ROOT / "tests").rglob("*")
        if path.is_file() and path.suffix not in {".py", ".pyc", ".png"}
    ]
    return lessons + fixtures + [ROOT / "README.md"]


def test_lessons_and_fixtures_hold_no_secret():
    secrets = known_secrets()
    found = []
    for path in scanned_text_files():
        text = path.read_text(encoding="utf-8", errors="replace")
        found += [(path.name, secret) for secret in leaks(text, secrets)]
    assert found == []


LOGGED_TESTS = [
    "tests/test_load.py",
    "tests/test_safe_defaults.py",
    "tests/test_faults.py",
]


@pytest.mark.slow
def test_test_logs_hold_no_secret(tmp_path):
    log_file = tmp_path / "pytest-debug.log"
    extra = [
        path
        for path in ("tests/test_provider.py", "tests/test_client.py")
        if (ROOT / path).exists()
    ]
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "-o",
        f"log_file={log_file}",
        "-o",
        "log_file_level=DEBUG",
        *LOGGED_TESTS,
        *extra,
    ]
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]
    text = log_file.read_text(encoding="utf-8")
    assert "stored message" in text
    assert leaks(text, known_secrets()) == []


def run_exempt_print_cell(clave: str, capsys) -> str:
    """Run the ``print(clave)`` cell of lesson 06 with ``clave`` and return stdout."""
    content = json.loads((ROOT / "notebooks" / "06-autenticacion.ipynb").read_text())
    cell = next(cell for cell in content["cells"] if cell.get("id") == "06-019")
    exec("".join(cell["source"]), {"clave": clave, "LAB_PASSWORD": LAB_PASSWORD})
    return capsys.readouterr().out


def test_print_cell_shows_lab_password(capsys):
    assert LAB_PASSWORD in run_exempt_print_cell(LAB_PASSWORD, capsys)


def test_print_cell_hides_other_password(capsys):
    typed = "mi-clave-de-verdad-2026"
    output = run_exempt_print_cell(typed, capsys)
    assert typed not in output
    assert "No la imprimo" in output
