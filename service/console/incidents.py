"""The emergency command pages beside the board (``command.py``): the incidents list (active first) with the
report form, my tasks across incidents, and the open early warnings — each dismissed with a reason or turned
into an incident pre-filled from its evidence. Everything goes through the services of the API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.warnings import services as warning_scan
from analytics.warnings.services import WarningState
from service.console import pages, views
from service.console.command import Form, problems_of
from service.console.session import staff_only
from service.http.deps import Caller, Session
from service.incidents import services
from service.incidents.workflow import State as IState
from service.petitions import services as petitions
from service.warnings import controllers as warnings
from tenants import org
from tenants.clock import utcnow
from tenants.errors import Conflict, Forbidden, Invalid
from tenants.identity import Principal
from tenants.plans.services import content_of, published_version

ACTIVE_FIRST = {IState.closed.value: 1}


async def _risks(session: AsyncSession, lang: str) -> list[tuple[str, str]]:
    """The risk categories of the plan in force, (key, name), for the report forms."""
    version = await published_version(session)
    if version is None:
        return []
    return [(r.key, (r.name.en if lang == "en" else r.name.zh) or r.key) for r in content_of(version).risk_categories]


def _report(form: Form) -> services.IncidentReport:
    """The report form as the services' input (every problem at once)."""
    report = services.IncidentReport(
        title=form.need("title", max_length=200),
        facts=form.need("facts"),
        people_count=form.number("people_count"),
        place=form.text("place", required=False, max_length=200),
        impact=form.text("impact", required=False),
        risk_categories=form.all("risk_categories"),
    )
    form.check()
    return report


class IncidentController(Controller):
    path = "/console/incidents"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def incidents(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await self._list(request, db_session)

    async def _list(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        *,
        status_code: int = 200,
        problems: list[str] | None = None,
        refused: str | None = None,
        form: Any = None,
    ) -> Template:
        rows = await services.list_incidents(session, limit=200)
        # Newest first within each group, active ones before closed ones (a stable sort keeps the order).
        rows.sort(key=lambda i: ACTIVE_FIRST.get(i.state, 0))
        zone = await petitions.tenant_zone(session)
        return pages.page(
            request,
            "incidents.html",
            status_code=status_code,
            zone=zone,
            incidents=rows,
            risks=await _risks(session, pages.lang_of(request)),
            problems=problems,
            refused=refused,
            form=form or {},
            switch_url=pages.switch_to(request, "/console/incidents"),
        )

    @post("/new")
    async def report(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        """Report an incident (anyone on duty), as ``POST /api/v1/incidents`` does."""
        raw = await request.form()
        form = Form(raw, await petitions.tenant_zone(db_session))
        try:
            async with db_session.begin_nested():
                incident = await services.report_incident(
                    db_session, principal.subject_id, _report(form), principal=principal
                )
        except Invalid as exc:
            return await self._list(
                request, db_session, status_code=422, problems=problems_of(pages.lang_of(request), exc), form=raw
            )
        except Conflict:
            return await self._list(request, db_session, status_code=409, refused="board.refused.no-plan", form=raw)
        return pages.redirect(f"/console/incidents/{incident.id}?done=report")


class MyTasksController(Controller):
    path = "/console/tasks"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def my_tasks(self, request: Request[Any, Any, Any], db_session: Session, principal: Caller) -> Template:
        """Every open task assigned to my units (or my emergency groups) across incidents, soonest due first."""
        me = principal.subject_id
        units = await services.my_units(db_session, me)
        groups = set(await services.group_roles(db_session, me))
        rows = await services.open_tasks_for(db_session, units, groups)
        lang = pages.lang_of(request)
        names = {u.id: (u.name_en if lang == "en" else u.name_zh) for u in await org.all_units(db_session)}
        group_names = {g.key: (g.name_en if lang == "en" else g.name_zh) for g in await org.list_groups(db_session)}
        now = utcnow()
        items = [
            {
                "t": t,
                "i": i,
                "who": names.get(t.org_unit_id, "—") if t.org_unit_id else group_names.get(t.group_key or "", "—"),
                "urgency": views.urgency(t.due_at, now),
            }
            for t, i in rows
        ]
        return pages.page(request, "tasks.html", zone=await petitions.tenant_zone(db_session), items=items)


class WarningPageController(Controller):
    path = "/console/warnings"
    guards = [staff_only]
    include_in_schema = False

    async def _page(
        self,
        request: Request[Any, Any, Any],
        session: AsyncSession,
        principal: Principal,
        *,
        status_code: int = 200,
        notice: str | None = None,
        refused: str | None = None,
        problems: list[str] | None = None,
    ) -> Template:
        rows = await warning_scan.list_warnings(session, state=WarningState.open, limit=100)
        shown = [{"w": await warnings.named(session, w), "pre": await warnings.prefilled(session, w)} for w in rows]
        return pages.page(
            request,
            "warnings.html",
            status_code=status_code,
            zone=await petitions.tenant_zone(session),
            warnings=shown,
            may_handle=await warning_scan.may_handle(session, principal),
            risks=await _risks(session, pages.lang_of(request)),
            notice=notice,
            refused=refused,
            problems=problems,
            switch_url=pages.switch_to(request, "/console/warnings"),
        )

    @get("/")
    async def open_warnings(self, request: Request[Any, Any, Any], db_session: Session, principal: Caller) -> Template:
        """The open early warnings, newest first, each with its evidence in words (the API's own sentences)."""
        notice = "warning.dismissed" if request.query_params.get("done") else None
        return await self._page(request, db_session, principal, notice=notice)

    @post("/{warning_id:uuid}/dismiss")
    async def dismiss(
        self, request: Request[Any, Any, Any], warning_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = Form(await request.form(), await petitions.tenant_zone(db_session))
        reason = form.text("reason", max_length=500)
        try:
            form.check()
            async with db_session.begin_nested():
                await warning_scan.dismiss(db_session, warning_id, principal=principal, reason=reason or "")
        except Invalid as exc:
            return await self._page(
                request, db_session, principal, status_code=422, problems=problems_of(pages.lang_of(request), exc)
            )
        except (Conflict, Forbidden) as exc:
            return await self._page(request, db_session, principal, status_code=exc.status, refused="warning.refused")
        return pages.redirect("/console/warnings?done=1")

    @post("/{warning_id:uuid}/incident")
    async def open_incident(
        self, request: Request[Any, Any, Any], warning_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        """Open an incident from the warning with the form's (pre-filled, editable) fields."""
        form = Form(await request.form(), await petitions.tenant_zone(db_session))
        try:
            report = _report(form)
            data = warnings.OpenIncidentIn(
                title=report.title,
                facts=report.facts,
                people_count=report.people_count,
                place=report.place,
                impact=report.impact,
                risk_categories=list(report.risk_categories),
            )
            async with db_session.begin_nested():
                incident = await warnings.open_incident(db_session, warning_id, principal=principal, data=data)
        except Invalid as exc:
            return await self._page(
                request, db_session, principal, status_code=422, problems=problems_of(pages.lang_of(request), exc)
            )
        except (Conflict, Forbidden) as exc:
            return await self._page(request, db_session, principal, status_code=exc.status, refused="warning.refused")
        return pages.redirect(f"/console/incidents/{incident.id}?done=report")
