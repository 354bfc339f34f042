"""The compose form: sender, recipients, subject, body and attachments.

The fields go through :func:`mailcourse.compose.build_message`, the same
checked builder the exercises use, so each address is validated, a line
break in a header is refused (header injection) and accents survive. The
form adds ``Date`` and ``Message-ID`` as mail programs do. Attachments come
from a ``FileUpload`` widget, and their size is shown against the SIZE limit
the server announced, when one is known.
"""

from __future__ import annotations

import logging
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import ipywidgets as widgets
from traitlets import Int

from ..compose import (
    COMPOSE_POLICY,
    AttachmentInput,
    MessageInputError,
    add_attachment,
    build_message,
    parse_addresses,
)
from .feedback import (
    Feedback,
    FormInputError,
    FormProblem,
    code_html,
    format_bytes,
    problems_feedback,
)

log = logging.getLogger(__name__)

FIELD_LABELS = {
    "From": "De",
    "To": "Para",
    "Cc": "Cc",
    "Bcc": "Bcc",
    "Subject": "Asunto",
    "filename": "Adjuntos",
}
# Message-ID needs a domain; this one is used when the sender's cannot be
# written in ASCII. make_msgid() without a domain would look up this
# machine's name, which can take seconds.
FALLBACK_MESSAGE_ID_DOMAIN = "curso.test"

_FIELD_LAYOUT = widgets.Layout(width="40em")
_FIELD_STYLE = {"description_width": "5em"}


def upload_to_attachments(value: tuple) -> list[AttachmentInput]:
    """Convert a ``FileUpload`` value (ipywidgets 8) into attachment inputs.

    Each item is a dict with ``name``, ``type``, ``size`` and ``content``
    (a ``memoryview``); an empty ``type`` lets the builder guess from the name.
    """
    return [
        AttachmentInput(
            filename=item["name"],
            data=bytes(item["content"]),
            content_type=item.get("type") or None,
        )
        for item in value
    ]


def message_size(message: EmailMessage) -> int:
    """Return the size in bytes of ``message`` as SMTP transmits it (CRLF lines)."""
    return len(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))


def size_limit_problem(size: int, limit: int | None) -> FormProblem | None:
    """Return a problem for the "Adjuntos" field when ``size`` exceeds ``limit``."""
    if limit is None or size <= limit:
        return None
    return FormProblem(
        "Adjuntos",
        f"el mensaje ocupa {format_bytes(size)} y el servidor solo admite "
        f"{format_bytes(limit)} (lo anuncia con SIZE). Los adjuntos viajan en "
        "base64, que ocupa un tercio más que el archivo. Quita algún adjunto "
        "o comprímelo, y vuelve a enviar.",
    )


def _message_id_domain(sender: str) -> str:
    domain = sender.rpartition("@")[2].strip(" >")
    if not domain:
        return FALLBACK_MESSAGE_ID_DOMAIN
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError:
        return FALLBACK_MESSAGE_ID_DOMAIN


