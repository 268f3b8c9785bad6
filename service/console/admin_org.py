"""The tenant admin's pages of the organization chart: the units as a tree (add, rename, move, deactivate), the
people (list, look up, add, edit), the emergency groups' members, and the import and export of units and people.

Each form is converted to the API's own body (``service.org.controllers``: the same limits) and handed to the
services the API calls (``tenants.org``, ``tenants.org_transfer``), in a savepoint: a refused form writes nothing.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import admin, i18n, pages, views
from service.http.deps import Caller, Session
from service.org import controllers as api
from tenants import org
from tenants.errors import Conflict, DomainError, Invalid
from tenants.identity import Account
from tenants.org import MemberRole, UnitKind
from tenants.tenancy import tenant_zone

PAGE_SIZE = 50
UNIT_FIELDS = ("kind", "code", "name_zh", "name_en", "parent_id")
PERSON_FIELDS = ("staff_number", "name_zh", "name_en", "title_zh", "title_en", "unit_id")
KINDS = tuple(k.value for k in UnitKind)
MEMBER_ROLES = tuple(r.value for r in MemberRole)


@dataclass
class Node:
    """A unit of the tree as the page shows it: its name in the page's language and its sub-units."""

    unit: org.OrgUnit
    name: str
    children: list[Node] = field(default_factory=list)


def tree(units: list[org.OrgUnit], lang: str) -> list[Node]:
    """The units (ordered by code) as a forest from the root(s), children in code order."""
    nodes = {u.id: Node(u, i18n.label(lang, {"name_zh": u.name_zh, "name_en": u.name_en})) for u in units}
    roots: list[Node] = []
    for u in units:
        parent = nodes.get(u.parent_id) if u.parent_id else None
        (parent.children if parent else roots).append(nodes[u.id])
    return roots


def _problems(request: Request[Any, Any, Any], exc: DomainError | msgspec.ValidationError) -> list[str]:
    return admin.problems(exc, pages.lang_of(request))


def _opt_uuid(value: Any) -> uuid.UUID | None:
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


async def _unit_names(session: AsyncSession, lang: str) -> tuple[list[org.OrgUnit], dict[uuid.UUID, str]]:
    units = await org.all_units(session, include_inactive=True)
    return units, {u.id: i18n.label(lang, {"name_zh": u.name_zh, "name_en": u.name_en}) for u in units}


