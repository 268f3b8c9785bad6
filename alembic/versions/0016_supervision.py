"""Supervision orders (督查督办) and leaders' reception days (领导接访): sessions, bookings, and on the petition the
reception session it was received at and the person who took personal charge of it (包案).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

STATES = "('issued', 'answered', 'accepted', 'returned', 'closed')"


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "supervision_orders",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("petition_id", UUID),
        sa.Column("task_id", UUID),
        sa.Column("incident_id", UUID),
        sa.Column("org_unit_id", UUID, nullable=False),
        sa.Column("expected", sa.String(2000), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("issued_by", UUID),
        sa.Column("issued_at", TS, nullable=False),
        sa.Column("answer", sa.String(4000)),
        sa.Column("answered_by", UUID),
        sa.Column("answered_at", TS),
        sa.Column("review_note", sa.String(2000)),
        sa.Column("closed_at", TS),
        sa.Column("overdue_at", TS),
        sa.Column("escalated_to_unit_id", UUID),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
        sa.ForeignKeyConstraint(["tenant_id", "task_id"], ["incident_tasks.tenant_id", "incident_tasks.id"]),
        sa.ForeignKeyConstraint(["tenant_id", "incident_id"], ["incidents.tenant_id", "incidents.id"]),
        sa.ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        sa.ForeignKeyConstraint(["tenant_id", "escalated_to_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        sa.CheckConstraint(f"state in {STATES}", name="ck_supervision_orders_state"),
        sa.CheckConstraint("(petition_id is null) <> (task_id is null)", name="ck_supervision_orders_subject"),
        sa.CheckConstraint("(task_id is null) = (incident_id is null)", name="ck_supervision_orders_incident"),
    )
    op.create_index("ix_supervision_orders_unit", "supervision_orders", ["tenant_id", "org_unit_id", "issued_at"])
    op.create_index("ix_supervision_orders_due", "supervision_orders", ["tenant_id", "due_at"])
    op.create_index("ix_supervision_orders_petition", "supervision_orders", ["tenant_id", "petition_id"])
    op.create_table(
        "reception_sessions",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("starts_at", TS, nullable=False),
        sa.Column("ends_at", TS, nullable=False),
        sa.Column("place_zh", sa.String(200), nullable=False),
        sa.Column("place_en", sa.String(200), nullable=False),
        sa.Column("leader_person_id", UUID, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("booked", sa.Integer, nullable=False),
        sa.Column("cancelled", sa.Boolean, nullable=False),
        sa.Column("created_by", UUID),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "leader_person_id"], ["people.tenant_id", "people.id"]),
        sa.CheckConstraint("ends_at > starts_at", name="ck_reception_sessions_window"),
        sa.CheckConstraint("capacity between 1 and 500", name="ck_reception_sessions_capacity"),
        sa.CheckConstraint("booked between 0 and capacity", name="ck_reception_sessions_booked"),
    )
    op.create_index("ix_reception_sessions_starts", "reception_sessions", ["tenant_id", "starts_at"])
    op.create_table(
        "reception_bookings",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("session_id", UUID, nullable=False),
        sa.Column("petition_id", UUID, nullable=False),
        sa.Column("slot", sa.Integer, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(["tenant_id", "session_id"], ["reception_sessions.tenant_id", "reception_sessions.id"]),
        sa.ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
    )
    op.create_index(
        "uq_reception_bookings_petition", "reception_bookings", ["tenant_id", "session_id", "petition_id"], unique=True
    )
    op.create_index(
        "uq_reception_bookings_slot", "reception_bookings", ["tenant_id", "session_id", "slot"], unique=True
    )
    op.add_column("petitions", sa.Column("reception_session_id", UUID))
    op.add_column("petitions", sa.Column("in_charge_person_id", UUID))
    op.create_foreign_key(
        "fk_petitions_reception_session",
        "petitions",
        "reception_sessions",
        ["tenant_id", "reception_session_id"],
        ["tenant_id", "id"],
    )
    op.create_foreign_key(
        "fk_petitions_in_charge_person",
        "petitions",
        "people",
        ["tenant_id", "in_charge_person_id"],
        ["tenant_id", "id"],
    )
    for table, privileges in {
        "supervision_orders": "select, insert, update",
        "reception_sessions": "select, insert, update",
        "reception_bookings": "select, insert",
    }.items():
        tenant_table(execute, table)
        grant(execute, table, privileges, app)


def downgrade() -> None:
    op.drop_constraint("fk_petitions_in_charge_person", "petitions")
    op.drop_constraint("fk_petitions_reception_session", "petitions")
    op.drop_column("petitions", "in_charge_person_id")
    op.drop_column("petitions", "reception_session_id")
    for table in ("reception_bookings", "reception_sessions", "supervision_orders"):
        op.drop_table(table)
