"""The tenant admin's pages of the university's settings: the working calendar (holidays and make-up workdays),
follow-up and reminders, the anonymous Open311 listing, petition categories with their handling units, and the
reply templates the handling staff pick from.

Each form becomes the API's body (``SettingsIn``, ``CategoryIn``/``CategoryUpdate``, ``ReplyTemplateIn``/
``ReplyTemplateUpdate``) and goes to the services the API calls (``service.petitions.services``, ``replies``).
The time zone is the university's record on the platform (set when it was onboarded), shown here.
"""

from __future__ import annotations

import calendar
import uuid
from datetime import date
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import admin, i18n, pages, views
from service.http.deps import Caller, Session
from service.petitions import replies, services
from service.petitions import schemas as s
from service.petitions.models import OUTCOMES
from tenants import org
from tenants.clock import today
from tenants.errors import DomainError
from tenants.tenancy import tenant_zone


def _status(exc: Exception) -> int:
    return exc.status if isinstance(exc, DomainError) else 422


def parse_days(text: str) -> list[str]:
    """Dates written one per line (or separated by commas or spaces), as ISO strings for the API's body; the
    body's conversion refuses what is not a date."""
    return [part for part in text.replace(",", " ").replace("，", " ").split() if part]


def parse_hours(text: str) -> list[str]:
    return [part for part in text.replace(",", " ").replace("，", " ").split() if part]


def months(holidays: list[date], workdays: list[date]) -> list[dict[str, Any]]:
    """The months holding a holiday or a make-up workday, as calendars (weeks of days, Monday first), each day
    marked ``holiday``, ``workday`` or none: the working calendar at a glance."""
    marks = {d: "holiday" for d in holidays} | {d: "workday" for d in workdays}
    out = []
    for year, month in sorted({(d.year, d.month) for d in marks}):
        weeks = [
            [(day, marks.get(day) if day.month == month else None, day.month == month) for day in week]
            for week in calendar.Calendar(firstweekday=0).monthdatescalendar(year, month)
        ]
        out.append({"year": year, "month": month, "weeks": weeks})
    return out


# The zones offered: China's, and its neighbours' for a campus abroad (the API accepts any IANA name).
TIME_ZONES = (
    "Asia/Shanghai", "Asia/Urumqi", "Asia/Hong_Kong", "Asia/Macau", "Asia/Taipei", "Asia/Singapore",
    "Asia/Kuala_Lumpur", "Asia/Bangkok", "Asia/Tokyo", "Asia/Seoul", "Europe/London", "UTC",
)  # fmt: skip


