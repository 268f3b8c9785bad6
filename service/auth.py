"""Sign-in: password login for university and platform accounts, token refresh, logout, who-am-I."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.datastructures import State
from litestar.params import JSONBody

from service.deps import Caller, Input, Session
from service.security import requires
from tenants import identity, tenancy
from tenants.db import tenant_context
from tenants.errors import TenantSuspended, Unauthorized
from tenants.identity import Role, TokenPair

ALL_ROLES = tuple(Role)


class Login(Input):
    email: Annotated[str, msgspec.Meta(max_length=254)]
    password: Annotated[str, msgspec.Meta(max_length=200)]
    # The university's slug; omit it to sign in as a platform admin or bureau viewer.
    tenant: Annotated[str, msgspec.Meta(max_length=63)] | None = None


class Refresh(Input):
    refresh_token: Annotated[str, msgspec.Meta(max_length=4096)]


class Me(msgspec.Struct):
    kind: str
    role: str | None
    subject_id: str | None
    tenant_id: str | None
    province_code: str | None
    scopes: list[str]


class AuthController(Controller):
    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", summary="Sign in with email and password", status_code=200)
    async def login(self, data: JSONBody[Login], state: State) -> TokenPair:
        tokens: identity.Tokens = state.tokens
        if data.tenant is None:
            async with state.db.transaction() as session:
                account = await identity.authenticate_platform(session, data.email, data.password)
                return tokens.issue(identity.platform_principal(account), account.token_version)
        async with state.db.sessionmaker() as lookup:
            tenant = await tenancy.get_tenant_by_slug(lookup, data.tenant)
        if tenant.status == tenancy.TenantStatus.suspended:
            raise TenantSuspended("this university's account is suspended")
        async with state.db.transaction(tenant.id) as session:
            tenant_account = await identity.authenticate(session, data.email, data.password)
            return tokens.issue(identity.account_principal(tenant_account), tenant_account.token_version)

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
                current = await identity.current_version(session, principal)
        if current is None or current != version:
            raise Unauthorized("refresh token revoked", code="token-revoked")
        return tokens.issue(principal, version)

    @post("/logout", summary="Revoke every refresh token of the caller", status_code=204, **requires(*ALL_ROLES))
    async def logout(self, db_session: Session, principal: Caller) -> None:
        await identity.revoke_sessions(db_session, principal)

    @get("/me", summary="The authenticated caller", **requires())
    async def me(self, principal: Caller) -> Me:
        return Me(
            kind=principal.kind,
            role=str(principal.role) if principal.role else None,
            subject_id=str(principal.subject_id) if principal.subject_id else None,
            tenant_id=str(principal.tenant_id) if principal.tenant_id else None,
            province_code=principal.province_code,
            scopes=sorted(principal.scopes),
        )
