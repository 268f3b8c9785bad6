"""Reports without a database: period arithmetic, the sections on a hand-made journal, findings, determinism,
and every rendition parsed back by an independent reader."""

from __future__ import annotations

import datetime as dt
import io
import re
import xml.etree.ElementTree as ET
from typing import Any

import openpyxl
import polars as pl
import pypdf
import pytest

from analytics.metrics import JOURNAL_SCHEMA, localize
from analytics.metrics.supervision import SUPERVISION_SCHEMA
from analytics.reports import compute, findings, periods, render

T = "00000000-0000-0000-0000-000000000001"
U1, U2 = "u-logistics", "u-academic"
LABELS = {U1: {"zh": "后勤处", "en": "Logistics Office"}, U2: {"zh": "教务处", "en": "Academic Affairs"}}
WEIGHTS = {"timeliness": 0.35, "coordination": 0.25, "information_release": 0.2, "satisfaction": 0.2}
UTC = dt.UTC


def ev(at: dt.datetime, type: str, pid: str, unit: str | None = None, **payload: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(JOURNAL_SCHEMA)
    row.update(tenant_id=T, occurred_at=at, type=f"petition.{type}", petition_id=pid, org_unit_id=unit, **payload)
    return row


def at(day: int, month: int = 10, hour: int = 4) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=UTC)


def journal() -> pl.DataFrame:
    """October 2026 in Asia/Shanghai: p1 handled by U1 (bounced twice, overdue, satisfied), p2 by U2 on time
    (dissatisfied), p3 decided after 20 days by U2; p0 is a September petition (trend only)."""
    rows = [
        ev(at(2, 9), "submitted", "p0", kind="suggestion", category="teaching"),
        ev(at(3, 9), "accepted", "p0", U2),
        ev(at(2), "submitted", "p1", kind="complaint", category="dormitory"),
        ev(at(3), "accepted", "p1", U1),
        ev(at(3), "assigned", "p1", U1),
        ev(at(4), "transferred", "p1", U2, from_unit=U1),
        ev(at(5), "transferred", "p1", U1, from_unit=U2),
        ev(at(20), "overdue", "p1", U1, deadline="conclude"),
        ev(at(25), "replied", "p1", U1, outcome="supported"),
        ev(at(26), "rated", "p1", U1, rating="satisfied", stage="reply"),
        ev(at(2), "submitted", "p2", kind="suggestion", category="teaching"),
        ev(at(2), "accepted", "p2", U2),
        ev(at(2), "assigned", "p2", U2),
        ev(at(10), "replied", "p2", U2, outcome="explained"),
        ev(at(12), "rated", "p2", U2, rating="dissatisfied", stage="reply"),
        ev(at(1), "submitted", "p3", kind="complaint", category="dormitory"),
        ev(at(21), "accepted", "p3", U2),
    ]
    return pl.DataFrame(rows, schema=JOURNAL_SCHEMA)


def october(frame: pl.DataFrame | None = None, zone: str = "Asia/Shanghai") -> dict[str, pl.DataFrame]:
    ctx = compute.Context(kind="monthly", start=dt.date(2026, 10, 1), weights=WEIGHTS)
    return compute.compute(localize((journal() if frame is None else frame).lazy(), {T: zone}), ctx)


def content_of(tables: dict[str, pl.DataFrame]) -> dict[str, Any]:
    return {
        "format": compute.FORMAT,
        "kind": "monthly",
        "period_start": "2026-10-01",
        "period_end": "2026-11-01",
        "timezone": "Asia/Shanghai",
        "university": {"zh": "测试大学", "en": "Test University"},
        "watermark": {"seq": 17, "count": 17},
        "plan": {"version_id": None, "number": 1, "weights": WEIGHTS},
        "labels": {"org_units": LABELS, "categories": {"dormitory": {"zh": "宿舍", "en": "Dormitory"}}},
        "tables": {name: compute.table_json(frame) for name, frame in sorted(tables.items())},
        "findings": findings.findings(tables, LABELS),
    }


def test_period_arithmetic() -> None:
    assert periods.is_period_start("quarterly", dt.date(2026, 10, 1))
    assert not periods.is_period_start("quarterly", dt.date(2026, 11, 1))
    assert not periods.is_period_start("monthly", dt.date(2026, 11, 2))
    assert periods.is_period_start("yearly", dt.date(2026, 1, 1))
    assert periods.period_end("monthly", dt.date(2026, 12, 1)) == dt.date(2027, 1, 1)
    assert periods.period_end("quarterly", dt.date(2026, 10, 1)) == dt.date(2027, 1, 1)
    assert periods.add_periods("monthly", dt.date(2026, 1, 1), -1) == dt.date(2025, 12, 1)
    assert periods.last_closed("monthly", dt.date(2026, 11, 29)) == dt.date(2026, 10, 1)
    assert periods.last_closed("quarterly", dt.date(2026, 11, 29)) == dt.date(2026, 7, 1)
    assert periods.last_closed("yearly", dt.date(2026, 1, 1)) == dt.date(2025, 1, 1)
    # Local midnight of 1 October in Shanghai is 16:00 UTC the day before.
    assert periods.utc_instant(dt.date(2026, 10, 1), "Asia/Shanghai") == dt.datetime(2026, 9, 30, 16, tzinfo=UTC)


