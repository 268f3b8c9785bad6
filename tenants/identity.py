"""Identity: accounts and roles, password hashing (argon2id), JWT access/refresh tokens, API keys.

Tenant accounts and integrator API keys are tenant-owned rows. Platform admins and bureau viewers are global
(a bureau viewer belongs to a province, not to a university). API keys and platform tokens carry the id needed
to find them (and, for tenant keys, the tenant) in clear, and a random secret stored only as a SHA-256 digest:
the secret has 256 bits of entropy, so a slow hash adds nothing.
"""

from __future__ import annotations

import asyncio
import enum
import hashlib
import hmac
import secrets
import uuid
from datetime import datetime
from typing import Any, Literal, TypeVar

import jwt
import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import ARRAY, CheckConstraint, ForeignKey, ForeignKeyConstraint, Index, String, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants import journal
from tenants.clock import utcnow
from tenants.crypto import EncryptedText
from tenants.db import Base, TenantOwned, require_tenant
from tenants.errors import Conflict, Invalid, NotFound, Unauthorized
from tenants.ids import new_id


class Role(enum.StrEnum):
    platform_admin = "platform_admin"
    tenant_admin = "tenant_admin"
    staff = "staff"
    # Holds the petition-office role: may reveal the sealed identity of an accuser (journaled).
    petition_officer = "petition_officer"
    petitioner = "petitioner"
    bureau_viewer = "bureau_viewer"


TENANT_ROLES = frozenset({Role.tenant_admin, Role.staff, Role.petition_officer, Role.petitioner})
PLATFORM_ROLES = frozenset({Role.platform_admin, Role.bureau_viewer})

# Scopes an integrator API key may carry. Later domains add theirs here, in one place.
SCOPES: dict[str, str] = {
    "events:read": "read the journal of domain events",
    "webhooks:manage": "manage webhook subscriptions",
    "petitions:read": "read petitions (never sealed identities)",
    "petitions:write": "submit petitions on behalf of an integrated channel",
    "open311": "the Open311 GeoReport v2 endpoint",
    "reports:read": "read evaluation reports",
    "org:read": "read the organization chart's units and emergency groups (not the people list)",
    "materials:read": "read the materials inventory and its ledger",
    "plans:read": "read the emergency plan, its readiness and training compliance",
}


class Account(TenantOwned, Base):
    __tablename__ = "accounts"

    email: Mapped[str] = mapped_column(String(254), nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    display_name: Mapped[str | None] = mapped_column(EncryptedText)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    token_version: Mapped[int] = mapped_column(default=1, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("uq_accounts_tenant_email", "tenant_id", "email", unique=True),
        CheckConstraint("role in ('tenant_admin', 'staff', 'petition_officer', 'petitioner')", name="role"),
    )


class ApiKey(TenantOwned, Base):
    __tablename__ = "api_keys"

    name: Mapped[str] = mapped_column(String(120), nullable=False)
    scopes: Mapped[list[str]] = mapped_column(ARRAY(String(40)), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_by: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None]

    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)


class PlatformAccount(Base):
    """Platform admins and bureau viewers: global rows."""

    __tablename__ = "platform_accounts"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True, nullable=False)
    password_hash: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(32), nullable=False)
    province_code: Mapped[str | None] = mapped_column(String(6))
    display_name: Mapped[str | None] = mapped_column(EncryptedText)
    active: Mapped[bool] = mapped_column(default=True, nullable=False)
    token_version: Mapped[int] = mapped_column(default=1, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        CheckConstraint("role in ('platform_admin', 'bureau_viewer')", name="role"),
        CheckConstraint("role <> 'bureau_viewer' or province_code is not null", name="bureau_province"),
    )


class PlatformToken(Base):
    __tablename__ = "platform_tokens"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)
    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("platform_accounts.id"), nullable=False)
    name: Mapped[str] = mapped_column(String(120), nullable=False)
    secret_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    revoked_at: Mapped[datetime | None]


