"""Connection settings: validation, .env files, environment and password prompts."""

from __future__ import annotations

import os
import smtplib
import subprocess
import sys
import warnings

import pytest

from mailcourse import LAB_PASSWORD, LAB_USER
from mailcourse.client import send
from mailcourse.settings import (
    ConnectionSettings,
    SettingsError,
    SettingsWarning,
    load_settings,
    normalize_security,
    password_from_prompt_or_env,
    read_env_file,
)
from sample_messages import make_message

SECRET = "clave-muy-secreta-42"
VARIABLES = (
    "MAILCOURSE_SMTP_HOST",
    "MAILCOURSE_SMTP_PORT",
    "MAILCOURSE_SMTP_SECURITY",
    "MAILCOURSE_SMTP_USER",
    "MAILCOURSE_SMTP_PASSWORD",
    "MAILCOURSE_SMTP_PRESET",
    "MAILCOURSE_SMTP_TIMEOUT",
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    """Remove any MAILCOURSE_SMTP_* variable the machine may have set."""
    for name in VARIABLES:
        monkeypatch.delenv(name, raising=False)


def write_env(tmp_path, text: str):
    path = tmp_path / ".env"
    path.write_text(text, encoding="utf-8")
    return path


# ConnectionSettings


def test_password_absent_from_repr():
    settings = ConnectionSettings("smtp.gmail.com", 587, "starttls", "a@b.test", SECRET)
    assert SECRET not in repr(settings)
    assert SECRET not in str(settings)
    assert SECRET not in settings._repr_html_()


def test_str_says_password_stored():
    settings = ConnectionSettings("smtp.gmail.com", 587, "starttls", "a@b.test", SECRET)
    assert "contraseña guardada" in str(settings)


def test_password_still_usable():
    settings = ConnectionSettings("smtp.gmail.com", 587, "starttls", "a@b.test", SECRET)
    assert settings.password == SECRET


def test_default_timeout_ten_seconds():
    settings = ConnectionSettings("smtp.gmail.com", 587, "starttls", "a@b.test", SECRET)
    assert settings.timeout == 10


def test_port_text_converted():
    settings = ConnectionSettings("smtp.gmail.com", "465", "tls")
    assert settings.port == 465


@pytest.mark.parametrize("spelling", ["SSL", "ssl/tls", "TLS", " smtps "])
def test_security_aliases_mean_tls(spelling):
    assert normalize_security(spelling) == "tls"


@pytest.mark.parametrize(
    ("arguments", "expected_words"),
    [
        (("smtp.gmail.com", "quinientos", "tls"), ["'quinientos'", "587"]),
        (("smtp.gmail.com", 70000, "tls"), ["70000", "65535"]),
        (("smtp.gmail.com", 0, "tls"), ["0", "65535"]),
        (("smtp.gmail.com", 587, "cifrado"), ["'cifrado'", "starttls"]),
        (("", 587, "starttls"), ["Falta el servidor"]),
        (("https://smtp.gmail.com", 587, "starttls"), ["https://"]),
        (("smtp.gmail.com:587", 587, "starttls"), ["incluye un puerto"]),
        (("ana@gmail.com", 587, "starttls"), ["'ana@gmail.com'"]),
    ],
)
def test_invalid_values_named(arguments, expected_words):
    with pytest.raises(SettingsError) as raised:
        ConnectionSettings(*arguments)
    for word in expected_words:
        assert word in str(raised.value)


def test_password_without_user_rejected():
    with pytest.raises(SettingsError) as raised:
        ConnectionSettings("smtp.gmail.com", 587, "starttls", None, SECRET)
    assert "falta el usuario" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_plain_password_remote_rejected():
    with pytest.raises(SettingsError) as raised:
        ConnectionSettings("smtp.gmail.com", 25, "none", "a@b.test", SECRET)
    assert "sin cifrar" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_plain_password_loopback_allowed():
    settings = ConnectionSettings("127.0.0.1", 2525, "none", "a@b.test", SECRET)
    assert settings.security == "none"


@pytest.mark.parametrize("timeout", [0, -1, "nunca"])
def test_invalid_timeout_rejected(timeout):
    with pytest.raises(SettingsError):
        ConnectionSettings("smtp.gmail.com", 587, "starttls", timeout=timeout)


def test_settings_are_frozen():
    settings = ConnectionSettings("smtp.gmail.com", 587)
    with pytest.raises(AttributeError):
        settings.port = 25  # type: ignore[misc]


# .env files


def test_env_file_parsed(tmp_path):
    path = write_env(
        tmp_path,
        "# mi proveedor\n"
        "export MAILCOURSE_SMTP_HOST=smtp.gmail.com\n"
        "MAILCOURSE_SMTP_PORT = 465\n"
        "MAILCOURSE_SMTP_PASSWORD='con # almohadilla'\n"
        "\n",
    )
    values = read_env_file(path)
    assert values["MAILCOURSE_SMTP_HOST"] == "smtp.gmail.com"
    assert values["MAILCOURSE_SMTP_PORT"] == "465"
    assert values["MAILCOURSE_SMTP_PASSWORD"] == "con # almohadilla"


def test_missing_env_file_empty(tmp_path):
    assert read_env_file(tmp_path / "no-existe.env") == {}


def test_env_line_error_hides_content(tmp_path):
    path = write_env(tmp_path, f"MAILCOURSE_SMTP_HOST=smtp.gmail.com\n{SECRET}\n")
    with pytest.raises(SettingsError) as raised:
        read_env_file(path)
    assert "línea 2" in str(raised.value)
    assert SECRET not in str(raised.value)


def test_byte_order_mark_stripped(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfMAILCOURSE_SMTP_HOST=smtp.gmail.com\n")
    values = read_env_file(path)
    assert values == {"MAILCOURSE_SMTP_HOST": "smtp.gmail.com"}


def test_byte_order_mark_settings_load(tmp_path):
    path = tmp_path / ".env"
    path.write_bytes(b"\xef\xbb\xbfMAILCOURSE_SMTP_HOST=smtp.gmail.com\n")
    settings = load_settings(path, environ={})
    assert settings.host == "smtp.gmail.com"


def test_unknown_key_warning_names_keys(tmp_path):
    path = write_env(
        tmp_path,
        "MAILCOURSE_SMTP_HOST=smtp.gmail.com\n"
        "MAILCOURSE_SMTP_USUARIO=ana@gmail.com\n",
    )
    with pytest.warns(SettingsWarning) as recorded:
        load_settings(path, environ={})
    message = str(recorded[0].message)
    assert "MAILCOURSE_SMTP_USUARIO" in message
    assert "¿Querías decir MAILCOURSE_SMTP_USER?" in message
    assert "MAILCOURSE_SMTP_PASSWORD" in message
    assert "MAILCOURSE_SMTP_TIMEOUT" in message


def test_unknown_key_warning_hides_value(tmp_path):
    path = write_env(
        tmp_path,
        "MAILCOURSE_SMTP_HOST=smtp.gmail.com\n"
        f"MAILCOURSE_SMTP_CLAVE={SECRET}\n",
    )
    with pytest.warns(SettingsWarning) as recorded:
        load_settings(path, environ={})
    message = str(recorded[0].message)
    assert "MAILCOURSE_SMTP_CLAVE" in message
    assert SECRET not in message


def test_unknown_environment_key_warns(tmp_path):
    environ = {"MAILCOURSE_SMTP_HOST": "smtp.gmail.com", "MAILCOURSE_SMTP_PUERTO": "1"}
    with pytest.warns(SettingsWarning, match="MAILCOURSE_SMTP_PUERTO"):
        load_settings(tmp_path / ".env", environ=environ)


def test_env_txt_named_when_missing(tmp_path):
    (tmp_path / ".env.txt").write_text("MAILCOURSE_SMTP_HOST=smtp.gmail.com\n")
    with pytest.warns(SettingsWarning) as recorded:
        settings = load_settings(tmp_path / ".env", environ={})
    assert settings is None
    assert ".env.txt" in str(recorded[0].message)
    assert "Bloc de notas" in str(recorded[0].message)


def test_env_txt_ignored_when_env_exists(tmp_path):
    path = write_env(tmp_path, "MAILCOURSE_SMTP_HOST=smtp.gmail.com\n")
    (tmp_path / ".env.txt").write_text("MAILCOURSE_SMTP_HOST=smtp.mail.me.com\n")
    with warnings.catch_warnings():
        warnings.simplefilter("error", SettingsWarning)
        settings = load_settings(path, environ={})
    assert settings.host == "smtp.gmail.com"


def test_password_prompt_names_env_txt(tmp_path, monkeypatch):
    (tmp_path / ".env.txt").write_text(f"MAILCOURSE_SMTP_PASSWORD={SECRET}\n")
    monkeypatch.setattr("getpass.getpass", lambda prompt: "tecleada")
    with pytest.warns(SettingsWarning, match=r"\.env\.txt") as recorded:
        password_from_prompt_or_env(env_file=tmp_path / ".env")
    assert SECRET not in str(recorded[0].message)


@pytest.mark.parametrize(
    ("port", "security", "expected_words"),
    [
        ("587", "tls", ["587", "wrong version number", "=starttls"]),
        ("465", "starttls", ["465", "primer byte", "=tls"]),
        ("587", "none", ["587", "=starttls"]),
    ],
)
def test_port_security_mismatch_warns(tmp_path, port, security, expected_words):
    environ = {
        "MAILCOURSE_SMTP_HOST": "mail.ejemplo.test",
        "MAILCOURSE_SMTP_PORT": port,
        "MAILCOURSE_SMTP_SECURITY": security,
    }
    with pytest.warns(SettingsWarning) as recorded:
        load_settings(tmp_path / ".env", environ=environ)
    for word in expected_words:
        assert word in str(recorded[0].message)


@pytest.mark.parametrize(("port", "security"), [("587", "starttls"), ("465", "tls")])
def test_matching_port_security_silent(tmp_path, port, security):
    environ = {
        "MAILCOURSE_SMTP_HOST": "mail.ejemplo.test",
        "MAILCOURSE_SMTP_PORT": port,
        "MAILCOURSE_SMTP_SECURITY": security,
    }
    with warnings.catch_warnings():
        warnings.simplefilter("error", SettingsWarning)
        settings = load_settings(tmp_path / ".env", environ=environ)
    assert settings.port == int(port)


def test_mismatch_warning_hides_password(tmp_path):
    environ = {
        "MAILCOURSE_SMTP_HOST": "smtp.gmail.com",
        "MAILCOURSE_SMTP_PORT": "465",
        "MAILCOURSE_SMTP_SECURITY": "starttls",
        "MAILCOURSE_SMTP_USER": "ana@gmail.com",
        "MAILCOURSE_SMTP_PASSWORD": SECRET,
    }
    with pytest.warns(SettingsWarning) as recorded:
        load_settings(tmp_path / ".env", environ=environ)
    assert SECRET not in str(recorded[0].message)


# load_settings()


def test_nothing_set_returns_none(tmp_path):
    assert load_settings(tmp_path / ".env") is None


def test_loads_from_env_file(tmp_path):
    path = write_env(
        tmp_path,
        "MAILCOURSE_SMTP_HOST=smtp.gmail.com\n"
        "MAILCOURSE_SMTP_PORT=465\n"
        "MAILCOURSE_SMTP_SECURITY=tls\n"
        "MAILCOURSE_SMTP_USER=ana@gmail.com\n"
        f"MAILCOURSE_SMTP_PASSWORD={SECRET}\n",
    )
    settings = load_settings(path)
    assert settings == ConnectionSettings(
        "smtp.gmail.com", 465, "tls", "ana@gmail.com", SECRET
    )


def test_environment_overrides_file(tmp_path, monkeypatch):
    path = write_env(tmp_path, "MAILCOURSE_SMTP_HOST=smtp.gmail.com\n")
    monkeypatch.setenv("MAILCOURSE_SMTP_HOST", "smtp.mail.me.com")
    settings = load_settings(path)
    assert settings.host == "smtp.mail.me.com"
    assert settings.port == 587


def test_preset_fills_connection(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_PRESET", "Yahoo")
    monkeypatch.setenv("MAILCOURSE_SMTP_USER", "ana@yahoo.com")
    settings = load_settings(tmp_path / ".env")
    assert settings.host == "smtp.mail.yahoo.com"
    assert settings.port == 465
    assert settings.security == "tls"


def test_preset_with_other_security(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_PRESET", "gmail")
    monkeypatch.setenv("MAILCOURSE_SMTP_SECURITY", "tls")
    settings = load_settings(tmp_path / ".env")
    assert settings.port == 465


def test_known_host_fills_port(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_HOST", "smtp.gmail.com")
    settings = load_settings(tmp_path / ".env")
    assert settings.port == 587
    assert settings.security == "starttls"


def test_port_465_implies_tls(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_HOST", "mail.ejemplo.test")
    monkeypatch.setenv("MAILCOURSE_SMTP_PORT", "465")
    settings = load_settings(tmp_path / ".env")
    assert settings.security == "tls"


def test_unknown_preset_lists_known(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_PRESET", "hotmeil")
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path / ".env")
    assert "'hotmeil'" in str(raised.value)
    assert "outlook" in str(raised.value)


def test_missing_host_named(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_USER", "ana@gmail.com")
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path / ".env")
    assert "MAILCOURSE_SMTP_HOST" in str(raised.value)


def test_missing_port_named(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_HOST", "mail.ejemplo.test")
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path / ".env")
    assert "MAILCOURSE_SMTP_PORT" in str(raised.value)


def test_missing_security_named(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_HOST", "mail.ejemplo.test")
    monkeypatch.setenv("MAILCOURSE_SMTP_PORT", "2525")
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path / ".env")
    assert "MAILCOURSE_SMTP_SECURITY" in str(raised.value)


def test_bad_port_value_named(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_HOST", "smtp.gmail.com")
    monkeypatch.setenv("MAILCOURSE_SMTP_PORT", "58 7")
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path / ".env")
    assert "'58 7'" in str(raised.value)


def test_loaded_settings_send_for_real(tmp_path, monkeypatch, provider_simulator):
    monkeypatch.setenv("MAILCOURSE_SMTP_HOST", provider_simulator.host)
    monkeypatch.setenv("MAILCOURSE_SMTP_PORT", str(provider_simulator.starttls_port))
    monkeypatch.setenv("MAILCOURSE_SMTP_SECURITY", "starttls")
    monkeypatch.setenv("MAILCOURSE_SMTP_USER", LAB_USER)
    path = write_env(tmp_path, f"MAILCOURSE_SMTP_PASSWORD={LAB_PASSWORD}\n")
    result = send(load_settings(path), make_message(sender=LAB_USER))
    assert result.refused == {}
    assert len(provider_simulator.inbox) == 1


def test_wrong_password_error_hides_it(provider_simulator):
    settings = ConnectionSettings(
        provider_simulator.host, provider_simulator.tls_port, "tls", LAB_USER, SECRET
    )
    with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
        send(settings, make_message(sender=LAB_USER))
    assert SECRET not in str(raised.value)
    assert SECRET not in raised.value.transcript


# password_from_prompt_or_env()


def test_password_from_environment(monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MI_CLAVE", SECRET)
    password = password_from_prompt_or_env("MI_CLAVE", env_file=tmp_path / ".env")
    output = capsys.readouterr().out
    assert password == SECRET
    assert "MI_CLAVE" in output
    assert SECRET not in output


def test_password_from_env_file(monkeypatch, capsys, tmp_path):
    path = write_env(tmp_path, f"MI_CLAVE={SECRET}\n")
    password = password_from_prompt_or_env("MI_CLAVE", env_file=path)
    output = capsys.readouterr().out
    assert password == SECRET
    assert ".env" in output
    assert SECRET not in output


PROMPT_SCRIPT = """
from mailcourse.settings import password_from_prompt_or_env
password = password_from_prompt_or_env("MI_CLAVE", "Tu clave: ", env_file=None)
print("longitud", len(password))
"""


def run_prompt_script(stdin_text: str | None) -> subprocess.CompletedProcess:
    """Run the prompt in a new session (no terminal), typing ``stdin_text``."""
    environment = {k: v for k, v in os.environ.items() if k != "MI_CLAVE"}
    return subprocess.run(
        [sys.executable, "-c", PROMPT_SCRIPT],
        input=stdin_text,
        stdin=None if stdin_text is not None else subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=environment,
        start_new_session=True,
        timeout=60,
    )


def test_password_from_real_getpass():
    completed = run_prompt_script(SECRET + "\n")
    assert completed.returncode == 0
    assert f"longitud {len(SECRET)}" in completed.stdout
    assert "getpass" in completed.stdout
    assert SECRET not in completed.stdout + completed.stderr


def test_closed_stdin_names_variable():
    completed = run_prompt_script(None)
    assert completed.returncode == 1
    assert "SettingsError" in completed.stderr
    assert "MI_CLAVE" in completed.stderr


KERNEL_PROMPT = """
from mailcourse.settings import password_from_prompt_or_env
password = password_from_prompt_or_env("MI_CLAVE", env_file=None)
print("longitud", len(password))
"""


def run_in_kernel(code: str, environment: dict[str, str]) -> list[dict]:
    """Run ``code`` in a real IPython kernel without stdin, as nbval does."""
    from jupyter_client.manager import start_new_kernel

    manager, client = start_new_kernel(kernel_name="python3", env=environment)
    messages: list[dict] = []
    try:
        client.execute_interactive(
            code, timeout=60, allow_stdin=False, output_hook=messages.append
        )
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)
    return messages


def kernel_text(messages: list[dict]) -> str:
    parts = []
    for message in messages:
        content = message["content"]
        if message["msg_type"] == "stream":
            parts.append(content["text"])
        elif message["msg_type"] == "error":
            parts.append(content["ename"] + ": " + content["evalue"])
    return "".join(parts)


def test_kernel_without_stdin_names_variable():
    environment = {k: v for k, v in os.environ.items() if k != "MI_CLAVE"}
    text = kernel_text(run_in_kernel(KERNEL_PROMPT, environment))
    assert "SettingsError" in text
    assert "MI_CLAVE" in text


def test_kernel_reads_environment():
    environment = {**os.environ, "MI_CLAVE": SECRET}
    text = kernel_text(run_in_kernel(KERNEL_PROMPT, environment))
    assert f"longitud {len(SECRET)}" in text
    assert "variable de entorno MI_CLAVE" in text
    assert SECRET not in text


def test_empty_typed_password_rejected():
    completed = run_prompt_script("\n")
    assert completed.returncode == 1
    assert "No has escrito ninguna contraseña" in completed.stderr


def test_course_preset_needs_port(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_PRESET", "simulador")
    with pytest.raises(SettingsError) as raised:
        load_settings(tmp_path / ".env")
    assert "MAILCOURSE_SMTP_PORT" in str(raised.value)


def test_course_preset_with_port(tmp_path, monkeypatch):
    monkeypatch.setenv("MAILCOURSE_SMTP_PRESET", "local")
    monkeypatch.setenv("MAILCOURSE_SMTP_PORT", "2525")
    settings = load_settings(tmp_path / ".env")
    assert settings.host == "127.0.0.1"
    assert settings.port == 2525
    assert settings.security == "none"
