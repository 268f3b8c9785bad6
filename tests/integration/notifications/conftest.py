"""Real servers on loopback for notification tests: SMTP (``aiosmtpd``), accepting or refusing, and an SMS sink."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from tests.support.notifications import Mailbox, SmsSink, free_loopback_port, smtp_server


@pytest.fixture
def smtp() -> Iterator[tuple[Mailbox, int]]:
    yield from smtp_server(Mailbox())


@pytest.fixture
def refusing_smtp() -> Iterator[tuple[Mailbox, int]]:
    yield from smtp_server(Mailbox(refuse=True))


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on (connection refused)."""
    return free_loopback_port()


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
