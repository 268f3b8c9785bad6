"""Delivery engine: from a committed journal event to signed POSTs, retries, and the delivery log.

The journal is the source of truth and the delivery rows are the state, so a message may always be lost or
duplicated without harm:

- ``fan_out(tenant, events)`` (one message per tenant and relay batch of up to ``BATCH`` committed events)
  creates one delivery row per matching subscription and event, idempotently (unique per subscription and
  event), leases the due ones and makes their first attempts at once, concurrently. Batching and making the
  first attempt here rather than in a message per delivery keep the broker traffic and the SQL per event small
  (set-based statements for a whole batch) and the delay of the common case short; retries go through
  ``deliver`` messages, one per delivery.
- ``deliver(tenant, delivery, token)`` makes one further attempt. ``token`` is the number of attempts when the
  message was sent: a duplicate or stale message finds a different count (or a lease) and does nothing.
- A lease (``locked_until``) keeps two workers from attempting one delivery at once; a crashed worker's lease
  expires and ``sweep`` (every minute) re-sends whatever is overdue. Nothing depends on a message surviving.

Every function returns the retries to schedule; the actor sends them after the state is committed.
"""

from __future__ import annotations

import asyncio
import fnmatch
import random
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import msgspec
import structlog
from sqlalchemy import and_, func, or_, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.elements import ColumnElement

from service.webhooks import delivery
from service.webhooks.delivery import Outcome
from service.webhooks.models import Attempt, Delivery, Subscription
from tenants import journal
from tenants.clock import utcnow
from tenants.db import Database, require_tenant
from tenants.ids import new_id
from tenants.journal import JournalEvent
from tenants.settings import Settings
from tenants.tenancy import Tenant

DEFER_SECONDS = 1.0
PING = "webhook.ping"
log = structlog.get_logger("xinfang.webhooks")


@dataclass(frozen=True)
class Retry:
    """A ``deliver`` message to send: ``delay`` seconds from now, carrying the attempt count ``token``."""

    tenant_id: uuid.UUID
    delivery_id: uuid.UUID
    token: int
    delay: float


@dataclass(frozen=True)
class _Leased:
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    attempts: int
    step: int


# --- the wire format ------------------------------------------------------------------------------------------


def matches(subscription: Subscription, event_type: str, subject_id: uuid.UUID | None) -> bool:
    """Whether an event goes to a subscription; a ping goes only to the subscription it names."""
    if event_type == PING:
        return subscription.id == subject_id
    return any(fnmatch.fnmatchcase(event_type, pattern) for pattern in subscription.event_types)


def body(event: Any, tenant_slug: str) -> bytes:
    """The JSON body of a journal event (row): ``{type, timestamp, data}``; ``data`` holds ids and the event's
    catalogued payload only.

    The journal never holds personal data (``journal.record`` refuses it), and nothing else is added here.
    """
    return msgspec.json.encode(
        {
            "type": event.type,
            "timestamp": event.occurred_at,
            "data": {
                "tenant_id": event.tenant_id,
                "tenant_slug": tenant_slug,
                "event_id": event.id,
                "event_type": event.type,
                "occurred_at": event.occurred_at,
                "actor_id": event.actor_id,
                "petition_id": event.petition_id,
                "incident_id": event.incident_id,
                "org_unit_id": event.org_unit_id,
                "subject_id": event.subject_id,
                "payload": event.payload,
            },
        }
    )


def live_secrets(subscription: Subscription) -> list[str]:
    """The current secret, plus the previous one while its rotation overlap lasts."""
    result = [subscription.secret]
    expires = subscription.previous_secret_expires_at
    if subscription.previous_secret and expires is not None and expires > utcnow():
        result.append(subscription.previous_secret)
    return result


def retry_delay(settings: Settings, step: int, outcome: Outcome) -> float | None:
    """Seconds until the next attempt, or None when the schedule is exhausted.

    The schedule's delay is jittered by +/-10% so a receiver coming back is not hit by every retry at once; a
    ``Retry-After`` of a 429/503 replaces it, capped at the schedule's longest delay.
    """
    delays = settings.webhook_retry_delays
    if step >= len(delays):
        return None
    if outcome.retry_after is not None:
        return min(outcome.retry_after, max(delays))
    return delays[step] * random.uniform(0.9, 1.1)


# --- per-endpoint concurrency ---------------------------------------------------------------------------------

