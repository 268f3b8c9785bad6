"""Foundation: roles, tenants, identity, the journal, relay and scheduler bookkeeping, the broker schema.

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from __future__ import annotations

import os

import sqlalchemy as sa
from dramatiq_postgres import generate_init_sql
from sqlalchemy.dialects import postgresql as pg

from alembic import op
from tenants.ddl import OWNER_ROLE, PLATFORM_ROLE, TS, UUID, create_roles, execute, grant, tenant_table
from tenants.settings import load_settings

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    settings = load_settings(os.environ)
    app = settings.app_db_role

    # Privileged part: roles, schema rights, ownership of alembic's own table.
    execute("reset role")
    create_roles(execute, app, settings.app_db_password)
    execute(f"grant usage, create on schema public to {OWNER_ROLE}")
    execute(
        "do $$ begin execute 'grant create on database ' || quote_ident(current_database()) "
        f"|| ' to {OWNER_ROLE}'; end $$"
    )
    execute(f"grant usage on schema public to {app}, {PLATFORM_ROLE}")
    execute(f"alter table alembic_version owner to {OWNER_ROLE}")
    execute(f"set role {OWNER_ROLE}")

    # Global tables (reference tables on Citus).
    op.create_table(
        "tenants",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("slug", sa.String(63), nullable=False, unique=True),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("province_code", sa.String(6), nullable=False),
        sa.Column("timezone", sa.String(64), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("suspended_at", TS),
        sa.Column("provisioned_at", TS),
        sa.CheckConstraint("status in ('active', 'suspended')", name="ck_tenants_status"),
        sa.CheckConstraint("province_code ~ '^[0-9]{6}$'", name="ck_tenants_province_code"),
    )
    op.create_table(
        "platform_accounts",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False, unique=True),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("province_code", sa.String(6)),
        sa.Column("display_name", sa.LargeBinary),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("token_version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("role in ('platform_admin', 'bureau_viewer')", name="ck_platform_accounts_role"),
        sa.CheckConstraint(
            "role <> 'bureau_viewer' or province_code is not null",
            name="ck_platform_accounts_bureau_province",
        ),
    )
    op.create_table(
        "platform_tokens",
        sa.Column("id", UUID, primary_key=True),
        sa.Column("account_id", UUID, sa.ForeignKey("platform_accounts.id"), nullable=False),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_table(
        "journal_cursors",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("txid", sa.BigInteger, nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False, server_default=sa.func.now()),
    )
    op.create_table(
        "scheduler_leases",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(120), nullable=False),
        sa.Column("expires_at", TS, nullable=False),
    )
    op.create_table(
        "schedule_runs",
        sa.Column("job", sa.String(80), primary_key=True),
        sa.Column("period_key", sa.String(80), primary_key=True),
        sa.Column("enqueued_at", TS, nullable=False, server_default=sa.func.now()),
    )
    for table, privileges in {
        "tenants": "select, insert, update",
        "platform_accounts": "select, insert, update",
        "platform_tokens": "select, insert, update",
        "journal_cursors": "select, insert, update",
        "scheduler_leases": "select, insert, update, delete",
        "schedule_runs": "select, insert",
    }.items():
        grant(execute, table, privileges, app)

    # Tenant tables: tenant_id leads every key; RLS enabled and forced.
    op.create_table(
        "accounts",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("email", sa.String(254), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(32), nullable=False),
        sa.Column("display_name", sa.LargeBinary),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("token_version", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.CheckConstraint("role in ('tenant_admin', 'staff', 'petitioner')", name="ck_accounts_role"),
    )
    op.create_index("uq_accounts_tenant_email", "accounts", ["tenant_id", "email"], unique=True)
    op.create_table(
        "api_keys",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("name", sa.String(120), nullable=False),
        sa.Column("scopes", pg.ARRAY(sa.String(40)), nullable=False),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("created_by", UUID),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("revoked_at", TS),
    )
    op.create_table(
        "journal",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column(
            "txid",
            sa.BigInteger,
            nullable=False,
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
        ),
        sa.Column("seq", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("type", sa.String(80), nullable=False),
        sa.Column("actor_id", UUID),
        sa.Column("petition_id", UUID),
        sa.Column("incident_id", UUID),
        sa.Column("org_unit_id", UUID),
        sa.Column("subject_id", UUID),
        sa.Column("payload", pg.JSONB, nullable=False),
    )
    op.create_index("ix_journal_txid_seq", "journal", ["txid", "seq"])
    op.create_index("ix_journal_tenant_type_occurred", "journal", ["tenant_id", "type", "occurred_at"])
    for table in ("accounts", "api_keys", "journal"):
        tenant_table(execute, table)
    grant(execute, "accounts", "select, insert, update", app)
    grant(execute, "api_keys", "select, insert, update", app)
    # Append-only: the application may add and read events, never change or remove them.
    grant(execute, "journal", "select, insert", app)
    grant(execute, "journal", "select", PLATFORM_ROLE)

    # The relay's feed across tenants: the platform path, one narrow function. Only events whose
    # transaction is older than every running transaction are returned, so none can appear behind the cursor.
    execute(
        """
        create function journal_feed(after_txid bigint, after_seq bigint, max_rows integer)
        returns table (tenant_id uuid, id uuid, txid bigint, seq bigint, occurred_at timestamptz, type text,
                       actor_id uuid, petition_id uuid, incident_id uuid, org_unit_id uuid, subject_id uuid,
                       payload jsonb)
        language sql stable security definer set search_path = public as $$
          select j.tenant_id, j.id, j.txid, j.seq, j.occurred_at, j.type, j.actor_id, j.petition_id,
                 j.incident_id, j.org_unit_id, j.subject_id, j.payload
            from journal j
           where (j.txid, j.seq) > (after_txid, after_seq)
             and j.txid < (pg_snapshot_xmin(pg_current_snapshot())::text)::bigint
           order by j.txid, j.seq
           limit max_rows
        $$
        """
    )
    execute("revoke all on function journal_feed(bigint, bigint, integer) from public")
    execute(f"grant execute on function journal_feed(bigint, bigint, integer) to {app}")

    # The PostgreSQL broker's schema (dramatiq-postgres), usable by the application role.
    execute(generate_init_sql("dramatiq", ""))
    execute(f"grant usage on schema dramatiq to {app}")
    execute(f"grant select, insert, update, delete on all tables in schema dramatiq to {app}")
    execute(f"grant usage on all sequences in schema dramatiq to {app}")

    execute("reset role")
    execute(f"alter function journal_feed(bigint, bigint, integer) owner to {PLATFORM_ROLE}")
    execute(f"set role {OWNER_ROLE}")


def downgrade() -> None:
    raise NotImplementedError("the foundation migration is not reversible; restore from a backup instead")
