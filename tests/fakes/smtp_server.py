"""A local SMTP server for tests (aiosmtpd): it keeps every email it is given.

    with FakeSMTP() as smtp:
        settings.smtp_host, settings.smtp_port = smtp.host, smtp.port
        ...
        [email] = smtp.messages  # email.message.EmailMessage, plus .envelope_to

`refuse_with` makes it answer every message with that SMTP error (e.g. "550 mailbox full").
"""

from __future__ import annotations

import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller


@dataclass
class ReceivedEmail:
    """One email as the server got it."""

    envelope_from: str
    envelope_to: list[str]
    message: EmailMessage

    @property
    def subject(self) -> str:
        """The Subject header."""
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        """The plain-text body."""
        return self.message.get_body(("plain",)).get_content()


@dataclass
class _Handler:
    received: list[ReceivedEmail] = field(default_factory=list)
    refuse_with: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope) -> str:
        if self.refuse_with:
            return self.refuse_with
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.received.append(
                ReceivedEmail(envelope.mail_from, list(envelope.rcpt_tos), message)
            )
        return "250 Message accepted for delivery"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakeSMTP:
    """A running SMTP server on 127.0.0.1 (plain, no TLS, no auth)."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = _free_port()
        self._handler = _Handler()
        self._controller = Controller(self._handler, hostname=self.host, port=self.port)

    @property
    def messages(self) -> list[ReceivedEmail]:
        """Every email received so far."""
        with self._handler.lock:
            return list(self._handler.received)

    def refuse(self, reply: str | None) -> None:
        """Answer every message with this SMTP reply (None: accept again)."""
        self._handler.refuse_with = reply

    def __enter__(self) -> FakeSMTP:
        self._controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._controller.stop()
