"""The emergency plan's API: versions (draft → published → superseded), publication checks, diffs, severity
suggestions, the readiness check, training and drills, and the plan document.

Tenant admins edit and publish; staff (and API keys with ``plans:read``) read.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Annotated, Any, Literal

import msgspec
from litestar import Controller, Response, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK

from service.http.deps import Caller, Input, Session
from service.http.security import requires
from tenants import training
from tenants.clock import utcnow
from tenants.identity import Principal, Role
from tenants.plans import checks, document, readiness, rules, services
from tenants.plans.content import Key, PlanContent
from tenants.plans.models import PlanVersion
from tenants.tenancy import get_tenant

ADMIN = requires(Role.tenant_admin)
READ = requires(Role.tenant_admin, Role.staff, scopes=("plans:read",))


class DraftCreate(Input):
    based_on_id: uuid.UUID | None = None


class ContentReplace(Input):
    revision: Annotated[int, msgspec.Meta(ge=1)]
    content: PlanContent


class SectionUpdate(Input):
    value: Any
    revision: Annotated[int, msgspec.Meta(ge=1)] | None = None


class FactsIn(Input):
    participants: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 0
    injuries: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 0
    duration_minutes: Annotated[int, msgspec.Meta(ge=0, le=10_000_000)] = 0
    categories: Annotated[list[Key], msgspec.Meta(max_length=30)] = []
    media_attention: bool = False
    safety_threat: bool = False
    at: dt.datetime | None = None


class TrainingIn(Input):
    held_on: dt.date
    kind: training.SessionKind
    topic: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    participants: Annotated[list[uuid.UUID], msgspec.Meta(max_length=2000)] = []
    notes: Annotated[str, msgspec.Meta(max_length=4000)] | None = None


class VersionSummary(msgspec.Struct):
    id: uuid.UUID
    number: int
    status: str
    revision: int
    based_on_id: uuid.UUID | None
    created_at: dt.datetime
    updated_at: dt.datetime
    published_at: dt.datetime | None
    superseded_at: dt.datetime | None
    superseded_by_id: uuid.UUID | None

    @classmethod
    def of(cls, v: PlanVersion) -> VersionSummary:
        return cls(
            v.id,
            v.number,
            v.status,
            v.revision,
            v.based_on_id,
            v.created_at,
            v.updated_at,
            v.published_at,
            v.superseded_at,
            v.superseded_by_id,
        )


class VersionOut(msgspec.Struct):
    version: VersionSummary
    content: PlanContent

    @classmethod
    def of(cls, v: PlanVersion) -> VersionOut:
        return cls(VersionSummary.of(v), services.content_of(v))


class ProblemsOut(msgspec.Struct):
    publishable: bool
    problems: list[dict[str, str]]


class DiffOut(msgspec.Struct):
    from_version: VersionSummary
    to_version: VersionSummary
    sections: dict[str, list[checks.Change]]


class SuggestionOut(msgspec.Struct):
    plan_version_id: uuid.UUID
    plan_number: int
    suggestion: rules.Suggestion | None


class ReadinessOut(msgspec.Struct):
    plan_version_id: uuid.UUID
    plan_number: int
    report: readiness.Readiness


class PersonRef(msgspec.Struct):
    id: uuid.UUID
    # None for an API key without people:read (as the plan document withholds them).
    name_zh: str | None
    name_en: str | None


class PersonCompliance(msgspec.Struct):
    person_id: uuid.UUID
    name_zh: str | None
    name_en: str | None
    groups: list[str]
    last_trained_on: dt.date | None
    due_on: dt.date | None
    overdue: bool


class ComplianceOut(msgspec.Struct):
    """Training compliance with every person named (``overdue`` keeps the ids, ``overdue_people`` names them)."""

    as_of: dt.date
    training_every_days: int
    drill_every_days: int
    people: list[PersonCompliance]
    overdue: list[uuid.UUID]
    overdue_people: list[PersonRef]
    drill: training.DrillStatus

    @classmethod
    def of(cls, c: training.Compliance, people: dict[uuid.UUID, Any]) -> ComplianceOut:
        def names(pid: uuid.UUID) -> tuple[str | None, str | None]:
            p = people.get(pid)
            return (p.name_zh, p.name_en) if p is not None else (None, None)

        return cls(
            c.as_of,
            c.training_every_days,
            c.drill_every_days,
            [
                PersonCompliance(s.person_id, *names(s.person_id), s.groups, s.last_trained_on, s.due_on, s.overdue)
                for s in c.people
            ],
            c.overdue,
            [PersonRef(pid, *names(pid)) for pid in c.overdue],
            c.drill,
        )


class TrainingOut(msgspec.Struct):
    id: uuid.UUID
    held_on: dt.date
    kind: str
    topic: str
    notes: str | None
    participants: list[uuid.UUID]
    created_at: dt.datetime


class PlanController(Controller):
    path = "/api/v1/plans"
    tags = ["plans"]

    @get("/versions", summary="List plan versions, newest first", **READ)
    async def list_versions(self, db_session: Session) -> list[VersionSummary]:
        return [VersionSummary.of(v) for v in await services.list_versions(db_session)]

    @post("/versions", summary="Open the next draft (a copy of a version, the published one, or the seed)", **ADMIN)
    async def create_draft(self, data: JSONBody[DraftCreate], db_session: Session, principal: Caller) -> VersionOut:
        draft = await services.create_draft(db_session, based_on_id=data.based_on_id, actor_id=principal.subject_id)
        return VersionOut.of(draft)

    @get("/versions/{version_id:uuid}", summary="Show a plan version with its content", **READ)
    async def show(self, version_id: FromPath[uuid.UUID], db_session: Session) -> VersionOut:
        return VersionOut.of(await services.get_version(db_session, version_id))

    @put("/versions/{version_id:uuid}", summary="Replace a draft's content (names the revision it edits)", **ADMIN)
    async def replace(
        self, version_id: FromPath[uuid.UUID], data: JSONBody[ContentReplace], db_session: Session, principal: Caller
    ) -> VersionOut:
        version = await services.replace_content(
            db_session, version_id, content=data.content, revision=data.revision, actor_id=principal.subject_id
        )
        return VersionOut.of(version)

    @patch("/versions/{version_id:uuid}/sections/{section:str}", summary="Replace one section of a draft", **ADMIN)
    async def update_section(
        self,
        version_id: FromPath[uuid.UUID],
        section: FromPath[str],
        data: JSONBody[SectionUpdate],
        db_session: Session,
        principal: Caller,
    ) -> VersionOut:
        version = await services.update_section(
            db_session, version_id, section, value=data.value, revision=data.revision, actor_id=principal.subject_id
        )
        return VersionOut.of(version)

    @get("/versions/{version_id:uuid}/problems", summary="What would stop this version from being published", **ADMIN)
    async def problems(self, version_id: FromPath[uuid.UUID], db_session: Session) -> ProblemsOut:
        problems = await services.publication_problems(db_session, await services.get_version(db_session, version_id))
        return ProblemsOut(not problems, problems)

    @post(
        "/versions/{version_id:uuid}/publish",
        summary="Publish a draft; the version in force is superseded",
        status_code=HTTP_200_OK,
        **ADMIN,
    )
    async def publish(self, version_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> VersionOut:
        return VersionOut.of(await services.publish(db_session, version_id, actor_id=principal.subject_id))

    @get("/current", summary="The version in force now, or at `at`", **READ)
    async def current(self, db_session: Session, at: FromQuery[dt.datetime | None] = None) -> VersionOut:
        return VersionOut.of(await services.in_force_or_404(db_session, _aware(at) if at else None))

    @get("/diff", summary="What changed between two versions, section by section", **READ)
    async def diff(
        self,
        db_session: Session,
        from_id: Annotated[uuid.UUID, QueryParameter(name="from")],
        to_id: Annotated[uuid.UUID, QueryParameter(name="to")],
    ) -> DiffOut:
        old, new, sections = await services.diff_versions(db_session, from_id, to_id)
        return DiffOut(VersionSummary.of(old), VersionSummary.of(new), sections)

    @post(
        "/suggest-severity",
        summary="The severity level the plan in force suggests for an incident's facts",
        status_code=HTTP_200_OK,
        **READ,
    )
    async def suggest(self, data: JSONBody[FactsIn], db_session: Session) -> SuggestionOut:
        facts = rules.Facts(
            participants=data.participants,
            injuries=data.injuries,
            duration_minutes=data.duration_minutes,
            categories=frozenset(data.categories),
            media_attention=data.media_attention,
            safety_threat=data.safety_threat,
        )
        version, suggestion = await services.suggest(db_session, facts, at=_aware(data.at) if data.at else None)
        return SuggestionOut(version.id, version.number, suggestion)

    @get("/readiness", summary="Materials against the published plan's minimums (shortages are journaled)", **READ)
    async def readiness(
        self,
        db_session: Session,
        principal: Caller,
        expiring_within_days: Annotated[int, QueryParameter(ge=0, le=3650)] = 30,
    ) -> ReadinessOut:
        version, report = await services.check_readiness(
            db_session, as_of=await _today(db_session, principal), within_days=expiring_within_days
        )
        return ReadinessOut(version.id, version.number, report)

    @get("/document", summary="The plan document (HTML, PDF or DOCX; zh-CN or en)", **READ)
    async def document(
        self,
        db_session: Session,
        principal: Caller,
        format: FromQuery[Literal["html", "pdf", "docx"]] = "pdf",
        lang: FromQuery[Literal["zh-CN", "en"]] = "zh-CN",
        version_id: FromQuery[uuid.UUID | None] = None,
    ) -> Response[bytes]:
        return await plan_document(db_session, principal, format=format, lang=lang, version_id=version_id)


class TrainingController(Controller):
    path = "/api/v1/training"
    tags = ["plans"]

    @post("/sessions", summary="Record a training session or drill that took place", **ADMIN)
    async def record(self, data: JSONBody[TrainingIn], db_session: Session, principal: Caller) -> TrainingOut:
        row = await training.record_session(
            db_session,
            held_on=data.held_on,
            kind=data.kind,
            topic=data.topic,
            participants=data.participants,
            notes=data.notes,
            actor_id=principal.subject_id,
            today=await _today(db_session, principal),
        )
        return (await _training_out(db_session, [row]))[0]

    @get("/sessions", summary="Training sessions and drills, newest first", **READ)
    async def list(
        self,
        db_session: Session,
        since: FromQuery[dt.date | None] = None,
        until: FromQuery[dt.date | None] = None,
    ) -> list[TrainingOut]:
        return await _training_out(db_session, await training.list_sessions(db_session, since=since, until=until))

    @get("/sessions/{session_id:uuid}", summary="Show a training session or drill", **READ)
    async def show(self, session_id: FromPath[uuid.UUID], db_session: Session) -> TrainingOut:
        return (await _training_out(db_session, [await training.get_session(db_session, session_id)]))[0]

    @get("/compliance", summary="Who is overdue for training; whether the drill cadence is met", **READ)
    async def compliance(
        self, db_session: Session, principal: Caller, as_of: FromQuery[dt.date | None] = None
    ) -> ComplianceOut:
        found = await services.training_compliance(db_session, as_of=as_of or await _today(db_session, principal))
        named = principal.kind != "api_key" or "people:read" in principal.scopes
        people = await services.people_named(db_session, [p.person_id for p in found.people]) if named else {}
        return ComplianceOut.of(found, people)


async def plan_document(
    db_session: Session,
    principal: Principal,
    *,
    format: document.Format,
    lang: document.Lang,
    version_id: uuid.UUID | None,
) -> Response[bytes]:
    """The plan document of a version (the one in force without ``version_id``) as an attachment; the console's
    download answers with the same."""
    version = (
        await services.get_version(db_session, version_id) if version_id else await services.in_force_or_404(db_session)
    )
    data = await services.document_data(
        db_session,
        version,
        await get_tenant(db_session, _tenant(principal)),
        with_people=principal.kind != "api_key" or "people:read" in principal.scopes,
    )
    # Rendering a PDF takes a second or two of CPU (font subsetting): keep it off the event loop.
    body = await asyncio.to_thread(document.render, data, lang, format)
    filename = f"plan-v{version.number}-{lang}.{format}"
    return Response(
        body,
        media_type=document.MEDIA_TYPES[format],
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


async def _training_out(db_session: Session, rows: list[training.TrainingSession]) -> list[TrainingOut]:
    people = await training.participants_of(db_session, [r.id for r in rows])
    return [TrainingOut(r.id, r.held_on, r.kind, r.topic, r.notes, people[r.id], r.created_at) for r in rows]


def _tenant(principal: Principal) -> uuid.UUID:
    assert principal.tenant_id is not None  # the guards admit tenant callers only
    return principal.tenant_id


async def _today(db_session: Session, principal: Principal) -> dt.date:
    """Today in the university's time zone (cadences and expiry dates are calendar days there)."""
    tenant = await get_tenant(db_session, _tenant(principal))
    return utcnow().astimezone(tenant.zone).date()


def _aware(at: dt.datetime) -> dt.datetime:
    return at if at.tzinfo else at.replace(tzinfo=dt.UTC)
