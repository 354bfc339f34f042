"""Every use of a private ``ssl`` interface by the emulated TLS, in one module.

Pyodide replaces ``_ssl`` with a pure-Python stub (``OPENSSL_VERSION`` is
``"OpenSSL (stub)"``). Two of its gaps matter to the in-memory loopback, and
both are bridged here, only when that stub is present:

- ``SSLContext.get_ca_certs()`` always returns ``[]``. The stub keeps the PEM
  text that ``load_verify_locations`` received in the private attribute
  ``_ca_data`` (the last call only), so the trusted CAs are read from there.
- ``SSLContext.wrap_socket`` calls ``SSLSocket._create`` directly, not
  ``self.sslsocket_class._create`` as CPython does, so the loopback's
  ``sslsocket_class`` hook is never reached.

:func:`install_stub_bridges` makes both behave as in CPython, and names the
stub's exception classes ``ssl.SSLError`` (and so on) rather than
``_ssl.SSLError``, as students see them on the desktop.

Tested with the stub of Pyodide 314.0.8 (Python 3.14.2). On another Python,
reading the trusted CAs raises :class:`StubUnsupportedError` rather than
guess. The ``wrap_socket`` routing only restores CPython's own behaviour.
"""

from __future__ import annotations

import ssl
import sys
from typing import Any

PYODIDE_STUB_VERSION = "OpenSSL (stub)"
TESTED_STUB_PYTHON_VERSIONS = ((3, 14),)
_STUB_CA_ATTRIBUTE = "_ca_data"
_PEM_CERTIFICATE_END = "-----END CERTIFICATE-----"


class StubUnsupportedError(RuntimeError):
    """Raised when Pyodide's ``ssl`` stub is a version never tested here."""


def ssl_is_pyodide_stub() -> bool:
    """Return whether ``ssl`` is Pyodide's stub rather than OpenSSL."""
    return ssl.OPENSSL_VERSION == PYODIDE_STUB_VERSION


def check_stub_version() -> None:
    """Raise :class:`StubUnsupportedError` on an untested stub."""
    version = sys.version_info[:2]
    if version not in TESTED_STUB_PYTHON_VERSIONS:
        raise StubUnsupportedError(
            f"Emulated TLS reads private attributes of Pyodide's ssl stub, "
            f"tested on Python {TESTED_STUB_PYTHON_VERSIONS}; this is Python "
            f"{version[0]}.{version[1]}. Test mailcourse.loopback on it first."
        )


def trusted_ca_certificates(context: ssl.SSLContext) -> list[bytes]:
    """Return the DER bytes of the CA certificates ``context`` trusts.

    ``get_ca_certs(binary_form=True)`` with OpenSSL; the PEM text kept by
    ``load_verify_locations`` with Pyodide's stub.
    """
    if not ssl_is_pyodide_stub():
        return list(context.get_ca_certs(binary_form=True))
    check_stub_version()
    pem_text = getattr(context, _STUB_CA_ATTRIBUTE, None) or ""
    return pem_certificates_to_der(pem_text)


def pem_certificates_to_der(pem_text: str) -> list[bytes]:
    """Return the DER bytes of each certificate in a PEM text."""
    certificates = []
    for block in pem_text.split(_PEM_CERTIFICATE_END)[:-1]:
        start = block.find("-----BEGIN CERTIFICATE-----")
        if start != -1:
            pem = block[start:] + _PEM_CERTIFICATE_END + "\n"
            certificates.append(ssl.PEM_cert_to_DER_cert(pem))
    return certificates


_original_wrap_socket = ssl.SSLContext.wrap_socket
_original_get_ca_certs = ssl.SSLContext.get_ca_certs
# The exception classes smtplib and the lessons name, as CPython's ssl names them.
_STUB_EXCEPTIONS = (
    "SSLError",
    "SSLZeroReturnError",
    "SSLWantReadError",
    "SSLWantWriteError",
    "SSLSyscallError",
    "SSLEOFError",
    "SSLCertVerificationError",
)


def _wrap_socket_through_class(
    self: ssl.SSLContext,
    sock: Any,
    server_side: bool = False,
    do_handshake_on_connect: bool = True,
    suppress_ragged_eofs: bool = True,
    server_hostname: str | None = None,
    session: Any = None,
) -> Any:
    # CPython's own SSLContext.wrap_socket, which the stub does not follow.
    return self.sslsocket_class._create(
        sock=sock,
        server_side=server_side,
        do_handshake_on_connect=do_handshake_on_connect,
        suppress_ragged_eofs=suppress_ragged_eofs,
        server_hostname=server_hostname,
        context=self,
        session=session,
    )


def _get_ca_certs_from_stub(self: ssl.SSLContext, binary_form: bool = False) -> Any:
    if not binary_form:
        # NOTE: decoding certificates into dictionaries needs OpenSSL, so the
        # stub's empty list stays for binary_form=False.
        return _original_get_ca_certs(self, binary_form)
    return trusted_ca_certificates(self)


def install_stub_bridges() -> None:
    """Bridge the gaps of Pyodide's stub that the loopback and the lessons meet.

    Does nothing with OpenSSL. With the stub: ``wrap_socket`` honours
    ``sslsocket_class``, ``get_ca_certs(binary_form=True)`` returns the CAs
    given to ``load_verify_locations``, and the exception classes report the
    module ``ssl``, as in CPython, instead of ``_ssl``.
    """
    if not ssl_is_pyodide_stub():
        return
    setattr(ssl.SSLContext, "wrap_socket", _wrap_socket_through_class)
    setattr(ssl.SSLContext, "get_ca_certs", _get_ca_certs_from_stub)
    for name in _STUB_EXCEPTIONS:
        getattr(ssl, name).__module__ = "ssl"


def remove_stub_bridges() -> None:
    """Put back the methods that :func:`install_stub_bridges` replaced."""
    if ssl.SSLContext.wrap_socket is _wrap_socket_through_class:
        setattr(ssl.SSLContext, "wrap_socket", _original_wrap_socket)
    if ssl.SSLContext.get_ca_certs is _get_ca_certs_from_stub:
        setattr(ssl.SSLContext, "get_ca_certs", _original_get_ca_certs)
