"""Reporting notifies through the journal: an integrator subscribed to `incident.*` receives `incident.reported`
with the incident id and the contract's payload, and no free text or names."""

from __future__ import annotations

import json
import uuid
from typing import Any

from sqlalchemy import select

from tenants.journal import JournalEvent
from tests.support.emergency import Driver, University
from tests.support.webhooks import drive, subscribe


async def test_incident_reported_reaches_a_subscribed_integrator(
    client: Any,
    db: Any,
    uni: University,
    fast_settings: Any,
    receiver: Any,
) -> None:
    await subscribe(client, uni.headers["admin"], receiver.url, ["incident.*"])
    d = Driver(client, uni)
    await d.report(facts="学生张小明（电话13700000000）带头聚集。")
    async with db.transaction(uni.tenant.id) as session:
        event_id = await session.scalar(
            select(JournalEvent.id).where(
                JournalEvent.type == "incident.reported", JournalEvent.incident_id == uuid.UUID(d.id)
            )
        )
    await drive(db, fast_settings, uni.tenant.id, event_id)
    assert len(receiver.received) == 1
    body = json.loads(receiver.received[0].body)
    assert body["type"] == "incident.reported" and body["data"]["incident_id"] == d.id
    assert body["data"]["payload"]["source"] == "staff" and body["data"]["payload"]["drill"] is False
    assert (
        "张小明" not in receiver.received[0].body.decode() and "13700000000" not in receiver.received[0].body.decode()
    )
