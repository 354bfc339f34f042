"""The JupyterLite site: build it, serve it on 127.0.0.1, run lessons in Chromium.

The site is built with ``lite/build_site.py`` into a temporary folder, served
by a static server on 127.0.0.1, and opened in Debian's Chromium. Every
request to another host is aborted and fails the test. For each lesson, all
cells run in the browser's Pyodide kernel; the test then compares outputs
with the committed notebook and reads the in-browser inbox.

The build takes about 10-40 s and the kernel about 7 s to start, so these
tests run only with MAILCOURSE_TEST_LITE=1. Then missing prerequisites
(Chromium, npm, Python 3.12+) skip them, unless MAILCOURSE_REQUIRE_LITE=1
turns the skip into a failure.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from browser.chromium_browser import CHROMIUM_FLAGS, NetworkGuard, chromium_executable
from site_server import serve_site

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.timeout(900)]

ROOT = Path(__file__).resolve().parents[2]
BUILD_SCRIPT = ROOT / "lite" / "build_site.py"
TEST_LITE_VARIABLE = "MAILCOURSE_TEST_LITE"
REQUIRE_LITE_VARIABLE = "MAILCOURSE_REQUIRE_LITE"
LESSONS = (
    "01-construir-mensaje",
    "02-adjuntar-archivo",
    "03-enviar-smtp",
    "04-tls",
    "05-depurar",
    "06-autenticacion",
    "07-enviar-y-rechazos",
    "08-proveedor-real",
    "09-formularios",
)
# The server variable each lesson leaves running and a subject its inbox must
# hold after the run; lesson 04 sends nothing.
INBOX_CHECKS = {
    "03-enviar-smtp": ("servidor", "Informe del año"),
    "05-depurar": ("simulador", "Prueba del diálogo"),
    "06-autenticacion": ("simulador", "Con sesión iniciada"),
    "07-enviar-y-rechazos": ("simulador", "Resultados del trimestre"),
    "08-proveedor-real": ("simulador", "Por el puerto de TLS"),
}
KERNEL_READY_TIMEOUT_MS = 180_000
# Host names other than 127.0.0.1 do not resolve at all, on top of the route
# guard, so a request the guard misses still cannot leave the machine.
RESOLVE_ONLY_LOOPBACK = "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"

# What legitimately differs between the desktop run stored in the notebook
# and the browser run: ports, dates, Message-IDs, MIME boundaries and
# temporary folders, by the same rules nbval uses. Errno numbers differ too,
# because Emscripten numbers them its own way (ECONNREFUSED is 14, not 111).
# The Pyodide kernel (pyodide-kernel 0.8.6) reports an error's name as
# "<class 'smtplib.SMTPServerDisconnected'>" where ipykernel reports
# "SMTPServerDisconnected".
SANITIZE_FILE = ROOT / "tests" / "nbval_sanitize.cfg"
ERRNO_NUMBER = (re.compile(r"\[Errno \d+\]"), "[Errno N]")
CLASS_REPR = (re.compile(r"<class '(?:[\w.]+\.)?(\w+)'>"), r"\1")
# smtplib sends "mail FROM:" and "rcpt TO:" up to Python 3.12 (the stored run
# is 3.11), and "mail from:" and "rcpt to:" from 3.13 on (Pyodide runs 3.14).
SMTP_COMMAND_CASE = (
    re.compile(r"\b(?:mail from|rcpt to):", re.IGNORECASE),
    lambda match: match.group(0).lower(),
)

# Cells whose output differs in the browser on purpose, as their lesson says:
# the site holds the notebooks only, so lesson 08 finds no .gitignore there.
STATED_BROWSER_DIFFERENCES = {
    "08-proveedor-real": ['gitignore = Path("../.gitignore")'],
}

LAB_STATE_JS = """
() => {
    const app = window.jupyterapp;
    const panel = app && app.shell.currentWidget;
    const session = panel && panel.sessionContext && panel.sessionContext.session;
    return session && session.kernel ? session.kernel.status : null;
}
"""

# Runs every cell in order, like nbval, past cells that raise. "Run all" in
# JupyterLite 0.8.6 stops at the first error, even in a raises-exception cell.
RUN_EACH_CELL_JS = """
async () => {
    const app = window.jupyterapp;
    const notebook = app.shell.currentWidget.content;
    for (let index = 0; index < notebook.widgets.length; index++) {
        notebook.deselectAll();
        notebook.activeCellIndex = index;
        await app.commands.execute('notebook:run-cell');
    }
    const kernel = app.shell.currentWidget.sessionContext.session.kernel;
    while (kernel.status !== 'idle') {
        await new Promise((resolve) => setTimeout(resolve, 100));
    }
}
"""

# Starts RUN_EACH_CELL_JS without waiting for it, so that the test can answer
# input prompts (getpass in lesson 06) while the cells run.
START_EACH_CELL_JS = (
    "() => { window.mailcourseCellsDone = false; "
    f"({RUN_EACH_CELL_JS.strip()})()"
    ".then(() => { window.mailcourseCellsDone = true; }); }"
)
CELLS_DONE_JS = "() => window.mailcourseCellsDone === true"
# The text box JupyterLab shows for input() and getpass().
STDIN_PROMPT = ".jp-Stdin-input"
PROMPT_ANSWER_TIMEOUT_MS = 2_000

CELL_OUTPUTS_JS = """
() => {
    const panel = window.jupyterapp.shell.currentWidget;
    const cells = panel.content.model.cells;
    const found = [];
    for (let index = 0; index < cells.length; index++) {
        const cell = cells.get(index);
        if (cell.type === 'code') {
            found.push({
                source: cell.sharedModel.getSource(),
                tags: cell.getMetadata('tags') || [],
                outputs: cell.outputs.toJSON(),
            });
        }
    }
    return found;
}
"""

KERNEL_PRINT_JS = """
async (code) => {
    const panel = window.jupyterapp.shell.currentWidget;
    const kernel = panel.sessionContext.session.kernel;
    const future = kernel.requestExecute({code: code});
    let text = '';
    future.onIOPub = (message) => {
        if (message.header.msg_type === 'stream') {
            text += message.content.text;
        }
        if (message.header.msg_type === 'error') {
            text += message.content.ename + ': ' + message.content.evalue;
        }
    };
    await future.done;
    return text;
}
"""


def _load_build_script():
    spec = importlib.util.spec_from_file_location("build_site", BUILD_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def missing_prerequisite() -> str | None:
    """Return what the site build or the browser lacks, or None if nothing."""
    if chromium_executable() is None:
        return "Chromium is not installed (apt-get install chromium)"
    if shutil.which("npm") is None:
        return "npm is not installed (apt-get install npm)"
    try:
        _load_build_script().find_build_python()
    except RuntimeError as error:
        return str(error)
    return None


def skip_or_fail(reason: str) -> None:
    if os.environ.get(REQUIRE_LITE_VARIABLE) == "1":
        pytest.fail(f"{REQUIRE_LITE_VARIABLE}=1 but {reason}")
    pytest.skip(reason)


def read_sanitize_rules() -> list[tuple[re.Pattern[str], str]]:
    """Read the regex/replace pairs of the nbval sanitize file."""
    rules = []
    pattern = None
    for line in SANITIZE_FILE.read_text().splitlines():
        if line.startswith("regex: "):
            pattern = re.compile(line[len("regex: ") :])
        elif line.startswith("replace: ") and pattern is not None:
            rules.append((pattern, line[len("replace: ") :]))
            pattern = None
    rules.append(ERRNO_NUMBER)
    rules.append(CLASS_REPR)
    rules.append(SMTP_COMMAND_CASE)
    return rules


def merged_streams(outputs: list[dict]) -> list[dict]:
    """Join consecutive outputs of the same stream into one.

    How a stream is cut into outputs depends on when the kernel flushes it,
    which differs between runs, so only the joined text is compared.
    """
    merged: list[dict] = []
    for output in outputs:
        previous = merged[-1] if merged else None
        same_stream = (
            previous is not None
            and output["output_type"] == "stream"
            and previous["output_type"] == "stream"
            and previous["name"] == output["name"]
        )
        if same_stream:
            previous["text"] = "".join(previous["text"]) + "".join(output["text"])
        else:
            merged.append(dict(output))
    return merged


def comparable_text(outputs: list[dict], rules) -> list[str]:
    """Return each output's text (stream text, plain text or error), sanitized."""
    texts = []
    for output in merged_streams(outputs):
        kind = output["output_type"]
        if kind == "stream" and output["name"] == "stdin":
            # The echo of an answered input prompt, which the stored desktop
            # run (without a keyboard) cannot have.
            continue
        if kind == "stream":
            text = output["name"] + ": " + "".join(output["text"])
        elif kind == "error":
            text = f"error: {output['ename']}: {output['evalue']}"
        else:
            plain = output.get("data", {}).get("text/plain", "")
            text = "value: " + "".join(plain)
        for pattern, replacement in rules:
            text = pattern.sub(replacement, text)
        texts.append(text)
    return texts


