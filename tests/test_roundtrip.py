"""Property: what a student types reads back identical from the inbox.

Messages are built with ``mailcourse.compose.build_message`` (the function
behind the compose form), sent with the real smtplib client to the bundled
server on 127.0.0.1 and read back through the inbox.
"""

from __future__ import annotations

import smtplib

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mailcourse import LocalServer
from mailcourse.compose import (
    AttachmentInput,
    build_message,
    normalize_display_name,
)

# Any printable text: letters of every script, emoji, quotes, commas and
# spaces anywhere. Control characters (categories Cc, Cs) cannot appear in a
# header at all; line breaks in headers are rejected on purpose.
printable = st.characters(blacklist_categories=("Cc", "Cs"))
display_names = st.text(printable, max_size=40)
subjects = st.text(printable, max_size=300)
# A file name that looks like an RFC 2047 encoded word ("=?utf-8?q?...?=") is
# decoded by the email package on reading, as most mail readers do, so such
# names are left out because they cannot be distinguished from encoded ones.
file_names = st.text(
    st.characters(blacklist_categories=("Cc", "Cs"), blacklist_characters="/\\"),
    min_size=1,
    max_size=80,
).filter(lambda name: "=?" not in name and name not in (".", ".."))
local_parts = st.text(
    st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789._-ñáéíóúü"),
    min_size=1,
    max_size=20,
).filter(lambda part: not part.startswith(".") and not part.endswith("."))
local_parts = local_parts.filter(lambda part: ".." not in part)
# Bodies: any text. The email package turns every line break into "\n" and
# ends the body with one, so a bare "\r" is left out of the generated text.
bodies = st.text(
    st.characters(blacklist_categories=("Cs",), blacklist_characters="\r"),
    max_size=3000,
)


@pytest.fixture(scope="module")
def roundtrip_server(tmp_path_factory):
    server = LocalServer(maildir=tmp_path_factory.mktemp("roundtrip")).start()
    yield server
    server.stop()


def send_and_read(server, message):
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        assert client.send_message(message) == {}
    return server.inbox.latest()


def expected_body(body: str) -> str:
    return body if body.endswith("\n") else body + "\n"


@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(name=display_names, subject=subjects, body=bodies)
def test_headers_and_body_round_trip(roundtrip_server, name, subject, body):
    message = build_message(
        sender=f'"{_quote(name)}" <ana@ejemplo.test>',
        to="luis@ejemplo.test",
        subject=subject,
        body=body,
    )
    stored = send_and_read(roundtrip_server, message)
    assert stored.subject == subject
    assert stored.addresses("From") == [(normalize_display_name(name), "ana@ejemplo.test")]
    assert stored.text.replace("\r\n", "\n") == expected_body(body)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(filename=file_names, data=st.binary(max_size=2000))
def test_attachment_name_and_bytes(roundtrip_server, filename, data):
    message = build_message(
        sender="ana@ejemplo.test",
        to="luis@ejemplo.test",
        subject="Adjunto",
        body="Va adjunto.\n",
        attachments=[AttachmentInput(filename, data)],
    )
    (attachment,) = send_and_read(roundtrip_server, message).attachments
    assert attachment.filename == filename
    assert attachment.data == data


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(local_part=local_parts, name=display_names)
def test_non_ascii_address_round_trip(roundtrip_server, local_part, name):
    address = f"{local_part}@ejemplo.test"
    message = build_message(
        sender="ana@ejemplo.test",
        to=f'"{_quote(name)}" <{address}>',
        subject="Hola",
        body="Hola\n",
    )
    stored = send_and_read(roundtrip_server, message)
    assert stored.addresses("To") == [(normalize_display_name(name), address)]
    assert stored.envelope_recipients == [address]


def _quote(name: str) -> str:
    return name.replace("\\", "\\\\").replace('"', '\\"')
