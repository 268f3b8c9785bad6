"""Early warnings end to end on the real database: the scan raises one warning per surging key once per surge,
journals the evidence (never personal data), and the handling group or an admin dismisses it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

from analytics.runtime.scheduler import _periodic
from analytics.warnings import jobs as warning_jobs
from analytics.warnings import services as warning_scan
from tests.support.people import link_person, make_account
from tests.support.platform import auth
from tests.support.warnings import scan_at as _scan
from tests.support.warnings import submit_petitions as _submit
from tests.support.warnings import warning_university as _setup


async def _events(db: Any, tenant: Any, type_: str) -> list[Any]:
    from tenants.journal import JournalEvent

    async with db.transaction(tenant.id) as session:
        rows = await session.scalars(select(JournalEvent).where(JournalEvent.type == type_))
        return list(rows)


async def test_a_surge_is_raised_once_per_key_with_evidence(client: Any, db: Any, tenant: Any) -> None:
    from tenants.clock import utcnow

    ctx = await _setup(client, db, tenant)
    await _submit(db, tenant, 6, lat=36.0671, long=120.3826)
    now = utcnow()
    raised = await _scan(db, tenant, now + timedelta(minutes=5))
    # Six petitions on one category, routed to one unit, from one place, against an empty baseline: three keys
    # surge, one surge, one warning (led by the category on a tie of scores; the unit and the place related).
    [w] = raised
    assert (w.key_kind, w.key, w.org_unit_id) == ("category", "canteen", uuid.UUID(ctx["unit"]))
    assert [(r["key_kind"], r["key"], r["window_count"]) for r in w.related] == [
        ("org_unit", ctx["unit"], 6), ("place", "36.065,120.380", 6),
    ]  # fmt: skip
    assert w.keys == ["category:canteen", f"org_unit:{ctx['unit']}", "place:36.065,120.380"]
    assert (w.window_count, w.state, w.peak_count) == (6, "open", 6)
    assert w.baseline == pytest.approx(1 / 28, abs=1e-4)
    events = await _events(db, tenant, "warning.raised")
    [event] = events
    assert str(event.org_unit_id) == ctx["unit"]
    assert set(event.payload) == {"key_kind", "key", "window_count", "baseline", "score", "window_hours",
                                  "related_keys"}  # fmt: skip
    assert event.payload["related_keys"] == w.keys[1:]
    assert event.payload["window_count"] == 6 and event.payload["window_hours"] == 24
    # Evidence only: neither the petitioners nor their words.
    text = repr([e.payload for e in events])
    assert "学生" not in text and "13800000000" not in text and "不舒服" not in text

    # The same surge on later scans (and a rerun of an earlier scan) raises nothing new.
    await _submit(db, tenant, 2)
    assert await _scan(db, tenant, now + timedelta(minutes=10)) == []
    assert await _scan(db, tenant, now + timedelta(minutes=5)) == []
    assert len(await _events(db, tenant, "warning.raised")) == 1
    async with db.transaction(tenant.id) as session:
        [category] = await warning_scan.list_warnings(session)
    assert category.peak_count == 8
    # A day later the petitions have left the window: nothing surges.
    assert await _scan(db, tenant, now + timedelta(hours=25)) == []


async def test_a_surge_that_spreads_to_another_key_stays_one_warning(client: Any, db: Any, tenant: Any) -> None:
    from tenants.clock import utcnow

    ctx = await _setup(client, db, tenant)
    await _submit(db, tenant, 5)
    now = utcnow()
    [w] = await _scan(db, tenant, now + timedelta(minutes=5))
    assert w.keys == ["category:canteen", f"org_unit:{ctx['unit']}"]
    # The same matter, now from one place too: the place surges with the same petitions, and joins the warning.
    await _submit(db, tenant, 5, lat=36.0671, long=120.3826)
    assert await _scan(db, tenant, now + timedelta(minutes=10)) == []
    async with db.transaction(tenant.id) as session:
        [same] = await warning_scan.list_warnings(session)
    assert same.id == w.id and same.peak_count == 10
    assert same.keys == ["category:canteen", f"org_unit:{ctx['unit']}", "place:36.065,120.380"]
    assert [r["key_kind"] for r in same.related] == ["org_unit", "place"]
    assert len(await _events(db, tenant, "warning.raised")) == 1
    # The incident opened from it links the petitions of every key.
    async with db.transaction(tenant.id) as session:
        assert len(await warning_scan.surge_petitions(session, same)) == 10


async def test_concurrent_scans_raise_once(client: Any, db: Any, tenant: Any) -> None:
    from tenants.clock import utcnow

    await _setup(client, db, tenant)
    await _submit(db, tenant, 5)
    at = utcnow() + timedelta(minutes=1)
    results = await asyncio.gather(*(_scan(db, tenant, at) for _ in range(3)))
    assert sorted(len(r) for r in results) == [0, 0, 1]
    assert len(await _events(db, tenant, "warning.raised")) == 1


async def test_below_the_minimum_nothing_is_raised(client: Any, db: Any, tenant: Any) -> None:
    from tenants.clock import utcnow

    await _setup(client, db, tenant)
    await _submit(db, tenant, 4)
    assert await _scan(db, tenant, utcnow() + timedelta(minutes=1)) == []


async def test_warning_api_list_show_dismiss(client: Any, db: Any, make_tenant: Any) -> None:
    from tenants.clock import utcnow

    tenant = await make_tenant()
    ctx = await _setup(client, db, tenant)
    await _submit(db, tenant, 5)
    await _scan(db, tenant, utcnow() + timedelta(minutes=1))

    r = await client.get("/api/v1/warnings/", headers=ctx["outsider"])
    assert r.status_code == 200, r.text
    [category] = r.json()
    assert (category["key_kind"], [k["key_kind"] for k in category["related"]]) == ("category", ["org_unit"])
    # Named as people name them: the category's names, not its code.
    assert category["summary"]["zh"].startswith("过去24小时内类别“食堂”收到5件信访")
    assert category["summary"]["en"].startswith("5 petitions on category 'Canteen' in 24 h")
    assert category["incident_id"] is None and category["state"] == "open"
    url = f"/api/v1/warnings/{category['id']}"
    assert (await client.get(url, headers=tenant.headers)).json()["id"] == category["id"]

    # Staff outside the handling group may read, not dismiss.
    r = await client.post(url + "/dismiss", json={"reason": "已核实为正常"}, headers=ctx["outsider"])
    assert r.status_code == 403
    for bad in ({}, {"reason": ""}, {"reason": "x" * 501}, {"reason": "ok", "extra": 1}):
        r = await client.post(url + "/dismiss", json=bad, headers=ctx["member"])
        assert r.status_code == 400, (bad, r.status_code)
    r = await client.post(url + "/dismiss", json={"reason": "食堂已排查，系误报"}, headers=ctx["member"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["state"] == "dismissed" and body["dismiss_reason"] == "食堂已排查，系误报"
    # A retried dismissal answers the same; the journal has one event, without the reason.
    r = await client.post(url + "/dismiss", json={"reason": "again"}, headers=ctx["member"])
    assert r.status_code == 200 and r.json()["dismiss_reason"] == "食堂已排查，系误报"
    [event] = await _events(db, tenant, "warning.dismissed")
    assert event.payload == {"key_kind": "category"}
    assert (await client.get("/api/v1/warnings/?state=open", headers=tenant.headers)).json() == []
    # The admin may dismiss too (a retry of a dismissed one answers it as it is).
    r = await client.post(url + "/dismiss", json={"reason": "ok"}, headers=tenant.headers)
    assert r.status_code == 200

    # Another university's warning is unknown; a bureau viewer or a petitioner reads nothing here.
    other = await make_tenant()
    assert (await client.get(url, headers=other.headers)).status_code == 404
    assert (await client.post(url + "/dismiss", json={"reason": "x"}, headers=other.headers)).status_code == 404
    petitioner, _ = await make_account(client, tenant, "petitioner")
    assert (await client.get("/api/v1/warnings/", headers=petitioner)).status_code == 403
    assert (await client.get(f"/api/v1/warnings/{uuid.uuid4()}", headers=tenant.headers)).status_code == 404
    assert (await client.get("/api/v1/warnings/?state=nope", headers=tenant.headers)).status_code == 400


async def test_the_scan_is_scheduled_every_five_minutes(db: Any, tenant: Any) -> None:
    from datetime import UTC, datetime

    job = next(p for p in _periodic if p.name == "warnings.scan")
    assert job.period_key(datetime(2026, 11, 29, 8, 14, 59, tzinfo=UTC)) == "2026-11-29T08:10"
    [message] = job.messages("2026-11-29T08:10")
    assert message.actor_name == "warning_sweep"
    # The per-university job scans an active university and skips a missing one.
    assert await warning_jobs.scan_university(tenant.id) == 0
    assert await warning_jobs.scan_university(uuid.uuid4()) == 0


_ = (auth, link_person)
