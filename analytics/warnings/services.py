"""The early-warning scan: every few minutes, each university's recent submissions go through the detector of
``analytics.warnings.rules``; a new surge is stored in ``warnings`` and journaled as ``warning.raised`` (so webhooks
announce it), a continuing one only updates its row. The handling group or an admin dismisses a warning or opens
an incident from it (the incident is created by the incidents domain,
``service.warnings.controllers.open_incident``; the warning then links it in ``incident_id``, and the incident names
the warning in ``warning_id``).

The scan runs in the university's tenant transaction under a transaction-level advisory lock, so two scans of
one university (a retry, a second delivery, two schedulers' periods) serialize and never raise a surge twice.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import structlog
from sqlalchemy import Float, ForeignKeyConstraint, Integer, String, Text, select, text
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from analytics.warnings.rules import CELL_DEGREES, SUBMISSIONS_SCHEMA, Method, group_surges, same_surge, surges
from tenants import journal, org
from tenants.clock import utcnow
from tenants.db import Base, TenantOwned, require_tenant
from tenants.errors import Conflict, Forbidden, Invalid, NotFound
from tenants.identity import Principal, Role
from tenants.ids import new_id
from tenants.settings import Settings, get_settings

log = structlog.get_logger("xinfang.warnings")

SCAN_MINUTES = 5
HANDLING_GROUP = "handling"


class WarningState(enum.StrEnum):
    open = "open"
    dismissed = "dismissed"
    incident_opened = "incident_opened"


class EarlyWarning(TenantOwned, Base):
    __tablename__ = "warnings"

    key_kind: Mapped[str] = mapped_column(String(16), nullable=False)
    key: Mapped[str] = mapped_column(String(80), nullable=False)
    org_unit_id: Mapped[uuid.UUID | None]
    raised_at: Mapped[datetime] = mapped_column(nullable=False)
    window_start: Mapped[datetime] = mapped_column(nullable=False)
    window_end: Mapped[datetime] = mapped_column(nullable=False)
    window_count: Mapped[int] = mapped_column(Integer, nullable=False)
    baseline: Mapped[float] = mapped_column(Float, nullable=False)
    score: Mapped[float] = mapped_column(Float, nullable=False)
    peak_count: Mapped[int] = mapped_column(Integer, nullable=False)
    last_seen_at: Mapped[datetime] = mapped_column(nullable=False)
    state: Mapped[str] = mapped_column(String(20), nullable=False, default=WarningState.open)
    dismissed_at: Mapped[datetime | None]
    dismissed_by: Mapped[uuid.UUID | None]
    dismiss_reason: Mapped[str | None] = mapped_column(String(500))
    incident_id: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(nullable=False, default=utcnow)
    # The other keys of the same burst, each with its evidence: [{key_kind, key, window_count, baseline, score}].
    related: Mapped[list[dict[str, Any]]] = mapped_column(JSONB, nullable=False, default=list)
    # Every key of the warning as "kind:key" (the lead's first): how a later scan recognizes the surge.
    keys: Mapped[list[str]] = mapped_column(ARRAY(Text), nullable=False, default=list)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
    )


def method_of(settings: Settings) -> Method:
    return Method(
        window=timedelta(hours=settings.warning_window_hours),
        baseline=timedelta(days=settings.warning_baseline_days),
        min_count=settings.warning_min_count,
    )


# --- extraction ------------------------------------------------------------------------------------------------


async def submissions_frame(session: AsyncSession, since: datetime) -> pl.DataFrame:
    """The current university's petitions received since ``since``: only the keys the detector reads (category
    code, handling unit — the category's unit until the petition is assigned —, grid cell of the coordinates);
    no free text, no personal data."""
    tenant_id = require_tenant()
    rows = (
        await session.execute(
            text(
                """
                select p.received_at, c.code, coalesce(p.org_unit_id, c.default_org_unit_id)::text,
                       case when p.lat is not null and p.long is not null then
                         to_char(floor(p.lat / :cell) * :cell, 'FM990.000') || ','
                         || to_char(floor(p.long / :cell) * :cell, 'FM990.000') end
                  from petitions p
                  join petition_categories c on c.tenant_id = p.tenant_id and c.id = p.category_id
                 where p.received_at >= :since
                """
            ),
            {"since": since, "cell": CELL_DEGREES},
        )
    ).all()
    return pl.DataFrame(
        [(str(tenant_id), *r) for r in rows], schema=SUBMISSIONS_SCHEMA, orient="row"
    )  # fmt: skip


# The petitions behind a warning: those of its keys received from the start of its window to its last sighting.
_KEY_CONDITION = {
    "category": "c.code = :{p}",
    "org_unit": "coalesce(p.org_unit_id, c.default_org_unit_id)::text = :{p}",
    "place": "p.lat is not null and p.long is not null and to_char(floor(p.lat / :cell) * :cell, 'FM990.000') || ','"
    " || to_char(floor(p.long / :cell) * :cell, 'FM990.000') = :{p}",
}
SURGE_PETITIONS_MAX = 100  # what an incident report links at most


def key_of(kind: str, key: str) -> str:
    return f"{kind}:{key}"


def warning_keys(warning: EarlyWarning) -> list[tuple[str, str]]:
    """The warning's keys as (kind, key), its lead first."""
    return [(warning.key_kind, warning.key)] + [(r["key_kind"], r["key"]) for r in warning.related]


