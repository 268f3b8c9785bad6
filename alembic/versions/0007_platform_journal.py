"""Platform journal: what operators did to whole universities (export, import, offboarding).

A global table (a reference table on Citus): its rows outlive the university they describe, so they cannot
live in the tenant's own journal, which offboarding deletes. Append-only: written by the operator's
privileged CLI path (as the owner role), readable by the application, changed by nobody.

Revision ID: 0007
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from alembic import op
from tenants.ddl import PLATFORM_ROLE, app_role, grant

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "platform_journal",
        sa.Column("id", pg.UUID(as_uuid=True), primary_key=True),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("type", sa.String(80), nullable=False),
        # Not named tenant_id: a tenant_id column marks a tenant table (RLS, distributed on Citus); this one is
        # global. No foreign key: the university may be gone (that is the point of this table).
        sa.Column("university_id", pg.UUID(as_uuid=True), nullable=False),
        # Who ran it: the operator's database login and OS user, never personal data of a university.
        sa.Column("actor", sa.String(200), nullable=False),
        sa.Column("payload", pg.JSONB, nullable=False),
    )
    op.create_index("ix_platform_journal_university_occurred", "platform_journal", ["university_id", "occurred_at"])
    grant(op.get_bind().exec_driver_sql, "platform_journal", "select", app)
    grant(op.get_bind().exec_driver_sql, "platform_journal", "select", PLATFORM_ROLE)


def downgrade() -> None:
    op.drop_table("platform_journal")
