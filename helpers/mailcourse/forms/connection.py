"""The connection form: which SMTP server, how to secure it, which account.

The form turns its fields into a :class:`~mailcourse.settings.ConnectionSettings`
and never opens a connection by itself: only the "Probar conexión" button
(and the send form) connect, through :func:`mailcourse.client.connect` and
:func:`mailcourse.client.login`, the functions the notebooks teach. Choosing a
preset fills the fields; a port that does not fit the chosen security is
flagged before any connection is tried.
"""

from __future__ import annotations

import logging
import smtplib

import ipywidgets as widgets
from traitlets import Int

from ..client import connect, login
from ..diagnosis import diagnose
from ..diagnosis.model import Context
from ..presets import PRESETS, PROVIDER_KEYS, Preset
from ..provider import LAB_PASSWORD, LAB_USER, running_simulators
from ..provider import start_provider_simulator
from ..server import running_servers, start_local_server
from ..settings import ConnectionSettings, SettingsError
from .feedback import (
    EMPTY,
    Feedback,
    FormInputError,
    FormProblem,
    code_html,
    diagnosis_feedback,
    format_bytes,
    problems_feedback,
)
from .password import PasswordField

log = logging.getLogger(__name__)

CUSTOM_PRESET = "otro"
LOCAL_PRESET = "local"
SIMULATOR_PRESET = "simulador"
SECURITY_LABELS = {
    "starttls": "STARTTLS",
    "tls": "TLS desde el primer byte (SMTP_SSL)",
    "none": "Ninguna (sin cifrar)",
}
DEFAULT_TIMEOUT_SECONDS = 10.0
# Errors a connection attempt raises on purpose; anything else is a bug and
# reaches the form's Output widget with its traceback.
CONNECTION_ERRORS = (smtplib.SMTPException, OSError, ValueError, UnicodeError)

_FIELD_LAYOUT = {"layout": widgets.Layout(width="34em")}
_FIELD_STYLE = {"description_width": "7em"}


def preset_options() -> list[tuple[str, str]]:
    """Return the preset dropdown options: course servers, providers, custom."""
    keys = [LOCAL_PRESET, SIMULATOR_PRESET, *PROVIDER_KEYS]
    options = [(PRESETS[key].name, key) for key in keys]
    options.append(("Otro servidor (escríbelo tú)", CUSTOM_PRESET))
    return options


def host_problem(host: str) -> str | None:
    """Return why ``host`` cannot be an SMTP server name, or None if it can."""
    if not host:
        return (
            "falta el servidor. Escribe su nombre, por ejemplo smtp.gmail.com, "
            "o 127.0.0.1 para el servidor del curso."
        )
    if "\r" in host or "\n" in host:
        return "contiene un salto de línea. Escribe el nombre en una sola línea."
    if "://" in host or "/" in host:
        return (
            f"{host!r} parece una dirección web. Escribe solo el nombre, sin "
            "https:// ni barras, por ejemplo smtp.gmail.com."
        )
    if "@" in host:
        return (
            f"{host!r} parece una dirección de correo. El servidor es un nombre "
            "como smtp.gmail.com; tu dirección va en «Usuario»."
        )
    if any(character.isspace() for character in host):
        return f"{host!r} lleva espacios. Un nombre de servidor no tiene espacios."
    if host.count(":") == 1:
        return (
            f"{host!r} incluye un puerto. Quita los dos puntos y el número, y "
            "escribe el puerto en «Puerto»."
        )
    try:
        # The idna codec is what socket uses for names with accents (IDN).
        host.encode("idna")
    except UnicodeError:
        return (
            f"{host!r} no es un nombre de servidor válido: cada parte entre "
            "puntos debe tener entre 1 y 63 letras, cifras o guiones."
        )
    return None


def port_security_problem(host: str, port: int, security: str) -> str | None:
    """Return why ``security`` does not fit ``port``, or None if it fits.

    Port 465 and a running simulator's TLS port expect TLS from the first
    byte. Port 587 and a simulator's STARTTLS port expect STARTTLS. The
    bundled server's port expects no encryption at all.
    """
    context = Context(host=host, port=port, security=security)
    like_465 = "" if port == 465 else " (como el 465)"
    like_587 = "" if port == 587 else " (como el 587)"
    if context.course_server_role() == "local" and security != "none":
        return (
            f"el servidor del curso (puerto {port}) no cifra la conexión, así "
            "que no entiende TLS ni STARTTLS. Elige «Ninguna» en «Seguridad»."
        )
    if context.is_implicit_tls_port() and security != "tls":
        return (
            f"el puerto {port} espera TLS desde el primer byte{like_465}, "
            f"y has elegido {SECURITY_LABELS[security]}: el servidor no "
            "contestaría. Elige «TLS» en «Seguridad», o usa el puerto de "
            "STARTTLS (587)."
        )
    if context.is_starttls_port() and security == "tls":
        return (
            f"el puerto {port} empieza sin cifrar y pasa a TLS con "
            f"STARTTLS{like_587}, así que TLS desde el primer byte falla con "
            "«wrong version number». Elige «STARTTLS», o usa el puerto 465."
        )
    if context.is_starttls_port() and security == "none":
        return (
            f"el puerto {port} es de STARTTLS{like_587}: el servidor pide "
            "cifrar antes de aceptar nada, y sin cifrar tu contraseña viajaría "
            "a la vista. Elige «STARTTLS» en «Seguridad»."
        )
    return None


