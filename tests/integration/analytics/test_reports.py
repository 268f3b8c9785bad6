"""Evaluation reports on the real database: snapshots that do not duplicate, revisions on new data, a failed
job that leaves nothing, time-zone period boundaries, the API (request, list, show, renditions, roles, 404
across universities) and the scheduler's exactly-once sweep."""

from __future__ import annotations

import datetime as dt
import io
import uuid
from typing import Any

import openpyxl
import polars as pl
import pypdf
import pytest
from sqlalchemy import func, select

from analytics.reports import jobs, store
from analytics.runtime import relay
from service.petitions.workflow import State
from tenants import journal
from tenants.journal import JournalEvent
from tests.support.analytics import university
from tests.support.casework import drive
from tests.support.platform import FIXED_NOW

NOVEMBER = dt.date(2026, 11, 1)


async def _rows(db: Any, tenant_id: uuid.UUID) -> list[store.Report]:
    async with db.transaction(tenant_id) as session:
        return list(await session.scalars(select(store.Report).order_by(store.Report.revision)))


async def _ready_events(db: Any, tenant_id: uuid.UUID) -> list[JournalEvent]:
    async with db.transaction(tenant_id) as session:
        query = select(JournalEvent).where(JournalEvent.type == "report.ready").order_by(JournalEvent.seq)
        return list(await session.scalars(query))


async def _generate(db: Any, tenant_id: uuid.UUID, kind: str = "monthly", start: dt.date = NOVEMBER) -> Any:
    async with db.transaction(tenant_id) as session:
        return await store.generate(session, kind, start)  # type: ignore[arg-type]


@pytest.fixture
def this_month(clock: Any) -> dt.date:
    """The month of the fixed test instant in Asia/Shanghai (the petitions the tests drive are journaled then)."""
    return FIXED_NOW.astimezone(dt.timezone(dt.timedelta(hours=8))).date().replace(day=1)


async def test_recomputing_gives_the_same_snapshot_and_new_data_a_new_revision(client, make_tenant, db, this_month):
    uni = await university(client, make_tenant, "Asia/Shanghai")
    await drive(client, uni, State.replied)
    await drive(client, uni, State.accepted)

    first, created = await _generate(db, uni.tenant.id, start=this_month)
    again, created_again = await _generate(db, uni.tenant.id, start=this_month)
    assert (created, created_again) == (True, False)
    assert again.id == first.id and again.content.encode() == first.content.encode()
    rows = await _rows(db, uni.tenant.id)
    assert [(r.revision, r.content_hash) for r in rows] == [(1, first.content_hash)]
    data = first.data()
    total = data["tables"]["petitions.total"]
    decisions = total["rows"][0][total["columns"].index("decisions")]
    assert decisions == 2
    assert data["watermark"]["count"] == first.watermark_count > 0
    assert data["plan"]["weights"]["timeliness"] == 0.35
    assert data["labels"]["org_units"][uni.unit_a] == {"zh": "HQGLC", "en": "HQGLC"}
    ready = await _ready_events(db, uni.tenant.id)
    assert [(e.subject_id, e.payload) for e in ready] == [
        (first.id, {"kind": "monthly", "period_start": this_month.isoformat(), "revision": 1})
    ]

    await drive(client, uni, State.accepted)  # new inputs: a new watermark, a new revision; history is kept
    second, created = await _generate(db, uni.tenant.id, start=this_month)
    assert created and second.revision == 2 and second.watermark_seq > first.watermark_seq
    assert second.content_hash != first.content_hash
    assert len(await _rows(db, uni.tenant.id)) == 2
    assert len(await _ready_events(db, uni.tenant.id)) == 2

    listing = (await client.get("/api/v1/reports", headers=uni.admin)).json()["items"]
    assert [(r["revision"], r["current"]) for r in listing] == [(2, True), (1, False)]


