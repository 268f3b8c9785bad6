"""HTTP for incidents: staff routes under /api/v1/incidents, and the public status page per incident.
Controllers translate HTTP; the rules (and the group authorization) live in ``services``."""

from __future__ import annotations

import builtins
import uuid
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.http.deps import Caller, Session
from service.http.guards import PUBLIC
from service.http.idempotency import IdempotencyKey, idempotent
from service.http.public import enter_tenant
from service.http.security import requires
from service.incidents import document, services
from service.incidents import schemas as s
from service.incidents.models import Incident
from service.incidents.workflow import State as IState
from tenants.clock import utcnow
from tenants.db import require_tenant
from tenants.errors import Invalid
from tenants.identity import Principal, Role
from tenants.tenancy import Tenant

STAFF = requires(Role.staff, Role.petition_officer, Role.tenant_admin)
Lang = Literal["zh-CN", "en"]


async def _out(session: Session, incident_id: uuid.UUID, viewer: Principal) -> s.IncidentOut:
    """The incident as ``viewer`` sees it: only the linked petitions in the viewer's petition scope."""
    return s.IncidentOut.of(await services.detail(session, incident_id, viewer), utcnow())


def _need(data: Any, *names: str) -> None:
    missing = [{"field": n, "message": "required for this action"} for n in names if getattr(data, n) is None]
    if missing:
        raise Invalid(f"{data.action} needs more fields", errors=missing)


