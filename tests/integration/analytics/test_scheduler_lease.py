"""Two schedulers against one database: one is active (the lease), periodic work is enqueued once per period,
and the standby takes over when the active one stops or dies."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import text

from analytics.runtime import scheduler as scheduling
from analytics.runtime.scheduler import LEASE, Scheduler


class Observed(Scheduler):
    """A real scheduler that also records what each lease attempt returned."""

    def __init__(self, db: Any, **kwargs: Any) -> None:
        super().__init__(db, **kwargs)
        self.results: list[bool] = []

    async def acquire(self) -> bool:
        held = await super().acquire()
        self.results.append(held)
        return held

    @property
    def active(self) -> bool:
        return bool(self.results) and self.results[-1]


@pytest.fixture
def period() -> Iterator[dict[str, Any]]:
    """A periodic job whose current period the test sets; records each period it was enqueued for."""
    state: dict[str, Any] = {"key": f"p1-{uuid.uuid4().hex[:6]}", "enqueued": []}

    def messages(key: str) -> list[Any]:
        state["enqueued"].append(key)
        return []

    job = scheduling.Periodic(f"test-job-{uuid.uuid4().hex[:8]}", lambda now: state["key"], messages)
    scheduling._periodic.append(job)
    state["job"] = job.name
    yield state
    scheduling._periodic.remove(job)


@pytest.fixture
async def no_lease(db: Any) -> None:
    async with db.transaction() as session:
        await session.execute(text("delete from scheduler_leases where name = :n"), {"n": LEASE})


async def _until(condition: Any, within: float) -> bool:
    deadline = asyncio.get_running_loop().time() + within
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            return False
        await asyncio.sleep(0.02)
    return True


async def _lease_holder(db: Any) -> tuple[str, datetime] | None:
    async with db.transaction() as session:
        row = (
            await session.execute(text("select holder, expires_at from scheduler_leases where name = :n"), {"n": LEASE})
        ).first()
    return None if row is None else (row.holder, row.expires_at)


async def test_concurrent_lease_attempts_elect_exactly_one(db: Any, no_lease: None) -> None:
    contenders = [Scheduler(db, lease_seconds=5) for _ in range(8)]
    won = await asyncio.gather(*(s.acquire() for s in contenders))
    assert won.count(True) == 1
    winner = contenders[won.index(True)]
    assert (await _lease_holder(db))[0] == winner.holder  # type: ignore[index]
    # Renewal by the holder succeeds; everyone else still loses.
    assert await winner.acquire()
    assert not any(await asyncio.gather(*(s.acquire() for s in contenders if s is not winner)))
    await winner.release()


async def test_two_schedulers_one_active_work_once_per_period_and_takeover_on_stop(
    db: Any, no_lease: None, period: dict[str, Any]
) -> None:
    first, second = (
        Observed(db, lease_seconds=1.5, poll_seconds=0.05),
        Observed(db, lease_seconds=1.5, poll_seconds=0.05),
    )
    stop_first, stop_second = asyncio.Event(), asyncio.Event()
    tasks = [asyncio.create_task(first.run(stop_first)), asyncio.create_task(second.run(stop_second))]
    try:
        assert await _until(lambda: len(first.results) >= 3 and len(second.results) >= 3, 5)
        # Exactly one was ever active, the other only stood by.
        assert [any(first.results), any(second.results)].count(True) == 1
        active, standby, stop_active = (
            (first, second, stop_first) if any(first.results) else (second, first, stop_second)
        )
        assert all(active.results) and not any(standby.results)
        assert period["enqueued"] == [period["key"]]

        # A new period is enqueued once, by the active scheduler.
        period["key"] = f"p2-{uuid.uuid4().hex[:6]}"
        assert await _until(lambda: len(period["enqueued"]) == 2, 3)

        # The active one stops (SIGTERM): it releases the lease, and the standby takes over promptly.
        stop_active.set()
        await asyncio.wait_for(tasks[0 if active is first else 1], 5)
        assert await _until(lambda: standby.active, 1.5)
        assert (await _lease_holder(db))[0] == standby.holder  # type: ignore[index]
        # The period already enqueued is not enqueued again by the new active scheduler; the next one is.
        await asyncio.sleep(0.6)
        assert period["enqueued"] == [period["enqueued"][0], period["key"]]
        period["key"] = f"p3-{uuid.uuid4().hex[:6]}"
        assert await _until(lambda: len(period["enqueued"]) == 3, 3)
    finally:
        stop_first.set()
        stop_second.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 10)
    async with db.transaction() as session:
        runs = await session.scalar(text("select count(*) from schedule_runs where job = :j"), {"j": period["job"]})
    assert runs == 3 == len(set(period["enqueued"]))
    assert await _lease_holder(db) is None  # released on stop


async def test_standby_takes_over_only_after_a_dead_holders_lease_expires(
    db: Any, no_lease: None, period: dict[str, Any]
) -> None:
    dead = Scheduler(db, lease_seconds=1.2)
    assert await dead.acquire()  # then "crashes": never renews, never releases
    _, expires_at = await _lease_holder(db)  # type: ignore[misc]
    standby = Observed(db, lease_seconds=1.2, poll_seconds=0.05)
    stop = asyncio.Event()
    task = asyncio.create_task(standby.run(stop))
    try:
        await asyncio.sleep(0.6)
        assert standby.results and not any(standby.results)
        assert period["enqueued"] == []
        assert await _until(lambda: standby.active, 3)
        async with db.transaction() as session:
            took_over_at = await session.scalar(text("select now()"))
        assert took_over_at >= expires_at
        assert await _until(lambda: period["enqueued"] == [period["key"]], 1)
        assert not await dead.acquire()  # the old holder, back from the dead, stays out
    finally:
        stop.set()
        await asyncio.wait_for(task, 5)
