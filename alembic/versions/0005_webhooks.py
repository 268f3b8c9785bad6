"""Webhooks: subscriptions, deliveries, attempts.

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg

from alembic import op
from tenants.ddl import OWNER_ROLE, PLATFORM_ROLE, TS, UUID, app_role, execute, grant, tenant_table

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    app = app_role()

    op.create_table(
        "webhook_subscriptions",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("url", sa.String(2048), nullable=False),
        sa.Column("event_types", pg.ARRAY(sa.String(80)), nullable=False),
        sa.Column("description", sa.String(500)),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("disabled_reason", sa.String(16)),
        sa.Column("disabled_at", TS),
        sa.Column("secret", sa.LargeBinary, nullable=False),
        sa.Column("previous_secret", sa.LargeBinary),
        sa.Column("previous_secret_expires_at", TS),
        sa.Column("failing_since", TS),
        sa.Column("created_by", UUID),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint("disabled_reason in ('gone', 'failing')", name="ck_webhook_subscriptions_disabled_reason"),
    )
    op.create_table(
        "webhook_deliveries",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("subscription_id", UUID, nullable=False),
        sa.Column("event_id", UUID, nullable=False),
        sa.Column("event_type", sa.String(80), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("step", sa.SmallInteger, nullable=False),
        sa.Column("next_attempt_at", TS, nullable=False),
        sa.Column("locked_until", TS),
        sa.Column("last_status_code", sa.SmallInteger),
        sa.Column("last_error", sa.String(300)),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("completed_at", TS),
        sa.ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["webhook_subscriptions.tenant_id", "webhook_subscriptions.id"],
            name="fk_webhook_deliveries_subscription",
        ),
        sa.CheckConstraint("status in ('pending', 'succeeded', 'failed')", name="ck_webhook_deliveries_status"),
    )
    op.create_index(
        "uq_webhook_deliveries_subscription_event",
        "webhook_deliveries",
        ["tenant_id", "subscription_id", "event_id"],
        unique=True,
    )
    op.create_index(
        "ix_webhook_deliveries_subscription_created",
        "webhook_deliveries",
        ["tenant_id", "subscription_id", "created_at"],
    )
    op.create_index("ix_webhook_deliveries_event", "webhook_deliveries", ["tenant_id", "event_id"])
    op.create_table(
        "webhook_attempts",
        sa.Column("tenant_id", UUID, primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("delivery_id", UUID, nullable=False),
        sa.Column("subscription_id", UUID, nullable=False),
        sa.Column("attempted_at", TS, nullable=False),
        sa.Column("status_code", sa.SmallInteger),
        sa.Column("latency_ms", sa.Integer, nullable=False),
        sa.Column("response_body", sa.String(1024)),
        sa.Column("error", sa.String(300)),
        sa.Column("succeeded", sa.Boolean, nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id", "delivery_id"],
            ["webhook_deliveries.tenant_id", "webhook_deliveries.id"],
            name="fk_webhook_attempts_delivery",
        ),
    )
    op.create_index("ix_webhook_attempts_delivery", "webhook_attempts", ["tenant_id", "delivery_id", "attempted_at"])
    for table in ("webhook_subscriptions", "webhook_deliveries", "webhook_attempts"):
        tenant_table(execute, table)
    # Subscriptions are disabled, never deleted; deliveries change state; attempts are append-only.
    grant(execute, "webhook_subscriptions", "select, insert, update", app)
    grant(execute, "webhook_deliveries", "select, insert, update", app)
    grant(execute, "webhook_attempts", "select, insert", app)

    # The sweeper's view across tenants (platform path): overdue pending deliveries whose message was lost with
    # a crashed worker. It marks them due now, so a following sweep skips them while they are being sent.
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'pending'"),
    )
    grant(execute, "webhook_deliveries", "select, update", PLATFORM_ROLE)
    execute(
        """
        create function webhook_sweep(grace_seconds double precision, max_rows integer)
        returns table (tenant_id uuid, id uuid, attempts integer)
        language sql volatile security definer set search_path = public as $$
          update webhook_deliveries d set next_attempt_at = now()
           where (d.tenant_id, d.id) in (
                 select o.tenant_id, o.id from webhook_deliveries o
                  where o.status = 'pending'
                    and o.next_attempt_at < now() - make_interval(secs => grace_seconds)
                    and (o.locked_until is null or o.locked_until < now())
                  order by o.next_attempt_at
                  limit max_rows
                    for update skip locked)
          returning d.tenant_id, d.id, d.attempts
        $$
        """
    )
    execute("revoke all on function webhook_sweep(double precision, integer) from public")
    execute(f"grant execute on function webhook_sweep(double precision, integer) to {app}")
    execute("reset role")
    execute(f"alter function webhook_sweep(double precision, integer) owner to {PLATFORM_ROLE}")
    execute(f"set role {OWNER_ROLE}")


def downgrade() -> None:
    execute("drop function if exists webhook_sweep(double precision, integer)")
    for table in ("webhook_attempts", "webhook_deliveries", "webhook_subscriptions"):
        op.drop_table(table)
