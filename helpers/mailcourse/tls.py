"""A throwaway certificate authority for the provider simulator, made with trustme.

Each simulator gets its own CA, created in memory at start and never reused.
Its private key stays in the process memory. Only the CA certificate is
written to a PEM file, so that a client (or a student's own code) can trust it.
"""

from __future__ import annotations

import ssl
from pathlib import Path
from typing import Any

# The simulator's certificate names both ways a student may write the address.
SERVER_IDENTITIES = ("localhost", "127.0.0.1")


class TestCertificateAuthority:
    """A trustme CA and one server certificate issued by it.

    ``identities`` are the host names and IP addresses the server certificate
    is valid for.
    """

    __test__ = False  # Not a pytest test class, despite the name.

    def __init__(self, identities: tuple[str, ...] = SERVER_IDENTITIES) -> None:
        # Imported here, so that "import mailcourse" works in the JupyterLite
        # build, which leaves trustme out, and stays fast: importing trustme
        # and cryptography took about 33 ms (python -X importtime, 2 vCPUs).
        import trustme

        self.identities = identities
        self._ca = trustme.CA(organization_name="Curso de correo (CA de pruebas)")
        self._server_cert = self._ca.issue_cert(*identities)

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate in PEM format."""
        return self._ca.cert_pem.bytes()

    def write_ca_file(self, path: Path) -> Path:
        """Write the CA certificate (not its key) to ``path`` and return it."""
        self._ca.cert_pem.write_to_path(str(path))
        return path

    def server_context(self) -> ssl.SSLContext:
        """Return a server-side context with the certificate, for TLS 1.2 and later."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        self._server_cert.configure_cert(context)
        return context


def make_certificate_authority() -> Any:
    """Return the CA the provider simulator should use on this platform.

    With emulated TLS (the in-memory loopback under Pyodide, which has no
    trustme), the premade test CA of :mod:`mailcourse.loopback.premade_certificates`;
    otherwise a new :class:`TestCertificateAuthority`. Both have ``ca_pem``,
    ``write_ca_file()`` and ``server_context()``.
    """
    from .loopback.emulated_tls import emulated_tls_in_use

    if emulated_tls_in_use():
        from .loopback.premade_certificates import PremadeCertificateAuthority

        return PremadeCertificateAuthority()
    return TestCertificateAuthority()


def client_context_for(ca_file: str | Path) -> ssl.SSLContext:
    """Return a verifying client context that trusts only the CA in ``ca_file``.

    Host names are checked, so the certificate must name the address used.
    """
    return ssl.create_default_context(cafile=str(ca_file))
