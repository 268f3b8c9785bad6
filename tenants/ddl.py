"""DDL used by migrations: the database roles, row-level security on tenant tables, grants.

Roles:
- ``xinfang_owner`` owns every table; migrations run as it. NOLOGIN.
- the application role (``XINFANG_APP_DB_ROLE``, default ``xinfang_app``) logs in, owns nothing, has no
  BYPASSRLS: row-level security applies to every statement it runs.
- ``xinfang_platform`` owns the few SECURITY DEFINER functions of the platform path (for example the journal
  feed the relay reads across tenants). A dedicated policy lets it, and only it, see every tenant's rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from alembic import op
from tenants.settings import load_settings

OWNER_ROLE = "xinfang_owner"
PLATFORM_ROLE = "xinfang_platform"

TENANT_PREDICATE = "tenant_id = (select nullif(current_setting('app.tenant_id', true), '')::uuid)"

Execute = Callable[[str], object]

# Column types every migration uses.
UUID = pg.UUID(as_uuid=True)
TS = sa.DateTime(timezone=True)


def execute(sql: str) -> None:
    """Run raw DDL in the current migration (no bind-parameter parsing: colons and percent signs are literal)."""
    op.get_bind().exec_driver_sql(sql)


def app_role() -> str:
    """The application role's name (``XINFANG_APP_DB_ROLE``), which grants and policies name."""
    return load_settings(os.environ).app_db_role


def create_roles(execute: Execute, app_role: str, app_password: str) -> None:
    """Create the three roles when missing (run as a privileged user)."""
    password = f" password '{app_password.replace(chr(39), chr(39) * 2)}'" if app_password else ""
    execute(
        f"""
        do $$ begin
          if not exists (select from pg_roles where rolname = '{OWNER_ROLE}') then
            create role {OWNER_ROLE} nologin;
          end if;
          if not exists (select from pg_roles where rolname = '{PLATFORM_ROLE}') then
            create role {PLATFORM_ROLE} nologin;
          end if;
          if not exists (select from pg_roles where rolname = '{app_role}') then
            create role {app_role} login nobypassrls{password};
          end if;
        end $$;
        """
    )
    execute(f"grant {OWNER_ROLE} to current_user")
    execute(f"grant {PLATFORM_ROLE} to current_user")


def tenant_table(execute: Execute, table: str) -> None:
    """ENABLE + FORCE row-level security with the tenant policy and the platform-path policy."""
    execute(f"alter table {table} enable row level security")
    execute(f"alter table {table} force row level security")
    execute(f"create policy tenant_isolation on {table} using ({TENANT_PREDICATE}) with check ({TENANT_PREDICATE})")
    execute(f"create policy platform_path on {table} to {PLATFORM_ROLE} using (true) with check (true)")


def grant(execute: Execute, table: str, privileges: str, app_role: str) -> None:
    execute(f"grant {privileges} on {table} to {app_role}")
