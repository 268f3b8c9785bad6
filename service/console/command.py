"""An incident's command board: the seven steps, the level (the plan's suggestion beside the one decided), tasks
by unit, measures, logistics with live stock and shortfalls, bulletins, the cleanup checklist, the summary, the
action items and the timeline — with the actions the caller may take now, as forms.

Every form calls the same service as the API (``service.incidents.services``): the rules, the workflow tables
and the group authorization live there, once. The board shows a button only when ``workflow.available`` (the
table and the caller's groups), the task table with the assignee rule, or the bulletin's four-eyes rule admits
it; the service checks again when the form arrives. A refused, stale or invalid form is answered with the
board as it stands now and a message in the user's language (409/422/403), never an error page.

The board is live: ``static/board.js`` polls ``…/live?since=<stamp>`` every few seconds and swaps the board in
place when anyone has acted (204 while nothing changed; the stamp is ``services.board_stamp``, one query).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import i18n, pages, views
from service.console.session import staff_only
from service.http.deps import Caller, Session
from service.incidents import document, services, workflow
from service.incidents.models import AUDIENCES, LOGISTICS_CATEGORIES
from service.incidents.summary import summary_data
from service.incidents.workflow import Action, BulletinState, LogisticsState, TaskAction, TaskState
from service.petitions import services as petitions
from tenants import materials, org
from tenants.clock import utcnow
from tenants.errors import Conflict, Forbidden, Invalid
from tenants.identity import Principal
from tenants.plans.content import STEP_KEYS
from tenants.plans.document import Lang

# Why a unit declines a task (codes journaled; their words in the catalogue, ``decline.<code>``).
DECLINE_REASONS = ("not_our_remit", "no_capacity", "needs_other_unit", "other")
# Error codes of the services with a sentence of their own on the board (``board.refused.<code>``).
REFUSALS = (
    "stale-version",
    "four-eyes",
    "transition-refused",
    "not-in-group",
    "not-assignee",
    "checklist-open",
    "tasks-open",
    "reassigned",
    "incident-closed",
    "done",
    "nothing-issued",
)
POLL_MS = 3000


# --- reading the board -----------------------------------------------------------------------------------------------


async def board_context(
    request: Request[Any, Any, Any], session: AsyncSession, principal: Principal, incident_id: uuid.UUID
) -> dict[str, Any]:
    """Everything the board shows, and what the caller may do on it (a fixed number of queries, whatever the
    number of tasks, bulletins or requests)."""
    d = await services.detail(session, incident_id, principal)
    i = d.incident
    content = await services.plan_of(session, i)
    lang = pages.lang_of(request)
    en = lang == "en"
    t = i18n.translator(lang)
    me = principal.subject_id
    roles = await services.group_roles(session, me)
    mine = await services.my_units(session, me)
    can = workflow.available(i.state, roles, services.step_groups(content))
    units = await org.all_units(session)
    unit_names = {u.id: (u.name_en if en else u.name_zh) for u in units}
    groups = {g.key: (g.name_en if en else g.name_zh) for g in await org.list_groups(session)}
    stock = await materials.stock_levels(session)
    now = utcnow()
    closed = i.state == workflow.State.closed

    step_names: dict[str, str] = {st.key: (st.name.en if en else st.name.zh) or st.key for st in content.steps}
    levels = {lv.code: (lv.name.en if en else lv.name.zh) for lv in content.severity_levels}
    suggested = i.suggested_level
    if suggested is None:  # before the assessment: what the plan says of the facts reported so far
        s = services.suggestion(content, i, services.Assessment(cause="", site_conditions=""))
        suggested = s.code if s else None

    replaced = {t.reassigned_from for t in d.tasks if t.reassigned_from}
    tasks_by_unit: dict[str, list[dict[str, Any]]] = {}
    for task in d.tasks:
        assignee = workflow.is_assignee(task.org_unit_id, task.group_key, mine, roles)
        who = unit_names.get(task.org_unit_id, "—") if task.org_unit_id else groups.get(task.group_key or "", "—")
        tasks_by_unit.setdefault(who, []).append(
            {
                "t": task,
                "urgency": None if task.state in ("done", "declined") else views.urgency(task.due_at, now),
                "actions": [a.value for a in workflow.task_actions(task.state)] if assignee and not closed else [],
                "reassign": Action.reassign_task in can
                and task.state == TaskState.declined
                and task.id not in replaced,
            }
        )

    available = d.available
    logistics = []
    for r in d.logistics:
        fits = services.MATERIAL_CATEGORIES[r.category]
        have = available.get(r.id)
        logistics.append(
            {
                "r": r,
                "available": have,
                "shortfall": (
                    max(r.quantity - have, 0)
                    if r.state == LogisticsState.requested and have is not None
                    else r.quantity - r.issued
                    if r.state == LogisticsState.short
                    else 0
                ),
                "stock": [s for s in stock if s.category in fits],
                "fulfil": Action.fulfil_logistics in can and r.state == LogisticsState.requested,
                "give_back": Action.return_logistics in can
                and r.item_id is not None
                and r.category != "venue"
                and r.issued > r.returned,
            }
        )
    bulletins = [
        {
            "b": b,
            "approve": Action.approve_bulletin in can
            and b.state == BulletinState.draft
            and workflow.four_eyes(b.drafted_by, me),
            "own_draft": b.state == BulletinState.draft and b.drafted_by == me,
            "publish": Action.publish_bulletin in can and b.state == BulletinState.approved,
            "correct": Action.draft_bulletin in can and b.state == BulletinState.published,
        }
        for b in d.bulletins
    ]
    sg = services.step_groups(content)
    items = [
        {
            "a": a,
            "owner": unit_names.get(a.owner_unit_id, "—"),
            "complete": a.done_at is None
            and workflow.may_complete_action_item(i.state, roles, sg, owner=a.owner_unit_id in mine),
        }
        for a in d.action_items
    ]
    measure_kinds = [(m.key, (m.name.en if en else m.name.zh) or m.key) for m in content.measures]
    timeline = await services.timeline(session, incident_id)
    return {
        "d": d,
        "i": i,
        "steps": [
            {
                "s": st,
                "name": step_names.get(st.step, st.step),
                "status": "done" if st.completed_at else "started" if st.started_at else "pending",
                "urgency": None if st.completed_at else views.urgency(st.due_at, now),
            }
            for st in d.steps
        ],
        "step_names": step_names,
        "step_keys": [k for k in STEP_KEYS if k in step_names],
        "levels": levels,
        "suggested": suggested,
        "can": {a.value for a in can},
        "tasks_by_unit": sorted(tasks_by_unit.items()),
        "logistics": logistics,
        "bulletins": bulletins,
        "items": items,
        "units": units,
        "unit_names": unit_names,
        "measure_kinds": measure_kinds,
        # Measures are stored under the contract's kinds (``MEASURE_KINDS``): named by the plan's measure.
        "measure_names": {services.MEASURE_KINDS.get(k, k): name for k, name in measure_kinds},
        "categories": LOGISTICS_CATEGORIES,
        "audiences": AUDIENCES,
        "decline_reasons": DECLINE_REASONS,
        "decline_label": lambda code: t(f"decline.{code}") if f"decline.{code}" in i18n.MESSAGES else code,
        "unit_by_str": {str(k): v for k, v in unit_names.items()},
        "timeline": list(reversed(timeline)),
        "stamp": await services.board_stamp(session, incident_id),
        "poll_ms": POLL_MS,
        "today": now.astimezone(await petitions.tenant_zone(session)).date(),
    }


async def board_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    principal: Principal,
    incident_id: uuid.UUID,
    *,
    status_code: int = 200,
    notice: str | None = None,
    refused: str | None = None,
    problems: list[str] | None = None,
) -> Template:
    return pages.page(
        request,
        "incident.html",
        status_code=status_code,
        zone=await petitions.tenant_zone(session),
        notice=notice,
        refused=refused,
        problems=problems,
        switch_url=pages.switch_to(request, f"/console/incidents/{incident_id}"),
        **await board_context(request, session, principal, incident_id),
    )


# --- reading forms ------------------------------------------------------------------------------------------------


class Form:
    """A submitted form's fields, read into the services' types; every problem is collected (one ``Invalid``)."""

    def __init__(self, raw: Mapping[str, Any], zone: ZoneInfo) -> None:
        self.raw, self.zone = raw, zone
        self.errors: list[dict[str, str]] = []

    def all(self, name: str) -> list[str]:
        getall = getattr(self.raw, "getall", None)
        values = getall(name, []) if getall else [self.raw.get(name)]
        return [str(v) for v in values if v is not None]

    def text(self, name: str, *, required: bool = True, max_length: int = 8000) -> str | None:
        value = str(self.raw.get(name) or "").strip()
        if not value:
            if required:
                self.errors.append({"field": name, "message": "required"})
            return None
        if len(value) > max_length:
            self.errors.append({"field": name, "message": f"at most {max_length} characters"})
            return None
        return value

    def need(self, name: str, *, max_length: int = 8000) -> str:
        return self.text(name, max_length=max_length) or ""

    def number(self, name: str, *, required: bool = True, default: int = 0, minimum: int = 0) -> int:
        value = str(self.raw.get(name) or "").strip()
        if not value:
            if required:
                self.errors.append({"field": name, "message": "required"})
            return default
        try:
            n = int(value)
        except ValueError:
            n = minimum - 1
        if not minimum <= n <= 1_000_000:
            self.errors.append({"field": name, "message": f"a whole number from {minimum}"})
            return default
        return n

    def version(self) -> int:
        return self.number("version", minimum=1, default=1)

    def ident(self, name: str, *, required: bool = True) -> uuid.UUID | None:
        value = str(self.raw.get(name) or "").strip()
        if not value:
            if required:
                self.errors.append({"field": name, "message": "required"})
            return None
        try:
            return uuid.UUID(value)
        except ValueError:
            self.errors.append({"field": name, "message": "not an id"})
            return None

    def choice(self, name: str, options: Any, *, required: bool = True) -> str | None:
        value = self.text(name, required=required, max_length=40)
        if value is not None and value not in options:
            self.errors.append({"field": name, "message": "not one of the choices"})
            return None
        return value

    def flag(self, name: str) -> bool:
        return str(self.raw.get(name) or "") in ("1", "on", "yes", "true")

    def local_time(self, name: str) -> datetime | None:
        """A ``datetime-local`` field, read as the university's local time."""
        value = str(self.raw.get(name) or "").strip()
        if not value:
            return None
        try:
            return datetime.fromisoformat(value).replace(tzinfo=self.zone)
        except ValueError:
            self.errors.append({"field": name, "message": "a date and time"})
            return None

    def day(self, name: str) -> date | None:
        value = str(self.raw.get(name) or "").strip()
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.errors.append({"field": name, "message": "a date"})
            return None

    def check(self) -> None:
        if self.errors:
            raise Invalid("the form is incomplete", errors=self.errors)


