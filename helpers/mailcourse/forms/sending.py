"""The send form: one button that sends what the other two forms describe.

A click checks both forms, requests the server's SIZE limit once per
server, builds the message and calls :func:`mailcourse.client.send`, the
function the notebooks teach. No other code path sends anything. The button is
disabled while sending and stays disabled after a successful send until a
field changes, so a double click (or a click queued behind a slow send)
never sends the same message twice. Everything the click produces lands in
the form: the result or a Spanish diagnosis in ``status``, the redacted SMTP
dialogue in a collapsed panel, and anything printed or raised in ``output``.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage

import ipywidgets as widgets
from traitlets import dlink

from ..client import SendResult, send
from ..diagnosis import Diagnosis, diagnose
from ..settings import ConnectionSettings
from .compose import ComposeForm, message_size, size_limit_problem
from .connection import CONNECTION_ERRORS, ConnectionForm
from .feedback import (
    EMPTY,
    Feedback,
    FormInputError,
    code_html,
    diagnosis_feedback,
    problems_feedback,
)

log = logging.getLogger(__name__)

SEND_LABEL = "Enviar"
SENDING_LABEL = "Enviando…"
SENT_LABEL = "Enviado"
NOT_SENT_CONNECTION = "No se ha enviado nada. Revisa la conexión:"
NOT_SENT_MESSAGE = "No se ha enviado nada. Revisa el mensaje:"
NO_TRANSCRIPT = "Todavía no hay diálogo: aparece aquí después de pulsar «Enviar»."


class SendForm(widgets.VBox):
    """The "Enviar" button of a :class:`ConnectionForm` and a :class:`ComposeForm`.

    After each click, ``last_result`` is the :class:`~mailcourse.client.SendResult`
    of a successful send (or None), ``last_diagnosis`` the
    :class:`~mailcourse.diagnosis.Diagnosis` of a failed one (or None), and
    ``status_text`` the message shown, as plain text.
    """

    def __init__(self, connection: ConnectionForm, compose: ComposeForm) -> None:
        self.connection = connection
        self.compose = compose
        self.send_button = widgets.Button(
            description=SEND_LABEL,
            button_style="primary",
            icon="paper-plane",
            layout={"width": "auto"},
        )
        self.status = widgets.HTML()
        self.transcript_view = widgets.HTML(value=code_html(NO_TRANSCRIPT))
        self.code_view = widgets.HTML()
        self.output = widgets.Output()
        super().__init__(children=self._layout())
        self.add_class("mailcourse-send")
        self.feedback = EMPTY
        self.last_result: SendResult | None = None
        self.last_diagnosis: Diagnosis | None = None
        self.transcript = ""
        self.sent_count = 0
        self._busy = False
        dlink((connection, "size_limit"), (compose, "size_limit"))
        for field in connection.inputs() + compose.inputs():
            field.observe(self._on_form_change, names="value")
        self.send_button.on_click(self._on_send_click)
        self.code_view.value = code_html(self.code())

    def _layout(self) -> list[widgets.Widget]:
        transcript_panel = widgets.Accordion(children=[self.transcript_view])
        transcript_panel.set_title(0, "Diálogo SMTP del último envío (sin contraseñas)")
        code_panel = widgets.Accordion(children=[self.code_view])
        code_panel.set_title(0, "Código que ejecuta «Enviar»")
        return [
            widgets.HTML("<b>3. Enviar</b>"),
            widgets.HBox([self.send_button]),
            self.status,
            transcript_panel,
            code_panel,
            self.output,
        ]

    def _on_form_change(self, _change: dict) -> None:
        self.code_view.value = code_html(self.code())
        if not self._busy and self.send_button.disabled:
            self.send_button.disabled = False
            self.send_button.description = SEND_LABEL

    def _on_send_click(self, _button: widgets.Button) -> None:
        if self._busy or self.send_button.disabled:
            # A click the browser sent before the button showed as disabled.
            log.info("ignored a click on a disabled send button")
            return
        with self.output:
            self.send()

    def send(self) -> SendResult | None:
        """Check, build and send the message; return the result, or None if not sent.

        Invalid fields, and the ``smtplib``, socket and TLS errors of
        connecting, logging in and sending, are shown in ``status`` rather
        than raised. Any other exception propagates.
        """
        self._busy = True
        self.send_button.disabled = True
        self.send_button.description = SENDING_LABEL
        sent = False
        try:
            sent = self._send_once()
        finally:
            self._busy = False
            self.send_button.description = SENT_LABEL if sent else SEND_LABEL
            self.send_button.disabled = sent
        return self.last_result

    def _send_once(self) -> bool:
        self.last_result = None
        self.last_diagnosis = None
        self._set_transcript("")
        try:
            settings = self.connection.settings()
        except FormInputError as error:
            return self._refuse(NOT_SENT_CONNECTION, error)
        try:
            message = self._checked_message(settings)
        except FormInputError as error:
            return self._refuse(NOT_SENT_MESSAGE, error)
        except CONNECTION_ERRORS as error:
            return self._fail(error, settings)
        return self._deliver(settings, message)

    def _checked_message(self, settings: ConnectionSettings) -> EmailMessage:
        """Build the message once its fields and its size against SIZE are valid.

        The fields are checked before connecting, so invalid input reaches no
        server. Raises :class:`FormInputError`, or what
        :func:`~mailcourse.forms.connection.probe_server` raises.
        """
        problems = self.compose.problems()
        if problems:
            raise FormInputError(problems)
        limit = self.connection.server_size_limit(settings)
        self.compose.size_limit = limit
        message = self.compose.message()
        too_large = size_limit_problem(message_size(message), limit)
        if too_large:
            raise FormInputError([too_large])
        return message

    def _deliver(self, settings: ConnectionSettings, message: EmailMessage) -> bool:
        try:
            result = send(settings, message)
        except CONNECTION_ERRORS as error:
            self._set_transcript(getattr(error, "transcript", ""))
            return self._fail(error, settings)
        self.last_result = result
        self.sent_count += 1
        self._set_transcript(result.transcript)
        self._show(self._success_feedback(result, settings))
        return True

    def _refuse(self, title: str, error: FormInputError) -> bool:
        fields = ", ".join(problem.field for problem in error.problems)
        log.info("send blocked before connecting; fields: %s", fields)
        self._show(problems_feedback(title, error.problems))
        return False

    def _fail(self, error: BaseException, settings: ConnectionSettings) -> bool:
        log.info("send to %s failed: %s", settings.address, type(error).__name__)
        self.last_diagnosis = diagnose(error, settings=settings)
        self._show(diagnosis_feedback(self.last_diagnosis))
        return False

    def _success_feedback(
        self, result: SendResult, settings: ConnectionSettings
    ) -> Feedback:
        lines = [f"Aceptado para: {', '.join(result.accepted)}."]
        level = "ok"
        if result.refused:
            level = "warning"
            for address, (code, reply) in result.refused.items():
                reply_text = reply.decode("utf-8", "replace")
                lines.append(f"Rechazado para {address}: {code} {reply_text}")
            refused = diagnose(result.refused, settings=settings)
            lines.append(f"Qué ha pasado: {refused.cause}")
            lines.append(f"Cómo arreglarlo: {refused.fix}")
        if self.compose.bcc.value.strip():
            lines.append(
                "Las direcciones de «Bcc» reciben el mensaje, pero la cabecera "
                "Bcc no viaja: nadie ve quién más lo recibió."
            )
        lines.append(
            "Para enviar otro, cambia cualquier campo: el botón espera a que "
            "algo cambie, así un doble clic nunca envía dos veces."
        )
        title = f"Mensaje enviado a través de {settings.address}"
        return Feedback(level, title, tuple(lines))

    def _set_transcript(self, transcript: str) -> None:
        self.transcript = transcript
        self.transcript_view.value = code_html(transcript or NO_TRANSCRIPT)

    def _show(self, feedback: Feedback) -> None:
        self.feedback = feedback
        self.status.value = feedback.html()

    @property
    def status_text(self) -> str:
        """The message under the button, as plain text."""
        return self.feedback.text()

    def code(self) -> str:
        """Return the Python code the button runs with the current fields."""
        connection = self.connection
        user = connection.user.value.strip()
        password = "contraseña" if user else "None"
        return "\n".join(
            [
                "from mailcourse.client import send",
                "from mailcourse.settings import ConnectionSettings",
                "",
                "ajustes = ConnectionSettings(",
                f"    {connection.host.value.strip()!r},",
                f"    port={connection.port.value},",
                f"    security={connection.security.value!r},",
                f"    user={user or None!r},",
                f"    password={password},",
                f"    timeout={connection.timeout.value:g},",
                ")",
                "# mensaje: el que construye el formulario del mensaje",
                "resultado = send(ajustes, mensaje)",
                "resultado.accepted, resultado.refused",
            ]
        )

    def __repr__(self) -> str:
        return "Formulario de envío (ejecuta la celda para usarlo)"
