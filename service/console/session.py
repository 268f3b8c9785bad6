"""The console's session: an HttpOnly cookie carrying the same kind of session as the API's tokens (a refresh
token of the account, checked against the per-account session version on every request), and the guards of the
console's pages.

Signing out, deactivation, a role change and a password change move the account's session version on, which
ends the cookie's session exactly as it ends the API's tokens.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from service.http.security import RequestContextMiddleware, adopt, principal_of
from service.petitions.scope import STAFF_ROLES
from tenants.errors import Forbidden, NotFound, TenantSuspended, Unauthorized
from tenants.identity import Role
from tenants.settings import Settings

COOKIE = "xf_session"
# Who may sign in to the console: the university's handling side, and a province's education bureau (its own
# pages only, ``bureau_only``).
CONSOLE_ROLES = STAFF_ROLES | {Role.bureau_viewer}
# Where each kind of account lands after signing in.
HOME = {Role.bureau_viewer: "/console/bureau", Role.platform_admin: "/console/platform"}
# The handler option that lets an account whose password was issued reach a page (the password form, sign-out).
PENDING_OK = "password_change_allowed"


class GoTo(Exception):
    """Send the browser elsewhere (to sign in, to change the issued password)."""

    def __init__(self, location: str, *, ended: bool = False) -> None:
        super().__init__(location)
        self.location = location
        self.ended = ended


def session_cookie(settings: Settings, value: str, *, max_age: int | None = None) -> Cookie:
    return Cookie(
        key=COOKIE,
        value=value,
        path="/",
        httponly=True,
        secure=settings.env != "development",
        samesite="lax",
        max_age=max_age if max_age is not None else settings.refresh_token_ttl,
    )


def cleared_cookie(settings: Settings) -> Cookie:
    return session_cookie(settings, "", max_age=0)


class ConsoleSession(ASGIMiddleware):
    """Authenticates the console's cookie on the console's paths and makes its account the request's caller
    (tenant context, guards, rate limits as for the API). A session that has ended leaves the caller anonymous."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        request: Request[Any, Any, Any] = Request(scope, receive)
        raw = request.cookies.get(COOKIE)
        # The student's pages are anonymous by design: a member of staff signed in to the console (of this or
        # another university) uses them as anyone does.
        if raw and principal_of(request).is_anonymous and scope["path"].startswith("/console"):
            app_state = scope["litestar_app"].state
            try:
                principal = await app_state.authenticator.authenticate_session(raw)
            except (Unauthorized, TenantSuspended):
                scope.setdefault("state", {})["console_session_ended"] = True
            else:
                adopt(scope, principal)
                RequestContextMiddleware._rate_limit(app_state, scope, principal)
        await next_app(scope, receive, send)


async def staff_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The console's pages: a signed-in account of the handling side (staff, petition office, admin), which has
    chosen its own password (else it is sent to the password form)."""
    principal = principal_of(connection)
    if principal.is_anonymous:
        raise GoTo("/console/login", ended=bool(connection.scope.get("state", {}).get("console_session_ended")))
    if principal.kind != "account" or principal.role not in STAFF_ROLES:
        raise Forbidden("the console is for the university's staff")
    if principal.must_change_password and not handler.opt.get(PENDING_OK):
        raise GoTo("/console/password")


def _signed_in(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> Any:
    principal = principal_of(connection)
    if principal.is_anonymous:
        raise GoTo("/console/login", ended=bool(connection.scope.get("state", {}).get("console_session_ended")))
    if principal.must_change_password and not handler.opt.get(PENDING_OK):
        raise GoTo("/console/password")
    return principal


async def console_account(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """Pages of every console account (signing out, one's password): staff, the office, admins, bureau viewers."""
    principal = _signed_in(connection, handler)
    if principal.role not in CONSOLE_ROLES:
        raise Forbidden("the console is for the university's staff and the education bureau")


async def bureau_only(connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler) -> None:
    """The bureau's pages: a signed-in bureau viewer (a platform account bound to a province). To anyone else,
    a university's account included, they do not exist (404), as the bureau's figures are not theirs to see."""
    principal = _signed_in(connection, handler)
    if principal.kind != "platform_account" or principal.role is not Role.bureau_viewer:
        raise NotFound("no such page")
