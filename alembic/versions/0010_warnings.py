"""Early warnings: surges of petitions on one category, org unit or place against the university's baseline.

Revision ID: 0010
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "warnings",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("key_kind", sa.String(16), nullable=False),
        sa.Column("key", sa.String(80), nullable=False),
        sa.Column("org_unit_id", UUID),
        sa.Column("raised_at", TS, nullable=False),
        sa.Column("window_start", TS, nullable=False),
        sa.Column("window_end", TS, nullable=False),
        sa.Column("window_count", sa.Integer, nullable=False),
        sa.Column("baseline", sa.Float, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("peak_count", sa.Integer, nullable=False),
        sa.Column("last_seen_at", TS, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("dismissed_at", TS),
        sa.Column("dismissed_by", UUID),
        sa.Column("dismiss_reason", sa.String(500)),
        # Reserved for the incidents domain: the incident opened from this warning.
        sa.Column("incident_id", UUID),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"], name="fk_warnings_org_unit"
        ),
        sa.CheckConstraint("key_kind in ('category', 'org_unit', 'place')", name="ck_warnings_key_kind"),
        sa.CheckConstraint("state in ('open', 'dismissed', 'incident_opened')", name="ck_warnings_state"),
        sa.CheckConstraint("(state = 'dismissed') = (dismissed_at is not null)", name="ck_warnings_dismissed"),
    )
    op.create_index("ix_warnings_key_seen", "warnings", ["tenant_id", "key_kind", "key", "last_seen_at"])
    op.create_index("ix_warnings_state_raised", "warnings", ["tenant_id", "state", "raised_at"])
    # The scan reads each university's recent petitions every few minutes: by arrival time, not the whole table.
    op.create_index("ix_petitions_received", "petitions", ["tenant_id", "received_at"])
    tenant_table(execute, "warnings")
    grant(execute, "warnings", "select, insert, update", app)


def downgrade() -> None:
    op.drop_index("ix_petitions_received", table_name="petitions")
    op.drop_table("warnings")
