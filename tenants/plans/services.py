"""Plan versions (draft → published → superseded), publication checks, the readiness check, compliance.

Keyword-only functions that take the session; they flush so constraint errors surface inside the request.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any

import msgspec
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from tenants import journal, org, training
from tenants.clock import utcnow
from tenants.db import require_tenant
from tenants.errors import Conflict, Invalid, NotFound
from tenants.materials import stock_levels
from tenants.plans import checks, document, readiness, rules
from tenants.plans.content import SECTIONS, PlanContent, Text, from_builtins, section_type
from tenants.plans.defaults import default_plan
from tenants.plans.models import PLAN_TRANSITIONS, OpenShortage, PlanAction, PlanStatus, PlanVersion
from tenants.transitions import step

if TYPE_CHECKING:  # tenancy imports this module (provisioning opens the first draft)
    from tenants.tenancy import Tenant


def content_of(version: PlanVersion) -> PlanContent:
    return from_builtins(version.content)


# --- versions ---------------------------------------------------------------------------------------------------


async def get_version(session: AsyncSession, version_id: uuid.UUID, *, lock: bool = False) -> PlanVersion:
    query = select(PlanVersion).where(PlanVersion.id == version_id)
    if lock:
        query = query.with_for_update()
    version = await session.scalar(query)
    if version is None:
        raise NotFound("no such plan version")
    return version


async def list_versions(session: AsyncSession) -> list[PlanVersion]:
    return list((await session.scalars(select(PlanVersion).order_by(PlanVersion.number.desc()))).all())


async def published_version(session: AsyncSession) -> PlanVersion | None:
    return await session.scalar(select(PlanVersion).where(PlanVersion.status == PlanStatus.published))


async def version_in_force(session: AsyncSession, at: datetime) -> PlanVersion | None:
    """The version that was (or is) in force at ``at``: published by then and not yet superseded."""
    return await session.scalar(
        select(PlanVersion)
        .where(
            PlanVersion.published_at.is_not(None),
            PlanVersion.published_at <= at,
            (PlanVersion.superseded_at.is_(None)) | (PlanVersion.superseded_at > at),
        )
        .order_by(PlanVersion.published_at.desc())
        .limit(1)
    )


async def _new_draft(
    session: AsyncSession, content: PlanContent, *, based_on: PlanVersion | None, actor_id: uuid.UUID | None
) -> PlanVersion:
    if await session.scalar(select(PlanVersion.id).where(PlanVersion.status == PlanStatus.draft)):
        raise Conflict("a draft exists already: edit or publish it first", code="draft-exists")
    number = (await session.scalar(select(func.max(PlanVersion.number)))) or 0
    draft = PlanVersion(
        number=number + 1,
        status=PlanStatus.draft,
        revision=1,
        content=msgspec.to_builtins(content),
        based_on_id=based_on.id if based_on else None,
        created_by=actor_id,
        updated_by=actor_id,
    )
    session.add(draft)
    await session.flush()
    await journal.record(
        session,
        "plan.draft_created",
        actor_id=actor_id,
        subject_id=draft.id,
        number=draft.number,
        based_on_id=based_on.id if based_on else None,
    )
    return draft


async def create_draft(
    session: AsyncSession, *, based_on_id: uuid.UUID | None = None, actor_id: uuid.UUID | None
) -> PlanVersion:
    """Open the draft of the next version: a copy of ``based_on_id``, else of the published version, else the
    seed plan. Only one draft exists at a time (409 otherwise)."""
    # One draft per university: serialize creators so the second one gets a clear 409, not a unique violation.
    await session.execute(text("select pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": _lock_key("draft")})
    base = await get_version(session, based_on_id) if based_on_id else await published_version(session)
    content = content_of(base) if base else default_plan()
    return await _new_draft(session, content, based_on=base, actor_id=actor_id)


async def ensure_default_draft(session: AsyncSession) -> PlanVersion | None:
    """At onboarding: a university without any plan version gets the seed plan as its first draft (idempotent)."""
    await session.execute(text("select pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": _lock_key("draft")})
    if await session.scalar(select(PlanVersion.id).limit(1)):
        return None
    return await _new_draft(session, default_plan(), based_on=None, actor_id=None)


def _lock_key(name: str) -> str:
    return f"plans:{name}:{require_tenant()}"


async def _editable(session: AsyncSession, version_id: uuid.UUID, revision: int | None) -> PlanVersion:
    version = await get_version(session, version_id, lock=True)
    if (PlanStatus(version.status), PlanAction.edit) not in PLAN_TRANSITIONS:
        raise Conflict(
            f"version {version.number} is {version.status}; only a draft can be edited", code="plan-immutable"
        )
    if revision is not None and revision != version.revision:
        raise Conflict(
            f"the draft changed since revision {revision} (now {version.revision}); reload it and edit again",
            code="stale-revision",
            current_revision=version.revision,
        )
    return version


async def _save(
    session: AsyncSession, version: PlanVersion, content: PlanContent, *, actor_id: uuid.UUID | None
) -> PlanVersion:
    changed = sorted(checks.diff(content_of(version), content))
    if not changed:
        return version
    version.content = msgspec.to_builtins(content)
    version.revision += 1
    version.updated_at = utcnow()
    version.updated_by = actor_id
    await session.flush()
    await journal.record(
        session,
        "plan.draft_updated",
        actor_id=actor_id,
        subject_id=version.id,
        number=version.number,
        revision=version.revision,
        sections=changed,
    )
    return version


async def replace_content(
    session: AsyncSession,
    version_id: uuid.UUID,
    *,
    content: PlanContent,
    revision: int,
    actor_id: uuid.UUID | None,
) -> PlanVersion:
    """Replace a draft's whole content; ``revision`` must be the draft's current one (409 when stale)."""
    version = await _editable(session, version_id, revision)
    return await _save(session, version, content, actor_id=actor_id)


async def update_section(
    session: AsyncSession,
    version_id: uuid.UUID,
    section: str,
    *,
    value: Any,
    revision: int | None,
    actor_id: uuid.UUID | None,
) -> PlanVersion:
    """Replace one section of a draft (checked against ``revision`` when given)."""
    if section not in SECTIONS:
        raise NotFound(f"no plan section {section!r}; sections: {', '.join(SECTIONS)}")
    try:
        typed = msgspec.convert(value, section_type(section))
    except msgspec.ValidationError as exc:
        raise Invalid(
            "the section does not match the plan schema", errors=[{"field": section, "message": str(exc)}]
        ) from None
    version = await _editable(session, version_id, revision)
    content = msgspec.structs.replace(content_of(version), **{section: typed})
    return await _save(session, version, content, actor_id=actor_id)


async def publication_problems(session: AsyncSession, version: PlanVersion) -> list[checks.Problem]:
    return checks.publication_problems(content_of(version), await org.group_roster(session))


async def publish(session: AsyncSession, version_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> PlanVersion:
    """Publish a draft: refused (422, every reason listed) unless it passes the checks; the version in force
    until now is superseded in the same transaction, at the same instant."""
    version = await _editable(session, version_id, None)
    problems = await publication_problems(session, version)
    if problems:
        raise Invalid(f"version {version.number} cannot be published", errors=problems)
    now = utcnow()
    previous = await session.scalar(
        select(PlanVersion).where(PlanVersion.status == PlanStatus.published).with_for_update()
    )
    if previous is not None:
        previous.status = step(PLAN_TRANSITIONS, PlanStatus(previous.status), PlanAction.supersede)
        previous.superseded_at = now
        previous.superseded_by_id = version.id
        # The unique index allows one published row: the old one must leave before the new one arrives.
        await session.flush()
        await journal.record(
            session,
            "plan.superseded",
            actor_id=actor_id,
            subject_id=previous.id,
            number=previous.number,
            superseded_by_id=version.id,
        )
    version.status = step(PLAN_TRANSITIONS, PlanStatus(version.status), PlanAction.publish)
    version.published_at = now
    version.published_by = actor_id
    await session.flush()
    await journal.record(
        session,
        "plan.published",
        actor_id=actor_id,
        subject_id=version.id,
        number=version.number,
        supersedes_id=previous.id if previous else None,
    )
    return version


async def diff_versions(
    session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID
) -> tuple[PlanVersion, PlanVersion, dict[str, list[checks.Change]]]:
    old, new = await get_version(session, from_id), await get_version(session, to_id)
    return old, new, checks.diff(content_of(old), content_of(new))


async def in_force_or_404(session: AsyncSession, at: datetime | None = None) -> PlanVersion:
    version = await version_in_force(session, at) if at else await published_version(session)
    if version is None:
        raise NotFound("no plan version was in force then" if at else "no plan has been published yet")
    return version


async def suggest(
    session: AsyncSession, facts: rules.Facts, *, at: datetime | None = None
) -> tuple[PlanVersion, rules.Suggestion | None]:
    """The severity the plan in force (now, or at ``at``) suggests for ``facts``."""
    version = await in_force_or_404(session, at)
    return version, rules.suggest_level(content_of(version).severity_levels, facts)


# --- readiness --------------------------------------------------------------------------------------------------


async def check_readiness(
    session: AsyncSession, *, as_of: dt.date, within_days: int
) -> tuple[PlanVersion, readiness.Readiness]:
    """The published plan's minimums against the stock; shortages that changed are journaled."""
    version = await in_force_or_404(session)
    report = readiness.readiness(
        content_of(version).materials, await stock_levels(session), as_of=as_of, within_days=within_days
    )
    await journal_shortage_changes(session, report, plan_version_id=version.id)
    return version, report