Work = Callable[[AsyncSession, uuid.UUID, Form, uuid.UUID | None], Awaitable[None]]


async def _assess(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    people = f.number("people_count", required=False, default=-1)
    a = services.Assessment(
        cause=f.need("cause"),
        site_conditions=f.need("site_conditions"),
        people_count=people if people >= 0 else None,  # left empty: the count reported stands
        injuries=f.number("injuries", required=False),
        duration_minutes=f.number("duration_minutes", required=False),
        media_attention=f.flag("media_attention"),
        safety_threat=f.flag("safety_threat"),
        level=f.text("level", required=False, max_length=8),
        reason=f.text("reason", required=False, max_length=2000),
    )
    version = f.version()
    f.check()
    await services.assess(session, iid, a, actor_id=actor, version=version)


async def _instruct(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    activated = f.choice("activated", ("yes", "no")) == "yes"
    level, instruction, version = f.text("level", required=False, max_length=8), f.need("instruction"), f.version()
    f.check()
    await services.instruct(
        session, iid, activated=activated, level=level, instruction=instruction, actor_id=actor, version=version
    )


async def _end_response(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    version = f.version()
    f.check()
    await services.end_response(session, iid, actor_id=actor, version=version)


async def _checklist(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    """Every item of the list as the form shows it: ticked or not."""
    version, keys, ticked = f.version(), f.all("key"), set(f.all("done"))
    f.check()
    items = [services.ChecklistItem(k, k in ticked) for k in keys]
    await services.update_checklist(session, iid, items, actor_id=actor, version=version)


async def _submit_summary(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    cause, lessons = f.need("cause_analysis"), f.text("lessons", required=False)
    proposals = []
    for n in range(3):  # the form's rows; an empty row is left out
        text = f.text(f"proposal_{n}", required=False, max_length=2000)
        if text is None:
            continue
        owner, due = f.ident(f"owner_{n}"), f.day(f"due_{n}")
        if owner and due:
            proposals.append(services.Proposal(text, owner, due))
    version = f.version()
    f.check()
    await services.submit_summary(
        session, iid, cause_analysis=cause, lessons=lessons, proposals=proposals, actor_id=actor, version=version
    )


async def _return_summary(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    version = f.version()
    f.check()
    await services.return_summary(session, iid, actor_id=actor, version=version)


async def _approve_summary(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    version = f.version()
    f.check()
    await services.approve_summary(session, iid, actor_id=actor, version=version)


def _order(f: Form) -> services.TaskOrder:
    step = f.choice("step", STEP_KEYS) or "response"
    duty = f.need("duty", max_length=2000)
    unit = f.ident("org_unit_id")
    due = f.local_time("due_at")
    f.check()
    return services.TaskOrder(step=step, duty=duty, org_unit_id=unit, due_at=due)


async def _assign(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    await services.assign_task(session, iid, _order(f), actor_id=actor)


async def _task(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    task_id, action = f.ident("task_id"), f.choice("action", [a.value for a in TaskAction])
    reason = f.choice("reason_code", DECLINE_REASONS, required=action == TaskAction.decline)
    note, version = f.text("note", required=False, max_length=1000), f.version()
    f.check()
    assert task_id is not None and action is not None
    await services.act_on_task(
        session, iid, task_id, TaskAction(action), actor_id=actor, version=version, reason_code=reason, note=note
    )


async def _reassign(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    task_id = f.ident("task_id")
    order = _order(f)
    assert task_id is not None
    await services.reassign_task(session, iid, task_id, order, actor_id=actor)


async def _measure(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    kind, count, notes = f.need("kind", max_length=40), f.number("count", required=False), f.need("notes")
    unit = f.ident("org_unit_id", required=False)
    f.check()
    await services.record_measure(
        session, iid, kind=kind, count=count, notes=notes, org_unit_id=unit, occurred_at=None, actor_id=actor
    )


async def _request(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    category, quantity = f.choice("category", LOGISTICS_CATEGORIES), f.number("quantity", minimum=1, default=1)
    notes = f.text("notes", required=False, max_length=2000)
    f.check()
    assert category is not None
    await services.request_logistics(
        session, iid, category=category, quantity=quantity, item_id=None, notes=notes, actor_id=actor
    )


async def _fulfil(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    rid, item, version = f.ident("request_id"), f.ident("item_id", required=False), f.version()
    f.check()
    assert rid is not None
    await services.fulfil_logistics(session, iid, rid, item_id=item, version=version, actor_id=actor)


async def _give_back(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    rid, quantity = f.ident("request_id"), f.number("quantity", minimum=1, default=1)
    f.check()
    assert rid is not None
    await services.return_logistics(session, iid, rid, quantity=quantity, actor_id=actor)


async def _draft(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    corrects = f.ident("corrects_id", required=False)
    d = services.BulletinDraft(
        audience=f.choice("audience", AUDIENCES) or "campus",
        title_zh=f.need("title_zh", max_length=200),
        title_en=f.need("title_en", max_length=200),
        body_zh=f.need("body_zh"),
        body_en=f.need("body_en"),
        kind="correction" if corrects else None,
        corrects_id=corrects,
    )
    f.check()
    await services.draft_bulletin(session, iid, d, actor_id=actor)


async def _approve(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    bid, version = f.ident("bulletin_id"), f.version()
    f.check()
    assert bid is not None
    await services.approve_bulletin(session, iid, bid, version=version, actor_id=actor)


async def _publish(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    bid, version = f.ident("bulletin_id"), f.version()
    f.check()
    assert bid is not None
    await services.publish_bulletin(session, iid, bid, version=version, actor_id=actor)


async def _item_done(session: AsyncSession, iid: uuid.UUID, f: Form, actor: uuid.UUID | None) -> None:
    item = f.ident("item_id")
    f.check()
    assert item is not None
    await services.complete_action_item(session, iid, item, actor_id=actor)


# form name -> (the service call, the board's section to come back to)
FORMS: dict[str, tuple[Work, str]] = {
    Action.assess.value: (_assess, "level"),
    Action.instruct.value: (_instruct, "level"),
    Action.end_response.value: (_end_response, "steps"),
    Action.update_checklist.value: (_checklist, "cleanup"),
    Action.submit_summary.value: (_submit_summary, "summary"),
    Action.return_summary.value: (_return_summary, "summary"),
    Action.approve_summary.value: (_approve_summary, "summary"),
    Action.assign_task.value: (_assign, "tasks"),
    "task": (_task, "tasks"),
    Action.reassign_task.value: (_reassign, "tasks"),
    Action.record_measure.value: (_measure, "measures"),
    Action.request_logistics.value: (_request, "logistics"),
    Action.fulfil_logistics.value: (_fulfil, "logistics"),
    Action.return_logistics.value: (_give_back, "logistics"),
    Action.draft_bulletin.value: (_draft, "bulletins"),
    Action.approve_bulletin.value: (_approve, "bulletins"),
    Action.publish_bulletin.value: (_publish, "bulletins"),
    Action.complete_action_item.value: (_item_done, "summary"),
}


def problems_of(lang: str, exc: Invalid) -> list[str]:
    """The fields to complete or correct, named in the page's language (the services' reasons in English only,
    where the field's name alone does not say it)."""
    t = i18n.translator(lang)
    out = []
    for e in exc.extra.get("errors") or []:
        field = str(e.get("field") or "")
        base = field.split("[")[0].split(".")[-1]
        key = f"board.field.{base}"
        name = t(key) if key in i18n.MESSAGES else field
        out.append(name if lang != "en" else f"{name}: {e.get('message')}")
    return out or [i18n.refused(lang, exc)]


class CommandController(Controller):
    path = "/console/incidents/{incident_id:uuid}"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def board(
        self, request: Request[Any, Any, Any], incident_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template:
        done = request.query_params.get("done")
        notice = "board.done" if done else None
        return await board_page(request, db_session, principal, incident_id, notice=notice)

    @get("/live")
    async def live(
        self, request: Request[Any, Any, Any], incident_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Response[Any]:
        """The board alone (no page around it) when it changed since ``since``; 204 while it has not."""
        stamp = await services.board_stamp(db_session, incident_id)
        if request.query_params.get("since") == stamp:
            return Response(b"", status_code=204, headers={**pages.SECURITY_HEADERS, "X-Board-Stamp": stamp})
        page = pages.page(
            request,
            "incident_live.html",
            zone=await petitions.tenant_zone(db_session),
            **await board_context(request, db_session, principal, incident_id),
        )
        page.headers["X-Board-Stamp"] = stamp
        return page

    @get("/summary.pdf", media_type="application/pdf")
    async def summary(
        self, request: Request[Any, Any, Any], incident_id: FromPath[uuid.UUID], db_session: Session
    ) -> Response[bytes]:
        """The summary report as the API renders it (``GET /api/v1/incidents/{id}/summary``), in the page's
        language: a PDF, so the console's strict CSP has nothing to say about its styles."""
        lang: Lang = "en" if pages.lang_of(request) == "en" else "zh-CN"
        body = document.render(await summary_data(db_session, incident_id), lang, "pdf")
        return Response(body, media_type="application/pdf", headers=pages.SECURITY_HEADERS)

    @post("/do")
    async def act(
        self, request: Request[Any, Any, Any], incident_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        raw = await request.form()
        what = str(raw.get("what") or "")
        if what not in FORMS:
            return await board_page(
                request, db_session, principal, incident_id, status_code=400, refused="board.refused.unknown"
            )
        work, section = FORMS[what]
        form = Form(raw, await petitions.tenant_zone(db_session))
        lang = pages.lang_of(request)
        try:
            # A refused action leaves nothing half-changed: the savepoint rolls its changes back.
            async with db_session.begin_nested():
                await work(db_session, incident_id, form, principal.subject_id)
        except (Conflict, Forbidden) as exc:
            code = exc.code if exc.code in REFUSALS else "other"
            return await board_page(
                request,
                db_session,
                principal,
                incident_id,
                status_code=exc.status,
                refused=f"board.refused.{code}",
            )
        except Invalid as exc:
            return await board_page(
                request, db_session, principal, incident_id, status_code=422, problems=problems_of(lang, exc)
            )
        return pages.redirect(f"/console/incidents/{incident_id}?done={what}#{section}")
