"""Default JupyterLab settings for the course: Spanish interface, no news feed.

JupyterLab reads ``<sys.prefix>/share/jupyter/lab/settings/overrides.json``
as the defaults of an installation (a student's own changes still win). The
Spanish language pack is a dependency of the course, and selecting its
locale here shows the interface in Spanish from the first start. News and
update checks are turned off because they reach the internet, which
classroom machines and Binder may not allow.

    python -m mailcourse.lab_settings      write the file for this Python
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

OVERRIDES = {
    "@jupyterlab/translation-extension:plugin": {"locale": "es_ES"},
    "@jupyterlab/apputils-extension:notification": {
        "checkForUpdates": False,
        "fetchNews": "false",
    },
}


def overrides_path(prefix: str | Path = sys.prefix) -> Path:
    return Path(prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"


def write_overrides(prefix: str | Path = sys.prefix) -> Path:
    """Merge the course defaults into the installation's overrides file."""
    path = overrides_path(prefix)
    path.parent.mkdir(parents=True, exist_ok=True)
    current = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
    for plugin, values in OVERRIDES.items():
        current.setdefault(plugin, {}).update(values)
    path.write_text(json.dumps(current, indent=2) + "\n", encoding="utf-8")
    return path


if __name__ == "__main__":
    print(f"JupyterLab settings written to {write_overrides()}")
