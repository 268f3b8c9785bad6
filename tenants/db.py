"""Database plumbing: the declarative base, the engine, and the one tenant-context mechanism.

Row-level security does the isolation. This module's only job is to make every transaction carry the tenant it
was opened for: a ContextVar holds the tenant of the current task, and a listener runs
``set_config('app.tenant_id', <tenant or ''>, true)`` at every transaction start. The setting is
transaction-local, so a pooled connection (or a PgBouncer server connection in transaction mode) never carries
one tenant's context into another's transaction.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from contextvars import ContextVar
from datetime import datetime
from typing import Any

import asyncpg
from sqlalchemy import DateTime, MetaData, event, text
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from tenants.ids import new_id
from tenants.settings import Settings, sqlalchemy_url

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

    @contextlib.asynccontextmanager
    async def driver_transaction(self, tenant_id: uuid.UUID) -> AsyncIterator[asyncpg.Connection]:
        """One transaction as ``tenant_id`` on a pooled connection's own asyncpg connection, for the hottest
        writes that issue their own SQL (petition intake): the BEGIN and the tenant context go in one round trip,
        and none of the ORM session's per-transaction work is done (about a third of a millisecond of CPU per
        transaction on this machine). Everything else uses sessions.

        On an error the transaction is rolled back; if even that fails (the connection broke, or the task was
        cancelled mid-statement), the connection is discarded rather than returned to the pool in an unknown state.
        """
        tenant = str(uuid.UUID(str(tenant_id)))  # canonical form: safe to put in the statement text
        async with self.engine.connect() as pooled:
            raw = await _asyncpg(pooled)
            try:
                await raw.execute(f"begin; select set_config('app.tenant_id', '{tenant}', true)")
                yield raw
                await raw.execute("commit")
            except BaseException:
                try:
                    if raw.is_closed():
                        await pooled.invalidate()
                    elif raw.is_in_transaction():
                        await raw.execute("rollback")
                except BaseException:
                    await pooled.invalidate()
                raise  # the original error, not the rollback's

    async def dispose(self) -> None:
        await self.engine.dispose()
