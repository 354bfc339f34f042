"""Read the messages the bundled server stored, as a student wants to see them.

Files are parsed from bytes with ``email.policy.default``, so encoded headers
(RFC 2047), accents and non-ASCII addresses come back as text. Each message
and the inbox itself render as HTML in Jupyter and as plain text elsewhere.
"""

from __future__ import annotations

import html
import os
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default as default_policy
from email.utils import collapse_rfc2231_value
from pathlib import Path

_parser = BytesParser(policy=default_policy)


def _undo_surrogates(text: str) -> str:
    # Address objects parsed from raw UTF-8 (SMTPUTF8) keep the bytes as
    # surrogate escapes on CPython 3.11, although str(header) decodes them.
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _attachment_filename(part: EmailMessage) -> str | None:
    # Message.get_filename() strips leading and trailing spaces, which are part
    # of the name the sender chose; read the parameter itself instead.
    raw = part.get_param("filename", header="content-disposition")
    if raw is None:
        raw = part.get_param("name", header="content-type")
    if raw is None:
        return None
    return collapse_rfc2231_value(raw)


@dataclass(frozen=True)
class Attachment:
    """One attached file: its name, MIME type and decoded size in bytes."""

    filename: str | None
    content_type: str
    size: int
    data: bytes = field(repr=False)

    def describe(self) -> str:
        name = self.filename or "(sin nombre)"
        return f"{name} ({self.content_type}, {format_size(self.size)})"


def format_size(size: int) -> str:
    """Format a byte count the way a Spanish reader expects (``1,5 KB``)."""
    if size < 1024:
        return f"{size} bytes"
    kilobytes = f"{size / 1024:.1f}".replace(".", ",")
    return f"{kilobytes} KB"


def message_count(count: int) -> str:
    """Format a number of messages in Spanish, singular for one (``1 mensaje``)."""
    return f"{count} mensaje" if count == 1 else f"{count} mensajes"


@dataclass(frozen=True)
class InboxMessage:
    """A stored message with its headers decoded, its text body and attachments."""

    key: str
    message: EmailMessage = field(repr=False)

    @classmethod
    def from_bytes(cls, key: str, raw: bytes) -> "InboxMessage":
        return cls(key=key, message=_parser.parsebytes(raw))

    def _header(self, name: str) -> str:
        value = self.message.get(name)
        return "" if value is None else str(value)

    def addresses(self, name: str) -> list[tuple[str, str]]:
        """Return the (display name, address) pairs of an address header."""
        header = self.message.get(name)
        if header is None:
            return []
        return [
            (_undo_surrogates(item.display_name), _undo_surrogates(item.addr_spec))
            for item in header.addresses
        ]

    @property
    def sender(self) -> str:
        return self._header("From")

    @property
    def to(self) -> str:
        return self._header("To")

    @property
    def cc(self) -> str:
        return self._header("Cc")

    @property
    def bcc(self) -> str:
        """The Bcc header as stored; ``send_message`` never transmits it."""
        return self._header("Bcc")

    @property
    def subject(self) -> str:
        return self._header("Subject")

    @property
    def date(self) -> str:
        return self._header("Date")

    @property
    def envelope_sender(self) -> str:
        return self._header("Return-Path").strip("<>")

    @property
    def envelope_recipients(self) -> list[str]:
        """The RCPT TO addresses, including Bcc ones that no header shows."""
        return [str(value) for value in self.message.get_all("Delivered-To", [])]

    @property
    def text(self) -> str:
        """The plain-text body (or the HTML one when there is no plain text)."""
        body = self.message.get_body(preferencelist=("plain", "html"))
        if body is None:
            return ""
        return body.get_content()

    @property
    def attachments(self) -> list[Attachment]:
        found = []
        for part in self.message.iter_attachments():
            data = part.get_payload(decode=True) or b""
            found.append(
                Attachment(
                    filename=_attachment_filename(part),
                    content_type=part.get_content_type(),
                    size=len(data),
                    data=data,
                )
            )
        return found

    def _rows(self) -> list[tuple[str, str]]:
        rows = [("De", self.sender), ("Para", self.to)]
        if self.cc:
            rows.append(("Cc", self.cc))
        rows += [("Asunto", self.subject), ("Fecha", self.date)]
        rows.append(("Entregado a", ", ".join(self.envelope_recipients)))
        return rows

    def to_text(self) -> str:
        """Render headers, body and attachments as plain text."""
        lines = [f"{label}: {value}" for label, value in self._rows()]
        lines += ["", self.text.rstrip("\n"), ""]
        attachments = self.attachments
        if attachments:
            lines.append(f"Adjuntos ({len(attachments)}):")
            lines += [f"  - {item.describe()}" for item in attachments]
        else:
            lines.append("Adjuntos: ninguno")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        header_rows = "".join(
            f"<tr><th style='text-align:left'>{html.escape(label)}</th>"
            f"<td style='text-align:left'>{html.escape(value)}</td></tr>"
            for label, value in self._rows()
        )
        attachments = self.attachments
        if attachments:
            items = "".join(
                f"<li>{html.escape(item.describe())}</li>" for item in attachments
            )
            attachment_html = f"<p><b>Adjuntos ({len(attachments)}):</b></p><ul>{items}</ul>"
        else:
            attachment_html = "<p><b>Adjuntos:</b> ninguno</p>"
        body = html.escape(self.text.rstrip("\n"))
        return (
            f"<div class='mailcourse-message'><table>{header_rows}</table>"
            f"<pre style='white-space:pre-wrap'>{body}</pre>{attachment_html}</div>"
        )

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.to_text())

    def __str__(self) -> str:
        return self.to_text()


