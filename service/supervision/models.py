"""The supervision order table (one row per order; its history is the journal)."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tenants.db import Base, TenantOwned


class Order(TenantOwned, Base):
    __tablename__ = "supervision_orders"

    # The subject: a petition, or an incident task (then its incident too).
    petition_id: Mapped[uuid.UUID | None]
    task_id: Mapped[uuid.UUID | None]
    incident_id: Mapped[uuid.UUID | None]
    # The unit that must answer.
    org_unit_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    expected: Mapped[str] = mapped_column(String(2000), nullable=False)
    due_at: Mapped[datetime] = mapped_column(nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    issued_by: Mapped[uuid.UUID | None]
    issued_at: Mapped[datetime] = mapped_column(nullable=False)
    answer: Mapped[str | None] = mapped_column(String(4000))
    answered_by: Mapped[uuid.UUID | None]
    answered_at: Mapped[datetime | None]
    review_note: Mapped[str | None] = mapped_column(String(2000))
    closed_at: Mapped[datetime | None]
    # Set by the periodic scan when the due time passed unanswered (cleared when a return sets a new due time).
    overdue_at: Mapped[datetime | None]
    escalated_to_unit_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
        ForeignKeyConstraint(["tenant_id", "task_id"], ["incident_tasks.tenant_id", "incident_tasks.id"]),
        ForeignKeyConstraint(["tenant_id", "incident_id"], ["incidents.tenant_id", "incidents.id"]),
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "escalated_to_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        Index("ix_supervision_orders_unit", "tenant_id", "org_unit_id", "issued_at"),
        Index("ix_supervision_orders_due", "tenant_id", "due_at"),
        Index("ix_supervision_orders_petition", "tenant_id", "petition_id"),
        CheckConstraint("state in ('issued', 'answered', 'accepted', 'returned', 'closed')", name="state"),
        CheckConstraint("(petition_id is null) <> (task_id is null)", name="subject"),
        CheckConstraint("(task_id is null) = (incident_id is null)", name="incident"),
    )
