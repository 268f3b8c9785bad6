"""Real servers on loopback for notification tests: SMTP (``aiosmtpd``), accepting or refusing, and an SMS sink."""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import msgspec
import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _smtp(mailbox: Mailbox) -> Iterator[tuple[Mailbox, int]]:
    port = _free_port()  # aiosmtpd's controller checks its server by connecting to the port it was given
    controller = Controller(mailbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield mailbox, port
    finally:
        controller.stop()


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    yield from _smtp(Mailbox())


@pytest.fixture
def refusing_smtp() -> Iterator[tuple[Mailbox, int]]:
    yield from _smtp(Mailbox(refuse=True))


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    return _free_port()


@dataclass
class SmsSink:
    received: list[tuple[dict[str, str], dict[str, Any]]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/sms"


@pytest.fixture
def sms() -> Iterator[SmsSink]:
    sink = SmsSink()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            sink.received.append((dict(self.headers), json.loads(body)))
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: Any) -> None:
            pass

    sink.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=sink.server.serve_forever, daemon=True)
    thread.start()
    yield sink
    sink.server.shutdown()
    sink.server.server_close()


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
