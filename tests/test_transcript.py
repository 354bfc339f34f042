"""Redaction of smtplib debug transcripts, proved on real AUTH dialogues.

The dialogues run against the provider simulator on 127.0.0.1 with the real
smtplib client. Every base64 token left in a redacted transcript is decoded
to check that the password cannot be recovered from it.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import re
import smtplib
import sys

import pytest

from sample_messages import make_message
from mailcourse import ACCENT_PASSWORD, ACCENT_USER, LAB_PASSWORD, LAB_USER
from mailcourse.client import login as utf8_login
from mailcourse.transcript import REDACTED, debug_transcript, redact

BASE64_TOKEN = re.compile(r"[A-Za-z0-9+/]{4,}={0,2}")


def decoded_tokens(text: str) -> list[bytes]:
    """Decode every base64-looking token of ``text`` that decodes cleanly."""
    decoded = []
    for token in BASE64_TOKEN.findall(text):
        padded = token + "=" * (-len(token) % 4)
        try:
            decoded.append(base64.b64decode(padded, validate=True))
        except (binascii.Error, ValueError):
            continue
    return decoded


def password_recoverable(text: str, password: str) -> bool:
    """Return true if ``password`` is in ``text`` as it is or base64-decoded."""
    raw = password.encode("utf-8")
    if password in text or repr(raw)[2:-1] in text:
        return True
    return any(raw in token for token in decoded_tokens(text))


@pytest.fixture
def tls_client(provider_simulator):
    client = smtplib.SMTP_SSL(
        provider_simulator.host,
        provider_simulator.tls_port,
        context=provider_simulator.client_context(),
        timeout=10,
    )
    yield client
    client.close()


def raw_transcript(client: smtplib.SMTP, action) -> str:
    """Run ``action(client)`` at debug level 1 and return what smtplib printed."""
    captured = io.StringIO()
    client.set_debuglevel(1)
    with contextlib.redirect_stderr(captured):
        action(client)
    client.set_debuglevel(0)
    return captured.getvalue()


def login_plain(client: smtplib.SMTP) -> None:
    client.login(LAB_USER, LAB_PASSWORD)


def login_login(client: smtplib.SMTP) -> None:
    # smtplib prefers PLAIN; choosing LOGIN needs the lower-level auth() call.
    client.ehlo_or_helo_if_needed()
    client.user, client.password = LAB_USER, LAB_PASSWORD
    client.auth("LOGIN", client.auth_login)


def login_login_two_challenges(client: smtplib.SMTP) -> None:
    client.ehlo_or_helo_if_needed()
    client.user, client.password = LAB_USER, LAB_PASSWORD
    client.auth("LOGIN", client.auth_login, initial_response_ok=False)


LOGIN_STYLES = {
    "plain": login_plain,
    "login": login_login,
    "login-two-challenges": login_login_two_challenges,
}


# Negative control: the raw transcript really leaks the password.


@pytest.mark.parametrize("style", LOGIN_STYLES)
def test_raw_transcript_leaks_password(tls_client, style):
    text = raw_transcript(tls_client, LOGIN_STYLES[style])
    assert "235" in text
    assert password_recoverable(text, LAB_PASSWORD)


@pytest.mark.parametrize("style", LOGIN_STYLES)
def test_redacted_transcript_hides_password(tls_client, style):
    text = redact(raw_transcript(tls_client, LOGIN_STYLES[style]))
    assert not password_recoverable(text, LAB_PASSWORD)


@pytest.mark.parametrize("style", LOGIN_STYLES)
def test_redacted_transcript_keeps_dialogue(tls_client, style):
    raw = raw_transcript(tls_client, LOGIN_STYLES[style])
    text = redact(raw)
    assert REDACTED in text
    assert len(text.splitlines()) == len(raw.splitlines())
    assert "reply: b'235" in text


def test_plain_keeps_mechanism_name(tls_client):
    text = redact(raw_transcript(tls_client, login_plain))
    assert f"send: 'AUTH PLAIN {REDACTED}\\r\\n'" in text


def test_login_continuation_line_hidden(tls_client):
    text = redact(raw_transcript(tls_client, login_login_two_challenges))
    sends = [line for line in text.splitlines() if line.startswith("send:")]
    assert sends[-2:] == [f"send: '{REDACTED}\\r\\n'", f"send: '{REDACTED}\\r\\n'"]


def test_user_name_hidden_in_login(tls_client):
    text = redact(raw_transcript(tls_client, login_login))
    user_b64 = base64.b64encode(LAB_USER.encode()).decode()
    assert user_b64 not in text


def test_utf8_login_redacted(tls_client):
    text = redact(
        raw_transcript(
            tls_client, lambda c: utf8_login(c, ACCENT_USER, ACCENT_PASSWORD)
        )
    )
    assert "reply: b'235" in text
    assert not password_recoverable(text, ACCENT_PASSWORD)


def test_commands_after_login_untouched(tls_client):
    def login_and_send(client):
        client.login(LAB_USER, LAB_PASSWORD)
        client.send_message(make_message(), to_addrs=["luis@ejemplo.test"])

    text = redact(raw_transcript(tls_client, login_and_send))
    assert "send: 'mail FROM:<ana@ejemplo.test> size=" in text
    assert "send: 'rcpt TO:<luis@ejemplo.test>\\r\\n'" in text


# Explicit secrets


def test_explicit_secret_plain_text():
    text = "reply: b'535 la clave laboratorio-2026 no vale'"
    assert LAB_PASSWORD not in redact(text, secrets=[LAB_PASSWORD])


@pytest.mark.parametrize("prefix", ["", "a", "ab", "abc"])
def test_explicit_secret_inside_base64(prefix):
    payload = base64.b64encode(f"{prefix}{LAB_PASSWORD}!".encode()).decode()
    text = f"send: 'XTOKEN {payload}\\r\\n'"
    redacted = redact(text, secrets=[LAB_PASSWORD])
    assert not password_recoverable(redacted, LAB_PASSWORD)


def test_explicit_secret_bytes_repr():
    escaped = repr(ACCENT_PASSWORD.encode("utf-8"))[2:-1]
    text = f"send: b'XPASS {escaped}\\r\\n'"
    assert escaped not in redact(text, secrets=[ACCENT_PASSWORD])


def test_empty_secrets_ignored():
    text = "reply: b'250 OK\\r\\n'"
    assert redact(text, secrets=["", None]) == text


def test_level_two_timestamps_redacted():
    text = (
        "16:32:01.123456 send: 'AUTH PLAIN AGFsdW1ubwBjbGF2ZQ==\\r\\n'\n"
        "16:32:01.124000 reply: b'235 2.7.0 Authentication successful\\r\\n'"
    )
    assert "AGFsdW1ubwBjbGF2ZQ==" not in redact(text)


def test_other_send_lines_untouched():
    text = "send: 'ehlo [127.0.0.1]\\r\\n'\nreply: b'250-smtp.curso.test\\r\\n'"
    assert redact(text) == text


# debug_transcript()


def test_debug_transcript_captures_redacted(tls_client, capsys):
    with debug_transcript(tls_client) as transcript:
        tls_client.login(LAB_USER, LAB_PASSWORD)
    assert "AUTH PLAIN" in transcript.text
    assert not password_recoverable(transcript.text, LAB_PASSWORD)


def test_debug_transcript_echoes_redacted(tls_client, capsys):
    with debug_transcript(tls_client):
        tls_client.login(LAB_USER, LAB_PASSWORD)
    echoed = capsys.readouterr().err
    assert f"AUTH PLAIN {REDACTED}" in echoed
    assert not password_recoverable(echoed, LAB_PASSWORD)


def test_debug_transcript_without_echo(tls_client, capsys):
    with debug_transcript(tls_client, echo=False) as transcript:
        tls_client.noop()
    assert "noop" in transcript.text
    assert capsys.readouterr().err == ""


def test_debug_transcript_restores_level(tls_client):
    tls_client.set_debuglevel(0)
    with debug_transcript(tls_client, echo=False):
        assert tls_client.debuglevel == 1
    assert tls_client.debuglevel == 0


def test_debug_transcript_restores_stderr(tls_client):
    before = sys.stderr
    with pytest.raises(smtplib.SMTPAuthenticationError):
        with debug_transcript(tls_client, echo=False):
            tls_client.login(LAB_USER, "equivocada-456")
    assert sys.stderr is before


def test_debug_transcript_keeps_failed_login(tls_client):
    with pytest.raises(smtplib.SMTPAuthenticationError):
        with debug_transcript(tls_client, echo=False) as transcript:
            tls_client.login(LAB_USER, "equivocada-123")
    assert "reply: b'535" in transcript.text
    assert not password_recoverable(transcript.text, "equivocada-123")


def test_debug_transcript_explicit_secret(tls_client):
    with debug_transcript(tls_client, echo=False, secrets=[LAB_USER]) as transcript:
        tls_client.login(LAB_USER, LAB_PASSWORD)
        tls_client.docmd("NOOP", LAB_USER)
    assert LAB_USER not in transcript.text


def test_short_secret_plain_text():
    text = "reply: b'535 clave xy rechazada'"
    assert " xy " not in redact(text, secrets=["xy"])
