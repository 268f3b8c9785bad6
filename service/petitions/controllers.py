"""HTTP for petitions: the mobile and public intake, staff registration and case handling, categories,
settings. Controllers translate HTTP; the rules live in ``services``."""

from __future__ import annotations

import builtins
import hashlib
import uuid
from datetime import date, datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.datastructures import State, UploadFile
from litestar.enums import RequestEncodingType
from litestar.openapi import ResponseSpec
from litestar.params import Body, FromPath, FromQuery, JSONBody, QueryParameter

from service.http.deps import Caller, Page, Session
from service.http.guards import (
    ADMIN,
    ANY_ACCOUNT,
    ANY_OR_READER,
    PUBLIC,
    STAFF,
    STAFF_OR_READER,
    SUBMITTER,
)
from service.http.idempotency import IdempotencyKey
from service.http.public import enter_tenant
from service.petitions import access_log, replies, scope, services
from service.petitions import schemas as s
from service.petitions.access_log import Via
from service.petitions.models import Channel, Kind, Petition
from service.petitions.storage import EXTENSIONS, storage_from_settings
from service.petitions.workflow import Action
from service.petitions.workflow import State as PState
from tenants import idempotency
from tenants.clock import utcnow
from tenants.errors import Invalid, RateLimited
from tenants.identity import Principal, Role
from tenants.tenancy import tenant_zone

# What a submission answers (its handlers return the stored bytes, which Litestar cannot read a schema from).
SUBMITTED = {
    201: ResponseSpec(
        data_container=s.SubmittedOut, description="Received: tracking number, lookup code", generate_examples=False
    )
}
# Guessing a lookup code: per tracking number and per client, per minute.
LOOKUPS_PER_NUMBER = 10
LOOKUPS_PER_CLIENT = 30


async def receive(
    state: State,
    request: Request[Any, Any, Any],
    principal: Principal,
    data: s.SubmissionIn,
    key: str | None,
    registered_by: uuid.UUID | None = None,
) -> Response[Any]:
    """Submit once per Idempotency-Key: the key is claimed, and the response stored, with the petition itself;
    a retry gets the first response back. Intake is the hottest write and issues its own SQL: one statement on a
    connection of the intake pool, its own transaction (see ``Database.intake_connection``)."""
    attempt = None
    if key is not None:
        fp = idempotency.fingerprint(request.method, request.url.path, msgspec.json.encode(data))
        attempt = idempotency.Attempt.of(key, principal, fp)
    async with state.db.intake_connection() as connection:
        result = await services.submit(
            connection,
            state.db,
            submission(data),
            principal=principal,
            registered_by=registered_by,
            attempt=attempt,
            render=lambda petition, code: msgspec.json.encode(_submitted(petition, code)),
        )
    headers = {"Idempotent-Replayed": "true"} if result.replayed else None
    return Response(result.body, status_code=result.status_code, media_type="application/json", headers=headers)


def submission(data: s.SubmissionIn) -> services.Submission:
    p = data.petitioner
    return services.Submission(
        kind=data.kind,
        category=data.category,
        subject=data.subject,
        content=data.content,
        channel=data.channel,
        anonymous=data.anonymous,
        location_text=data.location_text,
        lat=data.lat,
        long=data.long,
        petitioner_name=p.name if p else None,
        petitioner_phone=p.phone if p else None,
        petitioner_number=p.number if p else None,
        participants=data.participants,
        representatives=[services.Representative(r.name, r.contact) for r in data.representatives],
        accused_org_unit_id=data.accused_org_unit_id,
        notify_consent=bool(data.notify and data.notify.consent),
        notify_email=data.notify.email if data.notify else None,
        notify_phone=data.notify.phone if data.notify else None,
        notify_lang=data.notify.lang if data.notify else "zh-CN",
    )


def _submitted(p: services.Received, lookup_code: str) -> s.SubmittedOut:
    return s.SubmittedOut(p.id, p.tracking_number, lookup_code, p.state, p.received_at, p.accept_due)


