"""Tenant isolation proven at the database, as the application role (row-level security, not WHERE clauses)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from tenants.db import Database, tenant_context


async def tenant_tables(db) -> list[str]:
    async with db.sessionmaker() as session:
        rows = await session.execute(
            text(
                "select c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace "
                "join pg_attribute a on a.attrelid = c.oid and a.attname = 'tenant_id' "
                "where n.nspname = 'public' and c.relkind in ('r', 'p') order by 1"
            )
        )
        return [r[0] for r in rows]


async def count(db, table: str, tenant_id, context) -> int:
    with tenant_context(context):
        async with db.transaction() as session:
            return await session.scalar(text(f"select count(*) from {table} where tenant_id = :t"), {"t": tenant_id})


async def test_a_tenant_context_sees_and_touches_none_of_another_tenants_rows(db, make_tenant):
    a, b = await make_tenant(), await make_tenant()
    tables = await tenant_tables(db)
    assert {"accounts", "api_keys", "journal"} <= set(tables)
    for table in ("accounts", "journal"):
        assert await count(db, table, b.id, b.id) > 0, table  # B's rows exist ...
    for table in tables:
        assert await count(db, table, b.id, a.id) == 0, table  # ... but A cannot see them
        for statement in (
            f"update {table} set tenant_id = tenant_id where tenant_id = :t",
            f"delete from {table} where tenant_id = :t",
        ):
            with tenant_context(a.id):
                try:
                    async with db.transaction() as session:
                        result = await session.execute(text(statement), {"t": b.id})
                        assert result.rowcount == 0, (table, statement)
                except DBAPIError as exc:  # no privilege at all is stronger still
                    assert "permission denied" in str(exc.orig), (table, statement)
    assert await count(db, "accounts", b.id, b.id) > 0


async def test_insert_for_another_tenant_is_rejected(db, make_tenant):
    a, b = await make_tenant(), await make_tenant()
    with tenant_context(a.id), pytest.raises(DBAPIError, match="row-level security"):
        async with db.transaction() as session:
            await session.execute(
                text(
                    "insert into journal (tenant_id, id, occurred_at, type, payload) "
                    "values (:t, gen_random_uuid(), now(), 'tenant.created', '{}')"
                ),
                {"t": b.id},
            )


async def test_without_context_nothing_is_readable_or_writable(db, make_tenant):
    t = await make_tenant()
    with tenant_context(None):
        async with db.transaction() as session:
            assert await session.scalar(text("select count(*) from accounts")) == 0
            assert await session.scalar(text("select count(*) from journal")) == 0
    with tenant_context(None), pytest.raises(DBAPIError, match="row-level security"):
        async with db.transaction() as session:
            await session.execute(
                text(
                    "insert into journal (tenant_id, id, occurred_at, type, payload) "
                    "values (:t, gen_random_uuid(), now(), 'tenant.created', '{}')"
                ),
                {"t": t.id},
            )


async def test_a_pooled_connection_carries_no_context_into_the_next_transaction(settings, make_tenant):
    t = await make_tenant()
    db = Database(settings.app_url, pool_size=1, max_overflow=0)
    try:
        async with db.transaction(t.id) as session:
            pid = await session.scalar(text("select pg_backend_pid()"))
            assert await session.scalar(text("select count(*) from accounts")) >= 1
        # Same physical connection, no tenant context, and also a raw connection bypassing our listener.
        async with db.transaction() as session:
            assert await session.scalar(text("select pg_backend_pid()")) == pid
            assert await session.scalar(text("select count(*) from accounts")) == 0
        async with db.engine.connect() as conn:
            assert await conn.scalar(text("select pg_backend_pid()")) == pid
            assert await conn.scalar(text("select coalesce(current_setting('app.tenant_id', true), '')")) == ""
            assert await conn.scalar(text("select count(*) from accounts")) == 0
    finally:
        await db.dispose()


async def test_the_application_role_cannot_change_or_remove_journal_rows(db, tenant):
    for statement in ("update journal set type = 'x'", "delete from journal"):
        with tenant_context(tenant.id), pytest.raises(DBAPIError, match="permission denied"):
            async with db.transaction() as session:
                await session.execute(text(statement))


async def test_the_application_role_is_not_privileged(db):
    async with db.sessionmaker() as session:
        row = (
            await session.execute(text("select rolsuper, rolbypassrls from pg_roles where rolname = current_user"))
        ).one()
        owned = await session.scalar(text("select count(*) from pg_tables where tableowner = current_user"))
    assert tuple(row) == (False, False)
    assert owned == 0
