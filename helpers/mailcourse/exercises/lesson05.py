"""Checks for lesson 05: a refused recipient and the replies in a transcript."""

from __future__ import annotations

import re
from typing import Any

from ..transcript import CapturedTranscript
from .refused import check_refused_dict
from .result import ExerciseResult, FeedbackList

ACCEPTED_RECIPIENT = "luis@ejemplo.test"
REFUSED_RECIPIENT = "nadie@rechazado.test"
REPLY_PREFIX = "reply: retcode"
# noop() gets 250 and quit() gets 221, in that order.
EXPECTED_REPLY_CODES = [250, 221]
_REPLY_CODE = re.compile(r"^reply: retcode \((\d{3})\)")


def check_refused_recipient(rechazados: Any) -> ExerciseResult:
    """Check 05-1: ``send_message()`` returned only the refused recipient, 550."""
    feedback = FeedbackList("05-1")
    check_refused_dict(
        rechazados,
        feedback,
        expected_refused=(REFUSED_RECIPIENT,),
        accepted=ACCEPTED_RECIPIENT,
        message_name="doble",
    )
    return feedback.result()


def check_reply_lines(lineas: Any) -> ExerciseResult:
    """Check 05-2: the reply lines of noop() and quit(), and nothing else."""
    feedback = FeedbackList("05-2")
    if isinstance(lineas, CapturedTranscript):
        feedback.problem(
            "Has pasado el diálogo entero, no la lista de respuestas.",
            "Recorre dialogo.lines y quédate con las líneas que empiezan por "
            f"«{REPLY_PREFIX}».",
        )
        return feedback.result()
    if not isinstance(lineas, list) or not all(
        isinstance(line, str) for line in lineas
    ):
        feedback.problem(
            "La respuesta debe ser una lista de textos.",
            "Una comprensión de listas sobre dialogo.lines la construye.",
        )
        return feedback.result()
    others = [line for line in lineas if not line.startswith(REPLY_PREFIX)]
    if others:
        feedback.problem(
            f"{len(others)} líneas de la lista no son respuestas del servidor.",
            f"Quédate solo con las líneas que empiezan por «{REPLY_PREFIX}».",
        )
        return feedback.result()
    _check_reply_codes(lineas, feedback)
    return feedback.result()


def _check_reply_codes(lineas: list[str], feedback: FeedbackList) -> None:
    codes = []
    for line in lineas:
        match = _REPLY_CODE.match(line)
        if match:
            codes.append(int(match[1]))
    if codes == EXPECTED_REPLY_CODES:
        feedback.good("Están la respuesta de noop() (250) y la de quit() (221).")
    elif not codes:
        feedback.problem(
            "La lista está vacía.",
            "Llama a noop() y a quit() dentro del bloque with de "
            "debug_transcript(): lo de fuera no se captura.",
        )
    else:
        listed_codes = ", ".join(str(code) for code in codes)
        feedback.problem(
            f"Los códigos de la lista son {listed_codes}, y se esperan 250 y 221.",
            "Captura solo noop() y quit(), en ese orden, en una conexión nueva.",
        )
