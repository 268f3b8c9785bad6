"""The bureau viewer's API: aggregates of the universities of the viewer's province, never a tenant's raw data.

A bureau viewer is a platform account bound to a province (``province_code``); it carries no tenant, so every
tenant route refuses it (their guards name tenant roles) and row-level security would show it nothing anyway.
The figures come from the precomputed cells that workers fold from each university's journal
(``analytics.province.jobs``; no journal is read on a request), read for the whole province in one statement
through the platform path, and every figure is suppressed by ``analytics.province.disclosure`` on the whole table before
it is returned: ``null`` is a suppressed value or no data, and each row lists the names it suppressed. A
university of another province is a 404, like an unknown one.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from litestar import Controller, get
from litestar.datastructures import State
from litestar.params import FromPath, QueryParameter

from analytics.forecasts import compute as forecast_compute
from analytics.forecasts import store as forecasts
from analytics.province import cells as province_cells
from analytics.province import jobs as province_jobs
from analytics.province import statistics as province
from analytics.province.disclosure import Protected
from service.http.deps import Caller
from service.http.security import requires
from tenants.clock import utcnow
from tenants.errors import Invalid, NotFound
from tenants.identity import Principal, Role
from tenants.provinces import PROVINCES

VIEWER = requires(Role.bureau_viewer)
Year = Annotated[int, QueryParameter(ge=2000, le=2100, description="calendar year (each university's local time)")]
Quarter = Annotated[int | None, QueryParameter(ge=1, le=4, description="quarter 1-4; omit for the whole year")]


def window_of(year: int, quarter: int | None) -> province.Window:
    """The period asked for: a past or current year or quarter (else ``Invalid``)."""
    window = province.Window(year, quarter)
    if window.start > utcnow().date() + dt.timedelta(days=1):
        raise Invalid("the period has not started", errors=[{"field": "year", "message": "a past or current period"}])
    return window


def _province(principal: Principal) -> str:
    code = principal.province_code
    if not code:  # the account constraint makes this unreachable for a bureau viewer
        raise NotFound("no province")
    return code


async def _aggregates(state: State, principal: Principal, window: province.Window) -> dict[str, Any]:
    code = _province(principal)
    k = state.settings.disclosure_k
    data = await province_jobs.read(state.db, code, window)
    metrics, totals = province_cells.published_metrics(data.universities, data.cells, k=k)
    return {"code": code, "k": k, "data": data, "metrics": metrics, "totals": totals}


def _header(code: str, k: int, window: province.Window) -> dict[str, Any]:
    zh, en = PROVINCES[code[:2]]
    return {
        "province": {"code": code[:2] + "0000", "name_zh": zh, "name_en": en},
        "period": window.describe(),
        "disclosure_k": k,
    }


def _row(row: dict[str, Any]) -> dict[str, Any]:
    metrics = {m: row.get(m) for m in (*province.METRICS, *province.SCORES)}
    return {"metrics": metrics, "suppressed": province.suppressed(row)}


def _table(t: Protected, row_name: str, column_name: str) -> dict[str, Any]:
    """A protected table as JSON: its rows with their cells and total, the column totals and the grand total."""
    return {
        "rows": [
            {row_name: r, "cells": dict(zip(t.columns, t.cells[i], strict=True)), "total": t.row_totals[i]}
            for i, r in enumerate(t.rows)
        ],
        "column_totals": dict(zip(t.columns, t.column_totals, strict=True)),
        "total": t.total,
        "columns": column_name,
    }


def _counts(t: Protected, key: str) -> dict[str, Any]:
    """A one-way protected table as a list of {key, n} and its total."""
    return {"items": [{key: c, "n": n} for c, n in zip(t.columns, t.cells[0], strict=True)], "total": t.total}


async def aggregates(state: State, principal: Principal, window: province.Window) -> dict[str, Any]:
    """Per-university metrics and the province totals, suppressed (the API's answer and the console's)."""
    a = await _aggregates(state, principal, window)
    names = {r["tenant_id"]: r for r in a["data"].universities.to_dicts()}
    universities = [
        {"slug": names[r["tenant_id"]]["slug"], "name_zh": names[r["tenant_id"]]["name_zh"],
         "name_en": names[r["tenant_id"]]["name_en"], **_row(r)}
        for r in a["metrics"].to_dicts()
    ]  # fmt: skip
    universities.sort(key=lambda u: u["slug"])
    return {
        **_header(a["code"], a["k"], window),
        "universities": universities,
        "province_totals": _row(a["totals"].to_dicts()[0]),
    }


async def rankings(state: State, principal: Principal, window: province.Window) -> dict[str, Any]:
    """Universities ranked by each published score."""
    a = await _aggregates(state, principal, window)
    ranked = province.rankings(a["metrics"], a["data"].universities).drop("tenant_id")
    return {**_header(a["code"], a["k"], window), "rankings": ranked.to_dicts()}


async def statistics(state: State, principal: Principal, window: province.Window) -> dict[str, Any]:
    """The annual statistics of art. 41, suppressed."""
    code = _province(principal)
    k = state.settings.disclosure_k
    data = await province_jobs.read(state.db, code, window, dimensions=True)
    s = province_cells.published_statistics(data.universities, data.cells, data.dimensions, k=k)
    kinds = _table(s.kinds, "university", "kind")
    return {
        **_header(code, k, window),
        "volume": {
            "by_university": [{"university": r["university"], "n": r["total"]} for r in kinds["rows"]],
            "total": kinds["total"],
        },
        "kinds": kinds,
        "categories": _counts(s.categories, "category"),
        "unit_kinds": _counts(s.unit_kinds, "unit_kind"),
        "adopted_suggestions": _counts(s.adopted, "university"),
    }


async def forecasts_of(state: State, principal: Principal) -> dict[str, Any]:
    """Each university's latest forecasts and the province's total (the sum of the universities' totals; its
    interval combines theirs as independent errors). A category forecast under k petitions is suppressed
    (``null``), like a small count: the bureau sees volumes, never a handful of cases."""
    code = _province(principal)
    k = state.settings.disclosure_k
    data = await province_jobs.read(state.db, code, province.Window(utcnow().year, None))
    names = {r["tenant_id"]: r for r in data.universities.to_dicts()}
    by_tenant: dict[str, list[dict[str, Any]]] = {}
    for r in await forecasts.province(state.db, code):
        tid = str(r.tenant_id)
        if tid not in names:
            continue
        small = r.series != forecast_compute.TOTAL and r.petitions < k
        by_tenant.setdefault(tid, []).append(
            {
                "series": r.series,
                "quarter_start": r.quarter_start.isoformat(),
                "petitions": None if small else r.petitions,
                "lo": None if small else r.lo,
                "hi": None if small else r.hi,
                "suppressed": small,
                "model": r.model,
                "mase": r.mase,
                "baseline_mase": r.baseline_mase,
            }
        )
    universities, totals = [], []
    for tid, rows in sorted(by_tenant.items(), key=lambda kv: names[kv[0]]["slug"]):
        u = names[tid]
        universities.append({"slug": u["slug"], "name_zh": u["name_zh"], "name_en": u["name_en"], "series": rows})
        totals += [r for r in rows if r["series"] == forecast_compute.TOTAL]
    quarters = sorted({t["quarter_start"] for t in totals})
    mean = sum(t["petitions"] for t in totals)
    half = sum(((t["hi"] - t["lo"]) / 2) ** 2 for t in totals) ** 0.5
    zh, en = PROVINCES[code[:2]]
    return {
        "province": {"code": code, "name_zh": zh, "name_en": en},
        "k": k,
        "level": forecast_compute.LEVEL,
        "universities": universities,
        "province_total": {
            "quarter_start": quarters[-1] if quarters else None,
            "petitions": round(mean, 3),
            "lo": round(max(0.0, mean - half), 3),
            "hi": round(mean + half, 3),
            "universities": len(totals),
        },
    }


class BureauController(Controller):
    path = "/api/v1/bureau"
    tags = ["bureau"]

    @get("/aggregates", summary="Per-university metrics and province totals (suppressed)", **VIEWER)
    async def aggregates(self, state: State, principal: Caller, year: Year, quarter: Quarter = None) -> dict[str, Any]:
        return await aggregates(state, principal, window_of(year, quarter))

    @get("/universities/{slug:str}/metrics", summary="One university's metrics (suppressed)", **VIEWER)
    async def university(
        self, state: State, principal: Caller, slug: FromPath[str], year: Year, quarter: Quarter = None
    ) -> dict[str, Any]:
        window = window_of(year, quarter)
        a = await _aggregates(state, principal, window)
        # The same protected table as the province view: a single university's view must not undo the
        # complementary suppression of the others.
        match = a["data"].universities.filter(slug=slug)
        if match.is_empty():
            raise NotFound("no such university in your province")
        tenant = match.to_dicts()[0]
        row = a["metrics"].filter(tenant_id=tenant["tenant_id"]).to_dicts()[0]
        return {
            **_header(a["code"], a["k"], window),
            "university": {"slug": slug, "name_zh": tenant["name_zh"], "name_en": tenant["name_en"], **_row(row)},
        }

    @get("/rankings", summary="Universities ranked by each published score", **VIEWER)
    async def rankings(self, state: State, principal: Caller, year: Year, quarter: Quarter = None) -> dict[str, Any]:
        return await rankings(state, principal, window_of(year, quarter))

    @get("/statistics", summary="Annual statistics of art. 41 (suppressed)", **VIEWER)
    async def statistics(self, state: State, principal: Caller, year: Year, quarter: Quarter = None) -> dict[str, Any]:
        return await statistics(state, principal, window_of(year, quarter))

    @get("/forecasts", summary="Next quarter's petition volume per university, category and province", **VIEWER)
    async def forecasts(self, state: State, principal: Caller) -> dict[str, Any]:
        """Each university's latest forecasts and the province's total (the sum of the universities' totals; its
        interval combines theirs as independent errors). A category forecast under k petitions is suppressed
        (``null``), like a small count: the bureau sees volumes, never a handful of cases."""
        return await forecasts_of(state, principal)
