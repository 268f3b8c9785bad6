"""Forecast jobs: once a day the sweep fans a refresh out to every active university; a refresh recomputes the
forecasts of the quarter after the university's last complete month (idempotent: it replaces the same rows),
so a new month's history is in within a day of the month's end."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import dramatiq
from dramatiq import Message

from analytics.forecasts import store
from analytics.runtime import fanout, retry
from analytics.runtime.broker import ensure_broker
from analytics.runtime.resources import database
from analytics.runtime.scheduler import periodic

ensure_broker()


def daily(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%d")


@dramatiq.actor(**retry.PERIODIC)
async def refresh_forecasts(tenant_id: str) -> None:
    await store.refresh(database(), uuid.UUID(tenant_id))


@dramatiq.actor(**retry.PERIODIC)
async def forecasts_sweep(period_key: str) -> None:
    await fanout.enqueue_each(refresh_forecasts)


@periodic("forecasts.refresh", daily)
def _daily(period_key: str) -> list[Message[Any]]:
    return [forecasts_sweep.message(period_key)]
