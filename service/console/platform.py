"""The platform admins' pages (``/console/platform``): the universities (onboard, suspend, reactivate, download
the archive, offboard with the university's code typed again) and the bureau accounts of each province.

Every form calls what the platform API calls (``service.platform.controllers``: ``onboard``, ``change_status``,
``offboard_university``, ``create_platform_account``, ``deactivate_account``), so the rules live in one place; a
refusal shows its reasons in place, in the page's language. A platform admin signs in here with their email and
password through the API's own sign-in (``auth.sign_in`` without a university: the same throttling and session
versions); the cookie is the console's.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.connection import ASGIConnection
from litestar.datastructures import State
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromPath
from litestar.response import File, Redirect, Template
from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.auth import controllers as auth
from service.console import i18n, pages
from service.console.session import PENDING_OK, GoTo, cleared_cookie, session_cookie
from service.console.views import form_values, page_url
from service.http.deps import Caller, Session
from service.http.security import principal_of
from service.platform import controllers as api
from service.platform import services
from tenants import identity, paging, tenancy
from tenants.errors import Conflict, DomainError, Forbidden, Invalid, RateLimited, Unauthorized
from tenants.identity import Role
from tenants.provinces import PROVINCES
from tenants.tenancy import Tenant, TenantStatus

HOME = "/console/platform"
LOGIN = f"{HOME}/login"
PAGE_SIZE = 50
ONBOARD_FIELDS = ("slug", "name_zh", "name_en", "province_code", "timezone", "admin_email")
BUREAU_FIELDS = ("email", "password", "province_code")
# Province-level codes (GB/T 2260: two digits and 0000), for the pickers.
PROVINCE_CODES = tuple(f"{p}0000" for p in PROVINCES)
# Where msgspec names the field a value failed on: "... - at `$.slug`" or "missing required field `slug`".
_FIELD = re.compile(r"`\$\.(\w+)`|required field `(\w+)`")


async def platform_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The platform pages: a signed-in platform admin who has chosen their own password."""
    principal = principal_of(connection)
    if principal.is_anonymous:
        raise GoTo(LOGIN, ended=bool(connection.scope.get("state", {}).get("console_session_ended")))
    if principal.kind != "platform_account" or principal.role is not Role.platform_admin:
        raise Forbidden("these pages are for the platform's administrators")
    if principal.must_change_password and not handler.opt.get(PENDING_OK):
        raise GoTo(f"{HOME}/password")


def province_name(lang: str, code: str) -> str:
    names = PROVINCES.get(code[:2])
    return (names[1] if lang == "en" else names[0]) if names else code


def problem_lines(t: Any, errors: list[Any]) -> list[str]:
    """A refusal's fields as the form labels them, each with what the field needs, in the page's language."""
    lines = []
    for e in errors:
        field = str(e.get("field") or "") if isinstance(e, Mapping) else ""
        key = f"platform.field.{field}"
        label = t(key) if key in i18n.MESSAGES else field
        hint = f"platform.hint.{field}"
        lines.append(f"{label}: {t(hint)}" if hint in i18n.MESSAGES else label)
    return lines


def _conversion_errors(exc: msgspec.ValidationError) -> list[dict[str, str]]:
    """The field a form value failed on (msgspec names it ``$.field``), as a domain error's list."""
    message = str(exc)
    found = _FIELD.search(message)
    return [{"field": next(g for g in found.groups() if g) if found else "", "message": message}]


def refusal(t: Any, exc: DomainError | msgspec.ValidationError, lang: str) -> list[str]:
    if isinstance(exc, msgspec.ValidationError):
        return problem_lines(t, _conversion_errors(exc))
    if exc.code == "slug-taken":
        return problem_lines(t, [{"field": "slug_taken"}])
    if exc.code == "email-taken":
        return problem_lines(t, [{"field": "email_taken"}])
    if exc.code == "offboarding-interrupted":
        return [t("platform.offboard_interrupted")]
    errors = exc.extra.get("errors") or []
    return problem_lines(t, errors) if errors else [i18n.refused(lang, exc)]