class ComposeForm(widgets.VBox):
    """Fields of one message; ``message()`` builds it or raises :class:`FormInputError`.

    ``To``, ``Cc`` and ``Bcc`` take several comma-separated addresses.
    ``size_limit`` is the server's SIZE limit in bytes when known (the send
    form keeps it up to date), or None.
    """

    size_limit = Int(None, allow_none=True)

    def __init__(
        self,
        *,
        sender: str = "",
        to: str = "",
        subject: str = "",
        body: str = "",
    ) -> None:
        self._create_fields(sender, to, subject, body)
        self.size_info = widgets.HTML()
        self.checks = widgets.HTML()
        self.code_view = widgets.HTML()
        super().__init__(children=self._layout())
        self.add_class("mailcourse-compose")
        for field in self.inputs():
            field.observe(self._on_field_change, names="value")
        self.observe(self._on_field_change, names="size_limit")
        self.clear_attachments_button.on_click(lambda _button: self.clear_attachments())
        self._on_field_change()

    def _create_fields(self, sender: str, to: str, subject: str, body: str) -> None:
        common = {"style": _FIELD_STYLE, "layout": _FIELD_LAYOUT}
        self.sender = widgets.Text(
            value=sender,
            description="De",
            placeholder="Ana Pérez <ana@ejemplo.test>",
            continuous_update=False,
            **common,
        )
        self.to = self._address_field("Para", to, common)
        self.cc = self._address_field("Cc", "", common)
        self.bcc = self._address_field("Bcc", "", common)
        self.subject = widgets.Text(
            value=subject,
            description="Asunto",
            continuous_update=False,
            **common,
        )
        self.body = widgets.Textarea(
            value=body,
            description="Texto",
            rows=6,
            continuous_update=False,
            **common,
        )
        self.attachments = widgets.FileUpload(
            description="Adjuntar", multiple=True, layout={"width": "auto"}
        )
        self.clear_attachments_button = widgets.Button(
            description="Quitar adjuntos", icon="times", layout={"width": "auto"}
        )

    def _layout(self) -> list[widgets.Widget]:
        code_panel = widgets.Accordion(children=[self.code_view])
        code_panel.set_title(0, "Código que construye el mensaje")
        return [
            widgets.HTML("<b>2. El mensaje</b>"),
            self.sender,
            self.to,
            self.cc,
            self.bcc,
            self.subject,
            self.body,
            widgets.HBox([self.attachments, self.clear_attachments_button]),
            self.size_info,
            self.checks,
            code_panel,
        ]

    @staticmethod
    def _address_field(label: str, value: str, common: dict) -> widgets.Text:
        return widgets.Text(
            value=value,
            description=label,
            placeholder="una o varias direcciones, separadas por comas",
            continuous_update=False,
            **common,
        )

    def inputs(self) -> list[widgets.ValueWidget]:
        """Return the widgets whose values make up the message."""
        return [
            self.sender,
            self.to,
            self.cc,
            self.bcc,
            self.subject,
            self.body,
            self.attachments,
        ]

    def clear_attachments(self) -> None:
        """Remove every uploaded file."""
        self.attachments.value = ()

    def attachment_inputs(self) -> list[AttachmentInput]:
        return upload_to_attachments(self.attachments.value)

    # Checks ------------------------------------------------------------------

    def _on_field_change(self, change: dict | None = None) -> None:
        problems = self.problems()
        if problems:
            self.checks.value = problems_feedback(
                "Antes de enviar, corrige esto:", problems
            ).html()
        else:
            self.checks.value = ""
        self.size_info.value = self._size_feedback().html()
        self.code_view.value = code_html(self.code())

    def _address_problems(self) -> list[FormProblem]:
        has_copies = bool(self.cc.value.strip() or self.bcc.value.strip())
        fields = [
            ("From", self.sender, True),
            ("To", self.to, not has_copies),
            ("Cc", self.cc, False),
            ("Bcc", self.bcc, False),
        ]
        problems = []
        for field, widget, required in fields:
            try:
                parse_addresses(field, widget.value, required=required)
            except MessageInputError as error:
                problems.append(FormProblem(FIELD_LABELS[field], str(error)))
        return problems

    def problems(self) -> list[FormProblem]:
        """Return every problem in the fields, without sending anything."""
        problems = self._address_problems()
        subject = self.subject.value
        if "\r" in subject or "\n" in subject:
            problems.append(
                FormProblem(
                    "Asunto",
                    "contiene un salto de línea. Un salto de línea en una "
                    "cabecera permitiría inyectar cabeceras nuevas, así que no "
                    "se admite: escribe el asunto en una sola línea.",
                )
            )
        if not problems:
            try:
                self._build()
            except MessageInputError as error:
                label = FIELD_LABELS.get(error.field, error.field)
                problems.append(FormProblem(label, str(error)))
        return problems

    def _build(self) -> EmailMessage:
        return build_message(
            sender=self.sender.value,
            to=self.to.value,
            cc=self.cc.value,
            bcc=self.bcc.value,
            subject=self.subject.value,
            body=self.body.value,
            attachments=self.attachment_inputs(),
        )

    def message(self) -> EmailMessage:
        """Build the message with ``Date`` and ``Message-ID``.

        Raises :class:`FormInputError` naming each invalid field. The size
        is not checked here, because the limit belongs to the server the
        message goes to: see :func:`size_limit_problem`.
        """
        problems = self.problems()
        if problems:
            raise FormInputError(problems)
        message = self._build()
        message["Date"] = formatdate(localtime=True)
        message["Message-ID"] = make_msgid(domain=_message_id_domain(self.sender.value))
        return message

    # Size --------------------------------------------------------------------

    def _content_size(self) -> int:
        # Body and attachments as they will travel; headers add a few hundred
        # bytes, so this estimate stays just below the final size.
        probe = EmailMessage(policy=COMPOSE_POLICY)
        probe.set_content(self.body.value)
        for attachment in self.attachment_inputs():
            try:
                add_attachment(probe, attachment)
            except MessageInputError:
                continue
        return message_size(probe)

    def _size_feedback(self) -> Feedback:
        files = self.attachments.value
        file_bytes = sum(len(item["content"]) for item in files)
        names = ", ".join(item["name"] for item in files)
        lines = []
        if files:
            lines.append(f"Archivos: {names} ({format_bytes(file_bytes)}).")
        size = self._content_size()
        if self.size_limit is None:
            lines.append(
                f"El mensaje ocupará unos {format_bytes(size)}. El límite del "
                "servidor se consulta al enviar (o con «Probar conexión»)."
            )
            level = "info"
        else:
            lines.append(
                f"El mensaje ocupará unos {format_bytes(size)} de los "
                f"{format_bytes(self.size_limit)} que admite el servidor."
            )
            level = "error" if size > self.size_limit else "ok"
        title = f"Adjuntos: {len(files)}"
        return Feedback(level, title, tuple(lines))

    @property
    def size_text(self) -> str:
        """The size line under the attachments, as plain text."""
        return self._size_feedback().text()

    # Code --------------------------------------------------------------------

    def code(self) -> str:
        """Return the Python code that builds the message from these fields."""
        lines = [
            "from email.utils import formatdate, make_msgid",
            "from mailcourse.compose import AttachmentInput, build_message",
            "",
        ]
        attachments = self.attachment_inputs()
        for number, attachment in enumerate(attachments, 1):
            lines.append(
                f"# datos_{number}: los {len(attachment.data)} bytes de "
                f"{attachment.filename}"
            )
        lines += [
            "mensaje = build_message(",
            f"    sender={self.sender.value!r},",
            f"    to={self.to.value!r},",
        ]
        for name, field in (("cc", self.cc), ("bcc", self.bcc)):
            if field.value:
                lines.append(f"    {name}={field.value!r},")
        lines += [
            f"    subject={self.subject.value!r},",
            f"    body={self.body.value!r},",
        ]
        if attachments:
            lines.append("    attachments=[")
            for number, attachment in enumerate(attachments, 1):
                lines.append(
                    f"        AttachmentInput({attachment.filename!r}, "
                    f"datos_{number}, {attachment.content_type!r}),"
                )
            lines.append("    ],")
        domain = _message_id_domain(self.sender.value)
        lines += [
            ")",
            'mensaje["Date"] = formatdate(localtime=True)',
            f'mensaje["Message-ID"] = make_msgid(domain={domain!r})',
        ]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return "Formulario del mensaje (ejecuta la celda para usarlo)"
