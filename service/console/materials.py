"""The tenant admin's materials pages: the items with their stock, highlighted when below the published plan's
minimum or expiring; an item's ledger; adding items and booking movements (receive, issue, return, write-off,
adjust) through ``tenants.materials``, as the API's controllers do, behind the same guard (tenant admins)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import i18n, pages, views
from service.console.session import staff_only
from service.http.deps import Caller, Session
from service.materials import controllers as api
from tenants import materials, org
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid
from tenants.materials import Category, MaterialItem, Movement
from tenants.plans import readiness, services
from tenants.tenancy import tenant_zone

BASE = "/console/admin/materials"
EXPIRING_DAYS = 30
LEDGER_LIMIT = 200
EDIT_FIELDS = ("name_zh", "name_en", "unit", "location", "expires_on")
ITEM_FIELDS = ("category", "code", "name_zh", "name_en", "unit", "location", "expires_on", "initial_quantity")


def flags(item: MaterialItem, short: set[str], today: dt.date) -> list[str]:
    """What to highlight on an item: ``low`` (its code is below the plan's minimum), ``expired``, ``expiring``."""
    out = ["low"] if item.code in short else []
    if item.expires_on is not None:
        if item.expires_on < today:
            out.append("expired")
        elif item.expires_on <= today + dt.timedelta(days=EXPIRING_DAYS):
            out.append("expiring")
    return out


class MaterialPageController(Controller):
    path = BASE
    guards = [staff_only, *api.EDIT["guards"]]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _index(request, db_session)

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ITEM_FIELDS)
        try:
            data = msgspec.convert(values, api.ItemCreate, strict=False)
        except msgspec.ValidationError as exc:
            return await _index(request, db_session, status_code=422, values=values, problems=[str(exc)])
        try:
            async with db_session.begin_nested():
                item = await materials.create_item(
                    db_session, actor_id=principal.subject_id, **msgspec.structs.asdict(data)
                )
        except Invalid as exc:
            lines = [f"{e.get('field')}: {e.get('message')}" for e in exc.extra.get("errors") or []]
            return await _index(
                request,
                db_session,
                status_code=422,
                values=values,
                problems=lines or [i18n.refused(pages.lang_of(request), exc)],
            )
        except Conflict as exc:
            return await _index(
                request,
                db_session,
                status_code=409,
                values=values,
                problems=[i18n.refused(pages.lang_of(request), exc)],
            )
        return pages.redirect(f"{BASE}/{item.id}")

    @get("/{item_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], item_id: FromPath[uuid.UUID], db_session: Session
    ) -> Template:
        return await _item_page(request, db_session, item_id)

    @post("/{item_id:uuid}")
    async def update(
        self, request: Request[Any, Any, Any], item_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, EDIT_FIELDS)
        # Cleared optional fields are cleared on the item; the checkbox says whether it stays in use.
        body: dict[str, Any] = {"location": None, "expires_on": None, **values, "active": form.get("active") == "yes"}
        for name in ("name_zh", "name_en", "unit"):  # required: a blanked one is refused, not kept
            body[name] = str(form.get(name) or "").strip()
        try:
            data = msgspec.convert(body, api.ItemUpdate, strict=False)
        except msgspec.ValidationError as exc:
            return await _item_page(request, db_session, item_id, status_code=422, problems=[str(exc)])
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        try:
            async with db_session.begin_nested():
                await materials.update_item(db_session, item_id, actor_id=principal.subject_id, **changes)
        except Invalid as exc:
            lines = [f"{e.get('field')}: {e.get('message')}" for e in exc.extra.get("errors") or []]
            return await _item_page(
                request,
                db_session,
                item_id,
                status_code=422,
                problems=lines or [i18n.refused(pages.lang_of(request), exc)],
            )
        return pages.redirect(f"{BASE}/{item_id}?done=saved")

    @post("/{item_id:uuid}/movements")
    async def move(
        self, request: Request[Any, Any, Any], item_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("kind", "quantity", "reason"))
        try:
            data = msgspec.convert(values, api.MovementIn, strict=False)
        except msgspec.ValidationError as exc:
            return await _item_page(request, db_session, item_id, status_code=422, values=values, problems=[str(exc)])
        try:
            async with db_session.begin_nested():
                await materials.move(
                    db_session,
                    item_id=item_id,
                    kind=data.kind,
                    quantity=data.quantity,
                    reason=data.reason,
                    actor_id=principal.subject_id,
                )
        except Invalid as exc:
            lines = [f"{e.get('field')}: {e.get('message')}" for e in exc.extra.get("errors") or []]
            return await _item_page(
                request,
                db_session,
                item_id,
                status_code=422,
                values=values,
                problems=lines or [i18n.refused(pages.lang_of(request), exc)],
            )
        except Conflict as exc:
            return await _item_page(
                request,
                db_session,
                item_id,
                status_code=409,
                values=values,
                problems=[i18n.refused(pages.lang_of(request), exc)],
            )
        return pages.redirect(f"{BASE}/{item_id}?done=booked")


async def _short_codes(session: AsyncSession, today: dt.date) -> dict[str, readiness.Line]:
    """The plan's minimums against the stock, by item code (none before a plan is published). The pure check:
    reading this page journals nothing (the readiness check does)."""
    version = await services.published_version(session)
    if version is None:
        return {}
    report = readiness.readiness(
        services.content_of(version).materials, await materials.stock_levels(session), as_of=today, within_days=0
    )
    return {ln.code: ln for ln in report.lines}


async def _index(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
) -> Template:
    zone = await tenant_zone(session)
    today = utcnow().astimezone(zone).date()
    lines = await _short_codes(session, today)
    short = {code for code, ln in lines.items() if ln.short}
    items = await materials.list_items(session, active=None)
    return pages.page(
        request,
        "materials.html",
        status_code=status_code,
        zone=zone,
        items=[(i, flags(i, short, today), lines.get(i.code)) for i in items],
        values=values or {},
        problems=problems,
        categories=[c.value for c in Category],
    )


async def _item_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    item_id: uuid.UUID,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
) -> Template:
    item = await materials.get_item(session, item_id)
    zone = await tenant_zone(session)
    today = utcnow().astimezone(zone).date()
    lines = await _short_codes(session, today)
    short = {code for code, ln in lines.items() if ln.short}
    units = {u.id: u for u in await org.all_units(session)}
    return pages.page(
        request,
        "material.html",
        status_code=status_code,
        zone=zone,
        item=item,
        flags=flags(item, short, today),
        line=lines.get(item.code),
        unit=units.get(item.org_unit_id) if item.org_unit_id else None,
        ledger=await materials.ledger(session, item_id=item_id, limit=LEDGER_LIMIT),
        kinds=[m.value for m in Movement],
        values=values or {},
        problems=problems,
        done=request.query_params.get("done"),
    )
