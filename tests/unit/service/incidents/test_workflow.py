"""The incident workflow table, the task table, the overdue rules and the journal contract (pure)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from service.incidents import reminders, workflow
from service.incidents.workflow import RULES, Action, State, TaskAction, TaskState
from tenants.errors import Conflict, Forbidden
from tenants.events import EVENTS
from tenants.plans.content import STEP_KEYS
from tenants.plans.defaults import default_plan

STEP_GROUPS = {s.key: s.responsible_group for s in default_plan().steps}
GROUPS = sorted({g for g in STEP_GROUPS.values() if g})
ROLES = ["leader", "deputy", "member"]


def test_every_rule_names_a_plan_step_and_every_state_is_reachable() -> None:
    assert {r.step for r in RULES.values()} <= set(STEP_KEYS)
    reached = {State.reported} | {n for r in RULES.values() for n in r.moves.values()}
    assert reached == set(State)
    # Closed is final except for tracking action items to done.
    assert workflow.allowed_actions(State.closed) == [Action.complete_action_item.value]


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("group", [*GROUPS, None])
@pytest.mark.parametrize("role", ROLES)
def test_check_follows_the_table(state: State, action: Action, group: str | None, role: str) -> None:
    roles = {group: role} if group else {}
    rule = RULES[action]
    responsible = STEP_GROUPS[rule.step]
    admitted = group == responsible and (role in ("leader", "deputy") or not rule.leaders_only)
    if not admitted:
        with pytest.raises(Forbidden):
            workflow.check(state, action, roles, STEP_GROUPS)
    elif state not in rule.moves:
        with pytest.raises(Conflict) as err:
            workflow.check(state, action, roles, STEP_GROUPS)
        assert err.value.extra["state"] == state.value
    else:
        assert workflow.check(state, action, roles, STEP_GROUPS) == rule.moves[state]


def test_groups_come_from_the_pinned_plan_version() -> None:
    # A university whose plan gives assessment to the leadership: the handling group may no longer assess.
    groups = dict(STEP_GROUPS, assessment="leadership")
    with pytest.raises(Forbidden):
        workflow.check(State.reported, Action.assess, {"handling": "leader"}, groups)
    assert workflow.check(State.reported, Action.assess, {"leadership": "member"}, groups) == State.assessed


@pytest.mark.parametrize("state", list(TaskState))
@pytest.mark.parametrize("action", list(TaskAction))
def test_task_table(state: TaskState, action: TaskAction) -> None:
    nxt = workflow.TASK_TRANSITIONS.get((state, action))
    if nxt is None:
        with pytest.raises(Conflict):
            workflow.task_transition(state, action)
    else:
        assert workflow.task_transition(state, action) == nxt
    assert {TaskState.assigned, TaskState.acknowledged} == workflow.OPEN_TASK_STATES


NOW = dt.datetime(2026, 11, 29, 12, 0, tzinfo=dt.UTC)


@given(
    minutes=st.lists(st.integers(min_value=-600, max_value=600), min_size=1, max_size=7),
    done=st.lists(st.booleans(), min_size=7, max_size=7),
)
def test_a_step_is_overdue_exactly_when_open_past_its_due_time(minutes: list[int], done: list[bool]) -> None:
    steps = [
        reminders.StepFacts(STEP_KEYS[i], NOW + dt.timedelta(minutes=m), NOW if done[i] else None, 60)
        for i, m in enumerate(minutes)
    ]
    found = {n.payload["step"] for n in reminders.notices(NOW, active=True, steps=steps, tasks=[], next_update_at=None)}
    assert found == {s.step for s in steps if s.completed_at is None and s.due_at and s.due_at < NOW}


def test_tasks_and_the_bulletin_cadence() -> None:
    t_open, t_done = uuid.uuid4(), uuid.uuid4()
    past = NOW - dt.timedelta(minutes=1)
    tasks = [reminders.TaskFacts(t_open, None, past, True), reminders.TaskFacts(t_done, None, past, False)]
    notes = reminders.notices(NOW, active=True, steps=[], tasks=tasks, next_update_at=past)
    assert [(n.type, n.subject_id) for n in notes] == [("task.overdue", t_open), ("bulletin.update_missed", None)]
    assert notes[1].key == f"bulletin:{past.isoformat()}" and notes[1].payload == {"due_at": past.isoformat()}
    # No cadence once the response has ended, and none before the promised time.
    assert reminders.notices(NOW, active=False, steps=[], tasks=[], next_update_at=past) == []
    assert reminders.notices(NOW, active=True, steps=[], tasks=[], next_update_at=NOW) == []


CONTRACT = {
    "incident.reported": {"source", "drill", "plan_number", "people_count", "risk_categories", "petitions"},
    "incident.assessed": {"suggested_level", "level", "overridden", "drill"},
    "incident.instructed": {"activated", "level", "drill"},
    "incident.step_started": {"step", "drill"},
    "incident.step_completed": {"step", "target_minutes", "minutes", "drill"},
    "incident.step_overdue": {"step", "target_minutes", "drill"},
    "task.assigned": {"step", "assignee", "due_at", "reassigned_from", "drill"},
    "task.acknowledged": {"drill"},
    "task.declined": {"reason_code", "drill"},
    "task.completed": {"on_time", "drill"},
    "task.overdue": {"drill"},
    "measure.recorded": {"kind", "count", "drill"},
    "logistics.requested": {"category", "quantity", "drill"},
    "logistics.fulfilled": {"category", "quantity", "short", "drill"},
    "bulletin.published": {"audience", "sequence", "kind", "corrects_id", "next_update_at", "drill"},
    "bulletin.corrected": {"corrects_id", "kind", "drill"},
    "bulletin.update_missed": {"due_at", "drill"},
    "incident.summary_approved": {"action_items", "drill"},
    "incident.closed": {"level", "drill", "minutes"},
}


@pytest.mark.parametrize("event_type", sorted(CONTRACT))
def test_the_catalogue_declares_the_contract(event_type: str) -> None:
    assert CONTRACT[event_type] <= EVENTS[event_type].payload
