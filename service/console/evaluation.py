"""Evaluation in the console (§6): the university's reports (list by period, one report with its charts and
tables, its downloads), the petition office's live dashboard, and the education bureau's dashboard of its
province's universities.

Each page calls what the API calls: the reports' store and renditions under the reports API's read rule
(``service.reports.controllers.READ``), the petition scope of the list API for the dashboard, and the bureau
API's own functions (suppressed figures only) for the bureau. Charts are the reports' server-drawn SVG, each with
its numbers in a table beside it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any, cast

from litestar import Controller, Request, Response, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Template
from markupsafe import Markup

from analytics.province import statistics as province
from analytics.reports import render, store
from analytics.reports.periods import KINDS, Kind
from analytics.warnings import services as warning_scan
from analytics.warnings.services import WarningState
from service.bureau import controllers as bureau
from service.console import dashboard, i18n, pages
from service.console.session import bureau_only, staff_only
from service.http.deps import Caller, Session
from service.petitions import services as petitions
from service.petitions.workflow import State as PState
from service.reports import controllers as reports_api
from service.warnings import controllers as warnings
from tenants import org
from tenants.clock import utcnow
from tenants.errors import Invalid, NotFound
from tenants.plans.document import Bullets, Heading, Para, Table

# The reports API's read rule, as the console's own guard (after the console's sign-in guard).
REPORT_READERS = [staff_only, *reports_api.READ["guards"]]
DOWNLOADS = ("pdf", "xlsx", "csv", "parquet")
DIMENSIONS = ("timeliness", "coordination", "information_release", "satisfaction")
SCORES = (*(f"{d}_score" for d in DIMENSIONS), "overall_score")
KINDS_OF_PETITION = province.KINDS


def period_label(kind: str, start: dt.date, lang: str) -> str:
    """A report's period as people name it: ``2026年第3季度`` / ``2026 Q3``, ``2026年10月`` / ``2026-10``."""
    if kind == "quarterly":
        q = (start.month - 1) // 3 + 1
        return f"{start.year}年第{q}季度" if lang == "zh-CN" else f"{start.year} Q{q}"
    if kind == "monthly":
        return f"{start.year}年{start.month}月" if lang == "zh-CN" else f"{start.year}-{start.month:02d}"
    return f"{start.year}年" if lang == "zh-CN" else str(start.year)


def report_sections(content: Mapping[str, Any], lang: render.Lang) -> tuple[str, list[dict[str, Any]]]:
    """The report's title and its sections as the page shows them: the rendition's own blocks (so the page, the
    PDF and the HTML say the same), each chart paired with the table of its numbers."""
    items = render.blocks(content, lang, charts=True)
    title = ""
    out: list[dict[str, Any]] = []
    pending: dict[str, Any] | None = None
    for b in items:
        match b:
            case render.Chart() as chart:
                pending = {"type": "figure", "svg": Markup(chart.svg), "caption": chart.title}
                out.append(pending)
                continue
            case Heading(level=0, text=text):
                title = text
            case Heading(level=level, text=text):
                out.append({"type": "heading", "level": level + 1, "text": text})
            case Para(text=text):
                out.append({"type": "para", "text": text})
            case Bullets(items=bullets):
                out.append({"type": "bullets", "items": bullets})
            case Table(header=header, rows=rows):
                table = {"header": header, "rows": rows}
                if pending is not None:
                    pending["table"] = table
                else:
                    out.append({"type": "table", **table})
        pending = None
    return title, out