def advertised_size_limit(client: smtplib.SMTP) -> int | None:
    """Return the SIZE limit the server announced after EHLO, or None.

    ``SIZE 0`` and a missing SIZE both mean no announced limit (RFC 1870).
    """
    client.ehlo_or_helo_if_needed()
    announced = client.esmtp_features.get("size", "").strip()
    if not announced.isdigit() or int(announced) == 0:
        return None
    return int(announced)


def probe_server(settings: ConnectionSettings, *, log_in: bool) -> int | None:
    """Connect, read the SIZE limit, optionally log in, and quit.

    Returns the advertised SIZE limit in bytes, or None. Raises what
    :func:`mailcourse.client.connect` and :func:`mailcourse.client.login`
    raise: ``OSError`` (refused, timed out, unknown host),
    ``ssl.SSLError``, ``smtplib.SMTPServerDisconnected``,
    ``smtplib.SMTPAuthenticationError``, ``smtplib.SMTPNotSupportedError``
    and other ``smtplib.SMTPException`` subclasses.
    """
    client = connect(
        settings.host,
        settings.port,
        security=settings.security,  # type: ignore[arg-type]
        timeout=settings.timeout,
    )
    try:
        limit = advertised_size_limit(client)
        if log_in and settings.user:
            login(client, settings.user, settings.password or "")
        client.quit()
    finally:
        client.close()
    return limit


