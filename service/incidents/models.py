"""Incident tables. Free text (facts, notes, bulletin bodies) stays in these tables and is never journaled;
the public status page reads only published bulletins."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import ARRAY, CheckConstraint, Date, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.clock import utcnow
from tenants.db import Base, TenantOwned, require_tenant

SOURCES = ("staff", "petitions", "warning")
AUDIENCES = ("campus", "students", "staff")
BULLETIN_KINDS = ("initial", "update", "correction", "retraction")
BULLETIN_STATES = ("draft", "approved", "published")
LOGISTICS_CATEGORIES = ("water", "medical", "venue", "materials")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


def _incident_fk() -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", "incident_id"], ["incidents.tenant_id", "incidents.id"])


def _unit_fk(column: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], ["org_units.tenant_id", "org_units.id"])


class Incident(TenantOwned, Base):
    __tablename__ = "incidents"

    title: Mapped[str] = mapped_column(String(200), nullable=False)
    facts: Mapped[str] = mapped_column(Text, nullable=False)
    place: Mapped[str | None] = mapped_column(String(200))
    impact: Mapped[str | None] = mapped_column(Text)
    people_count: Mapped[int] = mapped_column(Integer, nullable=False)
    # [{"kind": "students"|"staff"|"other", "org_unit_id": str|None, "count": int}]
    people_groups: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    risk_categories: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False, default=list)
    drill: Mapped[bool] = mapped_column(nullable=False, default=False)
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    warning_id: Mapped[uuid.UUID | None]
    plan_version_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    plan_number: Mapped[int] = mapped_column(Integer, nullable=False)
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    public_token: Mapped[str] = mapped_column(String(32), nullable=False)
    reported_at: Mapped[datetime] = mapped_column(nullable=False)
    reported_by: Mapped[uuid.UUID | None]
    # Assessment.
    cause: Mapped[str | None] = mapped_column(Text)
    site_conditions: Mapped[str | None] = mapped_column(Text)
    injuries: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    media_attention: Mapped[bool] = mapped_column(nullable=False, default=False)
    safety_threat: Mapped[bool] = mapped_column(nullable=False, default=False)
    suggested_level: Mapped[str | None] = mapped_column(String(8))
    level: Mapped[str | None] = mapped_column(String(8))
    level_reason: Mapped[str | None] = mapped_column(String(500))
    assessed_at: Mapped[datetime | None]
    # Instruction.
    activated: Mapped[bool | None]
    instruction: Mapped[str | None] = mapped_column(Text)
    instructed_at: Mapped[datetime | None]
    response_ended_at: Mapped[datetime | None]
    # Cleanup and summary: [{"key", "text", "done"}] and {"cause_analysis", "lessons"}.
    checklist: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    summary: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    summary_submitted_at: Mapped[datetime | None]
    summary_approved_by: Mapped[uuid.UUID | None]
    closed_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "plan_version_id"], ["plan_versions.tenant_id", "plan_versions.id"]),
        Index("uq_incidents_public_token", "tenant_id", "public_token", unique=True),
        Index("ix_incidents_state", "tenant_id", "state", "reported_at"),
        CheckConstraint(_in("source", SOURCES), name="source"),
        CheckConstraint("people_count >= 0 and injuries >= 0", name="counts"),
    )


class IncidentPetition(Base):
    """The petitions an incident was opened from (the petition's view shows its incident)."""

    __tablename__ = "incident_petitions"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=lambda: require_tenant())
    incident_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    petition_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    escalation_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        _incident_fk(),
        ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
        Index("ix_incident_petitions_petition", "tenant_id", "petition_id"),
    )


class IncidentStep(Base):
    """When each of the seven steps started and was completed, against its due time from the plan."""

    __tablename__ = "incident_steps"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=lambda: require_tenant())
    incident_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    step: Mapped[str] = mapped_column(String(24), primary_key=True)
    target_minutes: Mapped[int | None] = mapped_column(Integer)
    due_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]

    __table_args__ = (_incident_fk(),)


class Task(TenantOwned, Base):
    __tablename__ = "incident_tasks"

    incident_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    step: Mapped[str] = mapped_column(String(24), nullable=False)
    org_unit_id: Mapped[uuid.UUID | None]
    group_key: Mapped[str | None] = mapped_column(String(40))
    duty: Mapped[str] = mapped_column(String(1000), nullable=False)
    due_at: Mapped[datetime | None]
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    reassigned_from: Mapped[uuid.UUID | None]
    assigned_by: Mapped[uuid.UUID | None]
    assigned_at: Mapped[datetime] = mapped_column(nullable=False)
    acknowledged_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    declined_at: Mapped[datetime | None]
    decline_reason_code: Mapped[str | None] = mapped_column(String(40))
    decline_note: Mapped[str | None] = mapped_column(String(500))
    result: Mapped[str | None] = mapped_column(String(1000))

    __table_args__ = (
        _incident_fk(),
        _unit_fk("org_unit_id"),
        Index("ix_incident_tasks_incident", "tenant_id", "incident_id", "assigned_at"),
        CheckConstraint("(org_unit_id is null) <> (group_key is null)", name="one_assignee"),
        CheckConstraint(_in("state", ("assigned", "acknowledged", "done", "declined")), name="state"),
    )


