"""The emergency command pages, read-only for now: the open early warnings, the incidents list (active first)
and an incident's board (the seven steps with their due times, overdue marked; the level the plan suggested and
the one decided; tasks by unit; measures; logistics with the stock that could meet them; bulletins; linked
petitions in the caller's scope). Everything is read through the services of the API."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromPath
from litestar.response import Template

from analytics.warnings import services as warning_scan
from analytics.warnings.services import WarningState
from service.console import pages, views
from service.console.session import staff_only
from service.http.deps import Caller, Session
from service.incidents import services
from service.incidents.workflow import State as IState
from service.petitions import services as petitions
from service.warnings import controllers as warnings
from tenants import org
from tenants.clock import utcnow

ACTIVE_FIRST = {IState.closed.value: 1}


class IncidentController(Controller):
    path = "/console/incidents"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def incidents(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        rows = await services.list_incidents(db_session, limit=200)
        # Newest first within each group, active ones before closed ones (a stable sort keeps the order).
        rows.sort(key=lambda i: ACTIVE_FIRST.get(i.state, 0))
        zone = await petitions.tenant_zone(db_session)
        return pages.page(request, "incidents.html", zone=zone, incidents=rows)

    @get("/{incident_id:uuid}")
    async def board(
        self, request: Request[Any, Any, Any], incident_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template:
        d = await services.detail(db_session, incident_id, principal)
        content = await services.plan_of(db_session, d.incident)
        lang = pages.lang_of(request)
        step_names: dict[str, str] = {
            st.key: (st.name.en if lang == "en" else st.name.zh) or st.key for st in content.steps
        }
        units = {u.id: (u.name_en if lang == "en" else u.name_zh) for u in await org.all_units(db_session)}
        now = utcnow()
        steps = [
            {
                "s": st,
                "name": step_names.get(st.step, st.step),
                "status": "done" if st.completed_at else "started" if st.started_at else "pending",
                "urgency": None if st.completed_at else views.urgency(st.due_at, now),
            }
            for st in d.steps
        ]
        by_unit: dict[str, list[Any]] = {}
        for task in d.tasks:
            by_unit.setdefault(units.get(task.org_unit_id, "—") if task.org_unit_id else "—", []).append(task)
        return pages.page(
            request,
            "incident.html",
            zone=await petitions.tenant_zone(db_session),
            d=d,
            i=d.incident,
            steps=steps,
            step_names=step_names,
            tasks_by_unit=sorted(by_unit.items()),
            units=units,
            now=now,
            task_urgency=lambda t: None if t.state in ("done", "declined") else views.urgency(t.due_at, now),
        )


class WarningPageController(Controller):
    path = "/console/warnings"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def open_warnings(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        """The open early warnings, newest first, each with its evidence in words (the API's own sentences)."""
        rows = await warning_scan.list_warnings(db_session, state=WarningState.open, limit=100)
        shown = [await warnings.named(db_session, w) for w in rows]
        zone = await petitions.tenant_zone(db_session)
        return pages.page(request, "warnings.html", zone=zone, warnings=shown)