# --- who is calling ---------------------------------------------------------------------------------------------


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller of one request."""

    kind: Literal["account", "platform_account", "api_key", "platform_token", "anonymous"]
    role: Role | None = None
    subject_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None
    province_code: str | None = None
    scopes: frozenset[str] = frozenset()

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"


ANONYMOUS = Principal(kind="anonymous")


# --- passwords --------------------------------------------------------------------------------------------------

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# argon2 is deliberately slow (tenths of a second): never run it on the event loop, where it would stall
# every other request of the process. argon2-cffi releases the GIL, so a thread runs it in parallel.
async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(_hasher.hash, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


# A hash to verify against when the account does not exist, so timing does not reveal which emails exist.
_DUMMY_HASH = _hasher.hash("not-a-real-password")


def generate_password() -> str:
    return secrets.token_urlsafe(18)


def check_password_strength(password: str) -> None:
    if len(password) < 12:
        raise Invalid("password too short", errors=[{"field": "password", "message": "at least 12 characters"}])


# --- JWT --------------------------------------------------------------------------------------------------------


class TokenPair(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int


class Tokens:
    """Issues and verifies HS256 JWTs with the platform secret."""

    def __init__(self, secret: str, *, access_ttl: int, refresh_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def _encode(self, claims: dict[str, Any], ttl: int) -> str:
        now = int(utcnow().timestamp())
        return jwt.encode({**claims, "iat": now, "exp": now + ttl, "jti": secrets.token_hex(8)}, self._secret)

    def issue(self, principal: Principal, version: int) -> TokenPair:
        claims: dict[str, Any] = {
            "sub": str(principal.subject_id),
            "role": str(principal.role),
            "ver": version,
        }
        if principal.tenant_id:
            claims["tid"] = str(principal.tenant_id)
        if principal.province_code:
            claims["prov"] = principal.province_code
        return TokenPair(
            access_token=self._encode({**claims, "typ": "access"}, self.access_ttl),
            refresh_token=self._encode({**claims, "typ": "refresh"}, self.refresh_ttl),
            token_type="Bearer",
            expires_in=self.access_ttl,
        )

    def verify(self, token: str, *, typ: Literal["access", "refresh"]) -> tuple[Principal, int]:
        """The principal and token version of a valid token, or ``Unauthorized``."""
        principal, version, _ = self.verify_with_expiry(token, typ=typ)
        return principal, version

    def verify_with_expiry(self, token: str, *, typ: Literal["access", "refresh"]) -> tuple[Principal, int, int]:
        """``verify``, plus the token's expiry (seconds since the epoch) for callers that cache the result."""
        try:
            claims = jwt.decode(
                token, self._secret, algorithms=["HS256"], options={"require": ["exp", "iat", "sub", "typ"]}
            )
        except jwt.ExpiredSignatureError:
            raise Unauthorized("token expired", code="token-expired") from None
        except jwt.PyJWTError:
            raise Unauthorized("invalid token", code="invalid-token") from None
        if claims.get("typ") != typ:
            raise Unauthorized(f"not an {typ} token", code="invalid-token")
        try:
            role = Role(claims["role"])
            tenant_id = uuid.UUID(claims["tid"]) if "tid" in claims else None
            principal = Principal(
                kind="account" if tenant_id else "platform_account",
                role=role,
                subject_id=uuid.UUID(claims["sub"]),
                tenant_id=tenant_id,
                province_code=claims.get("prov"),
            )
        except (KeyError, ValueError):
            raise Unauthorized("invalid token", code="invalid-token") from None
        return principal, int(claims.get("ver", 0)), int(claims["exp"])


# --- accounts ---------------------------------------------------------------------------------------------------


def normalize_email(email: str) -> str:
    email = email.strip().lower()
    local, _, domain = email.partition("@")
    if not local or "." not in domain or " " in email or len(email) > 254:
        raise Invalid("invalid email", errors=[{"field": "email", "message": "not an email address"}])
    return email


async def create_account(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str | None,
    actor_id: uuid.UUID | None,
) -> Account:
    if role not in TENANT_ROLES:
        raise Invalid("not a university role", errors=[{"field": "role", "message": f"one of {sorted(TENANT_ROLES)}"}])
    email = normalize_email(email)
    if await session.scalar(select(Account.id).where(Account.email == email)):
        raise Conflict("an account with this email exists in this university", code="email-taken")
    account = Account(
        email=email, password_hash=await hash_password_async(password), role=role, display_name=display_name
    )
    session.add(account)
    await session.flush()
    await journal.record(session, "account.created", actor_id=actor_id, subject_id=account.id, role=str(role))
    return account


