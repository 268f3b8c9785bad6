"""The platform's work on whole universities and on platform accounts, shared by the JSON API and the console.

Exporting and offboarding run ``service.ops.tenant_archive`` (the operators' command-line path) over the
privileged connection, in a worker thread: the archive is the same file ``xinfang tenant export`` writes, and
offboarding deletes in one transaction after the export (all or nothing). Offboarding keeps its archive under
``<data_dir>/archives/`` (readable by the operators only), and records ``tenant.offboarded`` in the platform
journal, which outlives the university: a retried offboarding finds that record and answers it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.ops import tenant_archive
from tenants.db import Database
from tenants.errors import Conflict, Invalid, NotFound
from tenants.identity import PlatformAccount, Role
from tenants.settings import Settings, plain_url
from tenants.tenancy import Tenant

# What the universities' list counts for each one (tenant tables, read in the university's own context).
COUNTED = ("accounts", "org_units", "petitions", "incidents")


@dataclass(frozen=True)
class Offboarded:
    tenant_id: uuid.UUID
    slug: str
    offboarded_at: datetime
    rows: dict[str, int]
    archive_sha256: str
    archive_file: str


def actor_of(subject_id: uuid.UUID | None) -> str:
    """How the platform journal names a platform account that acted through the API or the console."""
    return f"platform account {subject_id}"


def archive_name(slug: str) -> str:
    return f"{slug}.tar.gz"


def _archives(settings: Settings) -> Path:
    return Path(settings.data_dir) / "archives"


@contextlib.contextmanager
def _privileged(settings: Settings) -> Iterator[psycopg.Connection]:
    with psycopg.connect(plain_url(settings.database_url), autocommit=True) as conn:
        yield conn


def _export(settings: Settings, tenant_id: uuid.UUID, archive: Path, actor: str) -> None:
    with _privileged(settings) as conn:
        try:
            tenant_archive.export_tenant(conn, str(tenant_id), archive, data_key=settings.data_key_bytes, actor=actor)
        except tenant_archive.ArchiveError:
            raise NotFound("no such university") from None


async def export_to_temp(settings: Settings, tenant_id: uuid.UUID, actor: str) -> Path:
    """The university's archive written to a new temporary directory; the caller removes it (``discard``)."""
    tmp = Path(tempfile.mkdtemp(prefix="xf-export-"))
    archive = tmp / "archive.tar.gz"
    try:
        await asyncio.to_thread(_export, settings, tenant_id, archive, actor)
    except BaseException:
        discard(archive)
        raise
    return archive


def discard(archive: Path) -> None:
    """Remove a temporary archive and its directory (after it was sent)."""
    archive.unlink(missing_ok=True)
    with contextlib.suppress(OSError):
        archive.parent.rmdir()


def _offboard(settings: Settings, tenant_id: uuid.UUID, confirm: str, actor: str) -> None:
    folder = _archives(settings)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    archive = folder / f"{tenant_id}.tar.gz"
    with _privileged(settings) as conn:
        # One offboarding of a university at a time (a double click, a retry while the first still runs): the
        # second waits, then finds the university gone, and the first's archive is never overwritten.
        lock = "select pg_advisory_lock(hashtextextended(%s, 0))"
        conn.execute(lock, (f"offboard:{tenant_id}",))
        try:
            tenant_archive.offboard_tenant(
                conn, str(tenant_id), archive, data_key=settings.data_key_bytes, confirm=confirm, actor=actor
            )
        except tenant_archive.ArchiveError as exc:
            # Nothing was deleted: a university that changed during the export is rolled back whole.
            raise Conflict(str(exc), code="offboarding-interrupted") from None
        finally:
            conn.execute("select pg_advisory_unlock(hashtextextended(%s, 0))", (f"offboard:{tenant_id}",))


async def _offboarded(session: AsyncSession, tenant_id: uuid.UUID) -> Offboarded | None:
    row = (
        await session.execute(
            text(
                "select occurred_at, payload from platform_journal where university_id = :t and type = "
                "'tenant.offboarded' order by occurred_at desc limit 1"
            ),
            {"t": tenant_id},
        )
    ).first()
    if row is None:
        return None
    payload = row.payload
    return Offboarded(
        tenant_id,
        payload["slug"],
        row.occurred_at,
        {k: int(v) for k, v in payload["rows"].items()},
        payload["archive_sha256"],
        f"archives/{tenant_id}.tar.gz",
    )


