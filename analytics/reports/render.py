"""A stored report rendered for people and for tools: HTML with inline SVG charts, PDF (embedded CJK font, as the
plan document), and the underlying tables as CSV, XLSX and Parquet. zh-CN or en.

Rendering is pure: the snapshot's content in, bytes out. Charts are drawn here as SVG (a line per score over
the trend periods; a bar per unit) so no charting library or browser script is needed.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import polars as pl

from analytics.metrics.catalogue import CATALOGUE
from analytics.reports.compute import table_frame
from analytics.reports.findings import STEP_LABELS, duration
from tenants.plans.document import Block, Bullets, Heading, Para, Table, render_pdf

Lang = Literal["zh-CN", "en"]
Format = Literal["html", "pdf", "csv", "xlsx", "parquet"]
MEDIA_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "parquet": "application/vnd.apache.parquet",
}

_L: dict[str, dict[str, str]] = {
    "zh-CN": {
        "title": "{u}信访工作{p}评估报告",
        "monthly": "月度",
        "quarterly": "季度",
        "yearly": "年度",
        "period": "评估期间：{s}至{e}（{z}）",
        "meta": "第{r}次生成；预案版本：{v}；数据截至日志序号{seq}（共{n}条事件）",
        "no_plan": "默认预案",
        "scores": "一、综合评分",
        "dimension": "评估维度",
        "score": "得分",
        "weight": "权重",
        "overall": "综合得分",
        "findings": "二、发现的问题",
        "no_findings": "本期未发现低于目标的部门或环节。",
        "trend": "三、趋势",
        "units": "四、各部门比较",
        "unit": "部门",
        "categories": "五、按类别",
        "kinds": "六、按信访类型",
        "category": "类别",
        "kind": "类型",
        "totals": "七、主要指标",
        "metric": "指标",
        "value": "数值",
        "empty": "本期无数据。",
        "none": "—",
        "no_unit": "（未指定部门）",
        "timeliness": "及时性与有效性",
        "coordination": "协调配合",
        "information_release": "信息发布",
        "satisfaction": "满意度",
        "suggestion": "建议意见类",
        "accusation": "检举控告类",
        "complaint": "申诉求决类",
        "incidents": "八、突发事件处置",
        "drills": "九、应急演练（单列，不计入评分）",
        "no_incidents": "本期无突发事件。",
        "no_drills": "本期无应急演练。",
        "supervision": "十、督查督办",
        "no_supervision": "本期未下达督办单。",
        "supervision_units": "各承办单位",
        "incident_steps": "各环节用时与预案时限（自报告起计）",
        "incident_release": "信息发布",
        "incident_tasks": "各部门任务办理",
        "step": "环节",
        "target": "预案时限",
        "reached": "已完成事件数",
        "mean_time": "平均用时",
        "on_time": "按时比例",
        "overdue_flags": "超时提醒",
        "on_time_chart": "各环节按时完成比例（%）",
        "units_chart": "各部门综合得分排名",
        "contents": "目录",
        "sheet": "工作表",
        "table": "数据表",
    },
    "en": {
        "title": "{u}: {p} petition work evaluation report",
        "monthly": "Monthly",
        "quarterly": "Quarterly",
        "yearly": "Yearly",
        "period": "Period: {s} to {e} ({z})",
        "meta": "Revision {r}; plan version: {v}; data up to journal sequence {seq} ({n} events)",
        "no_plan": "default plan",
        "scores": "1. Scores",
        "dimension": "Dimension",
        "score": "Score",
        "weight": "Weight",
        "overall": "Overall score",
        "findings": "2. Findings",
        "no_findings": "No unit or step fell below its target in this period.",
        "trend": "3. Trend",
        "units": "4. Units compared",
        "unit": "Unit",
        "categories": "5. By category",
        "kinds": "6. By kind",
        "category": "Category",
        "kind": "Kind",
        "totals": "7. Key figures",
        "metric": "Metric",
        "value": "Value",
        "empty": "No data in this period.",
        "none": "—",
        "no_unit": "(no unit)",
        "timeliness": "Timeliness and effectiveness",
        "coordination": "Coordination",
        "information_release": "Information release",
        "satisfaction": "Satisfaction",
        "suggestion": "Suggestion",
        "accusation": "Accusation",
        "complaint": "Complaint",
        "incidents": "8. Emergency incidents",
        "drills": "9. Drills (reported separately, not scored)",
        "no_incidents": "No incidents in this period.",
        "no_drills": "No drills in this period.",
        "supervision": "10. Supervision orders",
        "no_supervision": "No supervision order was issued in this period.",
        "supervision_units": "Per answering unit",
        "incident_steps": "Step times against the plan's targets (from the report)",
        "incident_release": "Information release",
        "incident_tasks": "Tasks per unit",
        "step": "Step",
        "target": "Plan target",
        "reached": "Incidents that reached it",
        "mean_time": "Mean time",
        "on_time": "Within target",
        "overdue_flags": "Overdue flags",
        "on_time_chart": "Share of incidents within the step's target (%)",
        "units_chart": "Units ranked by overall score",
        "contents": "Contents",
        "sheet": "Sheet",
        "table": "Table",
    },
}
DIMENSIONS = ("timeliness", "coordination", "information_release", "satisfaction")
# The columns the people-facing formats show per breakdown (the files carry every column).
KEY_FIGURES = (
    "decisions",
    "accept_within_15_share",
    "concluded",
    "conclude_on_time_share",
    "overdue",
    "assigned",
    "bounced_share",
    "ratings",
    "satisfied_share",
    "response_rate",
    "followups_outstanding",
)
COMPARE = ("overall_score", "decisions", "accept_within_15_share", "conclude_on_time_share", "overdue", "bounced_share")
# The incident figures shown in the documents (the files carry every column).
INCIDENT_FIGURES = (
    "incidents",
    "closed",
    "units_per_incident",
    "tasks_per_incident",
    "steps_overdue",
)
RELEASE_FIGURES = (
    "first_bulletin_minutes_mean",
    "first_bulletin_on_time_share",
    "bulletins",
    "cadence_share",
    "updates_missed",
    "correction_share",
    "status_page_share",
)
SUPERVISION_FIGURES = (
    "supervision_orders",
    "supervision_answered",
    "supervision_on_time_share",
    "supervision_overdue",
    "supervision_returns",
)
TASK_FIGURES = (
    "tasks",
    "ack_minutes_mean",
    "ack_on_time_share",
    "completed",
    "completed_on_time_share",
    "declines",
    "reassignments",
    "tasks_overdue",
)


def _last_day(end: str) -> str:
    """The period's last day (the stored end is exclusive)."""
    return (dt.date.fromisoformat(end) - dt.timedelta(days=1)).isoformat()


