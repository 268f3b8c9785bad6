"""Campus places: a university's list of places (a canteen, a dormitory, a gate) with their coordinates, which a
petitioner picks on a phone instead of a map pin; the petition then carries the place's coordinates, so the
early-warning scan sees its place key.

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "petition_settings",
        sa.Column("places", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )


def downgrade() -> None:
    op.drop_column("petition_settings", "places")