class AdminSettingsController(Controller):
    path = "/console/admin"
    guards = admin.GUARDS
    include_in_schema = False

    @get("/settings")
    async def settings(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _settings_page(request, db_session, done=request.query_params.get("done") == "saved")

    @post("/settings")
    async def save_settings(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        body: dict[str, Any] = {
            "holidays": parse_days(str(form.get("holidays") or "")),
            "workdays": parse_days(str(form.get("workdays") or "")),
            "reminder_hours": parse_hours(str(form.get("reminder_hours") or "")),
            "open311_anonymous_listing": form.get("open311_anonymous_listing") == "yes",
        }
        if str(form.get("timezone") or "").strip():
            body["timezone"] = str(form.get("timezone")).strip()
        if str(form.get("followup_days") or "").strip():
            body["followup_days"] = str(form.get("followup_days")).strip()
        try:
            data = msgspec.convert(body, s.SettingsIn, strict=False)
            changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
            async with db_session.begin_nested():
                await services.update_settings(db_session, actor_id=principal.subject_id, **changes)
        except (DomainError, msgspec.ValidationError) as exc:
            return await _settings_page(
                request,
                db_session,
                status_code=_status(exc),
                problems=admin.problems(exc, pages.lang_of(request)),
                typed={
                    k: str(form.get(k) or "")
                    for k in ("holidays", "workdays", "reminder_hours", "followup_days", "timezone")
                },
            )
        return pages.redirect("/console/admin/settings?done=saved")

    # --- categories ---------------------------------------------------------------------------------------------

    @get("/categories")
    async def categories(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _categories_page(request, db_session, done=request.query_params.get("done"))

    @post("/categories")
    async def create_category(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(
            form, ("code", "name_zh", "name_en", "description_zh", "description_en", "default_org_unit_id", "position")
        )
        try:
            data = msgspec.convert(values, s.CategoryIn, strict=False)
            async with db_session.begin_nested():
                await services.create_category(
                    db_session, actor_id=principal.subject_id, **msgspec.structs.asdict(data)
                )
        except (DomainError, msgspec.ValidationError) as exc:
            return await _categories_page(
                request,
                db_session,
                status_code=_status(exc),
                values=values,
                problems=admin.problems(exc, pages.lang_of(request)),
            )
        return pages.redirect("/console/admin/categories?done=created")

    @post("/categories/{code:str}")
    async def update_category(
        self, request: Request[Any, Any, Any], code: FromPath[str], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("name_zh", "name_en", "position"))
        body: dict[str, Any] = {
            **values,
            "default_org_unit_id": str(form.get("default_org_unit_id") or "") or None,
            "active": form.get("active") == "yes",
        }
        try:
            data = msgspec.convert(body, s.CategoryUpdate, strict=False)
            changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
            async with db_session.begin_nested():
                await services.update_category(db_session, code, actor_id=principal.subject_id, **changes)
        except (DomainError, msgspec.ValidationError) as exc:
            if isinstance(exc, DomainError) and exc.status == 404:
                raise
            return await _categories_page(
                request, db_session, status_code=_status(exc), problems=admin.problems(exc, pages.lang_of(request))
            )
        return pages.redirect("/console/admin/categories?done=saved")

    # --- reply templates ----------------------------------------------------------------------------------------

    @get("/reply-templates")
    async def templates(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _templates_page(request, db_session, done=request.query_params.get("done"))

    @post("/reply-templates")
    async def create_template(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("title", "body", "outcome", "position"))
        try:
            data = msgspec.convert(values, s.ReplyTemplateIn, strict=False)
            async with db_session.begin_nested():
                await replies.create_template(db_session, actor_id=principal.subject_id, **msgspec.structs.asdict(data))
        except (DomainError, msgspec.ValidationError) as exc:
            return await _templates_page(
                request,
                db_session,
                status_code=_status(exc),
                values=values,
                problems=admin.problems(exc, pages.lang_of(request)),
            )
        return pages.redirect("/console/admin/reply-templates?done=created")

    @post("/reply-templates/{template_id:uuid}")
    async def update_template(
        self, request: Request[Any, Any, Any], template_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("title", "body", "position"))
        body = {**values, "outcome": str(form.get("outcome") or "") or None, "active": form.get("active") == "yes"}
        try:
            data = msgspec.convert(body, s.ReplyTemplateUpdate, strict=False)
            changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
            async with db_session.begin_nested():
                await replies.update_template(db_session, template_id, actor_id=principal.subject_id, **changes)
        except (DomainError, msgspec.ValidationError) as exc:
            if isinstance(exc, DomainError) and exc.status == 404:
                raise
            return await _templates_page(
                request, db_session, status_code=_status(exc), problems=admin.problems(exc, pages.lang_of(request))
            )
        return pages.redirect("/console/admin/reply-templates?done=saved")

    @post("/reply-templates/{template_id:uuid}/delete")
    async def delete_template(
        self, template_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Redirect:
        await replies.delete_template(db_session, template_id, actor_id=principal.subject_id)
        return pages.redirect("/console/admin/reply-templates?done=deleted")


async def _settings_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
    typed: dict[str, str] | None = None,
    done: bool = False,
) -> Template:
    zone = await tenant_zone(session)
    row = s.SettingsOut.of(await services.get_settings(session), zone)
    shown = typed or {
        "holidays": "\n".join(d.isoformat() for d in row.holidays),
        "workdays": "\n".join(d.isoformat() for d in row.workdays),
        "reminder_hours": ", ".join(str(h) for h in row.reminder_hours),
        "followup_days": str(row.followup_days),
        "timezone": row.timezone,
    }
    return pages.page(
        request,
        "admin_settings.html",
        status_code=status_code,
        zone=zone,
        sections=admin.SECTIONS,
        here="/console/admin/settings",
        settings=row,
        shown=shown,
        time_zone=str(zone),
        time_zones=sorted({*TIME_ZONES, str(zone), shown.get("timezone") or str(zone)}),
        today=today(zone),
        months=months(row.holidays, row.workdays),
        problems=problems,
        done=done,
    )


async def _categories_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
    done: str | None = None,
) -> Template:
    lang = pages.lang_of(request)
    units = await org.all_units(session)
    names = {u.id: i18n.label(lang, {"name_zh": u.name_zh, "name_en": u.name_en}) for u in units}
    return pages.page(
        request,
        "admin_categories.html",
        status_code=status_code,
        sections=admin.SECTIONS,
        here="/console/admin/categories",
        categories=await services.list_categories(session),
        units=units,
        names=names,
        values=values or {},
        problems=problems,
        done=done if done in ("created", "saved") else None,
    )


async def _templates_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
    done: str | None = None,
) -> Template:
    return pages.page(
        request,
        "admin_templates.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        sections=admin.SECTIONS,
        here="/console/admin/reply-templates",
        templates=await replies.list_templates(session),
        outcomes=OUTCOMES,
        values=values or {},
        problems=problems,
        done=done if done in ("created", "saved", "deleted") else None,
    )
