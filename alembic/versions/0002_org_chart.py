"""Organization chart (units, people, emergency groups) and the materials inventory with its ledger.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _tenant_fk(columns: list[str], table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(["tenant_id", *columns], [f"{table}.tenant_id", f"{table}.id"])


def upgrade() -> None:
    app = app_role()

    op.create_table(
        "org_units",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("parent_id", UUID),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _tenant_fk(["parent_id"], "org_units"),
        sa.CheckConstraint("kind in ('university', 'office', 'college', 'center', 'group')", name="ck_org_units_kind"),
        # The university is the one root; every other unit hangs below a parent.
        sa.CheckConstraint("(kind = 'university') = (parent_id is null)", name="ck_org_units_root"),
        sa.CheckConstraint("parent_id <> id", name="ck_org_units_not_own_parent"),
    )
    op.create_index("uq_org_units_tenant_code", "org_units", ["tenant_id", "code"], unique=True)
    op.create_index("ix_org_units_tenant_parent", "org_units", ["tenant_id", "parent_id"])
    op.create_index(
        "uq_org_units_tenant_university",
        "org_units",
        ["tenant_id"],
        unique=True,
        postgresql_where=sa.text("kind = 'university'"),
    )

    op.create_table(
        "people",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("staff_number", sa.LargeBinary, nullable=False),
        sa.Column("staff_number_hash", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.LargeBinary, nullable=False),
        sa.Column("name_en", sa.LargeBinary),
        sa.Column("title_zh", sa.String(200)),
        sa.Column("title_en", sa.String(200)),
        sa.Column("unit_id", UUID, nullable=False),
        sa.Column("account_id", UUID),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _tenant_fk(["unit_id"], "org_units"),
        _tenant_fk(["account_id"], "accounts"),
    )
    op.create_index("uq_people_tenant_staff_number", "people", ["tenant_id", "staff_number_hash"], unique=True)
    op.create_index("ix_people_tenant_unit", "people", ["tenant_id", "unit_id"])
    op.create_index(
        "ix_people_tenant_account",
        "people",
        ["tenant_id", "account_id"],
        postgresql_where=sa.text("account_id is not null"),
    )

    op.create_table(
        "emergency_groups",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("key", sa.String(40), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("duties_zh", sa.Text, nullable=False),
        sa.Column("duties_en", sa.Text, nullable=False),
        sa.Column("leader_post_zh", sa.String(500)),
        sa.Column("leader_post_en", sa.String(500)),
        sa.Column("deputy_posts_zh", sa.String(500)),
        sa.Column("deputy_posts_en", sa.String(500)),
        sa.Column("member_posts_zh", sa.String(500)),
        sa.Column("member_posts_en", sa.String(500)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("key ~ '^[a-z][a-z0-9_]{1,39}$'", name="ck_emergency_groups_key"),
    )
    op.create_index("uq_emergency_groups_tenant_key", "emergency_groups", ["tenant_id", "key"], unique=True)

    op.create_table(
        "group_members",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("group_id", UUID, nullable=False),
        sa.Column("person_id", UUID, nullable=False),
        sa.Column("role", sa.String(8), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        _tenant_fk(["group_id"], "emergency_groups"),
        _tenant_fk(["person_id"], "people"),
        sa.CheckConstraint("role in ('leader', 'deputy', 'member')", name="ck_group_members_role"),
    )
    op.create_index(
        "uq_group_members_tenant_group_person", "group_members", ["tenant_id", "group_id", "person_id"], unique=True
    )
    # At most one leader per group, whatever the application does.
    op.create_index(
        "uq_group_members_one_leader",
        "group_members",
        ["tenant_id", "group_id"],
        unique=True,
        postgresql_where=sa.text("role = 'leader'"),
    )
    op.create_index("ix_group_members_tenant_person", "group_members", ["tenant_id", "person_id"])

    op.create_table(
        "material_items",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("code", sa.String(64), nullable=False),
        sa.Column("name_zh", sa.String(200), nullable=False),
        sa.Column("name_en", sa.String(200), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("location", sa.String(200)),
        sa.Column("org_unit_id", UUID),
        sa.Column("expires_on", sa.Date),
        sa.Column("quantity", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        _tenant_fk(["org_unit_id"], "org_units"),
        sa.CheckConstraint(
            "category in ('communication', 'medical', 'safety', 'logistics', 'custom')",
            name="ck_material_items_category",
        ),
        sa.CheckConstraint("quantity >= 0", name="ck_material_items_quantity_not_negative"),
    )
    op.create_index("uq_material_items_tenant_code", "material_items", ["tenant_id", "code"], unique=True)

    op.create_table(
        "material_ledger",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("item_id", UUID, nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("delta", sa.Integer, nullable=False),
        sa.Column("balance_after", sa.Integer, nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("actor_id", UUID),
        sa.Column("incident_id", UUID),
        sa.Column("occurred_at", TS, nullable=False),
        _tenant_fk(["item_id"], "material_items"),
        sa.CheckConstraint(
            "(kind in ('receive', 'return') and delta > 0) or (kind in ('issue', 'write_off') and delta < 0) "
            "or (kind = 'adjust' and delta <> 0)",
            name="ck_material_ledger_kind_delta",
        ),
    )
    op.create_index("ix_material_ledger_tenant_item", "material_ledger", ["tenant_id", "item_id", "occurred_at"])
    op.create_index(
        "ix_material_ledger_tenant_incident",
        "material_ledger",
        ["tenant_id", "incident_id"],
        postgresql_where=sa.text("incident_id is not null"),
    )

    # The stock level is the running sum of the ledger, maintained by the database itself: each ledger row moves
    # the item's quantity in the same statement (the row lock serializes concurrent issues, and the CHECK on
    # material_items refuses a balance below zero, failing the ledger insert with it). The function runs as the
    # owner because the application role may not write the quantity column directly.
    execute(
        """
        create function material_ledger_apply() returns trigger
        language plpgsql security definer set search_path = public as $$
        begin
          update material_items set quantity = quantity + new.delta, updated_at = now()
           where tenant_id = new.tenant_id and id = new.item_id
          returning quantity into new.balance_after;
          if not found then
            raise exception 'unknown material item' using errcode = 'foreign_key_violation';
          end if;
          return new;
        end
        $$
        """
    )
    execute("revoke all on function material_ledger_apply() from public")
    execute(
        "create trigger material_ledger_apply before insert on material_ledger "
        "for each row execute function material_ledger_apply()"
    )

    for table in ("org_units", "people", "emergency_groups", "group_members", "material_items", "material_ledger"):
        tenant_table(execute, table)
    # Units and people are deactivated, never deleted: history points at them.
    grant(execute, "org_units", "select, insert, update", app)
    grant(execute, "people", "select, insert, update", app)
    grant(execute, "emergency_groups", "select, insert, update", app)
    # A membership is a current assignment, not history (the journal keeps that): removal deletes it.
    grant(execute, "group_members", "select, insert, update, delete", app)
    # Items: the quantity column is written only by the ledger trigger.
    item_columns = "tenant_id, id, category, code, name_zh, name_en, unit, location, org_unit_id, expires_on, active"
    grant(execute, "material_items", f"select, insert ({item_columns}, created_at, updated_at)", app)
    grant(
        execute,
        "material_items",
        "update (name_zh, name_en, unit, location, org_unit_id, expires_on, active, updated_at)",
        app,
    )
    # Append-only for the application.
    grant(execute, "material_ledger", "select, insert", app)


def downgrade() -> None:
    execute("drop trigger if exists material_ledger_apply on material_ledger")
    for table in ("material_ledger", "material_items", "group_members", "emergency_groups", "people", "org_units"):
        op.drop_table(table)
    execute("drop function if exists material_ledger_apply()")
