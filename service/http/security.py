"""Who is calling, and may they: the request middleware (request id, authentication, tenant context, rate
limits, access log) and the guards that routes declare with ``requires(...)``.

Credentials are accepted as ``Authorization: Bearer <token>`` (a JWT access token, an integrator API key
``xfk_...`` or a platform token ``xfp_...``) or ``X-API-Key: <key>``. A request without credentials is anonymous;
a request with bad credentials is refused with 401 even on public routes, so a client learns its token is wrong.

An access token is only as good as its account's session: every request compares the token's version with the
account's (one primary-key lookup, cached per process for ``XINFANG_TENANT_CACHE_SECONDS``), so signing out,
a role change, deactivation and a password change or reset end it within that period, as suspension does.

Every response, refusals by this middleware included, carries ``x-request-id`` and is logged with the status
the client got: a refusal raised here is rendered here, through the same problem handlers as the routes'.
"""

from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from typing import Any

import msgspec
import structlog
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send

from service.http import metrics
from service.http.errors import EXCEPTION_HANDLERS, REQUEST_ID_PATTERN
from service.ops.logging import access_log
from tenants import identity
from tenants.cache import TTLCache
from tenants.clock import utcnow
from tenants.db import Database, set_tenant
from tenants.errors import Forbidden, RateLimited, TenantSuspended, Unauthorized
from tenants.identity import ANONYMOUS, Principal, Role, Tokens
from tenants.settings import Settings
from tenants.tenancy import Tenant, TenantStatus

# The caller of the current request, for code that is not handed the request (the public tenant entry).
_caller: ContextVar[Principal] = ContextVar("xinfang_caller", default=ANONYMOUS)
_BODY_METHODS = {"POST", "PUT", "PATCH"}
KEY_HEADER = "x-api-key"
MEDIA = {
    "json": ("application/json", "application/merge-patch+json"),
    "form": ("application/x-www-form-urlencoded",),
    "multipart": ("multipart/form-data",),
    "any": (),
}


