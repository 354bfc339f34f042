"""SMTP connection settings read from the environment or an untracked ``.env``.

A student keeps the provider's host, port, security mode, user name and
password out of the notebook: ``load_settings()`` reads the
``MAILCOURSE_SMTP_*`` variables, and ``password_from_prompt_or_env()``
prompts for the password with ``getpass`` when it is not in the environment. Every
validation error is a :class:`SettingsError` with a Spanish message that names
the wrong value and the fix. Settings that load but look wrong (an unknown
``MAILCOURSE_SMTP_*`` key, a ``.env.txt`` file in place of ``.env``, a port
that does not fit the security mode) give a :class:`SettingsWarning`. The
password never appears in ``repr()``, ``str()``, any error or any warning.
"""

from __future__ import annotations

import getpass
import html
import ipaddress
import logging
import os
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from .presets import Preset

log = logging.getLogger(__name__)

SECURITY_MODES = ("starttls", "tls", "none")
# Spellings students copy from provider pages, mapped to the mode smtplib needs.
SECURITY_ALIASES = {"ssl": "tls", "ssl/tls": "tls", "smtps": "tls", "plain": "none"}
DEFAULT_TIMEOUT = 10.0

ENV_PREFIX = "MAILCOURSE_SMTP_"
ENV_HOST = ENV_PREFIX + "HOST"
ENV_PORT = ENV_PREFIX + "PORT"
ENV_SECURITY = ENV_PREFIX + "SECURITY"
ENV_USER = ENV_PREFIX + "USER"
ENV_PASSWORD = ENV_PREFIX + "PASSWORD"
ENV_PRESET = ENV_PREFIX + "PRESET"
ENV_TIMEOUT = ENV_PREFIX + "TIMEOUT"
ENV_VARIABLES = (
    ENV_HOST,
    ENV_PORT,
    ENV_SECURITY,
    ENV_USER,
    ENV_PASSWORD,
    ENV_PRESET,
    ENV_TIMEOUT,
)

# The usual port of each mode, used when the port is not given.
DEFAULT_PORTS = {"starttls": 587, "tls": 465}
# The mode a well-known port implies, used when the security mode is not given.
PORT_SECURITY = {587: "starttls", 465: "tls"}
# The port of a preset whose server picks a free port when it starts.
PORT_OF_RUNNING_SERVER = 0
# Spanish names students give to the keys, mapped to the key they meant.
SPANISH_KEY_NAMES = {
    "SERVIDOR": ENV_HOST,
    "PUERTO": ENV_PORT,
    "SEGURIDAD": ENV_SECURITY,
    "USUARIO": ENV_USER,
    "CONTRASENA": ENV_PASSWORD,
    "CONTRASEÑA": ENV_PASSWORD,
    "CLAVE": ENV_PASSWORD,
}
# Windows Notepad adds this suffix to ".env" unless the type "Todos los
# archivos" is chosen when saving.
NOTEPAD_SUFFIX = ".txt"


class SettingsError(ValueError):
    """Raised when a setting is missing or invalid; the message is in Spanish."""


class SettingsWarning(UserWarning):
    """Issued when settings load but look wrong; the message is in Spanish."""