async def get_account(session: AsyncSession, account_id: uuid.UUID) -> Account:
    account = await session.scalar(select(Account).where(Account.id == account_id))
    if account is None:
        raise NotFound("no such account")
    return account


async def update_account(
    session: AsyncSession,
    account_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None,
    role: Role | None = None,
    active: bool | None = None,
    display_name: str | None = None,
) -> Account:
    """Change role, activity or name; deactivation ends every session of the account."""
    account = await get_account(session, account_id)
    changed = []
    if role is not None and role != account.role:
        if role not in TENANT_ROLES:
            raise Invalid(
                "not a university role",
                errors=[{"field": "role", "message": f"one of {sorted(TENANT_ROLES)}"}],
            )
        account.role = role
        account.token_version += 1  # tokens carry the role: make the old ones stale
        changed.append("role")
    if active is not None and active != account.active:
        account.active = active
        account.token_version += 1
        changed.append("active")
    if display_name is not None:
        account.display_name = display_name
        changed.append("display_name")
    if changed:
        await journal.record(session, "account.updated", actor_id=actor_id, subject_id=account.id, changed=changed)
    return account


_A = TypeVar("_A", Account, PlatformAccount)


async def _authenticate(session: AsyncSession, model: type[_A], email: str, password: str) -> _A:
    account = await session.scalar(select(model).where(model.email == email.strip().lower()))
    # Verify even when there is no such account, so timing does not tell which emails exist.
    valid = await verify_password_async(account.password_hash if account else _DUMMY_HASH, password)
    if account is None or not valid or not account.active:
        raise Unauthorized("wrong email or password", code="bad-credentials")
    return account


async def authenticate(session: AsyncSession, email: str, password: str) -> Account:
    """The active account of the current tenant with this email and password, or ``Unauthorized``."""
    return await _authenticate(session, Account, email, password)


async def authenticate_platform(session: AsyncSession, email: str, password: str) -> PlatformAccount:
    """The active platform account (admin or bureau viewer) with this email and password, or ``Unauthorized``."""
    return await _authenticate(session, PlatformAccount, email, password)


def account_principal(account: Account) -> Principal:
    return Principal(kind="account", role=Role(account.role), subject_id=account.id, tenant_id=account.tenant_id)


def platform_principal(account: PlatformAccount) -> Principal:
    return Principal(
        kind="platform_account",
        role=Role(account.role),
        subject_id=account.id,
        province_code=account.province_code,
    )


async def current_version(session: AsyncSession, principal: Principal) -> int | None:
    """The token version of an active account behind ``principal``; None if it is gone or deactivated."""
    model = Account if principal.kind == "account" else PlatformAccount
    row = (
        await session.execute(select(model.token_version, model.active).where(model.id == principal.subject_id))
    ).first()
    if row is None or not row.active:
        return None
    return int(row.token_version)


async def revoke_sessions(session: AsyncSession, principal: Principal) -> None:
    """Invalidate every refresh token of the account (logout everywhere)."""
    model = Account if principal.kind == "account" else PlatformAccount
    obj = await session.get(
        model, (principal.tenant_id, principal.subject_id) if model is Account else principal.subject_id
    )
    if obj is not None:
        obj.token_version += 1
        if model is Account:
            await journal.record(session, "account.sessions_revoked", actor_id=obj.id, subject_id=obj.id)


async def create_platform_account(
    session: AsyncSession, *, email: str, password: str, role: Role, province_code: str | None = None
) -> PlatformAccount:
    if role not in PLATFORM_ROLES:
        raise Invalid("not a platform role", errors=[{"field": "role", "message": f"one of {sorted(PLATFORM_ROLES)}"}])
    email = normalize_email(email)
    if await session.scalar(select(PlatformAccount.id).where(PlatformAccount.email == email)):
        raise Conflict("a platform account with this email exists", code="email-taken")
    account = PlatformAccount(
        email=email,
        password_hash=await hash_password_async(password),
        role=role,
        province_code=province_code if role is Role.bureau_viewer else None,
    )
    session.add(account)
    await session.flush()
    return account