class Measure(TenantOwned, Base):
    __tablename__ = "incident_measures"

    incident_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(40), nullable=False)
    org_unit_id: Mapped[uuid.UUID | None]
    count: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    notes: Mapped[str] = mapped_column(String(2000), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(nullable=False)
    recorded_by: Mapped[uuid.UUID | None]

    __table_args__ = (
        _incident_fk(),
        _unit_fk("org_unit_id"),
        Index("ix_incident_measures_incident", "tenant_id", "incident_id", "occurred_at"),
        CheckConstraint("count >= 0", name="count"),
    )


class LogisticsRequest(TenantOwned, Base):
    __tablename__ = "incident_logistics"

    incident_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    category: Mapped[str] = mapped_column(String(16), nullable=False)
    item_id: Mapped[uuid.UUID | None]
    quantity: Mapped[int] = mapped_column(Integer, nullable=False)
    issued: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    returned: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    notes: Mapped[str | None] = mapped_column(String(500))
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="requested")
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    requested_by: Mapped[uuid.UUID | None]
    requested_at: Mapped[datetime] = mapped_column(nullable=False)
    fulfilled_at: Mapped[datetime | None]

    __table_args__ = (
        _incident_fk(),
        ForeignKeyConstraint(["tenant_id", "item_id"], ["material_items.tenant_id", "material_items.id"]),
        CheckConstraint(_in("category", LOGISTICS_CATEGORIES), name="category"),
        CheckConstraint("quantity > 0 and issued >= 0 and returned between 0 and issued", name="quantities"),
        CheckConstraint(_in("state", ("requested", "fulfilled", "short")), name="state"),
    )


class Bulletin(TenantOwned, Base):
    __tablename__ = "incident_bulletins"

    incident_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    audience: Mapped[str] = mapped_column(String(16), nullable=False)
    title_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    title_en: Mapped[str] = mapped_column(String(200), nullable=False)
    body_zh: Mapped[str] = mapped_column(Text, nullable=False)
    body_en: Mapped[str] = mapped_column(Text, nullable=False)
    corrects_id: Mapped[uuid.UUID | None]
    state: Mapped[str] = mapped_column(String(16), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    sequence: Mapped[int | None] = mapped_column(Integer)
    next_update_at: Mapped[datetime | None]
    drafted_by: Mapped[uuid.UUID | None]
    drafted_at: Mapped[datetime] = mapped_column(nullable=False)
    approved_by: Mapped[uuid.UUID | None]
    approved_at: Mapped[datetime | None]
    published_by: Mapped[uuid.UUID | None]
    published_at: Mapped[datetime | None]

    __table_args__ = (
        _incident_fk(),
        ForeignKeyConstraint(["tenant_id", "corrects_id"], ["incident_bulletins.tenant_id", "incident_bulletins.id"]),
        Index("uq_incident_bulletins_sequence", "tenant_id", "incident_id", "sequence", unique=True),
        CheckConstraint(_in("kind", BULLETIN_KINDS), name="kind"),
        CheckConstraint(_in("audience", AUDIENCES), name="audience"),
        CheckConstraint(_in("state", BULLETIN_STATES), name="state"),
        CheckConstraint("(kind in ('correction', 'retraction')) = (corrects_id is not null)", name="corrects"),
        CheckConstraint("(state = 'published') = (sequence is not null)", name="sequence"),
    )


class ActionItem(TenantOwned, Base):
    """An improvement proposal of the summary report, owned by an org unit, tracked to done."""

    __tablename__ = "incident_action_items"

    incident_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    proposal: Mapped[str] = mapped_column(String(1000), nullable=False)
    owner_unit_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    due_on: Mapped[date] = mapped_column(Date, nullable=False)
    done_at: Mapped[datetime | None]
    position: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (_incident_fk(), _unit_fk("owner_unit_id"))


class Reminder(Base):
    """One row per overdue flag or missed update journaled: the scan never journals one twice."""

    __tablename__ = "incident_reminders"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    incident_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # "step:<key>", "task:<id>:<due iso>" or "bulletin:<due iso>"
    key: Mapped[str] = mapped_column(String(120), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (_incident_fk(),)
