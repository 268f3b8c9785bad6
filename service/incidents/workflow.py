"""The incident workflow as data: one table saying, for every action, which states allow it, the state it leads
to, and whose group may take it; one check. Task states have their own small table.

Groups are named through the plan's steps: an action belongs to a step, and the step's ``responsible_group`` in
the plan version pinned at report (leadership for instruction, handling for assessment and response, the
information release group for bulletins, logistics for supplies) is the group whose members may take it. Approval
actions ask for the group's leader or a deputy. The check refuses an outsider with 403 before it looks at the
state (409), so a refusal never tells an outsider where the incident stands. Tasks, bulletins and logistics
requests have small tables of their own, applied by ``tenants.transitions.step`` like the petitions' table.
"""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping
from dataclasses import dataclass

from tenants.errors import Conflict, Forbidden
from tenants.transitions import step


class State(enum.StrEnum):
    reported = "reported"
    assessed = "assessed"
    responding = "responding"
    cleanup = "cleanup"
    summary_review = "summary_review"
    closed = "closed"


class Action(enum.StrEnum):
    assess = "assess"
    instruct = "instruct"
    assign_task = "assign_task"
    reassign_task = "reassign_task"
    record_measure = "record_measure"
    request_logistics = "request_logistics"
    fulfil_logistics = "fulfil_logistics"
    return_logistics = "return_logistics"
    draft_bulletin = "draft_bulletin"
    approve_bulletin = "approve_bulletin"
    publish_bulletin = "publish_bulletin"
    end_response = "end_response"
    update_checklist = "update_checklist"
    submit_summary = "submit_summary"
    return_summary = "return_summary"
    approve_summary = "approve_summary"
    complete_action_item = "complete_action_item"


@dataclass(frozen=True)
class Rule:
    step: str  # the plan step whose responsible group acts
    moves: Mapping[State, State]  # allowed state -> next state
    leaders_only: bool = False  # the group's leader or a deputy


S, A = State, Action
_ACTIVE = {S.responding: S.responding}
_ACTIVE_OR_CLEANUP = {S.responding: S.responding, S.cleanup: S.cleanup}

RULES: dict[Action, Rule] = {
    A.assess: Rule("assessment", {S.reported: S.assessed}),
    A.instruct: Rule("instruction", {S.assessed: S.responding}),
    A.assign_task: Rule("instruction", _ACTIVE),
    A.reassign_task: Rule("instruction", _ACTIVE),
    A.record_measure: Rule("response", _ACTIVE),
    A.request_logistics: Rule("response", _ACTIVE),
    A.fulfil_logistics: Rule("logistics", _ACTIVE),
    A.return_logistics: Rule("logistics", _ACTIVE_OR_CLEANUP),
    A.draft_bulletin: Rule("information_release", _ACTIVE_OR_CLEANUP),
    A.approve_bulletin: Rule("information_release", _ACTIVE_OR_CLEANUP, leaders_only=True),
    A.publish_bulletin: Rule("information_release", _ACTIVE_OR_CLEANUP),
    A.end_response: Rule("response", {S.responding: S.cleanup}),
    A.update_checklist: Rule("cleanup_summary", {S.cleanup: S.cleanup}),
    A.submit_summary: Rule("cleanup_summary", {S.cleanup: S.summary_review}),
    A.return_summary: Rule("instruction", {S.summary_review: S.cleanup}, leaders_only=True),
    A.approve_summary: Rule("instruction", {S.summary_review: S.closed}, leaders_only=True),
    A.complete_action_item: Rule("cleanup_summary", {S.closed: S.closed}),
}

LEADER_ROLES = frozenset({"leader", "deputy"})
ACTIVE_STATES = frozenset({S.reported, S.assessed, S.responding})


def group_of(action: Action | str, step_groups: Mapping[str, str | None]) -> str | None:
    """The group key responsible for ``action`` in a plan version (``step_groups``: step key -> group key)."""
    return step_groups.get(RULES[Action(action)].step)


def permitted(action: Action | str, roles: Mapping[str, str], step_groups: Mapping[str, str | None]) -> bool:
    """Whether a person holding ``roles`` (group key -> leader/deputy/member) may take ``action``."""
    rule = RULES[Action(action)]
    group = step_groups.get(rule.step)
    role = roles.get(group) if group else None
    if role is None:
        return False
    return role in LEADER_ROLES if rule.leaders_only else True


def check(
    state: State | str, action: Action | str, roles: Mapping[str, str], step_groups: Mapping[str, str | None]
) -> State:
    """The next state; ``Forbidden`` (403) for people outside the responsible group, else ``Conflict`` (409)
    when the state does not allow the action."""
    act = Action(action)
    if not permitted(act, roles, step_groups):
        group = group_of(act, step_groups)
        lead = " (its leader or a deputy)" if RULES[act].leaders_only else ""
        raise Forbidden(f"only the {group or 'responsible'} group{lead} may {act.value}", code="not-in-group")
    return next_state(state, act)


