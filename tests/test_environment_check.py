"""Lesson 00: the environment check, with real and made-up versions, and its map."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from pathlib import Path

import pytest

from mailcourse import environment_check
from mailcourse.environment_check import (
    EnvironmentFacts,
    check_package,
    check_python,
    check_widgets_extension,
    evaluate,
)

VERSION_NUMBER = re.compile(r"\d+\.\d+")
LESSONS = Path(__file__).resolve().parents[1] / "lessons"
LESSON_TIME = re.compile(
    r"\*\*Tiempo estimado\*\*: (\d+) minutos de explicación y (\d+) de ejercicios"
)
# Table rows with the minutes of a lesson: last column in the course map of
# lesson 00, second column in the instructor guide.
MAP_ROW = re.compile(r"^\| (\d\d) · [^|]+\|.*?\| (\d+) \|", re.MULTILINE)
GUIDE_ROW = re.compile(r"^\| (\d\d) · [^|]+\| (\d+) \|", re.MULTILINE)

GOOD_FACTS = EnvironmentFacts(
    python_version=(3, 11, 7),
    installed={
        "jupyterlab": "4.6.6",
        "ipywidgets": "8.1.9",
        "aiosmtpd": "1.4.6",
        "trustme": "1.2.1",
        "jupyterlab_widgets": "3.0.17",
    },
    requirements={
        "jupyterlab": "<5,>=4.3",
        "ipywidgets": "<9,>=8.1.5",
        "aiosmtpd": "<2,>=1.4.6",
        "trustme": "<2,>=1.2",
        "jupyterlab_widgets": "",
    },
    widgets_requirement="~=3.0.17",
    widgets_extension_found=True,
)


def with_installed(**versions: str | None) -> EnvironmentFacts:
    installed = {**GOOD_FACTS.installed, **versions}
    return dataclasses.replace(GOOD_FACTS, installed=installed)


def failed_labels(facts: EnvironmentFacts) -> list[str]:
    return [result.label for result in evaluate(facts).results if not result.passed]


def test_this_environment_passes():
    report = environment_check.check_environment()
    assert [result.label for result in report.results if not result.passed] == []
    assert report.passed


def test_passing_report_has_no_versions():
    report = evaluate(GOOD_FACTS)
    assert VERSION_NUMBER.findall(report.to_text()) == []
    assert VERSION_NUMBER.findall(report._repr_html_()) == []


def test_passing_report_says_correcto():
    lines = evaluate(GOOD_FACTS).to_text().splitlines()
    check_lines = lines[1:-1]
    assert len(check_lines) == 6
    assert all(line.startswith("✔ ") for line in check_lines)
    assert all(line.endswith(": correcto") for line in check_lines)
    assert lines[-1] == "Todo listo: puedes seguir con la lección 01."


def test_old_python_fails_with_versions():
    result = check_python((3, 9, 18))
    assert not result.passed
    assert "3.9.18" in result.problem
    assert "3.10" in result.problem


def test_minimum_python_passes():
    assert check_python((3, 10, 0)).passed


def test_missing_package_gives_pip_command():
    result = check_package("aiosmtpd", "aiosmtpd", None, "<2,>=1.4.6")
    assert not result.passed
    assert result.problem == "no está instalado."
    assert '%pip install --upgrade "aiosmtpd>=1.4.6,<2"' in result.fix
    assert 'python -m pip install --upgrade "aiosmtpd>=1.4.6,<2"' in result.fix


def test_old_package_names_both_versions():
    result = check_package("jupyterlab", "JupyterLab", "3.6.7", "<5,>=4.3")
    assert not result.passed
    assert "3.6.7" in result.problem
    assert ">=4.3,<5" in result.problem


def test_too_new_package_fails():
    result = check_package("ipywidgets", "ipywidgets", "9.0.0", "<9,>=8.1.5")
    assert not result.passed


def test_package_without_specifier_passes():
    assert check_package("trustme", "trustme", "0.1", "").passed


def test_missing_widgets_extension_explains_fix():
    result = check_widgets_extension("8.1.9", None, "~=3.0.17", False, "<9,>=8.1.5")
    assert not result.passed
    assert "no está instalada" in result.problem
    assert (
        '%pip install --upgrade "ipywidgets>=8.1.5,<9" "jupyterlab_widgets"'
        in result.fix
    )
    assert "reinicia JupyterLab" in result.fix


def test_mismatched_widgets_extension_fails():
    result = check_widgets_extension("8.1.9", "1.1.7", "~=3.0.17", True, "<9,>=8.1.5")
    assert not result.passed
    assert "jupyterlab_widgets 1.1.7" in result.problem
    assert "ipywidgets 8.1.9" in result.problem
    assert "~=3.0.17" in result.problem
    assert "python -m pip install --upgrade" in result.fix


def test_matching_widgets_extension_passes():
    assert check_widgets_extension("8.1.9", "3.0.20", "~=3.0.17", True).passed


def test_widgets_extension_files_missing():
    result = check_widgets_extension("8.1.9", "3.0.17", "~=3.0.17", False)
    assert not result.passed
    assert "@jupyter-widgets/jupyterlab-manager" in result.problem
    assert '%pip install --force-reinstall "jupyterlab_widgets"' in result.fix


def test_unknown_extension_folders_pass():
    assert check_widgets_extension("8.1.9", "3.0.17", "~=3.0.17", None).passed


def test_missing_ipywidgets_fails_extension_too():
    facts = with_installed(ipywidgets=None)
    assert failed_labels(facts) == [
        "ipywidgets (formularios)",
        "Extensión de los formularios (jupyterlab_widgets)",
    ]


def test_forms_problem_says_course_continues():
    report = evaluate(with_installed(jupyterlab_widgets=None))
    assert not report.passed
    assert report.only_forms_failed
    assert "Los formularios son opcionales" in report.summary()
    assert "celdas de código" in report.summary()


def test_server_problem_blocks_course():
    report = evaluate(with_installed(aiosmtpd=None))
    assert not report.only_forms_failed
    assert report.summary().startswith("Falta algo para seguir el curso")


def test_missing_course_package_reported():
    facts = dataclasses.replace(GOOD_FACTS, requirements={}, course_installed=False)
    assert failed_labels(facts) == ["Paquete del curso (mailcourse)"]


def test_failed_check_html_escaped():
    facts = with_installed(jupyterlab_widgets="1.1.7")
    rendered = evaluate(facts)._repr_html_()
    assert "✘ <b>Extensión de los formularios (jupyterlab_widgets)</b>" in rendered
    assert "&quot;ipywidgets&gt;=8.1.5,&lt;9&quot;" in rendered


def test_specifier_lower_bound_first():
    assert environment_check.describe_specifier("<5,>=4.3") == ">=4.3,<5"
    assert environment_check.describe_specifier("~=3.0.17") == "~=3.0.17"
    assert environment_check.describe_specifier("") == ""


def test_course_requirements_read_from_metadata():
    specifiers = environment_check.declared_specifiers("mailcourse")
    assert specifiers["ipywidgets"] == "<9,>=8.1.5"
    assert specifiers["aiosmtpd"] == "<2,>=1.4.6"
    assert "pytest" not in specifiers


def test_extension_found_in_jupyter_path(tmp_path, monkeypatch):
    extension = tmp_path / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    extension.mkdir(parents=True)
    (extension / "package.json").write_text('{"name": "prueba"}')
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert extension in environment_check.widgets_extension_folders()


def test_empty_jupyter_path_entry_ignored(tmp_path, monkeypatch):
    (tmp_path / "labextensions" / "@jupyter-widgets").mkdir(parents=True)
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    folders = environment_check.widgets_extension_folders()
    assert all(not str(folder).startswith(str(tmp_path)) for folder in folders)


@pytest.mark.parametrize("passed, exit_code", [(True, 0), (False, 1)])
def test_command_exit_code(passed, exit_code, monkeypatch, capsys):
    facts = GOOD_FACTS if passed else with_installed(aiosmtpd=None)
    monkeypatch.setattr(environment_check, "gather_facts", lambda: facts)
    assert environment_check.main() == exit_code
    assert "Comprobación del entorno del curso" in capsys.readouterr().out


def test_module_runs_as_command():
    finished = subprocess.run(
        [sys.executable, "-m", "mailcourse.environment_check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert finished.returncode == 0
    assert "Todo listo" in finished.stdout


def lesson_minutes() -> dict[str, int]:
    """Return the total minutes each written lesson states in its header."""
    minutes = {}
    for lesson in sorted(LESSONS.glob("[0-9][0-9]-*.md")):
        found = LESSON_TIME.search(lesson.read_text(encoding="utf-8"))
        assert found, f"{lesson.name} has no 'Tiempo estimado' line"
        minutes[lesson.name[:2]] = int(found.group(1)) + int(found.group(2))
    return minutes


def test_course_map_matches_lesson_times():
    course_map = (LESSONS / "00-inicio.md").read_text(encoding="utf-8")
    mapped = {number: int(total) for number, total in MAP_ROW.findall(course_map)}
    assert sorted(mapped) == [f"{number:02d}" for number in range(10)]
    for number, total in lesson_minutes().items():
        assert mapped[number] == total, f"lesson {number} in the course map"


def test_instructor_guide_matches_lesson_times():
    guide = (LESSONS / "GUIA-INSTRUCTOR.md").read_text(encoding="utf-8")
    listed = {number: int(total) for number, total in GUIDE_ROW.findall(guide)}
    assert sorted(listed) == [f"{number:02d}" for number in range(10)]
    for number, total in lesson_minutes().items():
        assert listed[number] == total, f"lesson {number} in the instructor guide"
