"""The classroom server as a real subprocess, driven by smtplib on the loopback."""

from __future__ import annotations

import os
import queue
import re
import signal
import smtplib
import socket
import ssl
import subprocess
import sys
import threading
import time
from email.message import EmailMessage
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from sample_messages import make_message
from mailcourse import Inbox, MaildirStore
from mailcourse.auth import LAB_PASSWORD, LAB_USER
from mailcourse.classroom import (
    Delivery,
    ReportingMaildirStore,
    UsageError,
    describe_delivery,
    format_delivery,
    parse_listen_address,
)

ROOT = Path(__file__).resolve().parents[1]
PROJECTOR_NOTEBOOK = ROOT / "notebooks" / "bandeja-clase.ipynb"
LINE_TIMEOUT_SECONDS = 15
BANNER_END = "Cada mensaje aceptado aparece abajo"
PORT_LABELS = {
    "plain": "SMTP sin cifrar ni AUTH",
    "tls": "TLS implícito, como el 465",
    "starttls": "STARTTLS obligatorio, como el 587",
}
SECOND_LOOPBACK = "127.0.0.2"


class ClassroomProcess:
    """A running ``python -m mailcourse.classroom`` and the lines it printed."""

    def __init__(self, process: subprocess.Popen, maildir: Path, ca_file: Path):
        self.process = process
        self.maildir = maildir
        self.ca_file = ca_file
        self.lines: queue.Queue[str | None] = queue.Queue()
        self.banner: list[str] = []
        self.ports: dict[str, int] = {}
        self._reader = threading.Thread(target=self._read_stdout, daemon=True)
        self._reader.start()

    def _read_stdout(self) -> None:
        for line in self.process.stdout:
            self.lines.put(line.rstrip("\n"))
        self.lines.put(None)

    def read_line(self) -> str:
        line = self.lines.get(timeout=LINE_TIMEOUT_SECONDS)
        if line is None:
            raise EOFError(f"the classroom server exited: {self.process.wait()}")
        return line

    def read_banner(self) -> list[str]:
        while not self.banner or not self.banner[-1].startswith(BANNER_END):
            self.banner.append(self.read_line())
        for role, label in PORT_LABELS.items():
            for line in self.banner:
                found = re.search(rf"{label}: puerto (\d+)", line)
                if found:
                    self.ports[role] = int(found.group(1))
        return self.banner

    def remaining_lines(self) -> list[str]:
        """Wait for the process to exit and return what it printed after the banner."""
        self.process.wait(timeout=LINE_TIMEOUT_SECONDS)
        lines = []
        while (line := self.lines.get(timeout=LINE_TIMEOUT_SECONDS)) is not None:
            lines.append(line)
        return lines

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def stop(self, signal_number: int = signal.SIGINT) -> int:
        self.process.send_signal(signal_number)
        return self.process.wait(timeout=LINE_TIMEOUT_SECONDS)


def start_classroom(
    tmp_path: Path, *options: str, stdin_text: str | None = None
) -> ClassroomProcess:
    maildir = tmp_path / "bandeja"
    ca_file = tmp_path / "ca-clase.pem"
    command = [
        sys.executable,
        "-m",
        "mailcourse.classroom",
        "--maildir",
        str(maildir),
        "--ca-file",
        str(ca_file),
        "--tls-port",
        "0",
        "--starttls-port",
        "0",
        *options,
    ]
    process = subprocess.Popen(
        command,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        encoding="utf-8",
        env={**os.environ, "PYTHONIOENCODING": "utf-8"},
        cwd=tmp_path,
    )
    if stdin_text is not None:
        process.stdin.write(stdin_text)
    process.stdin.close()
    return ClassroomProcess(process, maildir, ca_file)


@pytest.fixture
def classroom_processes():
    """Collects started classroom servers and kills any left running."""
    started: list[ClassroomProcess] = []
    yield started
    for classroom in started:
        if classroom.process.poll() is None:
            classroom.process.kill()
            classroom.process.wait()
        classroom.process.stdout.close()
        classroom.process.stderr.close()


@pytest.fixture
def classroom(tmp_path, classroom_processes):
    """A classroom server on 127.0.0.1 with every port chosen by the system."""
    started = start_classroom(tmp_path, "--port", "0")
    classroom_processes.append(started)
    started.read_banner()
    return started