# Attempts to a slow endpoint still running after this long are handed off to the background (see ``_run``).
HANDOFF_SECONDS = 2.0
# Set by the jobs module: sends the retries of handed-off attempts.
late_sender: Callable[[list[Retry]], Awaitable[None]] | None = None
_handed_off: set[asyncio.Future[None]] = set()

# An endpoint whose oldest attempt in flight has run this long is slow: further attempts to it are deferred
# (re-sent later as messages) instead of holding a worker thread while they wait for a slot.
SLOW_SECONDS = 1.0


class _Endpoint:
    """The attempts to one endpoint in this process: queued, and made by at most ``limit`` lanes at once.

    A lane is a task that makes one attempt after another while the queue holds any. Handing the connection
    straight to the next attempt in the same task, rather than waking a different waiting task per attempt
    (a semaphore), keeps the cost of an attempt close to that of a plain POST (see ``tests/bench/webhooks.py``).
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.queue: deque[tuple[Callable[[], Awaitable[Outcome]], asyncio.Future[Outcome | None]]] = deque()
        self.lanes: set[asyncio.Task[None]] = set()
        self.started: dict[int, float] = {}

    def slow(self) -> bool:
        return bool(self.started) and time.monotonic() - min(self.started.values()) > SLOW_SECONDS

    def submit(self, make: Callable[[], Awaitable[Outcome]]) -> asyncio.Future[Outcome | None] | None:
        """Queue an attempt; None (defer) when the endpoint is slow. The future gives None if the endpoint
        turned slow while the attempt waited in the queue."""
        if self.slow():
            return None
        future: asyncio.Future[Outcome | None] = asyncio.get_running_loop().create_future()
        self.queue.append((make, future))
        if len(self.lanes) < self.limit:
            lane = asyncio.ensure_future(self._lane())
            self.lanes.add(lane)
            lane.add_done_callback(self.lanes.discard)
        return future

    async def _lane(self) -> None:
        key = id(asyncio.current_task())
        while self.queue:
            make, future = self.queue.popleft()
            if future.done():  # its waiter was cancelled
                continue
            if self.slow():
                future.set_result(None)
                continue
            self.started[key] = time.monotonic()
            try:
                outcome = await make()
            except Exception as exc:
                if not future.done():
                    future.set_exception(exc)
            else:
                if not future.done():
                    future.set_result(outcome)
            finally:
                del self.started[key]


_endpoints: dict[uuid.UUID, _Endpoint] = {}
_slugs: dict[uuid.UUID, str] = {}


async def _attempt(settings: Settings, subscription: Subscription, msg_id: str, payload: bytes) -> Outcome | None:
    """One POST within the endpoint's bound of concurrent attempts; None when deferred (endpoint slow)."""
    endpoint = _endpoints.get(subscription.id)
    if endpoint is None:
        endpoint = _endpoints[subscription.id] = _Endpoint(settings.webhook_endpoint_concurrency)
    queued = endpoint.submit(
        lambda: delivery.post(
            delivery.client_for(settings),
            subscription.url,
            live_secrets(subscription),
            msg_id,
            payload,
            limit=settings.webhook_timeout,
        )
    )
    return None if queued is None else await queued


# --- the engine -----------------------------------------------------------------------------------------------


def _lease_seconds(settings: Settings) -> float:
    return 2 * settings.webhook_timeout + HANDOFF_SECONDS + 10


async def _lease(session: AsyncSession, settings: Settings, where: ColumnElement[bool]) -> list[_Leased]:
    """Take the lease of the due, unleased, pending deliveries matching ``where``."""
    rows = await session.execute(
        update(Delivery)
        .where(
            where,
            Delivery.status == "pending",
            Delivery.next_attempt_at <= func.now() + timedelta(seconds=2),
            or_(Delivery.locked_until.is_(None), Delivery.locked_until < func.now()),
        )
        .values(locked_until=func.now() + timedelta(seconds=_lease_seconds(settings)))
        .returning(Delivery.id, Delivery.subscription_id, Delivery.event_id, Delivery.attempts, Delivery.step)
    )
    return [_Leased(*r) for r in rows]


async def _slug(session: AsyncSession, tenant_id: uuid.UUID) -> str:
    slug = _slugs.get(tenant_id)
    if slug is None:
        slug = _slugs[tenant_id] = str(await session.scalar(select(Tenant.slug).where(Tenant.id == tenant_id)))
    return slug


