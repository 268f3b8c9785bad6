"""Sessions and passwords: the pending password change of issued passwords, sign-in throttling counters; and the
cross-references that had no foreign key get one that includes ``tenant_id``.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import TS, app_role, execute, grant

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

# (table, column, target table): references written before their target table existed, or left loose.
# Composite, so a row can never point at another university's row; MATCH SIMPLE, so a NULL reference is allowed.
CROSS_REFERENCES = (
    ("material_ledger", "incident_id", "incidents"),
    ("warnings", "incident_id", "incidents"),
    ("incidents", "warning_id", "warnings"),
    ("petition_escalations", "incident_id", "incidents"),
    ("incident_petitions", "escalation_id", "petition_escalations"),
    ("reports", "plan_version_id", "plan_versions"),
)


def _fk_name(table: str, column: str) -> str:
    return f"fk_{table}_{column}"


def upgrade() -> None:
    app = app_role()
    # Set on a password an admin issued (onboarding, account creation, reset): every route but changing it,
    # signing out and "who am I" is refused until the owner has chosen their own.
    for table in ("accounts", "platform_accounts"):
        op.add_column(table, sa.Column("must_change_password", sa.Boolean, nullable=False, server_default=sa.false()))
    # Failed sign-ins per account (hash of university slug and email) and per client address (hash): global
    # rows, no personal data in clear, shared by every API replica. A row is deleted on success or when stale.
    op.create_table(
        "sign_in_failures",
        sa.Column("key", sa.String(64), primary_key=True),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("last_failure_at", TS, nullable=False),
        sa.Column("locked_until", TS),
    )
    grant(execute, "sign_in_failures", "select, insert, update, delete", app)
    for table, column, target in CROSS_REFERENCES:
        op.create_foreign_key(_fk_name(table, column), table, target, ["tenant_id", column], ["tenant_id", "id"])


def downgrade() -> None:
    for table, column, _ in reversed(CROSS_REFERENCES):
        op.drop_constraint(_fk_name(table, column), table, type_="foreignkey")
    op.drop_table("sign_in_failures")
    for table in ("accounts", "platform_accounts"):
        op.drop_column(table, "must_change_password")
