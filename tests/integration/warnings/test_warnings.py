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
    # Six petitions on one category, routed to one unit, from one place, against an empty baseline.
    assert sorted((w.key_kind, w.key) for w in raised) == [
        ("category", "canteen"), ("org_unit", ctx["unit"]), ("place", "36.065,120.380"),
    ]  # fmt: skip
    for w in raised:
        assert (w.window_count, w.state, w.peak_count) == (6, "open", 6)
        assert w.baseline == pytest.approx(1 / 28, abs=1e-4)
    events = await _events(db, tenant, "warning.raised")
    assert len(events) == 3
    unit_event = next(e for e in events if e.payload["key_kind"] == "org_unit")
    assert str(unit_event.org_unit_id) == ctx["unit"]
    assert set(unit_event.payload) == {"key_kind", "key", "window_count", "baseline", "score", "window_hours"}
    assert unit_event.payload["window_count"] == 6 and unit_event.payload["window_hours"] == 24
    # Evidence only: neither the petitioners nor their words.
    text = repr([e.payload for e in events])
    assert "学生" not in text and "13800000000" not in text and "不舒服" not in text

    # The same surge on later scans (and a rerun of an earlier scan) raises nothing new.
    await _submit(db, tenant, 2)
    assert await _scan(db, tenant, now + timedelta(minutes=10)) == []
    assert await _scan(db, tenant, now + timedelta(minutes=5)) == []
    assert len(await _events(db, tenant, "warning.raised")) == 3
    async with db.transaction(tenant.id) as session:
        category = next(w for w in await warning_scan.list_warnings(session) if w.key_kind == "category")
    assert category.peak_count == 8
    # A day later the petitions have left the window: nothing surges.
    assert await _scan(db, tenant, now + timedelta(hours=25)) == []


async def test_concurrent_scans_raise_once(client: Any, db: Any, tenant: Any) -> None:
    from tenants.clock import utcnow

    await _setup(client, db, tenant)
    await _submit(db, tenant, 5)
    at = utcnow() + timedelta(minutes=1)
    results = await asyncio.gather(*(_scan(db, tenant, at) for _ in range(3)))
    assert sorted(len(r) for r in results) == [0, 0, 2]
    assert len(await _events(db, tenant, "warning.raised")) == 2


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
    listed = r.json()
    assert sorted(w["key_kind"] for w in listed) == ["category", "org_unit"]
    category = next(w for w in listed if w["key_kind"] == "category")
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
    open_only = (await client.get("/api/v1/warnings/?state=open", headers=tenant.headers)).json()
    assert [w["key_kind"] for w in open_only] == ["org_unit"]
    # The admin may dismiss too.
    r = await client.post(f"/api/v1/warnings/{open_only[0]['id']}/dismiss", json={"reason": "ok"},
                          headers=tenant.headers)  # fmt: skip
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
