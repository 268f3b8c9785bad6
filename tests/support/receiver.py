"""A real HTTP receiver on 127.0.0.1 for webhook tests: answers from a script of responses, records requests."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    at: float
    path: str


@dataclass
class Receiver:
    """``script`` lists (status, headers) answers in order; the last one repeats.

    ``hold`` blocks requests until set: all of them, or only the first ``hold_first`` when that is positive.
    """

    script: list[tuple[int, dict[str, str]]] = field(default_factory=lambda: [(200, {})])
    received: list[Received] = field(default_factory=list)
    hold: threading.Event | None = None
    hold_first: int = 0
    _arrivals: int = 0
    arrived: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.server_address[1])

    def start(self) -> Receiver:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                with receiver._lock:
                    ordinal = receiver._arrivals
                    receiver._arrivals += 1
                receiver.arrived.set()
                if receiver.hold is not None and (receiver.hold_first <= 0 or ordinal < receiver.hold_first):
                    receiver.hold.wait(60)
                    if receiver.hold_first:
                        return  # the held request is abandoned: its client is gone
                with receiver._lock:
                    index = min(len(receiver.received), len(receiver.script) - 1)
                    status, headers = receiver.script[index]
                    receiver.received.append(
                        Received({k.lower(): v for k, v in self.headers.items()}, body, status, time.time(), self.path)
                    )
                payload = b'{"ok": true}' if status < 300 else b"receiver says no"
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("content-length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.hold is not None:
            self.hold.set()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
