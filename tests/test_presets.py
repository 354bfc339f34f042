"""Provider presets: complete, consistent, and found from a host name."""

from __future__ import annotations

import datetime
import smtplib

import pytest

from mailcourse import LAB_PASSWORD, LAB_USER
from mailcourse.client import login
from mailcourse.presets import (
    PORT_OF_RUNNING_SERVER,
    PRESETS,
    PROVIDER_KEYS,
    preset_by_key,
    preset_for_host,
)
from mailcourse.settings import ConnectionSettings, SettingsError

EXPECTED_KEYS = {
    "gmail",
    "outlook",
    "yahoo",
    "icloud",
    "zoho",
    "gmx",
    "local",
    "simulador",
}


def test_all_expected_presets_present():
    assert set(PRESETS) == EXPECTED_KEYS


def test_keys_match_dictionary():
    for key, preset in PRESETS.items():
        assert preset.key == key


@pytest.mark.parametrize("key", PROVIDER_KEYS)
def test_provider_preset_complete(key):
    preset = PRESETS[key]
    assert preset.host.startswith(("smtp", "mail."))
    assert preset.port in (465, 587)
    assert preset.security in ("tls", "starttls")
    assert isinstance(preset.checked_on, datetime.date)
    assert len(preset.requirements) > 40


@pytest.mark.parametrize("key", PROVIDER_KEYS)
def test_port_matches_security(key):
    preset = PRESETS[key]
    expected = {"tls": 465, "starttls": 587}[preset.security]
    assert preset.port == expected


@pytest.mark.parametrize("key", PROVIDER_KEYS)
def test_port_for_own_security(key):
    preset = PRESETS[key]
    assert preset.port_for(preset.security) == preset.port


@pytest.mark.parametrize("key", PROVIDER_KEYS)
def test_preset_builds_valid_settings(key):
    preset = PRESETS[key]
    settings = ConnectionSettings(
        preset.host, preset.port, preset.security, "a@b.test", "x"
    )
    assert settings.address == f"{preset.host}:{preset.port}"


def test_checked_on_not_future():
    today = datetime.date.today()
    for key in PROVIDER_KEYS:
        assert PRESETS[key].checked_on <= today


def test_app_password_providers_flagged():
    flagged = {key for key in PROVIDER_KEYS if PRESETS[key].needs_app_password}
    assert flagged == {"gmail", "yahoo", "icloud"}


def test_outlook_is_oauth_only():
    assert PRESETS["outlook"].oauth_only
    assert "OAuth2" in PRESETS["outlook"].requirements


def test_course_servers_have_no_fixed_port():
    assert PRESETS["local"].port == PORT_OF_RUNNING_SERVER
    assert PRESETS["simulador"].port == PORT_OF_RUNNING_SERVER


def test_local_server_security_none():
    assert PRESETS["local"].security == "none"
    assert PRESETS["local"].host == "127.0.0.1"


def test_gmail_offers_both_ports():
    gmail = PRESETS["gmail"]
    assert gmail.port_for("tls") == 465
    assert gmail.port_for("starttls") == 587
    assert gmail.port_for("none") is None


# preset_by_key() and preset_for_host()


def test_preset_by_key_ignores_case():
    assert preset_by_key(" GMail ") is PRESETS["gmail"]


def test_unknown_key_lists_choices():
    with pytest.raises(SettingsError) as raised:
        preset_by_key("correo")
    assert "'correo'" in str(raised.value)
    assert "gmail" in str(raised.value)


@pytest.mark.parametrize(
    ("host", "key"),
    [
        ("smtp.gmail.com", "gmail"),
        ("SMTP.GMAIL.COM.", "gmail"),
        ("smtp.office365.com", "outlook"),
        ("smtp-mail.outlook.com", "outlook"),
        ("smtp.mail.yahoo.com", "yahoo"),
        ("smtp.mail.me.com", "icloud"),
        ("smtp.zoho.eu", "zoho"),
        ("Mail.GMX.net", "gmx"),
    ],
)
def test_host_finds_preset(host, key):
    assert preset_for_host(host) is PRESETS[key]


@pytest.mark.parametrize("host", ["mail.ejemplo.test", "gmail.com", "", None])
def test_unknown_host_gives_none(host):
    assert preset_for_host(host) is None


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_gives_none(host):
    assert preset_for_host(host) is None


def test_simulator_preset_works_for_real(provider_simulator):
    preset = PRESETS["simulador"]
    with smtplib.SMTP(
        preset.host, provider_simulator.starttls_port, timeout=10
    ) as client:
        client.starttls(context=provider_simulator.client_context())
        code, _ = login(client, LAB_USER, LAB_PASSWORD)
    assert code == 235


def test_local_preset_works_for_real(local_server):
    preset = PRESETS["local"]
    with smtplib.SMTP(preset.host, local_server.port, timeout=10) as client:
        code, _ = client.noop()
    assert code == 250
