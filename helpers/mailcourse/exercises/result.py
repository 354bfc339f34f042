"""The outcome of one exercise check: what is right, what is missing, hints."""

from __future__ import annotations

import html
from dataclasses import dataclass, field

PASSED_MARK = "✔"
FAILED_MARK = "✘"
HINT_MARK = "→"


@dataclass(frozen=True)
class Feedback:
    """One observation about the answer, in Spanish.

    ``hint`` is empty when ``correct`` is true, because nothing needs fixing.
    """

    correct: bool
    text: str
    hint: str = ""

    def to_text(self) -> str:
        mark = PASSED_MARK if self.correct else FAILED_MARK
        lines = [f"{mark} {self.text}"]
        if self.hint:
            lines.append(f"  {HINT_MARK} Pista: {self.hint}")
        return "\n".join(lines)

    def to_html(self) -> str:
        mark = PASSED_MARK if self.correct else FAILED_MARK
        item = f"<li>{mark} {html.escape(self.text)}"
        if self.hint:
            item += f"<br><i>Pista: {html.escape(self.hint)}</i>"
        return item + "</li>"


@dataclass(frozen=True)
class ExerciseResult:
    """The feedback of one check: ``passed`` is true when nothing is wrong."""

    exercise_id: str
    feedback: tuple[Feedback, ...] = field(default=())

    @property
    def passed(self) -> bool:
        return all(item.correct for item in self.feedback)

    @property
    def messages(self) -> list[str]:
        """The text of every observation, hints included, in order."""
        return [item.to_text() for item in self.feedback]

    @property
    def hints(self) -> list[str]:
        """The hints of the observations that found a problem."""
        return [item.hint for item in self.feedback if item.hint]

    def summary(self) -> str:
        if self.passed:
            return "¡Correcto! Todo lo que se pedía está en tu respuesta."
        return "Aún no está. Revisa lo marcado con ✘ y vuelve a comprobar."

    def to_text(self) -> str:
        lines = [f"Ejercicio {self.exercise_id}"]
        lines += self.messages
        lines.append(self.summary())
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.to_text()

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.to_text())

    def _repr_html_(self) -> str:
        border_color = "#27ae60" if self.passed else "#c0392b"
        items = "".join(item.to_html() for item in self.feedback)
        return (
            f"<div style='border-left: 4px solid {border_color}; padding: 0.4em 0.8em'>"
            f"<p><b>Ejercicio {html.escape(self.exercise_id)}</b></p>"
            f"<ul style='list-style:none;padding-left:0'>{items}</ul>"
            f"<p><b>{html.escape(self.summary())}</b></p></div>"
        )


class FeedbackList:
    """Collect observations while a check runs, then freeze them in a result."""

    def __init__(self, exercise_id: str) -> None:
        self.exercise_id = exercise_id
        self._items: list[Feedback] = []

    def good(self, text: str) -> None:
        """Record something the answer does right."""
        self._items.append(Feedback(True, text))

    def problem(self, text: str, hint: str) -> None:
        """Record something wrong or missing, with a hint that is not the solution."""
        self._items.append(Feedback(False, text, hint))

    def result(self) -> ExerciseResult:
        return ExerciseResult(self.exercise_id, tuple(self._items))
