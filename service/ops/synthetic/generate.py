"""``xinfang demo generate``: provision synthetic universities like real ones, then bulk-load their history.

Each university is created through the same services as a real onboarding (tenant and admin, emergency groups,
org chart with people, petition categories, the default plan published). Its simulated petitions, journal
events and reminder keys (``service.ops.synthetic.model``) are then loaded with ``COPY`` (asyncpg
``copy_records_to_table``) on the connection of that university's tenant transaction, so row-level security
checks every row, and the whole history of one university commits at once or not at all. Personal columns are
encrypted with the data key exactly as intake does (``tenants.crypto.encrypt``).

PostgreSQL refuses ``COPY FROM`` into a table with row-level security, so each batch is copied into a
temporary staging table (no RLS, dropped at commit) and moved with one ``INSERT ... SELECT``, which the tenant
policy checks row by row. The petitions' search column is built there (``to_tsvector('simple', terms)``, as
intake does).

With ``jobs`` > 1 the loading of universities is spread over that many processes (the simulation is CPU-bound
Python); provisioning stays in the calling process.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.ops.demo import DEMO_PEOPLE, DEMO_UNITS
from service.ops.synthetic import model
from service.ops.synthetic.universities import GIVEN, SURNAMES, University, university
from service.petitions.models import Category
from service.petitions.seed import seed_demo_categories
from tenants import crypto, org, tenancy
from tenants.clock import today
from tenants.db import Database, driver_connection
from tenants.errors import Conflict
from tenants.plans.models import PlanVersion
from tenants.plans.services import content_of, list_versions, publish, published_version

CHINA = ZoneInfo("Asia/Shanghai")
CHUNK = 20_000  # petitions per COPY round (bounds the memory of one university's load)
# Which units incident tasks go to, by step (codes of the chart below).
TASK_UNITS = {
    "response": ("XSC", "BWC", "XLZX", "JSJXY", "WXY", "JGXY", "JXXY"),
    "logistics": ("HQGLC", "XYY"),
    "information_release": ("XCB", "XWZX"),
}
# Category volume weights (dormitories and teaching draw most petitions).
CATEGORY_WEIGHT = {
    "dormitory": 3.0, "canteen": 2.0, "teaching": 2.5, "examination": 2.0, "scholarship-fees": 1.5,
    "campus-safety": 0.8, "staff-pay-titles": 1.2, "campus-network": 1.5, "library": 0.8,
    "graduation-degree": 1.2, "student-life": 1.5, "discipline-integrity": 0.5, "other": 1.0,
}  # fmt: skip


@dataclass(frozen=True)
class Spec:
    tenants: int
    petitions: int
    incidents: int
    seed: int = 1
    months: int = 12
    # The first local day not generated (default: the first day of this month in China Standard Time).
    until: date | None = None
    prefix: str = "syn"
    jobs: int = 1

    def window(self) -> tuple[date, date]:
        end = self.until or today(CHINA).replace(day=1)
        months = end.year * 12 + end.month - 1 - self.months
        return date(months // 12, months % 12 + 1, 1), end


@dataclass
class Loaded:
    tenant_id: uuid.UUID
    slug: str
    petitions: int = 0
    events: int = 0
    incidents: int = 0


@dataclass
class Report:
    universities: list[Loaded] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def petitions(self) -> int:
        return sum(u.petitions for u in self.universities)

    @property
    def events(self) -> int:
        return sum(u.events for u in self.universities)


def split(total: int, parts: int, rng: random.Random) -> list[int]:
    """``total`` spread over ``parts`` unequally (universities differ in size), summing exactly to ``total``."""
    if parts <= 0:
        return []
    weights = [rng.uniform(0.4, 1.6) for _ in range(parts)]
    scale = total / sum(weights)
    counts = [int(w * scale) for w in weights]
    for i in range(total - sum(counts)):
        counts[i % parts] += 1
    return counts


def _person_name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choices(GIVEN, k=2))


async def provision(db: Database, uni: University, seed: int, start: date) -> tuple[uuid.UUID, model.Shape]:
    """Create one university through the services (as onboarding does) and describe it for the simulation."""
    rng = model.rng_for(seed, uni.index, f"tenant:{uni.slug}")
    zone = ZoneInfo(uni.timezone)
    onboarded = datetime(start.year, start.month, start.day, tzinfo=zone)
    tenant_id = model.uuid7(onboarded, rng)
    async with db.transaction(tenant_id) as session:
        tenant, admin, _ = await tenancy.create_tenant(
            session,
            slug=uni.slug,
            name_zh=uni.name_zh,
            name_en=uni.name_en,
            province_code=uni.province_code,
            timezone=uni.timezone,
            admin_email=f"admin@{uni.slug}.edu.cn",
            actor_id=None,
        )
        # Onboarded when its history starts, as its id says: the scheduled report sweep, which leaves out periods
        # that ended before a university's onboarding, then covers the periods generated.
        tenant.created_at = onboarded
        await tenancy.provision(session, tenant_id)
        units: dict[str, uuid.UUID] = {}
        for code, kind, name_zh, name_en, parent in DEMO_UNITS:
            if parent is None:
                name_zh, name_en = uni.name_zh, uni.name_en
            unit = await org.create_unit(
                session,
                kind=org.UnitKind(kind),
                code=code,
                name_zh=name_zh,
                name_en=name_en,
                parent_id=units[parent] if parent else None,
                actor_id=None,
            )
            units[code] = unit.id
        # The demo chart's posts and group roles, held by synthetic people.
        for number, _, _, title_zh, title_en, unit_code, groups in DEMO_PEOPLE:
            person = await org.create_person(
                session,
                staff_number=f"S{number[1:]}",
                name_zh=_person_name(rng),
                name_en=None,
                title_zh=title_zh,
                title_en=title_en,
                unit_id=units[unit_code],
                account_id=None,
                actor_id=None,
            )
            for key, role in groups:
                await org.add_member(session, key, person_id=person.id, role=org.MemberRole(role), actor_id=None)
        await seed_demo_categories(session)
        draft = (await list_versions(session))[0]
        version = await publish(session, draft.id, actor_id=admin.id)
        # In force since the start of the generated history, so every event falls under it.
        since = onboarded - timedelta(days=1)
        await session.execute(update(PlanVersion).where(PlanVersion.id == version.id).values(published_at=since))
        return tenant_id, await describe(session, index=uni.index, zone=zone, staff_id=admin.id)


async def describe(session: AsyncSession, *, index: int, zone: ZoneInfo, staff_id: uuid.UUID | None) -> model.Shape:
    """What the simulation needs of the current university (a provisioned one, or the demo university): its
    categories and their units, the demo chart's units by code, the targets and cadence of the plan in force."""
    version = await published_version(session)
    if version is None:
        raise Conflict("no emergency plan is in force: publish one first", code="no-plan")
    content = content_of(version)
    categories = (await session.execute(select(Category.code, Category.id, Category.default_org_unit_id))).all()
    units = {u.code: u.id for u in await org.all_units(session)}
    targets: dict[str, int] = {s.key: s.target_minutes for s in content.steps if s.target_minutes is not None}
    cadence = next((s.repeat_every_minutes for s in content.steps if s.key == "information_release"), None)
    offices = [units[c] for c, kind, *_ in DEMO_UNITS if kind in ("office", "center", "college")]
    return model.Shape(
        index=index,
        zone=zone,
        categories=[
            model.CategoryRef(code, cid, unit or units["XFB"], CATEGORY_WEIGHT.get(code, 1.0))
            for code, cid, unit in sorted(categories)
        ],
        units=offices,
        colleges=[units[c] for c, kind, *_ in DEMO_UNITS if kind == "college"],
        task_units={step: [units[c] for c in codes] for step, codes in TASK_UNITS.items()},
        staff_id=staff_id,
        targets=targets,
        cadence=cadence or model.DEFAULT_CADENCE,
        plan_number=version.number,
    )


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


