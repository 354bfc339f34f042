"""Checks for lesson 00: the Python version and the environment report."""

from __future__ import annotations

import sys
from typing import Any

from ..environment_check import EnvironmentReport
from .result import ExerciseResult, FeedbackList

MINIMUM_PYTHON = (3, 10)


def check_python_comparison(answer: Any) -> ExerciseResult:
    """Check 00-1: ``answer`` is ``sys.version_info >= (3, 10)`` evaluated."""
    feedback = FeedbackList("00-1")
    expected = sys.version_info >= MINIMUM_PYTHON
    if isinstance(answer, str):
        feedback.problem(
            "Tu respuesta es un texto, no True ni False.",
            "Compara sys.version_info, no sys.version: los textos se comparan "
            "letra a letra, y así «3.9» sale mayor que «3.10».",
        )
    elif type(answer) is type(sys.version_info):
        feedback.problem(
            "Has guardado sys.version_info entero, sin compararlo.",
            "Compáralo con la tupla (3, 10) usando >=.",
        )
    elif not isinstance(answer, bool):
        feedback.problem(
            f"Tu respuesta es de tipo {type(answer).__name__}, no True ni False.",
            "Una comparación con >= devuelve True o False directamente.",
        )
    elif answer != expected:
        version = ".".join(str(part) for part in sys.version_info[:2])
        feedback.problem(
            f"Tu respuesta es {answer}, pero este Python es el {version}.",
            "Revisa el sentido de la comparación: ¿>= o <=?",
        )
    else:
        feedback.good(f"La comparación da {answer}, lo correcto para este Python.")
    return feedback.result()


def check_environment_report(informe: Any) -> ExerciseResult:
    """Check 00-2: ``informe`` is the report that ``check_environment()`` returns."""
    feedback = FeedbackList("00-2")
    if callable(informe):
        feedback.problem(
            "Has guardado la función, no el informe que devuelve.",
            "Para llamar a una función hay que escribir paréntesis detrás.",
        )
    elif isinstance(informe, bool):
        feedback.problem(
            "Has pasado solo True o False, no el informe entero.",
            "Guarda en informe lo que devuelve check_environment() y muestra "
            "informe.passed en otra línea.",
        )
    elif not isinstance(informe, EnvironmentReport):
        feedback.problem(
            f"informe es de tipo {type(informe).__name__}, no un informe del entorno.",
            "Guarda en informe lo que devuelve check_environment().",
        )
    else:
        feedback.good("informe contiene el informe de check_environment().")
        if not informe.passed:
            feedback.problem(
                "El informe dice que a tu entorno le falta algo.",
                "Muestra el informe entero: cada línea con ✘ dice cómo arreglarla.",
            )
    return feedback.result()
