"""Citus distribution, generated from the migrated catalog: ``python -m service.ops.citus [--write]``.

Every table of the ``public`` schema with a ``tenant_id`` column is a tenant table: it is distributed by
``tenant_id``, all co-located, so that a tenant's rows (and every join between them) live on one node. Every
other table is global and small: it becomes a reference table (a copy on every node). Two things stay local
to the coordinator, each with its reason (written into the script):

- ``alembic_version``: migration bookkeeping, read and written only by the migration on the coordinator.
- the ``dramatiq`` schema: the PostgreSQL broker's queue (the embedded default). A Citus installation uses
  RabbitMQ or Redis as the broker (``XINFANG_BROKER_URL``); the schema is then unused.

Citus enforces primary keys, unique constraints and foreign keys of a distributed table only when they
include the distribution column; ``key_problems`` lists every key of a tenant table that does not (the test
suite requires it to be empty), and the script refuses to generate while there are any.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import psycopg

from service.ops.catalog import DISTRIBUTION_COLUMN, Table, dependency_order, read_catalog

SCRIPT = Path(__file__).resolve().parents[2] / "deploy" / "citus" / "distribute.sql"
LOCAL = {
    "alembic_version": "migration bookkeeping, written only by `xinfang migrate` on the coordinator",
}
LOCAL_SCHEMAS = {
    "dramatiq": "the PostgreSQL broker's queue; on Citus set XINFANG_BROKER_URL to RabbitMQ or Redis instead",
}


def key_problems(tables: dict[str, Table]) -> list[str]:
    """Keys Citus could not enforce, and tenant tables without forced row-level security."""
    problems = []
    for table in sorted(tables.values(), key=lambda t: t.name):
        if table.name in LOCAL:
            continue
        if not table.tenant:
            problems += [
                f"{table.name}.{name}: a global table cannot reference the tenant table {ref}"
                for kind, name, _, ref, _ in table.keys
                if kind == "f" and ref in tables and tables[ref].tenant
            ]
            if table.rls:
                problems.append(f"{table.name}: row-level security without a {DISTRIBUTION_COLUMN} column")
            continue
        if not (table.rls and table.forced_rls):
            problems.append(f"{table.name}: a tenant table needs ENABLE and FORCE ROW LEVEL SECURITY")
        if not any(kind == "p" for kind, *_ in table.keys):
            problems.append(f"{table.name}: no primary key")
        for kind, name, columns, ref, ref_columns in table.keys:
            if DISTRIBUTION_COLUMN not in columns:
                problems.append(f"{table.name}.{name}: key ({', '.join(columns)}) lacks {DISTRIBUTION_COLUMN}")
            # Co-located foreign keys must pair the distribution columns with each other.
            elif (
                kind == "f"
                and ref in tables
                and tables[ref].tenant
                and ref_columns[columns.index(DISTRIBUTION_COLUMN)] != DISTRIBUTION_COLUMN
            ):
                problems.append(f"{table.name}.{name}: {DISTRIBUTION_COLUMN} must reference {ref}.tenant_id")
    return problems


def generate(tables: dict[str, Table]) -> str:
    """The distribution script for ``tables`` (raises ValueError while a key cannot be enforced)."""
    problems = key_problems(tables)
    if problems:
        raise ValueError("cannot distribute:\n  " + "\n  ".join(problems))
    candidates = [t for t in tables.values() if t.name not in LOCAL]
    reference = dependency_order([t for t in candidates if not t.tenant], tables)
    distributed = dependency_order([t for t in candidates if t.tenant], tables)
    lines = [
        "-- Citus distribution of the Xinfang schema. GENERATED from the migrated catalog by",
        "--   python -m service.ops.citus --write",
        "-- Do not edit by hand: tests/integration/deploy/test_citus.py fails when it differs from the catalog",
        "-- (regenerate with `XINFANG_WRITE_CITUS=1 make test`).",
        "-- Run once, as the owner role, on the coordinator after `xinfang migrate` (see the README).",
        "",
        "begin;",
        "-- Distributed tables with foreign keys to reference tables, created in one transaction, need this.",
        "set local citus.multi_shard_modify_mode to 'sequential';",
        "",
        "-- Global tables: small, read everywhere; a copy on every node.",
    ]
    lines += [f"select create_reference_table('{t.name}');" for t in reference]
    lines += ["", f"-- Tenant tables: distributed by {DISTRIBUTION_COLUMN}, all co-located with the first one."]
    anchor = distributed[0].name if distributed else None
    for table in distributed:
        colocate = "default" if table.name == anchor else anchor
        lines.append(
            f"select create_distributed_table('{table.name}', '{DISTRIBUTION_COLUMN}', colocate_with => '{colocate}');"
        )
    lines += ["", "-- Kept local to the coordinator:"]
    lines += [f"--   {name}: {why}" for name, why in sorted(LOCAL.items())]
    lines += [f"--   schema {name}: {why}" for name, why in sorted(LOCAL_SCHEMAS.items())]
    lines += ["", "commit;", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from tenants.settings import SettingsError, get_settings, plain_url

    parser = argparse.ArgumentParser(prog="python -m service.ops.citus", description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help=f"write {SCRIPT.relative_to(SCRIPT.parents[2])}")
    args = parser.parse_args(argv)
    try:
        url = plain_url(get_settings().database_url)
    except SettingsError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return 2
    with psycopg.connect(url) as conn:
        try:
            script = generate(read_catalog(conn))
        except ValueError as exc:
            print(exc, file=sys.stderr)
            return 1
    if args.write:
        SCRIPT.write_text(script)
    else:
        sys.stdout.write(script)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
