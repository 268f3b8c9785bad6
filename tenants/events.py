"""The catalogue of journal event types: the contract between the domains that write the journal and its
consumers (analytics, webhooks, integrators).

``journal.record`` refuses a type that is not listed here and payload keys the type does not declare, so the
catalogue is always complete and a payload can never grow a personal field unnoticed. Subject ids travel as
real columns (``petition_id``, ``incident_id``, ``org_unit_id``, ``subject_id``, ``actor_id``), not in payloads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    description: str
    payload: frozenset[str] = frozenset()


def _e(description: str, *payload: str) -> EventType:
    return EventType(description, frozenset(payload))


EVENTS: dict[str, EventType] = {
    # Platform and identity (subject_id: the tenant, account or key).
    "tenant.created": _e("a university was onboarded", "slug"),
    "tenant.provisioned": _e("a university's onboarding was finished by the background job"),
    "tenant.suspended": _e("a university was suspended"),
    "tenant.reactivated": _e("a university was reactivated"),
    "account.created": _e("an account was created", "role"),
    "account.updated": _e("an account's role, name or activity changed", "changed"),
    "account.sessions_revoked": _e("every refresh token of an account was revoked"),
    "api_key.created": _e("an integrator API key was created", "scopes"),
    "api_key.revoked": _e("an integrator API key was revoked"),
    # Webhooks (subject_id: the subscription). URLs and descriptions stay out: a URL may carry a token.
    "webhook.subscription_created": _e("a webhook subscription was created", "event_types"),
    "webhook.subscription_updated": _e("a webhook subscription was changed", "changed", "enabled"),
    "webhook.secret_rotated": _e("a subscription's signing secret was rotated", "overlap_seconds"),
    "webhook.ping": _e("a test delivery was requested for one subscription"),
    "webhook.endpoint_disabled": _e("an endpoint was disabled (gone, or failing for too long)", "reason"),
    "webhook.redelivery_requested": _e("failed or chosen deliveries were queued again", "count"),
}


def describe(event_type: str) -> EventType:
    """The catalogue entry of ``event_type``; ``KeyError`` names unknown types."""
    try:
        return EVENTS[event_type]
    except KeyError:
        raise KeyError(f"unknown journal event type {event_type!r}: add it to tenants/events.py") from None
