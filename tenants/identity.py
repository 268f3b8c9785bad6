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
import math
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from importlib import resources
from typing import Any, Literal, TypeVar

import jwt
import msgspec
from argon2 import Parameters, PasswordHasher, Type, profiles
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import (
    ARRAY,
    CheckConstraint,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    delete,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants import journal
from tenants.clock import utcnow
from tenants.crypto import EncryptedText
from tenants.db import Base, TenantOwned, require_tenant
from tenants.errors import Conflict, Invalid, NotFound, Unauthorized
from tenants.ids import new_id
from tenants.settings import Settings, get_settings


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
    "petitions:write": "submit petitions on behalf of the university's own app's signed-in users (POST petitions)",
    "open311": "the Open311 GeoReport v2 endpoint",
    "reports:read": "read evaluation reports",
    "org:read": "read the organization chart's units and emergency groups (members by id; names need people:read)",
    "people:read": "read people's names and titles: the people list, group members, the plan document's groups",
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
    # A password an admin issued must be replaced by its owner before anything else (see ``change_password``).
    must_change_password: Mapped[bool] = mapped_column(default=False, nullable=False)
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
    must_change_password: Mapped[bool] = mapped_column(default=False, nullable=False)
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


class SignInFailure(Base):
    """Failed sign-ins of one account or one client address (keyed by a hash; global, shared by replicas)."""

    __tablename__ = "sign_in_failures"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False)
    last_failure_at: Mapped[datetime] = mapped_column(nullable=False)
    locked_until: Mapped[datetime | None]


# --- who is calling ---------------------------------------------------------------------------------------------


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    """The authenticated caller of one request."""

    kind: Literal["account", "platform_account", "api_key", "platform_token", "anonymous"]
    role: Role | None = None
    subject_id: uuid.UUID | None = None
    tenant_id: uuid.UUID | None = None
    province_code: str | None = None
    scopes: frozenset[str] = frozenset()
    # The account signed in with a password an admin issued: only changing it, signing out and /me are open.
    must_change_password: bool = False

    @property
    def is_anonymous(self) -> bool:
        return self.kind == "anonymous"


ANONYMOUS = Principal(kind="anonymous")


# --- passwords --------------------------------------------------------------------------------------------------

_PROFILES = {
    "rfc9106-low-memory": profiles.RFC_9106_LOW_MEMORY,
    # argon2id still, at its cheapest cost (1 pass over 1 MiB): verifying and hashing behave the same.
    "test": Parameters(Type.ID, 19, salt_len=16, hash_len=32, time_cost=1, memory_cost=1024, parallelism=1),
}


@lru_cache(maxsize=1)
def _hasher() -> PasswordHasher:
    """The hasher of the configured profile. Verifying reads the cost from the hash itself, so a hash made
    under another profile still verifies."""
    return PasswordHasher.from_parameters(_PROFILES[get_settings().password_hash_profile])


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# argon2 is deliberately slow (tenths of a second): never run it on the event loop, where it would stall
# every other request of the process. argon2-cffi releases the GIL, so a thread runs it in parallel.
async def hash_password_async(password: str) -> str:
    return await asyncio.to_thread(hash_password, password)


async def verify_password_async(password_hash: str, password: str) -> bool:
    return await asyncio.to_thread(verify_password, password_hash, password)


@lru_cache(maxsize=1)
def dummy_hash() -> str:
    """A hash to verify against when the account does not exist, so timing does not reveal which emails exist."""
    return hash_password("not-a-real-password")


