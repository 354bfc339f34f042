"""Spanish explanations of what went wrong when connecting, logging in or sending.

``diagnose(error, host=..., port=..., security=...)`` turns an exception
raised by ``smtplib``, ``ssl`` or ``socket`` (or the dict of refused
recipients that ``send_message()`` returns) into a :class:`Diagnosis` with a
title, the cause and the fix, naming the host, port or address involved when
known. ``explain()`` displays it in the notebook instead. AUTH payloads and
every credential passed in ``secrets`` or ``settings`` are removed from the
texts.

There is one module of rules per stage: :mod:`.connection`,
:mod:`.authentication` and :mod:`.sending`, and :mod:`.python_errors` for
errors of the cell's own code (missing file, undefined name, bad header),
which get no SMTP advice. The rules are tried in order and the first that
recognises the error wins. An error that none recognises gets a generic
explanation with its type and message.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from typing import Any

from . import authentication, connection, kinds, python_errors, sending
from ..settings import ConnectionSettings, SettingsError, normalize_security
from .model import Context, Diagnosis, error_summary
from .sending import diagnose_refused

__all__ = ["Diagnosis", "diagnose", "diagnose_refused", "explain", "kinds"]

log = logging.getLogger(__name__)

_RULES = (
    *connection.RULES,
    *authentication.RULES,
    *sending.RULES,
    sending.diagnose_response,
    *python_errors.RULES,
    python_errors.diagnose_python_error,
)


def diagnose(
    error: BaseException | Mapping[str, Any] | None,
    *,
    host: str | None = None,
    port: int | None = None,
    security: str | None = None,
    settings: ConnectionSettings | None = None,
    secrets: Iterable[str | None] = (),
) -> Diagnosis:
    """Explain ``error`` in Spanish: what happened and how to fix it.

    ``error`` is an exception, or the dict of refused recipients returned by
    ``send_message()``. ``host``, ``port`` and ``security`` (``"starttls"``,
    ``"tls"`` or ``"none"``) describe the connection; a
    :class:`~mailcourse.settings.ConnectionSettings` passed as ``settings``
    fills the ones not given and adds its password to ``secrets``. Every
    value in ``secrets`` is removed from the texts. An error that no rule
    recognises gets the generic kind ``"unknown"``, and None (no error yet)
    the kind ``"no-error"``.
    """
    if error is None:
        return _no_error()
    context = _build_context(host, port, security, settings, secrets)
    if isinstance(error, Mapping):
        return sending.refused_recipients(error, context)
    for rule in _RULES:
        diagnosis = rule(error, context)
        if diagnosis is not None:
            log.debug("diagnosed %s as %s", type(error).__name__, diagnosis.kind)
            return diagnosis
    return _unknown(error, context)


def _build_context(
    host: str | None,
    port: int | None,
    security: str | None,
    settings: ConnectionSettings | None,
    secrets: Iterable[str | None],
) -> Context:
    collected = [secret for secret in secrets if secret]
    if settings is not None:
        host = host if host is not None else settings.host
        port = port if port is not None else settings.port
        security = security if security is not None else settings.security
        if settings.password:
            collected.append(settings.password)
    if security is not None:
        try:
            security = normalize_security(security)
        except SettingsError:
            # The rules cannot use a spelling they do not know.
            security = None
    return Context(host=host, port=port, security=security, secrets=tuple(collected))


def _unknown(error: BaseException, context: Context) -> Diagnosis:
    summary = error_summary(error, context)
    return Diagnosis(
        kind=kinds.UNKNOWN,
        title=f"Error inesperado: {type(error).__name__}",
        cause=(
            f"Python ha lanzado {summary}. No es uno de los errores que el "
            "curso reconoce, así que la pista está en ese tipo y ese mensaje."
        ),
        fix=(
            "Lee el mensaje y la última línea de la traza, que dice qué "
            "orden falló. Activa conexion.set_debuglevel(1) para ver el "
            f"diálogo con {context.address}, y revisa servidor, puerto y "
            "seguridad (465 con SMTP_SSL, 587 con starttls())."
        ),
        details=summary,
    )


def _no_error() -> Diagnosis:
    return Diagnosis(
        kind=kinds.NO_ERROR,
        title="No hay ningún error que explicar",
        cause=(
            "Has pasado None en lugar de un error. Pasa cuando ninguna celda "
            "ha fallado todavía, o cuando la variable del error se quedó "
            "vacía. Python solo guarda sys.last_value después de que una "
            "celda falle."
        ),
        fix=(
            "Ejecuta primero la celda que falla y, después, explain(sys."
            "last_value). O captura el error donde ocurre: try: ... except "
            "Exception as error: explain(error)."
        ),
    )


def explain(
    error: BaseException | Mapping[str, Any] | None,
    **context: Any,
) -> None:
    """Display the diagnosis of ``error``; use :func:`diagnose` to get it.

    Takes the same arguments as :func:`diagnose`, None included. In Jupyter
    the diagnosis is shown as HTML through ``IPython.display``; elsewhere it
    is printed. It returns None so that, as the last line of a cell, the
    diagnosis is not displayed a second time as the cell's value.
    """
    diagnosis = diagnose(error, **context)
    if not _display_in_notebook(diagnosis):
        print(diagnosis)


def _display_in_notebook(diagnosis: Diagnosis) -> bool:
    try:
        from IPython import get_ipython
        from IPython.display import display
    except ImportError:
        return False
    shell = get_ipython()
    # Only a kernel renders HTML; the terminal IPython would show the repr.
    if shell is None or getattr(shell, "kernel", None) is None:
        return False
    display(diagnosis)
    return True
