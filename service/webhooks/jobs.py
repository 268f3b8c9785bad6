"""Webhook actors and their relay and schedule hooks. Actors take ids and are idempotent (see ``dispatch``)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime

import dramatiq

from analytics.runtime import relay
from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from analytics.runtime.scheduler import periodic
from service.webhooks import dispatch
from tenants.settings import get_settings

ensure_broker()

QUEUE = "webhooks"
# Events per fan_out message: a whole relay batch (it reads 500 at a time), so the SQL and the message are
# amortized over many deliveries (500 rather than 100 raised the benchmark's full path from about 780 to 930/s).
# A worker thread is held for about half a second at a responsive endpoint; a slow one is handed off after
# HANDOFF_SECONDS (see ``dispatch._run``), so it cannot hold the thread longer.
BATCH = 500
_OPTIONS = {"queue_name": QUEUE, "max_retries": 20, "min_backoff": 1000, "max_backoff": 60_000}


@dramatiq.actor(**_OPTIONS)
async def fan_out(tenant_id: str, event_ids: list[str]) -> None:
    """Create the deliveries of a batch of one tenant's committed events and make their first attempts."""
    ids = [uuid.UUID(e) for e in event_ids]
    await _send(await dispatch.fan_out(database(), get_settings(), uuid.UUID(tenant_id), ids))


@dramatiq.actor(**_OPTIONS)
async def deliver(tenant_id: str, delivery_id: str, token: int) -> None:
    """One further attempt of a delivery (a retry, a deferral, a redelivery or a sweep)."""
    retries = await dispatch.deliver(database(), get_settings(), uuid.UUID(tenant_id), uuid.UUID(delivery_id), token)
    await _send(retries)


@dramatiq.actor(**_OPTIONS)
async def resume(tenant_id: str, subscription_id: str) -> None:
    """Send the deliveries a manual redelivery made due."""
    await _send(await dispatch.resume(database(), uuid.UUID(tenant_id), uuid.UUID(subscription_id)))


@dramatiq.actor(**_OPTIONS)
async def sweep() -> None:
    """Re-send overdue deliveries whose message went down with a crashed worker."""
    await _send(await dispatch.sweep(database()))


async def _send(retries: list[dispatch.Retry]) -> None:
    """Send after the state is committed; if sending fails the actor fails and its own message is retried."""
    if not retries:
        return
    messages = [(deliver.message(str(r.tenant_id), str(r.delivery_id), r.token), int(r.delay * 1000)) for r in retries]
    broker = ensure_broker()
    await asyncio.to_thread(lambda: [broker.enqueue(m, delay=d or None) for m, d in messages])


dispatch.late_sender = _send


@relay.on_batch
def _every_event(events: list[relay.FeedEvent]) -> list[dramatiq.Message[object]]:
    """One ``fan_out`` per tenant and up to BATCH events of a relay batch (the relay reads 500 at a time)."""
    by_tenant: dict[uuid.UUID, list[str]] = {}
    for event in events:
        by_tenant.setdefault(event.tenant_id, []).append(str(event.id))
    return [
        fan_out.message(str(tenant_id), ids[i : i + BATCH])
        for tenant_id, ids in by_tenant.items()
        for i in range(0, len(ids), BATCH)
    ]


@relay.on("webhook.redelivery_requested")
def _redelivery(event: relay.FeedEvent) -> list[dramatiq.Message[object]]:
    return [resume.message(str(event.tenant_id), str(event.subject_id))]


def minutely(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M")


@periodic("webhooks.sweep", minutely)
def _sweep(period: str) -> list[dramatiq.Message[object]]:
    return [sweep.message()]
