"""The student's pages (mobile first), anonymous, scoped by the university's slug: submit a petition, save the
tracking number and lookup code, check the status, rate, ask for a review. The same services and the same
guessing limits as the public API."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State, UploadFile
from litestar.params import FromPath
from litestar.response import Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import pages, views
from service.http.deps import Caller, Session
from service.http.public import enter_tenant
from service.petitions import controllers as api
from service.petitions import schemas as s
from service.petitions import services
from service.petitions.models import KINDS, RATINGS, Petition
from service.petitions.workflow import Action
from service.petitions.workflow import State as PState
from service.reception.controllers import public_schedule
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid, NotFound


class StudentController(Controller):
    path = "/t/{slug:str}"
    include_in_schema = False

    @get("/")
    async def new(
        self, request: Request[Any, Any, Any], slug: FromPath[str], state: State, db_session: Session
    ) -> Template:
        await enter_tenant(state, slug)
        return await _new_page(request, db_session, slug)

    @post("/petitions")
    async def submit(
        self, request: Request[Any, Any, Any], slug: FromPath[str], state: State, db_session: Session, principal: Caller
    ) -> Template:
        await enter_tenant(state, slug)
        form = await request.form()
        values = views.form_values(form, ("kind", "category", "subject", "content", "location_text"))
        anonymous = form.get("signed") != "named"
        person = views.form_values(form, ("name", "phone", "number"))
        body: dict[str, Any] = {**values, "anonymous": anonymous, "channel": "mobile"}
        # A campus place picked from the list stands for a map pin: its name leads the place, its coordinates go
        # with the petition. An unknown code is refused like any bad field.
        place_code = str(form.get("place") or "")
        place = services.place_named(await services.campus_places(db_session), place_code)
        if place_code and place is None:
            return await _new_page(request, db_session, slug, status_code=400, values=body, invalid=True)
        if place is not None:
            detail = body.get("location_text")
            body["location_text"] = f"{place['name_zh']}（{detail}）" if detail else place["name_zh"]
            body["lat"], body["long"] = place["lat"], place["long"]
            values["place"] = place_code
        if not anonymous and person:
            body["petitioner"] = person
        key = str(form.get("idempotency_key") or "") or None
        try:
            data = msgspec.convert(body, s.SubmissionIn)
        except msgspec.ValidationError:
            return await _new_page(request, db_session, slug, status_code=400, values=body, invalid=True)
        # The API's own intake: one petition per Idempotency-Key, a double tap gets the first answer back.
        try:
            answer = await api.receive(state, request, principal, data, key)
        except Invalid:
            return await _new_page(request, db_session, slug, status_code=422, values=body, invalid=True)
        submitted = msgspec.json.decode(answer.content, type=s.SubmittedOut)
        upload = form.get("attachment")
        stored: bool | None = None
        # A replay (the second tap) carries the same file: the first request stored it.
        if isinstance(upload, UploadFile) and upload.filename and "Idempotent-Replayed" not in answer.headers:
            content = await upload.read()
            if content:
                petition = await services.get_petition(db_session, submitted.id)
                try:
                    async with db_session.begin_nested():
                        await services.attach_files(db_session, state.settings, petition, [content])
                    stored = True
                except Invalid:
                    stored = False
        zone = await services.tenant_zone(db_session)
        return pages.page(
            request, "student_saved.html", status_code=201, zone=zone, slug=slug, done=submitted, stored=stored
        )

    @get("/reception")
    async def reception(
        self, request: Request[Any, Any, Any], slug: FromPath[str], state: State, db_session: Session
    ) -> Template:
        """The leaders' reception days (领导接访), public: when, where, which post receives, places left."""
        await enter_tenant(state, slug)
        return pages.page(request, "student_reception.html", slug=slug, sessions=await public_schedule(db_session))

    @get("/status")
    async def status_form(self, request: Request[Any, Any, Any], slug: FromPath[str], state: State) -> Template:
        await enter_tenant(state, slug)
        return pages.page(request, "student_lookup.html", slug=slug)

    @post("/status")
    async def status(
        self, request: Request[Any, Any, Any], slug: FromPath[str], state: State, db_session: Session
    ) -> Template:
        number, code = await _credentials(request)
        try:
            petition = await api.by_lookup_code(state, request, db_session, slug, number, code)
        except NotFound:
            return pages.page(request, "student_lookup.html", status_code=404, slug=slug, error="student.not_found")
        return await _status_page(request, db_session, slug, petition, code)

    @post("/rating")
    async def rate(
        self, request: Request[Any, Any, Any], slug: FromPath[str], state: State, db_session: Session, principal: Caller
    ) -> Template:
        number, code = await _credentials(request)
        form = await request.form()
        try:
            petition = await api.by_lookup_code(state, request, db_session, slug, number, code)
        except NotFound:
            return pages.page(request, "student_lookup.html", status_code=404, slug=slug, error="student.not_found")
        rating = str(form.get("rating") or "")
        comment = (str(form.get("comment") or "").strip() or None) if rating in RATINGS else None
        if rating not in RATINGS or (comment and len(comment) > 1000):
            return await _status_page(request, db_session, slug, petition, code, status_code=422, error="error.422")
        return await _lookup_action(
            request, db_session, slug, petition, code, principal, Action.rate, rating, comment, "student.rated"
        )

    @post("/review")
    async def review(
        self, request: Request[Any, Any, Any], slug: FromPath[str], state: State, db_session: Session, principal: Caller
    ) -> Template:
        number, code = await _credentials(request)
        try:
            petition = await api.by_lookup_code(state, request, db_session, slug, number, code)
        except NotFound:
            return pages.page(request, "student_lookup.html", status_code=404, slug=slug, error="student.not_found")
        action = Action.request_rereview if petition.state == PState.reviewed else Action.request_review
        return await _lookup_action(
            request, db_session, slug, petition, code, principal, action, None, None, "student.review_done"
        )