def _short(lang: Lang) -> Literal["zh", "en"]:
    return "zh" if lang == "zh-CN" else "en"


def _fmt(value: Any, column: str, lang: Lang) -> str:
    if value is None:
        return _L[lang]["none"]
    if isinstance(value, float):
        if column.endswith("_share") or column.endswith("_rate"):
            return f"{100 * value:.1f}%"
        return f"{value:.1f}"
    return str(value)


def _metric_label(column: str, lang: Lang) -> str:
    if column == "overall_score":
        return _L[lang]["overall"]
    if column.endswith("_score") and column[: -len("_score")] in DIMENSIONS:
        return _L[lang][column[: -len("_score")]]
    entry = CATALOGUE.get(column)
    return entry[_short(lang)] if entry else column


class View:
    """Lookup helpers over one report's content."""

    def __init__(self, content: Mapping[str, Any], lang: Lang) -> None:
        self.c = content
        self.lang = lang
        self.t = _L[lang]

    def frame(self, name: str) -> pl.DataFrame:
        return table_frame(self.c["tables"][name])

    def unit(self, unit_id: str | None) -> str:
        if unit_id is None:
            return self.t["no_unit"]
        names = self.c["labels"]["org_units"].get(unit_id)
        return names[_short(self.lang)] if names else unit_id

    def category(self, code: str | None) -> str:
        if code is None:
            return self.t["none"]
        names = self.c["labels"]["categories"].get(code)
        return names[_short(self.lang)] if names else code

    def kind(self, kind: str | None) -> str:
        return self.t.get(kind or "", kind or self.t["none"])

    def label(self, column: str, value: Any) -> str:
        if column == "org_unit_id":
            return self.unit(value)
        if column == "category":
            return self.category(value)
        if column == "kind":
            return self.kind(value)
        if column == "step":
            names = STEP_LABELS.get(value or "")
            return names[_short(self.lang)] if names else str(value)
        return str(value)

    def title(self) -> str:
        university = self.c["university"][_short(self.lang)]
        return self.t["title"].format(u=university, p=self.t[self.c["kind"]])