# --- API keys and platform tokens -------------------------------------------------------------------------------


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _matches(stored: str, secret: str) -> bool:
    return hmac.compare_digest(stored, _digest(secret))


def parse_api_key(raw: str) -> tuple[uuid.UUID, uuid.UUID, str] | None:
    """``xfk_<tenant hex><key hex>_<secret>`` → (tenant id, key id, secret), or None if malformed."""
    prefix, _, rest = raw.partition("_")
    ids, _, secret = rest.partition("_")
    if prefix != "xfk" or len(ids) != 64 or not secret:
        return None
    try:
        return uuid.UUID(hex=ids[:32]), uuid.UUID(hex=ids[32:]), secret
    except ValueError:
        return None


def parse_platform_token(raw: str) -> tuple[uuid.UUID, str] | None:
    prefix, _, rest = raw.partition("_")
    token_id, _, secret = rest.partition("_")
    if prefix != "xfp" or len(token_id) != 32 or not secret:
        return None
    try:
        return uuid.UUID(hex=token_id), secret
    except ValueError:
        return None


async def create_api_key(
    session: AsyncSession, *, name: str, scopes: list[str], actor_id: uuid.UUID | None
) -> tuple[ApiKey, str]:
    """Create an integrator key; returns it and the full secret (shown once)."""
    unknown = sorted(set(scopes) - SCOPES.keys())
    if unknown or not scopes:
        raise Invalid(
            "unknown scopes" if unknown else "at least one scope is required",
            errors=[{"field": "scopes", "message": f"known scopes: {sorted(SCOPES)}", "unknown": unknown}],
        )
    secret = secrets.token_urlsafe(32)
    key = ApiKey(name=name, scopes=sorted(set(scopes)), secret_hash=_digest(secret), created_by=actor_id)
    session.add(key)
    await session.flush()
    await journal.record(session, "api_key.created", actor_id=actor_id, subject_id=key.id, scopes=key.scopes)
    return key, f"xfk_{require_tenant().hex}{key.id.hex}_{secret}"


async def revoke_api_key(session: AsyncSession, key_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> ApiKey:
    key = await session.scalar(select(ApiKey).where(ApiKey.id == key_id))
    if key is None:
        raise NotFound("no such API key")
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        await journal.record(session, "api_key.revoked", actor_id=actor_id, subject_id=key.id)
    return key


async def resolve_api_key(session: AsyncSession, key_id: uuid.UUID, secret: str) -> Principal | None:
    """The principal of a live key (the session must be in the key's tenant context)."""
    key = await session.scalar(select(ApiKey).where(ApiKey.id == key_id, ApiKey.revoked_at.is_(None)))
    if key is None or not _matches(key.secret_hash, secret):
        return None
    return Principal(kind="api_key", subject_id=key.id, tenant_id=key.tenant_id, scopes=frozenset(key.scopes))


async def create_platform_token(session: AsyncSession, account: PlatformAccount, name: str) -> str:
    secret = secrets.token_urlsafe(32)
    token = PlatformToken(account_id=account.id, name=name, secret_hash=_digest(secret))
    session.add(token)
    await session.flush()
    return f"xfp_{token.id.hex}_{secret}"


async def resolve_platform_token(session: AsyncSession, token_id: uuid.UUID, secret: str) -> Principal | None:
    row = (
        await session.execute(
            select(PlatformToken.secret_hash, PlatformAccount)
            .join(PlatformAccount, PlatformAccount.id == PlatformToken.account_id)
            .where(PlatformToken.id == token_id, PlatformToken.revoked_at.is_(None), PlatformAccount.active)
        )
    ).first()
    if row is None or not _matches(row[0], secret):
        return None
    principal = platform_principal(row[1])
    return msgspec.structs.replace(principal, kind="platform_token")


async def count_accounts(session: AsyncSession) -> int:
    return int(await session.scalar(select(func.count()).select_from(Account)) or 0)