def stored_code_cells(lesson: str) -> list[dict]:
    notebook = json.loads((ROOT / "notebooks" / f"{lesson}.ipynb").read_text())
    return [cell for cell in notebook["cells"] if cell["cell_type"] == "code"]


@pytest.fixture(scope="module")
def built_site(tmp_path_factory):
    """The site built from this checkout into a temporary folder."""
    if os.environ.get(TEST_LITE_VARIABLE) != "1":
        pytest.skip(
            f"set {TEST_LITE_VARIABLE}=1 to build and test the JupyterLite site"
        )
    reason = missing_prerequisite()
    if reason is not None:
        skip_or_fail(reason)
    output = tmp_path_factory.mktemp("lite") / "site"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, str(BUILD_SCRIPT), "--output", str(output)],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    elapsed = time.perf_counter() - started
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]
    size = sum(path.stat().st_size for path in output.rglob("*") if path.is_file())
    print(f"\nlite site: built in {elapsed:.1f} s, {size / 2**20:.1f} MiB")
    # Test-only: let the test reach JupyterLab's application object.
    lab_config = output / "lab" / "jupyter-lite.json"
    config = json.loads(lab_config.read_text())
    config["jupyter-config-data"]["exposeAppInBrowser"] = True
    lab_config.write_text(json.dumps(config))
    return output


