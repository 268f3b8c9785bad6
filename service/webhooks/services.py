"""Webhook subscriptions and the delivery log: the business rules behind the controllers."""

from __future__ import annotations

import re
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.webhooks import signing, ssrf
from service.webhooks.models import Attempt, Delivery, Subscription
from tenants import journal, paging
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid, NotFound
from tenants.events import EVENTS
from tenants.settings import Settings

# "*", "<domain>.*" or an exact catalogued type.
_WILDCARD = re.compile(r"^(\*|[a-z][a-z0-9_]*\.\*)$")
MAX_OVERLAP = 7 * 24 * 3600


def pattern_errors(patterns: list[str]) -> list[dict[str, Any]]:
    errors = []
    for i, pattern in enumerate(patterns):
        if not (_WILDCARD.match(pattern) or pattern in EVENTS):
            errors.append(
                {
                    "field": f"event_types[{i}]",
                    "message": f"{pattern!r} is neither a known event type nor a pattern like 'petition.*' or '*'",
                }
            )
    if not patterns:
        errors.append({"field": "event_types", "message": "at least one event type or pattern"})
    return errors


async def url_errors(url: str, settings: Settings) -> list[dict[str, Any]]:
    try:
        await ssrf.check_url(url, allow_loopback=settings.webhook_allow_loopback, limit=settings.webhook_timeout)
    except ssrf.Refused as exc:
        return [{"field": "url", "message": str(exc)}]
    return []


async def create_subscription(
    session: AsyncSession,
    settings: Settings,
    *,
    url: str,
    event_types: list[str],
    description: str | None,
    enabled: bool,
    actor_id: uuid.UUID | None,
) -> tuple[Subscription, str]:
    """Create a subscription; returns it and its signing secret (shown once)."""
    errors = await url_errors(url, settings) + pattern_errors(event_types)
    if errors:
        raise Invalid("the subscription cannot be created", errors=errors)
    secret = signing.generate_secret()
    subscription = Subscription(
        url=url,
        event_types=list(dict.fromkeys(event_types)),
        description=description,
        enabled=enabled,
        secret=secret,
        created_by=actor_id,
    )
    session.add(subscription)
    await session.flush()
    await journal.record(
        session,
        "webhook.subscription_created",
        actor_id=actor_id,
        subject_id=subscription.id,
        event_types=subscription.event_types,
    )
    return subscription, secret


async def get_subscription(session: AsyncSession, subscription_id: uuid.UUID, *, lock: bool = False) -> Subscription:
    query = select(Subscription).where(Subscription.id == subscription_id)
    subscription = await session.scalar(query.with_for_update() if lock else query)
    if subscription is None:
        raise NotFound("no such webhook subscription")
    return subscription


async def list_subscriptions(
    session: AsyncSession, *, cursor: uuid.UUID | None, limit: int
) -> tuple[list[Subscription], uuid.UUID | None]:
    return await paging.keyset(session, select(Subscription), Subscription.id, after=cursor, limit=limit)


async def update_subscription(
    session: AsyncSession,
    settings: Settings,
    subscription_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None,
    url: str | None = None,
    event_types: list[str] | None = None,
    description: str | None = None,
    enabled: bool | None = None,
) -> Subscription:
    """Change a subscription; enabling it again clears an automatic disabling and its failure run."""
    subscription = await get_subscription(session, subscription_id, lock=True)
    errors = (await url_errors(url, settings) if url is not None else []) + (
        pattern_errors(event_types) if event_types is not None else []
    )
    if errors:
        raise Invalid("the subscription cannot be changed", errors=errors)
    changed = []
    if url is not None and url != subscription.url:
        subscription.url = url
        changed.append("url")
    if event_types is not None:
        subscription.event_types = list(dict.fromkeys(event_types))
        changed.append("event_types")
    if description is not None:
        subscription.description = description
        changed.append("description")
    if enabled is not None and enabled != subscription.enabled:
        subscription.enabled = enabled
        if enabled:
            subscription.disabled_reason = None
            subscription.disabled_at = None
            subscription.failing_since = None
        else:
            subscription.disabled_at = utcnow()
        changed.append("enabled")
    if changed:
        subscription.updated_at = utcnow()
        await journal.record(
            session,
            "webhook.subscription_updated",
            actor_id=actor_id,
            subject_id=subscription.id,
            changed=changed,
            enabled=subscription.enabled,
        )
    return subscription


