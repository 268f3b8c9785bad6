"""Request and response bodies of the reception routes."""

from __future__ import annotations

import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from service.http.deps import Input
from service.petitions.schemas import LookupIn, SubmissionIn, Text
from service.reception.models import Booking, ReceptionSession


class SessionIn(Input):
    starts_at: datetime
    ends_at: datetime
    place_zh: Text
    place_en: Text
    leader_person_id: uuid.UUID
    capacity: int


class SessionPatch(Input):
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    place_zh: Text | None = None
    place_en: Text | None = None
    leader_person_id: uuid.UUID | None = None
    capacity: int | None = None


class SessionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    place_zh: str
    place_en: str
    leader_person_id: uuid.UUID
    capacity: int
    booked: int
    available: int
    cancelled: bool

    @classmethod
    def of(cls, r: ReceptionSession) -> SessionOut:
        return cls(
            id=r.id,
            starts_at=r.starts_at,
            ends_at=r.ends_at,
            place_zh=r.place_zh,
            place_en=r.place_en,
            leader_person_id=r.leader_person_id,
            capacity=r.capacity,
            booked=r.booked,
            available=r.capacity - r.booked,
            cancelled=r.cancelled,
        )


class PublicSessionOut(msgspec.Struct, kw_only=True):
    """The public schedule: no personal data (the leader by post, never by name), times in the university's zone."""

    id: uuid.UUID
    date: str
    starts_at: datetime  # with the university's UTC offset
    ends_at: datetime
    time_window: str  # "09:00–11:30" local
    timezone: str
    place_zh: str
    place_en: str
    leader_title_zh: str | None
    leader_title_en: str | None
    capacity: int
    available: int

    @classmethod
    def of(cls, r: ReceptionSession, zone: ZoneInfo, title_zh: str | None, title_en: str | None) -> PublicSessionOut:
        start, end = r.starts_at.astimezone(zone), r.ends_at.astimezone(zone)
        return cls(
            id=r.id,
            date=start.date().isoformat(),
            starts_at=start,
            ends_at=end,
            time_window=f"{start:%H:%M}–{end:%H:%M}",
            timezone=zone.key,
            place_zh=r.place_zh,
            place_en=r.place_en,
            leader_title_zh=title_zh,
            leader_title_en=title_en,
            capacity=r.capacity,
            available=r.capacity - r.booked,
        )


class BookingIn(Input):
    """Either the tracking number and lookup code of an existing petition, or a new petition."""

    existing: LookupIn | None = None
    petition: SubmissionIn | None = None


class BookedOut(msgspec.Struct, kw_only=True):
    booking_id: uuid.UUID
    session_id: uuid.UUID
    slot: int
    petition_id: uuid.UUID
    tracking_number: str
    # Only when the booking submitted a new petition: shown once, like every lookup code.
    lookup_code: str | None = None


class BookingOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    slot: int
    petition_id: uuid.UUID
    tracking_number: str
    created_at: datetime

    @classmethod
    def of(cls, b: Booking, tracking_number: str) -> BookingOut:
        return cls(
            id=b.id, slot=b.slot, petition_id=b.petition_id, tracking_number=tracking_number, created_at=b.created_at
        )


class VisitIn(SubmissionIn, kw_only=True):
    """A visit held at the session (channel ``visit``); ``in_charge``: the leader takes personal charge (包案)."""

    channel: str = "visit"  # type: ignore[assignment]
    in_charge: bool = False


class InChargeIn(Input):
    petition_id: uuid.UUID


class VisitOut(msgspec.Struct, kw_only=True):
    petition_id: uuid.UUID
    tracking_number: str
    lookup_code: str
    in_charge_person_id: uuid.UUID | None
