"""The migrated catalog as the deployment tools see it: tables of the ``public`` schema, their columns, keys,
row-level security, and an order that respects foreign keys. Read over a privileged connection.

A table with a ``tenant_id`` column is a tenant table (row-level security, distributed by tenant on Citus,
exported per university); every other table is global.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import psycopg

DISTRIBUTION_COLUMN = "tenant_id"


@dataclass
class Table:
    name: str
    columns: list[str]
    types: list[str]
    rls: bool
    forced_rls: bool
    # (kind, name, columns, referenced table, referenced columns) for p(rimary), u(nique), f(oreign), i(ndex)
    keys: list[tuple[str, str, list[str], str | None, list[str]]] = field(default_factory=list)

    @property
    def tenant(self) -> bool:
        return DISTRIBUTION_COLUMN in self.columns


def read_catalog(conn: psycopg.Connection) -> dict[str, Table]:
    """The tables of the ``public`` schema with their columns, RLS flags and keys."""
    tables: dict[str, Table] = {}
    for name, rls, forced, columns, types in conn.execute(
        """
        select c.relname, c.relrowsecurity, c.relforcerowsecurity,
               array(select a.attname::text from pg_attribute a
                      where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum),
               array(select format_type(a.atttypid, a.atttypmod) from pg_attribute a
                      where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped order by a.attnum)
          from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind in ('r', 'p')
        """
    ):
        tables[name] = Table(name, list(columns), list(types), rls, forced)
    for table, kind, name, columns, ref_table, ref_columns in conn.execute(
        """
        select c.conrelid::regclass::text, c.contype::text, c.conname::text,
               array(select a.attname::text from unnest(c.conkey) with ordinality k(n, i)
                       join pg_attribute a on a.attrelid = c.conrelid and a.attnum = k.n order by k.i),
               c.confrelid::regclass::text,
               array(select a.attname::text from unnest(c.confkey) with ordinality k(n, i)
                       join pg_attribute a on a.attrelid = c.confrelid and a.attnum = k.n order by k.i)
          from pg_constraint c join pg_namespace n on n.oid = c.connamespace
         where n.nspname = 'public' and c.contype in ('p', 'u', 'f')
        """
    ):
        tables[table].keys.append((kind, name, list(columns), ref_table if kind == "f" else None, list(ref_columns)))
    # Unique indexes that no constraint owns (create index ... unique), expression columns left out.
    for table, name, columns in conn.execute(
        """
        select i.indrelid::regclass::text, i.indexrelid::regclass::text,
               array(select a.attname::text from unnest(i.indkey) with ordinality k(n, o)
                       join pg_attribute a on a.attrelid = i.indrelid and a.attnum = k.n order by k.o)
          from pg_index i join pg_class c on c.oid = i.indrelid join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and i.indisunique
           and not exists (select from pg_constraint k where k.conindid = i.indexrelid and k.contype in ('p', 'u'))
        """
    ):
        tables[table].keys.append(("i", name, list(columns), None, []))
    return tables


def dependency_order(tables: list[Table], all_tables: dict[str, Table]) -> list[Table]:
    """Referenced tables before the tables that reference them (alphabetical otherwise), so that each
    ``create_*_table`` call finds its foreign keys' targets already distributed."""
    names = {t.name for t in tables}
    done: list[Table] = []
    seen: set[str] = set()

    def visit(table: Table) -> None:
        if table.name in seen:
            return
        seen.add(table.name)
        for kind, _, _, ref, _ in sorted(table.keys, key=lambda k: k[1]):
            if kind == "f" and ref in names and ref != table.name:
                visit(all_tables[ref])
        done.append(table)

    for table in sorted(tables, key=lambda t: t.name):
        visit(table)
    return done