class Inbox:
    """The messages in a Maildir folder, newest first.

    ``inbox[0]`` is the newest message; ``len(inbox)`` counts them. The folder
    is read again on every access, so the view is always current.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    def _keys_newest_first(self) -> list[tuple[str, Path]]:
        entries = []
        for folder in ("new", "cur"):
            directory = self.path / folder
            if not directory.is_dir():
                continue
            for entry in os.scandir(directory):
                entries.append((entry.name.split(":")[0], Path(entry.path)))
        # Keys start with a nanosecond timestamp, so the name order is the
        # arrival order.
        entries.sort(key=lambda item: item[0], reverse=True)
        return entries

    def messages(self) -> list[InboxMessage]:
        """Return every stored message, newest first."""
        return [
            InboxMessage.from_bytes(key, path.read_bytes())
            for key, path in self._keys_newest_first()
        ]

    def latest(self) -> InboxMessage:
        """Return the newest message; raise ``LookupError`` if there is none."""
        keys = self._keys_newest_first()
        if not keys:
            raise LookupError(
                f"La bandeja {str(self.path)!r} está vacía: todavía no ha llegado "
                "ningún mensaje. Envía uno y vuelve a mirar."
            )
        key, path = keys[0]
        return InboxMessage.from_bytes(key, path.read_bytes())

    def __len__(self) -> int:
        return len(self._keys_newest_first())

    def __getitem__(self, index: int) -> InboxMessage:
        return self.messages()[index]

    def __iter__(self):
        return iter(self.messages())

    def to_text(self) -> str:
        messages = self.messages()
        if not messages:
            return "Bandeja de entrada: vacía"
        count = message_count(len(messages))
        lines = [f"Bandeja de entrada: {count}, el más nuevo primero"]
        for number, message in enumerate(messages):
            attachments = len(message.attachments)
            lines.append(
                f"  [{number}] De: {message.sender} | Asunto: {message.subject} "
                f"| Adjuntos: {attachments}"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        messages = self.messages()
        if not messages:
            return "<p><b>Bandeja de entrada:</b> vacía</p>"
        rows = "".join(
            "<tr>"
            f"<td>{number}</td><td>{html.escape(message.sender)}</td>"
            f"<td>{html.escape(message.to)}</td>"
            f"<td>{html.escape(message.subject)}</td>"
            f"<td>{len(message.attachments)}</td>"
            "</tr>"
            for number, message in enumerate(messages)
        )
        return (
            f"<p><b>Bandeja de entrada:</b> {message_count(len(messages))}, "
            "el más nuevo primero</p><table><tr><th>#</th><th>De</th><th>Para</th>"
            f"<th>Asunto</th><th>Adjuntos</th></tr>{rows}</table>"
        )

    def _repr_pretty_(self, printer, cycle: bool) -> None:
        printer.text(self.to_text())

    def __repr__(self) -> str:
        return f"<Inbox {str(self.path)!r}>"
