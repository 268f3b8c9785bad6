"""Early warning, precision and recall: surges planted into generated submission streams with known ground truth.

    .venv/bin/python -m tests.bench.early_warning [SEED]

The generator (this file's own, simple and seeded): each university has eight categories with base rates from
0.5 to 6 petitions a day, each routed to one of five units (so a unit's baseline is the sum of its categories'),
fifteen places of which 40% of petitions carry one; volume follows the week (weekends at half), the day (office
hours) and the semester (a slow ±30% wave), drawn as Poisson counts per hour. Planted surges: 6 to 16 extra
petitions of one category (hence one unit) from one place, spread over 2 to 12 hours — a canteen, a dormitory,
a fee rise.

The detector of ``analytics.warnings.rules`` (default method: 24 h window, 28-day baseline, at least 5, p ≤ 1e-4) scans
every hour after the first 30 days; the keys surging together on the same petitions are grouped into one warning
and warnings are deduplicated exactly as the scan does (``group_surges``, ``same_surge``). A warning is *true* when
a planted surge of its university has one of its keys (the surge's category, unit or place) and the warning falls
between the surge's start and one window after its end. Precision = true warnings / warnings; recall = planted
surges with at least one true warning / planted surges; warnings per surge = true warnings / detected surges.
The baseline is the same detector without grouping (one warning per surging key, as before). Writes
``.xinfang/bench/early_warning.json``.
"""

from __future__ import annotations

import json
import math
import random
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl

from analytics.warnings.rules import SUBMISSIONS_SCHEMA, Method, group_surges, same_surge, surges

ROOT = Path(__file__).resolve().parents[2]
START = datetime(2026, 2, 23, tzinfo=UTC)  # a Monday, the start of a spring semester
HOUR_PROFILE = [0.2] * 7 + [0.6, 1.2, 1.6, 1.6, 1.4, 1.0, 1.2, 1.5, 1.5, 1.4, 1.2, 1.0, 0.9, 0.8, 0.6, 0.4, 0.3]


@dataclass(frozen=True)
class Surge:
    tenant: str
    category: str
    unit: str
    place: str
    start: datetime
    end: datetime
    size: int

    def key_set(self) -> set[tuple[str, str]]:
        return {("category", self.category), ("org_unit", self.unit), ("place", self.place)}


def _poisson(rng: random.Random, lam: float) -> int:
    # Knuth's method: rates per hour here are small.
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def generate(
    seed: int, *, tenants: int = 5, days: int = 70, surges_per_tenant: int = 6, surge_from_day: int = 32
) -> tuple[pl.DataFrame, list[Surge]]:
    """A submissions frame (``SUBMISSIONS_SCHEMA``) and the surges planted in it."""
    rng = random.Random(seed)
    rows: list[tuple[str, datetime, str, str, str | None]] = []
    planted: list[Surge] = []
    profile_sum = sum(HOUR_PROFILE)
    for t in range(tenants):
        tenant = f"t{t}"
        categories = [f"c{i}" for i in range(8)]
        rate = {c: rng.uniform(0.5, 6.0) for c in categories}
        unit_of = {c: f"{tenant}-u{rng.randrange(5)}" for c in categories}
        places = [f"p{i}" for i in range(15)]
        place_weights = [rng.uniform(0.2, 3.0) for _ in places]
        for day in range(days):
            weekday = (START + timedelta(days=day)).weekday()
            season = 1 + 0.3 * math.sin(2 * math.pi * day / 120)
            factor = (0.5 if weekday >= 5 else 1.0) * season
            for hour, weight in enumerate(HOUR_PROFILE):
                at = START + timedelta(days=day, hours=hour)
                for c in categories:
                    for _ in range(_poisson(rng, rate[c] * factor * weight / profile_sum)):
                        place = rng.choices(places, place_weights)[0] if rng.random() < 0.4 else None
                        rows.append((tenant, at + timedelta(seconds=rng.randrange(3600)), c, unit_of[c], place))
        # Surges, apart from each other so the ground truth is unambiguous.
        starts = sorted(rng.sample(range(surge_from_day * 24, (days - 1) * 24), surges_per_tenant * 3))
        chosen: list[int] = []
        for s in starts:
            if all(abs(s - c) > 72 for c in chosen):
                chosen.append(s)
            if len(chosen) == surges_per_tenant:
                break
        for s in chosen:
            c = rng.choice(categories)
            place = rng.choice(places)
            size = rng.randint(6, 16)
            duration = timedelta(hours=rng.randint(2, 12))
            begin = START + timedelta(hours=s)
            times = sorted(begin + duration * rng.random() for _ in range(size))
            rows += [(tenant, at, c, unit_of[c], place) for at in times]
            planted.append(Surge(tenant, c, unit_of[c], place, begin, times[-1], size))
    frame = pl.DataFrame(rows, schema=SUBMISSIONS_SCHEMA, orient="row").sort("received_at")
    return frame, planted


