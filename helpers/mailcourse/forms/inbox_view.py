"""A browsable inbox of the bundled server: a list, a refresh button, a detail view.

The list shows the newest message first, as :class:`~mailcourse.inbox.Inbox`
does. The Maildir is read again only when "Actualizar" is clicked (or
:meth:`InboxView.refresh` is called), never in the background.
"""

from __future__ import annotations

import html
import os

import ipywidgets as widgets

from ..inbox import Inbox, InboxMessage
from .feedback import format_bytes

NO_MESSAGES = "La bandeja está vacía: envía un mensaje y pulsa «Actualizar»."


def _inbox_of(source) -> Inbox:
    """Accept an :class:`Inbox`, a server with ``.inbox``, or a Maildir path."""
    if isinstance(source, Inbox):
        return source
    if hasattr(source, "inbox"):
        return source.inbox
    if isinstance(source, (str, os.PathLike)):
        return Inbox(source)
    raise TypeError(
        "InboxView necesita el servidor del curso (o su inbox, o la carpeta "
        f"Maildir), no un {type(source).__name__}."
    )


def message_label(number: int, message: InboxMessage) -> str:
    """Return one line of the list: position, subject and sender."""
    subject = message.subject or "(sin asunto)"
    return f"{number}. {subject} — {message.sender}"


def detail_html(message: InboxMessage) -> str:
    """Return headers, envelope, body and attachments of ``message`` as HTML."""
    rows = [
        ("De", message.sender),
        ("Para", message.to),
        ("Cc", message.cc),
        ("Asunto", message.subject),
        ("Fecha", message.date),
        ("Message-ID", message.message.get("Message-ID", "")),
        ("Entregado a (sobre)", ", ".join(message.envelope_recipients)),
    ]
    header_rows = "".join(
        f"<tr><th style='text-align:left; padding-right:1em'>{html.escape(label)}</th>"
        f"<td style='text-align:left'>{html.escape(str(value))}</td></tr>"
        for label, value in rows
        if value
    )
    attachments = message.attachments
    if attachments:
        items = "".join(
            f"<li>{html.escape(item.filename or '(sin nombre)')} — "
            f"{html.escape(item.content_type)}, {format_bytes(item.size)}</li>"
            for item in attachments
        )
        count = len(attachments)
        attachment_html = f"<p><b>Adjuntos ({count}):</b></p><ul>{items}</ul>"
    else:
        attachment_html = "<p><b>Adjuntos:</b> ninguno</p>"
    body = html.escape(message.text.rstrip("\n"))
    return (
        f"<div class='mailcourse-message'><table>{header_rows}</table>"
        f"<pre style='white-space: pre-wrap; border-top: 1px solid #ccc; "
        f"padding-top: 0.5em'>{body}</pre>{attachment_html}</div>"
    )


class InboxView(widgets.VBox):
    """The messages a course server stored, newest first, with a detail view.

    ``source`` is the server (``start_local_server()`` or the provider
    simulator), its ``inbox``, or the path of its Maildir.
    """

    def __init__(self, source) -> None:
        self.inbox = _inbox_of(source)
        self.refresh_button = widgets.Button(
            description="Actualizar", icon="refresh", layout={"width": "auto"}
        )
        self.summary = widgets.HTML()
        self.message_list = widgets.Select(
            options=[], rows=6, layout=widgets.Layout(width="40em")
        )
        self.detail = widgets.HTML()
        super().__init__(
            children=[
                widgets.HTML("<b>Bandeja de entrada del servidor del curso</b>"),
                widgets.HBox([self.refresh_button, self.summary]),
                self.message_list,
                self.detail,
            ]
        )
        self.add_class("mailcourse-inbox")
        self.messages: list[InboxMessage] = []
        self.refresh_button.on_click(lambda _button: self.refresh())
        self.message_list.observe(self._on_select, names="value")
        self.refresh()

    def refresh(self) -> None:
        """Read the Maildir again and select the newest message."""
        self.messages = self.inbox.messages()
        count = len(self.messages)
        self.summary.value = (
            f"{count} mensaje{'s' if count != 1 else ''}, el más nuevo primero"
        )
        self.message_list.options = [
            (message_label(number, message), number)
            for number, message in enumerate(self.messages)
        ]
        if self.messages:
            self.message_list.value = 0
            self._show(0)
        else:
            self.detail.value = f"<p>{html.escape(NO_MESSAGES)}</p>"

    def _on_select(self, change: dict) -> None:
        if change["new"] is not None:
            self._show(change["new"])

    def _show(self, number: int) -> None:
        self.detail.value = detail_html(self.messages[number])

    @property
    def selected(self) -> InboxMessage | None:
        """The message shown in the detail view, or None when the inbox is empty."""
        number = self.message_list.value
        return None if number is None else self.messages[number]

    def __repr__(self) -> str:
        return "Bandeja de entrada del servidor del curso (ejecuta la celda para verla)"
