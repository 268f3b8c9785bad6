"""The HTTP side of a delivery: the guarded client, the signed POST, and how an answer is judged.

2xx is a success; everything else (3xx included: redirects are never followed) is a failure. 410 Gone disables
the endpoint; 429 and 503 with ``Retry-After`` set the next attempt's time. The connect step and the whole
attempt are bounded; only the first bytes of the answer are read and kept.
"""

from __future__ import annotations

import asyncio
import http.cookiejar
import logging
import time
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpcore
import httpx
import msgspec

from service.webhooks import signing
from service.webhooks.ssrf import GuardedBackend
from tenants.clock import utcnow
from tenants.settings import Settings

# httpx logs every request at INFO; a delivery log exists for that, and the line costs as much as the request.
logging.getLogger("httpx").setLevel(logging.WARNING)

BODY_LIMIT = 1024
USER_AGENT = "Xinfang-Webhooks/1.0"


class GuardedTransport(httpx.AsyncHTTPTransport):
    """httpx's transport over a connection pool whose network backend checks every address it connects to."""

    def __init__(self, *, allow_loopback: bool, limits: httpx.Limits) -> None:
        super().__init__(trust_env=False, limits=limits)
        # httpx has no public hook for the network backend; the pool it builds is replaced by an identical
        # one that connects through GuardedBackend. Proxies are never used (trust_env=False above).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(allow_loopback=allow_loopback),
        )


class _NoCookies(http.cookiejar.CookieJar):
    """A jar that keeps nothing. One client serves every university's deliveries, so a cookie one receiver sets
    must never be sent back — to it, or to another subscription on the same host."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None

    def set_cookie(self, cookie: http.cookiejar.Cookie) -> None:
        return None


def make_client(settings: Settings) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        cookies=_NoCookies(),
        transport=GuardedTransport(
            allow_loopback=settings.webhook_allow_loopback,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=100, keepalive_expiry=30),
        ),
        timeout=httpx.Timeout(settings.webhook_timeout, connect=settings.webhook_connect_timeout),
        follow_redirects=False,
        trust_env=False,
        headers={"user-agent": USER_AGENT},
    )


_clients: dict[tuple[asyncio.AbstractEventLoop, bool, float, float], httpx.AsyncClient] = {}


def client_for(settings: Settings) -> httpx.AsyncClient:
    """One client (and connection pool) per event loop and configuration, created on first use."""
    key = (
        asyncio.get_running_loop(),
        settings.webhook_allow_loopback,
        settings.webhook_timeout,
        settings.webhook_connect_timeout,
    )
    client = _clients.get(key)
    if client is None:
        client = _clients[key] = make_client(settings)
    return client


class Outcome(msgspec.Struct, frozen=True):
    succeeded: bool
    latency_ms: int
    status_code: int | None = None
    response_body: str | None = None
    error: str | None = None
    # Seconds the receiver asked us to wait (429/503 with Retry-After).
    retry_after: float | None = None

    @property
    def gone(self) -> bool:
        return self.status_code == 410


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = utcnow().timestamp() if now is None else now
    return max(0.0, when.timestamp() - now)


async def post(
    client: httpx.AsyncClient, url: str, secrets: list[str], msg_id: str, body: bytes, *, limit: float
) -> Outcome:
    """One signed POST of ``body``; never raises for network trouble (it becomes the outcome's error)."""
    headers = signing.headers(secrets, msg_id, int(utcnow().timestamp()), body)
    headers["content-type"] = "application/json"
    started = time.perf_counter()
    try:
        async with asyncio.timeout(limit), client.stream("POST", url, content=body, headers=headers) as response:
            received = b""
            async for chunk in response.aiter_raw():
                received += chunk
                if len(received) >= BODY_LIMIT:
                    break
    except TimeoutError:
        return Outcome(False, _ms(started), error=f"timed out after {limit:g} s")
    except httpx.HTTPError as exc:
        return Outcome(False, _ms(started), error=f"{type(exc).__name__}: {exc}"[:300])
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("retry-after")) if status in (429, 503) else None
    return Outcome(
        200 <= status < 300,
        _ms(started),
        status_code=status,
        response_body=received[:BODY_LIMIT].decode("utf-8", "replace")[:BODY_LIMIT] or None,
        error=None if 200 <= status < 300 else _describe(status),
        retry_after=retry_after,
    )


def _describe(status: int) -> str:
    if 300 <= status < 400:
        return f"HTTP {status}: redirects are not followed"
    return f"HTTP {status}"


def _ms(started: float) -> int:
    return int((time.perf_counter() - started) * 1000)
