"""A yardstick for the ``submission`` benchmark, not part of the product: the smallest Litestar endpoint that does
what any submission must — parse the JSON body, one INSERT into PostgreSQL, answer 201 with JSON — served by the
same uvicorn with the same workers and driven by the same load. Its rate is the ceiling this stack reaches on the
machine, so the benchmark can say how much of the gap to the raw INSERT rate is ours and how much is the stack's.

    uvicorn tests.bench._ceiling_app:create_app --factory   (BENCH_CEILING_DATABASE_URL names the database)

Its asyncpg pool does not reset a connection on release (asyncpg's default reset sends four statements in a second
round trip per request, which the product's intake pool does not do either); ``BENCH_CEILING_RESET=1`` restores
the default, to compare with the figures of earlier releases.
"""

from __future__ import annotations

import os
import uuid
from typing import Any

import asyncpg
import msgspec
from litestar import Litestar, Request, post


class Submission(msgspec.Struct):
    kind: str
    category: str
    subject: str
    content: str


@post("/api/v1/petitions", status_code=201)
async def submit(request: Request[Any, Any, Any], data: Submission) -> dict[str, str]:
    row_id = uuid.uuid4()
    await request.app.state.pool.execute("insert into bench_raw (id, payload) values ($1, $2)", row_id, data.subject)
    return {"id": str(row_id)}


async def _no_reset(connection: asyncpg.Connection) -> None:
    """Nothing outlives a request's single autocommit statement on these connections."""


async def _open(app: Litestar) -> None:
    reset = None if os.environ.get("BENCH_CEILING_RESET") == "1" else _no_reset
    app.state.pool = await asyncpg.create_pool(
        os.environ["BENCH_CEILING_DATABASE_URL"], min_size=16, max_size=16, reset=reset
    )


async def _close(app: Litestar) -> None:
    await app.state.pool.close()


def create_app() -> Litestar:
    return Litestar([submit], on_startup=[_open], on_shutdown=[_close], openapi_config=None)
