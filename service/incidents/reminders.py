"""Which step and task overdue flags and missed bulletin updates are due. Pure, no I/O.

Each notice has a key stored once journaled (``incident_reminders``): a scan may run any number of times and
journals each flag once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True)
class StepFacts:
    step: str
    due_at: datetime | None
    completed_at: datetime | None
    target_minutes: int | None


@dataclass(frozen=True)
class TaskFacts:
    id: uuid.UUID
    org_unit_id: uuid.UUID | None
    due_at: datetime | None
    open: bool


@dataclass(frozen=True)
class Notice:
    key: str
    type: str
    subject_id: uuid.UUID | None = None
    org_unit_id: uuid.UUID | None = None
    payload: dict[str, Any] = field(default_factory=dict)


def notices(
    now: datetime,
    *,
    active: bool,
    steps: list[StepFacts],
    tasks: list[TaskFacts],
    next_update_at: datetime | None,
) -> list[Notice]:
    """Overdue steps (not completed past their target), overdue open tasks, and a missed bulletin update (the
    latest published bulletin promised the next one by ``next_update_at``, and none came) while ``active``."""
    out = [
        Notice(f"step:{s.step}", "incident.step_overdue", payload={"step": s.step, "target_minutes": s.target_minutes})
        for s in steps
        if s.completed_at is None and s.due_at is not None and now > s.due_at
    ]
    out += [
        Notice(f"task:{t.id}", "task.overdue", subject_id=t.id, org_unit_id=t.org_unit_id)
        for t in tasks
        if t.open and t.due_at is not None and now > t.due_at
    ]
    if active and next_update_at is not None and now > next_update_at:
        stamp = next_update_at.isoformat()
        out.append(Notice(f"bulletin:{stamp}", "bulletin.update_missed", payload={"due_at": stamp}))
    return out
