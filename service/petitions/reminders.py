"""Which deadline reminders, overdue flags and satisfaction follow-ups are due. Pure, no I/O.

Each notice carries a key that is stored once sent (``petition_reminders``), so a scan may run any number of
times and never journals the same notice twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# Which deadline runs in a state (for the notice's payload).
DEADLINE_OF_STATE = {
    "received": "accept",
    "accepted": "conclude",
    "assigned": "conclude",
    "in_progress": "conclude",
    "transferred": "conclude",
    "review_requested": "review_answer",
    "rereview_requested": "rereview_answer",
}
RATING_STAGE = {"replied": "reply", "closed": "reply", "reviewed": "review", "final": "rereview"}


@dataclass(frozen=True)
class Facts:
    state: str
    due_at: datetime | None
    replied_at: datetime | None
    rating_stage: str | None


@dataclass(frozen=True)
class Notice:
    key: str
    type: str
    payload: dict[str, Any]


def notices(facts: Facts, now: datetime, *, reminder_hours: list[int], followup_days: int) -> list[Notice]:
    out: list[Notice] = []
    deadline = DEADLINE_OF_STATE.get(facts.state)
    if deadline and facts.due_at is not None:
        stamp = facts.due_at.isoformat()
        if now >= facts.due_at:
            out.append(Notice(f"overdue:{stamp}", "petition.overdue", {"deadline": deadline}))
        else:
            # Only the nearest point that has been reached: a late scan does not send a burst of stale reminders.
            reached = [h for h in reminder_hours if now >= facts.due_at - timedelta(hours=h)]
            if reached:
                hours = min(reached)
                out.append(
                    Notice(
                        f"deadline:{stamp}:{hours}",
                        "petition.deadline_reminder",
                        {"deadline": deadline, "hours": hours},
                    )
                )
    stage = RATING_STAGE.get(facts.state)
    if (
        stage
        and facts.replied_at is not None
        and facts.rating_stage != stage
        and now >= facts.replied_at + timedelta(days=followup_days)
    ):
        out.append(Notice(f"followup:{stage}", "petition.followup_due", {"stage": stage, "days": followup_days}))
    return out
