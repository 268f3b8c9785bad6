"""The Citus distribution script matches the migrated catalog, and every key of a tenant table can be enforced
by Citus (it includes tenant_id)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import psycopg
import pytest

from service.ops import citus


@pytest.fixture
def catalog_conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A privileged connection whose changes are rolled back (DDL is transactional in PostgreSQL)."""
    with psycopg.connect(database_url) as conn:
        yield conn
        conn.rollback()


def test_committed_script_equals_the_one_generated_from_the_catalog(catalog_conn: psycopg.Connection) -> None:
    generated = citus.generate(citus.read_catalog(catalog_conn))
    if os.environ.get("XINFANG_WRITE_CITUS") == "1":
        # After adding a table: `XINFANG_WRITE_CITUS=1 make test`, then review and commit the script's diff.
        citus.SCRIPT.write_text(generated)
    committed = citus.SCRIPT.read_text()
    assert committed == generated, (
        "deploy/citus/distribute.sql is stale: regenerate it with `XINFANG_WRITE_CITUS=1 make test` "
        "(or `python -m service.ops.citus --write` against a migrated database) and commit it"
    )


def test_every_key_of_every_tenant_table_includes_tenant_id(catalog_conn: psycopg.Connection) -> None:
    tables = citus.read_catalog(catalog_conn)
    tenant_tables = {name for name, t in tables.items() if t.tenant}
    assert {"accounts", "api_keys", "journal"} <= tenant_tables
    assert citus.key_problems(tables) == []
    for name in tenant_tables:
        primary = [cols for kind, _, cols, _, _ in tables[name].keys if kind == "p"]
        assert primary and primary[0][0] == "tenant_id", name


def test_script_distributes_tenant_tables_and_replicates_global_ones(catalog_conn: psycopg.Connection) -> None:
    tables = citus.read_catalog(catalog_conn)
    script = citus.generate(tables)
    for name, table in tables.items():
        if name == "alembic_version":
            assert f"'{name}'" not in script
        elif table.tenant:
            assert f"create_distributed_table('{name}', 'tenant_id'" in script
        else:
            assert f"create_reference_table('{name}')" in script
    # The tenants table must be a reference table before any tenant table references it.
    assert script.index("create_reference_table('tenants')") < script.index("create_distributed_table(")
    assert "dramatiq" in script and "alembic_version" in script  # skipped, with the reason


def test_a_new_tenant_table_without_an_entry_fails_the_check(catalog_conn: psycopg.Connection) -> None:
    catalog_conn.execute(
        "create table zz_new_things (tenant_id uuid not null references tenants(id), id uuid not null, "
        "primary key (tenant_id, id))"
    )
    catalog_conn.execute("alter table zz_new_things enable row level security")
    catalog_conn.execute("alter table zz_new_things force row level security")
    generated = citus.generate(citus.read_catalog(catalog_conn))
    assert "create_distributed_table('zz_new_things'" in generated
    assert generated != citus.SCRIPT.read_text()


@pytest.mark.parametrize(
    ("ddl", "problem"),
    [
        ("create table zz_bad (tenant_id uuid not null, id uuid primary key)", "zz_bad_pkey"),
        (
            "create table zz_bad (tenant_id uuid not null, id uuid not null, code text, "
            "primary key (tenant_id, id)); create unique index zz_bad_code on zz_bad (code)",
            "zz_bad_code",
        ),
        (
            "create table zz_bad (tenant_id uuid not null, id uuid not null, code text, "
            "primary key (tenant_id, id), constraint zz_bad_code_key unique (code))",
            "zz_bad_code_key",
        ),
        (
            "create table zz_bad (tenant_id uuid not null, id uuid not null, account_id uuid, "
            "primary key (tenant_id, id), constraint zz_bad_account foreign key (tenant_id, account_id) "
            "references accounts (id, tenant_id))",
            "zz_bad_account",
        ),
        ("create table zz_bad (tenant_id uuid not null, id uuid not null, primary key (tenant_id, id))", "zz_bad"),
    ],
    ids=["primary-key", "unique-index", "unique-constraint", "foreign-key-pairs", "no-rls"],
)
def test_keys_citus_cannot_enforce_are_reported(catalog_conn: psycopg.Connection, ddl: str, problem: str) -> None:
    for statement in ddl.split(";"):
        catalog_conn.execute(statement)
    if problem != "zz_bad":
        catalog_conn.execute("alter table zz_bad enable row level security")
        catalog_conn.execute("alter table zz_bad force row level security")
    problems = citus.key_problems(citus.read_catalog(catalog_conn))
    assert any(p.startswith("zz_bad") and problem in p for p in problems), problems
    with pytest.raises(ValueError, match="cannot distribute"):
        citus.generate(citus.read_catalog(catalog_conn))
