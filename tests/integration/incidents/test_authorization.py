"""Every (state, action, person) combination of the workflow table, through the API: each allowed transition
works for every member the table admits and lands in the table's next state; every other combination is refused
— 403 for people outside the responsible group (or not its leader/deputy where the table asks for one), 409 for a
state that does not allow the action. Tasks likewise: only the assignee acts, as the task table says."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from service.incidents.workflow import (
    RULES,
    TASK_TRANSITIONS,
    Action,
    State,
    TaskAction,
    TaskState,
    permitted,
)
from tenants.plans.defaults import default_plan
from tests.support.emergency import PERSONAS, UNIT_OF, Driver, University

STEP_GROUPS = {s.key: s.responsible_group for s in default_plan().steps}
ROLES = {p: ({m[0]: m[1]} if m else {}) for p, m in PERSONAS.items()}


# The people of the unit that owns the closed incident's action item (``Driver.submit``: HQGLC) mark it done too.
ITEM_OWNERS = {p for p, code in UNIT_OF.items() if code == "HQGLC"}


def expected(state: State, action: Action, persona: str) -> int:
    if action == Action.complete_action_item and state == State.closed and persona in ITEM_OWNERS:
        return 200
    if not permitted(action, ROLES[persona], STEP_GROUPS):
        return 403
    return 200 if state in RULES[action].moves else 409


def body_of(d: Driver, action: Action) -> dict[str, Any]:
    units = d.uni.units
    bodies: dict[Action, dict[str, Any]] = {
        Action.assess: {"cause": "停水", "site_conditions": "有序"},
        Action.instruct: {"activated": True, "instruction": "启动预案"},
        Action.update_checklist: {"items": [{"key": "site_cleared", "done": True}]},
        Action.submit_summary: {
            "cause_analysis": "设施老化",
            "proposals": [{"proposal": "更换管道", "owner_unit_id": units["HQGLC"], "due_on": "2027-03-01"}],
        },
        Action.assign_task: {"step": "response", "duty": "维持秩序", "org_unit_id": units["BWC"]},
        Action.reassign_task: {"step": "response", "duty": "维持秩序", "org_unit_id": units["XCB"]},
        Action.record_measure: {"kind": "order", "count": 3, "notes": "派出保卫人员"},
        Action.request_logistics: {"category": "water", "quantity": 1, "item_id": d.uni.items["LOG-WATER"]},
        Action.fulfil_logistics: {"version": 1},
        Action.return_logistics: {"quantity": 1},
        Action.draft_bulletin: {
            "audience": "campus",
            "title_zh": "通报",
            "title_en": "Bulletin",
            "body_zh": "正文",
            "body_en": "Body",
        },
        Action.approve_bulletin: {"version": 1},
        Action.publish_bulletin: {"version": 2},
    }
    return bodies.get(action, {})


async def call(d: Driver, persona: str, action: Action, refs: dict[str, str]) -> Any:
    """Take ``action`` as ``persona``; sub-resources come from ``refs`` (random ids when refused anyway)."""

    def ref(name: str) -> str:
        return refs.get(name) or str(uuid.uuid4())

    paths = {
        Action.assign_task: "/tasks",
        Action.reassign_task: f"/tasks/{ref('declined_task')}/reassign",
        Action.record_measure: "/measures",
        Action.request_logistics: "/logistics",
        Action.fulfil_logistics: f"/logistics/{ref('open_request')}/fulfil",
        Action.return_logistics: f"/logistics/{ref('fulfilled_request')}/return",
        Action.draft_bulletin: "/bulletins",
        Action.approve_bulletin: f"/bulletins/{ref('draft')}/approve",
        Action.publish_bulletin: f"/bulletins/{ref('approved')}/publish",
        Action.complete_action_item: f"/action-items/{ref('action_item')}/complete",
    }
    body = body_of(d, action)
    if action in paths:
        return await d.client.post(f"/api/v1/incidents/{d.id}{paths[action]}", json=body, headers=d.h(persona))
    body = {"action": action.value, "version": await d.version(), **body}
    return await d.client.post(f"/api/v1/incidents/{d.id}/actions", json=body, headers=d.h(persona))


async def prepare(d: Driver, refs: dict[str, str]) -> None:
    """While the incident responds: a declined task, an open and a fulfilled request, a draft and an approved
    bulletin (what the sub-resource actions of later states act on)."""
    task = await d.task("BWC")
    await d.post(
        "outsider", f"/tasks/{task['id']}/actions", {"action": "decline", "version": 1, "reason_code": "busy"}, 200
    )
    refs["declined_task"] = task["id"]
    body = {"category": "water", "quantity": 2, "item_id": d.uni.items["LOG-WATER"]}
    refs["open_request"] = (await d.post("hand_member", "/logistics", body))["id"]
    done = await d.post("hand_member", "/logistics", body)
    await d.post("logi_member", f"/logistics/{done['id']}/fulfil", {"version": 1}, 200)
    refs["fulfilled_request"] = done["id"]
    refs["draft"] = (await d.bulletin(approve=False, publish=False))["id"]
    refs["approved"] = (await d.bulletin(publish=False))["id"]


async def incident_in(client: Any, uni: University, state: State) -> tuple[Driver, dict[str, str]]:
    d, refs = Driver(client, uni), {}
    order = list(State)
    await d.report()
    steps = [d.assess, d.instruct, d.end_response, d._tick_and_submit, d.approve]
    for i, step in enumerate(steps[: order.index(state)]):
        await step()
        if i == 1:
            await prepare(d, refs)
    if state == State.closed:
        refs["action_item"] = (await d.get())["action_items"][0]["id"]
    return d, refs


# One incident per state serves every refused combination (a refusal changes nothing).
_refused_incidents: dict[State, tuple[Driver, dict[str, str]]] = {}


@pytest.mark.parametrize("state", list(State))
async def test_every_refused_combination(client: Any, shared_uni: University, state: State) -> None:
    if state not in _refused_incidents:
        _refused_incidents[state] = await incident_in(client, shared_uni, state)
    d, refs = _refused_incidents[state]
    before = await d.get()
    wrong = []
    checked = 0
    for action in Action:
        for persona in PERSONAS:
            want = expected(state, action, persona)
            if want == 200:
                continue
            r = await call(d, persona, action, refs)
            checked += 1
            if r.status_code != want:
                wrong.append((action.value, persona, want, r.status_code, r.text[:200]))
            elif want == 409:
                problem = r.json()
                assert problem["state"] == state.value and action.value not in problem["allowed"]
    assert not wrong, wrong
    assert checked > 0
    after = await d.get()
    assert (after["state"], after["version"]) == (before["state"], before["version"])
    assert [b["state"] for b in after["bulletins"]] == [b["state"] for b in before["bulletins"]]


ALLOWED = [
    (state, action, persona)
    for action, rule in RULES.items()
    for state in rule.moves
    for persona in PERSONAS
    if expected(state, action, persona) == 200
]


def test_the_table_admits_exactly_the_responsible_groups() -> None:
    admitted = {(a, p) for _, a, p in ALLOWED}
    assert (Action.approve_bulletin, "info_member") not in admitted
    assert (Action.approve_summary, "lead_member") not in admitted
    assert {p for _, _, p in ALLOWED}.isdisjoint({"outsider", "admin"})
    assert (Action.instruct, "lead_member") in admitted and (Action.assess, "hand_member") in admitted


@pytest.mark.parametrize(("state", "action", "persona"), ALLOWED, ids=lambda v: str(v))
async def test_every_allowed_combination(
    client: Any, shared_uni: University, state: State, action: Action, persona: str
) -> None:
    d, refs = await incident_in(client, shared_uni, state)
    if action == Action.submit_summary:
        await d.tick_all()  # a precondition the state alone does not carry (tested in test_flow)
    r = await call(d, persona, action, refs)
    assert r.status_code in (200, 201), (action, persona, r.text)
    assert (await d.get())["state"] == RULES[action].moves[state].value


# --- tasks ----------------------------------------------------------------------------------------------------------


async def task_in(d: Driver, state: TaskState) -> dict[str, Any]:
    task = await d.task("BWC")
    path = f"/tasks/{task['id']}/actions"
    steps = {
        TaskState.assigned: [],
        TaskState.acknowledged: [("acknowledge", {})],
        TaskState.done: [("acknowledge", {}), ("complete", {})],
        TaskState.declined: [("decline", {"reason_code": "busy"})],
    }[state]
    for action, extra in steps:
        task = await d.post("outsider", path, {"action": action, "version": task["version"], **extra}, 200)
    return task


async def test_task_table_and_assignee_only(client: Any, shared_uni: University) -> None:
    d = Driver(client, shared_uni)
    await d.report()
    await d.assess()
    await d.instruct()
    wrong = []
    for state in TaskState:
        for action in TaskAction:
            for persona in ("outsider", "hand_member", "lead_leader", "admin"):
                task = await task_in(d, state)
                want = 403 if persona != "outsider" else (200 if (state, action) in TASK_TRANSITIONS else 409)
                body = {"action": action.value, "version": task["version"], "reason_code": "busy"}
                r = await d.client.post(
                    f"/api/v1/incidents/{d.id}/tasks/{task['id']}/actions", json=body, headers=d.h(persona)
                )
                if r.status_code != want:
                    wrong.append((state.value, action.value, persona, want, r.status_code))
                elif want == 200:
                    assert r.json()["state"] == TASK_TRANSITIONS[(state, action)].value
    assert not wrong, wrong
    # A task issued to a group is acted on by that group's members.
    group_task = await d.post("lead_member", "/tasks", {"step": "logistics", "duty": "送水", "group_key": "logistics"})
    path = f"/tasks/{group_task['id']}/actions"
    await d.post("hand_member", path, {"action": "acknowledge", "version": 1}, 403)
    await d.post("logi_member", path, {"action": "acknowledge", "version": 1}, 200)
    # Only a declined task is reassigned, and only once.
    open_task = await d.task("BWC")
    body = {"step": "response", "duty": "x", "org_unit_id": shared_uni.units["XCB"]}
    await d.post("lead_member", f"/tasks/{open_task['id']}/reassign", body, 409)
    declined = await task_in(d, TaskState.declined)
    await d.post("lead_member", f"/tasks/{declined['id']}/reassign", body, 201)
    await d.post("lead_member", f"/tasks/{declined['id']}/reassign", body, 409)