async def surge_petitions(session: AsyncSession, warning: EarlyWarning) -> list[uuid.UUID]:
    """The ids of the current university's petitions that make up ``warning``'s surge (oldest first, at most
    ``SURGE_PETITIONS_MAX``): on any of its keys, received within its window or since, up to its last sighting."""
    until = max(warning.window_end, warning.last_seen_at)
    params: dict[str, Any] = {"cell": CELL_DEGREES, "start": warning.window_start, "until": until}
    params["n"] = SURGE_PETITIONS_MAX
    conditions = []
    for i, (kind, key) in enumerate(warning_keys(warning)):
        params[f"key{i}"] = key
        conditions.append("(" + _KEY_CONDITION[kind].format(p=f"key{i}") + ")")
    rows = await session.execute(
        text(
            "select p.id from petitions p join petition_categories c on c.tenant_id = p.tenant_id "
            f"and c.id = p.category_id where ({' or '.join(conditions)}) "
            "and p.received_at >= :start and p.received_at <= :until "
            "order by p.received_at, p.id limit :n"
        ),
        params,
    )
    return [r[0] for r in rows]


# --- the scan --------------------------------------------------------------------------------------------------


def _evidence(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "key_kind": row["key_kind"],
        "key": row["key"],
        "window_count": row["window_count"],
        "baseline": round(row["baseline"], 4),
        "score": round(row["score"], 3),
    }


async def scan(
    session: AsyncSession, *, now: datetime | None = None, method: Method | None = None
) -> list[EarlyWarning]:
    """Scan the current university at ``now``; returns the warnings raised (new surges only), one per surge."""
    tenant_id = require_tenant()
    now = now or utcnow()
    method = method or method_of(get_settings())
    await session.execute(
        text("select pg_advisory_xact_lock(hashtextextended('warnings:' || :t, 0))"), {"t": str(tenant_id)}
    )
    since = now - method.window * (method.bins + 1)
    frame = await submissions_frame(session, since)
    raised: list[EarlyWarning] = []
    for surge in group_surges(frame, surges(frame, now, method), now, method):
        keys = [key_of(str(r["key_kind"]), str(r["key"])) for r in surge]
        peak = max(int(r["window_count"]) for r in surge)  # type: ignore[call-overload]
        latest = await session.scalar(
            select(EarlyWarning)
            .where(EarlyWarning.keys.overlap(keys))
            .order_by(EarlyWarning.last_seen_at.desc())
            .limit(1)
        )
        if latest is not None and (latest.last_seen_at >= now or same_surge(latest.last_seen_at, now, method)):
            # The same surge, still going (or a rerun of a scan already done): no new warning; a key the surge
            # has spread to joins its evidence.
            if now > latest.last_seen_at:
                latest.last_seen_at = now
                latest.peak_count = max(latest.peak_count, peak)
                new = [r for r in surge if key_of(str(r["key_kind"]), str(r["key"])) not in latest.keys]
                if new:
                    latest.related = [*latest.related, *(_evidence(r) for r in new)]
                    latest.keys = [*latest.keys, *(key_of(str(r["key_kind"]), str(r["key"])) for r in new)]
                latest.updated_at = utcnow()
            continue
        lead, others = surge[0], surge[1:]
        unit = next((uuid.UUID(str(r["key"])) for r in surge if r["key_kind"] == "org_unit"), None)
        evidence = _evidence(lead)
        warning = EarlyWarning(
            id=new_id(),
            key_kind=evidence["key_kind"],
            key=evidence["key"],
            org_unit_id=unit,
            raised_at=now,
            window_start=lead["window_start"],
            window_end=lead["window_end"],
            window_count=evidence["window_count"],
            baseline=evidence["baseline"],
            score=evidence["score"],
            peak_count=peak,
            last_seen_at=now,
            state=WarningState.open,
            updated_at=utcnow(),
            related=[_evidence(r) for r in others],
            keys=keys,
        )
        session.add(warning)
        await session.flush()
        await journal.record(
            session,
            "warning.raised",
            subject_id=warning.id,
            org_unit_id=unit,
            key_kind=warning.key_kind,
            key=warning.key,
            window_count=warning.window_count,
            baseline=warning.baseline,
            score=warning.score,
            window_hours=round(method.window / timedelta(hours=1), 2),
            related_keys=keys[1:],
        )
        raised.append(warning)
    if raised:
        log.info("warnings.raised", count=len(raised))
    return raised


