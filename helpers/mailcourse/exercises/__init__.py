"""Spanish feedback on the exercises at the end of each lesson.

``check_exercise("01-1", invitacion)`` runs the check of one exercise on
what the student built (a message, a returned value, the server that
received the mail) and returns an :class:`ExerciseResult`. The result shows
what is right, what is missing and a hint, never the solution, both as text
and in Jupyter. ``result.passed`` is true when nothing is wrong.

Exercise ids are ``"LL-N"``: the lesson number and the exercise number in it.
"""

from __future__ import annotations

from collections.abc import Callable
import inspect
from typing import Any

from . import (
    lesson00,
    lesson01,
    lesson02,
    lesson03,
    lesson04,
    lesson05,
    lesson06,
    lesson07,
    lesson08,
    lesson09,
)
from .result import ExerciseResult, Feedback

__all__ = [
    "CHECKS",
    "ExerciseResult",
    "Feedback",
    "UnknownExerciseError",
    "check_exercise",
]

CHECKS: dict[str, Callable[..., ExerciseResult]] = {
    "00-1": lesson00.check_python_comparison,
    "00-2": lesson00.check_environment_report,
    "01-1": lesson01.check_invitation,
    "01-2": lesson01.check_copy_header,
    "02-1": lesson02.check_sensor_attachment,
    "02-2": lesson02.check_agenda_attachment,
    "03-1": lesson03.check_two_recipients,
    "03-2": lesson03.check_sensor_delivery,
    "04-1": lesson04.check_auth_around_starttls,
    "04-2": lesson04.check_extended_context,
    "05-1": lesson05.check_refused_recipient,
    "05-2": lesson05.check_reply_lines,
    "06-1": lesson06.check_send_as_teacher,
    "06-2": lesson06.check_caught_code,
    "06-3": lesson06.check_login_order,
    "07-1": lesson07.check_refused_list,
    "07-2": lesson07.check_blind_copy,
    "07-3": lesson07.check_fits,
    "08-1": lesson08.check_yahoo_settings,
    "08-2": lesson08.check_tls_port_send,
    "08-3": lesson08.check_explained_send,
    "09-1": lesson09.check_form_blind_copy,
    "09-2": lesson09.check_refused_connection,
}


class UnknownExerciseError(KeyError):
    """Raised for an exercise id that has no check, with the valid ids."""

    def __init__(self, exercise_id: str) -> None:
        known = ", ".join(CHECKS)
        super().__init__(
            f"No hay ningún ejercicio «{exercise_id}». Los que se pueden "
            f"comprobar son: {known}."
        )


def check_exercise(exercise_id: str, *answer: Any, **options: Any) -> ExerciseResult:
    """Check the answer to exercise ``exercise_id`` and return the feedback.

    ``answer`` is what the exercise asks for, in the order its statement
    names it. ``options`` go to the check unchanged (for example ``samples``,
    the folder of the sample files). Raises :class:`UnknownExerciseError` for
    an id with no check, and ``TypeError`` naming the expected values when
    their number is wrong. Only checks 07-3 and 08-3 connect, to the
    simulator passed to them, and they report a failed connection in the
    result, so no ``smtplib`` exception escapes.
    """
    check = CHECKS.get(exercise_id)
    if check is None:
        raise UnknownExerciseError(exercise_id)
    signature = inspect.signature(check)
    try:
        signature.bind(*answer, **options)
    except TypeError:
        raise TypeError(_usage(exercise_id, signature)) from None
    return check(*answer, **options)


def _usage(exercise_id: str, signature: inspect.Signature) -> str:
    """Return the Spanish line that shows how to call one check."""
    required = [
        name
        for name, parameter in signature.parameters.items()
        if parameter.default is inspect.Parameter.empty
    ]
    call = ", ".join([f'"{exercise_id}"', *required])
    return f"El ejercicio {exercise_id} se comprueba así: check_exercise({call})."