_INSERT_LEASED = text(
    """
    insert into webhook_deliveries (tenant_id, id, subscription_id, event_id, event_type, status, attempts, step,
                                    next_attempt_at, created_at, locked_until)
    select :tenant_id, n.id, n.subscription_id, n.event_id, n.event_type, 'pending', 0, 0, now(), now(),
           now() + make_interval(secs => :lease)
      from unnest(cast(:ids as uuid[]), cast(:subscription_ids as uuid[]), cast(:event_ids as uuid[]),
                  cast(:event_types as text[])) as n(id, subscription_id, event_id, event_type)
        on conflict (tenant_id, subscription_id, event_id) do nothing
    returning id, subscription_id, event_id, attempts, step
    """
)


async def fan_out(db: Database, settings: Settings, tenant_id: uuid.UUID, event_ids: list[uuid.UUID]) -> list[Retry]:
    """Create the deliveries of a batch of one tenant's events (idempotent) and make their first attempts.

    New deliveries are inserted already leased, in one statement; only when some existed (this batch was
    handled before, by a worker that died) are those leased separately, if they are due.
    """
    async with db.transaction(tenant_id) as session:
        subscriptions = (await session.scalars(select(Subscription).where(Subscription.enabled))).all()
        if not subscriptions:
            return []
        events = (await session.execute(select(*JournalEvent.__table__.c).where(JournalEvent.id.in_(event_ids)))).all()
        pairs = [(s.id, e) for e in events for s in subscriptions if matches(s, e.type, e.subject_id)]
        if not pairs:
            return []
        inserted = await session.execute(
            _INSERT_LEASED,
            {
                "tenant_id": tenant_id,
                "lease": _lease_seconds(settings),
                "ids": [new_id() for _ in pairs],
                "subscription_ids": [sid for sid, _ in pairs],
                "event_ids": [e.id for _, e in pairs],
                "event_types": [e.type for _, e in pairs],
            },
        )
        leased = [_Leased(*r) for r in inserted]
        if len(leased) < len(pairs):
            fresh = {r.id for r in leased}
            again = await _lease(
                session,
                settings,
                and_(
                    Delivery.event_id.in_([e.id for e in events]),
                    Delivery.subscription_id.in_([s.id for s in subscriptions]),
                ),
            )
            leased += [r for r in again if r.id not in fresh]
        slug = await _slug(session, tenant_id)
    return await _run(
        db, settings, tenant_id, {e.id: e for e in events}, slug, leased, {s.id: s for s in subscriptions}
    )


async def deliver(
    db: Database, settings: Settings, tenant_id: uuid.UUID, delivery_id: uuid.UUID, token: int
) -> list[Retry]:
    """One further attempt of a delivery, if the message is still current (see the module docstring)."""
    async with db.transaction(tenant_id) as session:
        leased = await _lease(session, settings, and_(Delivery.id == delivery_id, Delivery.attempts == token))
        if not leased:
            return []
        row = leased[0]
        subscription = await session.get(Subscription, (tenant_id, row.subscription_id))
        assert subscription is not None  # a foreign key guarantees it
        if not subscription.enabled:
            await session.execute(
                update(Delivery)
                .where(Delivery.id == row.id)
                .values(status="failed", completed_at=func.now(), locked_until=None, last_error="endpoint disabled")
            )
            return []
        event = await session.get(JournalEvent, (tenant_id, row.event_id))
        assert event is not None  # the journal is append-only
        slug = await _slug(session, tenant_id)
    return await _run(db, settings, tenant_id, {event.id: event}, slug, leased, {subscription.id: subscription})


async def _run(
    db: Database,
    settings: Settings,
    tenant_id: uuid.UUID,
    events: dict[uuid.UUID, Any],
    slug: str,
    leased: list[_Leased],
    subscriptions: dict[uuid.UUID, Subscription],
) -> list[Retry]:
    """Attempt the leased deliveries concurrently, then record the outcomes in one transaction.

    Attempts to a slow endpoint still running after ``HANDOFF_SECONDS`` are left to finish in the background and
    record themselves, so the message, and the worker thread waiting on it, is released: a slow receiver holds
    at most its endpoint's concurrency in connections, never the worker's threads. Attempts to responsive
    endpoints are awaited and recorded together, set-based.
    """
    if not leased:
        return []
    bodies = {event_id: body(event, slug) for event_id, event in events.items()}
    tasks = [
        asyncio.ensure_future(
            _attempt(settings, subscriptions[row.subscription_id], str(row.event_id), bodies[row.event_id])
        )
        for row in leased
    ]
    waiting = dict(zip(tasks, leased, strict=True))
    while waiting:
        await asyncio.wait(waiting, timeout=HANDOFF_SECONDS)
        for task, row in list(waiting.items()):
            if task.done():
                del waiting[task]
            elif (endpoint := _endpoints.get(row.subscription_id)) is not None and endpoint.slow():
                del waiting[task]
                _handed_off.add(asyncio.ensure_future(_finish_later(db, settings, tenant_id, row, subscriptions, task)))
    finished = [(row, task.result()) for row, task in zip(leased, tasks, strict=True) if task.done()]
    return await _record_all(db, settings, tenant_id, finished, subscriptions)