_PERSONAL_AT = [model.PETITION_COLUMNS.index(c) for c in model.PERSONAL]


def _encrypted(row: tuple[Any, ...]) -> tuple[Any, ...]:
    values = list(row)
    for i in _PERSONAL_AT:
        if values[i] is not None:
            values[i] = crypto.encrypt(values[i])
    return tuple(values)


async def load(db: Database, tenant_id: uuid.UUID, shape: model.Shape, spec: Spec, petitions: int, incidents: int
               ) -> Loaded:  # fmt: skip
    """Simulate and COPY one university's petitions, journal and reminder keys in its tenant transaction."""
    start, end = spec.window()
    out = Loaded(tenant_id, "")
    async with db.transaction(tenant_id) as session:
        raw = await driver_connection(session)
        staged = {
            "petitions": ["tenant_id", *model.PETITION_COLUMNS],
            "journal": ["tenant_id", *model.JOURNAL_COLUMNS],
            "petition_reminders": ["tenant_id", "petition_id", "key", "created_at"],
        }
        for table, columns in staged.items():
            picked = ", ".join("search::text as search" if c == "search" else c for c in columns)
            await raw.execute(f"create temp table staged_{table} on commit drop as select {picked} from {table} "
                              "with no data")  # fmt: skip

        async def put(table: str, records: list[tuple[Any, ...]]) -> None:
            columns = staged[table]
            await raw.copy_records_to_table(f"staged_{table}", records=records, columns=columns)
            picked = ", ".join("to_tsvector('simple', search)" if c == "search" else c for c in columns)
            await raw.execute(
                f"insert into {table} ({', '.join(columns)}) select {picked} from staged_{table}; "
                f"truncate staged_{table}"
            )

        counters: dict[int, int] = {}
        stream = model.petitions(shape, seed=spec.seed, count=petitions, start=start, end=end)
        for chunk in _chunks(stream, CHUNK):
            rows = [(tenant_id, *_encrypted(row)) for row, _, _ in chunk]
            events = [(tenant_id, *e) for _, evs, _ in chunk for e in evs]
            reminders = [(tenant_id, row[0], key, at) for row, _, keys in chunk for key, at in keys]
            await put("petitions", rows)
            await put("journal", events)
            await put("petition_reminders", reminders)
            for year, n in model.tracking_counters([row for row, _, _ in chunk]).items():
                counters[year] = max(counters.get(year, 0), n)
            out.petitions += len(rows)
            out.events += len(events)
        for chunk in _chunks(model.incidents(shape, seed=spec.seed, count=incidents, start=start, end=end), 2_000):
            events = [(tenant_id, *e) for evs in chunk for e in evs]
            await put("journal", events)
            out.incidents += len(chunk)
            out.events += len(events)
        # Real intake continues numbering after the generated petitions.
        for year, n in counters.items():
            await session.execute(
                text(
                    "insert into petition_numbers (tenant_id, year, next_value) values (:t, :y, :n) "
                    "on conflict (tenant_id, year) do update set next_value = greatest(petition_numbers.next_value, :n)"
                ),
                {"t": tenant_id, "y": year, "n": n + 1},
            )
    return out


