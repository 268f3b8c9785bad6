"""Signing in and out of the console, and changing one's password, through the API's own services (the same
throttling, the same session versions)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.response import Redirect, Template

from service.auth import controllers as auth
from service.console import i18n, pages
from service.console.session import (
    HOME,
    PENDING_OK,
    cleared_cookie,
    console_account,
    session_cookie,
)
from service.console.views import form_values
from service.http.deps import Caller, Session
from tenants import identity
from tenants.errors import Invalid, RateLimited, TenantSuspended, Unauthorized
from tenants.identity import Role


class AccountController(Controller):
    path = "/console"

    @get("/", include_in_schema=False)
    async def home(self) -> Redirect:
        return pages.redirect("/console/queue")

    @get("/login", include_in_schema=False)
    async def login_form(self, request: Request[Any, Any, Any]) -> Template:
        notice = "login.ended" if request.query_params.get("ended") else None
        if request.query_params.get("out"):
            notice = "logout.done"
        return pages.page(request, "login.html", notice=notice, values={})

    @post("/login", include_in_schema=False)
    async def login(self, request: Request[Any, Any, Any], state: State) -> Template | Redirect:
        form = await request.form()
        values = form_values(form, ("tenant", "email", "password"))
        shown = {k: v for k, v in values.items() if k != "password"}
        try:
            # Without a university code: a platform account (the console admits a bureau viewer's).
            data = msgspec.convert(values, auth.Login)
            pair = await auth.sign_in(state, data, auth.client_of(request))
            # Where the account lands; an account the console is not for gets its pages' 403, as before.
            role = state.tokens.verify(pair.refresh_token, typ="refresh")[0].role
        except (msgspec.ValidationError, Unauthorized):
            return pages.page(request, "login.html", status_code=401, error="login.bad", values=shown)
        except RateLimited as exc:
            response = pages.page(
                request,
                "login.html",
                status_code=429,
                error="login.throttled",
                seconds=exc.retry_after,
                values=shown,
            )
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except TenantSuspended:
            return pages.page(request, "login.html", status_code=403, error="login.suspended", values=shown)
        home = HOME.get(role, "/console/queue")
        if pair.password_change_required:  # a platform admin's own password page is among the platform's pages
            target = "/console/platform/password" if role is Role.platform_admin else "/console/password"
        else:
            target = home
        return pages.redirect(target, cookies=[session_cookie(state.settings, pair.refresh_token)])

    @post("/logout", guards=[console_account], opt={PENDING_OK: True}, include_in_schema=False)
    async def logout(self, db_session: Session, principal: Caller, state: State) -> Redirect:
        # Every session of the account ends (the API's tokens too), as the API's sign-out does.
        await identity.revoke_sessions(db_session, principal)
        return pages.redirect("/console/login?out=1", cookies=[cleared_cookie(state.settings)])

    @get("/password", guards=[console_account], opt={PENDING_OK: True}, include_in_schema=False)
    async def password_form(self, request: Request[Any, Any, Any], principal: Caller) -> Template:
        return pages.page(request, "password.html", forced=principal.must_change_password)

    @post("/password", guards=[console_account], opt={PENDING_OK: True}, include_in_schema=False)
    async def change_password(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller, state: State
    ) -> Template | Redirect:
        form = await request.form()
        values = form_values(form, ("current_password", "new_password"))
        forced = principal.must_change_password
        try:
            data = msgspec.convert(values, auth.PasswordChange)
            async with db_session.begin_nested():
                pair = await auth.change_own_password(state, db_session, principal, data, auth.client_of(request))
        except msgspec.ValidationError:
            return pages.page(request, "password.html", status_code=400, forced=forced, error="error.400")
        except Unauthorized:
            return pages.page(request, "password.html", status_code=401, forced=forced, error="password.wrong")
        except Invalid as exc:
            lang = pages.lang_of(request)
            reasons = [str(e.get("message", "")) for e in exc.extra.get("errors") or []] or [exc.detail]
            problems = [i18n.password_problem(lang, m) for m in reasons]
            return pages.page(request, "password.html", status_code=422, forced=forced, problems=problems)
        except RateLimited as exc:
            return pages.page(
                request,
                "password.html",
                status_code=429,
                forced=forced,
                error="login.throttled",
                seconds=exc.retry_after,
            )
        home = HOME.get(principal.role, "/console/queue") if principal.role else "/console/queue"
        return pages.redirect(f"{home}?changed=1", cookies=[session_cookie(state.settings, pair.refresh_token)])