class PlatformLoginController(Controller):
    """Signing a platform admin in and out, and the admin's own password."""

    path = HOME
    include_in_schema = False

    @get("/login")
    async def login_form(self, request: Request[Any, Any, Any]) -> Template:
        notice = "login.ended" if request.query_params.get("ended") else None
        if request.query_params.get("out"):
            notice = "logout.done"
        return pages.page(request, "platform_login.html", notice=notice, values={})

    @post("/login")
    async def login(self, request: Request[Any, Any, Any], state: State) -> Template | Redirect:
        form = await request.form()
        values = form_values(form, ("email", "password"))
        shown = {"email": values.get("email", "")}
        try:
            data = msgspec.convert(values, auth.Login)  # no university: a platform account
            pair = await auth.sign_in(state, data, auth.client_of(request))
            principal = await state.authenticator.authenticate_session(pair.refresh_token)
        except (msgspec.ValidationError, Unauthorized):
            return pages.page(request, "platform_login.html", status_code=401, error="platform.login_bad", values=shown)
        except RateLimited as exc:
            response = pages.page(
                request,
                "platform_login.html",
                status_code=429,
                error="login.throttled",
                seconds=exc.retry_after,
                values=shown,
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        if principal.role is not Role.platform_admin:
            # A bureau viewer's password is right, but these pages are not theirs: no session is handed out.
            return pages.page(
                request, "platform_login.html", status_code=403, error="platform.login_not_admin", values=shown
            )
        target = f"{HOME}/password" if pair.password_change_required else HOME
        return pages.redirect(target, cookies=[session_cookie(state.settings, pair.refresh_token)])

    @post("/logout", guards=[platform_only], opt={PENDING_OK: True})
    async def logout(self, db_session: Session, principal: Caller, state: State) -> Redirect:
        await identity.revoke_sessions(db_session, principal)
        return pages.redirect(f"{LOGIN}?out=1", cookies=[cleared_cookie(state.settings)])

    @get("/password", guards=[platform_only], opt={PENDING_OK: True})
    async def password_form(self, request: Request[Any, Any, Any], principal: Caller) -> Template:
        return pages.page(request, "platform_password.html", forced=principal.must_change_password)

    @post("/password", guards=[platform_only], opt={PENDING_OK: True})
    async def change_password(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller, state: State
    ) -> Template | Redirect:
        form = await request.form()
        values = form_values(form, ("current_password", "new_password"))
        forced = principal.must_change_password
        name = "platform_password.html"
        try:
            data = msgspec.convert(values, auth.PasswordChange)
            async with db_session.begin_nested():
                pair = await auth.change_own_password(state, db_session, principal, data, auth.client_of(request))
        except msgspec.ValidationError:
            return pages.page(request, name, status_code=400, forced=forced, error="error.400")
        except Unauthorized:
            return pages.page(request, name, status_code=401, forced=forced, error="password.wrong")
        except Invalid as exc:
            lang = pages.lang_of(request)
            reasons = [str(e.get("message", "")) for e in exc.extra.get("errors") or []] or [exc.detail]
            problems = [i18n.password_problem(lang, m) for m in reasons]
            return pages.page(request, name, status_code=422, forced=forced, problems=problems)
        except RateLimited as exc:
            return pages.page(
                request, name, status_code=429, forced=forced, error="login.throttled", seconds=exc.retry_after
            )
        return pages.redirect(f"{HOME}?changed=1", cookies=[session_cookie(state.settings, pair.refresh_token)])


async def _tenant_page(
    request: Request[Any, Any, Any], state: State, tenant_id: uuid.UUID, *, status_code: int = 200, **context: Any
) -> Template:
    async with state.db.transaction() as session:
        tenant = await tenancy.get_tenant(session, tenant_id)
    counts = (await services.counts(state.db, [tenant.id]))[tenant.id]
    lang = pages.lang_of(request)
    return pages.page(
        request,
        "platform_tenant.html",
        status_code=status_code,
        zone=tenant.zone,  # the university's own times in its zone
        tenant=tenant,
        counts=counts,
        counted=services.COUNTED,
        province=province_name(lang, tenant.province_code),
        notice=request.query_params.get("done") if status_code == 200 else None,
        **context,
    )


async def _bureau_page(
    request: Request[Any, Any, Any], session: AsyncSession, *, status_code: int = 200, **context: Any
) -> Template:
    lang = pages.lang_of(request)
    wanted = request.query_params.get("province") or ""
    accounts = await services.list_platform_accounts(
        session, role=Role.bureau_viewer, province_code=wanted if wanted in PROVINCE_CODES else None
    )
    provinces = [(code, province_name(lang, code)) for code in PROVINCE_CODES]
    return pages.page(
        request,
        "platform_bureau.html",
        status_code=status_code,
        accounts=accounts,
        provinces=provinces,
        province_of=lambda code: province_name(lang, code or ""),
        wanted=wanted,
        notice=request.query_params.get("done") if status_code == 200 else None,
        **{"values": {}, **context},
    )


class PlatformController(Controller):
    path = HOME
    guards = [platform_only]
    include_in_schema = False

    @get("/")
    async def universities(self, request: Request[Any, Any, Any], state: State) -> Template:
        status = request.query_params.get("status") or ""
        query = select(Tenant)
        if status in TenantStatus.__members__:
            query = query.where(Tenant.status == status)
        q = (request.query_params.get("q") or "").strip()[:100]
        if q:
            like = f"%{q.replace('%', '').replace('_', '')}%"
            query = query.where(or_(Tenant.slug.ilike(like), Tenant.name_zh.ilike(like), Tenant.name_en.ilike(like)))
        cursor = request.query_params.get("cursor") or None
        async with state.db.transaction() as session:
            rows, after = await paging.keyset(session, query, Tenant.slug, after=cursor, limit=PAGE_SIZE)
        counts = await services.counts(state.db, [t.id for t in rows])
        lang = pages.lang_of(request)
        return pages.page(
            request,
            "platform_tenants.html",
            tenants=rows,
            counts=counts,
            counted=services.COUNTED,
            province_of=lambda code: province_name(lang, code),
            created=lambda u: pages.local_time(u.zone)(u.created_at),  # each in its university's zone
            status=status,
            statuses=list(TenantStatus.__members__),
            q=q,
            next_url=page_url(HOME, {"status": status, "q": q}, cursor=after) if after else None,
            changed=bool(request.query_params.get("changed")),
        )

    @get("/new")
    async def onboard_form(self, request: Request[Any, Any, Any]) -> Template:
        return _onboard_page(request, values={"timezone": "Asia/Shanghai"})

    @post("/new")
    async def onboard(self, request: Request[Any, Any, Any], state: State, principal: Caller) -> Template:
        form = await request.form()
        values = form_values(form, ONBOARD_FIELDS)
        t = i18n.translator(pages.lang_of(request))
        try:
            data = msgspec.convert(values, api.TenantCreate)
            created = await api.onboard(state, data, principal.subject_id)
        except (msgspec.ValidationError, Invalid, Conflict) as exc:
            return _onboard_page(
                request, status_code=422, values=values, problems=refusal(t, exc, pages.lang_of(request))
            )
        return pages.page(request, "platform_onboarded.html", created=created)

    @get("/tenants/{tenant_id:uuid}")
    async def university(
        self, request: Request[Any, Any, Any], state: State, tenant_id: FromPath[uuid.UUID]
    ) -> Template:
        return await _tenant_page(request, state, tenant_id)

    @post("/tenants/{tenant_id:uuid}/suspend")
    async def suspend(self, state: State, principal: Caller, tenant_id: FromPath[uuid.UUID]) -> Redirect:
        await api.change_status(state, tenant_id, TenantStatus.suspended, principal.subject_id)
        return pages.redirect(f"{HOME}/tenants/{tenant_id}?done=suspended")

    @post("/tenants/{tenant_id:uuid}/reactivate")
    async def reactivate(self, state: State, principal: Caller, tenant_id: FromPath[uuid.UUID]) -> Redirect:
        await api.change_status(state, tenant_id, TenantStatus.active, principal.subject_id)
        return pages.redirect(f"{HOME}/tenants/{tenant_id}?done=reactivated")

    @get("/tenants/{tenant_id:uuid}/archive")
    async def archive(self, state: State, principal: Caller, tenant_id: FromPath[uuid.UUID]) -> File:
        response = await api.download_archive(state, tenant_id, principal.subject_id)
        response.headers.update({k: v for k, v in pages.SECURITY_HEADERS.items() if k != "Content-Security-Policy"})
        return response

    @post("/tenants/{tenant_id:uuid}/offboard")
    async def offboard(
        self, request: Request[Any, Any, Any], state: State, principal: Caller, tenant_id: FromPath[uuid.UUID]
    ) -> Template:
        form = await request.form()
        confirm = str(form.get("confirm") or "").strip()
        t = i18n.translator(pages.lang_of(request))
        try:
            done = await api.offboard_university(state, tenant_id, confirm, principal.subject_id)
        except (Invalid, Conflict) as exc:
            return await _tenant_page(
                request, state, tenant_id, status_code=exc.status, problems=refusal(t, exc, pages.lang_of(request))
            )
        return pages.page(request, "platform_offboarded.html", done=done)

    @get("/bureau")
    async def bureau(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _bureau_page(request, db_session)

    @post("/bureau")
    async def create_bureau_account(
        self, request: Request[Any, Any, Any], state: State, db_session: Session
    ) -> Template | Redirect:
        form = await request.form()
        values = form_values(form, BUREAU_FIELDS)
        t = i18n.translator(pages.lang_of(request))
        try:
            data = msgspec.convert({**values, "role": Role.bureau_viewer}, api.PlatformAccountCreate)
            made = await api.create_platform_account(state, data)
        except (msgspec.ValidationError, Invalid, Conflict) as exc:
            shown = {k: v for k, v in values.items() if k != "password"}
            return await _bureau_page(
                request, db_session, status_code=422, values=shown, problems=refusal(t, exc, pages.lang_of(request))
            )
        return pages.redirect(f"{HOME}/bureau?province={made.province_code}&done=created")

    @post("/bureau/{account_id:uuid}/deactivate")
    async def deactivate_bureau_account(
        self, state: State, db_session: Session, principal: Caller, account_id: FromPath[uuid.UUID]
    ) -> Redirect:
        done = await api.deactivate_account(state, db_session, account_id, principal.subject_id)
        return pages.redirect(f"{HOME}/bureau?province={done.province_code or ''}&done=deactivated")


def _onboard_page(request: Request[Any, Any, Any], *, status_code: int = 200, **context: Any) -> Template:
    lang = pages.lang_of(request)
    provinces = [(code, province_name(lang, code)) for code in PROVINCE_CODES]
    return pages.page(request, "platform_new.html", status_code=status_code, provinces=provinces, **context)
