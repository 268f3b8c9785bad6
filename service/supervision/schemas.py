"""Request and response bodies of the supervision routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from service.http.deps import Input
from service.supervision.models import Order
from service.supervision.workflow import allowed_actions


class OrderIn(Input):
    org_unit_id: uuid.UUID
    expected: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
    due_at: datetime
    petition_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None
    task_id: uuid.UUID | None = None


class ActionIn(Input):
    action: Literal["answer", "accept", "return", "close"]
    version: int
    text: Annotated[str, msgspec.Meta(max_length=4000)] | None = None
    due_at: datetime | None = None


class OrderOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    subject: str
    petition_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    task_id: uuid.UUID | None
    org_unit_id: uuid.UUID
    expected: str
    due_at: datetime
    state: str
    version: int
    issued_at: datetime
    answer: str | None
    answered_at: datetime | None
    answered_on_time: bool | None
    review_note: str | None
    closed_at: datetime | None
    overdue: bool
    overdue_at: datetime | None
    escalated_to_unit_id: uuid.UUID | None
    allowed_actions: list[str]

    @classmethod
    def of(cls, o: Order) -> OrderOut:
        return cls(
            id=o.id,
            subject="petition" if o.petition_id else "task",
            petition_id=o.petition_id,
            incident_id=o.incident_id,
            task_id=o.task_id,
            org_unit_id=o.org_unit_id,
            expected=o.expected,
            due_at=o.due_at,
            state=o.state,
            version=o.version,
            issued_at=o.issued_at,
            answer=o.answer,
            answered_at=o.answered_at,
            answered_on_time=None if o.answered_at is None else o.answered_at <= o.due_at,
            review_note=o.review_note,
            closed_at=o.closed_at,
            overdue=o.overdue_at is not None,
            overdue_at=o.overdue_at,
            escalated_to_unit_id=o.escalated_to_unit_id,
            allowed_actions=allowed_actions(o.state),
        )
