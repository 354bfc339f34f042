"""Message building from form fields: valid input, and each bad input."""

from __future__ import annotations

import pytest

from mailcourse.compose import (
    AttachmentInput,
    MessageInputError,
    build_message,
    guess_content_type,
    parse_addresses,
)

VALID = {
    "sender": "Ana Pérez <ana@ejemplo.test>",
    "to": "luis@ejemplo.test",
    "subject": "Informe",
    "body": "Hola\n",
}


def build(**changes):
    return build_message(**{**VALID, **changes})


def test_readable_headers_for_plain_input():
    message = build(to="Luis <luis@ejemplo.test>, marta@ejemplo.test")
    assert message["To"] == "Luis <luis@ejemplo.test>, marta@ejemplo.test"
    assert message["Subject"] == "Informe"


def test_several_recipients_each_field():
    message = build(cc="a@ejemplo.test, b@ejemplo.test", bcc="c@ejemplo.test")
    assert [item.addr_spec for item in message["Cc"].addresses] == [
        "a@ejemplo.test",
        "b@ejemplo.test",
    ]
    assert message["Bcc"] == "c@ejemplo.test"


@pytest.mark.parametrize(
    ("field", "changes", "fragment"),
    [
        ("To", {"to": ""}, "está vacío"),
        ("To", {"to": "luis"}, "'luis'"),
        ("To", {"to": "luis@ejemplo"}, "nombre@dominio.ext"),
        ("Cc", {"cc": "a b@ejemplo.test"}, "espacios"),
        ("From", {"sender": ""}, "está vacío"),
        ("From", {"sender": "a@ejemplo.test, b@ejemplo.test"}, "una sola"),
        ("Subject", {"subject": "Hola\nBcc: espia@ejemplo.test"}, "salto de línea"),
        ("To", {"to": "luis@ejemplo.test\r\nBcc: x@ejemplo.test"}, "salto de línea"),
        ("From", {"sender": "x" * 200 + " <a@ejemplo.test>"}, "demasiado largo"),
    ],
)
def test_bad_input_names_field(field, changes, fragment):
    with pytest.raises(MessageInputError) as caught:
        build(**changes)
    assert caught.value.field == field
    assert fragment in str(caught.value)


def test_only_bcc_is_enough():
    message = build(to="", bcc="oculto@ejemplo.test")
    assert message["To"] is None
    assert message["Bcc"] == "oculto@ejemplo.test"


def test_attachment_uses_base_name():
    message = build(attachments=[AttachmentInput("C:\\datos\\informe.pdf", b"%PDF")])
    (attachment,) = message.iter_attachments()
    assert attachment.get_filename() == "informe.pdf"
    assert attachment.get_content_type() == "application/pdf"


def test_unknown_extension_is_octet_stream():
    assert guess_content_type("datos.xyz123") == ("application", "octet-stream")


def test_compressed_file_is_octet_stream():
    assert guess_content_type("copia.tar.gz") == ("application", "octet-stream")


def test_parse_addresses_keeps_display_names():
    (address,) = parse_addresses("To", '"Núñez, Luis" <luis@ejemplo.test>')
    assert address.display_name == "Núñez, Luis"
    assert address.addr_spec == "luis@ejemplo.test"


def test_leading_space_subject_encoded():
    message = build(subject="  espacios  ")
    assert message["Subject"] == "  espacios  "
    assert "=?utf-8?b?" in message.as_string()


@pytest.mark.parametrize("filename", ["", ".", ".."])
def test_attachment_without_name_rejected(filename):
    with pytest.raises(MessageInputError) as caught:
        build(attachments=[AttachmentInput(filename, b"datos")])
    assert caught.value.field == "filename"
    assert "no tiene nombre" in str(caught.value)