def is_loopback(host: str) -> bool:
    """Return true for ``localhost`` and the loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def normalize_security(value: str) -> str:
    """Return ``"starttls"``, ``"tls"`` or ``"none"`` for a spelling of a mode.

    Accepts any case and the aliases ``ssl``, ``ssl/tls``, ``smtps`` (implicit
    TLS) and ``plain``. Raises :class:`SettingsError` for anything else.
    """
    cleaned = value.strip().lower()
    cleaned = SECURITY_ALIASES.get(cleaned, cleaned)
    if cleaned not in SECURITY_MODES:
        raise SettingsError(
            f"La seguridad {value!r} no es válida. Usa 'starttls' (puerto 587, "
            "conexión normal que luego se cifra), 'tls' (puerto 465, cifrada "
            "desde el primer byte, con SMTP_SSL) o 'none' (sin cifrar, solo "
            "para el servidor del curso en 127.0.0.1)."
        )
    return cleaned


def parse_port(value: object) -> int:
    """Return ``value`` as a TCP port number, or raise :class:`SettingsError`."""
    try:
        port = int(str(value).strip())
    except ValueError:
        raise SettingsError(
            f"El puerto {value!r} no es un número. Escribe solo el número, "
            "por ejemplo 587 (STARTTLS) o 465 (TLS)."
        ) from None
    if not 1 <= port <= 65535:
        raise SettingsError(
            f"El puerto {port} está fuera del rango válido (1 a 65535). "
            "Los proveedores usan 587 (STARTTLS) o 465 (TLS)."
        )
    return port


def parse_timeout(value: object) -> float:
    """Return ``value`` as a timeout in seconds, or raise :class:`SettingsError`."""
    try:
        timeout = float(str(value).strip())
    except ValueError:
        raise SettingsError(
            f"El tiempo de espera {value!r} no es un número de segundos. "
            "Prueba con 10."
        ) from None
    if not timeout > 0:
        raise SettingsError(
            f"El tiempo de espera debe ser mayor que cero, y es {timeout:g}. "
            "Sin tiempo de espera, un puerto bloqueado deja la celda colgada; "
            "prueba con 10 segundos."
        )
    return timeout


@dataclass(frozen=True)
class ConnectionSettings:
    """Host, port, security mode and account for one SMTP server.

    ``security`` is ``"starttls"`` (plain start, then ``starttls()``),
    ``"tls"`` (``SMTP_SSL``, TLS from the first byte) or ``"none"``.
    ``timeout`` is in seconds. The password is excluded from ``repr()`` and
    ``str()``. Raises :class:`SettingsError` when a value is invalid, and
    when a password would travel unencrypted to a host outside this machine.
    """

    host: str
    port: int
    security: str = "starttls"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT

    def __post_init__(self) -> None:
        host = (self.host or "").strip()
        if not host:
            raise SettingsError(
                "Falta el servidor SMTP. Indica su nombre, por ejemplo "
                "'smtp.gmail.com', o '127.0.0.1' para el servidor del curso."
            )
        _check_host_shape(host)
        object.__setattr__(self, "host", host)
        object.__setattr__(self, "port", parse_port(self.port))
        object.__setattr__(self, "security", normalize_security(self.security))
        object.__setattr__(self, "timeout", parse_timeout(self.timeout))
        if self.user is not None and not self.user.strip():
            object.__setattr__(self, "user", None)
        if self.password is not None and self.user is None:
            raise SettingsError(
                "Hay contraseña pero falta el usuario. Indica el usuario, que "
                "en casi todos los proveedores es tu dirección de correo "
                f"completa ({ENV_USER} en el archivo .env)."
            )
        if self.password and self.security == "none" and not is_loopback(host):
            raise SettingsError(
                f"La seguridad 'none' enviaría tu contraseña sin cifrar a "
                f"{host}. Usa 'starttls' con el puerto 587 o 'tls' con el 465."
            )

    @property
    def address(self) -> str:
        """The ``host:port`` pair, as it appears in messages."""
        return f"{self.host}:{self.port}"

    @property
    def has_password(self) -> bool:
        return bool(self.password)

    def __str__(self) -> str:
        user = self.user or "sin usuario"
        password = "contraseña guardada" if self.has_password else "sin contraseña"
        return f"{self.address} ({self.security}), {user}, {password}"

    def _repr_html_(self) -> str:
        rows = [
            ("Servidor", self.host),
            ("Puerto", str(self.port)),
            ("Seguridad", self.security),
            ("Usuario", self.user or "(ninguno)"),
            (
                "Contraseña",
                "guardada (no se muestra)" if self.has_password else "(ninguna)",
            ),
            ("Tiempo de espera", f"{self.timeout:g} s"),
        ]
        cells = "".join(
            f"<tr><th style='text-align:left'>{html.escape(name)}</th>"
            f"<td><code>{html.escape(value)}</code></td></tr>"
            for name, value in rows
        )
        return f"<table>{cells}</table>"


def _check_host_shape(host: str) -> None:
    """Raise :class:`SettingsError` for host values that are a URL or carry a port."""
    if "://" in host or "/" in host:
        raise SettingsError(
            f"El servidor {host!r} parece una dirección web. Escribe solo el "
            "nombre del servidor, sin 'https://' ni barras, por ejemplo "
            "'smtp.gmail.com'."
        )
    if host.count(":") == 1:
        raise SettingsError(
            f"El servidor {host!r} incluye un puerto. Escribe el nombre sin "
            f"':' y pon el puerto aparte ({ENV_PORT} en el archivo .env)."
        )
    if any(character.isspace() for character in host) or "@" in host:
        raise SettingsError(
            f"El servidor {host!r} no es un nombre de servidor válido: no lleva "
            "espacios ni '@'. Es algo como 'smtp.gmail.com', no tu dirección "
            "de correo."
        )


def read_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Parse ``KEY=value`` lines of a ``.env`` file into a dict.

    Blank lines and ``#`` comments are skipped, an ``export`` prefix is
    accepted, one pair of matching quotes around a value is removed, and a
    UTF-8 byte-order mark at the start (Windows Notepad writes one) is
    dropped. A missing file gives an empty dict. Raises :class:`SettingsError`
    for a line that is not a ``KEY=value`` pair.
    """
    env_path = Path(path)
    if not env_path.is_file():
        return {}
    values: dict[str, str] = {}
    text = env_path.read_text(encoding="utf-8-sig")
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export ") :].lstrip()
        key, separator, value = stripped.partition("=")
        key = key.strip()
        if not separator or not key:
            # The line is not shown: it may be a password typed on its own.
            raise SettingsError(
                f"La línea {number} de {env_path} no tiene la forma "
                "NOMBRE=valor. Corrígela o ponle '#' delante."
            )
        values[key] = _unquote(value.strip())
    return values


