"""The sample files of ``notebooks/datos`` that the exercises attach."""

from __future__ import annotations

from pathlib import Path

SENSOR_FILE = "lecturas.sensor"
AGENDA_FILE = "orden-del-dia.txt"
FALLBACK_TYPE = "application/octet-stream"

# Notebooks run with ``notebooks/`` as their working folder.
DEFAULT_SAMPLES = Path("datos")


def read_sample(samples: str | Path, filename: str) -> bytes | None:
    """Return the bytes of a sample file, or None if it is not in ``samples``.

    NOTE: with None the checks skip comparing contents, so a notebook run
    from another folder gets feedback on names and types only.
    """
    path = Path(samples) / filename
    if not path.is_file():
        return None
    return path.read_bytes()
