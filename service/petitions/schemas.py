"""Request and response bodies of the petition API (msgspec; bounded lengths everywhere)."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec

from service.http.deps import Input
from service.petitions import deadlines
from service.petitions.models import Attachment, Category, Petition, PetitionAccess, PetitionSettings
from service.petitions.replies import ReplyTemplate
from service.petitions.workflow import CLOSED_STATES, Action, State, allowed_actions

Kind = Literal["suggestion", "accusation", "complaint"]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=40, pattern=r"^[a-z0-9][a-z0-9-]*$")]
MAX_CONTENT = 4000
Content = Annotated[str, msgspec.Meta(min_length=1, max_length=MAX_CONTENT)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class PetitionerIn(Input):
    name: Short
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None
    # Student or staff number.
    number: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class RepresentativeIn(Input):
    name: Short
    contact: Annotated[str, msgspec.Meta(max_length=100)] | None = None


class NotifyIn(Input):
    """Where the petitioner wants the written notices sent; nothing is sent without ``consent``."""

    consent: bool = False
    email: Annotated[str, msgspec.Meta(max_length=254, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")] | None = None
    phone: Annotated[str, msgspec.Meta(max_length=40, pattern=r"^\+?[0-9][0-9 -]{4,38}$")] | None = None
    lang: Literal["zh-CN", "en"] = "zh-CN"


class SubmissionIn(Input):
    kind: Kind
    category: Code
    subject: Text
    content: Content
    channel: Literal["online", "mobile"] = "mobile"
    anonymous: bool = False
    location_text: Text | None = None
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)] | None = None
    long: Annotated[float, msgspec.Meta(ge=-180, le=180)] | None = None
    petitioner: PetitionerIn | None = None
    participants: Annotated[int, msgspec.Meta(ge=1, le=100_000)] = 1
    # The limit of 5 is checked by the service (a 422 naming the field); this bound only caps the body.
    representatives: Annotated[list[RepresentativeIn], msgspec.Meta(max_length=50)] = []
    accused_org_unit_id: uuid.UUID | None = None
    notify: NotifyIn | None = None


class RegistrationIn(SubmissionIn, kw_only=True):
    """A petition a staff member registers for a visitor, caller or letter writer."""

    # Other channels than the public form's: an incompatible override on purpose (the body's schema and
    # validation are per endpoint; ``submission`` reads the channel as a plain string).
    channel: Literal["letter", "phone", "fax", "visit", "email"]  # type: ignore[assignment]


class SubmittedOut(msgspec.Struct):
    id: uuid.UUID
    tracking_number: str
    lookup_code: str
    state: str
    received_at: datetime
    accept_due: datetime
    note: str = "keep the tracking number and the lookup code: the code is shown only once / 请保存查询码，仅显示一次"


class ActionIn(Input):
    action: Action
    version: Annotated[int, msgspec.Meta(ge=1)]
    reason: Reason | None = None
    org_unit_id: uuid.UUID | None = None
    days: int | None = None
    outcome: Literal["supported", "explained", "not_supported"] | None = None
    opinion: Content | None = None
    agreement: Content | None = None
    rating: Literal["satisfied", "basically_satisfied", "dissatisfied"] | None = None
    comment: Annotated[str, msgspec.Meta(max_length=1000)] | None = None
    # Printed on the written notice the action issues: the reply's legal basis, where a refused petition goes.
    basis: Reason | None = None
    redirect_to: Reason | None = None


class RevealIn(Input):
    # Why the sealed identity is needed (an audited code, never free text).
    reason_code: Code


class LookupIn(Input):
    tracking_number: Annotated[str, msgspec.Meta(min_length=1, max_length=24)]
    lookup_code: Annotated[str, msgspec.Meta(min_length=1, max_length=32)]


class RateIn(LookupIn, kw_only=True):
    rating: Literal["satisfied", "basically_satisfied", "dissatisfied"]
    comment: Annotated[str, msgspec.Meta(max_length=1000)] | None = None


class ReviewIn(LookupIn, kw_only=True):
    pass


class EscalationIn(Input):
    petition_ids: Annotated[list[uuid.UUID], msgspec.Meta(min_length=1, max_length=100)]
    reason_code: Code


class EscalationOut(msgspec.Struct):
    id: uuid.UUID
    petition_ids: list[uuid.UUID]
    reason_code: str
    requested_at: datetime


class CategoryIn(Input):
    code: Code
    name_zh: Short
    name_en: Short
    description_zh: Reason | None = None
    description_en: Reason | None = None
    default_org_unit_id: uuid.UUID | None = None
    active: bool = True
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0


class CategoryUpdate(Input):
    name_zh: Short | msgspec.UnsetType = msgspec.UNSET
    name_en: Short | msgspec.UnsetType = msgspec.UNSET
    description_zh: Reason | msgspec.UnsetType | None = msgspec.UNSET
    description_en: Reason | msgspec.UnsetType | None = msgspec.UNSET
    default_org_unit_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | msgspec.UnsetType = msgspec.UNSET


class CategoryOut(msgspec.Struct):
    code: str
    name_zh: str
    name_en: str
    description_zh: str | None
    description_en: str | None
    default_org_unit_id: uuid.UUID | None
    active: bool
    position: int

    @classmethod
    def of(cls, c: Category) -> CategoryOut:
        return cls(
            c.code,
            c.name_zh,
            c.name_en,
            c.description_zh,
            c.description_en,
            c.default_org_unit_id,
            c.active,
            c.position,
        )


class PlaceIn(Input):
    """A campus place a petitioner may pick (a canteen, a dormitory, a gate), with its coordinates."""

    code: Code
    name_zh: Short
    name_en: Short
    lat: Annotated[float, msgspec.Meta(ge=-90, le=90)]
    long: Annotated[float, msgspec.Meta(ge=-180, le=180)]


class PlaceOut(msgspec.Struct):
    code: str
    name_zh: str
    name_en: str
    lat: float
    long: float


class SettingsIn(Input):
    followup_days: Annotated[int, msgspec.Meta(ge=1, le=365)] | msgspec.UnsetType = msgspec.UNSET
    reminder_hours: Annotated[list[int], msgspec.Meta(max_length=10)] | msgspec.UnsetType = msgspec.UNSET
    holidays: Annotated[list[date], msgspec.Meta(max_length=400)] | msgspec.UnsetType = msgspec.UNSET
    workdays: Annotated[list[date], msgspec.Meta(max_length=100)] | msgspec.UnsetType = msgspec.UNSET
    # Whether Open311 requests can be read without an api_key (accusations never are).
    open311_anonymous_listing: bool | msgspec.UnsetType = msgspec.UNSET
    # The campus places shown to petitioners, in this order (the whole list is replaced).
    places: Annotated[list[PlaceIn], msgspec.Meta(max_length=200)] | msgspec.UnsetType = msgspec.UNSET
    # The university's time zone (IANA), which its local days, working calendar and report periods follow.
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | msgspec.UnsetType = msgspec.UNSET


class SettingsOut(msgspec.Struct):
    followup_days: int
    reminder_hours: list[int]
    holidays: list[date]
    workdays: list[date]
    open311_anonymous_listing: bool
    places: list[PlaceOut]
    timezone: str

    @classmethod
    def of(cls, row: PetitionSettings, zone: ZoneInfo) -> SettingsOut:
        return cls(
            row.followup_days,
            list(row.reminder_hours),
            list(row.holidays),
            list(row.workdays),
            row.open311_anonymous_listing is not False,
            [msgspec.convert(p, PlaceOut) for p in row.places or []],
            str(zone),
        )


class AccessOut(msgspec.Struct):
    """One access-log row: no personal value, only which fields were shown."""

    id: uuid.UUID
    occurred_at: datetime
    actor_kind: str
    account_id: uuid.UUID | None
    api_key_id: uuid.UUID | None
    petition_id: uuid.UUID
    fields: list[str]
    method: str
    route: str
    request_id: str | None

    @classmethod
    def of(cls, r: PetitionAccess) -> AccessOut:
        return cls(
            r.id,
            r.occurred_at,
            r.actor_kind,
            r.account_id,
            r.api_key_id,
            r.petition_id,
            list(r.fields),
            r.method,
            r.route,
            r.request_id,
        )


class Deadlines(msgspec.Struct):
    accept_due: datetime
    conclude_due: datetime | None
    objection_due: datetime | None
    review_window_until: datetime | None
    due_at: datetime | None
    remaining_seconds: int | None
    overdue: bool

    @classmethod
    def of(cls, p: Petition, now: datetime) -> Deadlines:
        return cls(
            p.accept_due,
            p.conclude_due,
            p.objection_due,
            p.review_window_until,
            p.due_at,
            int(deadlines.remaining(p.due_at, now).total_seconds()) if p.due_at else None,
            deadlines.is_overdue(p.due_at, now),
        )


class PetitionerOut(msgspec.Struct):
    name: str | None
    phone: str | None
    number: str | None
    account_id: uuid.UUID | None


class RepresentativeOut(msgspec.Struct):
    name: str
    contact: str | None


def identity_of(p: Petition) -> tuple[PetitionerOut, list[RepresentativeOut]]:
    reps = [RepresentativeOut(r["name"], r.get("contact")) for r in json.loads(p.representatives or "[]")]
    return PetitionerOut(p.petitioner_name, p.petitioner_phone, p.petitioner_number, p.petitioner_account_id), reps


class PetitionOut(msgspec.Struct):
    id: uuid.UUID
    tracking_number: str
    kind: str
    category: str
    channel: str
    subject: str
    content: str
    location_text: str | None
    lat: float | None
    long: float | None
    anonymous: bool
    # True when the petitioner's identity is withheld from this caller (accusations; integrators).
    identity_sealed: bool
    petitioner: PetitionerOut | None
    participants: int
    representative_count: int
    representatives: list[RepresentativeOut] | None
    org_unit_id: uuid.UUID | None
    accused_org_unit_id: uuid.UUID | None
    state: str
    status: str
    version: int
    allowed_actions: list[str]
    received_at: datetime
    deadlines: Deadlines
    extended_days: int | None
    extension_reason: str | None
    not_accepted_reason: str | None
    outcome: str | None
    opinion: str | None
    agreement: str | None
    replied_at: datetime | None
    closed_at: datetime | None
    rating: str | None
    rated_at: datetime | None
    # The emergency incidents this petition was escalated into (set by the staff detail view).
    incident_ids: list[uuid.UUID] = []
    # Leaders' reception days: the session, and who took personal charge (包案; staff views only).
    reception_session_id: uuid.UUID | None = None
    in_charge_person_id: uuid.UUID | None = None
    in_charge_name: str | None = None

    @classmethod
    def of(cls, p: Petition, category: str, *, show_identity: bool, now: datetime) -> PetitionOut:
        petitioner, reps = identity_of(p) if show_identity else (None, None)
        return cls(
            id=p.id,
            tracking_number=p.tracking_number,
            kind=p.kind,
            category=category,
            channel=p.channel,
            subject=p.subject,
            content=p.content,
            location_text=p.location_text,
            lat=p.lat,
            long=p.long,
            anonymous=p.anonymous,
            identity_sealed=not show_identity and not p.anonymous,
            petitioner=None if p.anonymous else petitioner,
            participants=p.participants,
            representative_count=p.representative_count,
            representatives=reps,
            org_unit_id=p.org_unit_id,
            accused_org_unit_id=p.accused_org_unit_id,
            state=p.state,
            status=status_of(p.state),
            version=p.version,
            allowed_actions=allowed_actions(p.state),
            received_at=p.received_at,
            deadlines=Deadlines.of(p, now),
            extended_days=p.extended_days,
            extension_reason=p.extension_reason,
            not_accepted_reason=p.not_accepted_reason,
            outcome=p.outcome,
            opinion=p.opinion,
            agreement=p.agreement,
            replied_at=p.replied_at,
            closed_at=p.closed_at,
            rating=p.rating,
            rated_at=p.rated_at,
            reception_session_id=p.reception_session_id,
        )


class PetitionSummary(msgspec.Struct):
    """A list row: never any identity field."""

    id: uuid.UUID
    tracking_number: str
    kind: str
    category: str
    channel: str
    subject: str
    state: str
    org_unit_id: uuid.UUID | None
    received_at: datetime
    due_at: datetime | None
    overdue: bool

    @classmethod
    def of(cls, p: Petition, category: str, now: datetime) -> PetitionSummary:
        return cls(
            p.id,
            p.tracking_number,
            p.kind,
            category,
            p.channel,
            p.subject,
            p.state,
            p.org_unit_id,
            p.received_at,
            p.due_at,
            deadlines.is_overdue(p.due_at, now),
        )


class IdentityOut(msgspec.Struct):
    petitioner: PetitionerOut
    representatives: list[RepresentativeOut]


class PublicStatus(msgspec.Struct):
    """What a holder of the tracking number and lookup code sees: no personal data."""

    tracking_number: str
    kind: str
    category: str
    state: str
    status: str
    received_at: datetime
    due_at: datetime | None
    outcome: str | None
    opinion: str | None
    replied_at: datetime | None
    review_window_until: datetime | None
    rating: str | None
    can_rate: bool
    can_request_review: bool

    @classmethod
    def of(cls, p: Petition, category: str, now: datetime) -> PublicStatus:
        allowed = allowed_actions(p.state)
        window_open = p.review_window_until is not None and now < p.review_window_until
        return cls(
            p.tracking_number,
            p.kind,
            category,
            p.state,
            status_of(p.state),
            p.received_at,
            p.due_at,
            p.outcome,
            p.opinion,
            p.replied_at,
            p.review_window_until,
            p.rating,
            "rate" in allowed and p.rating_stage != _stage(p.state),
            window_open and ("request_review" in allowed or "request_rereview" in allowed),
        )


def _stage(state: str) -> str | None:
    return {"replied": "reply", "closed": "reply", "reviewed": "review", "final": "rereview"}.get(state)


def status_of(state: str) -> str:
    return "closed" if State(state) in CLOSED_STATES else "open"


class AttachmentOut(msgspec.Struct):
    id: uuid.UUID
    media_type: str
    size: int
    sha256: str
    created_at: datetime

    @classmethod
    def of(cls, a: Attachment) -> AttachmentOut:
        return cls(a.id, a.media_type, a.size, a.sha256, a.created_at)


# --- reply templates (service.petitions.replies) ------------------------------------------------------------------

Outcome = Literal["supported", "explained", "not_supported"]


class ReplyTemplateIn(Input):
    title: Short
    body: Content
    outcome: Outcome | None = None
    active: bool = True
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] = 0


class ReplyTemplateUpdate(Input):
    title: Short | msgspec.UnsetType = msgspec.UNSET
    body: Content | msgspec.UnsetType = msgspec.UNSET
    outcome: Outcome | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET
    position: Annotated[int, msgspec.Meta(ge=0, le=10_000)] | msgspec.UnsetType = msgspec.UNSET


class ReplyTemplateOut(msgspec.Struct):
    id: uuid.UUID
    title: str
    body: str
    outcome: str | None
    active: bool
    position: int
    updated_at: datetime

    @classmethod
    def of(cls, t: ReplyTemplate) -> ReplyTemplateOut:
        return cls(t.id, t.title, t.body, t.outcome, t.active, t.position, t.updated_at)
