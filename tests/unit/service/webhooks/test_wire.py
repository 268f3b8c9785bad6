"""The webhook body over every event type of the catalogue, retry timing, Retry-After."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from email.utils import format_datetime

import pytest

from service.webhooks import dispatch
from service.webhooks.delivery import Outcome, parse_retry_after
from service.webhooks.models import Subscription
from tenants.events import EVENTS
from tenants.journal import PERSONAL_KEYS, JournalEvent
from tenants.settings import SettingsError, load_settings

DATA_KEYS = {
    "tenant_id",
    "tenant_slug",
    "event_id",
    "event_type",
    "occurred_at",
    "actor_id",
    "petition_id",
    "incident_id",
    "org_unit_id",
    "subject_id",
    "payload",
}


def _keys(value: object) -> set[str]:
    if isinstance(value, dict):
        return {k.lower() for k in value} | {k for v in value.values() for k in _keys(v)}
    if isinstance(value, list):
        return {k for v in value for k in _keys(v)}
    return set()


@pytest.mark.parametrize("event_type", sorted(EVENTS))
def test_body_of_every_event_type_carries_ids_and_catalogued_fields_only(event_type):
    declared = EVENTS[event_type].payload
    event = JournalEvent(
        tenant_id=uuid.uuid4(),
        id=uuid.uuid4(),
        occurred_at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC),
        type=event_type,
        actor_id=uuid.uuid4(),
        subject_id=uuid.uuid4(),
        payload={key: "x" for key in declared},
    )
    body = json.loads(dispatch.body(event, "demo-u"))
    assert set(body) == {"type", "timestamp", "data"}
    assert body["type"] == event_type
    assert set(body["data"]) == DATA_KEYS
    assert set(body["data"]["payload"]) == set(declared)
    assert not (_keys(body) & PERSONAL_KEYS), "a personal field reached a webhook body"
    assert body["data"]["event_id"] == str(event.id)
    assert body["data"]["tenant_slug"] == "demo-u"


def _settings(**extra: str) -> object:
    return load_settings({"XINFANG_DATABASE_URL": "postgresql://x@h/db", **extra})


def test_retry_delays_are_jittered_and_exhaust():
    settings = _settings(XINFANG_WEBHOOK_RETRY_SCHEDULE="5,300,1800")
    failure = Outcome(False, 1, status_code=500)
    for _ in range(50):
        assert 4.5 <= dispatch.retry_delay(settings, 0, failure) <= 5.5
        assert 270 <= dispatch.retry_delay(settings, 1, failure) <= 330
    assert dispatch.retry_delay(settings, 3, failure) is None


def test_default_schedule_spans_about_a_day():
    settings = _settings()
    delays = settings.webhook_retry_delays
    assert len(delays) == 7
    assert 20 * 3600 <= sum(delays) <= 30 * 3600


def test_retry_after_is_honoured_and_capped():
    settings = _settings(XINFANG_WEBHOOK_RETRY_SCHEDULE="5,300")
    assert dispatch.retry_delay(settings, 0, Outcome(False, 1, status_code=429, retry_after=120)) == 120
    assert dispatch.retry_delay(settings, 0, Outcome(False, 1, status_code=503, retry_after=10**6)) == 300


def test_parse_retry_after():
    assert parse_retry_after("120") == 120
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    now = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
    later = format_datetime(datetime(2026, 11, 29, 8, 1, tzinfo=UTC), usegmt=True)
    assert parse_retry_after(later, now=now.timestamp()) == 60


def test_loopback_allowance_is_refused_in_production():
    with pytest.raises(SettingsError, match="WEBHOOK_ALLOW_LOOPBACK"):
        _settings(
            XINFANG_ENV="production",
            XINFANG_SECRET_KEY="s" * 40,
            XINFANG_DATA_KEY="a2tra2tra2tra2tra2tra2tra2tra2tra2tra2tra2s=",
            XINFANG_WEBHOOK_ALLOW_LOOPBACK="true",
        )
    with pytest.raises(SettingsError, match="RETRY_SCHEDULE"):
        _settings(XINFANG_WEBHOOK_RETRY_SCHEDULE="5,soon")


def test_matching_exact_wildcards_and_pings():
    sub = Subscription(id=uuid.uuid4(), event_types=["account.*", "tenant.created"])
    assert dispatch.matches(sub, "account.created", None)
    assert dispatch.matches(sub, "tenant.created", None)
    assert not dispatch.matches(sub, "tenant.suspended", None)
    everything = Subscription(id=uuid.uuid4(), event_types=["*"])
    assert dispatch.matches(everything, "webhook.endpoint_disabled", None)
    # A ping goes to the subscription it names only, whatever the patterns.
    assert not dispatch.matches(everything, "webhook.ping", sub.id)
    assert dispatch.matches(sub, "webhook.ping", sub.id)
