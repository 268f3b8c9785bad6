"""The handling side's pages: my queue and a petition's page with exactly the actions the workflow allows now.

Every read goes through the petitions' services and their one scope policy (``service.petitions.scope``): a
petition out of the caller's scope is a 404 page, exactly as the API's 404.
"""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import i18n, pages, views
from service.console.session import staff_only
from service.http.deps import Caller, Session
from service.incidents.services import incidents_of_petition
from service.petitions import replies, scope, services
from service.petitions import schemas as s
from service.petitions.access_log import Via
from service.petitions.controllers import serve_attachment
from service.petitions.models import CHANNELS, KINDS, OUTCOMES
from service.petitions.workflow import State as PState
from tenants import org
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid, NotFound
from tenants.identity import Principal

PAGE_SIZE = 25
FILTERS = ("state", "unit", "kind", "category", "channel", "overdue", "q", "from", "to")
# The fields each action's form carries (beyond the action and the version the page was read at).
ACTION_FIELDS = ("reason", "org_unit_id", "days", "outcome", "opinion", "agreement")
# Why the office opens a sealed identity: audited codes, never free text.
REVEAL_REASONS = ("investigation", "safety", "legal-request")
# The forms that carry a handling opinion (the reply templates' picker is offered beside them).
REPLY_ACTIONS = frozenset({"reply", "answer_review", "answer_rereview"})


def _uuid(value: str | None, field: str) -> uuid.UUID | None:
    if not value:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise Invalid("bad filter", errors=[{"field": field, "message": "not an id"}]) from None


def _filter(params: dict[str, str]) -> services.ListFilter:
    errors = []
    if params.get("state") and params["state"] not in PState.__members__:
        errors.append({"field": "state", "message": "unknown state"})
    if params.get("kind") and params["kind"] not in KINDS:
        errors.append({"field": "kind", "message": "unknown kind"})
    if params.get("channel") and params["channel"] not in CHANNELS:
        errors.append({"field": "channel", "message": "unknown channel"})
    if len(params.get("q") or "") > 200 or len(params.get("category") or "") > 40:
        errors.append({"field": "q", "message": "too long"})
    if errors:
        raise Invalid("bad filter", errors=errors)
    overdue = {"yes": True, "no": False}.get(params.get("overdue") or "")
    days = {}
    for name in ("from", "to"):
        if params.get(name):
            try:
                days[name] = date.fromisoformat(params[name])
            except ValueError:
                raise Invalid("bad filter", errors=[{"field": name, "message": "a date"}]) from None
    return services.ListFilter(
        state=[params["state"]] if params.get("state") else None,
        overdue=overdue,
        org_unit_id=_uuid(params.get("unit"), "unit"),
        kind=params.get("kind") or None,
        category=params.get("category") or None,
        channel=params.get("channel") or None,
        q=params.get("q") or None,
        # Calendar days of the university (the service turns them into its local day boundaries).
        received_from=days.get("from"),
        received_to=days.get("to"),
    )


async def _names(session: AsyncSession, lang: str) -> tuple[dict[uuid.UUID, str], list[Any], dict[str, str]]:
    """The org chart's unit names, the units (for the pickers) and the categories' names, in ``lang``."""
    units = await org.all_units(session)
    unit_names = {u.id: (u.name_en if lang == "en" else u.name_zh) for u in units}
    categories = await services.list_categories(session)
    category_names = {c.code: (c.name_en if lang == "en" else c.name_zh) for c in categories}
    return unit_names, units, category_names