async def kept_archive(db: Database, settings: Settings, tenant_id: uuid.UUID) -> tuple[Path, str] | None:
    """The archive an offboarding kept (its path and the university's slug), if the university was offboarded
    here and the file is still in the data directory."""
    async with db.transaction() as session:
        done = await _offboarded(session, tenant_id)
    if done is None:
        return None
    path = Path(settings.data_dir) / done.archive_file
    return (path, done.slug) if path.is_file() else None


def _refuse_confirmation(slug: str) -> Invalid:
    return Invalid(
        "the confirmation does not match the university's code",
        code="confirmation-mismatch",
        errors=[{"field": "confirm", "message": f"type the university's code {slug!r} to confirm"}],
    )


async def offboard(db: Database, settings: Settings, tenant_id: uuid.UUID, confirm: str, actor: str) -> Offboarded:
    """Export the university, then delete all its rows (``confirm`` must repeat its code, the slug).

    Idempotent: once offboarded, the same request answers the recorded offboarding again. Refused (422) when the
    confirmation does not match, before anything is touched; 404 for a university that never existed.
    """
    async with db.transaction() as session:
        tenant = await session.get(Tenant, tenant_id)
        done = None if tenant is not None else await _offboarded(session, tenant_id)
    if tenant is None:
        if done is None:
            raise NotFound("no such university")
        if confirm != done.slug:
            raise _refuse_confirmation(done.slug)
        return done
    if confirm != tenant.slug:
        raise _refuse_confirmation(tenant.slug)
    try:
        await asyncio.to_thread(_offboard, settings, tenant_id, confirm, actor)
    except Conflict:
        async with db.transaction() as session:
            done = await _offboarded(session, tenant_id)
        if done is None:
            raise
        return done  # a concurrent request offboarded it first
    async with db.transaction() as session:
        done = await _offboarded(session, tenant_id)
    assert done is not None  # recorded in the deleting transaction
    return done


async def counts(db: Database, tenant_ids: list[uuid.UUID]) -> dict[uuid.UUID, dict[str, int]]:
    """Rows of a few tables per university, each read in that university's context (row-level security)."""
    out = {}
    for tenant_id in tenant_ids:
        async with db.transaction(tenant_id) as session:
            row = (
                await session.execute(
                    text("select " + ", ".join(f"(select count(*) from {name}) as {name}" for name in COUNTED))
                )
            ).one()
        out[tenant_id] = {name: int(getattr(row, name)) for name in COUNTED}
    return out


# --- platform accounts --------------------------------------------------------------------------------------


async def list_platform_accounts(
    session: AsyncSession, *, role: Role | None = None, province_code: str | None = None, active: bool | None = None
) -> list[PlatformAccount]:
    """Platform accounts by province, then email (a province has a handful of bureau accounts)."""
    query = select(PlatformAccount)
    if role is not None:
        query = query.where(PlatformAccount.role == role)
    if province_code is not None:
        query = query.where(PlatformAccount.province_code == province_code)
    if active is not None:
        query = query.where(PlatformAccount.active.is_(active))
    query = query.order_by(func.coalesce(PlatformAccount.province_code, ""), PlatformAccount.email)
    return list(await session.scalars(query))


async def deactivate_platform_account(
    session: AsyncSession, account_id: uuid.UUID, *, actor_id: uuid.UUID | None
) -> PlatformAccount:
    """Deactivate a platform account: its sessions and tokens end at once (idempotent). An admin cannot
    deactivate their own account (the platform would be left without the one signed in to fix it)."""
    account = await session.get(PlatformAccount, account_id)
    if account is None:
        raise NotFound("no such platform account")
    if account.id == actor_id:
        raise Conflict("you cannot deactivate your own account", code="own-account")
    if account.active:
        account.active = False
        account.token_version += 1
        await session.flush()
    return account
