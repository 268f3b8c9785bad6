"""Database plumbing: the declarative base, the engine, and the one tenant-context mechanism.

Row-level security does the isolation. This module's only job is to make every transaction carry the tenant it
was opened for: a ContextVar holds the tenant of the current task, and a listener runs
``set_config('app.tenant_id', <tenant or ''>, true)`` at every transaction start. The setting is
transaction-local, so a pooled connection (or a PgBouncer server connection in transaction mode) never carries
one tenant's context into another's transaction.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from datetime import datetime
from typing import Any, cast

import asyncpg
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tenants.ids import new_id
from tenants.settings import Settings, plain_url, sqlalchemy_url

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {
        datetime: DateTime(timezone=True),
        uuid.UUID: UUID(as_uuid=True),
    }


class TenantOwned:
    """Columns every tenant-owned table starts with: ``(tenant_id, id)`` is the primary key."""

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=lambda: require_tenant())
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=new_id)


# --- tenant context -------------------------------------------------------------------------------------------

_tenant: ContextVar[uuid.UUID | None] = ContextVar("xinfang_tenant", default=None)


def current_tenant() -> uuid.UUID | None:
    return _tenant.get()


def require_tenant() -> uuid.UUID:
    tenant = _tenant.get()
    if tenant is None:
        raise RuntimeError("no tenant context: open one with tenant_context(tenant_id)")
    return tenant


def set_tenant(tenant_id: uuid.UUID | None) -> None:
    """Set the tenant for the rest of the current task (used by the request middleware)."""
    _tenant.set(tenant_id)


@contextlib.contextmanager
def tenant_context(tenant_id: uuid.UUID | None) -> Iterator[None]:
    """Run the enclosed block (and every transaction begun in it) as ``tenant_id``."""
    token = _tenant.set(tenant_id)
    try:
        yield
    finally:
        _tenant.reset(token)


class TenantSession(Session):
    """The sync session class behind every AsyncSession we create; carries the tenant listener."""


@event.listens_for(TenantSession, "after_begin")
def _set_tenant_on_begin(session: Session, transaction: Any, connection: Any) -> None:
    tenant = _tenant.get()
    connection.execute(text("select set_config('app.tenant_id', :t, true)"), {"t": str(tenant) if tenant else ""})


async def driver_connection(session: AsyncSession) -> asyncpg.Connection:
    """The asyncpg connection under a session's transaction (begun, in its tenant context), for statements the
    ORM does not build."""
    return await _asyncpg(await session.connection())


async def _asyncpg(connection: AsyncConnection) -> asyncpg.Connection:
    raw = (await connection.get_raw_connection()).driver_connection
    if raw is None:  # only once the pooled connection is invalidated
        raise RuntimeError("the database connection is closed")
    return raw


async def _reset(connection: asyncpg.Connection) -> None:
    """What the intake pool does to a connection given back: roll back a transaction left open (an error between
    statements), nothing else (asyncpg's default reset costs a round trip of four statements per request)."""
    if connection.is_in_transaction():
        await connection.execute("rollback")


@contextlib.asynccontextmanager
async def tenant_statements(connection: asyncpg.Connection, tenant_id: uuid.UUID) -> AsyncIterator[None]:
    """Statements on an asyncpg connection in ``tenant_id``'s context: inside the connection's transaction when it
    is in one (its context is already set), else in a transaction of their own that sets it (intake's rare
    reads: a cache miss, a replayed key)."""
    if connection.is_in_transaction():
        yield
        return
    async with connection.transaction():
        await connection.execute("select set_config('app.tenant_id', $1, true)", str(uuid.UUID(str(tenant_id))))
        yield


# --- engine and sessions --------------------------------------------------------------------------------------


class Database:
    """The application's engine and session factory (connected as the application role)."""

    def __init__(
        self, url: str, *, pool_size: int = 10, max_overflow: int = 10, statement_cache_size: int = 100
    ) -> None:
        self.engine: AsyncEngine = create_async_engine(
            sqlalchemy_url(url),
            pool_size=pool_size,
            max_overflow=max_overflow,
            connect_args={
                "statement_cache_size": statement_cache_size,
                "server_settings": {"application_name": "xinfang"},
            },
        )
        self.sessionmaker = async_sessionmaker(self.engine, expire_on_commit=False, sync_session_class=TenantSession)
        self._intake_url, self._intake_size, self._statement_cache_size = url, pool_size, statement_cache_size
        self._intake: asyncpg.Pool | None = None
        self._intake_lock = asyncio.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(
            settings.app_url,
            pool_size=settings.db_pool_size,
            max_overflow=settings.db_max_overflow,
            statement_cache_size=settings.db_statement_cache_size,
        )

    @contextlib.asynccontextmanager
    async def transaction(self, tenant_id: uuid.UUID | None = None) -> AsyncIterator[AsyncSession]:
        """One transaction, committed on success, as ``tenant_id`` when given (else the current context)."""
        with tenant_context(tenant_id) if tenant_id is not None else contextlib.nullcontext():
            async with self.sessionmaker() as session, session.begin():
                yield session

    async def _intake_pool(self) -> asyncpg.Pool:
        if self._intake is None:
            async with self._intake_lock:
                if self._intake is None:
                    self._intake = await asyncpg.create_pool(
                        plain_url(self._intake_url),
                        min_size=0,
                        max_size=self._intake_size,
                        statement_cache_size=self._statement_cache_size,
                        server_settings={"application_name": "xinfang"},
                        reset=_reset,
                    )
        return self._intake

    @contextlib.asynccontextmanager
    async def intake_connection(self) -> AsyncIterator[asyncpg.Connection]:
        """A connection of the intake pool, outside any transaction: for petition intake, whose one statement
        (``intake_petition``, migration 0023) sets its own tenant context and is its own transaction, so it costs
        one round trip. The pool is asyncpg's own (about 0.15 ms of CPU per request cheaper than checking a
        connection out of SQLAlchemy's), with no reset on release: nothing on these connections outlives a
        transaction (the tenant context is transaction-local), and a connection given back mid-transaction is
        rolled back (``_reset``). Everything else uses sessions."""
        pool = await self._intake_pool()
        async with pool.acquire() as connection:
            # The pool's proxy stands in for the connection (isinstance says so too); mypy knows only the proxy.
            yield cast(asyncpg.Connection, connection)

    @contextlib.asynccontextmanager
    async def driver_transaction(self, tenant_id: uuid.UUID) -> AsyncIterator[asyncpg.Connection]:
        """One transaction as ``tenant_id`` on an intake connection, for hot writes of several statements that
        issue their own SQL: the BEGIN and the tenant context go in one round trip, and none of the ORM session's
        per-transaction work is done.

        On an error the transaction is rolled back; if even that fails (the connection broke, or the task was
        cancelled mid-statement), the connection is closed rather than returned to the pool in an unknown state.
        """
        tenant = str(uuid.UUID(str(tenant_id)))  # canonical form: safe to put in the statement text
        async with self.intake_connection() as raw:
            try:
                await raw.execute(f"begin; select set_config('app.tenant_id', '{tenant}', true)")
                yield raw
                await raw.execute("commit")
            except BaseException:
                try:
                    if raw.is_in_transaction():
                        await raw.execute("rollback")
                except asyncpg.InterfaceError:
                    pass  # the connection was lost, and the pool has taken it back already
                except BaseException:
                    with contextlib.suppress(asyncpg.InterfaceError):
                        raw.terminate()
                raise  # the original error, not the rollback's

    async def dispose(self) -> None:
        if self._intake is not None:
            await self._intake.close()
            self._intake = None
        await self.engine.dispose()
