"""Written notices (告知书、意见书): issued notices (insert and read only), their document-number counter per
university and year, and each university's templates.

Revision ID: 0014
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

KINDS = "('acceptance', 'non_acceptance', 'transfer', 'extension', 'reply', 'review', 'rereview')"


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "petition_notice_numbers",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("next_value", sa.Integer, nullable=False),
    )
    op.create_table(
        "petition_notices",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("petition_id", UUID, nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("year", sa.Integer, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("issued_by", UUID),
        sa.Column("replaces_id", UUID),
        sa.Column("correction_reason", sa.String(500)),
        sa.Column("values", JSONB, nullable=False),
        sa.Column("content", JSONB, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"], name="fk_petition_notices_petition"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "replaces_id"],
            ["petition_notices.tenant_id", "petition_notices.id"],
            name="fk_petition_notices_replaces",
        ),
        sa.CheckConstraint(f"kind in {KINDS}", name="ck_petition_notices_kind"),
        sa.CheckConstraint(
            "(replaces_id is null) = (correction_reason is null)", name="ck_petition_notices_correction"
        ),
    )
    op.create_index("uq_petition_notices_number", "petition_notices", ["tenant_id", "year", "seq"], unique=True)
    op.create_index("ix_petition_notices_petition", "petition_notices", ["tenant_id", "petition_id", "issued_at"])
    op.create_table(
        "notice_templates",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("lang", sa.String(8), nullable=False),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", UUID),
        sa.CheckConstraint(f"kind in {KINDS}", name="ck_notice_templates_kind"),
        sa.CheckConstraint("lang in ('zh-CN', 'en')", name="ck_notice_templates_lang"),
    )
    op.create_index("uq_notice_templates_kind_lang", "notice_templates", ["tenant_id", "kind", "lang"], unique=True)
    for table, privileges in {
        "petition_notice_numbers": "select, insert, update",
        # Issued notices are immutable, like the journal: a correction is a new row.
        "petition_notices": "select, insert",
        # Deleting a template returns the university to the packaged default.
        "notice_templates": "select, insert, update, delete",
    }.items():
        tenant_table(execute, table)
        grant(execute, table, privileges, app)


def downgrade() -> None:
    for table in ("notice_templates", "petition_notices", "petition_notice_numbers"):
        op.drop_table(table)