class PetitionController(Controller):
    path = "/api/v1/petitions"
    tags = ["petitions"]

    @post(
        "/",
        summary="Submit a petition (signed-in petitioner or staff member, or the university's app with a "
        "petitions:write key on behalf of its signed-in user)",
        responses=SUBMITTED,
        **SUBMITTER,
    )
    async def submit(
        self,
        data: JSONBody[s.SubmissionIn],
        principal: Caller,
        state: State,
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        return await receive(state, request, principal, data, idempotency_key)

    @post(
        "/register",
        summary="Register a letter, call, fax, email or visit on behalf of a petitioner",
        responses=SUBMITTED,
        **STAFF,
    )
    async def register(
        self,
        data: JSONBody[s.RegistrationIn],
        principal: Caller,
        state: State,
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        return await receive(state, request, principal, data, idempotency_key, principal.subject_id)

    @get("/", summary="List petitions (filters, Chinese text search, keyset pagination)", **STAFF_OR_READER)
    async def list(
        self,
        db_session: Session,
        principal: Caller,
        states: Annotated[list[PState] | None, QueryParameter(name="state", description="one or more states")] = None,
        overdue: FromQuery[bool | None] = None,
        org_unit_id: FromQuery[uuid.UUID | None] = None,
        kind: FromQuery[Kind | None] = None,
        category: Annotated[str | None, QueryParameter(max_length=40)] = None,
        channel: FromQuery[Channel | None] = None,
        received_from: FromQuery[date | None] = None,
        received_to: FromQuery[date | None] = None,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        cursor: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Page[s.PetitionSummary]:
        flt = services.ListFilter(
            [str(x) for x in states] if states else None,
            overdue,
            org_unit_id,
            kind,
            category,
            channel,
            received_from,
            received_to,
            q,
        )
        rows, nxt = await services.list_petitions(
            db_session, flt, cursor=cursor, limit=limit, within=scope.listed(principal)
        )
        now = utcnow()
        return Page([s.PetitionSummary.of(p, c, now) for p, c in rows], str(nxt) if nxt else None)

    @get(
        "/{petition_id:uuid}",
        summary="Show a petition in the caller's scope (identity sealed for accusations; 404 out of scope)",
        **ANY_OR_READER,
    )
    async def show(
        self, petition_id: FromPath[uuid.UUID], db_session: Session, principal: Caller, request: Request[Any, Any, Any]
    ) -> s.PetitionOut:
        return await _detail(db_session, petition_id, principal, request)

    @get(
        "/{petition_id:uuid}/attachments",
        summary="The files attached to a petition in the caller's scope (404 out of scope)",
        **ANY_OR_READER,
    )
    async def attachments(
        self, petition_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> builtins.list[s.AttachmentOut]:
        return [s.AttachmentOut.of(a) for a in await services.list_attachments(db_session, petition_id, principal)]

    @get(
        "/{petition_id:uuid}/attachments/{attachment_id:uuid}",
        summary="One attached file, to preview or download (404 out of scope)",
        media_type="application/octet-stream",
        produces=("jpeg", "png", "pdf", "mp3", "docx"),
        **ANY_OR_READER,
    )
    async def attachment(
        self,
        petition_id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
        db_session: Session,
        principal: Caller,
        state: State,
    ) -> Response[bytes]:
        return await serve_attachment(state, db_session, petition_id, attachment_id, principal)

    @get("/mine", summary="The caller's own petitions, newest first", **ANY_ACCOUNT)
    async def my_list(
        self,
        db_session: Session,
        principal: Caller,
        cursor: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Page[s.PetitionSummary]:
        rows, nxt = await services.list_petitions(
            db_session, services.ListFilter(), cursor=cursor, limit=limit, within=scope.own(principal)
        )
        now = utcnow()
        return Page([s.PetitionSummary.of(p, c, now) for p, c in rows], str(nxt) if nxt else None)

    @get("/mine/{petition_id:uuid}", summary="A petitioner's own petition", **ANY_ACCOUNT)
    async def mine(
        self, petition_id: FromPath[uuid.UUID], db_session: Session, principal: Caller, request: Request[Any, Any, Any]
    ) -> s.PetitionOut:
        return await _detail(db_session, petition_id, principal, request)

    @post(
        "/{petition_id:uuid}/actions", summary="Take a workflow action (409 when the state forbids it)", **ANY_ACCOUNT
    )
    async def act(
        self,
        petition_id: FromPath[uuid.UUID],
        data: JSONBody[s.ActionIn],
        db_session: Session,
        principal: Caller,
        request: Request[Any, Any, Any],
    ) -> s.PetitionOut:
        fields = services.ActionInput(
            data.reason,
            data.org_unit_id,
            data.days,
            data.outcome,
            data.opinion,
            data.agreement,
            data.rating,
            data.comment,
            data.basis,
            data.redirect_to,
        )
        petition = await services.act(
            db_session, petition_id, data.action, fields, principal=principal, version=data.version
        )
        return await _detail(db_session, petition_id, principal, request, acted_on=petition)

    @post(
        "/{petition_id:uuid}/identity",
        summary="Reveal the sealed identity of a petitioner (petition office; journaled)",
        status_code=200,
        **STAFF,
    )
    async def reveal(
        self,
        petition_id: FromPath[uuid.UUID],
        data: JSONBody[s.RevealIn],
        db_session: Session,
        principal: Caller,
        request: Request[Any, Any, Any],
    ) -> s.IdentityOut:
        petition = await services.reveal_identity(
            db_session, petition_id, principal=principal, reason_code=data.reason_code, via=Via.of(request)
        )
        petitioner, reps = s.identity_of(petition)
        return s.IdentityOut(petitioner, reps)

    @post("/escalations", summary="Mark related petitions for escalation to an emergency incident", **STAFF)
    async def escalate(self, data: JSONBody[s.EscalationIn], db_session: Session, principal: Caller) -> s.EscalationOut:
        esc = await services.request_escalation(
            db_session, data.petition_ids, reason_code=data.reason_code, principal=principal
        )
        return s.EscalationOut(esc.id, list(dict.fromkeys(data.petition_ids)), esc.reason_code, esc.requested_at)


async def _detail(
    session: Session,
    petition_id: uuid.UUID,
    principal: Principal,
    request: Request[Any, Any, Any],
    acted_on: Petition | None = None,
) -> s.PetitionOut:
    shown = await services.show_petition(session, petition_id, principal, Via.of(request), acted_on=acted_on)
    petition = shown.petition
    out = s.PetitionOut.of(
        petition, await services.category_code(session, petition), show_identity=shown.identity, now=utcnow()
    )
    if principal.role in services.STAFF_ROLES or principal.kind == "api_key":
        # Imported here: the incidents domain builds on petitions, not the other way round.
        from service.incidents.services import incidents_of_petition

        out.incident_ids = await incidents_of_petition(session, petition_id)
    if principal.kind == "account" and principal.role in services.STAFF_ROLES and petition.in_charge_person_id:
        out.in_charge_person_id = petition.in_charge_person_id
        out.in_charge_name = await services.person_name(session, petition.in_charge_person_id)
    return out


def _guard_guessing(state: State, request: Request[Any, Any, Any], tenant: uuid.UUID, tracking_number: str) -> None:
    limiter = state.rate_limiter
    client = (request.client.host if request.client else "?") or "?"
    for key, limit in (
        (f"lookup:n:{tenant}:{tracking_number}", LOOKUPS_PER_NUMBER),
        (f"lookup:c:{hashlib.sha256(client.encode()).hexdigest()[:16]}", LOOKUPS_PER_CLIENT),
    ):
        wait = limiter.hit(key, limit)
        if wait is not None:
            raise RateLimited("too many look-ups; retry later", retry_after=wait)


async def by_lookup_code(
    state: State, request: Request[Any, Any, Any], db_session: Session, slug: str, tracking_number: str, code: str
) -> Petition:
    """The petition behind a tracking number and lookup code, in the slug's university, with guessing limited."""
    tenant = await enter_tenant(state, slug)
    tracking_number = services.normalize_code(tracking_number)
    _guard_guessing(state, request, tenant, tracking_number)
    return await services.find_by_code(db_session, tracking_number, code)


class PublicPetitionController(Controller):
    """Anonymous access scoped by the university's slug: categories, submission, status, rating, review."""

    path = "/api/v1/t/{slug:str}"
    tags = ["petitions (public)"]

    @get("/categories", summary="The university's petition categories", **PUBLIC)
    async def categories(self, slug: FromPath[str], state: State, db_session: Session) -> list[s.CategoryOut]:
        await enter_tenant(state, slug)
        return [s.CategoryOut.of(c) for c in await services.list_categories(db_session, active_only=True)]

    @get("/places", summary="The university's campus places to petition from (pick one instead of a map pin)", **PUBLIC)
    async def places(self, slug: FromPath[str], state: State, db_session: Session) -> list[s.PlaceOut]:
        await enter_tenant(state, slug)
        return [msgspec.convert(p, s.PlaceOut) for p in await services.campus_places(db_session)]

    @post(
        "/petitions",
        summary="Submit a petition without an account (named or anonymous)",
        responses=SUBMITTED,
        **PUBLIC,
    )
    async def submit(
        self,
        slug: FromPath[str],
        data: JSONBody[s.SubmissionIn],
        principal: Caller,
        state: State,
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        await enter_tenant(state, slug)

        return await receive(state, request, principal, data, idempotency_key)

    @post("/petitions/status", summary="Public status by tracking number and lookup code", status_code=200, **PUBLIC)
    async def status(
        self,
        slug: FromPath[str],
        data: JSONBody[s.LookupIn],
        db_session: Session,
        state: State,
        request: Request[Any, Any, Any],
    ) -> s.PublicStatus:
        petition = await by_lookup_code(state, request, db_session, slug, data.tracking_number, data.lookup_code)
        return s.PublicStatus.of(petition, await services.category_code(db_session, petition), utcnow())

    @post("/petitions/rating", summary="Rate the outcome with the lookup code", status_code=200, **PUBLIC)
    async def rate(
        self,
        slug: FromPath[str],
        data: JSONBody[s.RateIn],
        db_session: Session,
        principal: Caller,
        state: State,
        request: Request[Any, Any, Any],
    ) -> s.PublicStatus:
        petition = await by_lookup_code(state, request, db_session, slug, data.tracking_number, data.lookup_code)
        petition = await services.get_petition(db_session, petition.id, lock=True)
        fields = services.ActionInput(rating=data.rating, comment=data.comment)
        await services.act(
            db_session,
            petition.id,
            Action.rate,
            fields,
            principal=principal,
            version=None,
            by_lookup_code=True,
            petition=petition,
        )
        return s.PublicStatus.of(petition, await services.category_code(db_session, petition), utcnow())

    @post(
        "/petitions/review",
        summary="Ask for a review (复查) or re-review (复核) with the lookup code",
        status_code=200,
        **PUBLIC,
    )
    async def review(
        self,
        slug: FromPath[str],
        data: JSONBody[s.ReviewIn],
        db_session: Session,
        principal: Caller,
        state: State,
        request: Request[Any, Any, Any],
    ) -> s.PublicStatus:
        petition = await by_lookup_code(state, request, db_session, slug, data.tracking_number, data.lookup_code)
        petition = await services.get_petition(db_session, petition.id, lock=True)
        action = Action.request_rereview if petition.state == PState.reviewed else Action.request_review
        await services.act(
            db_session,
            petition.id,
            action,
            services.ActionInput(),
            principal=principal,
            version=None,
            by_lookup_code=True,
            petition=petition,
        )
        return s.PublicStatus.of(petition, await services.category_code(db_session, petition), utcnow())

    @post(
        "/petitions/attachments",
        summary="Attach files to a petition (jpeg, png, pdf, docx, mp3; checked by content)",
        opt={
            "media": "multipart",
            "form": {
                "fields": {
                    "tracking_number": {"type": "string", "minLength": 1, "maxLength": 24},
                    "lookup_code": {"type": "string", "minLength": 1, "maxLength": 32},
                    "files": "files",
                },
                "required": ["tracking_number", "lookup_code", "files"],
            },
        },
        request_max_body_size=32 * 1024 * 1024,
        **PUBLIC,
    )
    async def attach(
        self,
        slug: FromPath[str],
        data: Annotated[dict[str, Any], Body(media_type=RequestEncodingType.MULTI_PART)],
        db_session: Session,
        principal: Caller,
        state: State,
        request: Request[Any, Any, Any],
    ) -> list[dict[str, Any]]:
        petition = await by_lookup_code(
            state, request, db_session, slug, str(data.get("tracking_number") or ""), str(data.get("lookup_code") or "")
        )
        files = data.get("files")
        files = files if isinstance(files, list) else [files] if files is not None else []
        if not files or not all(isinstance(f, UploadFile) for f in files):
            raise Invalid(
                "the attachments cannot be stored", errors=[{"field": "files", "message": "one or more files"}]
            )
        contents = [await upload.read() for upload in files]
        stored = await services.attach_files(db_session, state.settings, petition, contents)
        return [{"id": str(a.id), "media_type": a.media_type, "size": a.size} for a in stored]


class CategoryController(Controller):
    path = "/api/v1/petition-categories"
    tags = ["petitions"]

    @get("/", summary="Petition categories (all, with inactive ones)", **ANY_ACCOUNT)
    async def list(self, db_session: Session) -> list[s.CategoryOut]:
        return [s.CategoryOut.of(c) for c in await services.list_categories(db_session)]

    @post("/", summary="Create a petition category", **ADMIN)
    async def create(self, data: JSONBody[s.CategoryIn], db_session: Session, principal: Caller) -> s.CategoryOut:
        values = msgspec.structs.asdict(data)
        return s.CategoryOut.of(await services.create_category(db_session, actor_id=principal.subject_id, **values))

    @patch("/{code:str}", summary="Change a petition category (rename, reroute, deactivate)", **ADMIN)
    async def update(
        self, code: FromPath[str], data: JSONBody[s.CategoryUpdate], db_session: Session, principal: Caller
    ) -> s.CategoryOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        return s.CategoryOut.of(
            await services.update_category(db_session, code, actor_id=principal.subject_id, **changes)
        )


class SettingsController(Controller):
    path = "/api/v1/petition-settings"
    tags = ["petitions"]

    @get("/", summary="Petition settings: follow-up days, reminder points, working calendar and its time zone", **ADMIN)
    async def show(self, db_session: Session) -> s.SettingsOut:
        return s.SettingsOut.of(await services.get_settings(db_session), await tenant_zone(db_session))

    @put("/", summary="Change petition settings (the time zone too)", **ADMIN)
    async def update(self, data: JSONBody[s.SettingsIn], db_session: Session, principal: Caller) -> s.SettingsOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        row = await services.update_settings(db_session, actor_id=principal.subject_id, **changes)
        return s.SettingsOut.of(row, await tenant_zone(db_session))


class AccessLogController(Controller):
    path = "/api/v1/petition-access-log"
    tags = ["petitions"]

    @get("/", summary="Who read which petitioner's personal data, when, through which route (newest first)", **ADMIN)
    async def list(
        self,
        db_session: Session,
        account_id: FromQuery[uuid.UUID | None] = None,
        petition_id: FromQuery[uuid.UUID | None] = None,
        since: Annotated[datetime | None, QueryParameter(name="from")] = None,
        until: Annotated[datetime | None, QueryParameter(name="to")] = None,
        cursor: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> Page[s.AccessOut]:
        rows, nxt = await access_log.entries(
            db_session,
            account_id=account_id,
            petition_id=petition_id,
            since=since,
            until=until,
            cursor=cursor,
            limit=limit,
        )
        return Page([s.AccessOut.of(r) for r in rows], str(nxt) if nxt else None)


async def serve_attachment(
    state: State, db_session: Session, petition_id: uuid.UUID, attachment_id: uuid.UUID, principal: Principal
) -> Response[bytes]:
    """One attached file of a petition in the caller's scope (404 otherwise), for the API and the console alike:
    shown inline for a preview, but never run as a page of ours (a sandboxed, unsniffed document)."""
    found = await services.get_attachment(db_session, petition_id, attachment_id, principal)
    content = await storage_from_settings(state.settings).get(found.storage_key)
    headers = {
        "Content-Disposition": f'inline; filename="{found.id}{EXTENSIONS.get(found.media_type, "")}"',
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": "sandbox",
    }
    return Response(content, media_type=found.media_type, headers=headers)


class ReplyTemplateController(Controller):
    """The university's reply templates: staff read the active ones (the reply form's picker); tenant admins
    keep them."""

    path = "/api/v1/reply-templates"
    tags = ["petitions"]

    @get("/", summary="Reply templates (staff: the active ones; tenant admins: all)", **STAFF)
    async def list(self, db_session: Session, principal: Caller) -> builtins.list[s.ReplyTemplateOut]:
        admin = principal.role is Role.tenant_admin
        return [s.ReplyTemplateOut.of(t) for t in await replies.list_templates(db_session, active_only=not admin)]

    @post("/", summary="Create a reply template", **ADMIN)
    async def create(
        self, data: JSONBody[s.ReplyTemplateIn], db_session: Session, principal: Caller
    ) -> s.ReplyTemplateOut:
        values = msgspec.structs.asdict(data)
        return s.ReplyTemplateOut.of(await replies.create_template(db_session, actor_id=principal.subject_id, **values))

    @get("/{template_id:uuid}", summary="One reply template", **STAFF)
    async def show(self, template_id: FromPath[uuid.UUID], db_session: Session) -> s.ReplyTemplateOut:
        return s.ReplyTemplateOut.of(await replies.get_template(db_session, template_id))

    @patch("/{template_id:uuid}", summary="Change a reply template (rename, reword, deactivate)", **ADMIN)
    async def update(
        self,
        template_id: FromPath[uuid.UUID],
        data: JSONBody[s.ReplyTemplateUpdate],
        db_session: Session,
        principal: Caller,
    ) -> s.ReplyTemplateOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        return s.ReplyTemplateOut.of(
            await replies.update_template(db_session, template_id, actor_id=principal.subject_id, **changes)
        )

    @delete("/{template_id:uuid}", summary="Delete a reply template", status_code=204, **ADMIN)
    async def remove(self, template_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> None:
        await replies.delete_template(db_session, template_id, actor_id=principal.subject_id)
