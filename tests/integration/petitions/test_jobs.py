from datetime import timedelta

from service.petitions.jobs import scan_tenant
from service.petitions.workflow import State
from tests.support.casework import drive, petition_body
from tests.support.journal import journal_of


async def test_reminders_overdue_and_followup_are_journaled_once(client, uni, db):
    received = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    pid = received.json()["id"]
    accept_due = received.json()["accept_due"]
    from datetime import datetime

    due = datetime.fromisoformat(accept_due)
    assert await scan_tenant(db, uni.tenant.id, due - timedelta(days=5)) == 0
    assert await scan_tenant(db, uni.tenant.id, due - timedelta(hours=30)) == 1
    assert await scan_tenant(db, uni.tenant.id, due - timedelta(hours=29)) == 0  # never the same reminder twice
    assert await scan_tenant(db, uni.tenant.id, due - timedelta(hours=2)) == 1
    assert await scan_tenant(db, uni.tenant.id, due + timedelta(minutes=1)) >= 1
    assert await scan_tenant(db, uni.tenant.id, due + timedelta(minutes=20)) == 0
    events = [(e["type"], e["payload"]) for e in await journal_of(client, uni, pid)]
    assert events[1:] == [
        ("petition.deadline_reminder", {"deadline": "accept", "hours": 72}),
        ("petition.deadline_reminder", {"deadline": "accept", "hours": 24}),
        ("petition.overdue", {"deadline": "accept"}),
    ]
    listing = await client.get("/api/v1/petitions", params={"overdue": "false"}, headers=uni.officer)
    assert pid in [p["id"] for p in listing.json()["items"]]

    replied, _ = await drive(client, uni, State.replied)
    detail = (await client.get(f"/api/v1/petitions/{replied}", headers=uni.officer)).json()
    at = datetime.fromisoformat(detail["replied_at"]) + timedelta(days=28, minutes=1)
    await scan_tenant(db, uni.tenant.id, at)
    await scan_tenant(db, uni.tenant.id, at + timedelta(hours=1))
    followups = [e for e in await journal_of(client, uni, replied) if e["type"] == "petition.followup_due"]
    assert [e["payload"] for e in followups] == [{"stage": "reply", "days": 28}]


def test_scan_is_registered_with_the_scheduler():
    from analytics.runtime.scheduler import _periodic
    from service.ops import jobs  # noqa: F401  (what the scheduler imports)

    job = next(p for p in _periodic if p.name == "petitions.scan")
    [message] = job.messages("2026-11-29T03:1")
    assert message.actor_name == "scan_petitions"