def generate_password() -> str:
    return secrets.token_urlsafe(18)


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    """The common passwords refused whatever their length (``tenants/data/common-passwords.txt``, lower case)."""
    text = resources.files("tenants").joinpath("data/common-passwords.txt").read_text("utf-8")
    return frozenset(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def password_problems(
    password: str, *, email: str | None = None, slug: str | None = None, current: str | None = None
) -> list[str]:
    """Every reason ``password`` is refused (empty when it is acceptable)."""
    minimum = get_settings().password_min_length
    problems = []
    if len(password) < minimum:
        problems.append(f"at least {minimum} characters")
    lowered = password.casefold()
    if lowered in common_passwords() or len(set(lowered)) <= 2:
        problems.append("too common: it is on the list of passwords attackers try first")
    # What is left once the account's own email, its local part and the university's slug are taken out must
    # still be a password: "wang.fang2024" for wang.fang@... is not.
    rest = lowered
    for own in (email, email.partition("@")[0] if email else None):
        if own and len(own) >= 3:
            rest = rest.replace(own.casefold(), "")
    if email and rest != lowered and len(rest) < 8:
        problems.append("must not be built on your email address")
    if slug and slug.casefold() in lowered and len(lowered.replace(slug.casefold(), "")) < 8:
        problems.append("must not be built on the university's name (its slug)")
    if current is not None and password == current:
        problems.append("must differ from the current password")
    return problems


def check_password(
    password: str, *, email: str | None = None, slug: str | None = None, current: str | None = None
) -> None:
    """Refuse a password that breaks the policy (422 ``weak-password`` listing every reason)."""
    if problems := password_problems(password, email=email, slug=slug, current=current):
        raise Invalid(
            "the password does not meet the policy",
            code="weak-password",
            errors=[{"field": "password", "message": m} for m in problems],
        )


def _names(roles: frozenset[Role]) -> str:
    return ", ".join(sorted(r.value for r in roles))


# --- JWT --------------------------------------------------------------------------------------------------------


class TokenPair(msgspec.Struct, frozen=True):
    access_token: str
    refresh_token: str
    token_type: str
    expires_in: int
    # The password was issued by an admin: change it (POST /api/v1/auth/password) before anything else.
    password_change_required: bool = False


class Tokens:
    """Issues and verifies HS256 JWTs with the platform secret."""

    def __init__(self, secret: str, *, access_ttl: int, refresh_ttl: int) -> None:
        self._secret = secret
        self.access_ttl = access_ttl
        self.refresh_ttl = refresh_ttl

    def _encode(self, claims: dict[str, Any], ttl: int) -> str:
        now = int(utcnow().timestamp())
        return jwt.encode({**claims, "iat": now, "exp": now + ttl, "jti": secrets.token_hex(8)}, self._secret)

    def issue(self, principal: Principal, version: int, *, password_change_required: bool = False) -> TokenPair:
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
            password_change_required=password_change_required,
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
    must_change_password: bool = True,
) -> Account:
    """Create an account of the current university. The password is issued by someone else (an admin, the
    onboarding), so by default its owner must change it at first sign-in."""
    if role not in TENANT_ROLES:
        raise Invalid("not a university role", errors=[{"field": "role", "message": f"one of {_names(TENANT_ROLES)}"}])
    email = normalize_email(email)
    check_password(password, email=email, slug=await _tenant_slug(session))
    if await session.scalar(select(Account.id).where(Account.email == email)):
        raise Conflict("an account with this email exists in this university", code="email-taken")
    account = Account(
        email=email,
        password_hash=await hash_password_async(password),
        role=role,
        display_name=display_name,
        must_change_password=must_change_password,
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
                errors=[{"field": "role", "message": f"one of {_names(TENANT_ROLES)}"}],
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
# One answer for every wrong sign-in: unknown university, unknown email, wrong password, deactivated account.
BAD_CREDENTIALS = "wrong university, email or password"


async def _authenticate(session: AsyncSession, model: type[_A], email: str, password: str) -> _A:
    account = await session.scalar(select(model).where(model.email == email.strip().lower()))
    # Verify even when there is no such account, so timing does not tell which emails exist.
    valid = await verify_password_async(account.password_hash if account else dummy_hash(), password)
    if account is None or not valid or not account.active:
        raise Unauthorized(BAD_CREDENTIALS, code="bad-credentials")
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


async def revoke_sessions(session: AsyncSession, principal: Principal) -> None:
    """Invalidate every refresh token of the account (logout everywhere)."""
    obj: Account | PlatformAccount | None
    if principal.kind == "account":
        obj = await session.get(Account, (principal.tenant_id, principal.subject_id))
    else:
        obj = await session.get(PlatformAccount, principal.subject_id)
    if obj is not None:
        obj.token_version += 1
        if isinstance(obj, Account):
            await journal.record(session, "account.sessions_revoked", actor_id=obj.id, subject_id=obj.id)


@dataclass(frozen=True, slots=True)
class SessionState:
    """What every request checks of the account behind an access token (cached per process briefly)."""

    token_version: int
    must_change_password: bool


async def session_state(session: AsyncSession, principal: Principal) -> SessionState | None:
    """The session state of the active account behind ``principal``; None if it is gone or deactivated.
    One primary-key lookup (in the tenant's context for a university account)."""
    model = Account if principal.kind == "account" else PlatformAccount
    row = (
        await session.execute(
            select(model.token_version, model.active, model.must_change_password).where(
                model.id == principal.subject_id
            )
        )
    ).first()
    if row is None or not row.active:
        return None
    return SessionState(int(row.token_version), bool(row.must_change_password))


async def _tenant_slug(session: AsyncSession) -> str | None:
    from tenants.tenancy import Tenant  # tenancy imports identity

    return await session.scalar(select(Tenant.slug).where(Tenant.id == require_tenant()))


async def _account_of(session: AsyncSession, principal: Principal) -> Account | PlatformAccount:
    account: Account | PlatformAccount | None
    if principal.kind == "account":
        account = await session.scalar(select(Account).where(Account.id == principal.subject_id))
    else:
        account = await session.scalar(select(PlatformAccount).where(PlatformAccount.id == principal.subject_id))
    if account is None or not account.active:
        raise Unauthorized("session ended; sign in again", code="token-revoked")
    return account


async def change_password(
    session: AsyncSession, principal: Principal, *, current_password: str, new_password: str
) -> Account | PlatformAccount:
    """The caller replaces their password: the current one is checked, the new one must meet the policy.
    Every other session of the account ends (the caller gets new tokens)."""
    account = await _account_of(session, principal)
    if not await verify_password_async(account.password_hash, current_password):
        raise Unauthorized("the current password is wrong", code="bad-credentials")
    slug = await _tenant_slug(session) if isinstance(account, Account) else None
    check_password(new_password, email=account.email, slug=slug, current=current_password)
    account.password_hash = await hash_password_async(new_password)
    account.must_change_password = False
    account.token_version += 1
    if isinstance(account, Account):
        await journal.record(session, "account.password_changed", actor_id=account.id, subject_id=account.id)
    return account


async def reset_password(session: AsyncSession, account_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> str:
    """An admin issues a one-time password for an account of the university: its sessions end and its owner
    must change the password at the next sign-in. Returns the password (shown once)."""
    account = await get_account(session, account_id)
    password = generate_password()
    account.password_hash = await hash_password_async(password)
    account.must_change_password = True
    account.token_version += 1
    await journal.record(session, "account.password_reset", actor_id=actor_id, subject_id=account.id)
    return password


# --- sign-in throttling -----------------------------------------------------------------------------------------


def throttle_keys(slug: str | None, email: str, client: str) -> tuple[str, str]:
    """The account key (the university's slug, known or not, and the email) and the client key, as hashes."""
    account = hashlib.sha256(f"a\0{slug or ''}\0{email.strip().lower()}".encode()).hexdigest()
    return account, hashlib.sha256(f"c\0{client}".encode()).hexdigest()


async def sign_in_wait(session: AsyncSession, keys: tuple[str, ...]) -> int | None:
    """Seconds to wait before the next sign-in attempt with these keys, or None."""
    now = utcnow()
    until = await session.scalar(
        select(func.max(SignInFailure.locked_until)).where(
            SignInFailure.key.in_(keys), SignInFailure.locked_until > now
        )
    )
    return max(1, math.ceil((until - now).total_seconds())) if until else None


async def record_sign_in_failure(session: AsyncSession, keys: tuple[str, str], settings: Settings) -> None:
    """Count a failed sign-in for the account key and the client key. From the threshold on, each failure
    locks the key for the back-off, doubled per further failure (``XINFANG_SIGN_IN_*``)."""
    now = utcnow()
    stale = now - timedelta(seconds=settings.sign_in_failure_window)
    thresholds = (settings.sign_in_account_failures, settings.sign_in_client_failures)
    # Forgotten failures go: the table holds only the accounts and addresses failing now.
    await session.execute(
        delete(SignInFailure).where(
            SignInFailure.last_failure_at < stale,
            (SignInFailure.locked_until.is_(None)) | (SignInFailure.locked_until < now),
        )
    )
    for key, threshold in zip(keys, thresholds, strict=True):
        await session.execute(
            insert(SignInFailure).values(key=key, failures=0, last_failure_at=now).on_conflict_do_nothing()
        )
        row = await session.scalar(
            select(SignInFailure)
            .where(SignInFailure.key == key)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        assert row is not None
        locked = row.locked_until is not None and row.locked_until > now
        # A failure long after the last one starts the count again.
        row.failures = 1 if row.last_failure_at < stale and not locked else row.failures + 1
        row.last_failure_at = now
        if row.failures >= threshold:
            wait = min(
                settings.sign_in_backoff_seconds * 2 ** min(row.failures - threshold, 20),
                settings.sign_in_backoff_max_seconds,
            )
            row.locked_until = now + timedelta(seconds=wait)
    await session.flush()


async def clear_sign_in_failures(session: AsyncSession, key: str) -> None:
    """A successful sign-in forgets the account's failures."""
    await session.execute(delete(SignInFailure).where(SignInFailure.key == key))


async def create_platform_account(
    session: AsyncSession,
    *,
    email: str,
    password: str,
    role: Role,
    province_code: str | None = None,
    must_change_password: bool = False,
) -> PlatformAccount:
    if role not in PLATFORM_ROLES:
        raise Invalid("not a platform role", errors=[{"field": "role", "message": f"one of {_names(PLATFORM_ROLES)}"}])
    email = normalize_email(email)
    check_password(password, email=email)
    if await session.scalar(select(PlatformAccount.id).where(PlatformAccount.email == email)):
        raise Conflict("a platform account with this email exists", code="email-taken")
    account = PlatformAccount(
        email=email,
        password_hash=await hash_password_async(password),
        role=role,
        province_code=province_code if role is Role.bureau_viewer else None,
        must_change_password=must_change_password,
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
            errors=[{"field": "scopes", "message": f"known scopes: {', '.join(sorted(SCOPES))}", "unknown": unknown}],
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
