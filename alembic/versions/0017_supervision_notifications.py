"""Supervision orders notify: a staff member may choose the ``supervision`` kind (an order issued to my unit,
an answer returned, an overdue order escalated to me) in the feed and by email.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

NAME = "ck_notification_preferences_kind"


def upgrade() -> None:
    op.drop_constraint(NAME, "notification_preferences")
    op.create_check_constraint(
        NAME, "notification_preferences", "kind in ('assigned', 'deadline', 'task', 'bulletin', 'supervision')"
    )


def downgrade() -> None:
    op.execute("delete from notification_preferences where kind = 'supervision'")
    op.drop_constraint(NAME, "notification_preferences")
    op.create_check_constraint(NAME, "notification_preferences", "kind in ('assigned', 'deadline', 'task', 'bulletin')")
