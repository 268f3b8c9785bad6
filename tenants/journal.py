"""The journal: the append-only table of domain events (the transactional outbox).

Every state change writes its event through ``record`` in the same transaction as the change. Subject ids are
real columns so analytics and webhooks need nothing else; the payload is small and never holds personal data
(``record`` refuses types missing from ``tenants.events``, keys they do not declare, and personal ones).
The application role may only INSERT and SELECT here.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, Identity, Index, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants.clock import utcnow
from tenants.db import Base, TenantOwned
from tenants.events import FIELDS, describe, field_ok

# Keys that would carry personal data; a payload holding one is a programming error.
PERSONAL_KEYS = frozenset(
    {
        "name",
        "display_name",
        "full_name",
        "email",
        "phone",
        "mobile",
        "address",
        "national_id",
        "id_number",
        "student_number",
        "staff_number",
        "password",
        "content",
        "petitioner",
        "comment",
        "lookup_code",
    }
)
_SCALARS = (str, int, float, bool, type(None))


class JournalEvent(TenantOwned, Base):
    __tablename__ = "journal"

    # Commit-order cursor for the relay: rows are read once their transaction id is below every running one.
    txid: Mapped[int] = mapped_column(
        "txid", BigInteger, server_default=text("(pg_current_xact_id()::text)::bigint"), nullable=False
    )
    seq: Mapped[int] = mapped_column(BigInteger, Identity(always=True), nullable=False)
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    type: Mapped[str] = mapped_column(String(80), nullable=False)
    actor_id: Mapped[uuid.UUID | None]
    petition_id: Mapped[uuid.UUID | None]
    incident_id: Mapped[uuid.UUID | None]
    org_unit_id: Mapped[uuid.UUID | None]
    subject_id: Mapped[uuid.UUID | None]
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict, nullable=False)

    __table_args__ = (
        Index("ix_journal_txid_seq", "txid", "seq"),
        Index("ix_journal_tenant_type_occurred", "tenant_id", "type", "occurred_at"),
        # An incident's timeline (migration 0020).
        Index(
            "ix_journal_tenant_incident",
            "tenant_id",
            "incident_id",
            "occurred_at",
            "seq",
            postgresql_where=text("incident_id is not null"),
        ),
    )


def check_payload(event_type: str, payload: dict[str, Any]) -> None:
    """Refuse unknown types, undeclared or personal keys, values beyond scalars and lists of scalars, and values
    not of the field's catalogued JSON type (so the published payload schemas are what is written)."""
    declared = describe(event_type).payload
    for key, value in payload.items():
        if key not in declared:
            raise ValueError(f"{event_type} does not declare payload field {key!r} (see tenants/events.py)")
        if key.lower() in PERSONAL_KEYS:
            raise ValueError(f"journal payload must not carry personal field {key!r}")
        values = value if isinstance(value, list) else [value]
        if not all(isinstance(v, _SCALARS) for v in values):
            raise ValueError(f"journal payload field {key!r} must be a scalar or a list of scalars")
        if not field_ok(key, value):
            raise ValueError(f"{event_type}: {key}={value!r} is not of the catalogued type {FIELDS[key].types}")


async def record(
    session: AsyncSession,
    type: str,
    *,
    actor_id: uuid.UUID | None = None,
    petition_id: uuid.UUID | None = None,
    incident_id: uuid.UUID | None = None,
    org_unit_id: uuid.UUID | None = None,
    subject_id: uuid.UUID | None = None,
    **payload: Any,
) -> JournalEvent:
    """Append one event in the caller's transaction (the tenant comes from the context unless given)."""
    payload = {k: (str(v) if isinstance(v, uuid.UUID) else v) for k, v in payload.items()}
    check_payload(type, payload)
    event = JournalEvent(
        type=type,
        actor_id=actor_id,
        petition_id=petition_id,
        incident_id=incident_id,
        org_unit_id=org_unit_id,
        subject_id=subject_id,
        payload=payload,
    )
    session.add(event)
    return event
