"""Gathers what the summary report shows: the incident, its timeline from the journal, measures, materials used,
bulletins and the improvement proposals with their owner units."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents import document, services
from tenants import org
from tenants.db import require_tenant
from tenants.plans.content import Text
from tenants.tenancy import Tenant

# The timeline of the report leaves out the step bookkeeping; the API timeline has everything.
_QUIET = frozenset({"incident.step_started", "bulletin.drafted", "bulletin.approved", "incident.checklist_updated"})
# The payload facts a timeline row shows (each translated by the document: steps, levels, kinds, categories).
_FACTS = ("step", "level", "kind", "category", "sequence", "count", "quantity", "short", "reason_code")


async def summary_data(session: AsyncSession, incident_id: uuid.UUID) -> document.SummaryData:
    d = await services.detail(session, incident_id)
    i = d.incident
    tenant = await session.get(Tenant, require_tenant())
    assert tenant is not None
    units = {u.id: u for u in await session.scalars(select(org.OrgUnit))}
    content = await services.plan_of(session, i)
    proposals = (i.summary or {}).get("proposals", [])

    def unit(uid: str | uuid.UUID | None) -> tuple[str, str]:
        u = units.get(uuid.UUID(str(uid))) if uid else None
        return (u.name_zh, u.name_en) if u else ("—", "—")

    def entry(e: services.TimelineEntry) -> document.Row:
        p = e.payload
        facts = [document.Fact(k, str(p[k])) for k in _FACTS if p.get(k) is not None]
        return document.Row(
            at=e.occurred_at,
            type=e.type,
            actor=e.actor or "—",
            facts=facts,
            unit=unit(e.org_unit_id) if e.org_unit_id else None,
        )

    timeline = [entry(e) for e in await services.timeline(session, incident_id) if e.type not in _QUIET]
    by_cat: dict[str, list[int]] = {}
    for r in d.logistics:
        row = by_cat.setdefault(r.category, [0, 0, 0])
        row[0] += r.quantity
        row[1] += r.issued
        row[2] += r.returned
    return document.SummaryData(
        university=Text(zh=tenant.name_zh, en=tenant.name_en),
        title=i.title,
        drill=i.drill,
        level=i.level,
        activated=i.activated,
        reported_at=i.reported_at,
        closed_at=i.closed_at,
        people_count=i.people_count,
        facts=i.facts,
        cause=i.cause,
        cause_analysis=(i.summary or {}).get("cause_analysis") or "—",
        lessons=(i.summary or {}).get("lessons"),
        timeline=timeline,
        measures=[(m.occurred_at, m.kind, m.count, m.notes) for m in d.measures],
        materials=[(c, v[0], v[1], v[2]) for c, v in sorted(by_cat.items())],
        bulletins=[(b.sequence or 0, b.kind, b.title_zh, b.title_en) for b in d.bulletins if b.state == "published"],
        proposals=[(p["proposal"], unit(p["owner_unit_id"]), p["due_on"]) for p in proposals],
        names=document.Names(
            levels={lv.code: (lv.name.zh, lv.name.en) for lv in content.severity_levels},
            measures={services.MEASURE_KINDS.get(m.key, m.key): (m.name.zh, m.name.en) for m in content.measures},
        ),
        zone=tenant.timezone or "Asia/Shanghai",
    )
