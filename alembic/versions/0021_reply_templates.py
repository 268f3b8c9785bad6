"""Reply templates (答复模板): each university's wording of common handling opinions, picked on the reply form.

And the queue's counts per state from an index alone: ``ix_petitions_state`` (tenant_id, state, id) becomes
``ix_petitions_state_scope`` with the columns the accusation shield of the scope rule reads (kind, accused unit)
included, so counting a university's 100,000 petitions by state is an index-only scan (about 30 ms) instead of a
scan of the whole table (about 140 ms; ``tests/bench/console.py``).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "reply_templates",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("outcome", sa.String(16)),
        sa.Column("body", sa.String(4000), nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(
            "outcome is null or outcome in ('supported', 'explained', 'not_supported')",
            name="ck_reply_templates_outcome",
        ),
    )
    op.create_index("uq_reply_templates_title", "reply_templates", ["tenant_id", "title"], unique=True)
    tenant_table(execute, "reply_templates")
    grant(execute, "reply_templates", "select, insert, update, delete", app)
    op.create_index(
        "ix_petitions_state_scope",
        "petitions",
        ["tenant_id", "state", "id"],
        postgresql_include=["kind", "accused_org_unit_id"],
    )
    op.drop_index("ix_petitions_state", table_name="petitions")


def downgrade() -> None:
    op.create_index("ix_petitions_state", "petitions", ["tenant_id", "state", "id"])
    op.drop_index("ix_petitions_state_scope", table_name="petitions")
    op.drop_table("reply_templates")
