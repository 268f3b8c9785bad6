"""The readiness jobs' scheduling: one sweep a day (UTC), one check per university after a publication."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone

from analytics.runtime import relay
from analytics.runtime.scheduler import _periodic
from service.plans import jobs as readiness


def test_daily_period_key_is_the_utc_date() -> None:
    shanghai = timezone(timedelta(hours=8))
    assert readiness.daily(datetime(2026, 11, 29, 7, 59, tzinfo=shanghai)) == "2026-11-28"
    assert readiness.daily(datetime(2026, 11, 29, 8, 0, tzinfo=shanghai)) == "2026-11-29"


def test_the_sweep_is_registered_as_a_periodic_job() -> None:
    job = next(p for p in _periodic if p.name == "plans.readiness")
    assert job.period_key(datetime(2026, 11, 29, 23, 0, tzinfo=UTC)) == "2026-11-29"
    [message] = job.messages("2026-11-29")
    assert message.actor_name == "readiness_sweep" and message.args == ("2026-11-29",)


def test_a_publication_triggers_the_check_of_its_university() -> None:
    tenant_id = uuid.uuid4()
    event = relay.FeedEvent(
        tenant_id=tenant_id,
        id=uuid.uuid4(),
        txid=1,
        seq=1,
        occurred_at=datetime.now(UTC),
        type="plan.published",
        actor_id=None,
        petition_id=None,
        incident_id=None,
        org_unit_id=None,
        subject_id=uuid.uuid4(),
        payload={"number": 1, "supersedes_id": None},
    )
    [message] = relay.messages_for(event)
    assert message.actor_name == "check_readiness" and message.args == (str(tenant_id),)
