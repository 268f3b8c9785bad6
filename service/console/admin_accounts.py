"""The tenant admin's pages of identity: accounts (create, role, linked people and so units, deactivate, a
one-time password), integrator API keys (create with scopes, the secret shown once; revoke) and the access log of
petitioners' personal data.

The forms call ``tenants.identity`` and ``tenants.org`` as ``service.accounts.controllers`` and the org chart's
API do; the log is ``service.petitions.access_log.entries``, the API's own query. A password or a key's secret is
shown on the page that answers the form and never again (the page is not cached: ``Cache-Control: no-store``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.accounts import controllers as api
from service.console import admin, i18n, pages, views
from service.http.deps import Caller, Session
from service.petitions import access_log, deadlines
from service.petitions.models import Petition
from tenants import identity, org, paging
from tenants.errors import Conflict, DomainError, Invalid
from tenants.identity import Account, ApiKey, Role
from tenants.tenancy import tenant_zone

PAGE_SIZE = 50
ROLES = tuple(sorted(r.value for r in identity.TENANT_ROLES))
SCOPES = tuple(sorted(identity.SCOPES))
LOG_FILTERS = ("email", "staff_number", "tracking_number", "from", "to")


def _status(exc: Exception) -> int:
    return exc.status if isinstance(exc, DomainError) else 422


class AdminAccountController(Controller):
    path = "/console/admin"
    guards = admin.GUARDS
    include_in_schema = False

    # --- accounts -----------------------------------------------------------------------------------------------

    @get("/accounts")
    async def accounts(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _accounts_page(request, db_session)

    @post("/accounts")
    async def create_account(self, request: Request[Any, Any, Any], db_session: Session, principal: Caller) -> Template:
        form = await request.form()
        values = views.form_values(form, ("email", "role", "display_name"))
        # The owner chooses their own password at first sign-in; the admin hands on a random one-time password.
        password = identity.generate_password()
        try:
            data = msgspec.convert({**values, "password": password}, api.AccountCreate, strict=False)
            async with db_session.begin_nested():
                account = await identity.create_account(
                    db_session,
                    email=data.email,
                    password=data.password,
                    role=data.role,
                    display_name=data.display_name,
                    actor_id=principal.subject_id,
                )
        except (DomainError, msgspec.ValidationError) as exc:
            return await _accounts_page(
                request,
                db_session,
                status_code=_status(exc),
                values=values,
                problems=admin.problems(exc, pages.lang_of(request)),
            )
        return await _account_page(request, db_session, account.id, status_code=201, issued=password, done="created")

    @get("/accounts/{account_id:uuid}")
    async def account(
        self, request: Request[Any, Any, Any], account_id: FromPath[uuid.UUID], db_session: Session
    ) -> Template:
        return await _account_page(request, db_session, account_id, done=request.query_params.get("done"))

    @post("/accounts/{account_id:uuid}")
    async def update_account(
        self, request: Request[Any, Any, Any], account_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        form = await request.form()
        values = views.form_values(form, ("role", "display_name"))
        body = {**values, "active": form.get("active") == "yes"}
        try:
            data = msgspec.convert(body, api.AccountUpdate, strict=False)
            changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
            async with db_session.begin_nested():
                await identity.update_account(db_session, account_id, actor_id=principal.subject_id, **changes)
        except (DomainError, msgspec.ValidationError) as exc:
            return await _account_page(
                request,
                db_session,
                account_id,
                status_code=_status(exc),
                problems=admin.problems(exc, pages.lang_of(request)),
            )
        return pages.redirect(f"/console/admin/accounts/{account_id}?done=saved")

    @post("/accounts/{account_id:uuid}/link")
    async def link_person(
        self, request: Request[Any, Any, Any], account_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        """Link the account to a person of the chart (found by staff number): the person's unit and posts become
        the account's units (its petition scope), as ``PATCH /api/v1/org/people/{id}`` with ``account_id``."""
        form = await request.form()
        number = str(form.get("staff_number") or "").strip()[:64]
        lang = pages.lang_of(request)
        await identity.get_account(db_session, account_id)
        found = await org.list_people(db_session, staff_number=number, limit=1) if number else []
        if not found:
            return await _account_page(
                request,
                db_session,
                account_id,
                status_code=422,
                problems=[i18n.translator(lang)("admin.groups.no_person")],
            )
        try:
            async with db_session.begin_nested():
                await org.update_person(db_session, found[0].id, account_id=account_id, actor_id=principal.subject_id)
        except (Invalid, Conflict) as exc:
            return await _account_page(
                request, db_session, account_id, status_code=exc.status, problems=admin.refusal(exc, lang)
            )
        return pages.redirect(f"/console/admin/accounts/{account_id}?done=linked")

    @post("/accounts/{account_id:uuid}/unlink/{person_id:uuid}")
    async def unlink_person(
        self, account_id: FromPath[uuid.UUID], person_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Redirect:
        person = await org.get_person(db_session, person_id)
        if person.account_id == account_id:
            await org.update_person(db_session, person_id, account_id=None, actor_id=principal.subject_id)
        return pages.redirect(f"/console/admin/accounts/{account_id}?done=unlinked")

    @post("/accounts/{account_id:uuid}/password-reset")
    async def reset_password(
        self, request: Request[Any, Any, Any], account_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template:
        password = await identity.reset_password(db_session, account_id, actor_id=principal.subject_id)
        return await _account_page(request, db_session, account_id, issued=password, done="reset")

    # --- API keys -----------------------------------------------------------------------------------------------

    @get("/api-keys")
    async def keys(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _keys_page(request, db_session, done=request.query_params.get("done"))

    @post("/api-keys")
    async def create_key(self, request: Request[Any, Any, Any], db_session: Session, principal: Caller) -> Template:
        form = await request.form()
        name = str(form.get("name") or "").strip()
        scopes = [str(s) for s in form.getall("scopes", [])]
        try:
            data = msgspec.convert({"name": name, "scopes": scopes}, api.ApiKeyCreate)
            async with db_session.begin_nested():
                key, secret = await identity.create_api_key(
                    db_session, name=data.name, scopes=data.scopes, actor_id=principal.subject_id
                )
        except (DomainError, msgspec.ValidationError) as exc:
            return await _keys_page(
                request,
                db_session,
                status_code=_status(exc),
                values={"name": name, "scopes": scopes},
                problems=admin.problems(exc, pages.lang_of(request)),
            )
        return await _keys_page(request, db_session, status_code=201, created=(key, secret))

    @post("/api-keys/{key_id:uuid}/revoke")
    async def revoke_key(self, key_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> Redirect:
        await identity.revoke_api_key(db_session, key_id, actor_id=principal.subject_id)
        return pages.redirect("/console/admin/api-keys?done=revoked")

    # --- the access log of personal data ------------------------------------------------------------------------

    @get("/access-log")
    async def access_log(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        params = {k: (request.query_params.get(k) or "").strip()[:254] for k in LOG_FILTERS}
        zone = await tenant_zone(db_session)
        found = await _log_filter(db_session, params, zone, pages.lang_of(request))
        rows: list[Any] = []
        nxt = None
        if not found.problems:
            rows, nxt = await access_log.entries(
                db_session,
                account_id=found.account_id,
                petition_id=found.petition_id,
                since=found.since,
                until=found.until,
                cursor=_opt_uuid(request.query_params.get("cursor")),
                limit=PAGE_SIZE,
            )
        return pages.page(
            request,
            "admin_access_log.html",
            status_code=422 if found.problems else 200,
            zone=zone,
            sections=admin.SECTIONS,
            here="/console/admin/access-log",
            params=params,
            rows=rows,
            emails=await _names_of(db_session, Account.id, Account.email, {r.account_id for r in rows}),
            key_names=await _names_of(db_session, ApiKey.id, ApiKey.name, {r.api_key_id for r in rows}),
            numbers=await _names_of(db_session, Petition.id, Petition.tracking_number, {r.petition_id for r in rows}),
            problems=found.problems,
            next_url=views.page_url("/console/admin/access-log", params, cursor=str(nxt)) if nxt else None,
        )


@dataclass
class LogFilter:
    """The access log's filters as ``access_log.entries`` takes them, or why they name nothing."""

    account_id: uuid.UUID | None = None
    petition_id: uuid.UUID | None = None
    since: datetime | None = None
    until: datetime | None = None
    problems: list[str] = field(default_factory=list)


async def _log_filter(session: AsyncSession, params: dict[str, str], zone: ZoneInfo, lang: str) -> LogFilter:
    """The page's filters (an account by email, a person by staff number — their linked account —, a petition
    by tracking number, calendar days of the university) as the log's query takes them."""
    t = i18n.translator(lang)
    out = LogFilter()
    accounts: set[uuid.UUID] = set()
    if params["email"]:
        account = await session.scalar(select(Account.id).where(Account.email == params["email"].lower()))
        if account is None:
            out.problems.append(t("admin.log.no_account"))
        else:
            accounts.add(account)
    if params["staff_number"]:
        people = await org.list_people(session, staff_number=params["staff_number"], limit=1)
        if not people or people[0].account_id is None:
            out.problems.append(t("admin.log.no_person_account"))
        else:
            accounts.add(people[0].account_id)
    if len(accounts) > 1:
        out.problems.append(t("admin.log.two_accounts"))
    out.account_id = next(iter(accounts), None)
    if params["tracking_number"]:
        number = params["tracking_number"].upper()
        out.petition_id = await session.scalar(select(Petition.id).where(Petition.tracking_number == number))
        if out.petition_id is None:
            out.problems.append(t("admin.log.no_petition"))
    try:
        # From the start of the ``from`` day to the end of the ``to`` day, in the university's zone.
        if params["from"]:
            out.since = deadlines.local_day_start(date.fromisoformat(params["from"]), zone)
        if params["to"]:
            out.until = deadlines.local_day_start(date.fromisoformat(params["to"]) + timedelta(days=1), zone)
    except ValueError:
        out.problems.append(t("admin.log.bad_date"))
    return out


def _opt_uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


async def _names_of(session: AsyncSession, key: Any, name: Any, ids: set[Any]) -> dict[Any, Any]:
    """``key -> name`` for the given ids (the log's accounts, keys and petitions, looked up once per page)."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return dict((await session.execute(select(key, name).where(key.in_(wanted)))).all())


async def _accounts_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
) -> Template:
    cursor = _opt_uuid(request.query_params.get("cursor"))
    rows, after = await paging.keyset(session, select(Account), Account.id, after=cursor, limit=PAGE_SIZE)
    return pages.page(
        request,
        "admin_accounts.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        sections=admin.SECTIONS,
        here="/console/admin/accounts",
        accounts=rows,
        roles=ROLES,
        values=values or {"role": Role.staff.value},
        problems=problems,
        next_url=f"/console/admin/accounts?cursor={after}" if after else None,
    )


async def _account_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    status_code: int = 200,
    problems: list[str] | None = None,
    issued: str | None = None,
    done: str | None = None,
) -> Template:
    lang = pages.lang_of(request)
    account = await identity.get_account(session, account_id)
    people = await org.list_people(session, account_id=account.id, limit=20)
    units = {u.id: u for u in await org.all_units(session, include_inactive=True)}
    linked = []
    for p in people:
        posts = await org.list_posts(session, p.id)
        unit_names = [
            i18n.label(lang, {"name_zh": units[uid].name_zh, "name_en": units[uid].name_en})
            for uid in [p.unit_id, *(x.unit_id for x in posts)]
            if uid in units
        ]
        linked.append({"p": p, "units": unit_names})
    return pages.page(
        request,
        "admin_account.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        sections=admin.SECTIONS,
        here="/console/admin/accounts",
        account=account,
        linked=linked,
        roles=ROLES,
        problems=problems,
        issued=issued,
        done=done if done in ("created", "saved", "linked", "unlinked", "reset") else None,
    )


async def _keys_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    values: dict[str, Any] | None = None,
    problems: list[str] | None = None,
    created: tuple[ApiKey, str] | None = None,
    done: str | None = None,
) -> Template:
    keys = list((await session.scalars(select(ApiKey).order_by(ApiKey.created_at))).all())
    return pages.page(
        request,
        "admin_keys.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        sections=admin.SECTIONS,
        here="/console/admin/api-keys",
        keys=keys,
        scopes=SCOPES,
        values=values or {"scopes": []},
        problems=problems,
        created=created,
        done=done if done == "revoked" else None,
    )
