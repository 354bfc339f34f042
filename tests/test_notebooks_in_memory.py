"""Every notebook also passes strict nbval over the in-memory loopback.

This is how the course runs in the browser (JupyterLite): no sockets, and
emulated TLS. Running the same notebooks here, in CPython, with the
in-memory transport forced, shows that the loopback gives the outputs stored
from the desktop run. The browser itself is tested in tests/lite.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LESSON_NOTEBOOKS = sorted(
    path.relative_to(ROOT).as_posix()
    for path in (ROOT / "notebooks").glob("[0-9][0-9]-*.ipynb")
)


@pytest.mark.slow
def test_lessons_pass_over_memory_loopback():
    environment = dict(
        os.environ, MAILCOURSE_TRANSPORT="memory", MAILCOURSE_TLS="emulated"
    )
    command = [
        sys.executable,
        "-m",
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        *LESSON_NOTEBOOKS,
    ]
    result = subprocess.run(
        command, cwd=ROOT, env=environment, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout[-4000:]
