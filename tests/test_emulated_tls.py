"""Emulated TLS on the in-memory loopback against real TLS on 127.0.0.1.

Every TLS scenario the course uses runs twice with the real smtplib client at
debug level 1: over TCP to the provider simulator on 127.0.0.1 with OpenSSL,
and over the in-memory loopback with ``MAILCOURSE_TLS=emulated`` (what the
browser uses). Transcripts and exceptions (class and message, the C source
line aside) must be equal. The scenarios are those of test_loopback.py, plus
host name checks. The last tests run the module that reads Pyodide's ssl
stub inside real Pyodide (the npm package under lite/), with Node.
"""

from __future__ import annotations

import contextlib
import json
import re
import shutil
import smtplib
import ssl
import subprocess
import sys
from pathlib import Path

import pytest

from test_loopback import (
    SCENARIOS,
    Scenario,
    Servers,
    running_servers,
    run_scenario,
)
from mailcourse.loopback import TRANSPORT_VARIABLE, emulated_tls, premade_certificates
from mailcourse.loopback import _ssl_internals
from mailcourse.loopback.emulated_tls import (
    TLS_VARIABLE,
    EmulatedServerContext,
    EmulatedTLSObject,
    emulated_tls_in_use,
)
from mailcourse.provider import (
    LAB_PASSWORD,
    LAB_USER,
    ProviderSimulator,
    find_simulator,
)

ROOT = Path(__file__).resolve().parents[1]
LOOPBACK_FOLDER = ROOT / "helpers" / "mailcourse" / "loopback"
PYODIDE_FOLDER = ROOT / "lite" / "node_modules" / "pyodide"
SOURCE_LINE = re.compile(r"\(_ssl\.c:\d+\)")


def raw_tls_with_name(servers: Servers, name: str) -> None:
    """Open TLS to the implicit-TLS port, checking ``name`` instead of the host."""
    raw = smtplib.socket.create_connection((servers.host, servers.tls_port), 10)
    try:
        with servers.context.wrap_socket(raw, server_hostname=name) as secure:
            print("version:", secure.version(), file=sys.stderr)
    finally:
        raw.close()


def wrong_host_name(servers: Servers) -> None:
    raw_tls_with_name(servers, "otro.test")


def wrong_ip_address(servers: Servers) -> None:
    raw_tls_with_name(servers, "10.0.0.1")


def right_name_localhost(servers: Servers) -> None:
    raw_tls_with_name(servers, "localhost")


def peer_certificate(servers: Servers) -> None:
    with smtplib.SMTP_SSL(
        servers.host, servers.tls_port, context=servers.context, timeout=10
    ) as client:
        peer = client.sock.getpeercert()
        print("names:", peer["subjectAltName"], file=sys.stderr)
        print("version:", client.sock.version(), file=sys.stderr)
        print("cipher:", client.sock.cipher(), file=sys.stderr)


def unverified_context(servers: Servers) -> None:
    # Lesson 04: SMTP_SSL without context= accepts any certificate.
    with smtplib.SMTP_SSL(servers.host, servers.tls_port, timeout=10) as client:
        client.set_debuglevel(1)
        print("peer:", client.sock.getpeercert(), file=sys.stderr)
        print("login:", client.login(LAB_USER, LAB_PASSWORD), file=sys.stderr)


def system_context_on_starttls(servers: Servers) -> None:
    with smtplib.SMTP(servers.host, servers.starttls_port, timeout=10) as client:
        client.set_debuglevel(1)
        client.starttls(context=ssl.create_default_context())


TLS_SCENARIOS: dict[str, tuple[Scenario, str]] = {
    name: SCENARIOS[name]
    for name in (
        "starttls-login",
        "implicit-tls-login",
        "wrong-password",
        "utf8-password",
        "partial-refusal",
        "total-refusal",
        "size-552",
        "auth-required-530",
        "untrusted-certificate",
        "tls-to-starttls-port",
        "plain-to-tls-port",
    )
}
TLS_SCENARIOS.update(
    {
        "hostname-mismatch": (wrong_host_name, "Hostname mismatch"),
        "ip-address-mismatch": (wrong_ip_address, "IP address mismatch"),
        "localhost-name": (right_name_localhost, "version: TLSv1.3"),
        "peer-certificate": (peer_certificate, "('DNS', 'localhost')"),
        "unverified-context": (unverified_context, "peer: {}"),
        "untrusted-starttls": (system_context_on_starttls, "CERTIFICATE_VERIFY"),
    }
)


