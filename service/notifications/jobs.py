"""Notification actors and their relay hooks: a relay handler enqueues, an actor delivers (idempotent: see
``dispatch``). The workflow action that journaled the event has committed by then, whatever happens here."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC

import dramatiq

from analytics.runtime import relay
from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from analytics.runtime.scheduler import periodic
from service.notifications import dispatch
from service.notifications.models import KIND_OF
from tenants.settings import get_settings

ensure_broker()

QUEUE = "notifications"
_OPTIONS = {"queue_name": QUEUE, "max_retries": 10, "min_backoff": 1000, "max_backoff": 60_000}


@dramatiq.actor(actor_name="notification_handle", **_OPTIONS)
async def notify(tenant_id: str, event_id: str) -> None:
    """The rows one event causes, and their first attempts."""
    await _send(await dispatch.handle(database(), get_settings(), uuid.UUID(tenant_id), uuid.UUID(event_id)))


@dramatiq.actor(actor_name="notification_deliver", **_OPTIONS)
async def deliver(tenant_id: str, delivery_id: str, token: int) -> None:
    """A further attempt of one delivery (a retry after back-off)."""
    retries = await dispatch.deliver(database(), get_settings(), uuid.UUID(tenant_id), uuid.UUID(delivery_id), token)
    await _send(retries)


@dramatiq.actor(actor_name="notification_sweep", **_OPTIONS)
async def sweep() -> None:
    """Re-send overdue deliveries whose message was lost (every minute)."""
    await _send(await dispatch.sweep(database()))


async def _send(retries: list[dispatch.Retry]) -> None:
    if not retries:
        return
    messages = [(deliver.message(str(r.tenant_id), str(r.delivery_id), r.token), int(r.delay * 1000)) for r in retries]
    broker = ensure_broker()
    await asyncio.to_thread(lambda: [broker.enqueue(m, delay=d or None) for m, d in messages])


def _event(event: relay.FeedEvent) -> list[dramatiq.Message[object]]:
    return [notify.message(str(event.tenant_id), str(event.id))]


for _type in ("notice.issued", *KIND_OF):
    relay.on(_type)(_event)


@periodic("notifications.sweep", lambda now: now.astimezone(UTC).strftime("%Y-%m-%dT%H:%M"))
def _sweep(period: str) -> list[dramatiq.Message[object]]:
    return [sweep.message()]
