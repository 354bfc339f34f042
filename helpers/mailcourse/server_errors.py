"""Errors raised when the bundled server cannot start, worded for students."""

from __future__ import annotations

import errno


class PortInUseError(OSError):
    """Raised when the requested port is already taken by another program."""


def explain_bind_error(error: OSError, host: str, port: int) -> OSError:
    """Return an exception that names the port and says what to do."""
    if error.errno == errno.EADDRINUSE:
        return PortInUseError(
            error.errno,
            f"El puerto {port} de {host} ya está ocupado por otro programa. "
            "Llama a start_local_server() sin puerto para que el sistema elija "
            "uno libre, o elige otro número de puerto.",
        )
    if error.errno == errno.EACCES:
        return PermissionError(
            error.errno,
            f"No hay permiso para abrir el puerto {port} en {host}: los puertos "
            "por debajo de 1024 necesitan privilegios. Usa un puerto mayor o "
            "deja que el sistema elija uno libre.",
        )
    return error
