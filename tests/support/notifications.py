"""Real servers on loopback for notifications (SMTP with aiosmtpd, an SMS sink) and the delivery worker's work
run in-process."""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import ThreadingHTTPServer
from typing import Any

import msgspec
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from service.notifications import dispatch


@dataclass
class Mailbox:
    """What the SMTP server accepted; ``refuse`` answers every recipient with 550."""

    refuse: bool = False
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[str] = field(default_factory=list)

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str, options: Any) -> str:
        if self.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        assert isinstance(envelope.content, bytes)
        self.recipients += envelope.rcpt_tos
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))  # type: ignore[arg-type]
        return "250 Message accepted"


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def smtp_server(mailbox: Mailbox) -> Iterator[tuple[Mailbox, int]]:
    port = free_loopback_port()  # aiosmtpd's controller checks its server by connecting to the port it was given
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@dataclass
class SmsSink:
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"


def configured(settings: Any, *, smtp_port: int | None = None, sms_url: str = "", retries: str = "0,0") -> Any:
    """The session settings with the loopback servers and immediate retries (the schedule's length is kept)."""
    return msgspec.structs.replace(
        settings,
        smtp_host="127.0.0.1" if smtp_port else "",
        smtp_port=smtp_port or 587,
        smtp_starttls=False,
        smtp_from="xinfang@notify.test" if smtp_port else "",
        smtp_timeout=5.0,
        sms_url=sms_url,
        sms_token="sms-test-token" if sms_url else "",
        notify_retry_schedule=retries,
    )


async def deliver_all(db: Any, settings: Any, tenant_id: uuid.UUID, event_id: str) -> list[Any]:
    """What the worker does for one event, in-process: the first attempts, then every retry at once (the
    schedule's delays are what the actor's messages would wait: see ``retries``)."""
    retries = await dispatch.handle(db, settings, tenant_id, uuid.UUID(event_id))
    seen = list(retries)
    while retries:
        retries = [
            r for x in retries for r in await dispatch.deliver(db, settings, x.tenant_id, x.delivery_id, x.token)
        ]
        seen += retries
    return seen