async def journal_shortage_changes(
    session: AsyncSession, report: readiness.Readiness, *, plan_version_id: uuid.UUID
) -> int:
    """Journal ``material.shortage`` for a new or changed shortage and ``material.shortage_resolved`` for one
    that is gone; a shortage that stays the same is journaled once, however often the check runs."""
    # Concurrent checks of one university would both see a shortage as new: take turns.
    await session.execute(text("select pg_advisory_xact_lock(hashtextextended(:k, 0))"), {"k": _lock_key("readiness")})
    open_rows = {r.code: r for r in await session.scalars(select(OpenShortage))}
    current = {s.code: s for s in report.shortages}
    written = 0
    for code, s in current.items():
        row = open_rows.get(code)
        if row is not None and (row.required, row.available) == (s.required, s.available):
            continue
        if row is None:
            session.add(OpenShortage(code=code, required=s.required, available=s.available))
        else:
            row.required, row.available = s.required, s.available
        await journal.record(
            session,
            "material.shortage",
            subject_id=plan_version_id,
            code=code,
            category=s.category,
            required=s.required,
            available=s.available,
            short=s.short,
        )
        written += 1
    for code, row in open_rows.items():
        if code not in current:
            await session.delete(row)
            await journal.record(session, "material.shortage_resolved", subject_id=plan_version_id, code=code)
            written += 1
    await session.flush()
    return written