async def rotate_secret(
    session: AsyncSession, subscription_id: uuid.UUID, *, overlap_seconds: int, actor_id: uuid.UUID | None
) -> tuple[Subscription, str]:
    """A new secret; the old one keeps signing (a second signature) for ``overlap_seconds``."""
    if not 0 <= overlap_seconds <= MAX_OVERLAP:
        raise Invalid(
            "overlap out of range",
            errors=[{"field": "overlap_seconds", "message": f"between 0 and {MAX_OVERLAP}"}],
        )
    subscription = await get_subscription(session, subscription_id, lock=True)
    secret = signing.generate_secret()
    subscription.previous_secret = subscription.secret if overlap_seconds else None
    subscription.previous_secret_expires_at = utcnow() + timedelta(seconds=overlap_seconds) if overlap_seconds else None
    subscription.secret = secret
    subscription.updated_at = utcnow()
    await journal.record(
        session,
        "webhook.secret_rotated",
        actor_id=actor_id,
        subject_id=subscription.id,
        overlap_seconds=overlap_seconds,
    )
    return subscription, secret


async def ping(session: AsyncSession, subscription_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> uuid.UUID:
    """Journal a ``webhook.ping`` for this subscription only; the relay delivers it like any event."""
    subscription = await get_subscription(session, subscription_id)
    if not subscription.enabled:
        raise Conflict("the subscription is disabled; enable it first", code="webhook-disabled")
    event = await journal.record(session, "webhook.ping", actor_id=actor_id, subject_id=subscription.id)
    await session.flush()
    return event.id


# --- the delivery log -----------------------------------------------------------------------------------------


async def list_deliveries(
    session: AsyncSession,
    *,
    subscription_id: uuid.UUID | None = None,
    event_id: uuid.UUID | None = None,
    event_type: str | None = None,
    status: str | None = None,
    since: datetime | None = None,
    cursor: uuid.UUID | None = None,
    limit: int = 50,
) -> tuple[list[Delivery], uuid.UUID | None]:
    """Deliveries newest first, filtered per subscription, event, type, status and creation time."""
    if subscription_id is not None:
        await get_subscription(session, subscription_id)
    query: Select[tuple[Delivery]] = select(Delivery)
    for column, value in (
        (Delivery.subscription_id, subscription_id),
        (Delivery.event_id, event_id),
        (Delivery.event_type, event_type),
        (Delivery.status, status),
    ):
        if value is not None:
            query = query.where(column == value)
    if since is not None:
        query = query.where(Delivery.created_at >= since)
    return await paging.keyset(session, query, Delivery.id, after=cursor, limit=limit, newest_first=True)


async def get_delivery(session: AsyncSession, delivery_id: uuid.UUID) -> tuple[Delivery, list[Attempt]]:
    found = await session.scalar(select(Delivery).where(Delivery.id == delivery_id))
    if found is None:
        raise NotFound("no such delivery")
    attempts = await session.scalars(
        select(Attempt).where(Attempt.delivery_id == delivery_id).order_by(Attempt.attempted_at, Attempt.id)
    )
    return found, list(attempts)


async def redeliver(session: AsyncSession, delivery_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> Delivery:
    """Queue one finished delivery again (a new series of retries)."""
    found = await session.scalar(select(Delivery).where(Delivery.id == delivery_id).with_for_update())
    if found is None:
        raise NotFound("no such delivery")
    if found.status == "pending":
        raise Conflict("the delivery is already pending", code="delivery-pending")
    subscription = await get_subscription(session, found.subscription_id)
    if not subscription.enabled:
        raise Conflict("the subscription is disabled; enable it first", code="webhook-disabled")
    await _requeue(session, Delivery.id == delivery_id)
    await journal.record(
        session, "webhook.redelivery_requested", actor_id=actor_id, subject_id=subscription.id, count=1
    )
    await session.refresh(found)
    return found


async def redeliver_failed(
    session: AsyncSession, subscription_id: uuid.UUID, *, since: datetime, actor_id: uuid.UUID | None
) -> int:
    """Queue again every failed delivery of a subscription created since ``since``; returns how many."""
    subscription = await get_subscription(session, subscription_id, lock=True)
    if not subscription.enabled:
        raise Conflict("the subscription is disabled; enable it first", code="webhook-disabled")
    count = await _requeue(
        session,
        Delivery.subscription_id == subscription_id,
        Delivery.status == "failed",
        Delivery.created_at >= since,
    )
    if count:
        await journal.record(
            session, "webhook.redelivery_requested", actor_id=actor_id, subject_id=subscription.id, count=count
        )
    return count


async def _requeue(session: AsyncSession, *where: Any) -> int:
    result = await session.execute(
        update(Delivery)
        .where(*where)
        .values(status="pending", step=0, next_attempt_at=func.now(), locked_until=None, completed_at=None)
        .returning(Delivery.id)
    )
    return len(result.all())
