from __future__ import annotations

import uuid

from sqlalchemy import select

from tenants.journal import JournalEvent
from tests.support.webhooks import subscribe

BASE = "/api/v1/webhooks"


async def test_create_shows_secret_once_and_journals(client, tenant, db, receiver):
    body = await subscribe(client, tenant.headers, receiver.url, ["account.*", "webhook.ping"])
    assert body["secret"].startswith("whsec_")
    sid = body["subscription"]["id"]
    shown = await client.get(f"{BASE}/subscriptions/{sid}", headers=tenant.headers)
    assert shown.status_code == 200
    assert "secret" not in shown.json() and body["secret"] not in shown.text
    listed = await client.get(f"{BASE}/subscriptions", headers=tenant.headers)
    assert [s["id"] for s in listed.json()["items"]] == [sid]
    async with db.transaction(tenant.id) as session:
        types = (
            await session.scalars(select(JournalEvent.type).where(JournalEvent.subject_id == uuid.UUID(sid)))
        ).all()
    assert types == ["webhook.subscription_created"]