def login_tls(classroom: ClassroomProcess, host: str = "127.0.0.1") -> smtplib.SMTP:
    client = smtplib.SMTP_SSL(
        host,
        classroom.ports["tls"],
        timeout=10,
        context=classroom.client_context(),
    )
    client.login(LAB_USER, LAB_PASSWORD)
    return client


def can_bind(host: str) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind((host, 0))
        except OSError:
            return False
    return True


def test_banner_names_what_students_need(classroom):
    banner = "\n".join(classroom.banner)
    assert "Dirección: 127.0.0.1" in banner
    assert set(classroom.ports) == {"plain", "tls", "starttls"}
    assert f"{LAB_USER}, contraseña {LAB_PASSWORD}" in banner
    assert f"Certificado de la CA para los alumnos: {classroom.ca_file}" in banner
    assert f"Bandeja (Maildir): {classroom.maildir}, con 0 mensajes" in banner


def test_ca_file_is_pem_certificate(classroom):
    text = classroom.ca_file.read_text()
    assert text.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in text


def test_plain_message_line_has_no_body(classroom):
    message = make_message(subject="Prueba de clase", body="texto muy privado\n")
    with smtplib.SMTP("127.0.0.1", classroom.ports["plain"], timeout=10) as client:
        client.send_message(message)
    line = classroom.read_line()
    assert "De: ana@ejemplo.test" in line
    assert "Para: luis@ejemplo.test" in line
    assert "Asunto: Prueba de clase" in line
    assert re.search(r"\(\d+ bytes\)$", line)
    assert "texto muy privado" not in line


def test_line_lists_envelope_recipients(classroom):
    message = make_message()
    message["Cc"] = "marta@ejemplo.test"
    message["Bcc"] = "oculto@ejemplo.test"
    with smtplib.SMTP("127.0.0.1", classroom.ports["plain"], timeout=10) as client:
        client.send_message(message)
    recipients = re.search(r"Para: (.*?)  Asunto:", classroom.read_line()).group(1)
    assert sorted(recipients.split(", ")) == [
        "luis@ejemplo.test",
        "marta@ejemplo.test",
        "oculto@ejemplo.test",
    ]


def test_refused_domain_gets_550(classroom):
    with smtplib.SMTP("127.0.0.1", classroom.ports["plain"], timeout=10) as client:
        refused = client.send_message(
            make_message(), to_addrs=["luis@ejemplo.test", "nadie@rechazado.test"]
        )
    assert list(refused) == ["nadie@rechazado.test"]
    assert refused["nadie@rechazado.test"][0] == 550
    assert "Para: luis@ejemplo.test " in classroom.read_line()


def test_tls_port_requires_login(classroom):
    with smtplib.SMTP_SSL(
        "127.0.0.1",
        classroom.ports["tls"],
        timeout=10,
        context=classroom.client_context(),
    ) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(make_message())
    assert refused.value.smtp_code == 530


def test_tls_port_delivers_after_login(classroom):
    with login_tls(classroom) as client:
        assert client.send_message(make_message(subject="Por TLS")) == {}
    assert "Asunto: Por TLS" in classroom.read_line()


def test_starttls_port_requires_starttls(classroom):
    with smtplib.SMTP("127.0.0.1", classroom.ports["starttls"], timeout=10) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(make_message())
    assert refused.value.smtp_code == 530


def test_starttls_port_delivers_after_login(classroom):
    with smtplib.SMTP("127.0.0.1", classroom.ports["starttls"], timeout=10) as client:
        client.starttls(context=classroom.client_context())
        client.login(LAB_USER, LAB_PASSWORD)
        assert client.send_message(make_message(subject="Por STARTTLS")) == {}
    assert "Asunto: Por STARTTLS" in classroom.read_line()


def test_control_characters_not_printed(classroom):
    raw = b"From: a@b.test\r\nSubject: hola\x1b[2Jmundo\r\n\r\ncuerpo\r\n"
    with smtplib.SMTP("127.0.0.1", classroom.ports["plain"], timeout=10) as client:
        client.sendmail("a@b.test", ["c@d.test"], raw)
    line = classroom.read_line()
    assert "\x1b" not in line
    assert "Asunto: hola [2Jmundo" in line


