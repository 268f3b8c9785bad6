"""Webhook tables: subscriptions, one delivery per (subscription, event), and every attempt of a delivery."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import ARRAY, CheckConstraint, ForeignKeyConstraint, Index, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.clock import utcnow
from tenants.crypto import EncryptedText
from tenants.db import Base, TenantOwned

STATUSES = ("pending", "succeeded", "failed")


class Subscription(TenantOwned, Base):
    __tablename__ = "webhook_subscriptions"

    url: Mapped[str] = mapped_column(String(2048), nullable=False)
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(80)), nullable=False)
    description: Mapped[str | None] = mapped_column(String(500))
    enabled: Mapped[bool] = mapped_column(default=True, nullable=False)
    # Why the platform disabled it ("gone": the receiver answered 410; "failing": no success for too long).
    disabled_reason: Mapped[str | None] = mapped_column(String(16))
    disabled_at: Mapped[datetime | None]
    secret: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    # During a rotation the previous secret keeps signing (a second signature) until it expires.
    previous_secret: Mapped[str | None] = mapped_column(EncryptedText)
    previous_secret_expires_at: Mapped[datetime | None]
    # Start of the current run of failures; cleared by any success.
    failing_since: Mapped[datetime | None]
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        CheckConstraint("disabled_reason in ('gone', 'failing')", name="disabled_reason"),
    )


class Delivery(TenantOwned, Base):
    """One event for one subscription; ``webhook-id`` is the event's id, constant across attempts."""

    __tablename__ = "webhook_deliveries"

    subscription_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(String(80), nullable=False)
    status: Mapped[str] = mapped_column(String(16), default="pending", nullable=False)
    # Total attempts so far; also the token a queued message carries, so stale duplicates are dropped.
    attempts: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    # Position in the retry schedule of the current series (a manual redelivery starts a new series).
    step: Mapped[int] = mapped_column(SmallInteger, default=0, nullable=False)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    # A worker holds the delivery until then; a crashed worker's lease simply expires.
    locked_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(SmallInteger)
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    completed_at: Mapped[datetime | None]

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "subscription_id"],
            ["webhook_subscriptions.tenant_id", "webhook_subscriptions.id"],
            name="fk_webhook_deliveries_subscription",
        ),
        Index("uq_webhook_deliveries_subscription_event", "tenant_id", "subscription_id", "event_id", unique=True),
        Index("ix_webhook_deliveries_subscription_created", "tenant_id", "subscription_id", "created_at"),
        Index("ix_webhook_deliveries_event", "tenant_id", "event_id"),
        CheckConstraint("status in ('pending', 'succeeded', 'failed')", name="status"),
    )


class Attempt(TenantOwned, Base):
    """One HTTP attempt: when, the answer's status and first bytes, how long it took, or what went wrong."""

    __tablename__ = "webhook_attempts"

    delivery_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    subscription_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    attempted_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    latency_ms: Mapped[int] = mapped_column(Integer, nullable=False)
    response_body: Mapped[str | None] = mapped_column(String(1024))
    error: Mapped[str | None] = mapped_column(String(300))
    succeeded: Mapped[bool] = mapped_column(nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "delivery_id"],
            ["webhook_deliveries.tenant_id", "webhook_deliveries.id"],
            name="fk_webhook_attempts_delivery",
        ),
        Index("ix_webhook_attempts_delivery", "tenant_id", "delivery_id", "attempted_at"),
    )
