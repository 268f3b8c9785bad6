"""The demo university `make run` seeds (``xinfang demo``): a year of history, its reports, an incident mid-way
through its steps, an open early warning, and an account per role that signs in with the password written to the
credentials file; all of it idempotent."""

from __future__ import annotations

import time
from typing import Any

import httpx
from sqlalchemy import func, select

from analytics.reports.store import Report
from analytics.warnings.services import EarlyWarning
from service.incidents.models import Bulletin, Incident, IncidentStep, LogisticsRequest, Task
from service.ops.demo import seed_demo
from service.ops.demo_story import DEMO_ACCOUNTS, HISTORY_PETITIONS, report_periods
from service.petitions.models import Petition
from tenants.journal import JournalEvent
from tests.support.forms import Browser

SLUG = "demo-story"


async def _counts(db: Any, tenant_id: str) -> dict[str, Any]:
    async with db.transaction(tenant_id) as s:

        async def n(model: Any, *where: Any) -> int:
            return int(await s.scalar(select(func.count()).select_from(model).where(*where)) or 0)

        return {
            "petitions": await n(Petition),
            "closed": await n(Petition, Petition.state.in_(["closed", "final", "reviewed", "not_accepted"])),
            "events": await n(JournalEvent),
            "incident_events": await n(JournalEvent, JournalEvent.type == "incident.reported"),
            "reports": sorted(
                (k, d.isoformat()) for k, d in (await s.execute(select(Report.kind, Report.period_start))).all()
            ),
            "incidents": await n(Incident),
            "warnings": await n(EarlyWarning, EarlyWarning.state == "open"),
        }


async def test_the_demo_university_has_a_year_a_live_incident_a_warning_and_an_account_per_role(
    client: Any, app: Any, db: Any, clock: Any
) -> None:
    started = time.perf_counter()
    creds = await seed_demo(db, {}, story=True, slug=SLUG)
    seconds = time.perf_counter() - started
    tid = creds["tenant_id"]
    first = await _counts(db, tid)

    # A year of history: generated petitions over twelve months, most of them concluded, incidents journaled.
    assert first["petitions"] >= HISTORY_PETITIONS
    assert first["closed"] > HISTORY_PETITIONS // 2 and first["incident_events"] >= 10
    async with db.transaction(tid) as s:
        months = await s.scalar(
            select(func.count(func.distinct(func.date_trunc("month", Petition.received_at)))).where(
                Petition.channel != "mobile"
            )
        )
    assert months >= 12
    # Its reports: every closed month and quarter of the history and the last closed year.
    async with db.transaction(tid) as s:
        onboarded = (await s.scalar(select(func.min(Petition.received_at)))).date()
    expected = report_periods(onboarded.replace(day=1), clock_today())
    assert first["reports"] == sorted((k, d.isoformat()) for k, d in expected)
    assert {k for k, _ in first["reports"]} == {"monthly", "quarterly", "yearly"} and len(expected) >= 16

    # One real incident mid-way: responding, its first three steps done, tasks in every state, a bulletin out
    # and one waiting for its approval, supplies asked for.
    async with db.transaction(tid) as s:
        live = (await s.scalars(select(Incident).where(Incident.drill.is_(False)))).all()
        assert len(live) == 1 and live[0].state == "responding" and live[0].activated
        steps = {
            st.step: st for st in await s.scalars(select(IncidentStep).where(IncidentStep.incident_id == live[0].id))
        }
        tasks = (await s.scalars(select(Task).where(Task.incident_id == live[0].id))).all()
        bulletins = (await s.scalars(select(Bulletin).where(Bulletin.incident_id == live[0].id))).all()
        supplies = (await s.scalars(select(LogisticsRequest).where(LogisticsRequest.incident_id == live[0].id))).all()
    assert all(steps[k].completed_at is not None for k in ("report", "assessment", "instruction"))
    assert steps["response"].completed_at is None and steps["cleanup_summary"].started_at is None
    assert {t.state for t in tasks} >= {"acknowledged", "declined", "assigned"}
    assert any(t.reassigned_from for t in tasks)
    assert sorted(b.state for b in bulletins) == ["draft", "published"]
    published = next(b for b in bulletins if b.state == "published")
    assert published.drafted_by != published.approved_by  # four eyes
    assert [r.state for r in supplies] == ["requested"]
    # An open early warning, raised by the scan from today's burst of canteen petitions.
    assert first["warnings"] >= 1

    # A restart adds nothing and keeps every password.
    again = await seed_demo(db, creds, story=True, slug=SLUG)
    assert await _counts(db, tid) == first
    assert again["demo_accounts"] == creds["demo_accounts"]
    assert again["student_lookup_code"] == creds["student_lookup_code"]

    # Each role's account signs in with the password in the credentials file, without a forced change.
    accounts = creds["demo_accounts"]
    assert set(accounts) == {a.key for a in DEMO_ACCOUNTS}
    for key, account in accounts.items():
        body = {"email": account["email"], "password": account["password"]}
        if key != "bureau_viewer":
            body["tenant"] = SLUG
        r = await client.post("/api/v1/auth/login", json=body)
        assert r.status_code == 200, (key, r.text)
        assert r.json()["password_change_required"] is False, key
    bureau = await client.get(
        "/api/v1/bureau/aggregates",
        params={"year": 2026},
        headers={"Authorization": f"Bearer {(await _token(client, accounts['bureau_viewer']))}"},
    )
    assert bureau.status_code == 200, bureau.text  # the province's view (its cells are folded by the worker)

    # Staff accounts reach their console queue; the unit's staff see the college's petitions only.
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50002))
    for key in ("petition_officer", "unit_staff", "handling_leader"):
        async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
            b = Browser(c)
            r = await b.sign_in(SLUG, accounts[key]["email"], accounts[key]["password"])
            assert r.status_code == 303 and r.headers["location"] == "/console/queue", key
            queue = await b.get("/console/queue")
            assert queue.status_code == 200 and "/console/petitions/" in queue.text, key

    # The student's case: replied, readable on the status page with the codes in the credentials file.
    async with httpx.AsyncClient(transport=transport, base_url="https://testserver") as c:
        b = Browser(c)
        await b.get(f"/t/{SLUG}/status")
        r = await b.post(
            f"/t/{SLUG}/status",
            {"tracking_number": creds["student_tracking_number"], "lookup_code": creds["student_lookup_code"]},
        )
        assert r.status_code == 200 and "实验课调整至周四下午" in r.text, r.text[-1500:]

    # Fast enough for `make run` (the target is under 60 s on two cores; the test allows a loaded machine).
    print(f"demo story seeded in {seconds:.1f} s")
    assert seconds < 120


def clock_today() -> Any:
    from zoneinfo import ZoneInfo

    from tenants.clock import today

    return today(ZoneInfo("Asia/Shanghai"))


async def _token(client: Any, account: dict[str, Any]) -> str:
    r = await client.post("/api/v1/auth/login", json={"email": account["email"], "password": account["password"]})
    return str(r.json()["access_token"])
