"""Province aggregates in Polars: the computation behind ``/api/v1/bureau/aggregates`` and ``…/statistics`` on a
generated journal (no database: extraction is measured by the ``analytics`` benchmark).

    .venv/bin/python -m tests.bench.province [UNIVERSITIES] [PETITIONS_PER_UNIVERSITY]

Each petition: submitted, accepted, assigned, (a third) transferred, replied, (two thirds) rated — six to seven
events, spread over one year in Asia/Shanghai. Writes ``.xinfang/bench/province.json``.
"""

from __future__ import annotations

import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import polars as pl

from analytics.metrics import JOURNAL_SCHEMA
from analytics.province.statistics import (
    UNIT_SCHEMA,
    UNIVERSITY_SCHEMA,
    ProvinceData,
    Window,
    statistics,
    university_metrics,
)

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2025, 12, 20, tzinfo=UTC)


def generate(universities: int, per_university: int, seed: int = 1) -> ProvinceData:
    rng = random.Random(seed)
    cols: dict[str, list[object]] = {c: [] for c in JOURNAL_SCHEMA}

    def add(tenant: str, at: datetime, type_: str, petition: str, unit: str, kind: str, category: str, **extra: object):
        row = {"tenant_id": tenant, "occurred_at": at, "type": "petition." + type_, "petition_id": petition,
               "org_unit_id": unit, "kind": kind, "category": category, **extra}  # fmt: skip
        for c in JOURNAL_SCHEMA:
            cols[c].append(row.get(c))

    units = []
    for u in range(universities):
        tenant = f"t{u:03d}"
        for i in range(6):
            units.append((tenant, f"{tenant}-u{i}", rng.choice(["office", "college", "center"])))
        for p in range(per_university):
            pid = f"{tenant}-{p}"
            unit = f"{tenant}-u{rng.randrange(6)}"
            kind = rng.choice(["suggestion", "complaint", "complaint", "accusation"])
            category = f"c{rng.randrange(12)}"
            at = START + timedelta(minutes=rng.randrange(380 * 24 * 60))
            add(tenant, at, "submitted", pid, unit, kind, category, channel="online")
            at += timedelta(hours=rng.randrange(1, 400))
            add(tenant, at, "accepted", pid, unit, kind, category, days=1)
            at += timedelta(hours=2)
            add(tenant, at, "assigned", pid, unit, kind, category)
            if rng.random() < 0.33:
                at += timedelta(hours=20)
                add(tenant, at, "transferred", pid, unit, kind, category, from_unit=unit)
            at += timedelta(hours=rng.randrange(24, 1600))
            add(tenant, at, "replied", pid, unit, kind, category, outcome=rng.choice(["supported", "explained"]))
            if rng.random() < 0.66:
                at += timedelta(days=2)
                add(tenant, at, "rated", pid, unit, kind, category, rating="satisfied", stage="reply")
    names = [f"t{u:03d}" for u in range(universities)]
    return ProvinceData(
        universities=pl.DataFrame(
            [(t, t, t, t, "Asia/Shanghai") for t in names], schema=UNIVERSITY_SCHEMA, orient="row"
        ),
        journal=pl.DataFrame(cols, schema=JOURNAL_SCHEMA),
        units=pl.DataFrame(units, schema=UNIT_SCHEMA, orient="row"),
        zones=dict.fromkeys(names, "Asia/Shanghai"),
    )


def main(universities: int = 50, per_university: int = 4_000) -> None:
    data = generate(universities, per_university)
    print(f"  {universities} universities, {universities * per_university:,} petitions, {data.journal.height:,} events")
    result: dict[str, object] = {"universities": universities, "petitions": universities * per_university,
                                 "events": data.journal.height}  # fmt: skip
    for name, fn in (
        ("quarter aggregates", lambda: university_metrics(data, Window(2026, 2))),
        ("year aggregates", lambda: university_metrics(data, Window(2026))),
        ("year statistics", lambda: statistics(data, Window(2026))),
    ):
        times = []
        for _ in range(3):
            started = time.perf_counter()
            fn()
            times.append(time.perf_counter() - started)
        result[name] = round(min(times), 3)
        print(f"  {name}: best of 3 {min(times):.3f} s")
    out = ROOT / ".xinfang" / "bench" / "province.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
