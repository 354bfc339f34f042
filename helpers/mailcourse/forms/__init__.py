"""ipywidgets forms over the course helpers: connect, compose, send, read.

The forms are a thin layer over :mod:`mailcourse.client`,
:mod:`mailcourse.compose`, :mod:`mailcourse.settings`,
:mod:`mailcourse.presets` and :mod:`mailcourse.diagnosis`, so each field
turns into the arguments of a function the lessons teach, and each form can
show that code. Typical use in a notebook::

    conexion = ConnectionForm(local_server=servidor)
    mensaje = ComposeForm()
    envio = SendForm(conexion, mensaje)
    bandeja = InboxView(servidor)
"""

from .compose import ComposeForm
from .connection import ConnectionForm
from .feedback import Feedback, FormInputError, FormProblem
from .inbox_view import InboxView
from .password import PasswordField
from .sending import SendForm

__all__ = [
    "ComposeForm",
    "ConnectionForm",
    "Feedback",
    "FormInputError",
    "FormProblem",
    "InboxView",
    "PasswordField",
    "SendForm",
]
