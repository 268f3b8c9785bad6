"""Liveness (/health), readiness (/ready: database and broker reachable)."""

from __future__ import annotations

import asyncio
from typing import Any

from litestar import Response, get
from litestar.datastructures import State
from sqlalchemy import text

from analytics.runtime.broker import check_broker
from service.http.errors import problem


@get("/health", opt={"public": True}, tags=["ops"], summary="Liveness")
async def health() -> dict[str, str]:
    return {"status": "ok"}


@get("/ready", opt={"public": True}, tags=["ops"], summary="Readiness: database and broker reachable")
async def ready(state: State) -> Response[dict[str, Any]]:
    checks: dict[str, str] = {}
    try:
        async with asyncio.timeout(3):
            async with state.db.sessionmaker() as session:
                await session.execute(text("select 1"))
        checks["database"] = "ok"
    except Exception as exc:
        checks["database"] = f"unavailable: {type(exc).__name__}"
    try:
        await asyncio.wait_for(asyncio.to_thread(check_broker, state.broker), 3)
        checks["broker"] = "ok"
    except Exception as exc:
        checks["broker"] = f"unavailable: {type(exc).__name__}"
    if all(v == "ok" for v in checks.values()):
        return Response({"status": "ready", "checks": checks})
    return problem(None, 503, detail="not ready", headers={"Retry-After": "5"}, checks=checks)
