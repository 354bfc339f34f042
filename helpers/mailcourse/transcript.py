"""Redaction of credentials in smtplib's debug transcripts.

At ``set_debuglevel(1)`` smtplib prints every command it sends, including
``AUTH PLAIN <base64>`` and the base64 responses to the server's ``334``
challenges. Base64 is an encoding, not encryption: anyone who sees the
transcript can decode the password. ``redact()`` replaces those payloads (and
any secret passed explicitly, in plain or base64 form) with a marker, and
``debug_transcript()`` captures a client's dialogue already redacted.
"""

from __future__ import annotations

import base64
import contextlib
import io
import re
import sys
from collections.abc import Iterable, Iterator
from typing import TextIO

REDACTED = "[oculto]"

# A send line as smtplib prints it: "send: 'AUTH PLAIN ...\r\n'" for str
# commands, "send: b'...'" for bytes. At debug level 2 a time stamp comes first.
_SEND_LINE = re.compile(
    r"^(?P<head>(?:[\d:.]+ )?send: b?(?P<quote>['\"]))(?P<body>.*?)"
    r"(?P<tail>(?:\\r\\n)?(?P=quote))$"
)
_AUTH_COMMAND = re.compile(
    r"^(?P<verb>AUTH\s+[A-Za-z0-9_-]+)(?P<argument>\s+\S.*)?$", re.I
)
# A reply carrying a 334 challenge, either the raw line or smtplib's summary:
# "reply: b'334 VXNlcm5hbWU6\r\n'" or "reply: retcode (334); Msg: b'...'".
_CHALLENGE_REPLY = re.compile(r"reply: (?:b['\"]334[ -]|retcode \(334\))")
_OTHER_REPLY = re.compile(r"reply: (?:b['\"]\d{3}[ -]|retcode \(\d+\))")
_SHORTEST_BASE64_FORM = 4


class TranscriptRedactor:
    """Redact a transcript line by line, remembering pending 334 challenges.

    A send line that follows a ``334`` reply is an AUTH continuation, so it is
    replaced whole. An ``AUTH`` command keeps its mechanism name and loses its
    initial response. Each explicit secret is also replaced wherever it
    appears: in plain text, as Python escapes it in a ``bytes`` repr, or in
    base64 at any alignment.
    """

    def __init__(self, secrets: Iterable[str | bytes | None] = ()) -> None:
        self._secret_forms = _secret_forms(secrets)
        self._challenge_pending = False

    def redact_line(self, line: str) -> str:
        """Return ``line`` (without its newline) with credentials replaced."""
        redacted = self._redact_protocol(line)
        for form in self._secret_forms:
            redacted = redacted.replace(form, REDACTED)
        return redacted

    def _redact_protocol(self, line: str) -> str:
        if _CHALLENGE_REPLY.search(line):
            self._challenge_pending = True
            return line
        if _OTHER_REPLY.search(line):
            self._challenge_pending = False
            return line
        send = _SEND_LINE.match(line)
        if send is None:
            return line
        body = send["body"]
        if self._challenge_pending:
            # Every send after a 334 and before the next reply is a response
            # to the challenge, however the client encoded it.
            return f"{send['head']}{REDACTED}{send['tail']}"
        auth = _AUTH_COMMAND.match(body)
        if auth is not None and auth["argument"]:
            return f"{send['head']}{auth['verb']} {REDACTED}{send['tail']}"
        return line


def _secret_forms(secrets: Iterable[str | bytes | None]) -> list[str]:
    """List the spellings of each secret that a transcript could contain."""
    forms: set[str] = set()
    text_forms: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        raw = secret.encode("utf-8") if isinstance(secret, str) else secret
        text = secret if isinstance(secret, str) else raw.decode("utf-8", "replace")
        text_forms.add(text)
        # repr() of bytes escapes non-ASCII bytes: b'contrase\xc3\xb1a'.
        text_forms.add(repr(raw)[2:-1])
        forms.update(_base64_forms(raw))
    # Base64 pieces shorter than a 4-character group match unrelated text.
    # NOTE: so a secret of one or two bytes is only found in plain text and
    # as a whole base64 string, not inside a longer base64 payload.
    usable = {form for form in forms if len(form) >= _SHORTEST_BASE64_FORM}
    usable.update(text_forms)
    # Longest first, so a short form never splits a longer one.
    return sorted(usable, key=len, reverse=True)


