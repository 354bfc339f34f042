"""An in-memory loopback network for the course's SMTP servers, for Pyodide.

JupyterLite runs Python in the browser (Pyodide), with no TCP sockets and no
threads. There, the bundled servers register on this in-memory network instead
of binding a port, and ``smtplib`` connections to ``127.0.0.1`` reach them:
aiosmtpd's own ``SMTP`` protocol answers with the same handler and settings,
driven by a private event loop that runs whenever the client sends or waits.
On CPython the socket transport stays the default; set
``MAILCOURSE_TRANSPORT=memory`` to use this one (the tests compare the two).
"""

from __future__ import annotations

from ..controller import LoopbackController
from ._asyncio_internals import TESTED_PYTHON_VERSIONS, LoopbackUnsupportedError
from .connection import LoopbackSocket
from .memory_controller import MemoryController
from .network import (
    NETWORK,
    TRANSPORT_VARIABLE,
    in_memory_by_default,
    smtplib_view_installed,
)

__all__ = [
    "LoopbackSocket",
    "LoopbackUnsupportedError",
    "MemoryController",
    "NETWORK",
    "TESTED_PYTHON_VERSIONS",
    "TRANSPORT_VARIABLE",
    "controller_class",
    "in_memory_by_default",
    "smtplib_view_installed",
]


def controller_class() -> type[LoopbackController] | type[MemoryController]:
    """Return the controller class servers should start with on this platform.

    :class:`MemoryController` under Pyodide or with ``MAILCOURSE_TRANSPORT=memory``,
    otherwise the socket controller. Both take the same arguments, including
    ``from_smtp_kwargs()``.
    """
    if in_memory_by_default():
        return MemoryController
    return LoopbackController