class IncidentController(Controller):
    path = "/api/v1/incidents"
    tags = ["incidents"]

    @post(
        "/",
        summary="Report an incident (directly, from petitions or an escalation request)",
        responses={
            201: ResponseSpec(
                data_container=s.IncidentOut, description="The incident reported", generate_examples=False
            )
        },
        **STAFF,
    )
    async def report(
        self,
        data: JSONBody[s.ReportIn],
        db_session: Session,
        principal: Caller,
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        async def work() -> s.IncidentOut:
            incident = await services.report_incident(
                db_session,
                principal.subject_id,
                services.IncidentReport(
                    title=data.title,
                    facts=data.facts,
                    people_count=data.people_count,
                    place=data.place,
                    impact=data.impact,
                    people_groups=[services.PeopleGroup(g.kind, g.count, g.org_unit_id) for g in data.people_groups],
                    risk_categories=data.risk_categories,
                    drill=data.drill,
                ),
                petition_ids=data.petition_ids,
                escalation_id=data.escalation_id,
                principal=principal,
            )
            return await _out(db_session, incident.id, principal)

        return await idempotent(db_session, principal, idempotency_key, request, data, work)

    @get("/", summary="List incidents, newest first", **STAFF)
    async def list(
        self,
        db_session: Session,
        states: Annotated[list[IState] | None, QueryParameter(name="state")] = None,
        drill: FromQuery[bool | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> list[s.IncidentSummary]:
        rows = await services.list_incidents(
            db_session, states=[str(x) for x in states] if states else None, drill=drill, limit=limit
        )
        return [s.IncidentSummary.of(i) for i in rows]

    @get(
        "/{incident_id:uuid}", summary="Show an incident with its steps, tasks, measures, supplies, bulletins", **STAFF
    )
    async def show(self, incident_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> s.IncidentOut:
        return await _out(db_session, incident_id, principal)

    @post(
        "/{incident_id:uuid}/actions",
        summary="Take a workflow action (403 outside the group, 409 by state)",
        status_code=200,
        **STAFF,
    )
    async def act(
        self, incident_id: FromPath[uuid.UUID], data: JSONBody[s.ActionIn], db_session: Session, principal: Caller
    ) -> s.IncidentOut:
        actor, v = principal.subject_id, data.version
        if data.action == "assess":
            _need(data, "cause", "site_conditions")
            await services.assess(
                db_session,
                incident_id,
                services.Assessment(
                    cause=data.cause or "",
                    site_conditions=data.site_conditions or "",
                    people_count=data.people_count,
                    injuries=data.injuries,
                    duration_minutes=data.duration_minutes,
                    media_attention=data.media_attention,
                    safety_threat=data.safety_threat,
                    risk_categories=data.risk_categories,
                    level=data.level,
                    reason=data.reason,
                ),
                actor_id=actor,
                version=v,
            )
        elif data.action == "instruct":
            _need(data, "activated", "instruction")
            await services.instruct(
                db_session,
                incident_id,
                activated=bool(data.activated),
                level=data.level,
                instruction=data.instruction or "",
                actor_id=actor,
                version=v,
            )
        elif data.action == "end_response":
            await services.end_response(db_session, incident_id, actor_id=actor, version=v)
        elif data.action == "update_checklist":
            items = [services.ChecklistItem(i.key, i.done, i.zh, i.en) for i in data.items]
            await services.update_checklist(db_session, incident_id, items, actor_id=actor, version=v)
        elif data.action == "submit_summary":
            _need(data, "cause_analysis")
            await services.submit_summary(
                db_session,
                incident_id,
                cause_analysis=data.cause_analysis or "",
                lessons=data.lessons,
                proposals=[services.Proposal(p.proposal, p.owner_unit_id, p.due_on) for p in data.proposals],
                actor_id=actor,
                version=v,
            )
        elif data.action == "return_summary":
            await services.return_summary(db_session, incident_id, actor_id=actor, version=v)
        else:
            await services.approve_summary(db_session, incident_id, actor_id=actor, version=v)
        return await _out(db_session, incident_id, principal)

    # --- tasks ----------------------------------------------------------------------------------------------------

    @post("/{incident_id:uuid}/tasks", summary="Issue a task to an org unit or group (leadership group)", **STAFF)
    async def assign(
        self, incident_id: FromPath[uuid.UUID], data: JSONBody[s.TaskIn], db_session: Session, principal: Caller
    ) -> s.TaskOut:
        order = services.TaskOrder(data.step, data.duty, data.org_unit_id, data.group_key, data.due_at)
        task = await services.assign_task(db_session, incident_id, order, actor_id=principal.subject_id)
        return s.TaskOut.of(task, utcnow(), (await services.get_incident(db_session, incident_id)).drill)

    @post(
        "/{incident_id:uuid}/tasks/{task_id:uuid}/actions",
        summary="Acknowledge, complete or decline a task",
        status_code=200,
        **STAFF,
    )
    async def task_action(
        self,
        incident_id: FromPath[uuid.UUID],
        task_id: FromPath[uuid.UUID],
        data: JSONBody[s.TaskActionIn],
        db_session: Session,
        principal: Caller,
    ) -> s.TaskOut:
        task = await services.act_on_task(
            db_session,
            incident_id,
            task_id,
            data.action,
            actor_id=principal.subject_id,
            version=data.version,
            reason_code=data.reason_code,
            note=data.note,
        )
        return s.TaskOut.of(task, utcnow(), (await services.get_incident(db_session, incident_id)).drill)

    @post("/{incident_id:uuid}/tasks/{task_id:uuid}/reassign", summary="Reassign a declined task", **STAFF)
    async def reassign(
        self,
        incident_id: FromPath[uuid.UUID],
        task_id: FromPath[uuid.UUID],
        data: JSONBody[s.TaskIn],
        db_session: Session,
        principal: Caller,
    ) -> s.TaskOut:
        order = services.TaskOrder(data.step, data.duty, data.org_unit_id, data.group_key, data.due_at)
        task = await services.reassign_task(db_session, incident_id, task_id, order, actor_id=principal.subject_id)
        return s.TaskOut.of(task, utcnow(), (await services.get_incident(db_session, incident_id)).drill)

    # --- measures and logistics -------------------------------------------------------------------------------------

    @post("/{incident_id:uuid}/measures", summary="Record a response measure (handling group)", **STAFF)
    async def measure(
        self, incident_id: FromPath[uuid.UUID], data: JSONBody[s.MeasureIn], db_session: Session, principal: Caller
    ) -> s.MeasureOut:
        m = await services.record_measure(
            db_session,
            incident_id,
            kind=data.kind,
            count=data.count,
            notes=data.notes,
            org_unit_id=data.org_unit_id,
            occurred_at=data.occurred_at,
            actor_id=principal.subject_id,
        )
        return s.MeasureOut.of(m)

    @post("/{incident_id:uuid}/logistics", summary="Request water, medical aid, a venue or materials", **STAFF)
    async def request_logistics(
        self, incident_id: FromPath[uuid.UUID], data: JSONBody[s.LogisticsIn], db_session: Session, principal: Caller
    ) -> s.LogisticsOut:
        r = await services.request_logistics(
            db_session,
            incident_id,
            category=data.category,
            quantity=data.quantity,
            item_id=data.item_id,
            notes=data.notes,
            actor_id=principal.subject_id,
        )
        return s.LogisticsOut.of(r, await services.available_for(db_session, r.category, r.item_id))

    @post(
        "/{incident_id:uuid}/logistics/{request_id:uuid}/fulfil",
        summary="Issue from the inventory (logistics group)",
        status_code=200,
        **STAFF,
    )
    async def fulfil(
        self,
        incident_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        data: JSONBody[s.FulfilIn],
        db_session: Session,
        principal: Caller,
    ) -> s.LogisticsOut:
        r = await services.fulfil_logistics(
            db_session,
            incident_id,
            request_id,
            item_id=data.item_id,
            version=data.version,
            actor_id=principal.subject_id,
        )
        return s.LogisticsOut.of(r)

    @post(
        "/{incident_id:uuid}/logistics/{request_id:uuid}/return",
        summary="Return issued materials",
        status_code=200,
        **STAFF,
    )
    async def give_back(
        self,
        incident_id: FromPath[uuid.UUID],
        request_id: FromPath[uuid.UUID],
        data: JSONBody[s.ReturnIn],
        db_session: Session,
        principal: Caller,
    ) -> s.LogisticsOut:
        r = await services.return_logistics(
            db_session, incident_id, request_id, quantity=data.quantity, actor_id=principal.subject_id
        )
        return s.LogisticsOut.of(r)

    # --- bulletins ------------------------------------------------------------------------------------------------

    @post("/{incident_id:uuid}/bulletins", summary="Draft a bulletin, correction or retraction", **STAFF)
    async def draft(
        self, incident_id: FromPath[uuid.UUID], data: JSONBody[s.BulletinIn], db_session: Session, principal: Caller
    ) -> s.BulletinOut:
        d = services.BulletinDraft(
            data.audience, data.title_zh, data.title_en, data.body_zh, data.body_en, data.kind, data.corrects_id
        )
        return s.BulletinOut.of(
            await services.draft_bulletin(db_session, incident_id, d, actor_id=principal.subject_id)
        )

    @post(
        "/{incident_id:uuid}/bulletins/{bulletin_id:uuid}/approve",
        summary="Approve (release group leader or deputy)",
        status_code=200,
        **STAFF,
    )
    async def approve(
        self,
        incident_id: FromPath[uuid.UUID],
        bulletin_id: FromPath[uuid.UUID],
        data: JSONBody[s.VersionIn],
        db_session: Session,
        principal: Caller,
    ) -> s.BulletinOut:
        b = await services.approve_bulletin(
            db_session, incident_id, bulletin_id, version=data.version, actor_id=principal.subject_id
        )
        return s.BulletinOut.of(b)

    @post(
        "/{incident_id:uuid}/bulletins/{bulletin_id:uuid}/publish",
        summary="Publish an approved bulletin",
        status_code=200,
        **STAFF,
    )
    async def publish(
        self,
        incident_id: FromPath[uuid.UUID],
        bulletin_id: FromPath[uuid.UUID],
        data: JSONBody[s.VersionIn],
        db_session: Session,
        principal: Caller,
    ) -> s.BulletinOut:
        b = await services.publish_bulletin(
            db_session, incident_id, bulletin_id, version=data.version, actor_id=principal.subject_id
        )
        return s.BulletinOut.of(b)

    # --- summary, action items, timeline ----------------------------------------------------------------------------

    @post(
        "/{incident_id:uuid}/action-items/{item_id:uuid}/complete",
        summary="Mark an action item done",
        status_code=200,
        **STAFF,
    )
    async def complete_item(
        self, incident_id: FromPath[uuid.UUID], item_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> s.ActionItemOut:
        item = await services.complete_action_item(db_session, incident_id, item_id, actor_id=principal.subject_id)
        return s.ActionItemOut.of(item)

    @get("/{incident_id:uuid}/timeline", summary="The incident's history from the journal, in order", **STAFF)
    async def timeline(self, incident_id: FromPath[uuid.UUID], db_session: Session) -> builtins.list[s.TimelineOut]:
        rows = await services.timeline(db_session, incident_id)
        return [
            s.TimelineOut(e.occurred_at, e.type, e.actor_id, e.actor, e.subject_id, e.org_unit_id, e.payload)
            for e in rows
        ]

    @get("/{incident_id:uuid}/summary", summary="The summary report as HTML or PDF, in zh-CN or en", **STAFF)
    async def summary(
        self,
        incident_id: FromPath[uuid.UUID],
        db_session: Session,
        lang: FromQuery[Lang] = "zh-CN",
        format: FromQuery[Literal["html", "pdf"]] = "html",
    ) -> Response[bytes]:
        from service.incidents.summary import summary_data

        data = await summary_data(db_session, incident_id)
        body = document.render(data, lang, format)
        media = "application/pdf" if format == "pdf" else "text/html; charset=utf-8"
        return Response(body, media_type=media)


class PublicIncidentController(Controller):
    """The public, read-only status page of one incident: published bulletins only, no personal data."""

    path = "/public/{slug:str}/incidents"
    tags = ["public"]

    async def _page(self, state: State, db_session: Session, slug: str, token: str, lang: str) -> document.StatusPage:
        await enter_tenant(state, slug)
        incident: Incident = await services.find_public(db_session, token)
        university = await db_session.get(Tenant, require_tenant())
        bulletins = await services.published_bulletins(db_session, incident.id)
        seq = {b.id: b.sequence for b in bulletins}
        zh = lang == "zh-CN"
        out = [
            document.PublicBulletin(
                sequence=b.sequence or 0,
                kind=b.kind,
                audience=b.audience,
                title=b.title_zh if zh else b.title_en,
                body=b.body_zh if zh else b.body_en,
                published_at=b.published_at or utcnow(),
                next_update_at=b.next_update_at,
                corrects_sequence=seq.get(b.corrects_id) if b.corrects_id else None,
                corrected_by=[c.sequence or 0 for c in bulletins if c.corrects_id == b.id],
            )
            for b in bulletins
        ]
        closed = incident.state == IState.closed
        status = ("已结束" if closed else "处置中") if zh else ("closed" if closed else "active")
        name = (university.name_zh if zh else university.name_en) if university else ""
        return document.StatusPage(
            university=name,
            lang=lang,
            status=status,
            drill=incident.drill,
            bulletins=out,
            timezone=university.timezone if university else "Asia/Shanghai",
        )

    @get("/{token:str}", summary="An incident's published bulletins (JSON)", **PUBLIC)
    async def status(
        self,
        slug: FromPath[str],
        token: FromPath[str],
        state: State,
        db_session: Session,
        lang: FromQuery[Lang] = "zh-CN",
    ) -> document.StatusPage:
        return await self._page(state, db_session, slug, token, lang)

    @get("/{token:str}/page", summary="An incident's published bulletins (HTML)", media_type="text/html", **PUBLIC)
    async def page(
        self,
        slug: FromPath[str],
        token: FromPath[str],
        state: State,
        db_session: Session,
        lang: FromQuery[Lang] = "zh-CN",
    ) -> Response[str]:
        page = await self._page(state, db_session, slug, token, lang)
        return Response(document.status_html(page), media_type="text/html; charset=utf-8")
