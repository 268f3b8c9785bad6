"""Sign-in: password login for university and platform accounts, token refresh, logout, password change,
who-am-I.

Every wrong sign-in gets the same answer, whether the university, the email or the password was wrong, and
failures are throttled per account and per client address in the database (429 with ``Retry-After``, a back-off
that doubles; ``XINFANG_SIGN_IN_*``).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import JSONBody
from sqlalchemy.ext.asyncio import AsyncSession

from service.http.deps import Caller, Input, Session
from service.http.security import requires
from tenants import identity, tenancy
from tenants.db import tenant_context
from tenants.errors import RateLimited, TenantSuspended, Unauthorized
from tenants.identity import Principal, Role, TokenPair
from tenants.settings import Settings

ALL_ROLES = tuple(Role)
# Open to an account whose issued password has not been changed yet.
PENDING_OK = {"password_change_allowed": True}


class Login(Input):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=200)]
    # The university's slug; omit it to sign in as a platform admin or bureau viewer.
    tenant: Annotated[str, msgspec.Meta(max_length=63)] | None = None


class Refresh(Input):
    refresh_token: Annotated[str, msgspec.Meta(max_length=4096)]


class PasswordChange(Input):
    current_password: Annotated[str, msgspec.Meta(max_length=200)]
    new_password: Annotated[str, msgspec.Meta(max_length=200)]


class Me(msgspec.Struct):
    kind: str
    role: str | None
    subject_id: str | None
    tenant_id: str | None
    province_code: str | None
    scopes: list[str]
    password_change_required: bool = False


def _bad_credentials() -> Unauthorized:
    return Unauthorized(identity.BAD_CREDENTIALS, code="bad-credentials")


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", summary="Sign in with email and password", status_code=200)
    async def login(self, data: JSONBody[Login], state: State, request: Request[Any, Any, Any]) -> TokenPair:
        return await sign_in(state, data, client_of(request))

    @post("/refresh", summary="Exchange a refresh token for a new token pair", status_code=200)
    async def refresh(self, data: JSONBody[Refresh], state: State) -> TokenPair:
        tokens: identity.Tokens = state.tokens
        principal, version = tokens.verify(data.refresh_token, typ="refresh")
        if principal.tenant_id is not None:
            status = await state.authenticator.tenant_status(principal.tenant_id)
            if status == tenancy.TenantStatus.suspended:
                raise TenantSuspended("this university's account is suspended")
        with tenant_context(principal.tenant_id):
            async with state.db.transaction() as session:
                current = await identity.session_state(session, principal)
        if current is None or current.token_version != version:
            raise Unauthorized("refresh token revoked", code="token-revoked")
        return tokens.issue(principal, version, password_change_required=current.must_change_password)

    @post(
        "/logout",
        summary="Sign out everywhere: every access and refresh token of the caller ends",
        status_code=204,
        opt=PENDING_OK,
        **requires(*ALL_ROLES),
    )
    async def logout(self, db_session: Session, principal: Caller) -> None:
        await identity.revoke_sessions(db_session, principal)

    @post(
        "/password",
        summary="Change your own password (required first when an admin issued it); returns new tokens",
        status_code=200,
        opt=PENDING_OK,
        **requires(*ALL_ROLES),
    )
    async def change_password(
        self,
        data: JSONBody[PasswordChange],
        db_session: Session,
        principal: Caller,
        state: State,
        request: Request[Any, Any, Any],
    ) -> TokenPair:
        return await change_own_password(state, db_session, principal, data, client_of(request))

    @get("/me", summary="The authenticated caller", opt=PENDING_OK, **requires())
    async def me(self, principal: Caller) -> Me:
        return _me(principal)


def client_of(request: Request[Any, Any, Any]) -> str:
    return (request.client.host if request.client else "?") or "?"


async def sign_in(state: State, data: Login, client: str) -> TokenPair:
    """Sign in, throttled per account and per client address (the API's login and the console's).

    Every wrong university, email or password is the same ``Unauthorized``; too many failures ``RateLimited``."""
    settings: Settings = state.settings
    keys = identity.throttle_keys(data.tenant, data.email, client)
    async with state.db.transaction() as session:
        wait = await identity.sign_in_wait(session, keys)
    if wait is not None:
        raise RateLimited(
            "too many failed sign-ins; wait before trying again", retry_after=wait, code="sign-in-throttled"
        )
    try:
        pair = await _authenticate(state, data)
    except Unauthorized:
        async with state.db.transaction() as session:
            await identity.record_sign_in_failure(session, keys, settings)
        raise
    async with state.db.transaction() as session:
        await identity.clear_sign_in_failures(session, keys[0])
    return pair


async def _authenticate(state: State, data: Login) -> TokenPair:
    tokens: identity.Tokens = state.tokens
    if data.tenant is None:
        async with state.db.transaction() as session:
            platform_account = await identity.authenticate_platform(session, data.email, data.password)
            return tokens.issue(
                identity.platform_principal(platform_account),
                platform_account.token_version,
                password_change_required=platform_account.must_change_password,
            )
    async with state.db.sessionmaker() as lookup:
        tenant = await tenancy.find_tenant_by_slug(lookup, data.tenant)
    if tenant is None:
        # Spend the time a real check takes, and answer as for a wrong password: slugs are not enumerable.
        await identity.verify_password_async(identity.dummy_hash(), data.password)
        raise _bad_credentials()
    async with state.db.transaction(tenant.id) as session:
        account = await identity.authenticate(session, data.email, data.password)
        # Only someone who knows the password learns that the university is suspended.
        if tenant.status == tenancy.TenantStatus.suspended:
            raise TenantSuspended("this university's account is suspended")
        return tokens.issue(
            identity.account_principal(account),
            account.token_version,
            password_change_required=account.must_change_password,
        )


async def change_own_password(
    state: State, db_session: AsyncSession, principal: Principal, data: PasswordChange, client: str
) -> TokenPair:
    """Change the caller's own password; every other session of the account ends (its version moves on), and
    the new tokens carry the new version. Guessing the current password with a stolen session is throttled like
    signing in."""
    keys = identity.throttle_keys(f"account:{principal.subject_id}", "", client)
    async with state.db.transaction() as session:
        wait = await identity.sign_in_wait(session, keys)
    if wait is not None:
        raise RateLimited(
            "too many wrong passwords; wait before trying again", retry_after=wait, code="sign-in-throttled"
        )
    try:
        account = await identity.change_password(
            db_session, principal, current_password=data.current_password, new_password=data.new_password
        )
    except Unauthorized:
        async with state.db.transaction() as session:
            await identity.record_sign_in_failure(session, keys, state.settings)
        raise
    base = msgspec.structs.replace(principal, must_change_password=False)
    return state.tokens.issue(base, account.token_version)


def _me(principal: Principal) -> Me:
    return Me(
        kind=principal.kind,
        role=str(principal.role) if principal.role else None,
        subject_id=str(principal.subject_id) if principal.subject_id else None,
        tenant_id=str(principal.tenant_id) if principal.tenant_id else None,
        province_code=principal.province_code,
        scopes=sorted(principal.scopes),
        password_change_required=principal.must_change_password,
    )
