"""An incident's journal read by its id: the timeline (API and command board) and the summary report filter the
journal on ``incident_id``, which no index led with, so each read scanned the university's whole history. A
partial index (only incidents' events carry the id) in the timeline's order.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_journal_tenant_incident",
        "journal",
        ["tenant_id", "incident_id", "occurred_at", "seq"],
        postgresql_where=sa.text("incident_id is not null"),
    )


def downgrade() -> None:
    op.drop_index("ix_journal_tenant_incident", table_name="journal")
