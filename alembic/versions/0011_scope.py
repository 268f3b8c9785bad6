"""Who sees what: secondary posts of people (an account's further units), the petition access log, the Open311
anonymous-listing setting, and the indexes the scope policy filters on.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from alembic import op
from tenants.ddl import TS, UUID, app_role, execute, grant, tenant_table

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = app_role()
    # A person's secondary posts (兼职): more org units for the accounts linked to that person.
    op.create_table(
        "person_posts",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("person_id", UUID, nullable=False),
        sa.Column("unit_id", UUID, nullable=False),
        sa.Column("title_zh", sa.String(200)),
        sa.Column("title_en", sa.String(200)),
        sa.Column("created_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "person_id"], ["people.tenant_id", "people.id"], name="fk_person_posts_person"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "unit_id"], ["org_units.tenant_id", "org_units.id"], name="fk_person_posts_unit"
        ),
    )
    op.create_index("uq_person_posts_person_unit", "person_posts", ["tenant_id", "person_id", "unit_id"], unique=True)
    tenant_table(execute, "person_posts")
    grant(execute, "person_posts", "select, insert, delete", app)

    # Every response that carried a petitioner's decrypted personal data: who, which petition, which fields,
    # when, from which route. Never a personal value. The application may add, read and purge rows (after the
    # retention), never change them.
    op.create_table(
        "petition_access_log",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("occurred_at", TS, nullable=False),
        sa.Column("actor_kind", sa.String(16), nullable=False),
        sa.Column("account_id", UUID),
        sa.Column("api_key_id", UUID),
        sa.Column("petition_id", UUID, nullable=False),
        sa.Column("fields", pg.ARRAY(sa.String(40)), nullable=False),
        sa.Column("method", sa.String(8), nullable=False),
        sa.Column("route", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(64)),
        sa.ForeignKeyConstraint(
            ["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"], name="fk_petition_access_petition"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"], name="fk_petition_access_account"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "api_key_id"], ["api_keys.tenant_id", "api_keys.id"], name="fk_petition_access_api_key"
        ),
        sa.CheckConstraint("actor_kind in ('account', 'api_key')", name="ck_petition_access_log_actor_kind"),
        sa.CheckConstraint("cardinality(fields) > 0", name="ck_petition_access_log_fields"),
    )
    op.create_index("ix_petition_access_log_occurred", "petition_access_log", ["tenant_id", "occurred_at"])
    op.create_index("ix_petition_access_log_petition", "petition_access_log", ["tenant_id", "petition_id", "id"])
    op.create_index("ix_petition_access_log_account", "petition_access_log", ["tenant_id", "account_id", "id"])
    tenant_table(execute, "petition_access_log")
    grant(execute, "petition_access_log", "select, insert, delete", app)

    op.add_column(
        "petition_settings",
        sa.Column("open311_anonymous_listing", sa.Boolean, nullable=False, server_default=sa.true()),
    )
    # The scope policy filters staff lists on the current unit and on who registered the petition.
    op.create_index("ix_petitions_unit", "petitions", ["tenant_id", "org_unit_id", "id"])
    op.create_index(
        "ix_petitions_registered_by",
        "petitions",
        ["tenant_id", "registered_by"],
        postgresql_where=sa.text("registered_by is not null"),
    )


def downgrade() -> None:
    op.drop_index("ix_petitions_registered_by", table_name="petitions")
    op.drop_index("ix_petitions_unit", table_name="petitions")
    op.drop_column("petition_settings", "open311_anonymous_listing")
    op.drop_table("petition_access_log")
    op.drop_table("person_posts")
