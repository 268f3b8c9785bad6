"""The journal relay: turns committed journal events into Dramatiq messages, at least once.

Handlers register per event-type pattern (``fnmatch`` syntax: ``tenant.created``, ``petition.*``) and map one
event to the messages it causes; they do no I/O. ``relay_once`` reads the next batch from the platform-path
function ``journal_feed`` (events of every tenant, in commit-safe order), enqueues the messages, and advances
the cursor in the same transaction that locked it. A crash between enqueue and commit re-sends the batch, so
every consumer is idempotent.
"""

from __future__ import annotations

import asyncio
import fnmatch
import uuid
from collections.abc import Callable
from datetime import datetime
from typing import Any

import msgspec
from dramatiq import Message
from sqlalchemy import text

from analytics.runtime.broker import ensure_broker
from tenants.db import Database


class FeedEvent(msgspec.Struct, frozen=True):
    tenant_id: uuid.UUID
    id: uuid.UUID
    txid: int
    seq: int
    occurred_at: datetime
    type: str
    actor_id: uuid.UUID | None
    petition_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    org_unit_id: uuid.UUID | None
    subject_id: uuid.UUID | None
    payload: dict[str, Any]


Handler = Callable[[FeedEvent], list[Message[Any]]]
BatchHandler = Callable[[list[FeedEvent]], list[Message[Any]]]
_handlers: list[tuple[str, Handler]] = []
_batch_handlers: list[BatchHandler] = []
CURSOR = "relay"


def on(pattern: str) -> Callable[[Handler], Handler]:
    """Register ``handler`` for events whose type matches ``pattern``."""

    def register(handler: Handler) -> Handler:
        _handlers.append((pattern, handler))
        return handler

    return register


def on_batch(handler: BatchHandler) -> BatchHandler:
    """Register ``handler`` for every batch of events (for consumers of many events, e.g. webhooks, that would
    otherwise cost one message per event)."""
    _batch_handlers.append(handler)
    return handler


def messages_for(event: FeedEvent) -> list[Message[Any]]:
    return [m for pattern, handler in _handlers if fnmatch.fnmatchcase(event.type, pattern) for m in handler(event)]


def messages_for_batch(events: list[FeedEvent]) -> list[Message[Any]]:
    """The messages of a batch: each event's, then the batch handlers'."""
    return [m for e in events for m in messages_for(e)] + [m for h in _batch_handlers for m in h(events)]


async def relay_once(db: Database, *, batch: int = 500) -> int:
    """Relay one batch; returns how many events were read."""
    async with db.sessionmaker() as session, session.begin():
        await session.execute(
            text("insert into journal_cursors (name, txid, seq) values (:n, 0, 0) on conflict do nothing"),
            {"n": CURSOR},
        )
        cursor = (
            await session.execute(
                text("select txid, seq from journal_cursors where name = :n for update"), {"n": CURSOR}
            )
        ).one()
        rows = (
            (
                await session.execute(
                    text("select * from journal_feed(:txid, :seq, :lim)"),
                    {"txid": cursor.txid, "seq": cursor.seq, "lim": batch},
                )
            )
            .mappings()
            .all()
        )
        if not rows:
            return 0
        events = [msgspec.convert(dict(r), FeedEvent) for r in rows]
        messages = messages_for_batch(events)
        if messages:
            await asyncio.to_thread(_enqueue_all, messages)
        last = events[-1]
        await session.execute(
            text("update journal_cursors set txid = :t, seq = :s, updated_at = now() where name = :n"),
            {"t": last.txid, "s": last.seq, "n": CURSOR},
        )
        return len(events)


def _enqueue_all(messages: list[Message[Any]]) -> None:
    broker = ensure_broker()
    for message in messages:
        broker.enqueue(message)
