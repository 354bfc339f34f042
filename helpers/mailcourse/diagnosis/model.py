"""The diagnosis record and the connection context the rules read."""

from __future__ import annotations

import html
import smtplib
import traceback
from dataclasses import dataclass, field

from ..presets import PORT_OF_RUNNING_SERVER, Preset, preset_for_host
from ..settings import is_loopback
from ..transcript import redact


@dataclass(frozen=True)
class Diagnosis:
    """A Spanish explanation of one failure: what happened and how to fix it.

    ``kind`` is a stable identifier (see :mod:`mailcourse.diagnosis.kinds`),
    ``title`` one line, ``cause`` and ``fix`` a few sentences each.
    ``details`` is the error as the program saw it (type, code, server
    reply), with credentials removed; it may be empty.
    """

    kind: str
    title: str
    cause: str
    fix: str
    details: str = ""

    def __str__(self) -> str:
        lines = [
            f"Diagnóstico: {self.title}",
            f"Qué ha pasado: {self.cause}",
            f"Cómo arreglarlo: {self.fix}",
        ]
        if self.details:
            lines.append(f"Detalle técnico: {self.details}")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        parts = [
            "<div style='border-left: 4px solid #c0392b; padding: 0.4em 0.8em'>",
            f"<p><b>{html.escape(self.title)}</b></p>",
            f"<p><b>Qué ha pasado:</b> {html.escape(self.cause)}</p>",
            f"<p><b>Cómo arreglarlo:</b> {html.escape(self.fix)}</p>",
        ]
        if self.details:
            parts.append(
                f"<p><small>Detalle técnico: <code>{html.escape(self.details)}"
                "</code></small></p>"
            )
        parts.append("</div>")
        return "".join(parts)


@dataclass(frozen=True)
class Context:
    """The facts about the failed connection that the caller passed in.

    Any of them may be None. ``secrets`` are credentials to remove from every
    text shown.
    """

    host: str | None = None
    port: int | None = None
    security: str | None = None
    secrets: tuple[str, ...] = field(default=(), repr=False)

    @property
    def preset(self) -> Preset | None:
        """The provider preset matching ``host``, if any."""
        return preset_for_host(self.host)

    @property
    def on_loopback(self) -> bool:
        return self.host is not None and is_loopback(self.host)

    @property
    def address(self) -> str:
        """``host:port``, or as much of it as is known, for Spanish sentences."""
        if self.host and self.port:
            return f"{self.host}:{self.port}"
        if self.host:
            return self.host
        if self.port:
            return f"el puerto {self.port}"
        return "el servidor"

    @property
    def subject(self) -> str:
        """``address`` with a capital letter when it is a Spanish phrase.

        Used to start a sentence; a host name keeps its case.
        """
        if self.host:
            return self.address
        return self.address[0].upper() + self.address[1:]

    def course_server_role(self) -> str | None:
        """Return which course server listens on ``port``, or None.

        ``"local"`` is the bundled server; ``"tls"`` and ``"starttls"`` are
        the two ports of a running provider simulator. None otherwise.

        NOTE: only servers started with ``start_local_server()`` or
        ``start_provider_simulator()`` are known; one built from its class
        and started directly gets the explanation for an unknown server.
        """
        if not self.on_loopback or not self.port:
            return None
        from ..provider import running_simulators
        from ..server import running_servers

        for server in running_servers():
            if server.port == self.port:
                return "local"
        for simulator in running_simulators():
            if simulator.tls_port == self.port:
                return "tls"
            if simulator.starttls_port == self.port:
                return "starttls"
        return None

    def is_implicit_tls_port(self) -> bool:
        """Return true when ``port`` expects TLS from the first byte."""
        if self.port is None:
            return False
        if self.port == 465 or self.course_server_role() == "tls":
            return True
        preset = self.preset
        return (
            preset is not None
            and preset.tls_port is not None
            and preset.tls_port != PORT_OF_RUNNING_SERVER
            and preset.tls_port == self.port
        )

    def is_starttls_port(self) -> bool:
        """Return true when ``port`` expects a plain start followed by STARTTLS."""
        if self.port is None:
            return False
        if self.port == 587 or self.course_server_role() == "starttls":
            return True
        preset = self.preset
        return preset is not None and preset.starttls_port == self.port

    def clean(self, text: str) -> str:
        """Return ``text`` without AUTH payloads or any of ``secrets``."""
        return redact(text, self.secrets)


def smtplib_functions(error: BaseException) -> list[str]:
    """Return the smtplib functions ``error`` passed through, innermost last.

    Only frames of smtplib's own source file count, so a function of the
    caller's that happens to be named ``login`` or ``send`` does not.
    """
    frames = traceback.extract_tb(error.__traceback__)
    return [frame.name for frame in frames if frame.filename == smtplib.__file__]


def smtp_client_in(error: BaseException) -> smtplib.SMTP | None:
    """Return the ``smtplib.SMTP`` object whose method raised ``error``, if any.

    It is the ``self`` of the innermost smtplib frame in the traceback, so an
    exception built by hand (no traceback) gives None.
    """
    client = None
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        if frame.f_code.co_filename == smtplib.__file__:
            candidate = frame.f_locals.get("self")
            if isinstance(candidate, smtplib.SMTP):
                client = candidate
        trace = trace.tb_next
    return client


def connect_target(error: BaseException) -> tuple[str | None, int | None]:
    """Return the host and port smtplib was connecting to when ``error`` was raised.

    They are the locals of smtplib's ``_get_socket()`` or ``connect()`` frame,
    after ``connect()`` has split ``"host:port"`` and applied the default
    port. Errors raised elsewhere, or built by hand, give ``(None, None)``.
    """
    target: tuple[str | None, int | None] = (None, None)
    trace = error.__traceback__
    while trace is not None:
        frame = trace.tb_frame
        in_connect = frame.f_code.co_name in ("connect", "_get_socket")
        if in_connect and frame.f_code.co_filename == smtplib.__file__:
            host = frame.f_locals.get("host")
            port = frame.f_locals.get("port")
            if isinstance(host, str) and isinstance(port, int):
                target = (host, port)
        trace = trace.tb_next
    return target


def reply_text(response: object) -> str:
    """Return a server reply (bytes or str, as smtplib stores it) as one line."""
    if isinstance(response, bytes):
        response = response.decode("utf-8", "replace")
    return " ".join(str(response).split())


def error_summary(error: BaseException, context: Context) -> str:
    """Return ``Type: message`` for ``error``, with credentials removed."""
    message = str(error)
    if isinstance(error, UnicodeError):
        # The message quotes the offending character, which may come from a
        # password, so only the codec's reason is kept.
        message = getattr(error, "reason", "") or ""
    name = type(error).__qualname__
    module = type(error).__module__
    if module not in ("builtins", "__main__"):
        name = f"{module}.{name}"
    summary = f"{name}: {message}" if message else name
    return context.clean(summary)
