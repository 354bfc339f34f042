"""Lab accounts of the provider simulator and the aiosmtpd authenticator.

The simulator accepts AUTH PLAIN and LOGIN for a fixed set of lab accounts.
Their passwords are public on purpose: they exist only inside the simulator,
which listens on 127.0.0.1, so students can practise logging in without a
real account. User names and passwords are compared as UTF-8, the encoding
RFC 4616 (PLAIN) specifies, so a password with accents works.
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Mapping
from typing import Any

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

log = logging.getLogger(__name__)

LAB_USER = "alumno@curso.test"
LAB_PASSWORD = "laboratorio-2026"

# A second account whose password is not ASCII: smtplib's own login() cannot
# send it (it encodes the AUTH payload as ASCII), so the course shows why.
ACCENT_USER = "profe@curso.test"
ACCENT_PASSWORD = "contraseña-ñ"

LAB_ACCOUNTS: Mapping[str, str] = {
    LAB_USER: LAB_PASSWORD,
    ACCENT_USER: ACCENT_PASSWORD,
}


def _decode_utf8(value: bytes) -> str | None:
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return None


class LabAuthenticator:
    """An aiosmtpd ``authenticator`` that checks user and password in an account table.

    A failed check returns ``AuthResult(success=False, handled=False)``, so
    aiosmtpd replies 535 at once. With ``handled=True`` it would send no reply,
    and the client would wait until its timeout.
    """

    def __init__(self, accounts: Mapping[str, str] = LAB_ACCOUNTS) -> None:
        self._accounts = {
            user: password.encode("utf-8") for user, password in accounts.items()
        }

    def __call__(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        mechanism: str,
        auth_data: Any,
    ) -> AuthResult:
        if not isinstance(auth_data, LoginPassword):
            log.info("rejected AUTH %s from %s: no user name", mechanism, session.peer)
            return AuthResult(success=False, handled=False)
        user = _decode_utf8(auth_data.login)
        expected = self._accounts.get(user or "")
        # Compare even for an unknown user, so that both take the same time.
        matches = hmac.compare_digest(auth_data.password, expected or b"")
        if expected is not None and matches:
            log.info("accepted AUTH %s for %s from %s", mechanism, user, session.peer)
            return AuthResult(success=True, auth_data=user)
        # The user name is left out: students sometimes type the password there.
        reason = "wrong password" if expected is not None else "unknown user"
        log.info("rejected AUTH %s from %s: %s", mechanism, session.peer, reason)
        return AuthResult(success=False, handled=False)
