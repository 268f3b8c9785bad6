"""Emergency plan versions, open material shortages, training sessions and drills.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _account_fk(column: str, table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["tenant_id", column], ["accounts.tenant_id", "accounts.id"], name=f"fk_{table}_tenant_id_{column}_accounts"
    )


def upgrade() -> None:
    app = app_role()

    op.create_table(
        "plan_versions",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("content", pg.JSONB, nullable=False),
        sa.Column("based_on_id", UUID),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", UUID),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("updated_by", UUID),
        sa.Column("published_at", TS),
        sa.Column("published_by", UUID),
        sa.Column("superseded_at", TS),
        sa.Column("superseded_by_id", UUID),
        sa.ForeignKeyConstraint(
            ["tenant_id", "based_on_id"],
            ["plan_versions.tenant_id", "plan_versions.id"],
            name="fk_plan_versions_tenant_id_based_on_id_plan_versions",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "superseded_by_id"],
            ["plan_versions.tenant_id", "plan_versions.id"],
            name="fk_plan_versions_tenant_id_superseded_by_id_plan_versions",
        ),
        _account_fk("created_by", "plan_versions"),
        _account_fk("updated_by", "plan_versions"),
        _account_fk("published_by", "plan_versions"),
        sa.CheckConstraint("status in ('draft', 'published', 'superseded')", name="ck_plan_versions_status"),
        sa.CheckConstraint("number > 0 and revision > 0", name="ck_plan_versions_counters"),
        sa.CheckConstraint("(status = 'draft') = (published_at is null)", name="ck_plan_versions_published_at"),
        sa.CheckConstraint(
            "(status = 'superseded') = (superseded_at is not null)", name="ck_plan_versions_superseded_at"
        ),
    )
    op.create_index("uq_plan_versions_tenant_number", "plan_versions", ["tenant_id", "number"], unique=True)
    # Exactly one version in force, at most one draft: enforced by the database, not only by the service.
    op.create_index(
        "uq_plan_versions_one_published",
        "plan_versions",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("status = 'published'"),
    )
    op.create_index(
        "uq_plan_versions_one_draft",
        "plan_versions",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("status = 'draft'"),
    )

    op.create_table(
        "material_shortages",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("code", sa.String(40), primary_key=True),
        sa.Column("required", sa.Integer, nullable=False),
        sa.Column("available", sa.Integer, nullable=False),
        sa.Column("since", TS, nullable=False),
    )

    op.create_table(
        "training_sessions",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("notes", sa.String(4000)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", UUID),
        _account_fk("created_by", "training_sessions"),
        sa.CheckConstraint("kind in ('training', 'drill')", name="ck_training_sessions_kind"),
    )
    op.create_index("ix_training_sessions_tenant_held_on", "training_sessions", ["tenant_id", "held_on"])
    op.create_table(
        "training_participants",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("session_id", UUID, primary_key=True),
        sa.Column("person_id", UUID, primary_key=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "session_id"],
            ["training_sessions.tenant_id", "training_sessions.id"],
            name="fk_training_participants_tenant_id_session_id_training_sessions",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "person_id"],
            ["people.tenant_id", "people.id"],
            name="fk_training_participants_tenant_id_person_id_people",
        ),
    )
    op.create_index("ix_training_participants_tenant_person", "training_participants", ["tenant_id", "person_id"])

    for table in ("plan_versions", "material_shortages", "training_sessions", "training_participants"):
        tenant_table(execute, table)
    grant(execute, "plan_versions", "select, insert, update", app)
    grant(execute, "training_sessions", "select, insert, update", app)
    grant(execute, "training_participants", "select, insert", app)
    # A shortage row is state, not history (the journal keeps the history): it goes when the shortage does.
    grant(execute, "material_shortages", "select, insert, update, delete", app)


def downgrade() -> None:
    for table in ("training_participants", "training_sessions", "material_shortages", "plan_versions"):
        op.drop_table(table)