def test_sigint_keeps_every_message(classroom):
    subjects = {f"Mensaje {number}" for number in range(12)}
    with smtplib.SMTP("127.0.0.1", classroom.ports["plain"], timeout=10) as client:
        for subject in sorted(subjects):
            client.send_message(make_message(subject=subject))
    exit_code = classroom.stop(signal.SIGINT)
    after_banner = classroom.remaining_lines()
    assert exit_code == 0
    assert len(after_banner) == 13
    assert after_banner[-1].startswith("Servidor de clase parado.")
    assert "Mensajes recibidos en esta sesión: 12." in after_banner[-1]
    assert {message.subject for message in Inbox(classroom.maildir)} == subjects


def test_sigterm_exits_zero_with_goodbye(classroom):
    exit_code = classroom.stop(signal.SIGTERM)
    assert exit_code == 0
    assert classroom.remaining_lines()[-1].endswith("¡Hasta la próxima!")


def test_stop_while_sending_loses_nothing(classroom):
    acknowledged: list[str] = []
    stop_sending = threading.Event()

    def send_until_stopped(port: int, prefix: str) -> None:
        number = 0
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=10) as client:
                while not stop_sending.is_set():
                    subject = f"{prefix} {number}"
                    client.send_message(make_message(subject=subject))
                    acknowledged.append(subject)
                    number += 1
        except (smtplib.SMTPException, OSError):
            pass  # The server went away mid-message: that one was not acknowledged.

    port = classroom.ports["plain"]
    senders = [
        threading.Thread(target=send_until_stopped, args=(port, name))
        for name in ("uno", "dos", "tres")
    ]
    for sender in senders:
        sender.start()
    deadline = time.monotonic() + LINE_TIMEOUT_SECONDS
    while len(acknowledged) < 30 and time.monotonic() < deadline:
        time.sleep(0.01)
    exit_code = classroom.stop(signal.SIGINT)
    stop_sending.set()
    for sender in senders:
        sender.join(timeout=LINE_TIMEOUT_SECONDS)

    stored = {message.subject for message in Inbox(classroom.maildir)}
    assert len(acknowledged) >= 30
    assert exit_code == 0
    assert set(acknowledged) <= stored


def test_inbox_reads_classroom_maildir(classroom):
    with smtplib.SMTP("127.0.0.1", classroom.ports["plain"], timeout=10) as client:
        client.send_message(make_message(subject="Año nuevo ✉", body="Hola\n"))
    classroom.read_line()
    latest = Inbox(classroom.maildir).latest()
    assert latest.subject == "Año nuevo ✉"
    assert latest.text == "Hola\n"


def test_messages_survive_restart(tmp_path, classroom_processes):
    first = start_classroom(tmp_path, "--port", "0")
    classroom_processes.append(first)
    first.read_banner()
    with smtplib.SMTP("127.0.0.1", first.ports["plain"], timeout=10) as client:
        client.send_message(make_message())
    first.read_line()
    assert first.stop() == 0

    second = start_classroom(tmp_path, "--port", "0")
    classroom_processes.append(second)
    banner = "\n".join(second.read_banner())
    assert f"Bandeja (Maildir): {second.maildir}, con 1 mensajes" in banner


def deliver_two_messages(maildir: Path) -> None:
    store = MaildirStore(maildir)
    for number in range(2):
        raw = make_message(subject=f"Viejo {number}").as_bytes()
        store.deliver(raw, "a@b.test", ["c@d.test"])


def test_reset_confirmed_empties_maildir(tmp_path, classroom_processes):
    deliver_two_messages(tmp_path / "bandeja")
    started = start_classroom(tmp_path, "--port", "0", "--reset", stdin_text="s\n")
    classroom_processes.append(started)
    banner = started.read_banner()
    assert banner[0].startswith("¿Borrar 2 mensajes de ")
    assert banner[1] == "Bandeja vaciada. Mensajes borrados: 2."
    assert len(Inbox(started.maildir)) == 0


def test_reset_question_singular(tmp_path, classroom_processes):
    store = MaildirStore(tmp_path / "bandeja")
    store.deliver(make_message().as_bytes(), "a@b.test", ["c@d.test"])
    started = start_classroom(tmp_path, "--port", "0", "--reset", stdin_text="s\n")
    classroom_processes.append(started)
    banner = started.read_banner()
    assert banner[0].startswith("¿Borrar 1 mensaje de ")
    assert banner[1] == "Bandeja vaciada. Mensajes borrados: 1."