# --- charts -----------------------------------------------------------------------------------------------------

_COLOURS = ("#c0392b", "#2471a3", "#7d3c98", "#1e8449", "#b9770e")


def _esc(value: str) -> str:
    return html.escape(value, quote=True)


def trend_svg(periods: Sequence[str], series: Mapping[str, Sequence[float | None]], title: str) -> str:
    """A line chart of 0-100 scores over the periods (gaps where a period has no value)."""
    width, height, left, bottom, top = 640, 260, 40, 40, 30
    plot_w, plot_h = width - left - 150, height - bottom - top
    n = max(len(periods), 1)

    def x(i: int) -> float:
        return left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

    def y(v: float) -> float:
        return top + plot_h * (1 - v / 100)

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_esc(title)}" font-size="11">',
        f'<text x="{left}" y="16" font-size="13">{_esc(title)}</text>',
    ]
    for tick in (0, 25, 50, 75, 100):
        parts.append(f'<line x1="{left}" x2="{left + plot_w}" y1="{y(tick):.1f}" y2="{y(tick):.1f}" stroke="#ddd"/>')
        parts.append(f'<text x="{left - 6}" y="{y(tick) + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, p in enumerate(periods):
        parts.append(f'<text x="{x(i):.1f}" y="{height - bottom + 16}" text-anchor="middle">{_esc(p[:7])}</text>')
    for k, (name, values) in enumerate(series.items()):
        colour = _COLOURS[k % len(_COLOURS)]
        points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
        if len(points) > 1:
            path = " ".join(f"{px:.1f},{py:.1f}" for px, py in points)
            parts.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2" points="{path}"/>')
        for px, py in points:
            parts.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{colour}"/>')
        ly = top + 16 * k
        parts.append(f'<rect x="{left + plot_w + 12}" y="{ly - 8}" width="10" height="10" fill="{colour}"/>')
        parts.append(f'<text x="{left + plot_w + 26}" y="{ly + 1}">{_esc(name)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def bars_svg(labels: Sequence[str], values: Sequence[float | None], title: str) -> str:
    """A horizontal bar per unit (0-100); a unit without a value gets an empty bar and a dash."""
    row, left, width = 22, 180, 640
    height = 30 + row * max(len(labels), 1)
    scale = (width - left - 60) / 100
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{_esc(title)}" font-size="11">',
        f'<text x="4" y="16" font-size="13">{_esc(title)}</text>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 26 + i * row
        parts.append(f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{_esc(label[:24])}</text>')
        if value is not None:
            parts.append(
                f'<rect x="{left}" y="{y + 2}" width="{value * scale:.1f}" height="{row - 6}" fill="#2471a3"/>'
            )
        text = "—" if value is None else f"{value:.1f}"
        parts.append(f'<text x="{left + (value or 0) * scale + 6:.1f}" y="{y + 13}">{text}</text>')
    parts.append("</svg>")
    return "".join(parts)


# --- the document ---------------------------------------------------------------------------------------------


_KEY_HEADINGS = {"org_unit_id": "unit", "category": "category", "kind": "kind", "step": "step"}


def _rgb(colour: str) -> tuple[int, int, int]:
    return int(colour[1:3], 16), int(colour[3:5], 16), int(colour[5:7], 16)


@dataclass(frozen=True)
class Chart:
    """A chart of 0-100 values: ``trend`` (a line per series over the periods in ``labels``) or ``bars`` (one bar
    per label, of the single series). Drawn as SVG for the web and with the PDF's own drawing operators (lines,
    rectangles and text in the embedded CJK font) for the PDF, from the same numbers."""

    kind: Literal["trend", "bars"]
    title: str
    labels: list[str]
    series: dict[str, list[float | None]]

    @property
    def svg(self) -> str:
        if self.kind == "trend":
            return trend_svg(self.labels, self.series, self.title)
        return bars_svg(self.labels, next(iter(self.series.values()), []), self.title)

    def draw_pdf(self, pdf: Any) -> None:
        """Draw the chart at the current position of an fpdf2 document (a font named ``cjk`` registered)."""
        rows = max(len(self.labels), 1)
        height = 62.0 if self.kind == "trend" else 12.0 + 5.5 * rows
        if pdf.get_y() + height > pdf.page_break_trigger:
            pdf.add_page()
        x0, y0, width = pdf.l_margin, pdf.get_y(), pdf.epw
        pdf.set_font("cjk", size=9)
        pdf.set_text_color(0, 0, 0)
        pdf.text(x0, y0 + 4, self.title)
        pdf.set_font("cjk", size=6.5)
        if self.kind == "trend":
            self._trend_pdf(pdf, x0, y0 + 8, width, height - 16)
        else:
            self._bars_pdf(pdf, x0, y0 + 8, width)
        pdf.set_draw_color(0, 0, 0)
        pdf.set_text_color(0, 0, 0)
        pdf.set_y(y0 + height + 2)

    def _trend_pdf(self, pdf: Any, x0: float, top: float, width: float, plot_h: float) -> None:
        left, legend = 10.0, 42.0
        plot_w = width - left - legend
        n = max(len(self.labels), 1)

        def x(i: int) -> float:
            return x0 + left + (plot_w * i / (n - 1) if n > 1 else plot_w / 2)

        def y(v: float) -> float:
            return top + plot_h * (1 - v / 100)

        pdf.set_line_width(0.1)
        pdf.set_draw_color(210, 210, 210)
        for tick in (0, 25, 50, 75, 100):
            pdf.line(x0 + left, y(tick), x0 + left + plot_w, y(tick))
            pdf.text(x0, y(tick) + 1, str(tick))
        for i, label in enumerate(self.labels):
            pdf.text(x(i) - 5, top + plot_h + 5, label[:7])
        pdf.set_line_width(0.5)
        for k, (name, values) in enumerate(self.series.items()):
            r, g, b = _rgb(_COLOURS[k % len(_COLOURS)])
            pdf.set_draw_color(r, g, b)
            pdf.set_fill_color(r, g, b)
            points = [(x(i), y(v)) for i, v in enumerate(values) if v is not None]
            if len(points) > 1:
                pdf.polyline(points, style="D")
            for px, py in points:
                pdf.rect(px - 0.7, py - 0.7, 1.4, 1.4, style="F")
            ly = top + 5 * k
            pdf.rect(x0 + left + plot_w + 4, ly, 3, 3, style="F")
            pdf.text(x0 + left + plot_w + 9, ly + 2.6, name)
        pdf.set_line_width(0.2)

    def _bars_pdf(self, pdf: Any, x0: float, top: float, width: float) -> None:
        label_w, row = 48.0, 5.5
        scale = (width - label_w - 14) / 100
        r, g, b = _rgb(_COLOURS[1])
        pdf.set_fill_color(r, g, b)
        for i, (label, value) in enumerate(zip(self.labels, next(iter(self.series.values()), []), strict=True)):
            y = top + i * row
            pdf.text(x0, y + 3.6, label[:24])
            if value is not None:
                pdf.rect(x0 + label_w, y + 0.6, max(value * scale, 0.2), row - 1.4, style="F")
            text = "—" if value is None else f"{value:.1f}"
            pdf.text(x0 + label_w + (value or 0) * scale + 1.5, y + 3.6, text)


def _table(view: View, frame: pl.DataFrame, keys: Sequence[str], columns: Sequence[str]) -> Table:
    present = [c for c in columns if c in frame.columns]
    header = [view.t[_KEY_HEADINGS[k]] for k in keys] + [_metric_label(c, view.lang) for c in present]
    rows = [
        [view.label(k, row[k]) for k in keys] + [_fmt(row[c], c, view.lang) for c in present]
        for row in frame.iter_rows(named=True)
    ]
    return Table(header, rows)


def blocks(content: Mapping[str, Any], lang: Lang, *, charts: bool) -> list[Block | Chart]:
    """The report laid out as blocks (and charts, for HTML)."""
    v = View(content, lang)
    t = v.t
    out: list[Block | Chart] = [
        Heading(0, v.title()),
        Para(t["period"].format(s=content["period_start"], e=_last_day(content["period_end"]), z=content["timezone"])),
        Para(
            t["meta"].format(
                r=content.get("revision", 1),
                v=content["plan"]["number"] or t["no_plan"],
                seq=content["watermark"]["seq"],
                n=content["watermark"]["count"],
            )
        ),
        Heading(1, t["scores"]),
    ]
    total = v.frame("scores.total")
    weights = content["plan"]["weights"]
    score_row = total.row(0, named=True) if total.height else {}
    rows = [[t[d], _fmt(score_row.get(f"{d}_score"), "score", lang), f"{weights.get(d, 0):.2f}"] for d in DIMENSIONS]
    rows.append([t["overall"], _fmt(score_row.get("overall_score"), "score", lang), "1.00"])
    out.append(Table([t["dimension"], t["score"], t["weight"]], rows))

    out.append(Heading(1, t["findings"]))
    items = [f[_short(lang)] for f in content["findings"]]
    out.append(Bullets(items) if items else Para(t["no_findings"]))

    out.append(Heading(1, t["trend"]))
    trend = v.frame("scores.trend")
    if trend.height == 0:
        out.append(Para(t["empty"]))
    else:
        if charts:
            periods = [str(p) for p in trend.get_column("period").to_list()]
            series = {
                _metric_label(c, lang): trend.get_column(c).to_list()
                for c in ("overall_score", *(f"{d}_score" for d in DIMENSIONS))
                if trend.get_column(c).drop_nulls().len()
            }
            out.append(Chart("trend", t["trend"], [p[:7] for p in periods], series))
        out.append(_trend_table(v, trend))

    out.append(Heading(1, t["units"]))
    units = (
        v.frame("scores.org_unit")
        .join(v.frame("petitions.org_unit"), on="org_unit_id", how="full", coalesce=True, nulls_equal=True)
        # Ranked: the best overall score first, units without one last (by id, for a stable order).
        .sort(["overall_score", "org_unit_id"], descending=[True, False], nulls_last=True)
    )
    if units.height == 0:
        out.append(Para(t["empty"]))
    else:
        if charts:
            labels = [v.unit(u) for u in units.get_column("org_unit_id").to_list()]
            scores = units.get_column("overall_score").to_list()
            out.append(Chart("bars", t["units_chart"], labels, {t["overall"]: scores}))
        out.append(_table(v, units, ["org_unit_id"], COMPARE))

    for heading, name, key in (("categories", "category", "category"), ("kinds", "kind", "kind")):
        out.append(Heading(1, t[heading]))
        frame = v.frame(f"petitions.{name}")
        out.append(_table(v, frame, [key], KEY_FIGURES[:6]) if frame.height else Para(t["empty"]))

    out.append(Heading(1, t["totals"]))
    totals = v.frame("petitions.total")
    if totals.height == 0:
        out.append(Para(t["empty"]))
    else:
        row = totals.row(0, named=True)
        out.append(
            Table([t["metric"], t["value"]], [[_metric_label(c, lang), _fmt(row[c], c, lang)] for c in KEY_FIGURES])
        )
    out += _incident_blocks(v, "incidents", charts=charts)
    out += _incident_blocks(v, "drills", charts=charts)
    out += _supervision_blocks(v)
    return out


def _supervision_blocks(v: View) -> list[Block | Chart]:
    """Supervision orders issued in the period: key figures and one row per answering unit."""
    out: list[Block | Chart] = [Heading(1, v.t["supervision"])]
    total = v.frame("supervision.total") if "supervision.total" in v.c["tables"] else pl.DataFrame()
    if total.height == 0:
        out.append(Para(v.t["no_supervision"]))
        return out
    out.append(_figures(v, total.row(0, named=True), SUPERVISION_FIGURES))
    out.append(Heading(2, v.t["supervision_units"]))
    out.append(_table(v, v.frame("supervision.org_unit"), ["org_unit_id"], SUPERVISION_FIGURES))
    return out


def _figures(v: View, row: Mapping[str, Any], columns: Sequence[str]) -> Table:
    rows = [[_metric_label(c, v.lang), _fmt(row.get(c), c, v.lang)] for c in columns]
    return Table([v.t["metric"], v.t["value"]], rows)


def _incident_blocks(v: View, prefix: Literal["incidents", "drills"], *, charts: bool) -> list[Block | Chart]:
    """Real incidents or drills: key figures, step times against the plan, information release, tasks per unit;
    a sentence saying there were none when the period had none."""
    t, lang = v.t, v.lang
    out: list[Block | Chart] = [Heading(1, t[prefix])]
    tables = v.c["tables"]
    total = v.frame(f"{prefix}.total") if f"{prefix}.total" in tables else pl.DataFrame()
    row = total.row(0, named=True) if total.height else {}
    if not row.get("incidents") and not row.get("tasks"):
        out.append(Para(t["no_incidents" if prefix == "incidents" else "no_drills"]))
        return out
    out.append(_figures(v, row, INCIDENT_FIGURES))

    out.append(Heading(2, t["incident_steps"]))
    steps = v.frame(f"{prefix}.steps")
    if steps.height == 0:
        out.append(Para(t["empty"]))
    else:
        if charts:
            labels = [v.label("step", s) for s in steps.get_column("step").to_list()]
            shares = [None if x is None else 100 * x for x in steps.get_column("on_time_share").to_list()]
            out.append(Chart("bars", t["on_time_chart"], labels, {t["on_time"]: shares}))
        header = [t["step"], t["target"], t["reached"], t["mean_time"], t["on_time"], t["overdue_flags"]]
        rows = [
            [
                v.label("step", r["step"]),
                duration(r["target_minutes"], _short(lang)),
                str(r["reached"]),
                duration(r["minutes_mean"], _short(lang)),
                _fmt(r["on_time_share"], "on_time_share", lang),
                str(r["steps_overdue"]),
            ]
            for r in steps.iter_rows(named=True)
        ]
        out.append(Table(header, rows))

    out.append(Heading(2, t["incident_release"]))
    out.append(_figures(v, row, RELEASE_FIGURES))

    out.append(Heading(2, t["incident_tasks"]))
    units = v.frame(f"{prefix}.org_unit")
    out.append(_table(v, units, ["org_unit_id"], TASK_FIGURES) if units.height else Para(t["empty"]))
    return out


def _trend_table(v: View, trend: pl.DataFrame) -> Table:
    columns = ["overall_score", *(f"{d}_score" for d in DIMENSIONS)]
    header = [v.t["metric"], *[str(p)[:7] for p in trend.get_column("period").to_list()]]
    rows = [
        [_metric_label(c, v.lang), *[_fmt(x, "score", v.lang) for x in trend.get_column(c).to_list()]] for c in columns
    ]
    return Table(header, rows)


def render_html(content: Mapping[str, Any], lang: Lang) -> str:
    e = html.escape
    items = blocks(content, lang, charts=True)
    title = View(content, lang).title()
    parts = [
        "<!doctype html>",
        f'<html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(title)}</title>',
        "<style>body{font-family:'Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif;max-width:60em;"
        "margin:2em auto;line-height:1.6}table{border-collapse:collapse;width:100%;margin:.5em 0}"
        "td,th{border:1px solid #999;padding:.2em .5em;text-align:left}svg{display:block;margin:.5em 0}</style>"
        "</head><body>",
    ]
    for b in items:
        match b:
            case Chart() as chart:
                parts.append(chart.svg)
            case Heading(level=level, text=t):
                parts.append(f"<h{level + 1}>{e(t)}</h{level + 1}>")
            case Para(text=t):
                parts.append(f"<p>{e(t)}</p>")
            case Bullets(items=bullets):
                parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in bullets) + "</ul>")
            case Table(header=header, rows=rows):
                head = "<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
                body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
                parts.append(f"<table>{head}{body}</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


# --- files ------------------------------------------------------------------------------------------------------


def _labelled(view: View, name: str) -> pl.DataFrame:
    """A table with a label column (in the requested language) beside each key column."""
    frame = view.frame(name)
    for key in ("org_unit_id", "category", "kind", "step"):
        if key in frame.columns:
            labels = [view.label(key, x) for x in frame.get_column(key).to_list()]
            frame = frame.with_columns(pl.Series(f"{key.removesuffix('_id')}_label", labels, dtype=pl.String))
    first = [c for c in frame.columns if c in _KEY_HEADINGS or c.endswith("_label") or c == "period"]
    return frame.select(*first, *[c for c in frame.columns if c not in first])


def long_table(content: Mapping[str, Any], lang: Lang) -> pl.DataFrame:
    """Every table of the report in one tidy frame: table, key, label, metric, value."""
    view = View(content, lang)
    parts: list[pl.DataFrame] = []
    for name in sorted(content["tables"]):
        frame = view.frame(name)
        keys = [k for k in ("period", "org_unit_id", "category", "kind", "step") if k in frame.columns]
        key = keys[0] if keys else None
        metrics = [c for c in frame.columns if c not in keys]
        for row in frame.iter_rows(named=True):
            raw = row[key] if key else None
            key_text = None if raw is None else str(raw)
            label = view.label(key, raw) if key and key != "period" else key_text
            parts.append(
                pl.DataFrame(
                    {
                        "table": [name] * len(metrics),
                        "key": [key_text] * len(metrics),
                        "label": [label] * len(metrics),
                        "metric": metrics,
                        "value": [None if row[m] is None else float(row[m]) for m in metrics],
                    },
                    schema={
                        "table": pl.String,
                        "key": pl.String,
                        "label": pl.String,
                        "metric": pl.String,
                        "value": pl.Float64,
                    },
                )
            )
    if not parts:
        return pl.DataFrame(
            schema={"table": pl.String, "key": pl.String, "label": pl.String, "metric": pl.String, "value": pl.Float64}
        )
    return pl.concat(parts)


def table_for(content: Mapping[str, Any], lang: Lang, table: str | None) -> pl.DataFrame:
    """One named table (with labels), or the long form of all of them when ``table`` is None."""
    if table is None:
        return long_table(content, lang)
    return _labelled(View(content, lang), table)


# A table's sheet in the workbook: what its rows are (the prefix) and how they are broken down, in words.
_SHEET_PARTS: dict[str, dict[str, tuple[str, str]]] = {
    "prefix": {
        "scores": ("评分", "Scores"),
        "petitions": ("信访", "Petitions"),
        "incidents": ("突发事件", "Incidents"),
        "drills": ("应急演练", "Drills"),
        "supervision": ("督查督办", "Supervision"),
    },
    "breakdown": {
        "total": ("合计", "total"),
        "org_unit": ("按部门", "by unit"),
        "category": ("按类别", "by category"),
        "kind": ("按类型", "by kind"),
        "trend": ("趋势", "trend"),
        "steps": ("按环节", "by step"),
    },
}
_SHEET_FORBIDDEN = str.maketrans({c: " " for c in "[]:*?/\\"})


def sheet_name(table: str, lang: Lang) -> str:
    """The workbook sheet of a table, named in words (``信访-按部门``, ``Petitions by unit``); Excel's limits
    (31 characters, none of ``[]:*?/\\``) kept. A table the names do not know keeps its own name."""
    i = 0 if lang == "zh-CN" else 1
    prefix, _, breakdown = table.partition(".")
    head = _SHEET_PARTS["prefix"].get(prefix)
    tail = _SHEET_PARTS["breakdown"].get(breakdown)
    if head is None or tail is None:
        name = table
    else:
        name = f"{head[i]}-{tail[i]}" if lang == "zh-CN" else f"{head[i]} {tail[i]}"
    return name.translate(_SHEET_FORBIDDEN)[:31]


def render_xlsx(content: Mapping[str, Any], lang: Lang) -> bytes:
    """A workbook: the findings first, a contents sheet naming each sheet's table (its name in the API, for tools),
    then one sheet per table named in words (machine column names, labels beside keys)."""
    from openpyxl import Workbook

    view = View(content, lang)
    book = Workbook(write_only=True)
    sheet = book.create_sheet(view.t["findings"][:31].translate(_SHEET_FORBIDDEN))
    sheet.append([view.t["findings"]])
    for finding in content["findings"]:
        sheet.append([finding["kind"], finding["org_unit_id"], finding["value"], finding[_short(lang)]])
    names: dict[str, str] = {}
    for name in sorted(content["tables"]):
        sheet_title = sheet_name(name, lang)
        while sheet_title in names.values():  # unreachable with the known names; a guard for new tables
            sheet_title = sheet_title[:29] + f"~{len(names) % 100}"
        names[name] = sheet_title
    contents = book.create_sheet(view.t["contents"])
    contents.append([view.t["sheet"], view.t["table"]])
    for name, sheet_title in names.items():
        contents.append([sheet_title, name])
    for name, sheet_title in names.items():
        frame = _labelled(view, name)
        sheet = book.create_sheet(sheet_title)
        sheet.append(frame.columns)
        for row in frame.iter_rows():
            sheet.append([str(x) if hasattr(x, "isoformat") else x for x in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def render(content: Mapping[str, Any], lang: Lang, fmt: Format, *, table: str | None = None) -> bytes:
    """The report in ``fmt``; ``table`` picks one table for CSV and Parquet (default: all, in long form)."""
    if table is not None and table not in content["tables"]:
        raise KeyError(table)
    if fmt == "html":
        return render_html(content, lang).encode()
    if fmt == "pdf":
        # The charts drawn as in the HTML (each followed by its table), with the PDF's drawing operators.
        return render_pdf(blocks(content, lang, charts=True), lang)
    if fmt == "xlsx":
        return render_xlsx(content, lang)
    frame = table_for(content, lang, table)
    buffer = io.BytesIO()
    if fmt == "csv":
        # A BOM so that spreadsheet programs read the Chinese labels as UTF-8.
        buffer.write("\ufeff".encode())
        frame.write_csv(buffer)
    else:
        frame.write_parquet(buffer)
    return buffer.getvalue()