def test_sections_give_the_period_s_hand_computed_values() -> None:
    tables = october()
    total = tables["petitions.total"].row(0, named=True)
    # Decisions in October: p1 (1 day), p2 (0 days), p3 (20 days > 15).
    assert (total["decisions"], total["accept_within_15_share"]) == (3, pytest.approx(2 / 3))
    assert (total["concluded"], total["overdue"], total["assigned"]) == (2, 1, 2)
    assert total["bounced_share"] == 0.5  # p1 transferred twice, p2 never
    assert (total["ratings"], total["satisfied_share"]) == (2, 0.5)
    units = {r["org_unit_id"]: r for r in tables["petitions.org_unit"].iter_rows(named=True)}
    assert units[U1]["bounced_share"] == 1.0 and units[U2]["bounced_share"] == 0.0
    assert units[U2]["accept_within_15_share"] == 0.5
    scores = {r["org_unit_id"]: r for r in tables["scores.org_unit"].iter_rows(named=True)}
    # U1: timeliness 100 (decision and conclusion in time), coordination mean(1 - 1, 1 - 0) = 50, satisfaction 100.
    assert (scores[U1]["timeliness_score"], scores[U1]["coordination_score"]) == (100.0, 50.0)
    assert scores[U1]["overall_score"] == pytest.approx((35 * 100 + 25 * 50 + 20 * 100) / 80)
    assert scores[U1]["information_release_score"] is None
    # The trend holds September (p0's decision) and October, in order.
    trend = tables["scores.trend"].get_column("period").to_list()
    assert trend == [dt.date(2026, 9, 1), dt.date(2026, 10, 1)]
    assert {r["kind"] for r in tables["petitions.kind"].iter_rows(named=True)} == {"complaint", "suggestion"}


def _order(at: dt.datetime, type: str, order: str, unit: str, on_time: bool | None = None) -> dict[str, Any]:
    return {"tenant_id": T, "occurred_at": at, "type": f"supervision.{type}", "subject_id": order,
            "org_unit_id": unit, "on_time": on_time}  # fmt: skip


def test_supervision_orders_have_their_section_and_join_the_coordination_score() -> None:
    # October (Shanghai): U1 answers its order on time; U2's order goes overdue; a September order (trend only).
    orders = pl.DataFrame(
        [
            _order(at(2), "issued", "o1", U1),
            _order(at(3), "answered", "o1", U1, True),
            _order(at(4), "issued", "o2", U2),
            _order(at(9), "overdue", "o2", U2),
            _order(at(30, 9, 15), "issued", "o0", U2),  # 23:00 on 30 September in Shanghai
        ],
        schema=SUPERVISION_SCHEMA,
    )
    ctx = compute.Context(kind="monthly", start=dt.date(2026, 10, 1), weights=WEIGHTS)
    zones = {T: "Asia/Shanghai"}
    tables = compute.compute(localize(journal().lazy(), zones), ctx, None, localize(orders.lazy(), zones))
    total = tables["supervision.total"].row(0, named=True)
    assert (total["supervision_orders"], total["supervision_overdue"], total["supervision_on_time_share"]) == (
        2, 1, 0.5,
    )  # fmt: skip
    assert tables["supervision.trend"].get_column("supervision_orders").to_list() == [1, 2]
    units = {r["org_unit_id"]: r for r in tables["supervision.org_unit"].iter_rows(named=True)}
    assert (units[U1]["supervision_on_time_share"], units[U2]["supervision_on_time_share"]) == (1.0, 0.0)
    scores = {r["org_unit_id"]: r for r in tables["scores.org_unit"].iter_rows(named=True)}
    # U1's coordination: mean(1 − bounced 1, 1 − objections 0, on-time orders 1); without orders it was 50.
    assert scores[U1]["coordination_score"] == pytest.approx(200 / 3)
    # U2's: mean(1 − bounced 0, its overdue order 0) = 50 (no objection rate: nothing it replied was objected to
    # or not); without orders it was 100.
    assert scores[U2]["coordination_score"] == pytest.approx(50.0)
    before = {r["org_unit_id"]: r["coordination_score"] for r in october()["scores.org_unit"].iter_rows(named=True)}
    assert before == {U1: 50.0, U2: 100.0}
    page = render.render(content_of(tables), "zh-CN", "html").decode()
    assert "十、督查督办" in page and "逾期督办单数" in page
    assert (
        "No supervision order was issued in this period." in render.render(content_of(october()), "en", "html").decode()
    )


def test_findings_name_the_weakest_units_and_steps_in_both_languages() -> None:
    found = findings.findings(october(), LABELS)
    kinds = [(f["kind"], f["org_unit_id"]) for f in found]
    assert kinds[0][0] == "lowest_score"
    assert ("most_overdue", U1) in kinds
    assert ("most_bounced", U1) in kinds
    step = next(f for f in found if f["kind"] == "step_below_target")
    assert (step["org_unit_id"], step["step"], step["value"]) == (U2, "acceptance", 0.5)
    assert "教务处" in step["zh"] and "15日" in step["zh"]
    assert "Academic Affairs" in step["en"] and "15-day" in step["en"]