def test_reset_declined_keeps_messages(tmp_path, classroom_processes):
    deliver_two_messages(tmp_path / "bandeja")
    started = start_classroom(tmp_path, "--port", "0", "--reset", stdin_text="n\n")
    classroom_processes.append(started)
    output = started.remaining_lines()
    assert started.process.returncode == 1
    assert output[-1] == "No se ha borrado nada."
    assert len(Inbox(started.maildir)) == 2


def test_reset_yes_skips_question(tmp_path, classroom_processes):
    deliver_two_messages(tmp_path / "bandeja")
    started = start_classroom(tmp_path, "--port", "0", "--reset", "--yes")
    classroom_processes.append(started)
    banner = started.read_banner()
    assert banner[0] == "Bandeja vaciada. Mensajes borrados: 2."
    assert len(Inbox(started.maildir)) == 0


def test_yes_without_reset_rejected(tmp_path, classroom_processes):
    started = start_classroom(tmp_path, "--port", "0", "--yes")
    classroom_processes.append(started)
    assert started.process.wait(timeout=LINE_TIMEOUT_SECONDS) == 2
    assert "--yes solo tiene sentido junto con --reset" in started.process.stderr.read()


def test_port_in_use_fails_clearly(tmp_path, classroom_processes):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        started = start_classroom(tmp_path, "--port", str(taken))
        classroom_processes.append(started)
        exit_code = started.process.wait(timeout=LINE_TIMEOUT_SECONDS)
    error = started.process.stderr.read()
    assert exit_code == 1
    assert f"El puerto {taken} de 127.0.0.1 ya está ocupado" in error
    assert "start_local_server" not in error


def test_missing_ca_folder_fails_clearly(tmp_path, classroom_processes):
    started = start_classroom(
        tmp_path, "--port", "0", "--ca-file", str(tmp_path / "no-existe" / "ca.pem")
    )
    classroom_processes.append(started)
    exit_code = started.process.wait(timeout=LINE_TIMEOUT_SECONDS)
    error = started.process.stderr.read()
    assert exit_code == 1
    assert str(tmp_path / "no-existe" / "ca.pem") in error
    assert "Traceback" not in error


def test_duplicate_ports_rejected(tmp_path, classroom_processes):
    started = start_classroom(
        tmp_path, "--port", "0", "--tls-port", "40123", "--starttls-port", "40123"
    )
    classroom_processes.append(started)
    assert started.process.wait(timeout=LINE_TIMEOUT_SECONDS) == 2
    assert "se repite" in started.process.stderr.read()


@pytest.mark.skipif(not can_bind(SECOND_LOOPBACK), reason="no 127.0.0.2 loopback")
def test_other_address_opens_only_tls(tmp_path, classroom_processes):
    started = start_classroom(tmp_path, "--listen", SECOND_LOOPBACK)
    classroom_processes.append(started)
    banner = "\n".join(started.read_banner())
    expected = f"Dirección: {SECOND_LOOPBACK} (desde la red: solo TLS y con AUTH)"
    assert expected in banner
    assert set(started.ports) == {"tls", "starttls"}


@pytest.mark.skipif(not can_bind(SECOND_LOOPBACK), reason="no 127.0.0.2 loopback")
def test_other_address_requires_auth(tmp_path, classroom_processes):
    started = start_classroom(tmp_path, "--listen", SECOND_LOOPBACK)
    classroom_processes.append(started)
    started.read_banner()
    with smtplib.SMTP_SSL(
        SECOND_LOOPBACK,
        started.ports["tls"],
        timeout=10,
        context=started.client_context(),
    ) as client:
        with pytest.raises(smtplib.SMTPSenderRefused) as refused:
            client.send_message(make_message())
    assert refused.value.smtp_code == 530


@pytest.mark.skipif(not can_bind(SECOND_LOOPBACK), reason="no 127.0.0.2 loopback")
def test_other_address_certificate_verifies(tmp_path, classroom_processes):
    started = start_classroom(tmp_path, "--listen", SECOND_LOOPBACK)
    classroom_processes.append(started)
    started.read_banner()
    with smtplib.SMTP(SECOND_LOOPBACK, started.ports["starttls"], timeout=10) as client:
        client.starttls(context=started.client_context())
        client.login(LAB_USER, LAB_PASSWORD)
        assert client.send_message(make_message(subject="Desde la red")) == {}
    assert "Asunto: Desde la red" in started.read_line()


