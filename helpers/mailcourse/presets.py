"""Connection presets for common mail providers and the course's own servers.

Each :class:`Preset` gives the submission host, port and security mode and,
in Spanish, what the provider requires before ``login()`` works (an app
password, two-step verification, OAuth only...). Provider facts change: each
entry carries ``checked_on``, the date they were looked up, and a comment
naming the pages they came from.

NOTE: the provider facts come from third-party pages (provider databases,
library docs, issue threads) as stored on 2026-12-04, not from the
providers' own help pages. Check the provider's help page before relying
on an entry.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

# The bundled server and the provider simulator choose a free port when they
# start, so their presets carry PORT_OF_RUNNING_SERVER instead of a fixed port.
from .settings import PORT_OF_RUNNING_SERVER, SettingsError, is_loopback

CHECKED_ON = datetime.date(2026, 12, 4)


@dataclass(frozen=True)
class Preset:
    """Submission settings of one provider and what its accounts need.

    ``security`` is ``"starttls"`` or ``"tls"`` (``"none"`` only for the
    bundled server). ``requirements`` is Spanish text for students.
    ``other_hosts`` lists further host names of the same service, and
    ``tls_port`` / ``starttls_port`` the port of each mode when the provider
    offers both.
    """

    key: str
    name: str
    host: str
    port: int
    security: str
    requirements: str
    checked_on: datetime.date | None
    needs_app_password: bool = False
    oauth_only: bool = False
    other_hosts: tuple[str, ...] = field(default=())
    tls_port: int | None = None
    starttls_port: int | None = None
    help_url: str | None = None

    @property
    def hosts(self) -> tuple[str, ...]:
        """The main host followed by ``other_hosts``."""
        return (self.host, *self.other_hosts)

    def port_for(self, security: str) -> int | None:
        """Return this provider's port for ``security``, or None if not offered."""
        if security == self.security:
            return self.port
        if security == "tls":
            return self.tls_port
        if security == "starttls":
            return self.starttls_port
        return None


# Gmail: smtp.gmail.com, 587 STARTTLS or 465 TLS; an app password needs
# 2-Step Verification, and Google finished removing plain-password access in
# May 2025.
# Sources: https://developer.nylas.com/docs/cookbook/email/gmail-smtp-settings/
# and the 534 "5.7.9 Application-specific password required" replies quoted in
# https://github.com/Der-Henning/tgtg/issues/517 (2024) and
# https://github.com/bberkay/openmail/issues/1 (2026).
GMAIL = Preset(
    key="gmail",
    name="Gmail",
    host="smtp.gmail.com",
    port=587,
    security="starttls",
    requirements=(
        "Gmail no acepta la contraseña normal de tu cuenta. Activa la "
        "verificación en dos pasos en tu cuenta de Google y crea una "
        "contraseña de aplicación (16 letras) para usarla aquí."
    ),
    checked_on=CHECKED_ON,
    needs_app_password=True,
    other_hosts=("smtp.googlemail.com",),
    tls_port=465,
    starttls_port=587,
    help_url="https://support.google.com/accounts/answer/185833",
)

# Outlook.com / Hotmail and Microsoft 365: smtp-mail.outlook.com and
# smtp.office365.com, 587 STARTTLS. Personal accounts lost basic (password)
# authentication on 16 September 2024 and need OAuth2; Exchange Online
# replies "535 5.7.139 Authentication unsuccessful, basic authentication is
# disabled" and is retiring basic auth for SMTP AUTH in stages (550 5.7.30).
# Sources: https://github.com/harshalambani/ChatMailSync/releases/tag/v2.1.4,
# https://github.com/OpenCTI-Platform/opencti/issues/12069 and
# https://github.com/lukevella/rallly/issues/3154 (app passwords go through
# the same basic-auth path).
# NOTE: the exact retirement dates for Microsoft 365 tenants have moved
# several times; the text avoids dates for that reason.
OUTLOOK = Preset(
    key="outlook",
    name="Outlook.com / Microsoft 365",
    host="smtp-mail.outlook.com",
    port=587,
    security="starttls",
    requirements=(
        "Microsoft ya no acepta usuario y contraseña en SMTP para las "
        "cuentas personales (Outlook.com, Hotmail, Live) y los está "
        "retirando en Microsoft 365: hace falta OAuth2, que smtplib no hace "
        "por sí solo. Ni la contraseña normal ni una contraseña de "
        "aplicación sirven. En una cuenta de trabajo, solo el administrador "
        "puede reactivar SMTP AUTH para tu buzón."
    ),
    checked_on=CHECKED_ON,
    oauth_only=True,
    other_hosts=("smtp.office365.com", "smtp.live.com"),
    starttls_port=587,
    help_url=(
        "https://learn.microsoft.com/exchange/clients-and-mobile-in-exchange-online/"
        "authenticated-client-smtp-submission"
    ),
)

