"""Helpers for the Spanish-language email course: bundled SMTP server and inbox.

The notebooks teach ``smtplib`` and ``email`` directly; this package supplies
what a student cannot run without installing a mail server: a local SMTP
server on 127.0.0.1 that stores every message in a Maildir, and an inbox view
of what arrived.
"""

from .inbox import Attachment, Inbox, InboxMessage
from .maildir_store import MaildirNotWritableError, MaildirStore
from .provider import (
    ACCENT_PASSWORD,
    ACCENT_USER,
    LAB_PASSWORD,
    LAB_USER,
    ProviderSimulator,
    running_simulators,
    start_provider_simulator,
    stop_all_simulators,
)
from .server import (
    LocalServer,
    running_servers,
    start_local_server,
    stop_all_servers,
)
from .server_errors import PortInUseError
from .diagnosis import Diagnosis, diagnose, diagnose_refused, explain
from .presets import PRESETS, Preset, preset_for_host
from .settings import (
    ConnectionSettings,
    SettingsError,
    load_settings,
    password_from_prompt_or_env,
)
from .transcript import debug_transcript, redact

# The forms import ipywidgets, so they load on first use, not with the package.
_FORM_NAMES = ("ComposeForm", "ConnectionForm", "InboxView", "SendForm")


def __getattr__(name: str):
    if name in _FORM_NAMES:
        from . import forms

        return getattr(forms, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = [
    "ACCENT_PASSWORD",
    "ACCENT_USER",
    "LAB_PASSWORD",
    "LAB_USER",
    "ProviderSimulator",
    "running_simulators",
    "start_provider_simulator",
    "stop_all_simulators",
    "Attachment",
    "Inbox",
    "InboxMessage",
    "LocalServer",
    "MaildirNotWritableError",
    "MaildirStore",
    "PortInUseError",
    "running_servers",
    "start_local_server",
    "stop_all_servers",
    "ConnectionSettings",
    "Diagnosis",
    "PRESETS",
    "Preset",
    "SettingsError",
    "debug_transcript",
    "diagnose",
    "diagnose_refused",
    "explain",
    "load_settings",
    "password_from_prompt_or_env",
    "preset_for_host",
    "redact",
    "ComposeForm",
    "ConnectionForm",
    "InboxView",
    "SendForm",
]
