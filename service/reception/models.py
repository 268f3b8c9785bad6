"""Reception sessions and their bookings (one row per booked slot)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.clock import utcnow
from tenants.db import Base, TenantOwned


class ReceptionSession(TenantOwned, Base):
    __tablename__ = "reception_sessions"

    starts_at: Mapped[datetime] = mapped_column(nullable=False)
    ends_at: Mapped[datetime] = mapped_column(nullable=False)
    place_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    place_en: Mapped[str] = mapped_column(String(200), nullable=False)
    # The receiving leader: a person of the org chart.
    leader_person_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    capacity: Mapped[int] = mapped_column(Integer, nullable=False)
    # Slots taken; raised by one conditional UPDATE per booking (never above capacity, the check too).
    booked: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    cancelled: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "leader_person_id"], ["people.tenant_id", "people.id"]),
        Index("ix_reception_sessions_starts", "tenant_id", "starts_at"),
        CheckConstraint("ends_at > starts_at", name="window"),
        CheckConstraint("capacity between 1 and 500", name="capacity"),
        CheckConstraint("booked between 0 and capacity", name="booked"),
    )


class Booking(TenantOwned, Base):
    __tablename__ = "reception_bookings"

    session_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    petition_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    slot: Mapped[int] = mapped_column(Integer, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "session_id"], ["reception_sessions.tenant_id", "reception_sessions.id"]),
        ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
        Index("uq_reception_bookings_petition", "tenant_id", "session_id", "petition_id", unique=True),
        Index("uq_reception_bookings_slot", "tenant_id", "session_id", "slot", unique=True),
    )