# --- training compliance ----------------------------------------------------------------------------------------


async def training_compliance(session: AsyncSession, *, as_of: dt.date) -> training.Compliance:
    version = await in_force_or_404(session)
    return training.compliance(
        content_of(version).training,
        await org.group_roster(session),
        await training.held_sessions(session, until=as_of),
        as_of=as_of,
    )


async def people_named(session: AsyncSession, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, org.Person]:
    """The people of the chart with these ids (to name them where a result only carries ids)."""
    wanted = set(ids)
    if not wanted:
        return {}
    return {p.id: p for p in await session.scalars(select(org.Person).where(org.Person.id.in_(wanted)))}


# --- the plan document ------------------------------------------------------------------------------------------

# The organization chart up to this depth (university, its offices and colleges, their sections) goes in.
CHART_DEPTH = 2


def in_plan_order(keys: Iterable[str], content: PlanContent) -> list[str]:
    """Group keys as the plan lists its groups: the seed plan's §3 order (leadership, handling, information
    release, logistics), then other groups in the order the plan first names them (steps, measures, training),
    then any the plan does not name, by key."""
    named = [g.key for g in org.DEFAULT_GROUPS]
    named += [s.responsible_group for s in content.steps if s.responsible_group]
    named += [m.responsible_group for m in content.measures if m.responsible_group]
    named += list(content.training.training_groups)
    present = set(keys)
    ordered = [k for k in dict.fromkeys(named) if k in present]
    return ordered + sorted(present.difference(ordered))


