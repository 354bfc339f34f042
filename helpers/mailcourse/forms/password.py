"""A password box whose typed value never stays in widget state.

ipywidgets keeps a widget's ``value`` in its model. JupyterLab writes every
model's state into the notebook file when "Save widget state" is on, and
nbclient does so whenever it executes a notebook. This box moves each typed
password into a private attribute as soon as it reaches Python and empties
the synced ``value``, so saved state, ``repr()`` and messages see only ``""``.
"""

from __future__ import annotations

import ipywidgets as widgets
from traitlets import Unicode

PLACEHOLDER_EMPTY = "no se guarda en el cuaderno"
PLACEHOLDER_STORED = "●●●●●● guardada en memoria (escribe otra para cambiarla)"


class _UnechoedPassword(widgets.Password):
    # ipywidgets 8 echoes each value a browser sends back to every view
    # ("echo_update"), which would send the password back over the wire.
    value = Unicode("", help="Always empty once the kernel has read it").tag(
        sync=True, echo_update=False
    )


class PasswordField(widgets.HBox):
    """A ``Password`` input plus a button to forget the stored password.

    The input syncs on Enter or when it loses focus (``continuous_update``
    is off), so only whole passwords reach Python. ``secret`` is the last
    one, and ``has_secret`` is true when there is one.
    """

    def __init__(self, description: str = "Contraseña", **layout: object) -> None:
        self.input = _UnechoedPassword(
            description=description,
            placeholder=PLACEHOLDER_EMPTY,
            continuous_update=False,
            **layout,
        )
        self.forget_button = widgets.Button(
            description="Olvidar",
            tooltip="Borra la contraseña guardada en memoria",
            layout=widgets.Layout(width="auto"),
        )
        super().__init__(children=[self.input, self.forget_button])
        self._secret = ""
        self.input.observe(self._take_secret, names="value")
        self.forget_button.on_click(lambda _button: self.forget())

    def _take_secret(self, change: dict) -> None:
        if change["new"]:
            self.set_secret(change["new"])

    def set_secret(self, secret: str) -> None:
        """Store ``secret`` in memory and leave the synced value empty."""
        self._secret = secret
        self.input.value = ""
        self.input.placeholder = PLACEHOLDER_STORED if secret else PLACEHOLDER_EMPTY

    def forget(self) -> None:
        """Drop the stored password."""
        self.set_secret("")

    @property
    def secret(self) -> str:
        """The stored password, or ``""``."""
        return self._secret

    @property
    def has_secret(self) -> bool:
        return bool(self._secret)

    def __repr__(self) -> str:
        state = "guardada" if self.has_secret else "vacía"
        return f"<Campo de contraseña ({state})>"
