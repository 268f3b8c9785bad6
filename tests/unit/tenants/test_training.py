"""Training and drill compliance against the plan's cadence (pure)."""

from __future__ import annotations

import datetime as dt
import uuid

from tenants.plans.defaults import default_plan
from tenants.training import Held, SessionKind, compliance, members
from tests.support.rosters import roster

TODAY = dt.date(2026, 11, 29)
CADENCE = default_plan().training  # training every 180 days, drill every 365
A, B, C, D, OUTSIDER = (uuid.uuid4() for _ in range(5))
GROUPS = {
    "leadership": roster("leadership", leader=A, deputies=(B,)),
    "handling": roster("handling", leader=C, members=(A, D)),
    "custom": roster("custom", leader=OUTSIDER),  # not a trained group
}


def held(days_ago: int, kind: SessionKind, *people: uuid.UUID) -> Held:
    return Held(held_on=TODAY - dt.timedelta(days=days_ago), kind=kind, participants=frozenset(people))


def test_members_lists_leader_deputies_members_once() -> None:
    assert members(GROUPS["handling"]) == [C, A, D]
    assert members(roster("x", deputies=(A,), members=(A, B))) == [A, B]


def test_who_is_overdue() -> None:
    sessions = [
        held(10, SessionKind.training, A),
        held(181, SessionKind.training, B),
        held(180, SessionKind.training, C),
        held(400, SessionKind.drill, D, OUTSIDER),
    ]
    result = compliance(CADENCE, GROUPS, sessions, as_of=TODAY)
    by_person = {p.person_id: p for p in result.people}
    assert set(by_person) == {A, B, C, D}  # the custom group is not trained under this plan
    assert by_person[A].groups == ["leadership", "handling"]
    assert not by_person[A].overdue and by_person[A].due_on == TODAY + dt.timedelta(days=170)
    assert by_person[B].overdue  # 181 days ago
    assert not by_person[C].overdue and by_person[C].due_on == TODAY  # due today is not overdue yet
    assert by_person[D].overdue and by_person[D].last_trained_on == TODAY - dt.timedelta(days=400)
    assert set(result.overdue) == {B, D}


def test_never_trained_is_overdue_and_sessions_after_the_date_do_not_count() -> None:
    result = compliance(CADENCE, GROUPS, [held(-5, SessionKind.training, A, B, C, D)], as_of=TODAY)
    assert set(result.overdue) == {A, B, C, D}
    assert all(p.last_trained_on is None and p.due_on is None for p in result.people)


def test_drill_cadence() -> None:
    assert not compliance(CADENCE, GROUPS, [], as_of=TODAY).drill.met
    recent = compliance(CADENCE, GROUPS, [held(365, SessionKind.drill), held(20, SessionKind.training)], as_of=TODAY)
    assert recent.drill.met and recent.drill.last_drill_on == TODAY - dt.timedelta(days=365)
    late = compliance(CADENCE, GROUPS, [held(366, SessionKind.drill)], as_of=TODAY)
    assert not late.drill.met and late.drill.due_on == TODAY - dt.timedelta(days=1)


def test_unknown_training_groups_are_skipped() -> None:
    assert compliance(CADENCE, {}, [], as_of=TODAY).people == []