async def _finish_later(
    db: Database,
    settings: Settings,
    tenant_id: uuid.UUID,
    row: _Leased,
    subscriptions: dict[uuid.UUID, Subscription],
    task: asyncio.Future[Outcome | None],
) -> None:
    """Record a handed-off attempt and send its retry. If the process dies first, the lease expires and the
    sweeper re-sends the delivery."""
    try:
        retries = await _record_all(db, settings, tenant_id, [(row, await task)], subscriptions)
        if retries and late_sender is not None:
            await late_sender(retries)
    except Exception:
        log.exception("webhook.handoff_failed", delivery_id=str(row.id))
    finally:
        _handed_off.discard(asyncio.current_task())


async def _record_all(
    db: Database,
    settings: Settings,
    tenant_id: uuid.UUID,
    finished: list[tuple[_Leased, Outcome | None]],
    subscriptions: dict[uuid.UUID, Subscription],
) -> list[Retry]:
    if not finished:
        return []
    async with db.transaction(tenant_id) as session:
        succeeded = [(row, o) for row, o in finished if o is not None and o.succeeded]
        if succeeded:
            await _record_successes(session, succeeded)
        return [
            retry
            for row, outcome in finished
            if not (outcome is not None and outcome.succeeded)
            and (retry := await _record(session, settings, tenant_id, row, subscriptions[row.subscription_id], outcome))
        ]


def _attempt_row(row: _Leased, outcome: Outcome) -> dict[str, Any]:
    return {
        "id": new_id(),
        "delivery_id": row.id,
        "subscription_id": row.subscription_id,
        "attempted_at": utcnow(),
        "status_code": outcome.status_code,
        "latency_ms": outcome.latency_ms,
        "response_body": outcome.response_body,
        "error": outcome.error,
        "succeeded": outcome.succeeded,
    }


_RECORD_SUCCESSES = text(
    """
    with done as (
        update webhook_deliveries d
           set status = 'succeeded', attempts = d.attempts + 1, completed_at = now(), locked_until = null,
               last_status_code = u.status_code, last_error = null
          from unnest(cast(:delivery_ids as uuid[]), cast(:status_codes as int[])) as u(id, status_code)
         where d.tenant_id = :tenant_id and d.id = u.id  -- the whole primary key
    ), healthy as (
        update webhook_subscriptions set failing_since = null
         where tenant_id = :tenant_id and id = any(cast(:subscription_ids as uuid[])) and failing_since is not null
    )
    insert into webhook_attempts (tenant_id, id, delivery_id, subscription_id, attempted_at, status_code,
                                  latency_ms, response_body, succeeded)
    select :tenant_id, a.id, a.delivery_id, a.subscription_id, a.attempted_at, a.status_code, a.latency_ms,
           a.response_body, true
      from unnest(cast(:ids as uuid[]), cast(:delivery_ids as uuid[]), cast(:attempt_subscription_ids as uuid[]),
                  cast(:attempted_at as timestamptz[]), cast(:status_codes as int[]), cast(:latencies as int[]),
                  cast(:bodies as text[]))
           as a(id, delivery_id, subscription_id, attempted_at, status_code, latency_ms, response_body)
    """
)


async def _record_successes(session: AsyncSession, succeeded: list[tuple[_Leased, Outcome]]) -> None:
    """The common case in one statement: log the attempts, close the deliveries, clear the failure runs.

    Planned for its parameters each time: a generic plan cached while ``webhook_deliveries`` was nearly empty
    (a new installation) scans every delivery of the tenant per batch until the next analyze; seen with
    ``auto_explain`` at up to 2 s a batch. Planning costs about a millisecond per batch of hundreds of rows.
    """
    now = utcnow()
    await session.execute(text("set local plan_cache_mode = force_custom_plan"))
    await session.execute(
        _RECORD_SUCCESSES,
        {
            "tenant_id": require_tenant(),
            "ids": [new_id() for _ in succeeded],
            "delivery_ids": [r.id for r, _ in succeeded],
            "status_codes": [o.status_code for _, o in succeeded],
            "subscription_ids": list({r.subscription_id for r, _ in succeeded}),
            "attempt_subscription_ids": [r.subscription_id for r, _ in succeeded],
            "attempted_at": [now for _ in succeeded],
            "latencies": [o.latency_ms for _, o in succeeded],
            "bodies": [o.response_body for _, o in succeeded],
        },
    )


