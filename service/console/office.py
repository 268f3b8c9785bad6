"""The petition office's own pages: register a letter, call, fax, email or visit on behalf of a petitioner, and
escalate a group petition to an emergency incident.

Both call what the API calls: registration is the API's staff intake (``petitions.controllers.receive`` with the
registering account, one petition per Idempotency-Key), escalation is ``petitions.services.request_escalation``
followed by the incidents' ``report_incident`` from that escalation request (the two steps of the API, in one
form). The scope rule decides: a petition out of the caller's handling scope is a 404.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import i18n, pages, views
from service.console.session import staff_only
from service.console.staff import petition_page
from service.http.deps import Caller, Session
from service.incidents import services as incidents
from service.petitions import controllers as api
from service.petitions import schemas as s
from service.petitions import services
from service.petitions.models import KINDS
from tenants import org
from tenants.errors import Conflict, Invalid
from tenants.identity import Principal
from tenants.ids import new_id

# The channels staff register (the regulation's art. 17 beside the online forms).
STAFF_CHANNELS = ("visit", "phone", "letter", "email", "fax")
MAX_REPRESENTATIVES = 5
REPRESENTATIVE_ROWS = range(1, MAX_REPRESENTATIVES + 1)
FIELDS = ("channel", "kind", "category", "subject", "content", "location_text", "accused_org_unit_id")
PERSON = ("name", "phone", "number")


def registration_body(form: Any) -> dict[str, Any]:
    """The registration form as the API's ``RegistrationIn`` body (empty fields left out)."""
    body: dict[str, Any] = views.form_values(form, FIELDS)
    anonymous = form.get("anonymous") == "yes"
    body["anonymous"] = anonymous
    person = views.form_values(form, PERSON)
    if person and not anonymous:
        body["petitioner"] = person
    participants = str(form.get("participants") or "").strip()
    if participants:
        body["participants"] = participants
    reps = []
    for i in REPRESENTATIVE_ROWS:
        row = views.form_values(form, (f"rep_name_{i}", f"rep_contact_{i}"))
        if row.get(f"rep_name_{i}"):
            reps.append({"name": row[f"rep_name_{i}"], "contact": row.get(f"rep_contact_{i}")})
    body["representatives"] = reps
    return body


class OfficeController(Controller):
    path = "/console"
    guards = [staff_only]
    include_in_schema = False

    @get("/register")
    async def register_form(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _register_page(request, db_session)

    @post("/register")
    async def register(
        self, request: Request[Any, Any, Any], state: State, db_session: Session, principal: Caller
    ) -> Template:
        form = await request.form()
        body = registration_body(form)
        key = str(form.get("idempotency_key") or "")[:255] or None
        try:
            data = msgspec.convert(body, s.RegistrationIn, strict=False)
        except msgspec.ValidationError as exc:
            return await _register_page(request, db_session, status_code=400, values=body, problems=[str(exc)])
        try:
            # The API's staff intake: registered by the caller, one petition per Idempotency-Key.
            answer = await api.receive(state, request, principal, data, key, principal.subject_id)
        except Invalid as exc:
            lang = pages.lang_of(request)
            problems = views.problem_lines(exc.extra.get("errors") or [], i18n.translator(lang), lang)
            return await _register_page(
                request,
                db_session,
                status_code=422,
                values=body,
                problems=problems or [i18n.refused(pages.lang_of(request), exc)],
            )
        done = msgspec.json.decode(answer.content, type=s.SubmittedOut)
        zone = await services.tenant_zone(db_session)
        return pages.page(request, "office_registered.html", status_code=201, zone=zone, done=done)

    @post("/petitions/{petition_id:uuid}/escalate")
    async def escalate(
        self, request: Request[Any, Any, Any], petition_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("reason_code", "title", "facts", "place", "people_count"))
        problems = []
        if values.get("reason_code") not in views.ESCALATION_REASONS:
            problems.append("reason_code")
        for name in ("title", "facts"):
            if not values.get(name):
                problems.append(name)
        try:
            people = int(values.get("people_count") or "0")
        except ValueError:
            people = 0
        if not 1 <= people <= 100_000:
            problems.append("people_count")
        if problems:
            return await petition_page(request, db_session, principal, petition_id, status_code=422, problems=problems)
        try:
            async with db_session.begin_nested():
                incident = await escalate_to_incident(
                    db_session,
                    petition_id,
                    principal=principal,
                    reason_code=values["reason_code"],
                    title=values["title"][:200],
                    facts=values["facts"][:5000],
                    place=(values.get("place") or None) and values["place"][:200],
                    people_count=people,
                )
        except Invalid as exc:
            lang = pages.lang_of(request)
            found = views.problem_lines(exc.extra.get("errors") or [], i18n.translator(lang), lang)
            return await petition_page(
                request,
                db_session,
                principal,
                petition_id,
                status_code=422,
                problems=found or [i18n.refused(pages.lang_of(request), exc)],
            )
        except Conflict as exc:
            return await petition_page(
                request,
                db_session,
                principal,
                petition_id,
                status_code=409,
                refused=i18n.refused(pages.lang_of(request), exc),
            )
        return pages.redirect(f"/console/incidents/{incident}")


async def escalate_to_incident(
    session: AsyncSession,
    petition_id: uuid.UUID,
    *,
    principal: Principal,
    reason_code: str,
    title: str,
    facts: str,
    place: str | None,
    people_count: int,
) -> uuid.UUID:
    """The API's two steps in one: mark the petition for escalation, then report the incident from that request
    (every petition must be in the caller's handling scope: 404 otherwise). Returns the incident's id."""
    escalation = await services.request_escalation(session, [petition_id], reason_code=reason_code, principal=principal)
    incident = await incidents.report_incident(
        session,
        principal.subject_id,
        incidents.IncidentReport(title=title, facts=facts, people_count=people_count, place=place),
        escalation_id=escalation.id,
        principal=principal,
    )
    return incident.id


async def _register_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
) -> Template:
    lang = pages.lang_of(request)
    categories = await services.list_categories(session, active_only=True)
    units = await org.all_units(session)
    return pages.page(
        request,
        "office_register.html",
        status_code=status_code,
        values=values or {},
        problems=problems,
        channels=STAFF_CHANNELS,
        kinds=KINDS,
        categories=[(c.code, c.name_en if lang == "en" else c.name_zh) for c in categories],
        units=[(u.id, u.name_en if lang == "en" else u.name_zh) for u in units],
        rows=REPRESENTATIVE_ROWS,
        # A new key per form shown: a double submit of this form makes one petition.
        idempotency_key=str(new_id()),
    )
