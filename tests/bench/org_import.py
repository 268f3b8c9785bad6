"""Benchmark: import 5,000 org units and 20,000 people (target: under 10 s on the 2-core machine).

Run as ``python -m tests.bench.org_import`` (or ``make bench NAME=org_import``). It starts an embedded PostgreSQL
under ``.xinfang/bench-pgdata``, migrates a fresh database, generates the files, and times, each into a new
university:
- the service path on CSV (parse, whole-file validation, encryption, set-based upsert, commit);
- the service path on XLSX;
- the HTTP endpoint (multipart upload through the real ASGI app, CSV);
- a second import of the same CSV into the now-full university (every row an update);
and, as the baseline, a plain asyncpg ``copy_records_to_table`` of the same rows (already encrypted) into
unconstrained copies of the tables: the floor any import could reach. Writes ``.xinfang/bench/org_import.json``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import random
import time
import uuid
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
UNITS = 5_000
PEOPLE = 20_000
TARGET_SECONDS = 10.0

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然欣怡子轩梓涵一诺思远博文雨泽"
TITLES = [("教师", "Lecturer"), ("辅导员", "Counselor"), ("科员", "Clerk"), ("副处长", "Deputy director")]


def _environment() -> tuple[str, str]:
    """Configure the process like the test suite does, on its own embedded server and database."""
    os.environ.setdefault("XINFANG_ENV", "test")
    os.environ.setdefault("XINFANG_SECRET_KEY", "bench-secret-key-0123456789-abcdefghijklmnop")
    os.environ.setdefault("XINFANG_DATA_KEY", base64.b64encode(b"b" * 32).decode())
    os.environ.setdefault("XINFANG_LOG_LEVEL", "warning")
    os.environ.setdefault("XINFANG_LOG_FORMAT", "json")
    os.environ.setdefault("XINFANG_BROKER_URL", "postgres")
    from service.ops.embedded import database_url, start_postgres

    server = os.environ.get("XINFANG_TEST_DATABASE_URL") or start_postgres(ROOT / ".xinfang" / "bench-pgdata")
    name = f"xf_bench_{uuid.uuid4().hex[:8]}"
    os.environ["XINFANG_DATABASE_URL"] = database_url(server, name)
    from service.ops.cli import migrate
    from tenants.settings import get_settings

    get_settings.cache_clear()
    migrate()
    return server, name


def generate(seed: int = 7) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """A university of 5,000 units (colleges and offices, centers below them, groups below those) and 20,000 people."""
    rng = random.Random(seed)
    units = [("U", "university", "基准大学", "Benchmark University", "", "true")]
    branches = []
    for i in range(100):
        kind = "college" if i % 2 else "office"
        code = f"B{i:03d}"
        units.append((code, kind, f"第{i}学院" if i % 2 else f"第{i}处", f"Branch {i}", "U", "true"))
        branches.append(code)
    centers = []
    for i in range(900):
        code = f"C{i:04d}"
        units.append((code, "center", f"中心{i}", f"Center {i}", branches[i % 100], "true"))
        centers.append(code)
    while len(units) < UNITS:
        i = len(units)
        units.append((f"G{i:05d}", "group", f"小组{i}", f"Group {i}", centers[i % 900], "true"))
    codes = [u[0] for u in units]
    people = []
    for i in range(PEOPLE):
        title_zh, title_en = TITLES[i % len(TITLES)]
        name = rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.randint(1, 2)))
        people.append(
            (f"S{i:06d}", name, f"Person {i}", title_zh, title_en, codes[rng.randrange(len(codes))], "", "true")
        )
    return units, people


async def _new_tenant(db: Any) -> tuple[uuid.UUID, Any]:
    from tenants import tenancy
    from tenants.ids import new_id

    tenant_id = new_id()
    slug = f"bench-{tenant_id.hex[-8:]}"
    async with db.transaction(tenant_id) as session:
        _, admin, _ = await tenancy.create_tenant(
            session,
            slug=slug,
            name_zh="基准大学",
            name_en="Benchmark University",
            province_code="440000",
            timezone="Asia/Shanghai",
            admin_email=f"admin@{slug}.edu.cn",
            actor_id=None,
        )
    return tenant_id, admin


async def _service_import(db: Any, units: bytes, people: bytes) -> tuple[float, Any]:
    from tenants import org_transfer

    tenant_id, admin = await _new_tenant(db)
    started = time.perf_counter()
    async with db.transaction(tenant_id) as session:
        summary = await org_transfer.import_org(
            session,
            units=org_transfer.read_table(units, name="units"),
            people=org_transfer.read_table(people, name="people"),
            actor_id=admin.id,
        )
    return time.perf_counter() - started, (tenant_id, admin, summary)


async def _reimport(db: Any, tenant_id: uuid.UUID, admin: Any, units: bytes, people: bytes) -> tuple[float, Any]:
    from tenants import org_transfer

    started = time.perf_counter()
    async with db.transaction(tenant_id) as session:
        summary = await org_transfer.import_org(
            session,
            units=org_transfer.read_table(units, name="units"),
            people=org_transfer.read_table(people, name="people"),
            actor_id=admin.id,
        )
    return time.perf_counter() - started, summary


async def _http_import(db: Any, units: bytes, people: bytes) -> float:
    import httpx

    from service.http.app import app_resources, create_app
    from tenants import identity
    from tenants.settings import get_settings

    _, admin = await _new_tenant(db)
    app = create_app(get_settings())
    token = app.state.tokens.issue(identity.account_principal(admin), admin.token_version).access_token
    async with app_resources(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://bench", timeout=120) as client:
            started = time.perf_counter()
            r = await client.post(
                "/api/v1/org/import",
                files={"units": ("units.csv", units, "text/csv"), "people": ("people.csv", people, "text/csv")},
                headers={"Authorization": f"Bearer {token}"},
            )
            elapsed = time.perf_counter() - started
    if r.status_code != 200:
        raise SystemExit(f"HTTP import failed: {r.status_code} {r.text[:500]}")
    return elapsed


async def _baseline(units: list[tuple[str, ...]], people: list[tuple[str, ...]]) -> float:
    """COPY the same rows, already encrypted, into unconstrained copies of the tables (no validation at all)."""
    import asyncpg

    from tenants import crypto
    from tenants.clock import utcnow
    from tenants.ids import new_id
    from tenants.settings import get_settings, plain_url

    tenant_id = uuid.uuid4()
    now = utcnow()
    ids = {u[0]: new_id() for u in units}
    unit_rows = [(tenant_id, ids[u[0]], u[1], u[0], u[2], u[3], ids.get(u[4]), True, now, now) for u in units]
    people_rows = [
        (
            tenant_id,
            new_id(),
            crypto.encrypt(p[0]),
            crypto.lookup_hash(p[0]),
            crypto.encrypt(p[1]),
            crypto.encrypt(p[2]),
            p[3],
            p[4],
            ids[p[5]],
            None,
            True,
            now,
            now,
        )
        for p in people
    ]
    connection = await asyncpg.connect(plain_url(get_settings().database_url))
    try:
        await connection.execute("create temp table b_units (like org_units)")
        await connection.execute("create temp table b_people (like people)")
        started = time.perf_counter()
        async with connection.transaction():
            await connection.copy_records_to_table("b_units", records=unit_rows)
            await connection.copy_records_to_table("b_people", records=people_rows)
        return time.perf_counter() - started
    finally:
        await connection.close()


def _drop(server: str, database: str) -> None:
    import psycopg

    with psycopg.connect(server, autocommit=True) as connection:
        connection.execute(f'drop database if exists "{database}" with (force)')


async def run() -> dict[str, Any]:
    from tenants import crypto, org_transfer
    from tenants.db import Database
    from tenants.settings import get_settings

    server, database = _environment()
    settings = get_settings()
    crypto.configure(settings.data_key_bytes)
    units, people = generate()
    units_csv = org_transfer.write_csv(org_transfer.UNIT_COLUMNS, units)
    people_csv = org_transfer.write_csv(org_transfer.PERSON_COLUMNS, people)
    workbook = org_transfer.write_xlsx(
        {"units": (org_transfer.UNIT_COLUMNS, units), "people": (org_transfer.PERSON_COLUMNS, people)}
    )
    db = Database.from_settings(settings)
    try:
        csv_s, (tenant_id, admin, summary) = await _service_import(db, units_csv, people_csv)
        assert summary.units_created == UNITS and summary.people_created == PEOPLE, summary
        reimport_s, again = await _reimport(db, tenant_id, admin, units_csv, people_csv)
        assert again.units_updated == UNITS and again.people_updated == PEOPLE, again
        xlsx_s, _ = await _service_import(db, workbook, workbook)
        http_s = await _http_import(db, units_csv, people_csv)
        baseline_s = await _baseline(units, people)
    finally:
        await db.dispose()
        _drop(server, database)
    worst = max(csv_s, xlsx_s, http_s, reimport_s)
    return {
        "name": "org_import",
        "figures": {
            "units": UNITS,
            "people": PEOPLE,
            "csv_bytes": len(units_csv) + len(people_csv),
            "xlsx_bytes": len(workbook),
            "service_csv_seconds": round(csv_s, 3),
            "service_csv_reimport_seconds": round(reimport_s, 3),
            "service_xlsx_seconds": round(xlsx_s, 3),
            "http_csv_seconds": round(http_s, 3),
            "service_csv_rows_per_second": round((UNITS + PEOPLE) / csv_s),
        },
        "baseline": {
            "what": "asyncpg copy_records_to_table of the same rows, pre-encrypted, into unconstrained temp tables",
            "seconds": round(baseline_s, 3),
        },
        # Higher is better: the fraction of raw COPY speed the full import (validation, encryption, upsert) keeps.
        "ratio": round(baseline_s / csv_s, 3),
        "target": f"under {TARGET_SECONDS:.0f} s for {UNITS:,} units + {PEOPLE:,} people (every path measured)",
        "passed": worst < TARGET_SECONDS,
    }


def main() -> None:
    result = asyncio.run(run())
    for key, value in result["figures"].items():
        print(f"{key:>32}: {value}")
    print(f"{'baseline (raw COPY) seconds':>32}: {result['baseline']['seconds']}")
    print(f"{'ratio (baseline / service csv)':>32}: {result['ratio']}")
    print(f"{'passed':>32}: {result['passed']} ({result['target']})")
    out = ROOT / ".xinfang" / "bench" / "org_import.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, ensure_ascii=False))
    print(f"written to {out}")


if __name__ == "__main__":
    main()
