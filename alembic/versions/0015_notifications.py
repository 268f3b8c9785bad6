"""Notifications: the petitioner's consent and contact on a petition (encrypted), the delivery log of
notification messages (email, SMS), the staff's per-account feed and their preferences.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import OWNER_ROLE, PLATFORM_ROLE, TS, UUID, app_role, execute, grant, tenant_table

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = app_role()
    # The petitioner's contact for notifications, encrypted at column level like the other personal fields;
    # nothing is sent unless the petitioner agreed (notify_consent, default false).
    op.add_column("petitions", sa.Column("notify_consent", sa.Boolean, nullable=False, server_default=sa.false()))
    op.add_column("petitions", sa.Column("notify_email", sa.LargeBinary))
    op.add_column("petitions", sa.Column("notify_phone", sa.LargeBinary))
    op.add_column("petitions", sa.Column("notify_lang", sa.String(8), nullable=False, server_default="zh-CN"))
    op.create_check_constraint("ck_petitions_notify_lang", "petitions", "notify_lang in ('zh-CN', 'en')")
    op.create_table(
        "notification_deliveries",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(8), nullable=False),
        # 'petitioner' or the id of the staff account it goes to.
        sa.Column("recipient", sa.String(40), nullable=False),
        sa.Column("petition_id", UUID),
        sa.Column("account_id", UUID),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.String(300)),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "petition_id"],
            ["petitions.tenant_id", "petitions.id"],
            name="fk_notification_deliveries_petition",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["accounts.tenant_id", "accounts.id"],
            name="fk_notification_deliveries_account",
        ),
        sa.CheckConstraint("channel in ('email', 'sms')", name="ck_notification_deliveries_channel"),
        sa.CheckConstraint(
            "status in ('pending', 'sent', 'failed', 'skipped')", name="ck_notification_deliveries_status"
        ),
    )
    op.create_index(
        "uq_notification_deliveries_event",
        "notification_deliveries",
        ["tenant_id", "event_id", "channel", "recipient"],
        unique=True,
    )
    op.create_index(
        "ix_notification_deliveries_pending",
        "notification_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "notifications",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("account_id", UUID, nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("event_type", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("petition_id", UUID),
        sa.Column("incident_id", UUID),
        sa.Column("org_unit_id", UUID),
        sa.Column("subject_id", UUID),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("read_at", TS),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"], name="fk_notifications_account"
        ),
    )
    op.create_index("uq_notifications_event", "notifications", ["tenant_id", "account_id", "event_id"], unique=True)
    op.create_index("ix_notifications_feed", "notifications", ["tenant_id", "account_id", "id"])
    op.create_table(
        "notification_preferences",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("account_id", UUID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("feed", sa.Boolean, nullable=False),
        sa.Column("email", sa.Boolean, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "account_id"],
            ["accounts.tenant_id", "accounts.id"],
            name="fk_notification_preferences_account",
        ),
        sa.CheckConstraint(
            "kind in ('assigned', 'deadline', 'task', 'bulletin')", name="ck_notification_preferences_kind"
        ),
    )
    op.create_index(
        "uq_notification_preferences_kind",
        "notification_preferences",
        ["tenant_id", "account_id", "kind"],
        unique=True,
    )
    for table, privileges in {
        "notification_deliveries": "select, insert, update",
        "notifications": "select, insert, update",
        "notification_preferences": "select, insert, update, delete",
    }.items():
        tenant_table(execute, table)
        grant(execute, table, privileges, app)
    # The sweeper's view across tenants (platform path), like the webhooks': pending deliveries overdue by more
    # than the grace (their message was lost, or their worker died mid-attempt), marked due now so that the
    # next sweep skips them while they are being sent.
    grant(execute, "notification_deliveries", "select, update", PLATFORM_ROLE)
    execute(
        """
        create function notification_sweep(at timestamptz, grace_seconds double precision, max_rows integer)
        returns table (tenant_id uuid, id uuid, attempts integer)
        language sql volatile security definer set search_path = public as $$
          update notification_deliveries d set next_attempt_at = at
           where (d.tenant_id, d.id) in (
                 select o.tenant_id, o.id from notification_deliveries o
                  where o.status = 'pending'
                    and o.next_attempt_at < at - make_interval(secs => grace_seconds)
                  order by o.next_attempt_at
                  limit max_rows
                    for update skip locked)
          returning d.tenant_id, d.id, d.attempts
        $$
        """
    )
    execute("revoke all on function notification_sweep(timestamptz, double precision, integer) from public")
    execute(f"grant execute on function notification_sweep(timestamptz, double precision, integer) to {app}")
    execute("reset role")
    execute(f"alter function notification_sweep(timestamptz, double precision, integer) owner to {PLATFORM_ROLE}")
    execute(f"set role {OWNER_ROLE}")


def downgrade() -> None:
    execute("drop function if exists notification_sweep(timestamptz, double precision, integer)")
    for table in ("notification_preferences", "notifications", "notification_deliveries"):
        op.drop_table(table)
    op.drop_constraint("ck_petitions_notify_lang", "petitions")
    for column in ("notify_lang", "notify_phone", "notify_email", "notify_consent"):
        op.drop_column("petitions", column)
