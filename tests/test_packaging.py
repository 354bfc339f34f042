"""Packaging: one dependency list, kept in step between pip and conda."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib

ROOT = Path(__file__).resolve().parents[1]
REQUIREMENT = re.compile(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$")


def parse(requirement: str) -> tuple[str, str]:
    name, specifier = REQUIREMENT.match(requirement).groups()
    return name.lower().replace("_", "-"), specifier.replace(" ", "")


def pyproject_requirements() -> dict[str, str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    listed = project["dependencies"] + project["optional-dependencies"]["test"]
    return dict(parse(item) for item in listed)


def conda_requirements() -> dict[str, str]:
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    listed = []
    for item in environment["dependencies"]:
        if isinstance(item, dict):
            listed += item["pip"]
        else:
            listed.append(item)
    found = dict(parse(item) for item in listed)
    found.pop("python")
    found.pop("pip")
    return found


def test_environment_matches_pyproject():
    assert conda_requirements() == pyproject_requirements()


def test_python_floor_matches():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    environment = (ROOT / "environment.yml").read_text()
    assert project["requires-python"] == ">=3.10"
    assert "python>=3.10" in environment