# Yahoo: smtp.mail.yahoo.com, 465 TLS, and 587 STARTTLS in third-party docs.
# The password is an app password from "Generate app password" in the account
# security page, which Yahoo offers only with two-step verification on.
# Sources: https://github.com/chatmail/provider-db/blob/master/_providers/yahoo.md
# (last_checked 2025-09) and
# https://raw.githubusercontent.com/aon082910/ghost-hub/main/docs/SETUP-YAHOO-IMAP.md.
# NOTE: port 587 for Yahoo comes from third-party pages only.
YAHOO = Preset(
    key="yahoo",
    name="Yahoo Mail",
    host="smtp.mail.yahoo.com",
    port=465,
    security="tls",
    requirements=(
        "Yahoo pide una contraseña de aplicación: activa la verificación en "
        "dos pasos y, en la página de seguridad de tu cuenta, usa «Generar "
        "contraseña de aplicación». La contraseña normal no funciona."
    ),
    checked_on=CHECKED_ON,
    needs_app_password=True,
    tls_port=465,
    starttls_port=587,
    help_url="https://login.yahoo.com/account/security",
)

# iCloud: smtp.mail.me.com, 587 STARTTLS. The user name is the full iCloud
# address and the password an app-specific password made at account.apple.com
# under "Sign-In and Security".
# NOTE: whether app-specific passwords need two-factor authentication was not
# confirmed from an Apple page, so the Spanish text does not say it.
# Sources: https://github.com/chatmail/provider-db/blob/master/_providers/icloud.md
# (last_checked 2024-10) and
# https://developer.nylas.com/docs/cookbook/email/icloud-mail-api/ (which
# quotes Apple's page https://support.apple.com/en-us/102525), and
# https://glama.ai/mcp/servers/sebastiaan-john/icloud-mcp/schema for where the
# app-specific password is made.
ICLOUD = Preset(
    key="icloud",
    name="iCloud Mail",
    host="smtp.mail.me.com",
    port=587,
    security="starttls",
    requirements=(
        "iCloud pide una contraseña específica para apps: créala en "
        "account.apple.com, en «Inicio de sesión y seguridad». El usuario es tu "
        "dirección de iCloud completa."
    ),
    checked_on=CHECKED_ON,
    needs_app_password=True,
    starttls_port=587,
    help_url="https://support.apple.com/en-us/102654",
)

# Zoho Mail: smtp.zoho.com, or the host of the account's data centre
# (smtp.zoho.eu, smtp.zoho.in...), 465 TLS or 587 STARTTLS. With two-factor
# authentication, login needs an application-specific password. The sender
# must be the account's address or one of its aliases.
# Sources: https://github.com/chatmail/provider-db/blob/master/_providers/zoho.md
# (last_checked 2021-06), Zoho's settings as copied in
# https://pastebin.com/az8SpXzp (ports, sender must match the account),
# https://gist.github.com/frankyxhl/981055b2f1f1698f873dc8e1956d43db (regional
# hosts) and user reports of app passwords in
# https://gist.github.com/amitbend/231cffcf86576432b55f61620db23b58.
# NOTE: whether Zoho requires an app password without two-factor
# authentication could not be confirmed from a Zoho page.
ZOHO = Preset(
    key="zoho",
    name="Zoho Mail",
    host="smtp.zoho.com",
    port=465,
    security="tls",
    requirements=(
        "Usa el servidor de tu región (smtp.zoho.eu en Europa, smtp.zoho.in "
        "en la India). Si tienes la autenticación en dos pasos activada, crea "
        "una contraseña específica de aplicación. El remitente (From) debe "
        "ser tu dirección de Zoho o uno de sus alias."
    ),
    checked_on=CHECKED_ON,
    other_hosts=(
        "smtp.zoho.eu",
        "smtp.zoho.in",
        "smtppro.zoho.com",
    ),
    tls_port=465,
    starttls_port=587,
)