@pytest.fixture(scope="module")
def site_url(built_site):
    with serve_site(built_site) as url:
        yield url


@pytest.fixture
def browser_page(site_url):
    """A Chromium page whose requests may reach 127.0.0.1 only."""
    from playwright.sync_api import sync_playwright

    guard = NetworkGuard()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(chromium_executable()),
            args=[*CHROMIUM_FLAGS, RESOLVE_ONLY_LOOPBACK],
        )
        context = browser.new_context(locale="es-ES")
        guard.install(context)
        page = context.new_page()
        yield page, guard
        context.close()
        browser.close()
    assert guard.blocked == []


def run_each_cell_answering_prompts(page) -> None:
    """Run every cell; answer each input prompt with an empty line.

    An empty password makes lesson 06 fall back to the lab password, as the
    stored desktop run does, where nobody can type.
    """
    from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

    page.evaluate(START_EACH_CELL_JS)
    while not page.evaluate(CELLS_DONE_JS):
        prompt = page.locator(STDIN_PROMPT)
        if prompt.count() > 0:
            try:
                prompt.first.press("Enter", timeout=PROMPT_ANSWER_TIMEOUT_MS)
            except PlaywrightTimeoutError:
                # The answered prompt left the page between count() and press().
                pass
        page.wait_for_timeout(200)


def is_stated_difference(lesson: str, source: str) -> bool:
    markers = STATED_BROWSER_DIFFERENCES.get(lesson, [])
    return any(marker in source for marker in markers)


def existing_lessons() -> list[str]:
    return [name for name in LESSONS if (ROOT / "notebooks" / f"{name}.ipynb").exists()]


@pytest.mark.parametrize("lesson", existing_lessons())
def test_lesson_runs_in_browser(lesson, site_url, browser_page):
    page, guard = browser_page
    started = time.perf_counter()
    page.goto(f"{site_url}/lab/index.html?path={lesson}.ipynb")
    page.wait_for_function(
        f"() => ({LAB_STATE_JS})() === 'idle'", timeout=KERNEL_READY_TIMEOUT_MS
    )
    ready = time.perf_counter() - started
    run_each_cell_answering_prompts(page)
    ran = time.perf_counter() - started - ready
    print(f"\n{lesson}: kernel ready in {ready:.1f} s, all cells ran in {ran:.1f} s")

    browser_cells = page.evaluate(CELL_OUTPUTS_JS)
    stored_cells = stored_code_cells(lesson)
    rules = read_sanitize_rules()
    unexpected_errors = [
        cell["source"]
        for cell in browser_cells
        if "raises-exception" not in cell["tags"]
        and any(output["output_type"] == "error" for output in cell["outputs"])
    ]
    differing = [
        (
            browser["source"],
            comparable_text(stored["outputs"], rules),
            comparable_text(browser["outputs"], rules),
        )
        for browser, stored in zip(browser_cells, stored_cells)
        if comparable_text(browser["outputs"], rules)
        != comparable_text(stored["outputs"], rules)
        and not is_stated_difference(lesson, browser["source"])
    ]
    server_name, expected_subject = INBOX_CHECKS.get(lesson, (None, None))
    subjects = ""
    if server_name is not None:
        subjects = page.evaluate(
            KERNEL_PRINT_JS, f"print([m.subject for m in {server_name}.inbox])"
        )

    for source, stored_text, browser_text in differing:
        print(
            f"--- differs: {source[:60]!r}\n"
            f" stored:  {stored_text}\n"
            f" browser: {browser_text}"
        )
    assert len(browser_cells) == len(stored_cells)
    assert unexpected_errors == []
    assert differing == []
    assert expected_subject is None or expected_subject in subjects
    assert guard.blocked == []
