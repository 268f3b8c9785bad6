"""Evaluation reports: immutable snapshots per (university, period kind, period start), and on-demand requests.

A report row is never updated or deleted by the application: a recomputation with the same inputs finds its row
by the content hash; different inputs (a new watermark) add the next revision, and the newest revision is current.

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

KINDS = "kind in ('monthly', 'quarterly', 'yearly')"


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "reports",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("watermark_seq", sa.BigInteger, nullable=False),
        sa.Column("watermark_count", sa.BigInteger, nullable=False),
        sa.Column("plan_version_id", UUID),
        sa.Column("plan_version_number", sa.Integer),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("generated_at", TS, nullable=False),
        sa.CheckConstraint(KINDS, name="ck_reports_kind"),
        sa.CheckConstraint("period_end > period_start", name="ck_reports_period"),
    )
    op.create_index(
        "uq_reports_period_content", "reports", ["tenant_id", "kind", "period_start", "content_hash"], unique=True
    )
    op.create_index(
        "uq_reports_period_revision", "reports", ["tenant_id", "kind", "period_start", "revision"], unique=True
    )
    op.create_table(
        "report_requests",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("requested_by", UUID),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("report_id", UUID),
        sa.Column("completed_at", TS),
        sa.ForeignKeyConstraint(
            ["tenant_id", "report_id"], ["reports.tenant_id", "reports.id"], name="fk_report_requests_report"
        ),
        sa.CheckConstraint(KINDS, name="ck_report_requests_kind"),
    )
    for table in ("reports", "report_requests"):
        tenant_table(execute, table)
    # Snapshots are immutable for the application: insert and read only.
    grant(execute, "reports", "select, insert", app)
    grant(execute, "report_requests", "select, insert, update", app)


def downgrade() -> None:
    for table in ("report_requests", "reports"):
        op.drop_table(table)
