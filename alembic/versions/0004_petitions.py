"""Petitions: idempotency keys, categories, settings, petitions, attachments, reminders, escalations; the
petition-office role.

Revision ID: 0004
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0004"
down_revision = "0003"  # after the org chart (0002): categories and petitions reference org units
branch_labels = None
depends_on = None


def _tenant_fk() -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"])


def _unit_fk(column: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id", column], ["org_units.tenant_id", "org_units.id"])


def upgrade() -> None:
    app = app_role()

    op.drop_constraint("ck_accounts_role", "accounts", type_="check")
    op.create_check_constraint(
        "ck_accounts_role", "accounts", "role in ('tenant_admin', 'staff', 'petition_officer', 'petitioner')"
    )

    op.create_table(
        "idempotency_keys",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("principal", sa.String(80), nullable=False),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("fingerprint", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("response", sa.LargeBinary),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("expires_at", TS, nullable=False),
        _tenant_fk(),
    )
    op.create_index("uq_idempotency_keys_scope", "idempotency_keys", ["tenant_id", "principal", "key"], unique=True)

    op.create_table(
        "petition_settings",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("followup_days", sa.Integer, nullable=False),
        sa.Column("reminder_hours", pg.ARRAY(sa.Integer), nullable=False),
        sa.Column("holidays", pg.ARRAY(sa.Date), nullable=False),
        sa.Column("workdays", pg.ARRAY(sa.Date), nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _tenant_fk(),
        sa.CheckConstraint("followup_days between 1 and 365", name="ck_petition_settings_followup_days"),
    )

    op.create_table(
        "petition_categories",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name_zh", sa.String(100), nullable=False),
        sa.Column("name_en", sa.String(100), nullable=False),
        sa.Column("description_zh", sa.String(500)),
        sa.Column("description_en", sa.String(500)),
        sa.Column("default_org_unit_id", UUID),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _tenant_fk(),
        _unit_fk("default_org_unit_id"),
        sa.CheckConstraint("code ~ '^[a-z0-9][a-z0-9-]{0,39}$'", name="ck_petition_categories_code"),
    )
    op.create_index("uq_petition_categories_code", "petition_categories", ["tenant_id", "code"], unique=True)

    # Tracking numbers are handed out in blocks per (tenant, year): one row update per block, not per petition.
    op.create_table(
        "petition_numbers",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("year", sa.Integer, primary_key=True),
        sa.Column("next_value", sa.BigInteger, nullable=False),
        _tenant_fk(),
    )

    op.create_table(
        "petitions",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("tracking_number", sa.String(24), nullable=False),
        sa.Column("lookup_hash", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("category_id", UUID, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("content", sa.Text, nullable=False),
        sa.Column("location_text", sa.String(200)),
        sa.Column("lat", sa.Float),
        sa.Column("long", sa.Float),
        sa.Column("anonymous", sa.Boolean, nullable=False),
        sa.Column("petitioner_account_id", UUID),
        sa.Column("registered_by", UUID),
        sa.Column("petitioner_name", sa.LargeBinary),
        sa.Column("petitioner_phone", sa.LargeBinary),
        sa.Column("petitioner_number", sa.LargeBinary),
        sa.Column("participants", sa.Integer, nullable=False),
        sa.Column("representatives", sa.LargeBinary),
        sa.Column("representative_count", sa.SmallInteger, nullable=False),
        sa.Column("accused_org_unit_id", UUID),
        sa.Column("org_unit_id", UUID),
        sa.Column("previous_org_unit_id", UUID),
        sa.Column("state", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("due_at", TS),
        sa.Column("accept_due", TS, nullable=False),
        sa.Column("accepted_at", TS),
        sa.Column("not_accepted_reason", sa.String(500)),
        sa.Column("conclude_due", TS),
        sa.Column("extended_days", sa.SmallInteger),
        sa.Column("extension_reason", sa.String(500)),
        sa.Column("transferred_at", TS),
        sa.Column("objection_due", TS),
        sa.Column("replied_at", TS),
        sa.Column("outcome", sa.String(16)),
        sa.Column("opinion", sa.Text),
        sa.Column("agreement", sa.Text),
        sa.Column("closed_at", TS),
        sa.Column("review_window_until", TS),
        sa.Column("review_requested_at", TS),
        sa.Column("rating", sa.String(24)),
        sa.Column("rating_comment", sa.LargeBinary),
        sa.Column("rated_at", TS),
        sa.Column("rating_stage", sa.String(16)),
        sa.Column("followup_at", TS),
        sa.Column("updated_at", TS, nullable=False),
        sa.Column("search", pg.TSVECTOR, nullable=False),
        _tenant_fk(),
        _unit_fk("org_unit_id"),
        _unit_fk("previous_org_unit_id"),
        _unit_fk("accused_org_unit_id"),
        sa.ForeignKeyConstraint(
            ["tenant_id", "category_id"], ["petition_categories.tenant_id", "petition_categories.id"]
        ),
        sa.CheckConstraint("kind in ('suggestion', 'accusation', 'complaint')", name="ck_petitions_kind"),
        sa.CheckConstraint(
            "channel in ('online', 'mobile', 'letter', 'phone', 'fax', 'visit', 'email', 'open311')",
            name="ck_petitions_channel",
        ),
        sa.CheckConstraint("representative_count between 0 and 5", name="ck_petitions_representatives"),
        sa.CheckConstraint("participants >= 1", name="ck_petitions_participants"),
        sa.CheckConstraint(
            "outcome is null or outcome in ('supported', 'explained', 'not_supported')", name="ck_petitions_outcome"
        ),
        sa.CheckConstraint(
            "rating is null or rating in ('satisfied', 'basically_satisfied', 'dissatisfied')",
            name="ck_petitions_rating",
        ),
        sa.CheckConstraint(
            "extended_days is null or extended_days between 1 and 30", name="ck_petitions_extended_days"
        ),
    )
    op.create_index("uq_petitions_tracking_number", "petitions", ["tenant_id", "tracking_number"], unique=True)
    op.create_index("ix_petitions_state", "petitions", ["tenant_id", "state", "id"])
    op.create_index("ix_petitions_due", "petitions", ["tenant_id", "due_at"])
    op.create_index("ix_petitions_search", "petitions", ["search"], postgresql_using="gin")

    op.create_table(
        "petition_attachments",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("petition_id", UUID, nullable=False),
        sa.Column("media_type", sa.String(100), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("storage_key", sa.String(300), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
    )
    op.create_index("ix_petition_attachments_petition", "petition_attachments", ["tenant_id", "petition_id"])

    op.create_table(
        "petition_reminders",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("petition_id", UUID, primary_key=True),
        sa.Column("key", sa.String(80), primary_key=True),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
    )

    op.create_table(
        "petition_escalations",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("reason_code", sa.String(40), nullable=False),
        sa.Column("requested_by", UUID),
        sa.Column("requested_at", TS, nullable=False),
        sa.Column("incident_id", UUID),
        _tenant_fk(),
    )
    op.create_table(
        "petition_escalation_members",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("escalation_id", UUID, primary_key=True),
        sa.Column("petition_id", UUID, primary_key=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "escalation_id"], ["petition_escalations.tenant_id", "petition_escalations.id"]
        ),
        sa.ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
    )

    for table, privileges in {
        "idempotency_keys": "select, insert, update, delete",
        "petition_settings": "select, insert, update",
        "petition_categories": "select, insert, update",
        "petition_numbers": "select, insert, update",
        "petitions": "select, insert, update",
        "petition_attachments": "select, insert",
        "petition_reminders": "select, insert",
        "petition_escalations": "select, insert, update",
        "petition_escalation_members": "select, insert",
    }.items():
        tenant_table(execute, table)
        grant(execute, table, privileges, app)


def downgrade() -> None:
    for table in (
        "petition_escalation_members",
        "petition_escalations",
        "petition_reminders",
        "petition_attachments",
        "petitions",
        "petition_numbers",
        "petition_categories",
        "petition_settings",
        "idempotency_keys",
    ):
        op.drop_table(table)
    op.drop_constraint("ck_accounts_role", "accounts", type_="check")
    op.create_check_constraint("ck_accounts_role", "accounts", "role in ('tenant_admin', 'staff', 'petitioner')")
