"""The migrated catalog keeps the isolation rules: a new tenant table without them fails here."""

from __future__ import annotations

from sqlalchemy import text

GLOBAL_TABLES = {
    "alembic_version",
    "tenants",
    "platform_accounts",
    "platform_tokens",
    "journal_cursors",
    "scheduler_leases",
    "schedule_runs",
    "platform_journal",
    # Failed sign-ins keyed by a hash of (university slug, email) or of the client address (no tenant_id: an
    # unknown slug is throttled like a known one).
    "sign_in_failures",
}


async def rows(db, sql: str) -> list:
    async with db.sessionmaker() as session:
        return list((await session.execute(text(sql))).all())


async def test_every_public_table_is_global_or_a_tenant_table(db):
    tables = {r[0] for r in await rows(db, "select tablename from pg_tables where schemaname = 'public'")}
    tenant = {
        r[0]
        for r in await rows(
            db,
            "select table_name from information_schema.columns "
            "where table_schema = 'public' and column_name = 'tenant_id'",
        )
    }
    assert tables - tenant <= GLOBAL_TABLES, "a table without tenant_id must be declared global here"
    assert tenant, "no tenant tables found"


async def test_every_tenant_table_has_forced_rls_a_tenant_policy_and_tenant_id_leading_its_keys(db):
    tables = await rows(
        db,
        """
        select c.relname, c.relrowsecurity, c.relforcerowsecurity,
               exists (select from pg_policies p where p.tablename = c.relname and p.policyname = 'tenant_isolation'
                       and p.qual like '%app.tenant_id%' and p.with_check like '%app.tenant_id%'),
               (select a.attname from pg_index i join pg_attribute a on a.attrelid = i.indrelid
                  and a.attnum = i.indkey[0] where i.indrelid = c.oid and i.indisprimary)
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'r'
           and exists (select from pg_attribute a where a.attrelid = c.oid and a.attname = 'tenant_id')
        """,
    )
    assert tables
    for name, rls, forced, policy, pk_lead in tables:
        assert rls and forced, f"{name}: row-level security must be enabled and forced"
        assert policy, f"{name}: missing the tenant_isolation policy"
        assert pk_lead == "tenant_id", f"{name}: tenant_id must lead the primary key"


async def test_foreign_keys_between_tenant_tables_include_tenant_id(db):
    fks = await rows(
        db,
        """
        select con.conname, src.relname, dst.relname,
               (select array_agg(a.attname) from pg_attribute a
                 where a.attrelid = con.conrelid and a.attnum = any(con.conkey))
          from pg_constraint con
          join pg_class src on src.oid = con.conrelid
          join pg_class dst on dst.oid = con.confrelid
          join pg_namespace n on n.oid = src.relnamespace
         where con.contype = 'f' and n.nspname = 'public'
           and exists (select from pg_attribute a where a.attrelid = con.confrelid and a.attname = 'tenant_id')
        """,
    )
    for name, src, dst, columns in fks:
        assert "tenant_id" in columns, f"{name} ({src} -> {dst}) must include tenant_id"
