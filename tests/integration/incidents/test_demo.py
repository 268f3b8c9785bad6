"""The demo university gets one closed drill incident (idempotently), so `make run` shows the whole flow."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from service.incidents.models import Bulletin, Incident
from service.ops.demo import seed_demo
from tenants import journal, training


async def test_demo_has_one_closed_drill(db: Any) -> None:
    creds = await seed_demo(db, {})
    await seed_demo(db, creds)
    async with db.transaction(creds["tenant_id"]) as session:
        incidents = (await session.scalars(select(Incident))).all()
        assert len(incidents) == 1
        incident = incidents[0]
        assert incident.drill and incident.state == "closed" and incident.summary
        types = set(
            (
                await session.scalars(
                    select(journal.JournalEvent.type).where(journal.JournalEvent.incident_id == incident.id)
                )
            ).all()
        )
        assert {
            "incident.reported",
            "task.completed",
            "logistics.fulfilled",
            "bulletin.published",
            "incident.closed",
        } <= types
        [bulletin] = (await session.scalars(select(Bulletin).where(Bulletin.incident_id == incident.id))).all()
        assert bulletin.state == "published" and bulletin.approved_by != bulletin.drafted_by  # four eyes
        drills = await session.scalar(
            select(func.count()).select_from(training.TrainingSession).where(training.TrainingSession.kind == "drill")
        )
        assert drills == 1