async def _credentials(request: Request[Any, Any, Any]) -> tuple[str, str]:
    form = await request.form()
    return str(form.get("tracking_number") or "").strip()[:24], str(form.get("lookup_code") or "").strip()[:32]


async def _lookup_action(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    slug: str,
    petition: Petition,
    code: str,
    principal: Any,
    action: Action,
    rating: str | None,
    comment: str | None,
    done: str,
) -> Template:
    petition = await services.get_petition(session, petition.id, lock=True)
    try:
        async with session.begin_nested():
            await services.act(
                session,
                petition.id,
                action,
                services.ActionInput(rating=rating, comment=comment),
                principal=principal,
                version=None,
                by_lookup_code=True,
                petition=petition,
            )
    except Conflict:
        await session.refresh(petition)
        return await _status_page(request, session, slug, petition, code, status_code=409, error="error.409")
    return await _status_page(request, session, slug, petition, code, notice=done)


async def _new_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    slug: str,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    invalid: bool = False,
) -> Template:
    lang = pages.lang_of(request)
    categories = [
        (c.code, c.name_en if lang == "en" else c.name_zh)
        for c in await services.list_categories(session, active_only=True)
    ]
    places = [
        (p["code"], p["name_en"] if lang == "en" else p["name_zh"]) for p in await services.campus_places(session)
    ]
    return pages.page(
        request,
        "student_new.html",
        status_code=status_code,
        slug=slug,
        kinds=KINDS,
        categories=categories,
        places=places,
        values=values or {},
        invalid=invalid,
        # A fresh key for each form shown: a double tap of its button sends the same key twice.
        idempotency_key=str(uuid.uuid4()),
    )


async def _status_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    slug: str,
    petition: Petition,
    code: str,
    *,
    status_code: int = 200,
    notice: str | None = None,
    error: str | None = None,
) -> Template:
    category = await services.category_code(session, petition)
    status = s.PublicStatus.of(petition, category, utcnow())
    lang = pages.lang_of(request)
    names = {c.code: (c.name_en if lang == "en" else c.name_zh) for c in await services.list_categories(session)}
    return pages.page(
        request,
        "student_status.html",
        status_code=status_code,
        zone=await services.tenant_zone(session),
        slug=slug,
        st=status,
        category=names.get(category, category),
        # The reason of a non-acceptance is the petitioner's to know (the public API's status omits it).
        not_accepted_reason=petition.not_accepted_reason if petition.state == PState.not_accepted else None,
        deadlines=student_deadlines(petition),
        # An extension's reason is told to the petitioner (art. 34).
        extension=(petition.extended_days, petition.extension_reason) if petition.extended_days else None,
        ratings=RATINGS,
        lookup_code=code,
        notice=notice,
        error=error,
    )


# The states in which the petition waits for the office's acceptance, and those in which it is being handled.
_AWAITING = frozenset({PState.received})
_HANDLING = frozenset({PState.accepted, PState.assigned, PState.in_progress, PState.transferred})


def student_deadlines(petition: Petition) -> list[tuple[str, Any]]:
    """The deadlines the petitioner is owed now, by label key: acceptance while it waits to be accepted (art. 23),
    conclusion while it is handled (art. 34, extension included), the review window once replied (art. 35)."""
    out: list[tuple[str, Any]] = []
    if petition.state in _AWAITING:
        out.append(("due.accept", petition.accept_due))
    if petition.state in _HANDLING and petition.conclude_due:
        out.append(("due.conclude", petition.conclude_due))
    if petition.review_window_until and petition.state not in _AWAITING | _HANDLING:
        out.append(("due.review_window", petition.review_window_until))
    return out
