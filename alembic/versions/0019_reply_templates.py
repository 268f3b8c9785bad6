"""Reply templates (答复模板): each university's wording of common handling opinions, picked on the reply form.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0019"
down_revision = "0018"
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


def downgrade() -> None:
    op.drop_table("reply_templates")