def _unquote(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
        return value[1:-1]
    return value


def read_checked_env_file(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read ``path`` like :func:`read_env_file`, warning about likely mistakes.

    Issues a :class:`SettingsWarning` when ``path`` is missing but the same
    name ending in ``.txt`` exists, and one for each ``MAILCOURSE_SMTP_*`` key
    the course does not read. Raises :class:`SettingsError` like
    :func:`read_env_file`.
    """
    env_path = Path(path)
    notepad_copy = env_path.with_name(env_path.name + NOTEPAD_SUFFIX)
    if not env_path.is_file() and notepad_copy.is_file():
        _warn(
            f"No hay ningún archivo {env_path.name}, pero sí {notepad_copy.name}, "
            "y el curso no lo lee. El Bloc de notas añade .txt al guardar: "
            f"cambia el nombre a {env_path.name}, o guárdalo otra vez eligiendo "
            "«Todos los archivos» en el tipo."
        )
    values = read_env_file(env_path)
    warn_unknown_keys(values, f"el archivo {env_path.name}")
    return values


def warn_unknown_keys(values: Mapping[str, str], source: str) -> None:
    """Warn about each ``MAILCOURSE_SMTP_*`` key in ``values`` the course ignores.

    ``source`` names, in Spanish, where the keys come from. Only key names are
    shown, never a value.
    """
    for key in values:
        if not key.startswith(ENV_PREFIX) or key in ENV_VARIABLES:
            continue
        meant = SPANISH_KEY_NAMES.get(key[len(ENV_PREFIX) :].upper())
        suggestion = f" ¿Querías decir {meant}?" if meant else ""
        _warn(
            f"En {source}, {key} no es un ajuste del curso y se ignora."
            f"{suggestion} Los nombres válidos son: {', '.join(ENV_VARIABLES)}."
        )


def warn_port_security_mismatch(host: str, port: int, security: str) -> None:
    """Warn when ``security`` does not fit ``port``, with the rule of the form.

    The rule is :class:`~mailcourse.diagnosis.model.Context`'s: port 465 (or a
    preset's or running simulator's TLS port) expects TLS from the first
    byte, and port 587 (or a STARTTLS port) expects STARTTLS.
    """
    from .diagnosis.model import Context

    context = Context(host=host, port=port, security=security)
    if context.is_implicit_tls_port() and security != "tls":
        _warn(
            f"El puerto {port} espera TLS desde el primer byte, pero "
            f"{ENV_SECURITY} es {security!r}: el servidor no contestaría. "
            f"Pon {ENV_SECURITY}=tls, o usa el puerto de STARTTLS (587)."
        )
    elif context.is_starttls_port() and security == "tls":
        _warn(
            f"El puerto {port} empieza sin cifrar y pasa a TLS con STARTTLS, "
            f"pero {ENV_SECURITY} es 'tls': la conexión fallaría con «wrong "
            f"version number». Pon {ENV_SECURITY}=starttls, o usa el puerto 465."
        )
    elif context.is_starttls_port() and security == "none":
        _warn(
            f"El puerto {port} es de STARTTLS, pero {ENV_SECURITY} es 'none': "
            "el servidor pide cifrar antes de aceptar nada. Pon "
            f"{ENV_SECURITY}=starttls."
        )


def _warn(message: str) -> None:
    """Issue a :class:`SettingsWarning` that points at the first caller outside."""
    frame = sys._getframe()
    level = 1
    while frame.f_back is not None and frame.f_globals["__name__"] == __name__:
        frame = frame.f_back
        level += 1
    warnings.warn(message, SettingsWarning, stacklevel=level)


def _collect_values(
    env_file: str | os.PathLike[str] | None, environ: Mapping[str, str]
) -> dict[str, str]:
    """Merge the ``.env`` file and the environment; the environment wins."""
    file_values = read_checked_env_file(env_file) if env_file is not None else {}
    warn_unknown_keys(environ, "las variables de entorno")
    merged: dict[str, str] = {}
    for name in ENV_VARIABLES:
        value = environ.get(name, file_values.get(name, ""))
        if value.strip():
            merged[name] = value.strip() if name != ENV_PASSWORD else value
    return merged


def load_settings(
    env_file: str | os.PathLike[str] | None = ".env",
    *,
    environ: Mapping[str, str] | None = None,
) -> ConnectionSettings | None:
    """Build :class:`ConnectionSettings` from ``MAILCOURSE_SMTP_*`` variables.

    Values come from ``environ`` (default ``os.environ``) and, for variables
    not set there, from ``env_file``. ``MAILCOURSE_SMTP_PRESET`` (for example
    ``gmail``) fills host, port and security, and explicit variables override
    it. Without a preset, a missing port follows the security mode (587 for
    STARTTLS, 465 for TLS) and a missing mode follows the port. Returns None
    when no variable is set. Raises :class:`SettingsError` when a value is
    missing or invalid. Issues a :class:`SettingsWarning` for an unknown
    ``MAILCOURSE_SMTP_*`` key, for a ``.env.txt`` file next to a missing
    ``env_file``, and for a port that does not fit the security mode.
    """
    values = _collect_values(env_file, os.environ if environ is None else environ)
    if not values:
        return None
    host, port, security = _connection_values(values)
    warn_port_security_mismatch(host, port, security)
    return ConnectionSettings(
        host=host,
        port=port,
        security=security,
        user=values.get(ENV_USER),
        password=values.get(ENV_PASSWORD),
        timeout=values.get(ENV_TIMEOUT, DEFAULT_TIMEOUT),
    )


def _connection_values(values: Mapping[str, str]) -> tuple[str, int, str]:
    """Resolve host, port and security from explicit values and a preset."""
    from .presets import preset_by_key, preset_for_host

    preset = preset_by_key(values[ENV_PRESET]) if ENV_PRESET in values else None
    host = values.get(ENV_HOST) or (preset.host if preset else "")
    if not host:
        raise SettingsError(
            f"Falta el servidor SMTP: define {ENV_HOST} (por ejemplo "
            f"smtp.gmail.com) o {ENV_PRESET} (por ejemplo gmail) en el "
            "archivo .env."
        )
    if preset is None:
        preset = preset_for_host(host)
    security_text = values.get(ENV_SECURITY)
    port_text = values.get(ENV_PORT)
    security = normalize_security(security_text) if security_text else None
    port = parse_port(port_text) if port_text else None
    if port is None and preset is not None and preset.port == PORT_OF_RUNNING_SERVER:
        raise SettingsError(
            f"El servidor {preset.name} elige su puerto al arrancar: define "
            f"{ENV_PORT} con el número que muestra al ponerlo en marcha."
        )
    if port is None and security is None and preset is not None:
        return host, preset.port, preset.security
    if port is None and security is not None and preset is not None:
        port = preset.port_for(security)
    if port is None and security is not None:
        port = DEFAULT_PORTS.get(security)
    if security is None and port is not None:
        security = _security_for_port(port, preset)
    if port is None:
        raise SettingsError(
            f"Falta el puerto: define {ENV_PORT} en el archivo .env (587 para "
            "STARTTLS, 465 para TLS)."
        )
    if security is None:
        raise SettingsError(
            f"Falta la seguridad para el puerto {port}: define {ENV_SECURITY} "
            "como 'starttls', 'tls' o 'none'."
        )
    return host, port, security


def _security_for_port(port: int, preset: Preset | None) -> str | None:
    """Return the mode ``port`` implies at ``preset``'s provider, or in general."""
    if preset is not None:
        if port == preset.tls_port:
            return "tls"
        if port == preset.starttls_port:
            return "starttls"
        if port == preset.port or preset.port == PORT_OF_RUNNING_SERVER:
            return preset.security
    return PORT_SECURITY.get(port)


def password_from_prompt_or_env(
    variable: str = ENV_PASSWORD,
    prompt: str = "Contraseña: ",
    *,
    env_file: str | os.PathLike[str] | None = ".env",
) -> str:
    """Return a password from an environment variable, or ask with ``getpass``.

    The variable wins when it is set and not empty, then the same name in
    ``env_file``, so notebooks run under nbval (where ``getpass`` fails at
    once) never prompt. Prints where the password came from, never the
    password itself. Warns about ``env_file`` as :func:`read_checked_env_file`
    does. Raises :class:`SettingsError` when neither contains it and no prompt
    is possible, or when the typed password is empty.
    """
    from_environment = os.environ.get(variable, "")
    if from_environment:
        print(
            f"Contraseña leída de la variable de entorno {variable} " "(no se muestra)."
        )
        log.info("password read from environment variable %s", variable)
        return from_environment
    file_values = read_checked_env_file(env_file) if env_file else {}
    from_file = file_values.get(variable, "")
    if from_file:
        print(
            f"Contraseña leída de {variable} en el archivo {env_file} "
            "(no se muestra)."
        )
        log.info("password read from %s in %s", variable, env_file)
        return from_file
    try:
        typed = getpass.getpass(prompt)
    except (NotImplementedError, EOFError, OSError) as error:
        # IPython's StdinNotImplementedError is a NotImplementedError; a
        # closed stdin gives EOFError.
        raise SettingsError(
            "No se puede pedir la contraseña aquí porque no hay teclado "
            f"conectado. Define la variable de entorno {variable} (o escríbela "
            "en el archivo .env) y vuelve a ejecutar la celda."
        ) from error
    if not typed:
        raise SettingsError(
            "No has escrito ninguna contraseña. Vuelve a ejecutar la celda y "
            "escríbela; no se verá mientras la tecleas."
        )
    print("Contraseña leída del teclado con getpass (no se muestra).")
    log.info("password read with getpass")
    return typed
