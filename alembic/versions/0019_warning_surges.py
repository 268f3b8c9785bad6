"""One warning per surge: a warning leads with its highest-scoring key and carries the other keys of the same
burst (``related``: their evidence); ``keys`` lists every key of the warning, so a later scan finds the surge
from whichever of them is still surging.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "warnings",
        sa.Column("related", postgresql.JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.add_column(
        "warnings",
        sa.Column("keys", postgresql.ARRAY(sa.Text()), nullable=False, server_default=sa.text("'{}'::text[]")),
    )
    op.execute("update warnings set keys = array[key_kind || ':' || key]")
    op.create_index("ix_warnings_keys", "warnings", ["keys"], postgresql_using="gin")


def downgrade() -> None:
    op.drop_index("ix_warnings_keys", "warnings")
    op.drop_column("warnings", "keys")
    op.drop_column("warnings", "related")