def run_emulated(
    scenario: Scenario, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> str:
    with monkeypatch.context() as patch:
        patch.setenv(TLS_VARIABLE, "emulated")
        return run_scenario(scenario, "memory", folder, monkeypatch)


def run_real(scenario: Scenario, folder: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    with monkeypatch.context() as patch:
        patch.setenv(TLS_VARIABLE, "real")
        return run_scenario(scenario, "socket", folder, monkeypatch)


def without_source_line(transcript: str) -> str:
    return SOURCE_LINE.sub("(_ssl.c:N)", transcript)


@pytest.mark.parametrize("name", TLS_SCENARIOS)
def test_emulated_matches_real_tls(name, tmp_path, monkeypatch):
    scenario, expected_line = TLS_SCENARIOS[name]
    real = without_source_line(run_real(scenario, tmp_path / "r", monkeypatch))
    emulated = without_source_line(
        run_emulated(scenario, tmp_path / "e", monkeypatch)
    )
    # smtplib writes "mail FROM:" up to Python 3.12 and "mail from:" from 3.13.
    assert expected_line.lower() in real.lower()
    assert emulated == real


def test_comparison_sees_certificate_names(tmp_path, monkeypatch):
    # Negative control: a certificate with other names must change the output,
    # so equal outputs above mean the emulated check used the real names.
    real = run_real(right_name_localhost, tmp_path / "r", monkeypatch)
    data = LOOPBACK_FOLDER / "premade_certificates"
    fields = json.loads((data / "server.json").read_text())
    fields["peercert"]["subjectAltName"] = [["DNS", "otro.test"]]
    monkeypatch.setattr(
        premade_certificates, "_data_file", _replacing(data, "server.json", fields)
    )
    emulated = run_emulated(right_name_localhost, tmp_path / "e", monkeypatch)
    assert "Hostname mismatch" in emulated
    assert "version: TLSv1.3" in real


def _replacing(folder: Path, name: str, fields: dict):
    def read(file_name: str) -> bytes:
        if file_name == name:
            return json.dumps(fields).encode()
        return (folder / file_name).read_bytes()

    return read


@contextlib.contextmanager
def emulated_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    with monkeypatch.context() as patch:
        patch.setenv(TLS_VARIABLE, "emulated")
        with running_servers("memory", tmp_path, monkeypatch) as servers:
            yield servers


def test_emulated_object_on_both_ends(tmp_path, monkeypatch):
    with emulated_servers(tmp_path, monkeypatch) as servers:
        with smtplib.SMTP_SSL(
            servers.host, servers.tls_port, context=servers.context, timeout=10
        ) as client:
            client_end = type(client.sock._tls)
            server_context = type(server_tls_context(servers))
    assert client_end is EmulatedTLSObject
    assert server_context is EmulatedServerContext


def server_tls_context(servers: Servers) -> ssl.SSLContext:
    simulator = find_simulator(servers.host, servers.tls_port)
    assert simulator is not None
    return simulator._controllers["tls"].ssl_context


def test_emulated_ca_file_is_premade(tmp_path, monkeypatch):
    premade = premade_certificates.PremadeCertificateAuthority()
    with emulated_servers(tmp_path, monkeypatch) as servers:
        trusted = servers.context.get_ca_certs(binary_form=True)
    assert trusted == [premade.certificate.issuer_der]


def test_emulated_only_in_memory(monkeypatch):
    monkeypatch.setenv(TLS_VARIABLE, "emulated")
    monkeypatch.setenv(TRANSPORT_VARIABLE, "socket")
    assert not emulated_tls_in_use()


def test_real_tls_available_in_cpython():
    assert emulated_tls.real_tls_available()


def test_desktop_memory_default_is_real(monkeypatch):
    monkeypatch.delenv(TLS_VARIABLE, raising=False)
    monkeypatch.setenv(TRANSPORT_VARIABLE, "memory")
    assert not emulated_tls_in_use()


def test_socket_simulator_keeps_real_tls(tmp_path, monkeypatch):
    monkeypatch.setenv(TLS_VARIABLE, "emulated")
    monkeypatch.setenv(TRANSPORT_VARIABLE, "socket")
    with ProviderSimulator(maildir=tmp_path / "p") as simulator:
        context = simulator._controllers["tls"].ssl_context
    assert not isinstance(context, EmulatedServerContext)


def test_emulated_context_refuses_sockets():
    authority = premade_certificates.PremadeCertificateAuthority()
    context = authority.server_context()
    with pytest.raises(ValueError):
        context.wrap_socket(object(), server_side=True)


def test_client_needs_server_hostname():
    context = ssl.create_default_context()
    with pytest.raises(ValueError, match="check_hostname requires server_hostname"):
        emulated_tls.EmulatedTLSObject(
            context,
            ssl.MemoryBIO(),
            ssl.MemoryBIO(),
            server_side=False,
            server_hostname=None,
        )


def test_close_notify_ends_reading():
    authority = premade_certificates.PremadeCertificateAuthority()
    client, server = _connected_pair(authority)
    server.unwrap()
    with pytest.raises(ssl.SSLZeroReturnError):
        client.read(1024)


def test_large_write_split_in_records():
    authority = premade_certificates.PremadeCertificateAuthority()
    client, server = _connected_pair(authority)
    data = bytes(range(256)) * 300
    client.write(data)
    received = b""
    while len(received) < len(data):
        # The pair shares its buffers, so the client's records already wait.
        received += server.read(64 * 1024)
    assert received == data


def _connected_pair(authority) -> tuple[EmulatedTLSObject, EmulatedTLSObject]:
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context(cadata=authority.ca_pem.decode())
    client = EmulatedTLSObject(
        context, to_client, to_server, server_side=False, server_hostname="localhost"
    )
    server = authority.server_context().wrap_bio(to_server, to_client, server_side=True)
    for _ in range(3):
        for end in (client, server):
            with contextlib.suppress(ssl.SSLWantReadError):
                end.do_handshake()
    assert client.version() == "TLSv1.3"
    assert server.version() == "TLSv1.3"
    return client, server


def test_pem_text_to_der():
    authority = premade_certificates.PremadeCertificateAuthority()
    pem = authority.ca_pem.decode()
    ders = _ssl_internals.pem_certificates_to_der(pem + "\n" + pem)
    assert ders == [authority.certificate.issuer_der] * 2


def test_premade_files_made_again(tmp_path):
    premade_certificates.make_certificates(tmp_path)
    remade = emulated_tls.EmulatedCertificate.from_bytes(
        (tmp_path / "server.json").read_bytes()
    )
    ca_der = ssl.PEM_cert_to_DER_cert((tmp_path / "ca.pem").read_text())
    assert remade.names() == [("DNS", "localhost"), ("IP Address", "127.0.0.1")]
    assert remade.issuer_der == ca_der


# In real Pyodide: the stub's private attributes, read by _ssl_internals.

PYODIDE_RUNNER = """
import { loadPyodide } from "%(pyodide)s/pyodide.mjs";
const pyodide = await loadPyodide({ indexURL: "%(pyodide)s/" });
const fs = await import("fs");
pyodide.FS.mkdirTree("/probe/emu");
pyodide.FS.writeFile("/probe/emu/__init__.py", "");
for (const name of ["_ssl_internals.py", "emulated_tls.py"]) {
  const source = fs.readFileSync("%(loopback)s/" + name, "utf8");
  pyodide.FS.writeFile("/probe/emu/" + name, source);
}
for (const name of ["ca.pem", "server.json"]) {
  const data = fs.readFileSync("%(loopback)s/premade_certificates/" + name);
  pyodide.FS.writeFile("/probe/" + name, data);
}
console.log(pyodide.runPython(fs.readFileSync(0, "utf8")));
"""

PYODIDE_CHECK = """
import contextlib, json, ssl, sys
sys.path.insert(0, "/probe")
from emu import _ssl_internals, emulated_tls

certificate = emulated_tls.EmulatedCertificate.from_bytes(
    open("/probe/server.json", "rb").read()
)
server_context = emulated_tls.emulated_server_context(certificate)


def handshake(context, name):
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    client = emulated_tls.EmulatedTLSObject(
        context, to_client, to_server, server_side=False, server_hostname=name
    )
    server = server_context.wrap_bio(to_server, to_client, server_side=True)
    try:
        for _ in range(3):
            for end in (client, server):
                with contextlib.suppress(ssl.SSLWantReadError):
                    end.do_handshake()
    except ssl.SSLError as error:
        return type(error).__name__ + ": " + str(error)
    return client.version()


trusting = ssl.create_default_context(cafile="/probe/ca.pem")
class Marker(Exception):
    pass
class Routed(ssl.SSLSocket):
    @classmethod
    def _create(cls, sock, **options):
        raise Marker(options["server_hostname"])
_ssl_internals.install_stub_bridges()
ssl.SSLContext.sslsocket_class = Routed
try:
    trusting.wrap_socket(object(), server_hostname="routed")
    routed = None
except Marker as marker:
    routed = str(marker)
finally:
    ssl.SSLContext.sslsocket_class = ssl.SSLSocket
ca_certs = trusting.get_ca_certs(binary_form=True) == [certificate.issuer_der]
error_module = ssl.SSLCertVerificationError.__module__
_ssl_internals.remove_stub_bridges()
restored = trusting.get_ca_certs(binary_form=True) == []
json.dumps({
    "stub": _ssl_internals.ssl_is_pyodide_stub(),
    "real_tls": emulated_tls.real_tls_available(),
    "trusted": _ssl_internals.trusted_ca_certificates(trusting)
    == [certificate.issuer_der],
    "trusting": handshake(trusting, "127.0.0.1"),
    "system": handshake(ssl.create_default_context(), "localhost"),
    "mismatch": handshake(trusting, "otro.test"),
    "routed": routed,
    "ca_certs": ca_certs,
    "error_module": error_module,
    "restored": restored,
})
"""


@pytest.fixture(scope="module")
def pyodide_results(tmp_path_factory) -> dict:
    """Run PYODIDE_CHECK in the Pyodide of lite/node_modules with Node."""
    node = shutil.which("node")
    if node is None or not (PYODIDE_FOLDER / "pyodide.mjs").exists():
        pytest.skip("needs node and lite/node_modules/pyodide (npm ci in lite/)")
    runner = tmp_path_factory.mktemp("pyodide") / "runner.mjs"
    runner.write_text(
        PYODIDE_RUNNER % {"pyodide": PYODIDE_FOLDER, "loopback": LOOPBACK_FOLDER}
    )
    result = subprocess.run(
        [node, str(runner)],
        input=PYODIDE_CHECK,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_pyodide_has_stub_ssl(pyodide_results):
    assert pyodide_results["stub"] is True


def test_pyodide_lacks_real_tls(pyodide_results):
    assert pyodide_results["real_tls"] is False


def test_pyodide_trusted_ca_read(pyodide_results):
    assert pyodide_results["trusted"] is True


def test_pyodide_trusted_handshake_succeeds(pyodide_results):
    assert pyodide_results["trusting"] == "TLSv1.3"


def test_pyodide_system_context_refused(pyodide_results):
    assert pyodide_results["system"] == (
        "SSLCertVerificationError: [SSL: CERTIFICATE_VERIFY_FAILED] certificate "
        "verify failed: unable to get local issuer certificate (_ssl.c:1006)"
    )


def test_pyodide_host_name_mismatch(pyodide_results):
    assert "Hostname mismatch" in pyodide_results["mismatch"]


def test_pyodide_wrap_socket_routed(pyodide_results):
    assert pyodide_results["routed"] == "routed"


def test_pyodide_get_ca_certs_bridged(pyodide_results):
    assert pyodide_results["ca_certs"] is True


def test_pyodide_errors_named_ssl(pyodide_results):
    assert pyodide_results["error_module"] == "ssl"


def test_pyodide_bridges_removed(pyodide_results):
    assert pyodide_results["restored"] is True


def test_data_before_handshake_rejected():
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context()
    client = EmulatedTLSObject(
        context, to_client, to_server, server_side=False, server_hostname="localhost"
    )
    to_client.write(b"\x17\x03\x03\x00\x02hi")
    with pytest.raises(ssl.SSLError, match="UNEXPECTED_RECORD"):
        client.do_handshake()


def test_plain_greeting_wrong_version():
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    context = ssl.create_default_context()
    client = EmulatedTLSObject(
        context, to_client, to_server, server_side=False, server_hostname="localhost"
    )
    to_client.write(b"220 smtp.curso.test ESMTP\r\n")
    with pytest.raises(ssl.SSLError, match="WRONG_VERSION_NUMBER"):
        client.do_handshake()
