"""Webhook subscriptions and what the relay and the delivery worker do, run in-process."""

from __future__ import annotations

import uuid
from typing import Any


async def subscribe(client: Any, headers: dict[str, str], url: str, types: list[str] | None = None) -> dict[str, Any]:
    r = await client.post(
        "/api/v1/webhooks/subscriptions", json={"url": url, "event_types": types or ["*"]}, headers=headers
    )
    assert r.status_code == 201, r.text
    return dict(r.json())


def feed_event(event: Any) -> Any:
    """The relay's view of a journal row."""
    from analytics.runtime import relay
    from service.webhooks import jobs  # noqa: F401  (registers the relay handlers)

    fields = {name: getattr(event, name) for name in relay.FeedEvent.__struct_fields__}
    return relay.FeedEvent(**fields)


async def drive(db: Any, settings: Any, tenant_id: uuid.UUID, event_id: uuid.UUID) -> list[Any]:
    """What the worker does for one event, in-process: fan out, then every retry until none is left."""
    from service.webhooks import dispatch

    retries = await dispatch.fan_out(db, settings, tenant_id, [event_id])
    sent = list(retries)
    while retries:
        retries = [
            r
            for retry in retries
            for r in await dispatch.deliver(db, settings, retry.tenant_id, retry.delivery_id, retry.token)
        ]
        sent += retries
    return sent
