"""Time a tlslite-ng TLS 1.3 handshake with trustme certificates (desktop probe).

Evidence for lite/README.md: whether tlslite-ng, a pure-Python TLS library,
could stand in for OpenSSL in Pyodide. Run it in a scratch environment:

    python3 -m venv /tmp/tls-probe
    /tmp/tls-probe/bin/pip install tlslite-ng trustme
    /tmp/tls-probe/bin/python lite/probes/tlslite_handshake.py

Both ends run in this process over a kernel socket pair; nothing leaves the
machine. The server side runs in a thread because tlslite-ng's blocking
handshake needs a peer that answers. The browser has no threads, so a real
integration would use tlslite-ng's generator-based handshake instead.
"""

from __future__ import annotations

import socket
import threading
import time

import trustme
from tlslite.api import TLSConnection, X509CertChain, parsePEMKey

ROUNDS = 3


def handshake_seconds(chain: X509CertChain, key: object) -> tuple[float, str]:
    server_end, client_end = socket.socketpair()
    server = TLSConnection(server_end)
    client = TLSConnection(client_end)
    started = time.perf_counter()
    server_thread = threading.Thread(
        target=server.handshakeServer, kwargs={"certChain": chain, "privateKey": key}
    )
    server_thread.start()
    client.handshakeClientCert()
    server_thread.join()
    elapsed = time.perf_counter() - started
    # tlslite-ng numbers versions as on the wire: (3, 4) is TLS 1.3.
    major, minor = client.version
    description = f"TLS {major - 2}.{minor - 1}, {client.getCipherName()}"
    server_end.close()
    client_end.close()
    return elapsed, description


def main() -> None:
    for key_type in (trustme.KeyType.RSA, trustme.KeyType.ECDSA):
        authority = trustme.CA(key_type=key_type)
        issued = authority.issue_cert("localhost", "127.0.0.1", key_type=key_type)
        chain = X509CertChain()
        chain.parsePemList(
            b"".join(pem.bytes() for pem in issued.cert_chain_pems).decode()
        )
        key = parsePEMKey(issued.private_key_pem.bytes().decode(), private=True)
        results = [handshake_seconds(chain, key) for _ in range(ROUNDS)]
        timings = ", ".join(f"{seconds * 1000:.0f} ms" for seconds, _ in results)
        print(f"{key_type.name}: {results[0][1]}; handshakes: {timings}")


if __name__ == "__main__":
    main()