@pytest.mark.skipif(not can_bind(SECOND_LOOPBACK), reason="no 127.0.0.2 loopback")
def test_other_address_not_on_default(tmp_path, classroom_processes):
    started = start_classroom(tmp_path, "--listen", SECOND_LOOPBACK)
    classroom_processes.append(started)
    started.read_banner()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", started.ports["tls"]), timeout=5)


def test_plain_port_with_listen_rejected(tmp_path, classroom_processes):
    started = start_classroom(tmp_path, "--listen", SECOND_LOOPBACK, "--port", "0")
    classroom_processes.append(started)
    assert started.process.wait(timeout=LINE_TIMEOUT_SECONDS) == 2
    assert "--port abre SMTP sin cifrar" in started.process.stderr.read()


@pytest.mark.parametrize("address", ["0.0.0.0", "::"])
def test_all_interfaces_address_rejected(address):
    with pytest.raises(UsageError, match="todas las interfaces"):
        parse_listen_address(address)


def test_host_name_address_rejected():
    with pytest.raises(UsageError, match="necesita una dirección IP"):
        parse_listen_address("aula.local")


def test_listen_address_normalized():
    assert parse_listen_address("0:0::1") == "::1"


def test_delivery_line_format():
    delivery = Delivery(
        sender="ana@ejemplo.test",
        recipients=("luis@ejemplo.test", "marta@ejemplo.test"),
        subject="Informe",
        size=1536,
    )
    clock = time.struct_time((2026, 3, 2, 9, 5, 3, 0, 61, 0))
    assert format_delivery(delivery, clock) == (
        "09:05:03  De: ana@ejemplo.test  Para: luis@ejemplo.test, "
        "marta@ejemplo.test  Asunto: Informe  (1,5 KB)"
    )


def test_empty_sender_and_subject_shown():
    delivery = Delivery(sender="", recipients=("a@b.test",), subject="", size=10)
    line = format_delivery(delivery, time.localtime())
    assert "De: <>" in line
    assert "Asunto: (sin asunto)" in line


def test_encoded_subject_decoded_and_shortened():
    message = EmailMessage()
    message["Subject"] = "Informe del año " + "x" * 200
    message.set_content("cuerpo")
    delivery = describe_delivery(message.as_bytes(), "a@b.test", ["c@d.test"])
    assert delivery.subject.startswith("Informe del año xxx")
    assert len(delivery.subject) == 80
    assert delivery.subject.endswith("…")


def test_failing_listener_still_stores(tmp_path):
    def broken_listener(delivery: Delivery) -> None:
        raise BrokenPipeError("terminal closed")

    store = ReportingMaildirStore(tmp_path / "bandeja", broken_listener)
    key = store.deliver(make_message().as_bytes(), "a@b.test", ["c@d.test"])
    assert (tmp_path / "bandeja" / "new" / key).is_file()


def test_console_script_prints_help():
    script = Path(sys.executable).parent / "mailcourse-classroom"
    finished = subprocess.run(
        [str(script), "--help"], capture_output=True, text=True, timeout=60
    )
    assert finished.returncode == 0
    assert "--listen" in finished.stdout
    assert "--reset" in finished.stdout


def test_projector_notebook_shows_messages(classroom, monkeypatch):
    with smtplib.SMTP("127.0.0.1", classroom.ports["plain"], timeout=10) as client:
        client.send_message(make_message(subject="Para el proyector"))
        client.send_message(
            make_message(subject="Otro", sender="Eva <eva@ejemplo.test>")
        )
    classroom.read_line()
    classroom.read_line()
    notebook = nbformat.read(PROJECTOR_NOTEBOOK, as_version=4)
    # The kernel inherits this process's environment.
    monkeypatch.setenv("MAILCOURSE_CLASSROOM_MAILDIR", str(classroom.maildir))
    NotebookClient(
        notebook,
        timeout=60,
        kernel_name="python3",
        resources={"metadata": {"path": str(PROJECTOR_NOTEBOOK.parent)}},
    ).execute()

    outputs = {cell.source: str(cell.get("outputs", [])) for cell in notebook.cells}
    assert "Para el proyector" in outputs["bandeja"]
    counter_output = next(
        text for source, text in outputs.items() if "Counter" in source
    )
    assert "('ana@ejemplo.test', 1)" in counter_output
    assert "('eva@ejemplo.test', 1)" in counter_output