async def test_a_job_failing_midway_leaves_no_half_report(client, make_tenant, db, monkeypatch, this_month):
    uni = await university(client, make_tenant, "Asia/Shanghai")
    await drive(client, uni, State.replied)

    async def killed(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("worker killed after the snapshot row was written")

    monkeypatch.setattr(journal, "record", killed)
    with pytest.raises(RuntimeError, match="worker killed"):
        await jobs.generate_report(db, uni.tenant.id, "monthly", this_month)
    monkeypatch.undo()
    assert await _rows(db, uni.tenant.id) == []
    assert await _ready_events(db, uni.tenant.id) == []
    # The retry then writes the report once.
    await jobs.generate_report(db, uni.tenant.id, "monthly", this_month)
    assert len(await _rows(db, uni.tenant.id)) == 1


async def _decided_at(db: Any, tenant_id: uuid.UUID, at: dt.datetime) -> None:
    """A petition submitted and accepted at ``at``, journaled through the journal writer (backdated)."""
    petition = uuid.uuid4()
    async with db.transaction(tenant_id) as session:
        for event_type in ("petition.submitted", "petition.accepted"):
            event = await journal.record(session, event_type, petition_id=petition, kind="complaint", category="x")
            event.occurred_at = at


def _decisions(report: store.Report) -> int:
    total = report.data()["tables"]["petitions.total"]
    return sum(row[total["columns"].index("decisions")] for row in total["rows"])


async def test_month_boundary_in_asia_shanghai_versus_utc(client, make_tenant, db):
    instant = dt.datetime(2026, 10, 31, 16, 30, tzinfo=dt.UTC)  # 1 November 00:30 in Shanghai
    shanghai = await make_tenant(timezone="Asia/Shanghai")
    utc = await make_tenant(timezone="UTC")
    for tenant in (shanghai, utc):
        await _decided_at(db, tenant.id, instant)
    october, november = dt.date(2026, 10, 1), dt.date(2026, 11, 1)
    assert _decisions((await _generate(db, shanghai.id, start=october))[0]) == 0
    assert _decisions((await _generate(db, shanghai.id, start=november))[0]) == 1
    assert _decisions((await _generate(db, utc.id, start=october))[0]) == 1
    assert _decisions((await _generate(db, utc.id, start=november))[0]) == 0
    shanghai_october = (await _generate(db, shanghai.id, start=october))[0]
    # The Shanghai October report's inputs end at 16:00 UTC on 31 October: the event is not among them.
    assert shanghai_october.watermark_count == 0
    assert (await _generate(db, utc.id, "quarterly", october))[0].data()["period_end"] == "2027-01-01"


async def test_supervision_orders_are_extracted_into_the_report_and_its_watermark(client, make_tenant, db):
    tenant = await make_tenant(timezone="Asia/Shanghai")
    order, unit = uuid.uuid4(), uuid.uuid4()
    async with db.transaction(tenant.id) as session:
        common = {"subject_id": order, "org_unit_id": unit, "kind": "petition"}
        issued = await journal.record(session, "supervision.issued", **common, by="office", due_at="2026-10-09T00:00Z")
        answered = await journal.record(session, "supervision.answered", **common, on_time=True)
        issued.occurred_at = dt.datetime(2026, 10, 5, 2, tzinfo=dt.UTC)
        answered.occurred_at = dt.datetime(2026, 10, 6, 2, tzinfo=dt.UTC)
    report, _ = await _generate(db, tenant.id, start=dt.date(2026, 10, 1))
    assert report.watermark_count == 2
    table = report.data()["tables"]["supervision.total"]
    row = dict(zip(table["columns"], table["rows"][0], strict=True))
    assert (row["supervision_orders"], row["supervision_answered"], row["supervision_on_time_share"]) == (1, 1, 1.0)
    scores = report.data()["tables"]["scores.total"]
    assert dict(zip(scores["columns"], scores["rows"][0], strict=True))["coordination_score"] == 100.0


async def test_api_request_list_show_render_roles_and_isolation(client, make_tenant, db, this_month):
    uni = await university(client, make_tenant, "Asia/Shanghai")
    other = await university(client, make_tenant, "Asia/Shanghai")
    await drive(client, uni, State.replied)
    petitioner = uni.petitioner

    # On demand: a closed period (October 2026), retried with the same Idempotency-Key.
    body = {"kind": "monthly", "period_start": "2026-10-01"}
    key = {"Idempotency-Key": str(uuid.uuid4())}
    r = await client.post("/api/v1/reports", json=body, headers={**uni.officer, **key})
    assert r.status_code == 202, r.text
    location = r.headers["location"]
    assert location == r.json()["location"] == f"/api/v1/reports/requests/{r.json()['id']}"
    replay = await client.post("/api/v1/reports", json=body, headers={**uni.officer, **key})
    assert replay.status_code == 202 and replay.headers["location"] == location
    assert replay.json()["id"] == r.json()["id"]
    reused = await client.post(
        "/api/v1/reports", json={**body, "kind": "yearly", "period_start": "2025-01-01"}, headers={**uni.officer, **key}
    )
    assert reused.status_code == 422
    assert (await client.get(location, headers=uni.staff)).json()["status"] == "pending"

    # The request reaches the job through the journal (outbox): the relay maps it to the actor's message.
    async with db.transaction(uni.tenant.id) as session:
        event = await session.scalar(select(JournalEvent).where(JournalEvent.type == "report.requested"))
    feed = relay.FeedEvent(
        event.tenant_id,
        event.id,
        event.txid,
        event.seq,
        event.occurred_at,
        event.type,
        event.actor_id,
        None,
        None,
        None,
        event.subject_id,
        event.payload,
    )
    [message] = relay.messages_for(feed)
    assert message.actor_name == "compute_report"
    assert message.args == (str(uni.tenant.id), "monthly", "2026-10-01", r.json()["id"])
    await jobs.generate_report(db, uni.tenant.id, "monthly", dt.date(2026, 10, 1), uuid.UUID(r.json()["id"]))
    done = (await client.get(location, headers=uni.staff)).json()
    assert done["status"] == "done" and done["report_id"]

    # Bad input: not a period start, a period still open, an unknown kind, an extra field.
    for bad in (
        {"kind": "monthly", "period_start": "2026-10-02"},
        {"kind": "quarterly", "period_start": this_month.isoformat()},
        {"kind": "weekly", "period_start": "2026-10-01"},
        {**body, "extra": 1},
    ):
        refused = await client.post("/api/v1/reports", json=bad, headers=uni.admin)
        assert refused.status_code in (400, 422), (bad, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    assert (await client.post("/api/v1/reports", json=body, headers=uni.staff)).status_code == 403
    assert (await client.get("/api/v1/reports", headers=petitioner)).status_code == 403

    report, _ = await _generate(db, uni.tenant.id, start=this_month)
    rid = report.id
    shown = (await client.get(f"/api/v1/reports/{rid}", headers=uni.staff)).json()
    assert shown["report"]["current"] and shown["content"]["tables"]["petitions.total"]["rows"]
    filtered = (await client.get("/api/v1/reports", params={"period_start": "2026-10-01"}, headers=uni.admin)).json()
    assert [i["id"] for i in filtered["items"]] == [done["report_id"]]

    html = await client.get(f"/api/v1/reports/{rid}/report.html", headers=uni.staff)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert "<svg" in html.text and "评估报告" in html.text and "HQGLC" in html.text
    html_en = await client.get(f"/api/v1/reports/{rid}/report.html", params={"lang": "en"}, headers=uni.staff)
    assert "evaluation report" in html_en.text and "Findings" in html_en.text
    pdf = await client.get(f"/api/v1/reports/{rid}/report.pdf", headers=uni.admin)
    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "测试大学信访工作月度评估报告" in text and "综合评分" in text
    xlsx = await client.get(f"/api/v1/reports/{rid}/report.xlsx", params={"lang": "en"}, headers=uni.admin)
    book = openpyxl.load_workbook(io.BytesIO(xlsx.content), read_only=True)
    assert {"Petitions total", "Petitions by unit", "Scores total", "Contents"} <= set(book.sheetnames)
    parquet = await client.get(
        f"/api/v1/reports/{rid}/report.parquet", params={"table": "petitions.total"}, headers=uni.admin
    )
    assert pl.read_parquet(io.BytesIO(parquet.content)).get_column("decisions").to_list() == [1]
    csv = await client.get(f"/api/v1/reports/{rid}/report.csv", headers=uni.admin)
    assert csv.headers["content-type"].startswith("text/csv")
    assert set(pl.read_csv(io.BytesIO(csv.content)).columns) == {"table", "key", "label", "metric", "value"}
    assert (await client.get(f"/api/v1/reports/{rid}/report.docx", headers=uni.admin)).status_code == 404
    missing_table = await client.get(f"/api/v1/reports/{rid}/report.csv", params={"table": "x"}, headers=uni.admin)
    assert missing_table.status_code == 404

    # Another university sees none of it.
    assert (await client.get(f"/api/v1/reports/{rid}", headers=other.admin)).status_code == 404
    assert (await client.get(f"/api/v1/reports/{rid}/report.pdf", headers=other.admin)).status_code == 404
    assert (await client.get(location, headers=other.admin)).status_code == 404
    assert (await client.get("/api/v1/reports", headers=other.admin)).json()["items"] == []


async def test_sweep_enqueues_each_closed_period_once_in_the_tenant_s_zone(clock, client, make_tenant, db):
    # Both universities onboard on 18 November 2026 (the clock), whatever the real date.
    shanghai = await make_tenant(timezone="Asia/Shanghai")
    utc = await make_tenant(timezone="UTC")
    # 16:30 UTC on 31 December 2026: already 2027 in Shanghai, still December in UTC.
    now = dt.datetime(2026, 12, 31, 16, 30, tzinfo=dt.UTC)

    def mine(messages: list[Any], tenant: Any) -> list[tuple[str, str]]:
        return sorted((m.args[1], m.args[2]) for m in messages if m.args[0] == str(tenant.id))

    first = await jobs.sweep(db, now)
    assert mine(first, shanghai) == [("monthly", "2026-12-01"), ("quarterly", "2026-10-01"), ("yearly", "2026-01-01")]
    # UTC: November is the last closed month; the last closed quarter and year ended before onboarding.
    assert mine(first, utc) == [("monthly", "2026-11-01")]
    assert all(m.actor_name == "compute_report" for m in first)
    again = await jobs.sweep(db, now + dt.timedelta(minutes=30))
    assert mine(again, shanghai) == [] and mine(again, utc) == []
    later = await jobs.sweep(db, dt.datetime(2027, 1, 1, 0, 30, tzinfo=dt.UTC))
    assert mine(later, shanghai) == [] and mine(later, utc) == [
        ("monthly", "2026-12-01"),
        ("quarterly", "2026-10-01"),
        ("yearly", "2026-01-01"),
    ]


def test_the_sweep_is_registered_with_the_scheduler():
    from analytics.runtime.scheduler import _periodic
    from service.ops import jobs as service_jobs  # noqa: F401  (what the scheduler imports)

    job = next(p for p in _periodic if p.name == "reports.closed_periods")
    [message] = job.messages("2026-12-01T00")
    assert message.actor_name == "reports_sweep"
    assert job.period_key(dt.datetime(2026, 12, 1, 0, 5, tzinfo=dt.UTC)) == "2026-12-01T00"


async def test_no_duplicate_rows_under_concurrent_generation(client, make_tenant, db, this_month):
    import asyncio

    uni = await university(client, make_tenant, "Asia/Shanghai")
    await drive(client, uni, State.replied)
    results = await asyncio.gather(*(jobs.generate_report(db, uni.tenant.id, "monthly", this_month) for _ in range(4)))
    assert len(set(results)) == 1
    async with db.transaction(uni.tenant.id) as session:
        assert await session.scalar(select(func.count()).select_from(store.Report)) == 1
