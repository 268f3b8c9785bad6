"""``Idempotency-Key`` for retried writes: the first response is stored and replayed; a key reused with a
different request is refused.

Keys are scoped per tenant and per principal (anonymous callers share the tenant's scope) and live 24 hours.
Exactly-once comes from the unique index: the first request inserts the key row in its own transaction and
stores its response in that same transaction, so a concurrent request with the same key blocks on the index
until the first commits, then finds the stored response (or, if the first rolled back, takes the key itself).
The stored response is encrypted: it may carry a secret shown once (a lookup code) or personal data.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg
from sqlalchemy import Index, String, text
from sqlalchemy.engine import CursorResult
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants.clock import utcnow
from tenants.crypto import EncryptedText
from tenants.db import Base, TenantOwned, driver_connection, require_tenant
from tenants.errors import Conflict, Invalid
from tenants.identity import Principal
from tenants.ids import new_id

TTL = timedelta(hours=24)
# 8 to 200 visible ASCII characters. `(?![\s\S])` is the end of the input in ECMA-262 (the OpenAPI document's
# regexes) and Python alike, where `$` would let a trailing newline through.
KEY_PATTERN = re.compile(r"^[!-~]{8,200}(?![\s\S])")


class IdempotencyKey(TenantOwned, Base):
    __tablename__ = "idempotency_keys"

    principal: Mapped[str] = mapped_column(String(80), nullable=False)
    key: Mapped[str] = mapped_column(String(200), nullable=False)
    fingerprint: Mapped[str] = mapped_column(String(64), nullable=False)
    status_code: Mapped[int | None]
    response: Mapped[str | None] = mapped_column(EncryptedText)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    expires_at: Mapped[datetime] = mapped_column(nullable=False)

    # No foreign key to ``tenants`` (migration 0023: a hot table; row-level security pins ``tenant_id``).
    __table_args__ = (Index("uq_idempotency_keys_scope", "tenant_id", "principal", "key", unique=True),)


@dataclass(frozen=True)
class Claim:
    """Either a fresh claim (``replay`` is None: do the work, then ``complete``) or a response to replay."""

    id: uuid.UUID
    replay: tuple[int, str] | None = None


def principal_scope(principal: Principal) -> str:
    return "anonymous" if principal.subject_id is None else f"{principal.kind}:{principal.subject_id}"


def fingerprint(method: str, path: str, body: bytes) -> str:
    """What makes two requests "the same": method, route and the canonical body."""
    return hashlib.sha256(b"\n".join([method.encode(), path.encode(), body])).hexdigest()


def check_key(key: str) -> None:
    if not KEY_PATTERN.match(key):
        raise Invalid(
            "bad Idempotency-Key",
            errors=[{"field": "Idempotency-Key", "message": "8 to 200 visible ASCII characters (a UUID is ideal)"}],
        )


_CLAIM = text(
    """
    insert into idempotency_keys (tenant_id, id, principal, key, fingerprint, created_at, expires_at)
    values (:tenant, :id, :principal, :key, :fp, now(), now() + make_interval(secs => :ttl))
    on conflict (tenant_id, principal, key) do update
       set id = excluded.id, fingerprint = excluded.fingerprint, status_code = null, response = null,
           created_at = excluded.created_at, expires_at = excluded.expires_at
     where idempotency_keys.expires_at < now()
    returning id
    """
)


async def claim(session: AsyncSession, *, key: str, principal: Principal, fp: str) -> Claim:
    """Claim ``key`` for this request, or return the first response when it was already answered.

    Refuses (422 ``idempotency-key-reused``) when the key was used for a different request.
    """
    check_key(key)
    scope = principal_scope(principal)
    claimed = await session.scalar(
        _CLAIM,
        {
            "tenant": require_tenant(),
            "id": new_id(),
            "principal": scope,
            "key": key,
            "fp": fp,
            "ttl": TTL.total_seconds(),
        },
    )
    if claimed is not None:
        return Claim(claimed)
    return await stored(session, Attempt(key, scope, fp))


@dataclass(frozen=True)
class Attempt:
    """A request carrying an Idempotency-Key, for writes that claim the key inside their own statement."""

    key: str
    principal: str
    fingerprint: str

    @classmethod
    def of(cls, key: str, principal: Principal, fp: str) -> Attempt:
        check_key(key)
        return cls(key, principal_scope(principal), fp)


# The claim as a data-modifying CTE named ``claimed`` for a single-statement write (asyncpg numbering from
# ``$first``): it stores the response with the claim, so the write, its journal event and the replayable
# response are one round trip. A conflicting key yields no row (the caller then replays ``stored``); a concurrent
# first request makes it wait on the unique index until that one commits or rolls back.
def claim_args(attempt: Attempt | None, status_code: int, body: str) -> list[object]:
    """The Idempotency-Key arguments of the ``intake_petition`` function (migration 0023): the claim, its
    response stored encrypted (as ``complete`` does) and its lifetime; all null without a key."""
    if attempt is None:
        return [None] * 7
    return [
        new_id(),
        attempt.principal,
        attempt.key,
        attempt.fingerprint,
        status_code,
        EncryptedText().process_bind_param(body, None),
        int(TTL.total_seconds()),
    ]


async def stored(connection: AsyncSession | asyncpg.Connection, attempt: Attempt) -> Claim:
    """The first response to a key that is already claimed (``Claim.replay``), or the refusal of its reuse."""
    query = "select id, fingerprint, status_code, response from idempotency_keys where principal = $1 and key = $2"
    if isinstance(connection, AsyncSession):
        connection = await driver_connection(connection)
    row = await connection.fetchrow(query, attempt.principal, attempt.key)
    assert row is not None  # claimed by a committed transaction, and keys outlive any retry
    stored = _Stored(*row)
    if stored.fingerprint != attempt.fingerprint:
        raise Invalid(
            "this Idempotency-Key was used for a different request",
            code="idempotency-key-reused",
            errors=[{"field": "Idempotency-Key", "message": "reuse a key only to retry the identical request"}],
        )
    if stored.status_code is None:  # only possible if a claim was committed without its response
        raise Conflict("the first request with this key has not finished", code="idempotency-in-progress")
    return Claim(stored.id, (stored.status_code, EncryptedText().process_result_value(stored.response, None) or ""))


@dataclass(frozen=True)
class _Stored:
    id: uuid.UUID
    fingerprint: str
    status_code: int | None
    response: bytes | None  # encrypted (bytea), as read by asyncpg


async def complete(session: AsyncSession, claimed: Claim, status_code: int, body: str) -> None:
    """Store the response of a claimed key (in the request's own transaction)."""
    await session.execute(
        text("update idempotency_keys set status_code = :s, response = :r where id = :id"),
        {"s": status_code, "r": EncryptedText().process_bind_param(body, None), "id": claimed.id},
    )


async def purge_expired(session: AsyncSession) -> int:
    result = await session.execute(text("delete from idempotency_keys where expires_at < now() - interval '1 hour'"))
    assert isinstance(result, CursorResult)  # DML gives a CursorResult; execute is typed Result
    return int(result.rowcount or 0)