async def _record(
    session: AsyncSession,
    settings: Settings,
    tenant_id: uuid.UUID,
    row: _Leased,
    subscription: Subscription,
    outcome: Outcome | None,
) -> Retry | None:
    """Log a failed attempt (or a deferral) and move the delivery and the endpoint's health on."""
    this = Delivery.id == row.id
    delay: float | None
    if outcome is None:  # the endpoint was busy: try again shortly, without counting an attempt
        delay = DEFER_SECONDS * random.uniform(1.0, 2.0)
        await session.execute(
            update(Delivery)
            .where(this)
            .values(locked_until=None, next_attempt_at=func.now() + timedelta(seconds=delay))
        )
        return Retry(tenant_id, row.id, row.attempts, delay)
    session.add(Attempt(**_attempt_row(row, outcome)))
    common: dict[str, Any] = {
        "attempts": row.attempts + 1,
        "locked_until": None,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    enabled = await _note_failure(session, settings, subscription, gone=outcome.gone)
    delay = retry_delay(settings, row.step, outcome) if enabled else None
    if delay is None:
        await session.execute(update(Delivery).where(this).values(status="failed", completed_at=func.now(), **common))
        return None
    await session.execute(
        update(Delivery)
        .where(this)
        .values(step=row.step + 1, next_attempt_at=func.now() + timedelta(seconds=delay), **common)
    )
    return Retry(tenant_id, row.id, row.attempts + 1, delay)


async def _note_failure(session: AsyncSession, settings: Settings, subscription: Subscription, *, gone: bool) -> bool:
    """Track the endpoint's run of failures; disable it when gone or failing too long. True if still enabled."""
    failing = (
        await session.execute(
            update(Subscription)
            .where(Subscription.id == subscription.id)
            .values(failing_since=func.coalesce(Subscription.failing_since, func.now()))
            .returning(Subscription.failing_since, Subscription.enabled)
        )
    ).one()
    if not failing.enabled:
        return False
    reason = "gone" if gone else None
    if reason is None and utcnow() - failing.failing_since >= timedelta(seconds=settings.webhook_disable_after):
        reason = "failing"
    if reason is None:
        return True
    await disable(session, subscription.id, reason)
    return False


async def disable(session: AsyncSession, subscription_id: uuid.UUID, reason: str) -> bool:
    """Disable an endpoint and journal ``webhook.endpoint_disabled`` once; False if it already was."""
    done = await session.scalar(
        update(Subscription)
        .where(Subscription.id == subscription_id, Subscription.enabled)
        .values(enabled=False, disabled_reason=reason, disabled_at=func.now(), updated_at=func.now())
        .returning(Subscription.id)
    )
    if done is None:
        return False
    await journal.record(session, "webhook.endpoint_disabled", subject_id=subscription_id, reason=reason)
    return True


async def resume(db: Database, tenant_id: uuid.UUID, subscription_id: uuid.UUID, *, limit: int = 5000) -> list[Retry]:
    """The due, unleased pending deliveries of a subscription (after a manual redelivery), as messages."""
    async with db.transaction(tenant_id) as session:
        rows = await session.execute(
            select(Delivery.id, Delivery.attempts)
            .where(
                Delivery.subscription_id == subscription_id,
                Delivery.status == "pending",
                Delivery.next_attempt_at <= func.now(),
                or_(Delivery.locked_until.is_(None), Delivery.locked_until < func.now()),
            )
            .limit(limit)
        )
        return [Retry(tenant_id, r.id, r.attempts, 0) for r in rows]


async def sweep(db: Database, *, grace_seconds: float = 60, limit: int = 5000) -> list[Retry]:
    """Overdue deliveries of every tenant (their message was lost with a crashed worker), as messages.

    Runs on the platform path (``webhook_sweep``), which also marks them due now so the next sweep skips them.
    """
    async with db.transaction() as session:
        rows = await session.execute(
            text("select tenant_id, id, attempts from webhook_sweep(:grace, :lim)"),
            {"grace": grace_seconds, "lim": limit},
        )
        return [Retry(r.tenant_id, r.id, r.attempts, 0) for r in rows]
