"""The evaluation pages' pure helpers: periods in words, the bureau's cells (suppressed is never a zero), a
report laid out as the page shows it (each chart followed by its own table), workbook sheet names."""

from __future__ import annotations

import datetime as dt

from analytics.reports import render
from service.console.evaluation import cell, period_label, report_sections
from tests.unit.analytics.test_reports import content_of, october


def test_periods_read_as_people_name_them() -> None:
    assert period_label("quarterly", dt.date(2026, 7, 1), "zh-CN") == "2026年第3季度"
    assert period_label("quarterly", dt.date(2026, 7, 1), "en") == "2026 Q3"
    assert period_label("monthly", dt.date(2026, 11, 1), "zh-CN") == "2026年11月"
    assert period_label("monthly", dt.date(2026, 1, 1), "en") == "2026-01"
    assert period_label("yearly", dt.date(2025, 1, 1), "zh-CN") == "2025年"


def test_a_suppressed_figure_is_marked_and_an_absent_one_is_a_dash() -> None:
    assert cell(None, True) == {"suppressed": True, "text": "suppressed"}
    assert cell(0, True)["suppressed"]  # a hidden count is never shown as its value
    assert cell(None, False) == {"suppressed": False, "text": "—"}
    assert cell(0, False)["text"] == "0"
    assert cell(0.875, False, share=True)["text"] == "87.5%"
    assert cell(71.94, False)["text"] == "71.9"


def test_the_report_page_pairs_each_chart_with_its_table() -> None:
    content = content_of(october())
    title, sections = report_sections(content, "zh-CN")
    assert title == "测试大学信访工作月度评估报告"
    figures = [s for s in sections if s["type"] == "figure"]
    assert len(figures) == 2
    trend, units = figures
    assert "<svg" in trend["svg"] and trend["table"]["header"][0] == "指标"
    assert [r[0] for r in trend["table"]["rows"]][:2] == ["综合得分", "及时性与有效性"]
    assert units["caption"] == "各部门综合得分排名" and units["table"]["header"][0] == "部门"
    # Ranked: the best overall score first, in the bars as in the table.
    scores = [float(r[1]) for r in units["table"]["rows"] if r[1] != "—"]
    assert scores == sorted(scores, reverse=True)
    headings = [s["text"] for s in sections if s["type"] == "heading"]
    assert headings[:3] == ["一、综合评分", "二、发现的问题", "三、趋势"]


def test_sheet_names_are_words_within_excel_s_limits() -> None:
    assert render.sheet_name("petitions.org_unit", "zh-CN") == "信访-按部门"
    assert render.sheet_name("incidents.steps", "en") == "Incidents by step"
    assert render.sheet_name("supervision.org_unit", "en") == "Supervision by unit"
    assert render.sheet_name("new.thing", "en") == "new.thing"  # unknown: its own name
    names = [render.sheet_name(f"{p}.{b}", lang) for p in ("scores", "petitions", "incidents", "drills",
             "supervision") for b in ("total", "org_unit", "category", "kind", "trend", "steps")
             for lang in ("zh-CN", "en")]  # fmt: skip
    assert all(len(n) <= 31 and not set(n) & set("[]:*?/\\") for n in names)