def _base64_forms(raw: bytes) -> set[str]:
    """Return the base64 text of ``raw`` at each of the three byte alignments.

    Inside a longer base64 string (``AUTH PLAIN`` encodes ``\\0user\\0password``)
    the secret starts at offset 0, 1 or 2 of a 3-byte group. Only the
    characters that depend on the secret alone are kept, so each form matches
    whatever bytes surround the secret.
    """
    forms = {base64.b64encode(raw).decode("ascii")}
    for offset in range(3):
        encoded = base64.b64encode(b"\0" * offset + raw).decode("ascii")
        first_clean = {0: 0, 1: 2, 2: 3}[offset]
        last_clean = 4 * ((offset + len(raw)) // 3)
        core = encoded[first_clean:last_clean]
        if core:
            forms.add(core)
    return forms


def redact(text: str, secrets: Iterable[str | bytes | None] = ()) -> str:
    """Return ``text`` with AUTH payloads and every given secret replaced.

    ``text`` is an smtplib debug transcript (level 1 or 2), as printed or as
    captured. ``secrets`` are credentials to hide wherever they appear,
    including their base64 encodings; empty values are ignored.
    """
    redactor = TranscriptRedactor(secrets)
    lines = text.split("\n")
    return "\n".join(redactor.redact_line(line) for line in lines)


class CapturedTranscript:
    """The redacted debug output captured by :func:`debug_transcript`."""

    def __init__(self) -> None:
        self._lines: list[str] = []

    @property
    def lines(self) -> list[str]:
        """The redacted lines captured so far."""
        return list(self._lines)

    @property
    def text(self) -> str:
        """The redacted transcript, one line per ``send:`` or ``reply:``."""
        return "".join(line + "\n" for line in self._lines)

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return f"<CapturedTranscript: {len(self._lines)} líneas>"


class _RedactingStream(io.TextIOBase):
    """A text stream that redacts whole lines before passing them on."""

    def __init__(
        self,
        redactor: TranscriptRedactor,
        transcript: CapturedTranscript,
        echo: TextIO | None,
    ) -> None:
        super().__init__()
        self._redactor = redactor
        self._transcript = transcript
        self._echo = echo
        self._partial = ""

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._partial += text
        *complete, self._partial = self._partial.split("\n")
        for line in complete:
            self._emit(line)
        return len(text)

    def flush(self) -> None:
        if self._echo is not None:
            self._echo.flush()

    def finish(self) -> None:
        """Emit a last line that had no newline."""
        if self._partial:
            self._emit(self._partial)
            self._partial = ""
        self.flush()

    def _emit(self, line: str) -> None:
        redacted = self._redactor.redact_line(line)
        self._transcript._lines.append(redacted)
        if self._echo is not None:
            self._echo.write(redacted + "\n")


@contextlib.contextmanager
def debug_transcript(
    client: object,
    *,
    secrets: Iterable[str | bytes | None] = (),
    echo: bool = True,
) -> Iterator[CapturedTranscript]:
    """Capture ``client``'s debug dialogue, redacted, while the block runs.

    ``client`` is an ``smtplib.SMTP`` or ``SMTP_SSL``. Its debug level is set
    to 1 and restored afterwards. What smtplib prints to ``sys.stderr`` is
    redacted line by line, stored in the yielded :class:`CapturedTranscript`
    and, with ``echo``, written to the real stderr, so a notebook shows the
    redacted dialogue. Exceptions from the block (for example
    ``smtplib.SMTPAuthenticationError``) propagate after the capture ends.

    NOTE: ``sys.stderr`` is replaced for the whole process while the block
    runs, so output of other threads in that time is captured too.
    """
    real_stderr = sys.stderr
    transcript = CapturedTranscript()
    stream = _RedactingStream(
        TranscriptRedactor(secrets), transcript, real_stderr if echo else None
    )
    previous_level = getattr(client, "debuglevel", 0)
    client.set_debuglevel(1)  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stderr(stream):
            yield transcript
    finally:
        client.set_debuglevel(previous_level)  # type: ignore[attr-defined]
        stream.finish()