class RateLimiter:
    """Fixed one-minute windows per key, in process memory (each API replica limits on its own)."""

    def __init__(self) -> None:
        self._windows: dict[str, tuple[int, int]] = {}

    def hit(self, key: str, limit: int) -> int | None:
        """Count a request; returns seconds to wait when over ``limit``, else None."""
        now = utcnow().timestamp()
        window = int(now // 60)
        start, count = self._windows.get(key, (window, 0))
        if start != window:
            start, count = window, 0
        if len(self._windows) > 100_000:
            self._windows.clear()
        self._windows[key] = (start, count + 1)
        if count + 1 > limit:
            return max(1, int((start + 1) * 60 - now) + 1)
        return None


class Authenticator:
    """Turns credentials into a Principal, checking that the tenant behind them is active."""

    def __init__(self, db: Database, tokens: Tokens, settings: Settings) -> None:
        self.db = db
        self.tokens = tokens
        self.tenants = TTLCache(settings.tenant_cache_seconds)
        self.keys = TTLCache(settings.tenant_cache_seconds)
        self.access = TTLCache(settings.tenant_cache_seconds)
        # (tenant id, account id) -> SessionState or "gone"; bounded by the same period as tenant status.
        self.sessions = TTLCache(settings.tenant_cache_seconds)

    async def tenant_status(self, tenant_id: uuid.UUID) -> str | None:
        status = self.tenants.get(tenant_id)
        if status is None:
            async with self.db.sessionmaker() as session:
                status = await session.scalar(
                    Tenant.__table__.select().with_only_columns(Tenant.status).where(Tenant.id == tenant_id)
                )
            self.tenants.put(tenant_id, status or "missing")
        return None if status == "missing" else status

    async def authenticate(self, credential: str) -> Principal:
        version = 0  # an access token's session version (keys and platform tokens have none)
        if credential.startswith("xfk_"):
            principal = await self._api_key(credential)
        elif credential.startswith("xfp_"):
            principal = await self._platform_token(credential)
        else:
            principal, version = self._access_token(credential)
        await self._check_tenant(principal)
        if principal.kind in ("account", "platform_account"):
            principal = await self._session(principal, version)
        return principal

    async def authenticate_session(self, raw: str) -> Principal:
        """A browser session (the console's cookie carries a refresh token) as a Principal, held to the same
        per-account session version as an access token: signing out, a role change, deactivation and a password
        change end it the same way."""
        principal, version = self.tokens.verify(raw, typ="refresh")
        await self._check_tenant(principal)
        return await self._session(principal, version)

    async def _check_tenant(self, principal: Principal) -> None:
        if principal.tenant_id is not None:
            status = await self.tenant_status(principal.tenant_id)
            if status is None:
                raise Unauthorized("unknown university", code="invalid-token")
            if status == TenantStatus.suspended:
                raise TenantSuspended("this university's account is suspended")

    def _access_token(self, raw: str) -> tuple[Principal, int]:
        # A mobile client sends the same token for minutes: checking its signature and claims once per process
        # (until it expires, at most the cache period) takes the HMAC and JSON decoding off every request.
        if (cached := self.access.get(raw)) is not None:
            return cached
        principal, version, expires = self.tokens.verify_with_expiry(raw, typ="access")
        self.access.put(raw, (principal, version), ttl=expires - utcnow().timestamp())
        return principal, version

    async def _session(self, principal: Principal, version: int) -> Principal:
        """The principal if its account's session is still the token's, else ``Unauthorized``."""
        key = (principal.tenant_id, principal.subject_id)
        state = self.sessions.get(key)
        # A token newer than the cached session was issued since (a password change on another replica, say):
        # the cache is stale, not the token.
        if state is None or (state != "gone" and version > state.token_version):
            if principal.tenant_id is not None:
                async with self.db.transaction(principal.tenant_id) as session:
                    state = await identity.session_state(session, principal)
            else:
                async with self.db.sessionmaker() as session:
                    state = await identity.session_state(session, principal)
            state = state or "gone"
            self.sessions.put(key, state)
        if state == "gone" or state.token_version != version:
            raise Unauthorized(
                "this session has ended (signed out, changed or deactivated); sign in again", code="token-revoked"
            )
        if state.must_change_password:
            return msgspec.structs.replace(principal, must_change_password=True)
        return principal

    async def _api_key(self, raw: str) -> Principal:
        cache_key = hashlib.sha256(raw.encode()).digest()
        if (cached := self.keys.get(cache_key)) is not None:
            return cached
        parsed = identity.parse_api_key(raw)
        if parsed is None:
            raise Unauthorized("invalid API key", code="invalid-token")
        tenant_id, key_id, secret = parsed
        async with self.db.transaction(tenant_id) as session:
            principal = await identity.resolve_api_key(session, key_id, secret)
        if principal is None:
            raise Unauthorized("invalid API key", code="invalid-token")
        self.keys.put(cache_key, principal)
        return principal

    async def _platform_token(self, raw: str) -> Principal:
        cache_key = hashlib.sha256(raw.encode()).digest()
        if (cached := self.keys.get(cache_key)) is not None:
            return cached
        parsed = identity.parse_platform_token(raw)
        if parsed is None:
            raise Unauthorized("invalid platform token", code="invalid-token")
        async with self.db.sessionmaker() as session:
            principal = await identity.resolve_platform_token(session, *parsed)
        if principal is None:
            raise Unauthorized("invalid platform token", code="invalid-token")
        self.keys.put(cache_key, principal)
        return principal


def credential_of(headers: dict[str, str]) -> str | None:
    auth = headers.get("authorization", "")
    # Present but empty counts: an empty Authorization header is a credential that fails, never none at all.
    if "x-api-key" in headers and "authorization" in headers:
        # Found by fuzzing: a bad bearer token beside a good key was silently ignored. Two credentials are
        # refused, never one of them picked.
        raise Unauthorized("send one credential: an API key or an Authorization header", code="ambiguous-credentials")
    if key := headers.get("x-api-key"):
        return key.strip()
    scheme, _, value = auth.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    if "authorization" in headers:
        raise Unauthorized("unsupported Authorization scheme; use Bearer", code="invalid-token")
    return None


class RequestContextMiddleware(ASGIMiddleware):
    """Request id, authentication, tenant context, media-type check, rate limits and the access log."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        assert scope["type"] == ScopeType.HTTP  # see ``scopes``
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        request_id = headers.get("x-request-id", "")
        if not REQUEST_ID_PATTERN.match(request_id):
            request_id = uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request_id)
        set_tenant(None)
        _caller.set(ANONYMOUS)
        status_holder = {"status": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            try:
                app_state = scope["litestar_app"].state
                handler: BaseRouteHandler = scope["route_handler"]
                self._check_media(scope, headers, handler)
                credential = credential_of(headers)
                principal = ANONYMOUS
                if credential:
                    principal = await app_state.authenticator.authenticate(credential)
                scope["user"] = principal
                # The security scheme the credential came by (a route's guard holds it to the route's schemes).
                scope["auth"] = (KEY_HEADER if "x-api-key" in headers else "bearer") if credential else None
                _caller.set(principal)
                set_tenant(principal.tenant_id)
                if principal.tenant_id:
                    structlog.contextvars.bind_contextvars(tenant_id=str(principal.tenant_id))
                if principal.must_change_password and not handler.opt.get("password_change_allowed"):
                    raise Forbidden(
                        "change the password you were given first: POST /api/v1/auth/password",
                        code="password-change-required",
                    )
                self._rate_limit(app_state, scope, principal)
            except Exception as exc:
                await self._refuse(scope, receive, send_wrapper, exc)
                return
            await next_app(scope, receive, send_wrapper)
        finally:
            # An in-process caller (tests' ASGI transport) shares this task's context: leave none behind.
            set_tenant(None)
            _caller.set(ANONYMOUS)
            elapsed, route = time.perf_counter() - started, scope.get("path_template", "unmatched")
            metrics.observe(scope["method"], route, status_holder["status"], elapsed)
            access_log().info(
                "request",
                method=scope["method"],
                route=route,
                status=status_holder["status"],
                ms=round(elapsed * 1000, 1),
            )

    @staticmethod
    async def _refuse(scope: Scope, receive: Receive, send: Send, exc: Exception) -> None:
        """Answer a refusal raised before the route ran with the app's own problem handlers, through ``send``
        (which adds the request id and records the status for the access log)."""
        # The app's own handlers (the console answers pages on its paths), else the problem handlers.
        handlers = getattr(scope.get("litestar_app"), "exception_handlers", None) or EXCEPTION_HANDLERS
        handler = next((handlers[c] for c in type(exc).__mro__ if c in handlers), None)
        if handler is None:  # pragma: no cover  (Exception is always mapped)
            raise exc
        request: Request[Any, Any, Any] = Request(scope, receive)
        response = handler(request, exc)
        await response.to_asgi_response(app=None, request=request)(scope, receive, send)

    @staticmethod
    def _check_media(scope: HTTPScope, headers: dict[str, str], handler: BaseRouteHandler) -> None:
        if scope["method"] not in _BODY_METHODS:
            return
        has_body = headers.get("content-length", "0") != "0" or "transfer-encoding" in headers
        allowed = MEDIA[handler.opt.get("media", "json")]
        if not has_body or not allowed:
            return
        media_type = headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type not in allowed:
            from litestar.exceptions import HTTPException

            raise HTTPException(status_code=415, detail=f"expected {' or '.join(allowed)}")

    @staticmethod
    def _rate_limit(app_state: Any, scope: Scope, principal: Principal) -> None:
        settings: Settings = app_state.settings
        limiter: RateLimiter = app_state.rate_limiter
        client = str(principal.subject_id) if principal.subject_id else (scope.get("client") or ("?",))[0]
        wait = limiter.hit(f"c:{client}", settings.rate_limit_client_per_minute)
        if wait is None and principal.tenant_id:
            wait = limiter.hit(f"t:{principal.tenant_id}", settings.rate_limit_tenant_per_minute)
        if wait is not None:
            raise RateLimited("rate limit exceeded; retry later", retry_after=wait)


# --- guards -----------------------------------------------------------------------------------------------------

Guard = Callable[[ASGIConnection[Any, Any, Any, Any], BaseRouteHandler], None]


def adopt(scope: Scope, principal: Principal) -> None:
    """Make ``principal`` the caller of this request (the console, authenticated by its session cookie rather
    than a header): the guards, the request's transaction and the logs then see it as the API's callers."""
    scope["user"] = principal
    scope["auth"] = "session"
    _caller.set(principal)
    set_tenant(principal.tenant_id)
    if principal.tenant_id:
        structlog.contextvars.bind_contextvars(tenant_id=str(principal.tenant_id))


def principal_of(connection: ASGIConnection[Any, Any, Any, Any]) -> Principal:
    return connection.scope.get("user") or ANONYMOUS


def caller() -> Principal:
    """The caller of the current request (anonymous outside one)."""
    return _caller.get()


def refuse_foreign(tenant_id: uuid.UUID) -> None:
    """A route of one university (``/t/{slug}/...``, Open311's jurisdiction) takes no credentials, or that
    university's: another university's token or key, or a platform one, is refused (401), never used."""
    principal = caller()
    if not principal.is_anonymous and principal.tenant_id != tenant_id:
        raise Unauthorized(
            "these credentials belong to another university or to the platform; send none, or this university's",
            code="foreign-credentials",
        )


def requires(*roles: Role, scopes: tuple[str, ...] = ()) -> dict[str, Any]:
    """Route keyword arguments declaring who may call: any of ``roles``, or an API key with all ``scopes``;
    with neither, any authenticated caller.

    Use as ``@get("/path", **requires(Role.tenant_admin))``; the OpenAPI document shows the security.
    """

    takes_key_header = bool(scopes) or not roles  # the route's schemes include apiKey (see ``security`` below)

    # Async on purpose: Litestar runs a sync guard in a worker thread, a thread hop on every request.
    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        principal = principal_of(connection)
        if principal.is_anonymous:
            raise Unauthorized("authentication required")
        if connection.scope.get("auth") == KEY_HEADER and not takes_key_header:
            # The route's only scheme is a bearer token: a key in X-API-Key is not a credential it takes (as the
            # OpenAPI document says), so the caller is not authenticated here. A key sent as a bearer token is,
            # and is then refused for its role (403).
            raise Unauthorized(
                "this route takes an Authorization: Bearer token, not X-API-Key", code="scheme-not-accepted"
            )
        if not roles and not scopes:
            return
        if principal.role is not None and principal.role in roles:
            return
        if principal.kind == "api_key" and scopes and set(scopes) <= principal.scopes:
            return
        raise Forbidden("your role does not allow this action")

    security: list[dict[str, list[str]]] = []
    if roles or not scopes:
        security.append({"bearer": []})
    if scopes or not roles:
        security.append({"apiKey": []})
    return {"guards": [guard], "security": security}
