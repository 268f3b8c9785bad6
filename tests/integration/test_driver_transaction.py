"""``Database.driver_transaction`` and ``intake_connection``: the asyncpg-level connections of the intake hot path
keep the guarantees of a session's — the tenant context (row-level security), all-or-nothing, and a pool that never
gets a connection back mid-transaction or with another tenant's context."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest
from sqlalchemy import text

from tenants.db import tenant_context
from tenants.ids import new_id


async def journal_count(db, tenant_id: uuid.UUID, subject_id: uuid.UUID) -> int:
    with tenant_context(tenant_id):
        async with db.transaction() as session:
            return await session.scalar(text("select count(*) from journal where subject_id = :s"), {"s": subject_id})


async def assert_pool_clean(db) -> None:
    """Every connection of the intake pool is idle, outside any transaction, and carries no tenant context."""
    pool = await db._intake_pool()
    held = []
    try:
        for _ in range(pool.get_max_size()):
            raw = await pool.acquire(timeout=5)
            held.append(raw)
            assert not raw.is_in_transaction()
            assert await raw.fetchval("select current_setting('app.tenant_id', true)") in (None, "")
    finally:
        for raw in held:
            await pool.release(raw)


INSERT = (
    "insert into journal (tenant_id, id, occurred_at, type, subject_id, payload)"
    " values ($1, $2, now(), 'webhook.ping', $3, '{}'::jsonb)"
)


async def test_it_runs_in_the_tenant_context_and_commits(db, make_tenant):
    a, b = await make_tenant(), await make_tenant()
    subject = new_id()
    async with db.driver_transaction(a.id) as connection:
        assert await connection.fetchval("select current_setting('app.tenant_id')") == str(a.id)
        # Row-level security applies: B's rows are invisible, and writing as B is refused.
        assert await connection.fetchval("select count(*) from accounts where tenant_id = $1", b.id) == 0
        assert await connection.fetchval("select count(*) from accounts where tenant_id = $1", a.id) > 0
        await connection.execute(INSERT, a.id, new_id(), subject)
    assert await journal_count(db, a.id, subject) == 1

    with pytest.raises(asyncpg.InsufficientPrivilegeError):
        async with db.driver_transaction(a.id) as connection:
            await connection.execute(INSERT, b.id, new_id(), subject)
    assert await journal_count(db, b.id, subject) == 0


async def test_an_error_rolls_everything_back_and_the_pooled_connection_comes_back_clean(db, make_tenant):
    a = await make_tenant()
    subject = new_id()
    with pytest.raises(RuntimeError, match="handler failed"):
        async with db.driver_transaction(a.id) as connection:
            await connection.execute(INSERT, a.id, new_id(), subject)
            raise RuntimeError("handler failed")
    assert await journal_count(db, a.id, subject) == 0
    with pytest.raises(asyncpg.UniqueViolationError):
        async with db.driver_transaction(a.id) as connection:
            same = new_id()
            await connection.execute(INSERT, a.id, same, subject)
            await connection.execute(INSERT, a.id, same, subject)
    assert await journal_count(db, a.id, subject) == 0
    await assert_pool_clean(db)


async def test_a_cancelled_statement_discards_the_connection(db, make_tenant):
    a = await make_tenant()
    started = asyncio.Event()

    async def slow() -> None:
        async with db.driver_transaction(a.id) as connection:
            started.set()
            await connection.execute("select pg_sleep(10)")

    task = asyncio.create_task(slow())
    await started.wait()
    await asyncio.sleep(0.2)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    # Whatever state the cancelled connection was left in, the pool hands out only clean ones.
    await assert_pool_clean(db)


async def test_a_connection_lost_mid_transaction_is_discarded(db, make_tenant):
    a = await make_tenant()
    with pytest.raises((asyncpg.ConnectionDoesNotExistError, asyncpg.AdminShutdownError)):
        async with db.driver_transaction(a.id) as connection:
            await connection.execute("select pg_terminate_backend(pg_backend_pid())")
    # The dead connection did not go back to the pool: the next transactions work.
    for _ in range((await db._intake_pool()).get_max_size() + 2):
        async with db.driver_transaction(a.id) as connection:
            assert await connection.fetchval("select current_setting('app.tenant_id')") == str(a.id)


async def test_an_intake_connection_carries_no_tenant_context_between_statements(db, make_tenant):
    """``intake_petition`` sets the context for its own statement only; the next statement on the same connection
    sees none (so no other university's rows), and the function refuses to switch a transaction's university."""
    a, b = await make_tenant(), await make_tenant()
    async with db.intake_connection() as connection:
        assert await connection.fetchval("select count(*) from accounts") == 0  # no context: nothing visible
        await connection.execute(f"begin; select set_config('app.tenant_id', '{a.id}', true)")
        with pytest.raises(asyncpg.InsufficientPrivilegeError, match="another university"):
            await connection.fetchval("select intake_petition(" + ", ".join(["$1"] + ["null"] * 43) + ")", b.id)
        await connection.execute("rollback")
        assert await connection.fetchval("select current_setting('app.tenant_id', true)") in (None, "")