class AdminOrgController(Controller):
    path = "/console/admin"
    guards = admin.GUARDS
    include_in_schema = False

    @get("/")
    async def home(self) -> Redirect:
        return pages.redirect("/console/admin/org")

    # --- units --------------------------------------------------------------------------------------------------

    @get("/org")
    async def org_chart(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _org_page(request, db_session)

    @post("/org/units")
    async def create_unit(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        values = views.form_values(await request.form(), UNIT_FIELDS)
        try:
            data = msgspec.convert(values, api.UnitCreate, strict=False)
            async with db_session.begin_nested():
                unit = await org.create_unit(db_session, actor_id=principal.subject_id, **msgspec.structs.asdict(data))
        except (DomainError, msgspec.ValidationError) as exc:
            return await _org_page(
                request, db_session, status_code=_status(exc), values=values, problems=_problems(request, exc)
            )
        return pages.redirect(f"/console/admin/org/units/{unit.id}?done=created")

    @get("/org/units/{unit_id:uuid}")
    async def unit_page(
        self, request: Request[Any, Any, Any], unit_id: FromPath[uuid.UUID], db_session: Session
    ) -> Template:
        return await _unit_page(request, db_session, unit_id, done=request.query_params.get("done"))

    @post("/org/units/{unit_id:uuid}/rename")
    async def rename_unit(
        self, request: Request[Any, Any, Any], unit_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        values = views.form_values(await request.form(), ("name_zh", "name_en"))
        try:
            data = msgspec.convert(values, api.UnitRename, strict=False)
            async with db_session.begin_nested():
                await org.rename_unit(
                    db_session, unit_id, name_zh=data.name_zh, name_en=data.name_en, actor_id=principal.subject_id
                )
        except (Invalid, Conflict, msgspec.ValidationError) as exc:
            return await _unit_page(
                request, db_session, unit_id, status_code=_status(exc), problems=_problems(request, exc)
            )
        return pages.redirect(f"/console/admin/org/units/{unit_id}?done=renamed")

    @post("/org/units/{unit_id:uuid}/move")
    async def move_unit(
        self, request: Request[Any, Any, Any], unit_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        values = views.form_values(await request.form(), ("parent_id",))
        try:
            data = msgspec.convert(values, api.UnitMove, strict=False)
            async with db_session.begin_nested():
                await org.move_unit(db_session, unit_id, parent_id=data.parent_id, actor_id=principal.subject_id)
        except (Invalid, Conflict, msgspec.ValidationError) as exc:
            return await _unit_page(
                request, db_session, unit_id, status_code=_status(exc), problems=_problems(request, exc)
            )
        return pages.redirect(f"/console/admin/org/units/{unit_id}?done=moved")

    @post("/org/units/{unit_id:uuid}/deactivate")
    async def deactivate_unit(
        self, request: Request[Any, Any, Any], unit_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        try:
            async with db_session.begin_nested():
                await org.deactivate_unit(db_session, unit_id, actor_id=principal.subject_id)
        except (Invalid, Conflict) as exc:
            return await _unit_page(
                request, db_session, unit_id, status_code=_status(exc), problems=_problems(request, exc)
            )
        return pages.redirect(f"/console/admin/org/units/{unit_id}?done=deactivated")

    # --- people -------------------------------------------------------------------------------------------------

    @get("/people")
    async def people(
        self,
        request: Request[Any, Any, Any],
        db_session: Session,
        staff_number: FromQuery[str | None] = None,
        unit: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        return await _people_page(request, db_session, staff_number=staff_number, unit=unit, cursor=cursor)

    @post("/people")
    async def create_person(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, (*PERSON_FIELDS, "account_email"))
        try:
            account_id = await _account_by_email(db_session, values.pop("account_email", None))
            data = msgspec.convert({**values, "account_id": account_id}, api.PersonCreate, strict=False)
            async with db_session.begin_nested():
                person = await org.create_person(
                    db_session, actor_id=principal.subject_id, **msgspec.structs.asdict(data)
                )
        except (Invalid, Conflict, msgspec.ValidationError) as exc:
            return await _people_page(
                request, db_session, status_code=_status(exc), values=values, problems=_problems(request, exc)
            )
        return pages.redirect(f"/console/admin/people/{person.id}?done=created")

    @get("/people/{person_id:uuid}")
    async def person_page(
        self, request: Request[Any, Any, Any], person_id: FromPath[uuid.UUID], db_session: Session
    ) -> Template:
        return await _person_page(request, db_session, person_id, done=request.query_params.get("done"))

    @post("/people/{person_id:uuid}")
    async def update_person(
        self, request: Request[Any, Any, Any], person_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("name_zh", "name_en", "title_zh", "title_en", "unit_id", "account_email"))
        try:
            account_id = await _account_by_email(db_session, values.pop("account_email", None))
            # An emptied account field unlinks the account; an emptied text keeps what the person has.
            body = {**values, "account_id": account_id, "active": form.get("active") == "yes"}
            data = msgspec.convert(body, api.PersonUpdate, strict=False)
            changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
            async with db_session.begin_nested():
                await org.update_person(db_session, person_id, actor_id=principal.subject_id, **changes)
        except (Invalid, Conflict, msgspec.ValidationError) as exc:
            return await _person_page(
                request, db_session, person_id, status_code=_status(exc), problems=_problems(request, exc)
            )
        return pages.redirect(f"/console/admin/people/{person_id}?done=saved")

    @post("/people/{person_id:uuid}/posts")
    async def add_post(
        self, request: Request[Any, Any, Any], person_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        """A secondary post (兼职) in another unit: the person's linked accounts belong to that unit too."""
        values = views.form_values(await request.form(), ("unit_id", "title_zh", "title_en"))
        try:
            data = msgspec.convert(values, api.PostIn, strict=False)
            async with db_session.begin_nested():
                await org.add_post(
                    db_session,
                    person_id,
                    unit_id=data.unit_id,
                    title_zh=data.title_zh,
                    title_en=data.title_en,
                    actor_id=principal.subject_id,
                )
        except (Invalid, Conflict, msgspec.ValidationError) as exc:
            return await _person_page(
                request, db_session, person_id, status_code=_status(exc), problems=_problems(request, exc)
            )
        return pages.redirect(f"/console/admin/people/{person_id}?done=post_added")

    @post("/people/{person_id:uuid}/posts/{unit_id:uuid}/remove")
    async def remove_post(
        self, person_id: FromPath[uuid.UUID], unit_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Redirect:
        await org.remove_post(db_session, person_id, unit_id, actor_id=principal.subject_id)
        return pages.redirect(f"/console/admin/people/{person_id}?done=post_removed")

    # --- emergency groups ---------------------------------------------------------------------------------------

    @get("/groups")
    async def groups(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _groups_page(request, db_session, done=request.query_params.get("done"))

    @post("/groups/{key:str}/members")
    async def add_member(
        self, request: Request[Any, Any, Any], key: FromPath[str], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("staff_number", "role"))
        t = i18n.translator(pages.lang_of(request))
        found = await org.list_people(db_session, staff_number=values.get("staff_number") or "", limit=1)
        if not values.get("staff_number") or not found:
            return await _groups_page(
                request, db_session, status_code=422, problems={key: [t("admin.groups.no_person")]}
            )
        try:
            data = msgspec.convert({"person_id": str(found[0].id), "role": values.get("role")}, api.MemberAdd)
            async with db_session.begin_nested():
                await org.add_member(
                    db_session, key, person_id=data.person_id, role=data.role, actor_id=principal.subject_id
                )
        except (Invalid, Conflict, msgspec.ValidationError) as exc:
            return await _groups_page(
                request, db_session, status_code=_status(exc), problems={key: _problems(request, exc)}
            )
        return pages.redirect(f"/console/admin/groups?done=added#group-{key}")

    @post("/groups/{key:str}/members/{person_id:uuid}/role")
    async def change_role(
        self,
        request: Request[Any, Any, Any],
        key: FromPath[str],
        person_id: FromPath[uuid.UUID],
        db_session: Session,
        principal: Caller,
    ) -> Template | Redirect:
        form = await request.form()
        try:
            data = msgspec.convert({"role": form.get("role")}, api.MemberRoleChange)
            async with db_session.begin_nested():
                await org.change_member_role(
                    db_session, key, person_id=person_id, role=data.role, actor_id=principal.subject_id
                )
        except (Invalid, Conflict, msgspec.ValidationError) as exc:
            return await _groups_page(
                request, db_session, status_code=_status(exc), problems={key: _problems(request, exc)}
            )
        return pages.redirect(f"/console/admin/groups?done=changed#group-{key}")

    @post("/groups/{key:str}/members/{person_id:uuid}/remove")
    async def remove_member(
        self, key: FromPath[str], person_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Redirect:
        await org.remove_member(db_session, key, person_id=person_id, actor_id=principal.subject_id)
        return pages.redirect(f"/console/admin/groups?done=removed#group-{key}")

    # --- import and export --------------------------------------------------------------------------------------

    @get("/import")
    async def import_form(self, request: Request[Any, Any, Any]) -> Template:
        return pages.page(request, "admin_import.html", sections=admin.SECTIONS, here="/console/admin/import")

    @post("/import", request_max_body_size=api.MAX_IMPORT_BYTES)
    async def import_(self, request: Request[Any, Any, Any], db_session: Session, principal: Caller) -> Template:
        form = await request.form()
        lang = pages.lang_of(request)
        try:
            async with db_session.begin_nested():
                summary = await api.import_uploads(
                    db_session, {k: form.get(k) for k in ("units", "people")}, actor_id=principal.subject_id
                )
        except Invalid as exc:
            errors = exc.extra.get("errors") or []
            rows = [
                {
                    "file": e.get("file") or e.get("field") or "",
                    "row": e.get("row"),
                    "column": e.get("column"),
                    "reason": admin.import_reason(lang, e),
                }
                for e in errors
            ]
            return pages.page(
                request,
                "admin_import.html",
                status_code=422,
                sections=admin.SECTIONS,
                here="/console/admin/import",
                rows=rows,
                refused=True,
            )
        return pages.page(
            request, "admin_import.html", sections=admin.SECTIONS, here="/console/admin/import", summary=summary
        )

    @get("/export/{what:str}")
    async def export(self, what: FromPath[str], db_session: Session, format: FromQuery[str] = "csv") -> Response[bytes]:
        if what not in ("units", "people") or format not in ("csv", "xlsx"):
            raise Invalid("unknown export", errors=[{"field": "format", "message": "units or people, csv or xlsx"}])
        return await api.export_file(
            db_session, "units" if what == "units" else "people", "csv" if format == "csv" else "xlsx"
        )


def _status(exc: Exception) -> int:
    return exc.status if isinstance(exc, DomainError) else 422


async def _account_by_email(session: AsyncSession, email: str | None) -> uuid.UUID | None:
    """The account a person is linked to, named by its email in the form (as the import's ``account_email``)."""
    if not email:
        return None
    found = await session.scalar(select(Account.id).where(Account.email == email.strip().lower()))
    if found is None:
        raise Invalid("no such account", errors=[{"field": "account_email", "message": "no account with this email"}])
    return found


async def _org_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
) -> Template:
    lang = pages.lang_of(request)
    units, names = await _unit_names(session, lang)
    root = next((u for u in units if u.parent_id is None), None)
    # Once the university has its root, a new unit is most likely an office below it.
    default = {"parent_id": str(root.id), "kind": UnitKind.office.value} if root else {}
    return pages.page(
        request,
        "admin_org.html",
        status_code=status_code,
        sections=admin.SECTIONS,
        here="/console/admin/org",
        roots=tree(units, lang),
        units=[u for u in units if u.active],
        names=names,
        kinds=KINDS,
        values=values or default,
        problems=problems,
    )


async def _unit_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    unit_id: uuid.UUID,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
    done: str | None = None,
) -> Template:
    lang = pages.lang_of(request)
    unit = await org.get_unit(session, unit_id)  # 404 for a unit of no one's (or another university's) chart
    units, names = await _unit_names(session, lang)
    chain = await org.ancestors(session, unit.id)
    people = await org.list_people(session, unit_id=unit.id, limit=PAGE_SIZE)
    return pages.page(
        request,
        "admin_unit.html",
        status_code=status_code,
        sections=admin.SECTIONS,
        here="/console/admin/org",
        unit=unit,
        path=[names[u.id] for u in reversed(chain)],
        parents=[u for u in units if u.active and u.id != unit.id],
        names=names,
        people=people,
        problems=problems,
        done=done if done in ("created", "renamed", "moved", "deactivated") else None,
    )


async def _people_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    staff_number: str | None = None,
    unit: str | None = None,
    cursor: str | None = None,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
) -> Template:
    lang = pages.lang_of(request)
    units, names = await _unit_names(session, lang)
    unit_id = _opt_uuid(unit)
    rows = await org.list_people(
        session,
        staff_number=(staff_number or "").strip()[:64] or None,
        unit_id=unit_id,
        include_subunits=unit_id is not None,
        after_id=_opt_uuid(cursor),
        limit=PAGE_SIZE + 1,
    )
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    accounts = await _emails(session, [p.account_id for p in rows if p.account_id])
    params = {"staff_number": staff_number or "", "unit": unit or ""}
    return pages.page(
        request,
        "admin_people.html",
        status_code=status_code,
        sections=admin.SECTIONS,
        here="/console/admin/people",
        people=rows,
        names=names,
        units=[u for u in units if u.active],
        accounts=accounts,
        params=params,
        next_url=views.page_url("/console/admin/people", params, cursor=str(rows[-1].id)) if more else None,
        values=values or {},
        problems=problems,
    )


async def _emails(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not ids:
        return {}
    return dict((await session.execute(select(Account.id, Account.email).where(Account.id.in_(ids)))).all())


async def _person_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
    done: str | None = None,
) -> Template:
    lang = pages.lang_of(request)
    person = await org.get_person(session, person_id)
    units, names = await _unit_names(session, lang)
    emails = await _emails(session, [person.account_id] if person.account_id else [])
    return pages.page(
        request,
        "admin_person.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        sections=admin.SECTIONS,
        here="/console/admin/people",
        person=person,
        posts=await org.list_posts(session, person.id),
        email=emails.get(person.account_id) if person.account_id else None,
        names=names,
        units=[u for u in units if u.active or u.id == person.unit_id],
        problems=problems,
        done=done if done in ("created", "saved", "post_added", "post_removed") else None,
    )


async def _groups_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    problems: dict[str, list[str]] | None = None,
    done: str | None = None,
) -> Template:
    lang = pages.lang_of(request)
    _, names = await _unit_names(session, lang)
    groups = []
    # The plan's four groups in the plan's order (leadership first), then the university's own.
    order = {d.key: i for i, d in enumerate(org.DEFAULT_GROUPS)}
    for g in sorted(await org.list_groups(session), key=lambda g: (order.get(g.key, len(order)), g.key)):
        members = await org.group_members(session, g.id)
        members.sort(key=lambda mp: (MEMBER_ROLES.index(mp[0].role), mp[1].staff_number))
        groups.append(
            {"g": g, "name": i18n.label(lang, {"name_zh": g.name_zh, "name_en": g.name_en}), "members": members}
        )
    return pages.page(
        request,
        "admin_groups.html",
        status_code=status_code,
        sections=admin.SECTIONS,
        here="/console/admin/groups",
        groups=groups,
        names=names,
        roles=MEMBER_ROLES,
        problems=problems or {},
        done=done if done in ("added", "changed", "removed") else None,
    )