# GMX: mail.gmx.net for every GMX domain (gmx.net, gmx.de, gmx.com...), 587
# STARTTLS or 465 TLS. Access for other programs (POP3/IMAP) must be switched
# on in the GMX web settings first.
# Sources: https://github.com/chatmail/provider-db/blob/master/_providers/gmx.net.md
# (last_checked 2017-06) and the GMX example (mail.gmx.net, 587) in
# https://github.com/sibalzer/impfbot/commit/491038104d8e23fe7c4ece2be26cb1033419c341.patch
# NOTE: the GMX facts come from old third-party pages; the switch's name in
# the GMX settings could not be checked.
GMX = Preset(
    key="gmx",
    name="GMX",
    host="mail.gmx.net",
    port=587,
    security="starttls",
    requirements=(
        "Antes de usar SMTP, activa en la web de GMX el acceso por POP3 e "
        "IMAP (en los ajustes de correo). El usuario es tu dirección de GMX "
        "completa."
    ),
    checked_on=CHECKED_ON,
    tls_port=465,
    starttls_port=587,
)

LOCAL = Preset(
    key="local",
    name="Servidor del curso (127.0.0.1)",
    host="127.0.0.1",
    port=PORT_OF_RUNNING_SERVER,
    security="none",
    requirements=(
        "No pide usuario ni contraseña y no cifra: solo escucha en tu propio "
        "ordenador. El puerto lo elige start_local_server(): míralo en "
        "servidor.port."
    ),
    checked_on=None,
)

SIMULATOR = Preset(
    key="simulador",
    name="Simulador de proveedor (127.0.0.1)",
    host="127.0.0.1",
    port=PORT_OF_RUNNING_SERVER,
    security="starttls",
    requirements=(
        "Se comporta como un proveedor real: STARTTLS o TLS, usuario y "
        "contraseña de la cuenta de laboratorio (LAB_USER y LAB_PASSWORD). "
        "Los puertos los elige start_provider_simulator(): míralos en "
        "simulador.starttls_port y simulador.tls_port, y usa "
        "simulador.client_context() para verificar su certificado."
    ),
    checked_on=None,
)

PRESETS: dict[str, Preset] = {
    preset.key: preset
    for preset in (GMAIL, OUTLOOK, YAHOO, ICLOUD, ZOHO, GMX, LOCAL, SIMULATOR)
}
PROVIDER_KEYS = ("gmail", "outlook", "yahoo", "icloud", "zoho", "gmx")


def preset_by_key(key: str) -> Preset:
    """Return the preset named ``key`` (any case), or raise :class:`SettingsError`."""
    cleaned = key.strip().lower()
    if cleaned in PRESETS:
        return PRESETS[cleaned]
    known = ", ".join(PRESETS)
    raise SettingsError(
        f"No hay ningún proveedor preparado con el nombre {key!r}. Los que "
        f"hay son: {known}. Si el tuyo no está, indica el servidor, el "
        "puerto y la seguridad tú mismo."
    )


def preset_for_host(host: str | None) -> Preset | None:
    """Return the provider preset whose hosts include ``host``, or None.

    Matching ignores case and a trailing dot. Loopback hosts return None,
    because the bundled server and the simulator share 127.0.0.1 and are
    distinguished by port, not by name.
    """
    if not host:
        return None
    cleaned = host.strip().lower().rstrip(".")
    if is_loopback(cleaned):
        return None
    for key in PROVIDER_KEYS:
        if cleaned in PRESETS[key].hosts:
            return PRESETS[key]
    return None
