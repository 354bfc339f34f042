"""Build an ``EmailMessage`` from plain field values, checking each one.

The forms and the exercise checks build messages here, with the same
``email`` calls the lessons teach. Each header keeps its readable form when
it survives a round trip through the wire format. A value that would not
(leading or trailing spaces, for instance, which parsers strip) is written as
an RFC 2047 encoded word instead. So what the student typed is what the
recipient reads.

Two normalisations are inherent to the format and applied on purpose: bodies
follow the rule of the ``email`` package (line breaks become ``\\n`` and the
text ends with one), and a display name has its runs of white space folded to
one space and its ends stripped, because the address parser of ``email``
(CPython 3.11) folds them on reading anyway, even inside an encoded word.
"""

from __future__ import annotations

import base64
import mimetypes
from dataclasses import dataclass
from email.charset import BASE64, Charset
from email.header import Header
from email.headerregistry import Address
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import SMTP, SMTPUTF8, default as default_policy
from email.utils import getaddresses
from pathlib import PurePath
from typing import Iterable

FIELD_NAMES = {
    "From": "De",
    "To": "Para",
    "Cc": "Cc",
    "Bcc": "Bcc",
    "Subject": "Asunto",
}
_parser = BytesParser(policy=default_policy)
# Raw header lines (encoded display names) are written as built, never
# refolded: refolding would re-encode them the way that loses characters.
COMPOSE_POLICY = default_policy.clone(refold_source="none")
# Keeps an encoded display name (4 bytes a character, base64) well inside the
# 998-byte line limit of RFC 5322.
MAX_DISPLAY_NAME_LENGTH = 150


class MessageInputError(ValueError):
    """Raised when a field value cannot go into a message; the text is Spanish."""

    def __init__(self, field: str, value: str, explanation: str) -> None:
        self.field = field
        self.value = value
        super().__init__(explanation)


@dataclass(frozen=True)
class AttachmentInput:
    """A file to attach: its name, its bytes and, optionally, its MIME type."""

    filename: str
    data: bytes
    content_type: str | None = None


def guess_content_type(filename: str) -> tuple[str, str]:
    """Return (maintype, subtype) for a file name, ``application/octet-stream``
    when ``mimetypes`` does not know the extension or the file is compressed."""
    content_type, encoding = mimetypes.guess_type(filename)
    if content_type is None or encoding is not None:
        return "application", "octet-stream"
    maintype, subtype = content_type.split("/", 1)
    return maintype, subtype


def _reject_line_breaks(field: str, value: str) -> None:
    if "\r" in value or "\n" in value:
        raise MessageInputError(
            field,
            value,
            f"El campo «{FIELD_NAMES.get(field, field)}» contiene un salto de "
            "línea. Un salto de línea en una cabecera permitiría inyectar "
            "cabeceras nuevas, así que no se admite: escribe el valor en una "
            "sola línea.",
        )


@dataclass(frozen=True)
class ParsedAddress:
    """One address of a field: the display name (may be empty) and addr-spec."""

    display_name: str
    addr_spec: str

    def readable(self) -> str:
        """Return the address as a person writes it, ``Name <addr>``."""
        if not self.display_name:
            return self.addr_spec
        try:
            return str(Address(display_name=self.display_name, addr_spec=self.addr_spec))
        except (ValueError, IndexError):
            # Address() rejects a non-ASCII local part, which SMTPUTF8 allows.
            escaped = self.display_name.replace("\\", "\\\\").replace('"', '\\"')
            return f'"{escaped}" <{self.addr_spec}>'

    def encoded(self) -> str:
        """Return the address with its display name as one RFC 2047 encoded word.

        One word, even past the 75 characters RFC 2047 recommends: the address
        parser of ``email`` (CPython 3.11) inserts a space between adjacent
        encoded words in a display name.
        """
        if not self.display_name:
            return self.addr_spec
        payload = base64.b64encode(self.display_name.encode("utf-8")).decode("ascii")
        return f"=?utf-8?b?{payload}?= <{self.addr_spec}>"


def normalize_display_name(name: str) -> str:
    """Fold runs of white space to one space and strip the ends, as readers do."""
    return " ".join(name.split())


FORBIDDEN_ADDRESS_CHARACTERS = set('<>(),;:"[]\\')


def _check_address(field: str, name: str, address: str) -> ParsedAddress:
    label = FIELD_NAMES.get(field, field)
    local_part, at, domain = address.rpartition("@")
    if not at or not local_part or not domain or "." not in domain.strip("."):
        raise MessageInputError(
            field,
            address,
            f"La dirección {address!r} del campo «{label}» no es válida: "
            "debe tener la forma nombre@dominio.ext, por ejemplo "
            "ana@ejemplo.test.",
        )
    if any(
        character.isspace() or character in FORBIDDEN_ADDRESS_CHARACTERS
        for character in address
    ):
        raise MessageInputError(
            field,
            address,
            f"La dirección {address!r} del campo «{label}» contiene espacios o "
            "signos que no pueden ir en una dirección. Quítalos, y separa varias "
            "direcciones con comas.",
        )
    display_name = normalize_display_name(name)
    if len(display_name) > MAX_DISPLAY_NAME_LENGTH:
        raise MessageInputError(
            field,
            name,
            f"El nombre {display_name[:30]!r}... del campo «{label}» es demasiado "
            f"largo ({len(display_name)} caracteres). Acórtalo a "
            f"{MAX_DISPLAY_NAME_LENGTH} como máximo.",
        )
    return ParsedAddress(display_name=display_name, addr_spec=address)