class ConnectionForm(widgets.VBox):
    """Fields for the SMTP server, its security mode and the account.

    ``local_server`` and ``simulator`` are the course servers that the two
    course presets point at. When one is not given, choosing its preset uses
    a running server or starts one on 127.0.0.1. ``size_limit`` is the SIZE
    limit (bytes) the server announced the last time it was checked, or None.
    """

    size_limit = Int(None, allow_none=True)

    def __init__(
        self,
        *,
        preset: str = LOCAL_PRESET,
        local_server=None,
        simulator=None,
    ) -> None:
        self._local_server = local_server
        self._simulator = simulator
        self._applying_preset = False
        # True while the stored password is the lab one that the simulator
        # preset filled in, rather than one the student typed.
        self._password_from_preset = False
        # The (host, port, security) that ``size_limit`` belongs to.
        self._checked_address: tuple[str, int, str] | None = None
        self._create_fields()
        self._create_outputs()
        super().__init__(children=self._layout())
        self.add_class("mailcourse-connection")
        for field in self.inputs():
            field.observe(self._on_field_change, names="value")
        self.preset.observe(self._on_preset_change, names="value")
        self.check_button.on_click(self._on_check_click)
        self.preset.value = preset
        if preset == LOCAL_PRESET:
            # Setting the value the dropdown already has fires no event.
            self.apply_preset(preset)

    def _create_fields(self) -> None:
        common = {"style": _FIELD_STYLE, **_FIELD_LAYOUT}
        self.preset = widgets.Dropdown(
            options=preset_options(), description="Proveedor", **common
        )
        self.host = widgets.Text(
            description="Servidor", placeholder="smtp.ejemplo.test", **common
        )
        self.port = widgets.IntText(description="Puerto", **common)
        self.security = widgets.Dropdown(
            options=[(label, key) for key, label in SECURITY_LABELS.items()],
            description="Seguridad",
            **common,
        )
        self.user = widgets.Text(
            description="Usuario", placeholder="tu dirección de correo", **common
        )
        self.password = PasswordField(description="Contraseña", style=_FIELD_STYLE)
        self.timeout = widgets.BoundedFloatText(
            value=DEFAULT_TIMEOUT_SECONDS,
            min=1,
            max=120,
            description="Espera (s)",
            **common,
        )

    def _create_outputs(self) -> None:
        self.requirements = widgets.HTML()
        self.warnings = widgets.HTML()
        self.check_button = widgets.Button(
            description="Probar conexión", icon="plug", layout={"width": "auto"}
        )
        self.status = widgets.HTML()
        self.code_view = widgets.HTML()
        self.output = widgets.Output()
        self.feedback = EMPTY

    def _layout(self) -> list[widgets.Widget]:
        code_panel = widgets.Accordion(children=[self.code_view])
        code_panel.set_title(0, "Código que ejecuta «Probar conexión»")
        return [
            widgets.HTML("<b>1. Conexión con el servidor SMTP</b>"),
            self.preset,
            self.requirements,
            self.host,
            self.port,
            self.security,
            self.user,
            self.password,
            self.timeout,
            self.warnings,
            widgets.HBox([self.check_button]),
            self.status,
            code_panel,
            self.output,
        ]

    def inputs(self) -> list[widgets.ValueWidget]:
        """Return the widgets whose values make up the settings."""
        return [
            self.host,
            self.port,
            self.security,
            self.user,
            self.password.input,
            self.timeout,
        ]

    # Presets -----------------------------------------------------------------

    def _on_preset_change(self, change: dict) -> None:
        if change["new"] != CUSTOM_PRESET:
            self.apply_preset(change["new"])
        else:
            self.requirements.value = ""

    def apply_preset(self, key: str) -> None:
        """Fill host, port, security and account from the preset ``key``.

        The course presets start their server on 127.0.0.1 when none is
        running; a provider preset connects to nothing.
        """
        self._applying_preset = True
        try:
            if key == LOCAL_PRESET:
                self._fill_local()
            elif key == SIMULATOR_PRESET:
                self._fill_simulator()
            else:
                self._fill_provider(PRESETS[key])
        finally:
            self._applying_preset = False
        self.requirements.value = _requirements_html(PRESETS[key])
        self._on_field_change()

    def _fill_local(self) -> None:
        server = self._local_server
        if server is None:
            running = running_servers()
            server = running[0] if running else start_local_server()
            self._local_server = server
        self._fill(server.host, server.port, "none", user="", password="")

    def _fill_simulator(self) -> None:
        simulator = self._simulator
        if simulator is None:
            running = running_simulators()
            simulator = running[0] if running else start_provider_simulator()
            self._simulator = simulator
        self._fill(
            simulator.host,
            simulator.starttls_port,
            "starttls",
            user=LAB_USER,
            password=LAB_PASSWORD,
        )

    def _fill_provider(self, preset: Preset) -> None:
        self._fill(preset.host, preset.port, preset.security, user="", password="")

    def _fill(
        self, host: str, port: int, security: str, *, user: str, password: str
    ) -> None:
        self.host.value = host
        self.port.value = port
        self.security.value = security
        self.user.value = user
        self.password.set_secret(password)
        self._password_from_preset = bool(password)

    # Checks ------------------------------------------------------------------

    def _on_field_change(self, change: dict | None = None) -> None:
        owner = None if change is None else change["owner"]
        if owner is self.password.input and not self._applying_preset:
            self._password_from_preset = False
        if owner in (self.host, self.port) and not self._applying_preset:
            self._mark_custom()
        if owner in (None, self.host, self.port, self.security):
            # The announced SIZE belongs to the server checked last.
            self._checked_address = None
            self.size_limit = None
        problems = self.problems()
        if problems:
            self.warnings.value = problems_feedback(
                "Antes de conectar, corrige esto:", problems
            ).html()
        else:
            self.warnings.value = ""
        self.code_view.value = code_html(self.code())

    def _mark_custom(self) -> None:
        # Editing host or port leaves the preset's notes behind.
        preset = PRESETS.get(self.preset.value)
        if preset is None:
            return
        same_host = self.host.value.strip() == preset.host
        if not same_host or (preset.port and self.port.value != preset.port):
            self.preset.value = CUSTOM_PRESET
        if not same_host and self._password_from_preset:
            self._drop_lab_account()

    def _drop_lab_account(self) -> None:
        # The lab account exists only in the simulator, so a new host must
        # not receive its password (or its user name, unless retyped).
        self._applying_preset = True
        try:
            if self.user.value.strip() == LAB_USER:
                self.user.value = ""
            self.password.forget()
        finally:
            self._applying_preset = False
        self._password_from_preset = False

    def problems(self) -> list[FormProblem]:
        """Return every problem in the fields, without connecting."""
        problems = []
        host = self.host.value.strip()
        host_error = host_problem(host)
        if host_error:
            problems.append(FormProblem("Servidor", host_error))
        port = self.port.value
        if not 1 <= port <= 65535:
            problems.append(
                FormProblem(
                    "Puerto",
                    f"{port} está fuera del rango válido (1 a 65535). Los "
                    "proveedores usan 587 (STARTTLS) o 465 (TLS).",
                )
            )
        elif not host_error:
            mismatch = port_security_problem(host, port, self.security.value)
            if mismatch:
                problems.append(FormProblem("Seguridad", mismatch))
        problems += self._account_problems()
        return problems

    def _account_problems(self) -> list[FormProblem]:
        user = self.user.value.strip()
        if "\r" in user or "\n" in user:
            return [
                FormProblem(
                    "Usuario",
                    "contiene un salto de línea. Escríbelo en una sola línea.",
                )
            ]
        if self.password.has_secret and not user:
            return [
                FormProblem(
                    "Usuario",
                    "hay una contraseña pero falta el usuario. Casi siempre es "
                    "tu dirección de correo completa.",
                )
            ]
        if user and not self.password.has_secret:
            return [
                FormProblem(
                    "Contraseña",
                    f"falta la contraseña de {user}. Escríbela y pulsa Intro; "
                    "no se guarda en el cuaderno.",
                )
            ]
        return []

    def settings(self) -> ConnectionSettings:
        """Return the fields as settings; raise :class:`FormInputError` if invalid."""
        problems = self.problems()
        if problems:
            raise FormInputError(problems)
        try:
            return ConnectionSettings(
                host=self.host.value.strip(),
                port=self.port.value,
                security=self.security.value,
                user=self.user.value.strip() or None,
                password=self.password.secret or None,
                timeout=self.timeout.value,
            )
        except SettingsError as error:
            raise FormInputError([FormProblem("Conexión", str(error))]) from None

    def code(self) -> str:
        """Return the Python code "Probar conexión" runs with these fields."""
        user = self.user.value.strip()
        lines = ["from mailcourse.client import connect, login"]
        if user:
            # The password is never shown: the code asks for it, as lesson 6 does.
            lines += [
                "from getpass import getpass",
                "",
                'contraseña = getpass("Contraseña: ")',
            ]
        lines += [
            "",
            "conexion = connect(",
            f"    {self.host.value.strip()!r},",
            f"    port={self.port.value},",
            f"    security={self.security.value!r},",
            f"    timeout={self.timeout.value:g},",
            ")",
        ]
        if user:
            lines.append(f"login(conexion, {user!r}, contraseña)")
        lines.append("conexion.quit()")
        return "\n".join(lines)

    # Probing -----------------------------------------------------------------

    def _on_check_click(self, _button: widgets.Button) -> None:
        with self.output:
            self.check_button.disabled = True
            try:
                self.check_connection()
            finally:
                self.check_button.disabled = False

    def check_connection(self) -> Feedback:
        """Connect, log in when a user is set, and show what the server offers."""
        try:
            settings = self.settings()
        except FormInputError as error:
            title = "Revisa la conexión antes de probarla:"
            return self._show(problems_feedback(title, error.problems))
        try:
            limit = probe_server(settings, log_in=True)
        except CONNECTION_ERRORS as error:
            log.info(
                "connection check to %s failed: %s",
                settings.address,
                type(error).__name__,
            )
            return self._show(diagnosis_feedback(diagnose(error, settings=settings)))
        self._remember_limit(settings, limit)
        lines = [f"Seguridad: {SECURITY_LABELS[settings.security]}."]
        if settings.user:
            lines.append(f"Sesión iniciada como {settings.user}.")
        if limit is None:
            lines.append("El servidor no anuncia un tamaño máximo de mensaje.")
        else:
            lines.append(f"Acepta mensajes de hasta {format_bytes(limit)} (SIZE).")
        return self._show(
            Feedback("ok", f"Conexión correcta con {settings.address}", tuple(lines))
        )

    def server_size_limit(self, settings: ConnectionSettings) -> int | None:
        """Return the server's SIZE limit, asking the server once per address.

        Connects only when the limit of this host, port and security mode is
        not known yet, and does not log in. Raises what :func:`probe_server`
        raises.
        """
        address = (settings.host, settings.port, settings.security)
        if self._checked_address != address:
            self._remember_limit(settings, probe_server(settings, log_in=False))
        return self.size_limit

    def _remember_limit(self, settings: ConnectionSettings, limit: int | None) -> None:
        self._checked_address = (settings.host, settings.port, settings.security)
        self.size_limit = limit

    def _show(self, feedback: Feedback) -> Feedback:
        self.feedback = feedback
        self.status.value = feedback.html()
        return feedback

    @property
    def status_text(self) -> str:
        """The message under "Probar conexión", as plain text."""
        return self.feedback.text()

    def __repr__(self) -> str:
        return "Formulario de conexión SMTP (ejecuta la celda para usarlo)"


def _requirements_html(preset: Preset) -> str:
    text = preset.requirements
    if preset.checked_on is not None:
        text += f" (Datos comprobados el {preset.checked_on:%d/%m/%Y}.)"
    return Feedback("info", preset.name, (text,)).html()
