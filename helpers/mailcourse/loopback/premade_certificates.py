"""Test certificates made ahead of time, for the provider simulator under emulated TLS.

Pyodide has neither trustme nor cryptography, so the simulator cannot make a
CA at start there. Instead it loads the files in ``premade_certificates/``:
the certificate of a test CA and a server certificate for ``localhost`` and
``127.0.0.1`` it issued, with the dictionary ``getpeercert()`` returns for it.

TEST ONLY. The private keys were thrown away when the files were made, and
emulated TLS does not encrypt, so these files protect nothing and cannot be
used to impersonate anyone. They serve the in-memory loopback only.

Run ``python -m mailcourse.loopback.premade_certificates`` (CPython with
trustme) to make them again.
"""

from __future__ import annotations

import argparse
import ssl
from importlib import resources
from pathlib import Path

from .emulated_tls import (
    EmulatedCertificate,
    EmulatedServerContext,
    emulated_server_context,
)

DATA_FOLDER = "premade_certificates"
CA_FILE = "ca.pem"
SERVER_FILE = "server.json"
IDENTITIES = ("localhost", "127.0.0.1")
ORGANIZATION = "Curso de correo (CA de pruebas, solo TLS emulado)"


def _data_file(name: str) -> bytes:
    return (resources.files(__package__) / DATA_FOLDER / name).read_bytes()


class PremadeCertificateAuthority:
    """The premade test CA, with the interface of ``tls.TestCertificateAuthority``."""

    __test__ = False  # Not a pytest test class.

    def __init__(self) -> None:
        self.identities = IDENTITIES
        self.certificate = EmulatedCertificate.from_bytes(_data_file(SERVER_FILE))

    @property
    def ca_pem(self) -> bytes:
        """The CA certificate in PEM format."""
        return _data_file(CA_FILE)

    def write_ca_file(self, path: Path) -> Path:
        """Write the CA certificate to ``path`` and return it."""
        Path(path).write_bytes(self.ca_pem)
        return path

    def server_context(self) -> EmulatedServerContext:
        """Return the emulated server context that presents the server certificate."""
        return emulated_server_context(self.certificate)


def make_certificates(folder: Path) -> None:
    """Make a test CA and a server certificate with trustme; keep no key.

    ``getpeercert()``'s dictionary is recorded from a real handshake over
    memory buffers, so it is exactly what a desktop client receives.
    """
    import trustme

    authority = trustme.CA(organization_name=ORGANIZATION)
    issued = authority.issue_cert(*IDENTITIES)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    issued.configure_cert(server)
    client = ssl.create_default_context(cadata=authority.cert_pem.bytes().decode())
    peercert = _handshake_peercert(server, client, IDENTITIES[0])
    certificate = EmulatedCertificate(
        ssl.PEM_cert_to_DER_cert(issued.cert_chain_pems[0].bytes().decode()),
        ssl.PEM_cert_to_DER_cert(authority.cert_pem.bytes().decode()),
        peercert,
    )
    folder.mkdir(parents=True, exist_ok=True)
    authority.cert_pem.write_to_path(str(folder / CA_FILE))
    (folder / SERVER_FILE).write_bytes(certificate.to_bytes() + b"\n")


def _handshake_peercert(
    server: ssl.SSLContext, client: ssl.SSLContext, hostname: str
) -> dict:
    to_server, to_client = ssl.MemoryBIO(), ssl.MemoryBIO()
    ends = [
        server.wrap_bio(to_server, to_client, server_side=True),
        client.wrap_bio(to_client, to_server, server_hostname=hostname),
    ]
    for _ in range(10):
        finished = 0
        for end in ends:
            try:
                end.do_handshake()
                finished += 1
            except ssl.SSLWantReadError:
                pass
        if finished == len(ends):
            return ends[1].getpeercert()
    raise RuntimeError("the recording handshake did not complete")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).with_name(DATA_FOLDER)
    parser.add_argument("--output", type=Path, default=default)
    make_certificates(parser.parse_args().output)


if __name__ == "__main__":
    main()