# Shown in place of a person's name and title to a reader without the people:read scope.
WITHHELD = Text(zh="（姓名与职务须人员权限）", en="(name and title need the people:read scope)")


async def document_data(
    session: AsyncSession, version: PlanVersion, tenant: Tenant, *, with_people: bool = True
) -> document.DocumentData:
    """Everything the plan document shows: the version, the groups with their people, the chart, the stock.
    Without ``with_people`` each group's people are listed as withheld (an API key without people:read)."""
    rosters = await org.group_roster(session)
    groups = {g.key: g for g in await org.list_groups(session)}
    ids = {p for r in rosters.values() for p in (r.leader_person_id, *r.deputy_person_ids, *r.member_person_ids) if p}
    people = {p.id: p for p in await session.scalars(select(org.Person).where(org.Person.id.in_(ids)))} if ids else {}

    def label(person_id: uuid.UUID) -> Text:
        if not with_people:
            return WITHHELD
        p = people[person_id]
        name_en = p.name_en or p.name_zh
        title_en = p.title_en or p.title_zh
        return Text(
            zh=f"{p.name_zh}（{p.title_zh}）" if p.title_zh else p.name_zh,
            en=f"{name_en} ({title_en})" if title_en else name_en,
        )

    views = [
        document.GroupView(
            key=r.key,
            name_zh=r.name_zh,
            name_en=r.name_en,
            duties=Text(zh=groups[r.key].duties_zh, en=groups[r.key].duties_en) if r.key in groups else Text(),
            leader=label(r.leader_person_id) if r.leader_person_id else None,
            deputies=[label(p) for p in r.deputy_person_ids],
            members=[label(p) for p in r.member_person_ids],
        )
        for r in (rosters[key] for key in in_plan_order(rosters, content_of(version)))
    ]

    units = await org.all_units(session)
    children: dict[uuid.UUID | None, list[org.OrgUnit]] = {}
    for u in units:
        children.setdefault(u.parent_id, []).append(u)
    chart: list[document.UnitView] = []
    active = {u.id for u in units}

    def visit(unit: org.OrgUnit, depth: int) -> None:
        chart.append(document.UnitView(name=Text(zh=unit.name_zh, en=unit.name_en), depth=depth))
        if depth < CHART_DEPTH:
            for child in children.get(unit.id, []):
                visit(child, depth + 1)

    for root in [u for u in units if u.parent_id is None or u.parent_id not in active]:
        visit(root, 0)
    totals: dict[str, int] = {}
    today = utcnow().astimezone(tenant.zone).date()
    for s in await stock_levels(session):
        if not readiness.is_expired(s, today):
            totals[s.code] = totals.get(s.code, 0) + max(0, s.quantity)
    return document.DocumentData(
        university=Text(zh=tenant.name_zh, en=tenant.name_en),
        number=version.number,
        status=version.status,
        published_at=version.published_at,
        content=content_of(version),
        groups=views,
        units=chart,
        stock=[document.StockView(code=c, available=n) for c, n in totals.items()],
        timezone=tenant.timezone,
    )
