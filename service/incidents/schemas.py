"""Request and response bodies of the incident API (msgspec; bounded lengths everywhere)."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

import msgspec

from service.http.deps import Input
from service.incidents import services
from service.incidents.models import (
    ActionItem,
    Bulletin,
    Incident,
    IncidentStep,
    LogisticsRequest,
    Measure,
    Task,
)
from service.incidents.workflow import ACTIVE_STATES, TaskAction, allowed_actions

Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Long = Annotated[str, msgspec.Meta(min_length=1, max_length=8000)]
Note = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
Version = Annotated[int, msgspec.Meta(ge=1)]
StepKey = Literal[
    "report", "assessment", "instruction", "response", "logistics", "information_release", "cleanup_summary"
]


class PeopleGroupIn(Input):
    kind: Literal["students", "staff", "other"]
    count: Count
    org_unit_id: uuid.UUID | None = None


class ReportIn(Input):
    title: Title
    facts: Long
    people_count: Count
    place: Title | None = None
    impact: Long | None = None
    people_groups: Annotated[list[PeopleGroupIn], msgspec.Meta(max_length=50)] = []
    risk_categories: Annotated[list[Code], msgspec.Meta(max_length=20)] = []
    drill: bool = False
    # Open the incident from petitions: directly, or from an escalation request of the petition office.
    petition_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=100)] = []
    escalation_id: uuid.UUID | None = None


class ChecklistIn(Input):
    key: Code
    done: bool
    zh: Title | None = None
    en: Title | None = None


class ProposalIn(Input):
    proposal: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    owner_unit_id: uuid.UUID
    due_on: date


class ActionIn(Input):
    """An incident-level action; the fields each action needs are checked by the service."""

    action: Literal[
        "assess", "instruct", "end_response", "update_checklist", "submit_summary", "return_summary", "approve_summary"
    ]
    version: Version
    # assess
    cause: Long | None = None
    site_conditions: Long | None = None
    people_count: Count | None = None
    injuries: Count = 0
    duration_minutes: Count = 0
    media_attention: bool = False
    safety_threat: bool = False
    risk_categories: Annotated[list[Code], msgspec.Meta(max_length=20)] | None = None
    level: Annotated[str, msgspec.Meta(max_length=8)] | None = None
    reason: Note | None = None
    # instruct
    activated: bool | None = None
    instruction: Long | None = None
    # update_checklist
    items: Annotated[list[ChecklistIn], msgspec.Meta(max_length=50)] = []
    # submit_summary
    cause_analysis: Long | None = None
    lessons: Long | None = None
    proposals: Annotated[list[ProposalIn], msgspec.Meta(max_length=50)] = []


class TaskIn(Input):
    step: StepKey
    duty: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    org_unit_id: uuid.UUID | None = None
    group_key: Code | None = None
    due_at: datetime | None = None


class TaskActionIn(Input):
    action: TaskAction
    version: Version
    reason_code: Code | None = None
    note: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class MeasureIn(Input):
    kind: Code
    notes: Note
    count: Count = 0
    org_unit_id: uuid.UUID | None = None
    occurred_at: datetime | None = None


class LogisticsIn(Input):
    category: Literal["water", "medical", "venue", "materials"]
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]
    item_id: uuid.UUID | None = None
    notes: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class FulfilIn(Input):
    version: Version
    item_id: uuid.UUID | None = None


class ReturnIn(Input):
    quantity: Annotated[int, msgspec.Meta(ge=1, le=1_000_000)]


class BulletinIn(Input):
    audience: Literal["campus", "students", "staff"]
    title_zh: Title
    title_en: Title
    body_zh: Long
    body_en: Long
    kind: Literal["correction", "retraction"] | None = None
    corrects_id: uuid.UUID | None = None


class VersionIn(Input):
    version: Version


# --- responses ------------------------------------------------------------------------------------------------------


class StepOut(msgspec.Struct):
    step: str
    target_minutes: int | None
    due_at: datetime | None
    started_at: datetime | None
    completed_at: datetime | None
    overdue: bool

    @classmethod
    def of(cls, s: IncidentStep, now: datetime) -> StepOut:
        overdue = s.due_at is not None and (s.completed_at or now) > s.due_at
        return cls(s.step, s.target_minutes, s.due_at, s.started_at, s.completed_at, overdue)


class TaskOut(msgspec.Struct):
    id: uuid.UUID
    step: str
    org_unit_id: uuid.UUID | None
    group_key: str | None
    duty: str
    due_at: datetime | None
    state: str
    version: int
    overdue: bool
    reassigned_from: uuid.UUID | None
    assigned_at: datetime
    acknowledged_at: datetime | None
    completed_at: datetime | None
    declined_at: datetime | None
    decline_reason_code: str | None
    drill: bool

    @classmethod
    def of(cls, t: Task, now: datetime, drill: bool) -> TaskOut:
        overdue = t.due_at is not None and t.state in ("assigned", "acknowledged") and now > t.due_at
        return cls(
            t.id, t.step, t.org_unit_id, t.group_key, t.duty, t.due_at, t.state, t.version, overdue,
            t.reassigned_from, t.assigned_at, t.acknowledged_at, t.completed_at, t.declined_at,
            t.decline_reason_code, drill,
        )  # fmt: skip


class MeasureOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    count: int
    notes: str
    org_unit_id: uuid.UUID | None
    occurred_at: datetime

    @classmethod
    def of(cls, m: Measure) -> MeasureOut:
        return cls(m.id, m.kind, m.count, m.notes, m.org_unit_id, m.occurred_at)


class LogisticsOut(msgspec.Struct):
    id: uuid.UUID
    category: str
    item_id: uuid.UUID | None
    quantity: int
    issued: int
    returned: int
    short: int
    state: str
    version: int
    available: int | None
    requested_at: datetime
    fulfilled_at: datetime | None

    @classmethod
    def of(cls, r: LogisticsRequest, available: int | None = None) -> LogisticsOut:
        short = r.quantity - r.issued if r.state != "requested" else max(0, r.quantity - (available or 0))
        if r.state == "requested" and available is None:
            short = 0
        return cls(
            r.id, r.category, r.item_id, r.quantity, r.issued, r.returned, short, r.state, r.version, available,
            r.requested_at, r.fulfilled_at,
        )  # fmt: skip


class BulletinOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    audience: str
    title_zh: str
    title_en: str
    body_zh: str
    body_en: str
    corrects_id: uuid.UUID | None
    state: str
    version: int
    sequence: int | None
    next_update_at: datetime | None
    approved_at: datetime | None
    published_at: datetime | None

    @classmethod
    def of(cls, b: Bulletin) -> BulletinOut:
        return cls(
            b.id, b.kind, b.audience, b.title_zh, b.title_en, b.body_zh, b.body_en, b.corrects_id, b.state,
            b.version, b.sequence, b.next_update_at, b.approved_at, b.published_at,
        )  # fmt: skip


class ActionItemOut(msgspec.Struct):
    id: uuid.UUID
    proposal: str
    owner_unit_id: uuid.UUID
    due_on: date
    done_at: datetime | None

    @classmethod
    def of(cls, a: ActionItem) -> ActionItemOut:
        return cls(a.id, a.proposal, a.owner_unit_id, a.due_on, a.done_at)


class IncidentSummary(msgspec.Struct):
    id: uuid.UUID
    title: str
    state: str
    drill: bool
    level: str | None
    source: str
    reported_at: datetime
    closed_at: datetime | None

    @classmethod
    def of(cls, i: Incident) -> IncidentSummary:
        return cls(i.id, i.title, i.state, i.drill, i.level, i.source, i.reported_at, i.closed_at)


class IncidentOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    facts: str
    place: str | None
    impact: str | None
    people_count: int
    people_groups: list[dict[str, Any]]
    risk_categories: list[str]
    drill: bool
    source: str
    warning_id: uuid.UUID | None
    petition_ids: list[uuid.UUID]
    plan_version_id: uuid.UUID
    plan_number: int
    state: str
    active: bool
    version: int
    allowed_actions: list[str]
    public_token: str
    reported_at: datetime
    cause: str | None
    site_conditions: str | None
    injuries: int
    media_attention: bool
    safety_threat: bool
    suggested_level: str | None
    level: str | None
    level_reason: str | None
    activated: bool | None
    instruction: str | None
    checklist: list[dict[str, Any]]
    summary: dict[str, Any] | None
    closed_at: datetime | None
    steps: list[StepOut]
    tasks: list[TaskOut]
    measures: list[MeasureOut]
    logistics: list[LogisticsOut]
    bulletins: list[BulletinOut]
    action_items: list[ActionItemOut]
    next_update_at: datetime | None
    update_overdue: bool

    @classmethod
    def of(cls, d: services.Detail, now: datetime) -> IncidentOut:
        i = d.incident
        published = [b for b in d.bulletins if b.state == "published"]
        nxt = max(published, key=lambda b: b.sequence or 0).next_update_at if published else None
        return cls(
            i.id, i.title, i.facts, i.place, i.impact, i.people_count, i.people_groups, list(i.risk_categories),
            i.drill, i.source, i.warning_id, d.petition_ids, i.plan_version_id, i.plan_number, i.state,
            i.state in ACTIVE_STATES, i.version, allowed_actions(i.state), i.public_token, i.reported_at, i.cause,
            i.site_conditions, i.injuries, i.media_attention, i.safety_threat, i.suggested_level, i.level,
            i.level_reason, i.activated, i.instruction, i.checklist, i.summary, i.closed_at,
            [StepOut.of(s, now) for s in d.steps],
            [TaskOut.of(t, now, i.drill) for t in d.tasks],
            [MeasureOut.of(m) for m in d.measures],
            [LogisticsOut.of(r, d.available.get(r.id)) for r in d.logistics],
            [BulletinOut.of(b) for b in d.bulletins],
            [ActionItemOut.of(a) for a in d.action_items],
            nxt,
            bool(nxt and i.state == "responding" and now > nxt),
        )  # fmt: skip


class TimelineOut(msgspec.Struct):
    occurred_at: datetime
    type: str
    actor_id: uuid.UUID | None
    actor: str | None
    subject_id: uuid.UUID | None
    org_unit_id: uuid.UUID | None
    payload: dict[str, Any]
