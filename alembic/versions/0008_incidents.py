"""Emergency incidents: incidents, their petitions, steps, tasks, measures, logistics requests, bulletins,
action items and the reminder claims of the scheduled scan.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql

from alembic import op
from tenants.ddl import app_role, execute, grant, tenant_table

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TABLES = {
    "incidents": "select, insert, update",
    "incident_petitions": "select, insert",
    "incident_steps": "select, insert, update",
    "incident_tasks": "select, insert, update",
    "incident_measures": "select, insert",
    "incident_logistics": "select, insert, update",
    "incident_bulletins": "select, insert, update",
    "incident_action_items": "select, insert, update",
    "incident_reminders": "select, insert",
}


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "incidents",
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("facts", sa.Text(), nullable=False),
        sa.Column("place", sa.String(length=200), nullable=True),
        sa.Column("impact", sa.Text(), nullable=True),
        sa.Column("people_count", sa.Integer(), nullable=False),
        sa.Column("people_groups", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("risk_categories", sa.ARRAY(sa.String(length=40)), nullable=False),
        sa.Column("drill", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("warning_id", sa.UUID(), nullable=True),
        sa.Column("plan_version_id", sa.UUID(), nullable=False),
        sa.Column("plan_number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("public_token", sa.String(length=32), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reported_by", sa.UUID(), nullable=True),
        sa.Column("cause", sa.Text(), nullable=True),
        sa.Column("site_conditions", sa.Text(), nullable=True),
        sa.Column("injuries", sa.Integer(), nullable=False),
        sa.Column("media_attention", sa.Boolean(), nullable=False),
        sa.Column("safety_threat", sa.Boolean(), nullable=False),
        sa.Column("suggested_level", sa.String(length=8), nullable=True),
        sa.Column("level", sa.String(length=8), nullable=True),
        sa.Column("level_reason", sa.String(length=500), nullable=True),
        sa.Column("assessed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("activated", sa.Boolean(), nullable=True),
        sa.Column("instruction", sa.Text(), nullable=True),
        sa.Column("instructed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("response_ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("checklist", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("summary", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("summary_submitted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("summary_approved_by", sa.UUID(), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.CheckConstraint("source in ('staff', 'petitions', 'warning')", name=op.f("ck_incidents_source")),
        sa.CheckConstraint("people_count >= 0 and injuries >= 0", name=op.f("ck_incidents_counts")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "plan_version_id"],
            ["plan_versions.tenant_id", "plan_versions.id"],
            name=op.f("fk_incidents_tenant_id_plan_version_id_plan_versions"),
        ),
        sa.ForeignKeyConstraint(["tenant_id"], ["tenants.id"], name=op.f("fk_incidents_tenant_id_tenants")),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_incidents")),
    )
    op.create_index("ix_incidents_state", "incidents", ["tenant_id", "state", "reported_at"], unique=False)
    op.create_index("uq_incidents_public_token", "incidents", ["tenant_id", "public_token"], unique=True)
    op.create_table(
        "incident_action_items",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("proposal", sa.String(length=1000), nullable=False),
        sa.Column("owner_unit_id", sa.UUID(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "incident_id"],
            ["incidents.tenant_id", "incidents.id"],
            name=op.f("fk_incident_action_items_tenant_id_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "owner_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_incident_action_items_tenant_id_owner_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_incident_action_items")),
    )
    op.create_table(
        "incident_bulletins",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("audience", sa.String(length=16), nullable=False),
        sa.Column("title_zh", sa.String(length=200), nullable=False),
        sa.Column("title_en", sa.String(length=200), nullable=False),
        sa.Column("body_zh", sa.Text(), nullable=False),
        sa.Column("body_en", sa.Text(), nullable=False),
        sa.Column("corrects_id", sa.UUID(), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=True),
        sa.Column("next_update_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("drafted_by", sa.UUID(), nullable=True),
        sa.Column("drafted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.UUID(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("published_by", sa.UUID(), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.CheckConstraint(
            "(kind in ('correction', 'retraction')) = (corrects_id is not null)",
            name=op.f("ck_incident_bulletins_corrects"),
        ),
        sa.CheckConstraint(
            "(state = 'published') = (sequence is not null)", name=op.f("ck_incident_bulletins_sequence")
        ),
        sa.CheckConstraint("audience in ('campus', 'students', 'staff')", name=op.f("ck_incident_bulletins_audience")),
        sa.CheckConstraint(
            "kind in ('initial', 'update', 'correction', 'retraction')", name=op.f("ck_incident_bulletins_kind")
        ),
        sa.CheckConstraint("state in ('draft', 'approved', 'published')", name=op.f("ck_incident_bulletins_state")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "corrects_id"],
            ["incident_bulletins.tenant_id", "incident_bulletins.id"],
            name=op.f("fk_incident_bulletins_tenant_id_corrects_id_incident_bulletins"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "incident_id"],
            ["incidents.tenant_id", "incidents.id"],
            name=op.f("fk_incident_bulletins_tenant_id_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_incident_bulletins")),
    )
    op.create_index(
        "uq_incident_bulletins_sequence", "incident_bulletins", ["tenant_id", "incident_id", "sequence"], unique=True
    )
    op.create_table(
        "incident_logistics",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("item_id", sa.UUID(), nullable=True),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("issued", sa.Integer(), nullable=False),
        sa.Column("returned", sa.Integer(), nullable=False),
        sa.Column("notes", sa.String(length=500), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("requested_by", sa.UUID(), nullable=True),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fulfilled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.CheckConstraint(
            "category in ('water', 'medical', 'venue', 'materials')", name=op.f("ck_incident_logistics_category")
        ),
        sa.CheckConstraint("state in ('requested', 'fulfilled', 'short')", name=op.f("ck_incident_logistics_state")),
        sa.CheckConstraint(
            "quantity > 0 and issued >= 0 and returned between 0 and issued",
            name=op.f("ck_incident_logistics_quantities"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "incident_id"],
            ["incidents.tenant_id", "incidents.id"],
            name=op.f("fk_incident_logistics_tenant_id_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "item_id"],
            ["material_items.tenant_id", "material_items.id"],
            name=op.f("fk_incident_logistics_tenant_id_item_id_material_items"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_incident_logistics")),
    )
    op.create_table(
        "incident_measures",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("org_unit_id", sa.UUID(), nullable=True),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.UUID(), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.CheckConstraint("count >= 0", name=op.f("ck_incident_measures_count")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "incident_id"],
            ["incidents.tenant_id", "incidents.id"],
            name=op.f("fk_incident_measures_tenant_id_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_incident_measures_tenant_id_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_incident_measures")),
    )
    op.create_index(
        "ix_incident_measures_incident", "incident_measures", ["tenant_id", "incident_id", "occurred_at"], unique=False
    )
    op.create_table(
        "incident_petitions",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("petition_id", sa.UUID(), nullable=False),
        sa.Column("escalation_id", sa.UUID(), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "incident_id"],
            ["incidents.tenant_id", "incidents.id"],
            name=op.f("fk_incident_petitions_tenant_id_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "petition_id"],
            ["petitions.tenant_id", "petitions.id"],
            name=op.f("fk_incident_petitions_tenant_id_petition_id_petitions"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "incident_id", "petition_id", name=op.f("pk_incident_petitions")),
    )
    op.create_index("ix_incident_petitions_petition", "incident_petitions", ["tenant_id", "petition_id"], unique=False)
    op.create_table(
        "incident_reminders",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "incident_id"],
            ["incidents.tenant_id", "incidents.id"],
            name=op.f("fk_incident_reminders_tenant_id_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "incident_id", "key", name=op.f("pk_incident_reminders")),
    )
    op.create_table(
        "incident_steps",
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("target_minutes", sa.Integer(), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["tenant_id", "incident_id"],
            ["incidents.tenant_id", "incidents.id"],
            name=op.f("fk_incident_steps_tenant_id_incident_id_incidents"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "incident_id", "step", name=op.f("pk_incident_steps")),
    )
    op.create_table(
        "incident_tasks",
        sa.Column("incident_id", sa.UUID(), nullable=False),
        sa.Column("step", sa.String(length=24), nullable=False),
        sa.Column("org_unit_id", sa.UUID(), nullable=True),
        sa.Column("group_key", sa.String(length=40), nullable=True),
        sa.Column("duty", sa.String(length=1000), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("reassigned_from", sa.UUID(), nullable=True),
        sa.Column("assigned_by", sa.UUID(), nullable=True),
        sa.Column("assigned_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("declined_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decline_reason_code", sa.String(length=40), nullable=True),
        sa.Column("decline_note", sa.String(length=500), nullable=True),
        sa.Column("result", sa.String(length=1000), nullable=True),
        sa.Column("tenant_id", sa.UUID(), nullable=False),
        sa.Column("id", sa.UUID(), nullable=False),
        sa.CheckConstraint(
            "state in ('assigned', 'acknowledged', 'done', 'declined')", name=op.f("ck_incident_tasks_state")
        ),
        sa.CheckConstraint("(org_unit_id is null) <> (group_key is null)", name=op.f("ck_incident_tasks_one_assignee")),
        sa.ForeignKeyConstraint(
            ["tenant_id", "incident_id"],
            ["incidents.tenant_id", "incidents.id"],
            name=op.f("fk_incident_tasks_tenant_id_incident_id_incidents"),
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "org_unit_id"],
            ["org_units.tenant_id", "org_units.id"],
            name=op.f("fk_incident_tasks_tenant_id_org_unit_id_org_units"),
        ),
        sa.PrimaryKeyConstraint("tenant_id", "id", name=op.f("pk_incident_tasks")),
    )
    op.create_index(
        "ix_incident_tasks_incident", "incident_tasks", ["tenant_id", "incident_id", "assigned_at"], unique=False
    )

    for table, privileges in TABLES.items():
        tenant_table(execute, table)
        grant(execute, table, privileges, app)


def downgrade() -> None:
    for table in reversed(list(TABLES)):
        op.drop_table(table)
