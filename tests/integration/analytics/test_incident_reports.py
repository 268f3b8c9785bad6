"""Incident and drill sections of a stored report on the real database: incidents driven through the API land in
their own sections (the drill apart), the watermark counts incident events so a new one makes a new revision
while the same data finds the stored snapshot, and the renditions served by the API show the sections in zh-CN
and en."""

from __future__ import annotations

import datetime as dt
import io
from typing import Any

import pypdf
from sqlalchemy import func, select

from analytics.reports import store
from tenants.journal import JournalEvent
from tests.support.emergency import Driver, make_university
from tests.support.platform import FIXED_NOW


def _this_month() -> dt.date:
    """The month the ``clock`` fixture's instant falls in, in Shanghai."""
    return FIXED_NOW.astimezone(dt.timezone(dt.timedelta(hours=8))).date().replace(day=1)


async def _generate(db: Any, tenant_id: Any, start: dt.date) -> tuple[store.Report, bool]:
    async with db.transaction(tenant_id) as session:
        return await store.generate(session, "monthly", start)


def _rows(report: store.Report, table: str) -> list[dict[str, Any]]:
    data = report.data()["tables"][table]
    return [dict(zip(data["columns"], row, strict=True)) for row in data["rows"]]


async def _journal_count(db: Any, tenant_id: Any) -> int:
    async with db.transaction(tenant_id) as session:
        types = ("petition.%", "incident.%", "task.%", "measure.%", "logistics.%", "bulletin.%")
        condition = JournalEvent.type.like(types[0])
        for t in types[1:]:
            condition |= JournalEvent.type.like(t)
        return int(await session.scalar(select(func.count()).select_from(JournalEvent).where(condition)) or 0)


async def test_incidents_and_drills_in_the_report(client: Any, db: Any, platform_token: str, clock: Any) -> None:
    uni = await make_university(client, db, platform_token)
    month = _this_month()
    # A real incident: assessed, instructed, one task for the Security Office (acknowledged and done), one
    # published bulletin. A drill: reported and assessed only.
    real = Driver(client, uni)
    await real.report()
    await real.assess()
    await real.instruct()
    task = await real.task("BWC")
    for action, version in (("acknowledge", 1), ("complete", 2)):
        await real.post("outsider", f"/tasks/{task['id']}/actions", {"action": action, "version": version}, 200)
    await real.bulletin()
    drill = Driver(client, uni)
    await drill.report(drill=True)
    await drill.assess()

    report, created = await _generate(db, uni.tenant.id, month)
    assert created
    [total] = _rows(report, "incidents.total")
    assert (total["incidents"], total["closed"], total["tasks"], total["units"], total["units_per_incident"]) == (
        1, 0, 1, 1, 1.0,
    )  # fmt: skip
    assert (total["acknowledged_share"], total["completed"], total["completed_on_time_share"]) == (1.0, 1, 1.0)
    assert (total["bulletins"], total["status_page_share"], total["first_bulletin_on_time_share"]) == (1, 1.0, 1.0)
    # Driven within seconds: assessment and instruction well within the seed plan's 60 and 120 minutes.
    steps = {r["step"]: r for r in _rows(report, "incidents.steps")}
    assert {s: (r["target_minutes"], r["reached"], r["on_time_share"]) for s, r in steps.items()} == {
        "assessment": (60, 1, 1.0),
        "instruction": (120, 1, 1.0),
        "information_release": (240, 1, 1.0),
        "cleanup_summary": (10080, 0, None),
    }
    [unit] = _rows(report, "incidents.org_unit")
    assert unit["org_unit_id"] == uni.units["BWC"] and unit["tasks"] == 1
    assert report.data()["labels"]["org_units"][uni.units["BWC"]] == {"zh": "单位BWC", "en": "Unit BWC"}
    # The drill is counted in its own section only.
    [drill_total] = _rows(report, "drills.total")
    assert (drill_total["incidents"], drill_total["tasks"], drill_total["bulletins"]) == (1, 0, 0)
    assert {r["step"]: r["reached"] for r in _rows(report, "drills.steps")}["assessment"] == 1
    [score] = _rows(report, "scores.total")
    assert score["information_release_score"] is not None  # the real incident's release, scored
    # The watermark counts the petition and incident events before the period's end.
    assert report.watermark_count == report.data()["watermark"]["count"] == await _journal_count(db, uni.tenant.id)

    # Same data: the stored snapshot, nothing written.
    again, created = await _generate(db, uni.tenant.id, month)
    assert (again.id, created) == (report.id, False)

    # A new incident event (the drill's instruction) is new input: the next revision with a new watermark.
    await drill.instruct()
    second, created = await _generate(db, uni.tenant.id, month)
    assert created and second.revision == 2
    assert second.watermark_seq > report.watermark_seq and second.watermark_count > report.watermark_count
    assert {r["step"]: r["reached"] for r in _rows(second, "drills.steps")}["instruction"] == 1
    assert _rows(second, "incidents.total") == _rows(report, "incidents.total")

    base = f"/api/v1/reports/{second.id}"
    admin = uni.headers["admin"]
    zh = (await client.get(f"{base}/report.html", headers=admin)).text
    assert "八、突发事件处置" in zh and "九、应急演练（单列，不计入评分）" in zh and "单位BWC" in zh
    en = (await client.get(f"{base}/report.html", params={"lang": "en"}, headers=admin)).text
    assert "8. Emergency incidents" in en and "report to first bulletin" in en and "Unit BWC" in en
    expected = {"zh-CN": ("突发事件处置", "应急演练", "报告至评估"), "en": ("Emergency incidents", "Drills")}
    for lang, words in expected.items():
        pdf = await client.get(f"{base}/report.pdf", params={"lang": lang}, headers=admin)
        text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
        assert all(w in text for w in words), (lang, text[-800:])


async def test_a_period_without_incidents_renders_none(client: Any, db: Any, platform_token: str) -> None:
    uni = await make_university(client, db, platform_token)
    report, _ = await _generate(db, uni.tenant.id, dt.date(2026, 1, 1))
    assert _rows(report, "incidents.total") == [] and _rows(report, "drills.total") == []
    html = await client.get(f"/api/v1/reports/{report.id}/report.html", params={"lang": "en"},
                            headers=uni.headers["admin"])  # fmt: skip
    assert html.status_code == 200
    assert "No incidents in this period." in html.text and "No drills in this period." in html.text
