"""Alembic environment: migrates the database named by XINFANG_DATABASE_URL (a privileged connection).

Tables are created as the owner role (``xinfang_owner``) so that the application role owns nothing; roles,
grants and row-level security policies are migrations too (see ``tenants/ddl.py``).
"""

from __future__ import annotations

import os

from sqlalchemy import create_engine, pool, text

from alembic import context
from tenants.ddl import OWNER_ROLE
from tenants.settings import load_settings

config = context.config


def _url() -> str:
    url = config.get_main_option("sqlalchemy.url") or load_settings(os.environ).database_url
    scheme, _, rest = url.partition("://")
    return url if "+" in scheme else f"postgresql+psycopg://{rest}"


def run_migrations_online() -> None:
    engine = create_engine(_url(), poolclass=pool.NullPool)
    with engine.connect() as connection:
        # Serialize concurrent migrators (several replicas starting at once).
        connection.execute(text("select pg_advisory_lock(hashtext('xinfang-migrate'))"))
        connection.commit()
        # After the first migration the owner role exists and may create in this database: run as it.
        # Before it (a new database), run as the privileged login so 0001 can create roles and grants.
        owner_ready = connection.scalar(
            text(
                "select exists (select from pg_roles where rolname = :r) "
                "and has_schema_privilege(:r, 'public', 'CREATE')"
            ),
            {"r": OWNER_ROLE},
        )
        if owner_ready:
            connection.execute(text(f"set role {OWNER_ROLE}"))
            connection.commit()
        context.configure(connection=connection, target_metadata=None, transaction_per_migration=True)
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
    engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run against a database")
run_migrations_online()
