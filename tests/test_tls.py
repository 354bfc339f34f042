"""The simulator's test CA: what it trusts, which names it certifies, what it writes."""

from __future__ import annotations

import socket
import ssl

import pytest

from mailcourse.tls import TestCertificateAuthority, client_context_for


def _handshake(simulator, server_name: str, context: ssl.SSLContext) -> dict:
    """Complete a TLS handshake with the implicit-TLS port and return the peer cert.

    The TCP connection always goes to 127.0.0.1; ``server_name`` is only the
    name the certificate is checked against, so no name is resolved.
    """
    address = (simulator.host, simulator.tls_port)
    with socket.create_connection(address, timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname=server_name) as tls:
            return tls.getpeercert()


@pytest.mark.parametrize("server_name", ["localhost", "127.0.0.1"])
def test_certificate_valid_for_name(provider_simulator, server_name):
    context = provider_simulator.client_context()
    certificate = _handshake(provider_simulator, server_name, context)
    assert certificate


def test_certificate_names_both_identities(provider_simulator):
    certificate = _handshake(
        provider_simulator, "127.0.0.1", provider_simulator.client_context()
    )
    names = certificate["subjectAltName"]
    assert ("DNS", "localhost") in names
    assert ("IP Address", "127.0.0.1") in names


def test_certificate_rejected_for_other_name(provider_simulator):
    context = provider_simulator.client_context()
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        _handshake(provider_simulator, "smtp.ejemplo.test", context)
    assert "smtp.ejemplo.test" in str(caught.value)


def test_default_context_rejects_test_ca(provider_simulator):
    with pytest.raises(ssl.SSLCertVerificationError) as caught:
        _handshake(provider_simulator, "127.0.0.1", ssl.create_default_context())
    assert caught.value.verify_message == "unable to get local issuer certificate"


def test_client_context_trusts_only_test_ca(provider_simulator):
    context = provider_simulator.client_context()
    trusted = context.get_ca_certs()
    assert len(trusted) == 1
    assert "CA de pruebas" in str(trusted[0]["subject"])


def test_client_context_verifies_host_name(provider_simulator):
    context = provider_simulator.client_context()
    assert context.verify_mode == ssl.CERT_REQUIRED
    assert context.check_hostname


def test_ca_file_holds_certificate_only(tmp_path):
    authority = TestCertificateAuthority()
    ca_file = authority.write_ca_file(tmp_path / "ca.pem")
    text = ca_file.read_text()
    assert text.startswith("-----BEGIN CERTIFICATE-----")
    assert "PRIVATE KEY" not in text


def test_ca_file_builds_client_context(tmp_path):
    authority = TestCertificateAuthority()
    ca_file = authority.write_ca_file(tmp_path / "ca.pem")
    context = client_context_for(ca_file)
    assert len(context.get_ca_certs()) == 1


def test_each_authority_is_new():
    first = TestCertificateAuthority()
    second = TestCertificateAuthority()
    assert first.ca_pem != second.ca_pem


def test_server_context_refuses_old_tls():
    context = TestCertificateAuthority().server_context()
    assert context.minimum_version == ssl.TLSVersion.TLSv1_2
