"""How the relay hands the journal to webhooks: one fan_out per tenant and up to BATCH events of a batch."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from analytics.runtime import relay


@pytest.fixture
def jobs(settings: Any) -> Any:
    """The webhook jobs, imported once the session's settings exist (importing installs the broker)."""
    from service.webhooks import jobs

    return jobs


def _event(tenant_id: uuid.UUID, seq: int, event_type: str = "account.created") -> relay.FeedEvent:
    return relay.FeedEvent(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        txid=1,
        seq=seq,
        occurred_at=datetime.now(UTC),
        type=event_type,
        actor_id=None,
        petition_id=None,
        incident_id=None,
        org_unit_id=None,
        subject_id=uuid.uuid4(),
        payload={},
    )


def test_every_event_reaches_exactly_one_fan_out_message(jobs):
    a, b = uuid.uuid4(), uuid.uuid4()
    events = [_event(a if i % 5 else b, i) for i in range(2 * jobs.BATCH + 30)]
    messages = [m for m in relay.messages_for_batch(events) if m.actor_name == "fan_out"]
    carried = [(uuid.UUID(m.args[0]), event_id) for m in messages for event_id in m.args[1]]
    assert sorted(carried) == sorted((e.tenant_id, str(e.id)) for e in events)
    assert all(len(m.args[1]) <= jobs.BATCH for m in messages)
    assert len(messages) == 3  # tenant a: 184 events in 2 messages, tenant b: 46 in 1
    assert {m.queue_name for m in messages} == {jobs.QUEUE}


def test_redelivery_requests_resume_their_subscription(jobs):
    tenant = uuid.uuid4()
    event = _event(tenant, 1, "webhook.redelivery_requested")
    [resume] = [m for m in relay.messages_for_batch([event]) if m.actor_name == "resume"]
    assert resume.args == (str(tenant), str(event.subject_id))


def test_the_sweeper_runs_every_minute(jobs):
    from analytics.runtime.scheduler import _periodic

    [sweep] = [p for p in _periodic if p.name == "webhooks.sweep"]
    assert sweep.period_key(datetime(2026, 11, 29, 8, 1, 59, tzinfo=UTC)) != sweep.period_key(
        datetime(2026, 11, 29, 8, 2, 0, tzinfo=UTC)
    )
    assert [m.actor_name for m in sweep.messages("2026-11-29T08:02")] == ["sweep"]
