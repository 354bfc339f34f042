"""Every use of a private ``ssl`` interface by the emulated TLS, in one module.

Pyodide replaces ``_ssl`` with a pure-Python stub (``OPENSSL_VERSION`` is
``"OpenSSL (stub)"``). Two of its gaps matter to the in-memory loopback, and
both are bridged here, only when that stub is present:

- ``SSLContext.get_ca_certs()`` always returns ``[]``. The stub keeps the PEM
  text that ``load_verify_locations`` received in the private attribute
  ``_ca_data`` (the last call only), so the trusted CAs are read from there.
- ``SSLContext.wrap_socket`` calls ``SSLSocket._create`` directly, not
  ``self.sslsocket_class._create`` as CPython does, so the loopback's
  ``sslsocket_class`` hook is never reached. :func:`route_wrap_socket` makes
  it go through ``sslsocket_class``, as in CPython.

Tested with the stub of Pyodide 314.0.8 (Python 3.14.2). On another Python,
reading the trusted CAs raises :class:`StubUnsupportedError` rather than
guess; the ``wrap_socket`` routing only restores CPython's own behaviour.
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


def route_wrap_socket() -> None:
    """With Pyodide's stub, make ``wrap_socket`` honour ``sslsocket_class``."""
    if ssl_is_pyodide_stub():
        setattr(ssl.SSLContext, "wrap_socket", _wrap_socket_through_class)


def restore_wrap_socket() -> None:
    """Put back the ``wrap_socket`` that :func:`route_wrap_socket` replaced."""
    if ssl.SSLContext.wrap_socket is _wrap_socket_through_class:
        setattr(ssl.SSLContext, "wrap_socket", _original_wrap_socket)