def next_state(state: State | str, action: Action | str) -> State:
    """The state ``action`` leads to from ``state``; ``Conflict`` (409) when the state does not allow it."""
    act, current = Action(action), State(state)
    nxt = RULES[act].moves.get(current)
    if nxt is None:
        raise Conflict(
            f"action {act.value!r} is not allowed in state {current.value!r}",
            code="transition-refused",
            state=current.value,
            allowed=allowed_actions(current),
        )
    return nxt


def allowed_actions(state: State | str) -> list[str]:
    current = State(state)
    return [a.value for a, rule in RULES.items() if current in rule.moves]


def available(state: State | str, roles: Mapping[str, str], step_groups: Mapping[str, str | None]) -> frozenset[Action]:
    """The actions a person holding ``roles`` may take now: allowed by the state and by the group (what the
    console offers as buttons; ``check`` refuses every other one)."""
    current = State(state)
    return frozenset(a for a, rule in RULES.items() if current in rule.moves and permitted(a, roles, step_groups))


def check_action_item(
    state: State | str, roles: Mapping[str, str], step_groups: Mapping[str, str | None], *, owner: bool
) -> State:
    """Marking an action item done: the responsible group, or the people of the unit that owns the item
    (``owner``), once the incident is closed (403 for others, else 409 by state)."""
    if owner:
        return next_state(state, Action.complete_action_item)
    return check(state, Action.complete_action_item, roles, step_groups)


def may_complete_action_item(
    state: State | str, roles: Mapping[str, str], step_groups: Mapping[str, str | None], *, owner: bool
) -> bool:
    try:
        check_action_item(state, roles, step_groups, owner=owner)
    except (Forbidden, Conflict):
        return False
    return True


def four_eyes(author: object, approver: object) -> bool:
    """A bulletin's approver is never its author (an unknown author, e.g. a job's, binds no one)."""
    return author is None or author != approver


# --- tasks ------------------------------------------------------------------------------------------------------


class TaskState(enum.StrEnum):
    assigned = "assigned"
    acknowledged = "acknowledged"
    done = "done"
    declined = "declined"


class TaskAction(enum.StrEnum):
    acknowledge = "acknowledge"
    complete = "complete"
    decline = "decline"


T = TaskState
TASK_TRANSITIONS: dict[tuple[TaskState, TaskAction], TaskState] = {
    (T.assigned, TaskAction.acknowledge): T.acknowledged,
    (T.assigned, TaskAction.decline): T.declined,
    (T.acknowledged, TaskAction.decline): T.declined,
    (T.acknowledged, TaskAction.complete): T.done,
}
OPEN_TASK_STATES = frozenset({T.assigned, T.acknowledged})


def task_transition(state: TaskState | str, action: TaskAction | str) -> TaskState:
    return step(TASK_TRANSITIONS, TaskState(state), TaskAction(action))


def task_actions(state: TaskState | str) -> list[TaskAction]:
    """The task actions the table allows from ``state``, in the table's order."""
    current = TaskState(state)
    return [a for (s, a) in TASK_TRANSITIONS if s == current]


def is_assignee(
    org_unit_id: object, group_key: str | None, my_units: Collection[object], my_groups: Collection[str]
) -> bool:
    """Whether a person in ``my_units`` holding ``my_groups`` is the task's assignee (people of the assigned unit,
    or members of the assigned group)."""
    if group_key is not None:
        return group_key in my_groups
    return org_unit_id is not None and org_unit_id in my_units


# --- bulletins and logistics requests ------------------------------------------------------------------------------


class BulletinState(enum.StrEnum):
    draft = "draft"
    approved = "approved"
    published = "published"


class BulletinAction(enum.StrEnum):
    approve = "approve"
    publish = "publish"


BULLETIN_TRANSITIONS: dict[tuple[BulletinState, BulletinAction], BulletinState] = {
    (BulletinState.draft, BulletinAction.approve): BulletinState.approved,
    (BulletinState.approved, BulletinAction.publish): BulletinState.published,
}


def bulletin_transition(state: BulletinState | str, action: BulletinAction) -> BulletinState:
    return step(BULLETIN_TRANSITIONS, BulletinState(state), action, note=" (a bulletin)")


class LogisticsState(enum.StrEnum):
    requested = "requested"
    fulfilled = "fulfilled"
    short = "short"  # fulfilled in part: the shortfall is shown


class LogisticsAction(enum.StrEnum):
    fulfil = "fulfil"  # everything asked for was issued
    fulfil_short = "fulfil_short"  # the inventory held less


LOGISTICS_TRANSITIONS: dict[tuple[LogisticsState, LogisticsAction], LogisticsState] = {
    (LogisticsState.requested, LogisticsAction.fulfil): LogisticsState.fulfilled,
    (LogisticsState.requested, LogisticsAction.fulfil_short): LogisticsState.short,
}


def logistics_transition(state: LogisticsState | str, action: LogisticsAction) -> LogisticsState:
    return step(LOGISTICS_TRANSITIONS, LogisticsState(state), action, note=" (a logistics request)")
