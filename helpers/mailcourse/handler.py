"""The aiosmtpd handler of the bundled server: accept, check and store mail.

The handler never relays: every accepted message is written to the Maildir
and nowhere else, whatever the recipient's domain.
"""

from __future__ import annotations

import logging
from typing import Any, Callable

from aiosmtpd.smtp import SMTP, Envelope, Session

from .maildir_store import MaildirStore

log = logging.getLogger(__name__)

RecipientRule = Callable[[str], bool]

BAD_SENDER_REPLY = "553 5.1.7 Bad sender address syntax"
BAD_RECIPIENT_REPLY = "553 5.1.3 Bad recipient address syntax"


def is_full_address(address: str) -> bool:
    """Return true for ``local@domain``, the form real servers insist on."""
    local_part, at, domain = address.rpartition("@")
    return bool(at and local_part and domain and not domain.startswith("."))


class CourseHandler:
    """Store each message in a :class:`MaildirStore`, refusing chosen recipients.

    ``refuse_recipient`` is called with each RCPT TO address. When it returns
    true, the address gets a 550 reply and the rest of the message goes on.
    """

    def __init__(
        self,
        store: MaildirStore,
        refuse_recipient: RecipientRule | None = None,
    ) -> None:
        self.store = store
        self.refuse_recipient = refuse_recipient
        self.delivered_count = 0

    async def handle_MAIL(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        mail_options: list[str],
    ) -> str:
        # The empty sender <> is valid: bounces use it.
        if address not in ("", "<>") and not is_full_address(address):
            log.info("rejected sender %r from %s", address, session.peer)
            return BAD_SENDER_REPLY
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_RCPT(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        address: str,
        rcpt_options: list[str],
    ) -> str:
        # A real server refuses "luis.ejemplo.test"; so does the course's, so
        # that the mistake shows up in the lessons too.
        if not is_full_address(address):
            log.info("rejected recipient %r from %s", address, session.peer)
            return BAD_RECIPIENT_REPLY
        if self.refuse_recipient is not None and self.refuse_recipient(address):
            log.info("refused recipient %s from %s", address, session.peer)
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(rcpt_options)
        return "250 OK"

    async def handle_DATA(
        self, server: SMTP, session: Session, envelope: Envelope
    ) -> str:
        raw_message = envelope.original_content or b""
        try:
            key = self.store.deliver(
                raw_message, envelope.mail_from or "", envelope.rcpt_tos
            )
        except OSError as error:
            # The 451 reply tells the client the message was not accepted, so it
            # can try again and nothing is lost.
            log.error("failed to store message from %s: %s", session.peer, error)
            return "451 4.3.0 Requested action aborted: local storage error"
        self.delivered_count += 1
        log.info(
            "stored message %s from %s for %d recipients (%d bytes)",
            key,
            envelope.mail_from,
            len(envelope.rcpt_tos),
            len(raw_message),
        )
        return "250 OK: message stored"

    def describe(self) -> dict[str, Any]:
        """Return the settings a client can observe, for status displays."""
        return {
            "maildir": str(self.store.path),
            "delivered": self.delivered_count,
        }
