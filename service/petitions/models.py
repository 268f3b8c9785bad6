"""Petition tables. Personal data (petitioner and representatives, rating comments) is encrypted per column."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any, Literal, get_args

from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    Date,
    Float,
    ForeignKeyConstraint,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.dialects.postgresql import JSONB, TSVECTOR
from sqlalchemy.orm import Mapped, mapped_column

from tenants.clock import utcnow
from tenants.crypto import EncryptedText
from tenants.db import Base, TenantOwned

Kind = Literal["suggestion", "accusation", "complaint"]
KINDS: tuple[str, ...] = get_args(Kind)
Channel = Literal["online", "mobile", "letter", "phone", "fax", "visit", "email", "open311"]
CHANNELS: tuple[str, ...] = get_args(Channel)
STAFF_CHANNELS = ("letter", "phone", "fax", "visit", "email")
OUTCOMES = ("supported", "explained", "not_supported")
RATINGS = ("satisfied", "basically_satisfied", "dissatisfied")
MAX_REPRESENTATIVES = 5  # art. 20


def _unit_fk(column: str) -> ForeignKeyConstraint:
    return ForeignKeyConstraint(["tenant_id", column], ["org_units.tenant_id", "org_units.id"])


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class PetitionSettings(Base):
    """Per-tenant petition settings (one row per tenant; defaults apply while it is missing)."""

    __tablename__ = "petition_settings"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    followup_days: Mapped[int] = mapped_column(Integer, nullable=False, default=28)
    # Hours before a deadline at which a reminder is journaled.
    reminder_hours: Mapped[list[int]] = mapped_column(ARRAY(Integer), nullable=False, default=lambda: [72, 24])
    holidays: Mapped[list[date]] = mapped_column(ARRAY(Date), nullable=False, default=list)
    # Official make-up workdays (weekend days that are worked, 调休).
    workdays: Mapped[list[date]] = mapped_column(ARRAY(Date), nullable=False, default=list)
    # Whether Open311 requests can be read without an api_key (never accusations either way).
    open311_anonymous_listing: Mapped[bool] = mapped_column(nullable=False, default=True)
    # Campus places a petitioner may pick: [{code, name_zh, name_en, lat, long}], in the order shown.
    places: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        CheckConstraint("followup_days between 1 and 365", name="followup_days"),
    )


class Category(TenantOwned, Base):
    __tablename__ = "petition_categories"

    code: Mapped[str] = mapped_column(String(40), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(100), nullable=False)
    name_en: Mapped[str] = mapped_column(String(100), nullable=False)
    description_zh: Mapped[str | None] = mapped_column(String(500))
    description_en: Mapped[str | None] = mapped_column(String(500))
    # The org unit that first handles petitions of this category (首办负责).
    default_org_unit_id: Mapped[uuid.UUID | None]
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        _unit_fk("default_org_unit_id"),
        Index("uq_petition_categories_code", "tenant_id", "code", unique=True),
        CheckConstraint("code ~ '^[a-z0-9][a-z0-9-]{0,39}$'", name="code"),
    )


class Petition(TenantOwned, Base):
    __tablename__ = "petitions"

    tracking_number: Mapped[str] = mapped_column(String(24), nullable=False)
    lookup_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    category_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    channel: Mapped[str] = mapped_column(String(16), nullable=False)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    content: Mapped[str] = mapped_column(Text, nullable=False)
    location_text: Mapped[str | None] = mapped_column(String(200))
    lat: Mapped[float | None] = mapped_column(Float)
    long: Mapped[float | None] = mapped_column(Float)
    anonymous: Mapped[bool] = mapped_column(nullable=False)
    petitioner_account_id: Mapped[uuid.UUID | None]
    registered_by: Mapped[uuid.UUID | None]
    petitioner_name: Mapped[str | None] = mapped_column(EncryptedText)
    petitioner_phone: Mapped[str | None] = mapped_column(EncryptedText)
    petitioner_number: Mapped[str | None] = mapped_column(EncryptedText)
    participants: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    # JSON list of {name, contact}, encrypted as one value.
    representatives: Mapped[str | None] = mapped_column(EncryptedText)
    representative_count: Mapped[int] = mapped_column(SmallInteger, nullable=False, default=0)
    # Notifications of written notices (service.notifications): only with the petitioner's consent.
    notify_consent: Mapped[bool] = mapped_column(nullable=False, default=False)
    notify_email: Mapped[str | None] = mapped_column(EncryptedText)
    notify_phone: Mapped[str | None] = mapped_column(EncryptedText)
    notify_lang: Mapped[str] = mapped_column(String(8), nullable=False, default="zh-CN")
    accused_org_unit_id: Mapped[uuid.UUID | None]
    org_unit_id: Mapped[uuid.UUID | None]
    previous_org_unit_id: Mapped[uuid.UUID | None]
    state: Mapped[str] = mapped_column(String(24), nullable=False)
    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    received_at: Mapped[datetime] = mapped_column(nullable=False)
    # The deadline the handling side must meet in the current state (null when none runs).
    due_at: Mapped[datetime | None]
    accept_due: Mapped[datetime] = mapped_column(nullable=False)
    accepted_at: Mapped[datetime | None]
    not_accepted_reason: Mapped[str | None] = mapped_column(String(500))
    conclude_due: Mapped[datetime | None]
    extended_days: Mapped[int | None] = mapped_column(SmallInteger)
    extension_reason: Mapped[str | None] = mapped_column(String(500))
    transferred_at: Mapped[datetime | None]
    objection_due: Mapped[datetime | None]
    replied_at: Mapped[datetime | None]
    outcome: Mapped[str | None] = mapped_column(String(16))
    opinion: Mapped[str | None] = mapped_column(Text)
    agreement: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None]
    # Until when the petitioner may ask for the next review stage.
    review_window_until: Mapped[datetime | None]
    review_requested_at: Mapped[datetime | None]
    rating: Mapped[str | None] = mapped_column(String(24))
    rating_comment: Mapped[str | None] = mapped_column(EncryptedText)
    rated_at: Mapped[datetime | None]
    rating_stage: Mapped[str | None] = mapped_column(String(16))
    followup_at: Mapped[datetime | None]
    # Leaders' reception days (领导接访): the session the petition was received or booked at, and the person who
    # took personal charge of the case (包案, the session's receiving leader).
    reception_session_id: Mapped[uuid.UUID | None]
    in_charge_person_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(nullable=False)
    search: Mapped[str] = mapped_column(TSVECTOR, nullable=False)

    # No foreign key to ``tenants`` (migration 0023): row-level security pins ``tenant_id``; see README › How it
    # is built.
    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "category_id"], ["petition_categories.tenant_id", "petition_categories.id"]),
        _unit_fk("org_unit_id"),
        _unit_fk("previous_org_unit_id"),
        _unit_fk("accused_org_unit_id"),
        ForeignKeyConstraint(
            ["tenant_id", "reception_session_id"], ["reception_sessions.tenant_id", "reception_sessions.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "in_charge_person_id"], ["people.tenant_id", "people.id"]),
        Index("uq_petitions_tracking_number", "tenant_id", "tracking_number", unique=True),
        # The queue's counts per state read this index alone (the scope rule's accusation shield: kind, accused).
        Index(
            "ix_petitions_state_scope",
            "tenant_id",
            "state",
            "id",
            postgresql_include=["kind", "accused_org_unit_id"],
        ),
        Index("ix_petitions_due", "tenant_id", "due_at"),
        Index("ix_petitions_search", "search", postgresql_using="gin"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("channel", CHANNELS), name="channel"),
        CheckConstraint(f"representative_count between 0 and {MAX_REPRESENTATIVES}", name="representatives"),
        CheckConstraint("participants >= 1", name="participants"),
        CheckConstraint(f"outcome is null or {_in('outcome', OUTCOMES)}", name="outcome"),
        CheckConstraint(f"rating is null or {_in('rating', RATINGS)}", name="rating"),
        CheckConstraint("extended_days is null or extended_days between 1 and 30", name="extended_days"),
    )


class Attachment(TenantOwned, Base):
    __tablename__ = "petition_attachments"

    petition_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    media_type: Mapped[str] = mapped_column(String(100), nullable=False)
    size: Mapped[int] = mapped_column(Integer, nullable=False)
    sha256: Mapped[str] = mapped_column(String(64), nullable=False)
    storage_key: Mapped[str] = mapped_column(String(300), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
        Index("ix_petition_attachments_petition", "tenant_id", "petition_id"),
    )


class Reminder(Base):
    """One row per reminder sent: the scheduled scan never journals the same reminder twice."""

    __tablename__ = "petition_reminders"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    petition_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # "deadline:<due iso>:<hours>", "overdue:<due iso>" or "followup:<stage>"
    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),)


class EscalationRequest(TenantOwned, Base):
    __tablename__ = "petition_escalations"

    reason_code: Mapped[str] = mapped_column(String(40), nullable=False)
    requested_by: Mapped[uuid.UUID | None]
    requested_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    # Filled by the incidents domain when it opens (or links) the emergency incident.
    incident_id: Mapped[uuid.UUID | None]

    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)


class EscalatedPetition(Base):
    __tablename__ = "petition_escalation_members"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    escalation_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    petition_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "escalation_id"], ["petition_escalations.tenant_id", "petition_escalations.id"]
        ),
        ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
    )


class PetitionAccess(TenantOwned, Base):
    """One response that carried a petitioner's decrypted personal data: who, which petition, which fields, when,
    from which route. Never a personal value. Kept for the retention (``XINFANG_ACCESS_LOG_RETENTION_DAYS``)."""

    __tablename__ = "petition_access_log"

    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    actor_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    account_id: Mapped[uuid.UUID | None]
    api_key_id: Mapped[uuid.UUID | None]
    petition_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    fields: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    method: Mapped[str] = mapped_column(String(8), nullable=False)
    route: Mapped[str] = mapped_column(String(200), nullable=False)
    request_id: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "api_key_id"], ["api_keys.tenant_id", "api_keys.id"]),
        Index("ix_petition_access_log_occurred", "tenant_id", "occurred_at"),
        Index("ix_petition_access_log_petition", "tenant_id", "petition_id", "id"),
        Index("ix_petition_access_log_account", "tenant_id", "account_id", "id"),
        CheckConstraint("actor_kind in ('account', 'api_key')", name="actor_kind"),
        CheckConstraint("cardinality(fields) > 0", name="fields"),
    )