class ReportPageController(Controller):
    path = "/console/reports"
    guards = REPORT_READERS
    include_in_schema = False

    @get("/")
    async def list_reports(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        """The current revision of each closed period's report, newest first, a month, a quarter or a year."""
        asked = request.query_params.get("kind")
        kind = cast(Kind, asked if asked in KINDS else "quarterly")
        lang = pages.lang_of(request)
        rows, _ = await store.list_reports(db_session, kind=kind, limit=200)
        latest = await store.latest_revisions(db_session)
        shown = [
            {"r": r, "period": period_label(r.kind, r.period_start, lang)}
            for r in rows
            if r.revision == latest[(r.kind, r.period_start)]
        ]
        return pages.page(
            request,
            "reports.html",
            zone=await petitions.tenant_zone(db_session),
            kind=kind,
            kinds=KINDS,
            reports=shown,
            switch_url=pages.switch_to(request, "/console/reports") + f"&kind={kind}",
        )

    @get("/{report_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], report_id: FromPath[uuid.UUID], db_session: Session
    ) -> Template:
        report = await store.get_report(db_session, report_id)
        lang = cast(render.Lang, pages.lang_of(request))
        content = report.data()
        content["revision"] = report.revision
        title, sections = report_sections(content, lang)
        latest = await store.latest_revisions(db_session)
        return pages.page(
            request,
            "report.html",
            zone=await petitions.tenant_zone(db_session),
            report=report,
            current=report.revision == latest[(report.kind, report.period_start)],
            period=period_label(report.kind, report.period_start, lang),
            title=title,
            sections=sections,
            downloads=DOWNLOADS,
        )

    @get("/{report_id:uuid}/{file:str}")
    async def download(
        self, request: Request[Any, Any, Any], report_id: FromPath[uuid.UUID], file: FromPath[str], db_session: Session
    ) -> Response[bytes]:
        """The API's renditions (the same bytes), in the page's language: the files (the page itself stands for
        the HTML rendition)."""
        if file not in {f"report.{f}" for f in DOWNLOADS}:
            raise NotFound("no such download: report.pdf, .xlsx, .csv or .parquet")
        lang = cast(render.Lang, pages.lang_of(request))
        answer = await reports_api.rendition(db_session, report_id, file, lang)
        answer.headers.update(pages.SECURITY_HEADERS)
        return answer


class DashboardController(Controller):
    path = "/console/dashboard"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def dashboard(self, request: Request[Any, Any, Any], db_session: Session, principal: Caller) -> Template:
        """Open petitions by state and urgency, overdue ones by unit, this month against the same month a year
        before, and the open warnings, all in the caller's scope."""
        lang = pages.lang_of(request)
        now = utcnow()
        zone = await petitions.tenant_zone(db_session)
        by_state = await dashboard.open_by_state(db_session, principal, now)
        overdue = await dashboard.overdue_by_unit(db_session, principal, now)
        units = {u.id: (u.name_en if lang == "en" else u.name_zh) for u in await org.all_units(db_session)}
        intake = await dashboard.intake(db_session, principal, now, zone)
        open_warnings = await warning_scan.list_warnings(db_session, state=WarningState.open, limit=20)
        states = [str(s) for s in PState if str(s) in by_state]
        totals = {u: sum(row[u] for row in by_state.values()) for u in dashboard.URGENCIES}
        return pages.page(
            request,
            "dashboard.html",
            zone=zone,
            now=now,
            states=states,
            by_state=by_state,
            urgencies=dashboard.URGENCIES,
            totals=totals,
            overdue=[(units.get(u, "") if u else None, n) for u, n in overdue],
            intake=intake,
            change=_change(intake.this_year, intake.same_days_last_year),
            warnings=[await warnings.named(db_session, w) for w in open_warnings],
            switch_url=pages.switch_to(request, "/console/dashboard"),
        )


def _change(now: int, before: int) -> str | None:
    """The change as a signed percentage (``+25%``); none when there was nothing a year before."""
    if before == 0:
        return None
    return f"{100 * (now - before) / before:+.0f}%"


# --- the bureau ---------------------------------------------------------------------------------------------------


SUPPRESSED = "suppressed"


def cell(value: Any, suppressed: bool, *, share: bool = False) -> dict[str, Any]:
    """A figure as the bureau's tables show it: ``suppressed`` (never a zero) when disclosure control hid it, a
    dash when there is no data, else the number."""
    if suppressed:
        return {"suppressed": True, "text": SUPPRESSED}
    if value is None:
        return {"suppressed": False, "text": "—"}
    if share:
        return {"suppressed": False, "text": f"{100 * value:.1f}%"}
    if isinstance(value, float):
        return {"suppressed": False, "text": f"{value:.1f}"}
    return {"suppressed": False, "text": str(value)}


def _name(row: Mapping[str, Any], lang: str) -> str:
    return str(row["name_en"] if lang == "en" else row["name_zh"])


def _window(request: Request[Any, Any, Any]) -> province.Window:
    """The period asked for (``year`` and ``quarter`` in the query; default: this quarter in China)."""
    today = utcnow().astimezone(pages.SHANGHAI).date()
    try:
        year = int(request.query_params.get("year") or today.year)
        raw = request.query_params.get("quarter")
        quarter = None if raw == "all" else int(raw or (today.month - 1) // 3 + 1)
    except ValueError:
        raise Invalid("year and quarter are numbers") from None
    if not 2000 <= year <= 2100 or (quarter is not None and not 1 <= quarter <= 4):
        raise Invalid("no such period")
    return bureau.window_of(year, quarter)


def score_rows(
    universities: Sequence[Mapping[str, Any]], names: Callable[[Mapping[str, Any]], str]
) -> list[dict[str, Any]]:
    """Each university's dimension scores and volume, suppressed cells marked (a score rests on published
    figures only, so a score is ``suppressed`` when a figure it needs was)."""
    out = []
    for u in universities:
        hidden = set(u["suppressed"])
        metrics = u["metrics"]
        out.append(
            {
                "name": names(u),
                "scores": [cell(metrics.get(s), metrics.get(s) is None and bool(hidden)) for s in SCORES],
                "decisions": cell(metrics.get("decisions"), "decisions" in hidden),
                "on_time": cell(metrics.get("conclude_on_time_share"), "conclude_on_time_share" in hidden, share=True),
            }
        )
    return out


class BureauPageController(Controller):
    path = "/console/bureau"
    guards = [bureau_only]
    include_in_schema = False

    @get("/")
    async def overview(self, request: Request[Any, Any, Any], state: State, principal: Caller) -> Template:
        """The province's universities side by side for a period: scores and rankings, volumes and the quarters'
        trend, the statistics of art. 41, and next quarter's forecasts."""
        lang = pages.lang_of(request)
        window = _window(request)
        agg = await bureau.aggregates(state, principal, window)
        ranked = await bureau.rankings(state, principal, window)
        stats = await bureau.statistics(state, principal, window)
        forecast = await bureau.forecasts_of(state, principal)
        by_slug = {u["slug"]: u for u in agg["universities"]}

        def named(u: Mapping[str, Any]) -> str:
            return _name(u, lang)

        scores = score_rows(agg["universities"], named)
        total = _t(lang, "eval.bureau.province_total")
        province_row = score_rows([agg["province_totals"]], lambda _: total)[0]
        rankings = [
            {
                "name": named(by_slug[r["slug"]]) if r["slug"] in by_slug else r["slug"],
                "rank": r["overall_rank"],
                "score": r["overall_score"],
                "ranks": [r[s.replace("_score", "_rank")] for s in SCORES],
            }
            for r in ranked["rankings"]
        ]
        chart = render.Chart(
            "bars",
            _t(lang, "eval.bureau.rank_chart"),
            [r["name"] for r in rankings],
            {_t(lang, "eval.overall"): [r["score"] for r in rankings]},
        )
        trend = await _quarter_trend(state, principal, window, lang)
        kinds = stats["kinds"]
        names_by_university = {u["slug"]: named(u) for u in agg["universities"]}
        return pages.page(
            request,
            "bureau.html",
            window=window,
            period=_window_label(window, lang),
            province=agg["province"],
            k=agg["disclosure_k"],
            scores=scores,
            province_row=province_row,
            rankings=rankings,
            chart=Markup(chart.svg),
            trend=trend,
            kinds=kinds,
            kind_names=KINDS_OF_PETITION,
            unit_kind_words={k for k in i18n.MESSAGES if k.startswith("eval.unitkind.")},
            university_names=names_by_university,
            volume=stats["volume"],
            categories=stats["categories"],
            unit_kinds=stats["unit_kinds"],
            adopted=stats["adopted_suggestions"],
            forecast=forecast,
            years=range(window.year - 4, window.year + 1),
            switch_url=pages.switch_to(request, "/console/bureau")
            + f"&year={window.year}&quarter={window.quarter or 'all'}",
        )


def _t(lang: str, key: str) -> str:
    return i18n.translator(lang)(key)


def _window_label(window: province.Window, lang: str) -> str:
    if window.quarter is None:
        return f"{window.year}年" if lang == "zh-CN" else str(window.year)
    return f"{window.year}年第{window.quarter}季度" if lang == "zh-CN" else f"{window.year} Q{window.quarter}"


async def _quarter_trend(state: State, principal: Any, window: province.Window, lang: str) -> dict[str, Any]:
    """Each university's overall score and volume in each quarter of the year so far (suppressed as published)."""
    today = utcnow().astimezone(pages.SHANGHAI).date()
    last = 4 if window.year < today.year else (today.month - 1) // 3 + 1
    quarters = [province.Window(window.year, q) for q in range(1, last + 1)]
    rows: dict[str, dict[str, Any]] = {}
    for q in quarters:
        agg = await bureau.aggregates(state, principal, q)
        for u in agg["universities"]:
            entry = rows.setdefault(u["slug"], {"name": _name(u, lang), "scores": [], "cells": [], "volumes": []})
            hidden = set(u["suppressed"])
            score = u["metrics"].get("overall_score")
            entry["scores"].append(score)
            entry["cells"].append(cell(score, score is None and bool(hidden)))
            entry["volumes"].append(cell(u["metrics"].get("decisions"), "decisions" in hidden))
    labels = [f"Q{q.quarter}" for q in quarters]
    chart = render.Chart(
        "trend",
        _t(lang, "eval.bureau.trend_chart"),
        labels,
        {r["name"]: r["scores"] for r in rows.values()},
    )
    return {
        "labels": labels,
        "rows": [{"name": r["name"], "scores": r["cells"], "volumes": r["volumes"]} for r in rows.values()],
        "svg": Markup(chart.svg),
    }
