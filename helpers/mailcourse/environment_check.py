"""Check that a student's setup can run the course, and report what to install.

``check_environment()`` gathers the installed versions (:func:`gather_facts`)
and evaluates them (:func:`evaluate`). A passing check shows only "correcto" and
no version number, so the stored output of the lesson 00 notebook is the same
on every machine that can run the course. Each ``check_*`` function takes
plain version data, so the failing branches can be tested with made-up
versions instead of a broken environment.

The minimum versions come from the course package's own metadata (the
``dependencies`` in ``pyproject.toml``), so they are written in one place.

    python -m mailcourse.environment_check     print the report, exit 1 on a problem
"""

from __future__ import annotations

import html
import sys
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

# ipykernel requires packaging, so it is importable wherever a notebook runs.
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

COURSE_DISTRIBUTION = "mailcourse"
MINIMUM_PYTHON = (3, 10)
WIDGETS_EXTENSION = "@jupyter-widgets/jupyterlab-manager"
OPTIONAL_FORMS_NOTE = (
    "Los formularios son opcionales: todas las lecciones funcionan igual con "
    "las celdas de código, que hacen lo mismo que los botones."
)

# Pairs of distribution name and the label shown to the student, in report order.
IPYWIDGETS_LABEL = "ipywidgets (formularios)"
CHECKED_PACKAGES = (
    ("jupyterlab", "JupyterLab"),
    ("ipywidgets", IPYWIDGETS_LABEL),
    ("aiosmtpd", "aiosmtpd (servidor SMTP del curso)"),
    ("trustme", "trustme (certificados de prueba)"),
)
WIDGETS_EXTENSION_LABEL = "Extensión de los formularios (jupyterlab_widgets)"
PASSED = "✔"
FAILED = "✘"


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one check, worded in Spanish for the student.

    ``problem`` and ``fix`` are empty when the check passed.
    """

    label: str
    passed: bool
    problem: str = ""
    fix: str = ""

    def to_text(self) -> str:
        if self.passed:
            return f"{PASSED} {self.label}: correcto"
        lines = [f"{FAILED} {self.label}: {self.problem}"]
        lines += [f"    {line}" for line in self.fix.splitlines()]
        return "\n".join(lines)


@dataclass(frozen=True)
class EnvironmentReport:
    """The results of every check, printable and shown as HTML in Jupyter."""

    results: tuple[CheckResult, ...]

    @property
    def passed(self) -> bool:
        return all(result.passed for result in self.results)

    @property
    def only_forms_failed(self) -> bool:
        """True when some check failed and every failure concerns the forms."""
        form_labels = {IPYWIDGETS_LABEL, WIDGETS_EXTENSION_LABEL}
        failed = {result.label for result in self.results if not result.passed}
        return bool(failed) and failed <= form_labels

    def summary(self) -> str:
        if self.passed:
            return "Todo listo: puedes seguir con la lección 01."
        if self.only_forms_failed:
            return "Puedes seguir con la lección 01. " + OPTIONAL_FORMS_NOTE
        return (
            "Falta algo para seguir el curso: instala lo que se indica arriba y "
            "vuelve a ejecutar esta celda."
        )

    def to_text(self) -> str:
        lines = ["Comprobación del entorno del curso"]
        lines += [result.to_text() for result in self.results]
        lines.append(self.summary())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.to_text())

    def _repr_html_(self) -> str:
        items = "".join(_result_html(result) for result in self.results)
        return (
            "<div class='mailcourse-environment'>"
            "<p><b>Comprobación del entorno del curso</b></p>"
            f"<ul style='list-style:none;padding-left:0'>{items}</ul>"
            f"<p>{html.escape(self.summary())}</p></div>"
        )


def _result_html(result: CheckResult) -> str:
    label = html.escape(result.label)
    if result.passed:
        return f"<li>{PASSED} {label}: correcto</li>"
    fix = html.escape(result.fix)
    return (
        f"<li>{FAILED} <b>{label}</b>: {html.escape(result.problem)}"
        f"<pre style='white-space:pre-wrap'>{fix}</pre></li>"
    )


@dataclass(frozen=True)
class EnvironmentFacts:
    """Installed versions and requirements, as found on this machine.

    ``installed`` maps a distribution name to its version, or to None when it
    is not installed. ``requirements`` maps a distribution name to the
    specifier the course needs ("" when the course metadata is missing).
    ``widgets_extension_found`` is None when it could not be looked up.
    """

    python_version: tuple[int, ...]
    installed: dict[str, str | None]
    requirements: dict[str, str]
    widgets_requirement: str | None
    widgets_extension_found: bool | None
    course_installed: bool = True


def pip_command(*requirements: str) -> str:
    """Return the commands that install ``requirements``, from a cell or a shell."""
    quoted = " ".join(f'"{requirement}"' for requirement in requirements)
    return (
        f"En una celda del cuaderno: %pip install --upgrade {quoted}\n"
        f"O en una terminal, con el entorno del curso activado: "
        f"python -m pip install --upgrade {quoted}"
    )


def check_python(version: tuple[int, ...]) -> CheckResult:
    """Check that the Python ``version`` is at least :data:`MINIMUM_PYTHON`."""
    label = "Python"
    if tuple(version[:2]) >= MINIMUM_PYTHON:
        return CheckResult(label, True)
    version_text = ".".join(str(part) for part in version[:3])
    minimum = ".".join(str(part) for part in MINIMUM_PYTHON)
    return CheckResult(
        label,
        False,
        problem=(
            f"tienes Python {version_text} y el curso necesita {minimum} o más "
            "reciente."
        ),
        fix=(
            f"Instala Python {minimum} o más reciente desde python.org (o con tu "
            "gestor de paquetes). Después borra la carpeta .venv del curso y "
            "ejecuta python3 course.py lab con el Python nuevo."
        ),
    )


def describe_specifier(specifier: str) -> str:
    """Return ``specifier`` with its lower bound first (``">=4.3,<5"``)."""
    parts = sorted(SpecifierSet(specifier), key=lambda item: item.operator[0] != ">")
    return ",".join(str(part) for part in parts)


def _satisfies(version: str, specifier: str) -> bool:
    try:
        return SpecifierSet(specifier).contains(Version(version), prereleases=True)
    except InvalidVersion:
        # pip never installs such a version, so it was installed on purpose and
        # the student is not sent to reinstall it.
        return True


def check_package(
    distribution: str, label: str, installed: str | None, specifier: str
) -> CheckResult:
    """Check that ``distribution`` is installed and matches ``specifier``.

    ``specifier`` is a PEP 440 specifier such as ``">=4.3,<5"``. An empty one
    accepts any installed version.
    """
    specifier = describe_specifier(specifier)
    requirement = f"{distribution}{specifier}"
    if installed is None:
        return CheckResult(
            label,
            False,
            problem="no está instalado.",
            fix=pip_command(requirement),
        )
    if specifier and not _satisfies(installed, specifier):
        return CheckResult(
            label,
            False,
            problem=(
                f"tienes la versión {installed} y el curso necesita {specifier}."
            ),
            fix=pip_command(requirement),
        )
    return CheckResult(label, True)


def check_widgets_extension(
    ipywidgets_version: str | None,
    extension_version: str | None,
    required_by_ipywidgets: str | None,
    extension_found: bool | None,
    ipywidgets_specifier: str = "",
) -> CheckResult:
    """Check the JupyterLab side of ipywidgets: ``jupyterlab_widgets``.

    ``required_by_ipywidgets`` is the specifier that the installed ipywidgets
    declares for jupyterlab_widgets (``"~=3.0.17"`` for ipywidgets 8.1.9).
    ``extension_found`` is True when the front-end files of
    ``@jupyter-widgets/jupyterlab-manager`` are in a Jupyter data folder, and
    None when that could not be looked up.
    """
    label = WIDGETS_EXTENSION_LABEL
    ipywidgets_requirement = f"ipywidgets{describe_specifier(ipywidgets_specifier)}"
    both = pip_command(ipywidgets_requirement, "jupyterlab_widgets")
    restart = (
        "Después reinicia JupyterLab y recarga la página del navegador, porque "
        "las extensiones se cargan al abrir la página."
    )
    if ipywidgets_version is None:
        return CheckResult(
            label,
            False,
            problem="no se puede comprobar porque falta ipywidgets.",
            fix=f"{both}\n{restart}",
        )
    if extension_version is None:
        return CheckResult(
            label,
            False,
            problem=(
                "no está instalada, así que JupyterLab no puede dibujar los "
                "formularios (verás un texto en lugar de los botones)."
            ),
            fix=f"{both}\n{restart}",
        )
    if required_by_ipywidgets and not _satisfies(
        extension_version, required_by_ipywidgets
    ):
        return CheckResult(
            label,
            False,
            problem=(
                f"tienes jupyterlab_widgets {extension_version}, que no encaja con "
                f"ipywidgets {ipywidgets_version} (necesita jupyterlab_widgets"
                f"{required_by_ipywidgets}). Los formularios no se dibujarían bien."
            ),
            fix=f"{both}\n{restart}",
        )
    if extension_found is False:
        return CheckResult(
            label,
            False,
            problem=(
                "el paquete está instalado, pero JupyterLab no encuentra los "
                f"archivos de la extensión {WIDGETS_EXTENSION}."
            ),
            fix=(
                "Reinstálalo para que vuelva a copiar esos archivos:\n"
                + pip_command("jupyterlab_widgets").replace(
                    "--upgrade", "--force-reinstall"
                )
                + f"\n{restart}"
            ),
        )
    return CheckResult(label, True)


def check_course_package(course_installed: bool) -> CheckResult:
    """Check that the course package is installed, so its requirements are known."""
    label = "Paquete del curso (mailcourse)"
    if course_installed:
        return CheckResult(label, True)
    return CheckResult(
        label,
        False,
        problem="no está instalado, así que no se conocen las versiones mínimas.",
        fix=(
            "En una terminal, desde la carpeta del curso: python3 course.py lab\n"
            "O con tu propio entorno activado: python -m pip install -e ."
        ),
    )


def evaluate(facts: EnvironmentFacts) -> EnvironmentReport:
    """Evaluate ``facts`` and return one result per check, in a fixed order."""
    results = [check_python(facts.python_version)]
    if not facts.course_installed:
        results.append(check_course_package(False))
    for distribution, label in CHECKED_PACKAGES:
        results.append(
            check_package(
                distribution,
                label,
                facts.installed.get(distribution),
                facts.requirements.get(distribution, ""),
            )
        )
    results.append(
        check_widgets_extension(
            facts.installed.get("ipywidgets"),
            facts.installed.get("jupyterlab_widgets"),
            facts.widgets_requirement,
            facts.widgets_extension_found,
            facts.requirements.get("ipywidgets", ""),
        )
    )
    return EnvironmentReport(tuple(results))


def installed_version(distribution: str) -> str | None:
    """Return the installed version of ``distribution``, or None if it is missing."""
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def declared_specifiers(distribution: str) -> dict[str, str]:
    """Return ``{name: specifier}`` for the unconditional requirements of a package.

    Raises :class:`importlib.metadata.PackageNotFoundError` when the package
    is not installed.
    """
    specifiers = {}
    for line in metadata.requires(distribution) or []:
        try:
            requirement = Requirement(line)
        except InvalidRequirement:
            continue
        if requirement.marker is not None and not requirement.marker.evaluate():
            continue
        name = requirement.name.lower().replace("-", "_")
        specifiers[name] = str(requirement.specifier)
    return specifiers


def widgets_extension_folders() -> tuple[Path, ...] | None:
    """Return the Jupyter data folders that contain the widgets front-end extension.

    Returns None when jupyter_core (installed with JupyterLab) is missing.
    """
    try:
        from jupyter_core.paths import jupyter_path
    except ImportError:
        return None
    # NOTE: these are the kernel's data folders. When JupyterLab runs from a
    # different environment than the kernel, its own folders are not checked.
    found = []
    for folder in jupyter_path("labextensions"):
        candidate = Path(folder) / WIDGETS_EXTENSION
        if (candidate / "package.json").is_file():
            found.append(candidate)
    return tuple(found)


def gather_facts() -> EnvironmentFacts:
    """Read the versions installed in this Python environment."""
    names = [distribution for distribution, _ in CHECKED_PACKAGES]
    names.append("jupyterlab_widgets")
    installed = {name: installed_version(name) for name in names}
    try:
        course_specifiers = declared_specifiers(COURSE_DISTRIBUTION)
        course_installed = True
    except metadata.PackageNotFoundError:
        course_specifiers = {}
        course_installed = False
    requirements = {
        name: course_specifiers.get(name.replace("-", "_"), "") for name in names
    }
    widgets_requirement = None
    if installed["ipywidgets"] is not None:
        widgets_requirement = declared_specifiers("ipywidgets").get(
            "jupyterlab_widgets"
        )
    folders = widgets_extension_folders()
    return EnvironmentFacts(
        python_version=tuple(sys.version_info[:3]),
        installed=installed,
        requirements=requirements,
        widgets_requirement=widgets_requirement,
        widgets_extension_found=None if folders is None else bool(folders),
        course_installed=course_installed,
    )


def check_environment() -> EnvironmentReport:
    """Check Python and the course's packages and return a report.

    As the last line of a notebook cell, the report is shown as a list of checks.
    """
    return evaluate(gather_facts())


def main() -> int:
    report = check_environment()
    print(report.to_text())
    return 0 if report.passed else 1


if __name__ == "__main__":
    sys.exit(main())
