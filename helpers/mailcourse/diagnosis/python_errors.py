"""Rules for errors of the notebook's own Python code, with no SMTP advice.

A missing attachment file, an undefined name, an invalid header value or a
wrong call to ``add_attachment()`` fail before any byte reaches a server, so
these explanations talk about the code and never about ports or TLS.
"""

from __future__ import annotations

import email
import os
import re
import smtplib
import socket
import ssl
import traceback
from pathlib import Path

from . import kinds
from .model import Context, Diagnosis, error_summary, smtplib_functions

_EMAIL_PACKAGE = Path(email.__file__).parent
_NETWORK_ERRORS = (
    smtplib.SMTPException,
    ssl.SSLError,
    socket.gaierror,
    socket.herror,
    ConnectionError,
    TimeoutError,
)
# email.message raises "There may be at most 1 Subject headers in a message".
_HEADER_COUNT = re.compile(r"at most (\d+) (\S+) headers")
_LAST_LINE = (
    "La última línea del error, «{summary}», dice el tipo de error y qué ha "
    "fallado. La línea marcada con una flecha (---->) en la traza es la de tu "
    "celda que lo ha provocado."
)


def is_network_error(error: BaseException) -> bool:
    """Return true when ``error`` comes from the connection, not the cell's code.

    That is an smtplib, ssl or socket error, or any error raised inside
    smtplib (for example ``ValueError`` for ``timeout=0``).
    """
    return isinstance(error, _NETWORK_ERRORS) or bool(smtplib_functions(error))


def _email_functions(error: BaseException) -> list[str]:
    frames = traceback.extract_tb(error.__traceback__)
    return [
        frame.name
        for frame in frames
        if Path(frame.filename).parent == _EMAIL_PACKAGE
    ]


def diagnose_file_not_found(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, FileNotFoundError):
        return None
    path = error.filename
    quoted_path = repr(str(path)) if path is not None else "el archivo"
    folder = os.getcwd()
    return Diagnosis(
        kind=kinds.FILE_NOT_FOUND,
        title=f"No se encuentra el archivo {quoted_path}",
        cause=(
            f"Python ha buscado {quoted_path} y no existe. Una ruta sin carpeta "
            "delante, como 'informe.pdf', se busca en la carpeta actual, que "
            "en Jupyter es la carpeta del cuaderno. Ahora mismo es "
            f"{folder}."
        ),
        fix=(
            "Comprueba el nombre y la extensión del archivo (mayúsculas "
            "incluidas). Copia el archivo a esa carpeta, o escribe la ruta "
            "completa. Para ver qué hay en la carpeta: import os; "
            "print(os.listdir())."
        ),
        details=error_summary(error, context),
    )


def diagnose_name_error(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, NameError):
        return None
    name = getattr(error, "name", None)
    quoted_name = repr(name) if name else "ese nombre"
    summary = error_summary(error, context)
    return Diagnosis(
        kind=kinds.NAME_NOT_DEFINED,
        title=f"Python no conoce el nombre {quoted_name}",
        cause=(
            _LAST_LINE.format(summary=summary)
            + f" Un NameError significa que {quoted_name} no se ha definido en esta "
            "sesión: tiene una errata, o la celda que lo crea (o el import) "
            "no se ha ejecutado, por ejemplo después de reiniciar el kernel."
        ),
        fix=(
            "Revisa cómo está escrito, mayúsculas incluidas. Si viene de una "
            "celda anterior, ejecuta el cuaderno desde arriba (Run > Run All "
            "Above Selected Cell)."
        ),
        details=summary,
    )


def diagnose_header_value(error: BaseException, context: Context) -> Diagnosis | None:
    if not isinstance(error, ValueError):
        return None
    message = str(error)
    summary = error_summary(error, context)
    count = _HEADER_COUNT.search(message)
    if count is not None:
        header = count.group(2)
        return Diagnosis(
            kind=kinds.DUPLICATE_HEADER,
            title=f"La cabecera {header} ya estaba puesta",
            cause=(
                _LAST_LINE.format(summary=summary)
                + f" Un mensaje solo puede tener una cabecera {header}, y "
                f"mensaje['{header}'] = ... no sustituye la que ya hay: "
                "intenta añadir otra."
            ),
            fix=(
                f"Para cambiarla, bórrala antes con del mensaje['{header}'], "
                f"o usa mensaje.replace_header('{header}', nuevo_valor). Si la "
                "celda crea el mensaje, vuelve a ejecutar también la que hace "
                "EmailMessage()."
            ),
            details=summary,
        )
    if "linefeed or carriage return" in message:
        return Diagnosis(
            kind=kinds.HEADER_LINE_BREAK,
            title="Una cabecera lleva un salto de línea",
            cause=(
                _LAST_LINE.format(summary=summary)
                + " El valor de una cabecera (Subject, To, From...) tiene que "
                "ser una sola línea. EmailMessage rechaza el salto de línea "
                "(\\n o \\r) porque permitiría colar cabeceras nuevas, como un "
                "Bcc oculto."
            ),
            fix=(
                "Quita el salto de línea del valor, por ejemplo con "
                "texto.replace('\\n', ' ').strip(). Si el valor viene de un "
                "archivo o de input(), pasa antes .strip()."
            ),
            details=summary,
        )
    return None


def diagnose_attachment_arguments(
    error: BaseException, context: Context
) -> Diagnosis | None:
    if not isinstance(error, (TypeError, KeyError)):
        return None
    if "add_attachment" not in _email_functions(error):
        return None
    summary = error_summary(error, context)
    return Diagnosis(
        kind=kinds.ATTACHMENT_ARGUMENTS,
        title="add_attachment() no entiende los argumentos",
        cause=(
            _LAST_LINE.format(summary=summary)
            + " add_attachment() espera el contenido del archivo, no su "
            "nombre ni el archivo abierto. Con bytes necesita además maintype "
            "y subtype. Con texto (str) solo admite subtype."
        ),
        fix=(
            "Lee el archivo como bytes y di su tipo: "
            "mensaje.add_attachment(Path('informe.pdf').read_bytes(), "
            "maintype='application', subtype='pdf', filename='informe.pdf'). "
            "mimetypes.guess_type('informe.pdf') da el tipo de un nombre."
        ),
        details=summary,
    )


def diagnose_python_error(error: BaseException, context: Context) -> Diagnosis | None:
    """Explain an error of the cell's code, or return None for a connection error."""
    if is_network_error(error):
        return None
    summary = error_summary(error, context)
    return Diagnosis(
        kind=kinds.PYTHON_ERROR,
        title=f"Error de Python en la celda: {type(error).__name__}",
        cause=(
            _LAST_LINE.format(summary=summary)
            + " Este error no viene del servidor de correo: ha ocurrido en tu "
            "ordenador, en el código de Python."
        ),
        fix=(
            "Mira la línea de la flecha y revisa los nombres, valores y "
            "argumentos que usa. Busca el tipo de error en la documentación de "
            "Python si no lo conoces."
        ),
        details=summary,
    )


RULES = (
    diagnose_file_not_found,
    diagnose_name_error,
    diagnose_header_value,
    diagnose_attachment_arguments,
)
