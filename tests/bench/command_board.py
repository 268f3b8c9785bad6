"""The command board's render time with 200 incidents in the university: ``python -m tests.bench command_board``.

    .venv/bin/python -m tests.bench.command_board [INCIDENTS] [JOURNAL_PADDING]

Set-up (the embedded PostgreSQL under .xinfang/bench-pgdata, a throw-away database migrated to head): a university
with its plan, groups and stock (``tests.support.emergency.make_university``), INCIDENTS incidents (default 200)
driven through the API to responding, each with two tasks; the measured one also carries 12 tasks (some declined
and reassigned), 8 bulletins, 10 measures and 10 logistics requests. JOURNAL_PADDING extra journal events of the
university (default 0) stand for a year of petitions' history. Timed: ``GET /console/incidents/{id}`` (the full
board page), ``…/live`` when something changed (the fragment) and when nothing did (204), and the incidents list,
through the app in-process (no network; what is measured is the server's time). Prints the median and p95 of 50
requests each; target: the board's median well under 150 ms. Writes ``.xinfang/bench/command_board.json``.

The incident's timeline reads the journal through ``ix_journal_tenant_incident`` (migration 0020); with a long
history (JOURNAL_PADDING of 500,000) and without that index the board's median rose by about 40% here.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

ROOT = Path(__file__).resolve().parents[2]
DB = "xf_bench_board"
RUNS = 50


def _figures(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": round(statistics.median(ordered) * 1000, 1),
        "p95_ms": round(ordered[int(len(ordered) * 0.95) - 1] * 1000, 1),
    }


async def run(incidents: int, padding: int) -> dict[str, Any]:
    import httpx
    from sqlalchemy import text

    from service.http.app import app_resources, create_app
    from service.http.security import RateLimiter
    from tenants import identity
    from tenants.settings import get_settings
    from tests.support.emergency import Driver, make_university
    from tests.support.forms import Browser

    app = create_app(get_settings())
    async with app_resources(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver", timeout=60) as client:
            db = app.state.db
            async with db.transaction() as session:
                account = await identity.create_platform_account(
                    session, email="root@bench.test", password="platform-password-1", role=identity.Role.platform_admin
                )
                token = await identity.create_platform_token(session, account, "bench")
            uni = await make_university(client, db, token)
            built = time.perf_counter()
            for n in range(incidents - 1):
                d = Driver(client, uni)
                await d.report(title=f"事件{n}")
                await d.assess()
                await d.instruct()
                await d.task("BWC")
                await d.task("XCB")
                app.state.rate_limiter = RateLimiter()  # the bench drives far more than a person would
            d = Driver(client, uni)
            await d.report(title="被测事件")
            await d.assess()
            await d.instruct()
            for i in range(12):
                task = await d.task("BWC" if i % 2 else "XCB")
                if i % 4 == 0:
                    persona = "outsider" if i % 2 else "info_member"
                    decline = {"action": "decline", "version": 1, "reason_code": "no_capacity"}
                    await d.post(persona, f"/tasks/{task['id']}/actions", decline, 200)
                    body = {"step": "response", "duty": "改派", "org_unit_id": uni.units["HQGLC"]}
                    await d.post("lead_member", f"/tasks/{task['id']}/reassign", body)
            for i in range(8):
                await d.bulletin(approve=i % 2 == 0, publish=i % 4 == 0)
            for _ in range(10):
                await d.post("hand_member", "/measures", {"kind": "order", "count": 2, "notes": "到场"})
                await d.post("hand_member", "/logistics", {"category": "water", "quantity": 3})
            app.state.rate_limiter = RateLimiter()
            if padding:  # other history of the university (petitions' events), written in bulk
                async with db.transaction(uni.tenant.id) as session:
                    await session.execute(
                        text(
                            "insert into journal (tenant_id, id, occurred_at, type, petition_id, payload) "
                            "select :t, gen_random_uuid(), now() - make_interval(secs => g), 'petition.submitted', "
                            "gen_random_uuid(), '{}'::jsonb from generate_series(1, :n) g"
                        ),
                        {"t": uni.tenant.id, "n": padding},
                    )
                    await session.execute(text("analyze journal"))
            built = time.perf_counter() - built

            web = Browser(httpx.AsyncClient(transport=transport, base_url="https://testserver", timeout=60))
            r = await web.sign_in(uni.slug, *uni.logins["lead_member"])
            assert r.status_code == 303, r.text

            async def timed(path: str, expect: int, **params: str) -> list[float]:
                out = []
                for _ in range(RUNS + 3):
                    started = time.perf_counter()
                    r = await web.client.get(path, params=params)
                    out.append(time.perf_counter() - started)
                    assert r.status_code == expect, (path, r.status_code, r.text[:500])
                app.state.rate_limiter = RateLimiter()
                return out[3:]  # warm-up

            board = f"/console/incidents/{d.id}"
            stamp = (await web.client.get(f"{board}/live")).headers["x-board-stamp"]
            figures = {
                "board": _figures(await timed(board, 200)),
                "live_changed": _figures(await timed(f"{board}/live", 200, since="old")),
                "live_unchanged": _figures(await timed(f"{board}/live", 204, since=stamp)),
                "incidents_list": _figures(await timed("/console/incidents", 200)),
            }
            await web.client.aclose()
            return {"incidents": incidents, "journal_padding": padding, "setup_s": round(built, 1), **figures}


def main(incidents: int = 200, padding: int = 0) -> None:
    os.environ.update(
        XINFANG_ENV="test",
        XINFANG_SECRET_KEY="bench-secret-key-0123456789-abcdefghijklmnop",
        XINFANG_DATA_KEY=base64.b64encode(b"b" * 32).decode(),
    )
    from service.ops.cli import migrate
    from service.ops.embedded import database_url, start_postgres
    from tenants import crypto
    from tenants.settings import get_settings

    server = start_postgres(ROOT / ".xinfang" / "bench-pgdata", cleanup="stop")
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{DB}" with (force)')
    os.environ["XINFANG_DATABASE_URL"] = database_url(server, DB)
    get_settings.cache_clear()
    migrate()
    crypto.configure(get_settings().data_key_bytes)
    try:
        result = asyncio.run(run(incidents, padding))
    finally:
        with psycopg.connect(server, autocommit=True) as conn:
            conn.execute(f'drop database if exists "{DB}" with (force)')
    result["target"] = "board median well under 150 ms"
    result["passed"] = result["board"]["median_ms"] < 150
    for key, value in result.items():
        print(f"  {key}: {value}")
    path = ROOT / ".xinfang" / "bench" / "command_board.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2))
    print(f"  written to {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main(
        int(sys.argv[1]) if len(sys.argv) > 1 else 200,
        int(sys.argv[2]) if len(sys.argv) > 2 else 0,
    )
