"""Retry-safe creates: an ``Idempotency-Key`` header claims the request in the same transaction as its work, and
a retry with the same key gets the first response back (``tenants.idempotency`` keeps the claims)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Request, Response
from litestar.params import HeaderParameter

from service.http.deps import Session
from tenants import idempotency
from tenants.idempotency import KEY_PATTERN
from tenants.identity import Principal

# The retry-safe key of a write (``tenants.idempotency``), declared once: its pattern is the one the server checks.
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        pattern=KEY_PATTERN.pattern,
        description="retry-safe key (a UUID is ideal: 8 to 200 visible ASCII characters); 24 h",
    ),
]


async def idempotent(
    session: Session,
    principal: Principal,
    key: str | None,
    request: Request[Any, Any, Any],
    body: msgspec.Struct,
    work: Callable[[], Awaitable[msgspec.Struct]],
    status_code: int = 201,
) -> Response[Any]:
    """Run ``work`` once per Idempotency-Key; a retry gets the first response back (other domains' creates)."""
    if key is None:
        return Response(await work(), status_code=status_code)
    fp = idempotency.fingerprint(request.method, request.url.path, msgspec.json.encode(body))
    claim = await idempotency.claim(session, key=key, principal=principal, fp=fp)
    if claim.replay is not None:
        return Response(
            claim.replay[1].encode(),
            status_code=claim.replay[0],
            media_type="application/json",
            headers={"Idempotent-Replayed": "true"},
        )
    encoded = msgspec.json.encode(await work())
    await idempotency.complete(session, claim, status_code, encoded.decode())
    return Response(encoded, status_code=status_code, media_type="application/json")