def parse_addresses(
    field: str, text: str, *, required: bool = False
) -> list[ParsedAddress]:
    """Split a comma-separated field into checked addresses.

    Raises :class:`MessageInputError` naming the field and the bad address.
    """
    _reject_line_breaks(field, text)
    label = FIELD_NAMES.get(field, field)
    if not text.strip():
        if required:
            raise MessageInputError(
                field,
                text,
                f"El campo «{label}» está vacío. Escribe al menos una dirección, "
                "por ejemplo ana@ejemplo.test.",
            )
        return []
    pieces = [piece for piece in getaddresses([text]) if any(piece)]
    if not pieces:
        raise MessageInputError(
            field,
            text,
            f"No se encontró ninguna dirección en el campo «{label}»: "
            f"{text!r}. Escribe direcciones separadas por comas.",
        )
    return [_check_address(field, name, address) for name, address in pieces]


def _reparse_both_ways(message: EmailMessage) -> list[EmailMessage]:
    # smtplib.send_message serialises with the SMTPUTF8 policy when an address
    # needs it, and with the message's own (ASCII, encoded-word) policy
    # otherwise; a header must survive both.
    return [
        _parser.parsebytes(message.as_bytes(policy=policy))
        for policy in (SMTPUTF8, SMTP)
    ]


def _encoded_word(text: str, header_name: str) -> str:
    # Base64 ("b") words keep every space; the "q" form writes spaces as "_".
    charset = Charset("utf-8")
    charset.header_encoding = BASE64
    return Header(text, charset, maxlinelen=76, header_name=header_name).encode()


def _set_subject(message: EmailMessage, subject: str) -> None:
    _reject_line_breaks("Subject", subject)
    probe = EmailMessage()
    probe["Subject"] = subject
    if all(parsed["Subject"] == subject for parsed in _reparse_both_ways(probe)):
        message["Subject"] = subject
    else:
        message.set_raw("Subject", _encoded_word(subject, "Subject"))


def _undo_surrogates(text: str) -> str:
    # Address objects parsed from raw UTF-8 bytes keep the bytes as surrogate
    # escapes (CPython 3.11), although str(header) decodes them.
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def _survives(field: str, text: str, addresses: list[ParsedAddress]) -> bool:
    probe = EmailMessage()
    expected = [(item.display_name, item.addr_spec) for item in addresses]
    try:
        probe[field] = text
        versions = [parsed[field].addresses for parsed in _reparse_both_ways(probe)]
    except (ValueError, IndexError, AttributeError, UnicodeError):
        return False
    for parsed in versions:
        found = [
            (_undo_surrogates(item.display_name), _undo_surrogates(item.addr_spec))
            for item in parsed
        ]
        if found != expected:
            return False
    return True


def _set_addresses(
    message: EmailMessage, field: str, addresses: list[ParsedAddress]
) -> None:
    if not addresses:
        return
    readable = ", ".join(address.readable() for address in addresses)
    if _survives(field, readable, addresses):
        message[field] = readable
    else:
        message.set_raw(field, ",\n ".join(item.encoded() for item in addresses))


def build_message(
    *,
    sender: str,
    to: str,
    subject: str,
    body: str,
    cc: str = "",
    bcc: str = "",
    attachments: Iterable[AttachmentInput] = (),
) -> EmailMessage:
    """Build a message from form-like text fields.

    ``to``, ``cc`` and ``bcc`` take several comma-separated addresses. Raises
    :class:`MessageInputError` (Spanish text naming the field) for a missing
    or invalid address, more than one sender, or a line break in a header.
    """
    senders = parse_addresses("From", sender, required=True)
    if len(senders) != 1:
        raise MessageInputError(
            "From",
            sender,
            "El campo «De» debe tener una sola dirección: la de quien envía.",
        )
    recipients = {
        "To": parse_addresses("To", to, required=not (cc.strip() or bcc.strip())),
        "Cc": parse_addresses("Cc", cc),
        "Bcc": parse_addresses("Bcc", bcc),
    }
    message = EmailMessage(policy=COMPOSE_POLICY)
    _set_addresses(message, "From", senders)
    for field, addresses in recipients.items():
        _set_addresses(message, field, addresses)
    _set_subject(message, subject)
    message.set_content(body)
    for attachment in attachments:
        add_attachment(message, attachment)
    return message


def add_attachment(message: EmailMessage, attachment: AttachmentInput) -> None:
    """Attach bytes under their base name, guessing the type when not given."""
    filename = PurePath(attachment.filename.replace("\\", "/")).name
    _reject_line_breaks("filename", filename)
    if filename in ("", ".", ".."):
        raise MessageInputError(
            "filename",
            attachment.filename,
            f"El adjunto {attachment.filename!r} no tiene nombre de archivo. "
            "Ponle un nombre, por ejemplo informe.pdf.",
        )
    if attachment.content_type and "/" in attachment.content_type:
        maintype, subtype = attachment.content_type.split("/", 1)
    else:
        maintype, subtype = guess_content_type(filename)
    message.add_attachment(
        bytes(attachment.data), maintype=maintype, subtype=subtype, filename=filename
    )
