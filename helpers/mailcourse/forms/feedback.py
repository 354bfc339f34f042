"""Messages the forms show under their buttons, as HTML and as plain text.

Every form keeps its last message as a :class:`Feedback`: the HTML goes into
an ``HTML`` widget for the browser, and the same lines as plain text are what
``status_text`` returns to a notebook cell or a test.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field

# Border colours per level: green, red, amber, grey.
_LEVEL_COLOURS = {
    "ok": "#2e7d32",
    "error": "#c0392b",
    "warning": "#b7791f",
    "info": "#607d8b",
}


@dataclass(frozen=True)
class FormProblem:
    """One reason a form cannot go ahead: the field's label and what to do."""

    field: str
    message: str

    def text(self) -> str:
        # Messages from mailcourse.compose already name their field.
        if f"«{self.field}»" in self.message:
            return self.message
        return f"«{self.field}»: {self.message}"


class FormInputError(ValueError):
    """Raised when form fields are missing, invalid or inconsistent.

    ``problems`` lists every problem found, each naming its field; the
    exception text joins them.
    """

    def __init__(self, problems: list[FormProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(problem.text() for problem in problems))


@dataclass(frozen=True)
class Feedback:
    """A titled message with a level (``ok``, ``error``, ``warning``, ``info``)."""

    level: str
    title: str
    lines: tuple[str, ...] = field(default=())
    # Preformatted text (a code snippet or a transcript) shown after the lines.
    preformatted: str = ""

    def text(self) -> str:
        parts = [self.title, *(f"- {line}" for line in self.lines)]
        if self.preformatted:
            parts.append(self.preformatted)
        return "\n".join(parts)

    def html(self) -> str:
        colour = _LEVEL_COLOURS.get(self.level, _LEVEL_COLOURS["info"])
        parts = [
            f"<div class='mailcourse-feedback mailcourse-{self.level}' "
            f"style='border-left: 4px solid {colour}; padding: 0.1em 0.8em; "
            "margin: 0.3em 0; line-height: 1.4'>",
            f"<b>{html.escape(self.title)}</b>",
        ]
        if len(self.lines) == 1:
            parts.append(f"<br>{html.escape(self.lines[0])}")
        elif self.lines:
            items = "".join(f"<li>{html.escape(line)}</li>" for line in self.lines)
            list_style = "margin: 0.1em 0 0.1em 1.2em; padding: 0"
            parts.append(f"<ul style='{list_style}'>{items}</ul>")
        if self.preformatted:
            parts.append(
                "<pre style='white-space: pre-wrap'>"
                f"{html.escape(self.preformatted)}</pre>"
            )
        parts.append("</div>")
        return "".join(parts)


EMPTY = Feedback(level="info", title="")


def problems_feedback(title: str, problems: list[FormProblem]) -> Feedback:
    """Return an error message listing each problem with its field."""
    return Feedback("error", title, tuple(problem.text() for problem in problems))


def format_bytes(size: int) -> str:
    """Format a byte count with a decimal comma: ``512 bytes``, ``1,5 KB``, ``2,0 MB``.

    KB and MB are powers of 1024, as SIZE limits are usually quoted.
    """
    if size < 1024:
        return f"{size} bytes"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB".replace(".", ",")
    return f"{size / (1024 * 1024):.1f} MB".replace(".", ",")


def code_html(code: str) -> str:
    """Return ``code`` as an escaped ``<pre>`` block."""
    return f"<pre style='margin: 0'>{html.escape(code)}</pre>"


def diagnosis_feedback(diagnosis) -> Feedback:
    """Return a :class:`~mailcourse.diagnosis.Diagnosis` as an error message."""
    lines = [f"Qué ha pasado: {diagnosis.cause}", f"Cómo arreglarlo: {diagnosis.fix}"]
    if diagnosis.details:
        lines.append(f"Detalle técnico: {diagnosis.details}")
    return Feedback("error", diagnosis.title, tuple(lines))
