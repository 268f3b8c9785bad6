"""Notification tables: the delivery log (one row per event, channel and recipient), the staff feed, the
staff's preferences. No row holds a message body or a contact: both are built at the attempt."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.clock import utcnow
from tenants.db import Base, TenantOwned

CHANNELS = ("email", "sms")
STATUSES = ("pending", "sent", "failed", "skipped")
# What a staff member can choose to hear about, and the journal events behind each.
KINDS: dict[str, tuple[str, ...]] = {
    "assigned": ("petition.assigned", "petition.transferred"),
    "deadline": ("petition.deadline_reminder", "petition.overdue"),
    "task": ("task.assigned",),
    "bulletin": ("bulletin.drafted",),
    "supervision": ("supervision.issued", "supervision.returned", "supervision.overdue"),
}
KIND_OF = {event: kind for kind, events in KINDS.items() for event in events}
PETITIONER = "petitioner"


class NotificationDelivery(TenantOwned, Base):
    __tablename__ = "notification_deliveries"

    event_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    channel: Mapped[str] = mapped_column(String(8), nullable=False)
    recipient: Mapped[str] = mapped_column(String(40), nullable=False)
    petition_id: Mapped[uuid.UUID | None]
    account_id: Mapped[uuid.UUID | None]
    status: Mapped[str] = mapped_column(String(8), nullable=False, default="pending")
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    # The error class and SMTP/HTTP code only, never a message body or an address.
    last_error: Mapped[str | None] = mapped_column(String(300))
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        Index("uq_notification_deliveries_event", "tenant_id", "event_id", "channel", "recipient", unique=True),
        CheckConstraint("channel in ('email', 'sms')", name="channel"),
        CheckConstraint("status in ('pending', 'sent', 'failed', 'skipped')", name="status"),
    )


class Notification(TenantOwned, Base):
    """One entry of an account's feed (ids are UUIDv7: the feed pages by id, newest first)."""

    __tablename__ = "notifications"

    account_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    event_type: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    petition_id: Mapped[uuid.UUID | None]
    incident_id: Mapped[uuid.UUID | None]
    org_unit_id: Mapped[uuid.UUID | None]
    subject_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    read_at: Mapped[datetime | None]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        Index("uq_notifications_event", "tenant_id", "account_id", "event_id", unique=True),
        Index("ix_notifications_feed", "tenant_id", "account_id", "id"),
    )


class Preference(TenantOwned, Base):
    """An account's choice for one kind (both channels on while no row exists)."""

    __tablename__ = "notification_preferences"

    account_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    feed: Mapped[bool] = mapped_column(nullable=False, default=True)
    email: Mapped[bool] = mapped_column(nullable=False, default=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        Index("uq_notification_preferences_kind", "tenant_id", "account_id", "kind", unique=True),
        CheckConstraint("kind in ('assigned', 'deadline', 'task', 'bulletin', 'supervision')", name="kind"),
    )