def _load_in_process(url: str, data_key: bytes, work: list[tuple[uuid.UUID, model.Shape, int, int]], spec: Spec
                     ) -> list[Loaded]:  # fmt: skip
    crypto.configure(data_key)

    async def main() -> list[Loaded]:
        db = Database(url, pool_size=1)
        try:
            return [await load(db, t, shape, spec, p, i) for t, shape, p, i in work]
        finally:
            await db.dispose()

    return asyncio.run(main())


async def generate(db: Database, spec: Spec, *, data_key: bytes, url: str | None = None) -> Report:
    """Provision ``spec.tenants`` universities and load their history; returns what was written.

    A university whose slug exists already is refused (409) before anything is written for it: generate into
    a fresh prefix (``--prefix``) to add more.
    """
    t0 = time.perf_counter()
    crypto.configure(data_key)  # the process-wide key that intake uses too
    start, _ = spec.window()
    rng = model.rng_for(spec.seed, -1, "split")
    petitions = split(spec.petitions, spec.tenants, rng)
    incidents = split(spec.incidents, spec.tenants, rng)
    work = []
    report = Report()
    for i in range(spec.tenants):
        uni = university(i, spec.prefix)
        tenant_id, shape = await provision(db, uni, spec.seed, start)
        work.append((tenant_id, shape, petitions[i], incidents[i]))
        report.universities.append(Loaded(tenant_id, uni.slug))
    if spec.jobs > 1 and url is not None and len(work) > 1:
        parts = [work[k :: spec.jobs] for k in range(spec.jobs)]
        with ProcessPoolExecutor(spec.jobs) as pool:
            results = [r for part in pool.map(_load_in_process, *zip(*[(url, data_key, p, spec) for p in parts],
                                                                     strict=True)) for r in part]  # fmt: skip
    else:
        results = [await load(db, t, shape, spec, p, i) for t, shape, p, i in work]
    by_id = {r.tenant_id: r for r in results}
    for loaded in report.universities:
        done = by_id[loaded.tenant_id]
        loaded.petitions, loaded.events, loaded.incidents = done.petitions, done.events, done.incidents
    report.seconds = time.perf_counter() - t0
    return report


__all__ = ["Report", "Spec", "generate"]
