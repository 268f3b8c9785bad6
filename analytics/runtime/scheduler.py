"""The scheduler: exactly one active process that relays the journal and enqueues periodic work.

Several scheduler processes may run (for availability); a lease row in the database decides which one is
active. The lease is a plain row with an expiry rather than a session advisory lock so that it also works
through PgBouncer in transaction mode. Periodic work is enqueued at most once per period: each (job, period)
pair is claimed with an INSERT into ``schedule_runs`` before its message is sent.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import structlog
from dramatiq import Message
from sqlalchemy import text

from analytics.runtime import relay
from analytics.runtime.broker import ensure_broker
from tenants.clock import utcnow
from tenants.db import Database

log = structlog.get_logger("xinfang.scheduler")
LEASE = "scheduler"


@dataclass(frozen=True)
class Periodic:
    name: str
    period_key: Callable[[datetime], str]
    messages: Callable[[str], list[Message[Any]]]


_periodic: list[Periodic] = []


def periodic(name: str, period_key: Callable[[datetime], str]) -> Callable[[Callable[[str], list[Message[Any]]]], Any]:
    """Register a periodic job: ``messages(period_key)`` is enqueued once for every new period key."""

    def register(fn: Callable[[str], list[Message[Any]]]) -> Callable[[str], list[Message[Any]]]:
        _periodic.append(Periodic(name, period_key, fn))
        return fn

    return register


def hourly(now: datetime) -> str:
    return now.astimezone(UTC).strftime("%Y-%m-%dT%H")


class Scheduler:
    def __init__(self, db: Database, *, lease_seconds: float = 15.0, poll_seconds: float = 0.2) -> None:
        self.db = db
        self.holder = f"{socket.gethostname()}:{os.getpid()}:{id(self):x}"
        self.lease_seconds = lease_seconds
        self.poll_seconds = poll_seconds
        self._lease_until = 0.0

    async def acquire(self) -> bool:
        """Take or renew the lease; True while this process is the active scheduler."""
        async with self.db.sessionmaker() as session, session.begin():
            held = await session.scalar(
                text(
                    """
                    insert into scheduler_leases (name, holder, expires_at)
                    values (:n, :h, now() + make_interval(secs => :ttl))
                    on conflict (name) do update set holder = excluded.holder, expires_at = excluded.expires_at
                     where scheduler_leases.holder = excluded.holder or scheduler_leases.expires_at < now()
                    returning holder
                    """
                ),
                {"n": LEASE, "h": self.holder, "ttl": self.lease_seconds},
            )
        return held == self.holder

    async def release(self) -> None:
        async with self.db.sessionmaker() as session, session.begin():
            await session.execute(
                text("delete from scheduler_leases where name = :n and holder = :h"),
                {"n": LEASE, "h": self.holder},
            )

    async def enqueue_periodic(self, now: datetime) -> int:
        """Claim and enqueue every periodic job whose current period has not run yet."""
        sent = 0
        for job in _periodic:
            key = job.period_key(now)
            async with self.db.sessionmaker() as session, session.begin():
                claimed = await session.scalar(
                    text(
                        "insert into schedule_runs (job, period_key) values (:j, :k) "
                        "on conflict do nothing returning job"
                    ),
                    {"j": job.name, "k": key},
                )
                if claimed:
                    messages = job.messages(key)
                    await asyncio.to_thread(lambda ms=messages: [ensure_broker().enqueue(m) for m in ms])
                    sent += 1
                    log.info("periodic.enqueued", job=job.name, period=key)
        return sent

    async def run(self, stop: asyncio.Event) -> None:
        """Run until ``stop`` is set: renew the lease, relay the journal, enqueue periodic work."""
        loop = asyncio.get_running_loop()
        active = False
        try:
            while not stop.is_set():
                if loop.time() >= self._lease_until:
                    now_active = await self.acquire()
                    if now_active != active:
                        log.info("scheduler.active" if now_active else "scheduler.standby", holder=self.holder)
                    active = now_active
                    self._lease_until = loop.time() + self.lease_seconds / 3
                    if active:
                        await self.enqueue_periodic(utcnow())
                if active:
                    # Drain the relay, but only until the lease is due for renewal: a long backlog must not let
                    # the lease expire mid-drain (a standby would then become active beside this process).
                    while not stop.is_set() and loop.time() < self._lease_until and await relay.relay_once(self.db):
                        pass
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_seconds)
        finally:
            if active:
                await self.release()
