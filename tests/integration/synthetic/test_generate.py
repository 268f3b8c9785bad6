"""``xinfang demo generate`` in the test database: what it writes is consistent, isolated, encrypted, repeatable."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from service.ops.synthetic.generate import Spec, generate
from service.ops.synthetic.model import INCIDENT_EVENTS
from service.petitions import deadlines
from service.petitions.services import EVENT_OF
from service.petitions.workflow import State, transition
from tenants import crypto
from tenants.events import EVENTS
from tenants.journal import check_payload

ACTION_OF = {event: action for action, event in EVENT_OF.items()}
SPEC = dict(tenants=2, petitions=500, incidents=12, seed=7, months=8, until=date(2025, 7, 1))


@pytest.fixture(scope="module")
async def generated(db: Any, settings: Any) -> Any:
    spec = Spec(**SPEC, prefix=f"g{uuid.uuid4().hex[:6]}")
    return spec, await generate(db, spec, data_key=settings.data_key_bytes)


async def rows(db: Any, tenant_id: uuid.UUID, sql: str) -> list[Any]:
    async with db.transaction(tenant_id) as session:
        return list((await session.execute(text(sql))).mappings().all())


async def test_counts_and_a_published_plan(db, generated):
    _spec, report = generated
    assert len(report.universities) == 2
    assert report.petitions == 500
    for u in report.universities:
        petitions = await rows(db, u.tenant_id, "select count(*) as n from petitions")
        events = await rows(db, u.tenant_id, "select count(*) as n from journal where petition_id is not null "
                                           "or incident_id is not null")  # fmt: skip
        assert petitions[0]["n"] == u.petitions > 0
        assert events[0]["n"] == u.events
        plan = await rows(db, u.tenant_id, "select status, published_at from plan_versions")
        assert [p["status"] for p in plan] == ["published"]
        assert plan[0]["published_at"].date() < date(2024, 11, 1)
        groups = await rows(db, u.tenant_id, "select count(*) as n from group_members")
        assert groups[0]["n"] > 10


async def test_onboarded_when_the_history_starts_so_the_report_sweep_covers_it(db, generated):
    """A generated university counts as onboarded on the first local day of its history, so the scheduled report
    sweep (which leaves out periods that ended before onboarding) produces the month, quarter and year it closed."""
    from analytics.reports.jobs import closed_periods
    from tenants.tenancy import get_tenant

    _, report = generated
    for u in report.universities:
        async with db.transaction(u.tenant_id) as session:
            tenant = await get_tenant(session, u.tenant_id)
        assert tenant.created_at == datetime(2024, 11, 1, tzinfo=tenant.zone)
        at_until = datetime.combine(SPEC["until"], time(9), tzinfo=tenant.zone)
        assert closed_periods(tenant, at_until) == [
            ("monthly", date(2025, 6, 1)),
            ("quarterly", date(2025, 4, 1)),
            ("yearly", date(2024, 1, 1)),
        ]


async def test_every_petition_follows_the_workflow_and_its_deadlines(db, generated):
    _, report = generated
    for u in report.universities:
        zone = ZoneInfo((await rows(db, u.tenant_id, "select timezone from tenants"))[0]["timezone"])
        cut = datetime.combine(SPEC["until"], time(0), tzinfo=zone)
        petitions = {
            p["id"]: p for p in await rows(db, u.tenant_id, "select id, state, version, received_at, accept_due, "
                                           "accepted_at, conclude_due, extended_days, due_at from petitions")
        }  # fmt: skip
        events = await rows(
            db, u.tenant_id, "select petition_id, occurred_at, type, payload from journal where petition_id is not "
            "null order by petition_id, occurred_at, seq"
        )  # fmt: skip
        by_petition: dict[uuid.UUID, list[Any]] = {}
        for e in events:
            by_petition.setdefault(e["petition_id"], []).append(e)
        assert set(by_petition) == set(petitions)
        seen = Counter()
        for pid, evs in by_petition.items():
            p = petitions[pid]
            assert evs[0]["type"] == "petition.submitted" and evs[0]["occurred_at"] == p["received_at"]
            state, actions = State.received, 1
            for e in evs[1:]:
                seen[e["type"]] += 1
                check_payload(e["type"], e["payload"])
                if e["type"] in ACTION_OF:
                    state = transition(state, ACTION_OF[e["type"]])  # raises on an illegal step
                    actions += 1
            assert (state.value, actions) == (p["state"], p["version"])
            assert p["accept_due"] == deadlines.accept_due(p["received_at"], zone)
            decided = next((e["occurred_at"] for e in evs if e["type"] in ("petition.accepted",
                                                                           "petition.not_accepted")), None)  # fmt: skip
            late_accept = [e for e in evs if e["type"] == "petition.overdue" and e["payload"]["deadline"] == "accept"]
            # An acceptance deadline is flagged exactly when it passed before the decision (or before the end).
            assert bool(late_accept) == (min(decided or cut, cut) > p["accept_due"])
            for e in late_accept:
                assert e["occurred_at"] == p["accept_due"]
            if p["accepted_at"] is not None:
                due = deadlines.conclude_due(p["accepted_at"], zone)
                if p["extended_days"]:
                    due = deadlines.extended_due(due, p["extended_days"], zone)
                assert p["conclude_due"] == due
                for e in evs:
                    if e["type"] == "petition.overdue" and e["payload"]["deadline"] == "conclude":
                        assert e["occurred_at"] in (deadlines.conclude_due(p["accepted_at"], zone), due)
        # Realistic mix: transfers, bounces, extensions, reviews, ratings, missed deadlines all occur.
        for kind in ("transferred", "transfer_objected", "extended", "replied", "rated", "closed", "overdue",
                     "followup_due", "not_accepted"):  # fmt: skip
            assert seen[f"petition.{kind}"] > 0, kind


async def test_incidents_follow_the_journal_contract(db, generated):
    _, report = generated
    for u in report.universities:
        events = await rows(db, u.tenant_id, "select incident_id, type, payload, org_unit_id, subject_id from journal "
                                             "where incident_id is not null")  # fmt: skip
        assert len({e["incident_id"] for e in events}) == u.incidents
        drills: dict[uuid.UUID, set[bool]] = {}
        for e in events:
            assert set(INCIDENT_EVENTS[e["type"]]) <= set(e["payload"]), e["type"]
            if e["type"] in EVENTS:  # once the incidents domain declares the type, the catalogue agrees
                check_payload(e["type"], e["payload"])
            drills.setdefault(e["incident_id"], set()).add(e["payload"]["drill"])
            if e["type"].startswith("task."):
                assert e["org_unit_id"] is not None and e["subject_id"] is not None
        assert all(len(flags) == 1 for flags in drills.values())  # a drill is a drill on every event


async def test_personal_data_is_encrypted_and_tenants_are_isolated(db, generated):
    _, report = generated
    a, b = report.universities
    named = await rows(db, a.tenant_id, "select petitioner_name, representatives from petitions "
                                        "where petitioner_name is not null limit 20")  # fmt: skip
    assert named
    for p in named:
        name = crypto.decrypt(p["petitioner_name"])
        assert 2 <= len(name) <= 3 and name.encode() not in p["petitioner_name"]
        if p["representatives"] is not None:
            assert json.loads(crypto.decrypt(p["representatives"]))[0]["name"]
    payloads = await rows(db, a.tenant_id, "select payload::text as p from journal")
    assert not any(crypto.decrypt(n["petitioner_name"]) in x["p"] for n in named for x in payloads)
    seen_a = await rows(db, a.tenant_id, "select distinct tenant_id from journal union select tenant_id from petitions")
    assert [r["tenant_id"] for r in seen_a] == [a.tenant_id]
    mine = await rows(db, b.tenant_id, "select count(*) as n from petitions")
    assert mine[0]["n"] == b.petitions


async def test_same_seed_same_history(db, settings, generated):
    _spec, first = generated
    again = await generate(db, Spec(**SPEC, prefix=f"h{uuid.uuid4().hex[:6]}"),
                           data_key=settings.data_key_bytes)  # fmt: skip
    sql = ("select p.id, p.tracking_number, p.kind, p.state, p.received_at, p.updated_at, c.code, u.code as unit "
           "from petitions p join petition_categories c on c.id = p.category_id "
           "left join org_units u on u.id = p.org_unit_id order by p.id")  # fmt: skip
    assert await rows(db, again.universities[0].tenant_id, sql) == await rows(db, first.universities[0].tenant_id, sql)
    journal = "select occurred_at, type, petition_id, payload - 'from_unit' as p from journal " \
              "where petition_id is not null or incident_id is not null order by occurred_at, type, id"  # fmt: skip
    assert await rows(db, again.universities[0].tenant_id, journal) == await rows(
        db, first.universities[0].tenant_id, journal
    )


async def test_a_taken_slug_is_refused_before_writing(db, settings, generated):
    spec, _ = generated
    from tenants.errors import Conflict

    with pytest.raises(Conflict):
        await generate(db, spec, data_key=settings.data_key_bytes)


async def test_generated_data_feeds_the_metrics(db, generated):
    """Extraction under each tenant's context and the metrics agree with the tables the generator wrote."""
    import polars as pl

    from analytics.extract import incident_frame, journal_frame, tenant_zones
    from analytics.metrics import localize, timeliness
    from analytics.metrics.incidents import incident_timeliness, information_release, task_coordination

    _, report = generated
    a = report.universities[0]
    async with db.transaction(a.tenant_id) as session:
        petitions = localize((await journal_frame(session)).lazy(), zones := await tenant_zones(session))
        incidents = localize((await incident_frame(session)).lazy(), zones)
    assert incidents.select(pl.col("tenant_id").unique()).collect().to_series().to_list() == [str(a.tenant_id)]
    decided = await rows(db, a.tenant_id, "select count(*) as n from petitions where accepted_at is not null "
                                          "or not_accepted_reason is not null")  # fmt: skip
    assert timeliness(petitions, period="month").get_column("decisions").sum() == decided[0]["n"]
    steps = incident_timeliness(incidents, period="quarter")
    assert steps.get_column("incidents").sum() == a.incidents
    assert set(steps.get_column("drill")) <= {True, False}
    release = information_release(incidents, period="year")
    published = await rows(db, a.tenant_id, "select count(*) as n from journal where type = 'bulletin.published'")
    assert release.get_column("bulletins").sum() == published[0]["n"]
    tasks = task_coordination(incidents, period="month", by=["org_unit_id"])
    assigned = await rows(db, a.tenant_id, "select count(distinct subject_id) as n from journal "
                                           "where type = 'task.assigned'")  # fmt: skip
    assert tasks.get_column("tasks").sum() == assigned[0]["n"]


def test_the_command_line(settings, capsys):
    """``xinfang demo generate`` prints what it wrote; a taken prefix is refused with exit code 1."""
    from service.ops.cli import main

    prefix = f"c{uuid.uuid4().hex[:6]}"
    argv = ["demo", "generate", "--tenants", "1", "--petitions", "40", "--incidents", "2", "--seed", "4",
            "--until", "2025-03-01", "--months", "2", "--prefix", prefix]  # fmt: skip
    assert main(argv) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["universities"] == [f"{prefix}-000"]
    assert (out["petitions"], out["window"]) == (40, ["2025-01-01", "2025-03-01"])
    assert out["journal_events"] > 40
    assert main(argv) == 1
    assert "refused" in capsys.readouterr().err