# --- handling ---------------------------------------------------------------------------------------------------


async def list_warnings(
    session: AsyncSession, *, state: WarningState | None = None, limit: int = 50, before: datetime | None = None
) -> list[EarlyWarning]:
    query = select(EarlyWarning).order_by(EarlyWarning.raised_at.desc(), EarlyWarning.id.desc()).limit(limit)
    if state is not None:
        query = query.where(EarlyWarning.state == state)
    if before is not None:
        query = query.where(EarlyWarning.raised_at < before)
    return list(await session.scalars(query))


async def get_warning(session: AsyncSession, warning_id: uuid.UUID, *, lock: bool = False) -> EarlyWarning:
    query = select(EarlyWarning).where(EarlyWarning.id == warning_id)
    warning = await session.scalar(query.with_for_update() if lock else query)
    if warning is None:
        raise NotFound("no such warning")
    return warning


async def may_handle(session: AsyncSession, principal: Principal) -> bool:
    """Tenant admins and members (any role) of the emergency handling group may act on warnings."""
    if principal.role is Role.tenant_admin:
        return True
    if principal.kind != "account" or principal.subject_id is None:
        return False
    roster = await org.group_roster(session)
    group = roster.get(HANDLING_GROUP)
    return group is not None and principal.subject_id in group.account_ids


async def dismiss(session: AsyncSession, warning_id: uuid.UUID, *, principal: Principal, reason: str) -> EarlyWarning:
    """Dismiss an open warning with a reason (kept on the row, never in the journal: it is free text).

    Dismissing an already dismissed warning is a no-op (a retried request); one that became an incident is 409.
    """
    if not await may_handle(session, principal):
        raise Forbidden("only the handling group or an admin may dismiss a warning")
    if not reason.strip():
        raise Invalid("a reason is required", errors=[{"field": "reason", "message": "required"}])
    warning = await get_warning(session, warning_id, lock=True)
    if warning.state == WarningState.dismissed:
        return warning
    if warning.state != WarningState.open:
        raise Conflict(f"the warning is {warning.state}", code="transition-refused", state=warning.state)
    now = utcnow()
    warning.state = WarningState.dismissed
    warning.dismissed_at = now
    warning.dismissed_by = principal.subject_id
    warning.dismiss_reason = reason.strip()
    warning.updated_at = now
    await session.flush()
    await journal.record(
        session,
        "warning.dismissed",
        actor_id=principal.subject_id,
        subject_id=warning.id,
        org_unit_id=warning.org_unit_id,
        key_kind=warning.key_kind,
    )
    return warning


async def lock_for_incident(session: AsyncSession, warning_id: uuid.UUID, *, principal: Principal) -> EarlyWarning:
    """The open warning an incident is about to be opened from, locked until the transaction ends (a concurrent
    second opening waits, then finds it taken). 403 outside the handling group; 409 when the warning was dismissed
    or already opened its incident."""
    if not await may_handle(session, principal):
        raise Forbidden("only the handling group or an admin may open an incident from a warning")
    warning = await get_warning(session, warning_id, lock=True)
    if warning.state == WarningState.incident_opened:
        raise Conflict(
            "an incident was already opened from this warning",
            code="incident-opened",
            state=warning.state,
            incident_id=str(warning.incident_id),
        )
    if warning.state != WarningState.open:
        raise Conflict(f"the warning is {warning.state}", code="transition-refused", state=warning.state)
    return warning


async def incident_opened(
    session: AsyncSession, warning: EarlyWarning, incident_id: uuid.UUID, *, actor_id: uuid.UUID | None
) -> EarlyWarning:
    """Move a warning locked by ``lock_for_incident`` to ``incident_opened`` with its incident, and journal it."""
    warning.state = WarningState.incident_opened
    warning.incident_id = incident_id
    warning.updated_at = utcnow()
    await session.flush()
    await journal.record(
        session,
        "warning.incident_opened",
        actor_id=actor_id,
        subject_id=warning.id,
        incident_id=incident_id,
        org_unit_id=warning.org_unit_id,
        key_kind=warning.key_kind,
    )
    return warning