def test_recomputation_is_byte_identical_and_row_order_does_not_matter() -> None:
    first = compute.encode(content_of(october()))
    shuffled = journal().sample(fraction=1.0, shuffle=True, seed=7)
    assert compute.encode(content_of(october(shuffled))) == first
    assert compute.content_hash(first) == compute.content_hash(compute.encode(content_of(october())))


def test_month_boundary_follows_the_tenant_s_zone() -> None:
    # 23:30 UTC on 30 September is 07:30 on 1 October in Shanghai.
    late = pl.DataFrame(
        [
            ev(dt.datetime(2026, 9, 30, 23, 30, tzinfo=UTC), "submitted", "p9", kind="complaint"),
            ev(dt.datetime(2026, 9, 30, 23, 30, tzinfo=UTC), "accepted", "p9", U1),
        ],
        schema=JOURNAL_SCHEMA,
    )
    assert october(late, "Asia/Shanghai")["petitions.total"].get_column("decisions").to_list() == [1]
    assert october(late, "UTC")["petitions.total"].height == 0


def test_an_empty_period_renders_in_every_format() -> None:
    tables = october(pl.DataFrame(schema=JOURNAL_SCHEMA))
    assert all(frame.height == 0 for frame in tables.values())
    content = content_of(tables)
    assert content["findings"] == []
    for fmt in ("html", "pdf", "csv", "xlsx", "parquet"):
        assert render.render(content, "en", fmt)
    assert "No data in this period." in render.render(content, "en", "html").decode()
    assert pl.read_parquet(io.BytesIO(render.render(content, "zh-CN", "parquet"))).height == 0


def test_renditions_parse_and_speak_both_languages() -> None:
    content = content_of(october())
    page = render.render(content, "zh-CN", "html").decode()
    assert "测试大学信访工作月度评估报告" in page and page.count("<svg") == 2 and "后勤处" in page
    for svg in re.findall(r"<svg.*?</svg>", page, flags=re.S):
        chart = ET.fromstring(svg)  # well-formed SVG
        assert chart.tag == "{http://www.w3.org/2000/svg}svg"
    assert "polyline" in page and "<rect" in page  # the trend line and the unit bars
    assert "Test University: Monthly petition work evaluation report" in render.render(content, "en", "html").decode()

    text = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(render.render(content, "zh-CN", "pdf"))).pages)
    assert "评估报告" in text and "后勤处" in text and "发现的问题" in text
    # The PDF carries the charts, drawn with its own operators: the trend line (a path stroked) and the bars
    # (filled rectangles), titled in the report's language.
    document = pypdf.PdfReader(io.BytesIO(render.render(content, "zh-CN", "pdf")))
    drawn = b"".join(page.get_contents().get_data() for page in document.pages)  # type: ignore[union-attr]
    assert re.search(rb"[\d.]+ [\d.]+ l\b", drawn) and re.search(rb" re f\b|\bre\s+f\b", drawn)
    assert "各部门综合得分排名" in text and "趋势" in text
    text_en = "".join(p.extract_text() for p in pypdf.PdfReader(io.BytesIO(render.render(content, "en", "pdf"))).pages)
    assert "Findings" in text_en and "Logistics Office" in text_en

    book = openpyxl.load_workbook(io.BytesIO(render.render(content, "en", "xlsx")), read_only=True)
    # Sheets named in words, in the chosen language; the contents sheet names each one's table for tools.
    assert "Petitions by unit" in book.sheetnames and "Scores trend" in book.sheetnames
    assert not set(book.sheetnames) & set(content["tables"])
    index = dict(list(book["Contents"].iter_rows(values_only=True))[1:])
    assert index["Petitions by unit"] == "petitions.org_unit" and len(index) == len(content["tables"])
    zh_book = openpyxl.load_workbook(io.BytesIO(render.render(content, "zh-CN", "xlsx")), read_only=True)
    assert {"信访-按部门", "评分-趋势", "评分-合计", "目录"} <= set(zh_book.sheetnames)
    rows = list(book["Petitions by unit"].iter_rows(values_only=True))
    assert rows[0][:2] == ("org_unit_id", "org_unit_label")
    assert {r[1] for r in rows[1:]} == {"Logistics Office", "Academic Affairs"}

    one = pl.read_parquet(io.BytesIO(render.render(content, "zh-CN", "parquet", table="scores.org_unit")))
    assert set(one.get_column("org_unit_label")) == {"后勤处", "教务处"}
    long = pl.read_csv(io.BytesIO(render.render(content, "zh-CN", "csv")))
    decisions = long.filter((pl.col("table") == "petitions.total") & (pl.col("metric") == "decisions"))
    assert decisions.get_column("value").to_list() == [3.0]
    with pytest.raises(KeyError):
        render.render(content, "en", "csv", table="nope")