def detect(
    frame: pl.DataFrame, *, first: datetime, last: datetime, every: timedelta, method: Method, grouped: bool = True
) -> list[dict[str, Any]]:
    """Scan at every ``every`` from ``first`` to ``last``; new surges only, deduplicated like the scan: a surge
    continues a warning when one of its keys was seen surging within one window. ``grouped=False``: one warning
    per key, the detector before grouping."""
    last_seen: dict[tuple[str, str, str], datetime] = {}
    raised: list[dict[str, Any]] = []
    now = first
    while now <= last:
        found = surges(frame, now, method)
        groups = group_surges(frame, found, now, method) if grouped else [[r] for r in found.iter_rows(named=True)]
        for group in groups:
            keys = [(str(r["tenant_id"]), str(r["key_kind"]), str(r["key"])) for r in group]
            if not any(same_surge(last_seen.get(k), now, method) for k in keys):
                raised.append({**group[0], "keys": {k[1:] for k in keys}, "raised_at": now})
            for k in keys:
                last_seen[k] = now
        now += every
    return raised


def evaluate(raised: list[dict[str, Any]], planted: list[Surge], method: Method) -> dict[str, Any]:
    def matches(w: dict[str, Any], s: Surge) -> bool:
        return (
            w["tenant_id"] == s.tenant
            and bool(w["keys"] & s.key_set())
            and s.start <= w["raised_at"] <= s.end + method.window
        )

    true = [w for w in raised if any(matches(w, s) for s in planted)]
    found = [s for s in planted if any(matches(w, s) for w in raised)]
    delays = sorted(
        (min(w["raised_at"] for w in raised if matches(w, s)) - s.start) / timedelta(hours=1) for s in found
    )
    return {
        "warnings": len(raised),
        "true_warnings": len(true),
        "planted": len(planted),
        "detected": len(found),
        "precision": len(true) / len(raised) if raised else 1.0,
        "recall": len(found) / len(planted) if planted else 1.0,
        "warnings_per_surge": round(len(true) / len(found), 2) if found else None,
        "median_hours_to_detect": delays[len(delays) // 2] if delays else None,
    }


def run(
    seed: int = 7, *, tenants: int = 5, days: int = 70, every_hours: int = 1, grouped: bool = True
) -> dict[str, Any]:
    method = Method()
    frame, planted = generate(seed, tenants=tenants, days=days)
    started = time.perf_counter()
    first = START + timedelta(days=30)
    raised = detect(frame, first=first, last=START + timedelta(days=days), every=timedelta(hours=every_hours),
                    method=method, grouped=grouped)  # fmt: skip
    seconds = time.perf_counter() - started
    scans = int((START + timedelta(days=days) - first) / timedelta(hours=every_hours)) + 1
    return {
        "seed": seed,
        "grouped": grouped,
        "universities": tenants,
        "days": days,
        "petitions": frame.height,
        "scan_every_hours": every_hours,
        "scans": scans,
        "ms_per_scan": round(1000 * seconds / scans, 2),
        "method": {
            "window_hours": method.window / timedelta(hours=1),
            "baseline_days": method.baseline / timedelta(days=1),
            "min_count": method.min_count,
            "alpha": method.alpha,
        },
        **evaluate(raised, planted, method),
    }


def pooled(results: list[dict[str, Any]]) -> dict[str, Any]:
    warnings = sum(r["warnings"] for r in results)
    detected = sum(r["detected"] for r in results)
    return {
        "warnings": warnings,
        "planted": sum(r["planted"] for r in results),
        "precision": sum(r["true_warnings"] for r in results) / warnings if warnings else 1.0,
        "recall": detected / sum(r["planted"] for r in results),
        "warnings_per_surge": round(sum(r["true_warnings"] for r in results) / detected, 2) if detected else None,
    }


def main(seed: int = 7) -> None:
    seeds = range(seed, seed + 5)
    per_key = [run(s, grouped=False) for s in seeds]
    results = [run(s) for s in seeds]
    for result in results:
        print(
            f"  seed {result['seed']}: {result['petitions']} petitions, {result['planted']} surges planted, "
            f"{result['warnings']} warnings; precision {result['precision']:.3f}, recall {result['recall']:.3f}, "
            f"{result['warnings_per_surge']} warnings per surge, "
            f"median {result['median_hours_to_detect']} h to detect, {result['ms_per_scan']} ms per scan"
        )
    grouped, baseline = pooled(results), pooled(per_key)
    for label, p in (("pooled, one warning per surge", grouped), ("baseline, one warning per key", baseline)):
        print(
            f"  {label}: {p['warnings']} warnings, precision {p['precision']:.3f}, recall {p['recall']:.3f}, "
            f"{p['warnings_per_surge']} warnings per surge"
        )
    # The ratio: how many fewer warnings a person reads for the same surges (baseline per surge / grouped).
    ratio = round(baseline["warnings_per_surge"] / grouped["warnings_per_surge"], 2)
    passed = grouped["precision"] >= 0.85 and grouped["recall"] >= 0.85 and grouped["warnings_per_surge"] <= 1.2
    summary = {
        "name": "early_warning",
        "figures": {"seeds": list(seeds), **grouped, "runs": results},
        "baseline": {"what": "the same detector, one warning per surging key", **baseline},
        "ratio": ratio,
        "target": "precision and recall >= 0.85, at most 1.2 warnings per detected surge",
        "passed": passed,
    }
    print(f"  ratio (warnings per surge, per key / grouped) {ratio}; passed {passed}")
    out = ROOT / ".xinfang" / "bench" / "early_warning.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=2, default=str))
    print(f"  written to {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 7)