class StaffController(Controller):
    path = "/console"
    guards = [staff_only]
    include_in_schema = False

    @get("/queue")
    async def queue(self, request: Request[Any, Any, Any], db_session: Session, principal: Caller) -> Template:
        params = {k: request.query_params.get(k) or "" for k in FILTERS}
        flt = _filter(params)
        cursor = _uuid(request.query_params.get("cursor"), "cursor")
        within = scope.listed(principal)
        rows, nxt = await services.list_petitions(db_session, flt, cursor=cursor, limit=PAGE_SIZE, within=within)
        counts = await services.count_by_state(db_session, within=within)
        zone = await services.tenant_zone(db_session)
        lang = pages.lang_of(request)
        unit_names, units, category_names = await _names(db_session, lang)
        now = utcnow()
        items = [
            {
                "p": p,
                "category": category_names.get(code, code),
                "unit": unit_names.get(p.org_unit_id) if p.org_unit_id else None,
                "urgency": views.urgency(p.due_at, now),
            }
            for p, code in rows
        ]
        return pages.page(
            request,
            "queue.html",
            zone=zone,
            items=items,
            counts=[(st.value, counts.get(st.value, 0)) for st in PState],
            total=sum(counts.values()),
            params=params,
            units=units,
            unit_names=unit_names,
            category_names=category_names,
            states=[st.value for st in PState],
            kinds=KINDS,
            channels=CHANNELS,
            next_url=views.page_url("/console/queue", params, cursor=str(nxt)) if nxt else None,
            first_url=views.page_url("/console/queue", params) if cursor else None,
            changed=bool(request.query_params.get("changed")),
        )

    @get("/petitions/{petition_id:uuid}")
    async def petition(
        self, request: Request[Any, Any, Any], petition_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template:
        notice = "petition.done" if request.query_params.get("done") else None
        return await petition_page(request, db_session, principal, petition_id, notice=notice)

    @post("/petitions/{petition_id:uuid}/actions")
    async def act(
        self, request: Request[Any, Any, Any], petition_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("action", "version", *ACTION_FIELDS))
        try:
            data = msgspec.convert(values, s.ActionIn, strict=False)
        except msgspec.ValidationError as exc:
            return await petition_page(
                request, db_session, principal, petition_id, status_code=400, problems=[str(exc)]
            )
        fields = services.ActionInput(
            reason=data.reason,
            org_unit_id=data.org_unit_id,
            days=data.days,
            outcome=data.outcome,
            opinion=data.opinion,
            agreement=data.agreement,
        )
        try:
            # A refused action leaves nothing half-changed behind: the savepoint rolls its changes back.
            async with db_session.begin_nested():
                await services.act(
                    db_session, petition_id, data.action, fields, principal=principal, version=data.version
                )
        except Conflict as exc:
            stale = exc.code == "stale-version"
            return await petition_page(
                request,
                db_session,
                principal,
                petition_id,
                status_code=409,
                notice="petition.stale" if stale else None,
                refused=None if stale else i18n.refused(pages.lang_of(request), exc),
            )
        except Invalid as exc:
            problems = [f"{e.get('field')}: {e.get('message')}" for e in exc.extra.get("errors") or []]
            return await petition_page(
                request,
                db_session,
                principal,
                petition_id,
                status_code=422,
                problems=problems or [i18n.refused(pages.lang_of(request), exc)],
            )
        try:
            await services.find_petition(db_session, petition_id, principal)
        except NotFound:  # transferred out of the caller's scope: back to the queue
            return pages.redirect("/console/queue")
        return pages.redirect(f"/console/petitions/{petition_id}?done=1")

    @post("/petitions/{petition_id:uuid}/identity")
    async def reveal(
        self, request: Request[Any, Any, Any], petition_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template:
        form = await request.form()
        reason = str(form.get("reason_code") or "")
        if reason not in REVEAL_REASONS:
            return await petition_page(
                request, db_session, principal, petition_id, status_code=422, problems=["reason_code"]
            )
        petition = await services.reveal_identity(
            db_session, petition_id, principal=principal, reason_code=reason, via=Via.of(request)
        )
        petitioner, reps = s.identity_of(petition)
        return await petition_page(request, db_session, principal, petition_id, revealed=(petitioner, reps))

    @get("/petitions/{petition_id:uuid}/attachments/{attachment_id:uuid}", media_type="application/octet-stream")
    async def attachment(
        self,
        petition_id: FromPath[uuid.UUID],
        attachment_id: FromPath[uuid.UUID],
        db_session: Session,
        principal: Caller,
        state: State,
    ) -> Response[bytes]:
        return await serve_attachment(state, db_session, petition_id, attachment_id, principal)


async def petition_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    principal: Principal,
    petition_id: uuid.UUID,
    *,
    status_code: int = 200,
    notice: str | None = None,
    refused: str | None = None,
    problems: list[str] | None = None,
    revealed: Any = None,
) -> Template:
    petition, handled = await services.find_petition(session, petition_id, principal)
    shown = await services.show_petition(session, petition_id, principal, Via.of(request))
    await session.refresh(petition)
    out = s.PetitionOut.of(
        petition, await services.category_code(session, petition), show_identity=shown.identity, now=utcnow()
    )
    lang = pages.lang_of(request)
    unit_names, units, category_names = await _names(session, lang)
    zone = await services.tenant_zone(session)
    now = utcnow()
    linked = await incidents_of_petition(session, petition_id)
    actions = views.staff_actions(out.state, handled=handled)
    # The reply forms' picker: the university's templates; ``?template=<id>`` fills the opinion (and outcome).
    templates = await replies.list_templates(session, active_only=True) if REPLY_ACTIONS & set(actions) else []
    wanted = request.query_params.get("template") or ""
    chosen = next((tp for tp in templates if str(tp.id) == wanted), None)
    deadlines = [
        ("due.accept", out.deadlines.accept_due),
        ("due.conclude", out.deadlines.conclude_due),
        ("due.objection", out.deadlines.objection_due),
        ("due.review_window", out.deadlines.review_window_until),
        ("due.current", out.deadlines.due_at),
    ]
    return pages.page(
        request,
        "petition.html",
        status_code=status_code,
        zone=zone,
        p=out,
        category=category_names.get(out.category, out.category),
        unit=unit_names.get(out.org_unit_id) if out.org_unit_id else None,
        urgency=views.urgency(out.deadlines.due_at, now),
        deadlines=[(k, v, views.urgency(v, now) if k == "due.current" else None) for k, v in deadlines if v],
        attachments=await services.list_attachments(session, petition_id, principal),
        timeline=await services.timeline(session, petition_id, principal),
        actions=actions,
        reply_templates=templates,
        chosen_template=chosen,
        units=[u for u in units if u.id != out.org_unit_id],
        default_unit=None,
        outcomes=OUTCOMES,
        can_reveal=out.identity_sealed and principal.role in scope.OFFICE_ROLES and handled and revealed is None,
        incidents=linked,
        # A group petition handled by the caller, not yet behind an incident, can be escalated to one.
        can_escalate=handled and out.participants > 1 and not linked,
        escalation_reasons=views.ESCALATION_REASONS,
        reveal_reasons=REVEAL_REASONS,
        revealed=revealed,
        notice=notice,
        refused=refused,
        problems=problems,
    )
