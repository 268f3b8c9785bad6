"""Readiness of the stock against the plan's minimums (pure)."""

from __future__ import annotations

import datetime as dt

from tenants.plans.content import MaterialMinimum, Text
from tenants.plans.defaults import default_plan
from tenants.plans.readiness import readiness
from tests.support.stock import item

TODAY = dt.date(2026, 11, 29)


def minimum(code: str, n: int) -> MaterialMinimum:
    return MaterialMinimum(category="logistics", code=code, name=Text(zh=code, en=code), minimum=n, unit=Text())


def test_no_stock_means_everything_is_short() -> None:
    report = readiness(default_plan().materials, [], as_of=TODAY, within_days=30)
    assert not report.ready
    assert [(s.code, s.short) for s in report.shortages][:2] == [("COMM-RADIO", 10), ("COMM-PHONE", 2)]
    assert len(report.shortages) == len(default_plan().materials)


def test_quantities_of_one_code_add_up_across_items() -> None:
    stock = [item("W", 60, location="A"), item("W", 50, location="B")]
    report = readiness([minimum("W", 100)], stock, as_of=TODAY, within_days=0)
    assert report.ready and report.shortages == []
    assert report.lines[0].available == 110 and report.lines[0].short == 0


def test_expired_stock_does_not_count_but_stock_expiring_today_does() -> None:
    stock = [item("W", 80, expires_on=TODAY - dt.timedelta(days=1)), item("W", 30, expires_on=TODAY)]
    report = readiness([minimum("W", 100)], stock, as_of=TODAY, within_days=0)
    line = report.lines[0]
    assert (line.available, line.expired, line.short) == (30, 80, 70)
    assert [(s.code, s.required, s.available, s.short) for s in report.shortages] == [("W", 100, 30, 70)]


def test_expiring_lists_what_expires_within_the_horizon_soonest_first() -> None:
    stock = [
        item("A", 5, expires_on=TODAY + dt.timedelta(days=31)),
        item("B", 5, expires_on=TODAY + dt.timedelta(days=30)),
        item("C", 5, expires_on=TODAY + dt.timedelta(days=2)),
        item("D", 5, expires_on=TODAY - dt.timedelta(days=3)),
        item("E", 0, expires_on=TODAY),  # nothing left to expire
        item("F", 5),
    ]
    report = readiness([], stock, as_of=TODAY, within_days=30)
    assert [(e.code, e.days_left) for e in report.expiring] == [("D", -3), ("C", 2), ("B", 30)]
    assert report.ready


def test_stock_without_a_minimum_is_not_a_line_and_a_zero_minimum_is_never_short() -> None:
    report = readiness([minimum("Z", 0)], [item("Q", 3)], as_of=TODAY, within_days=0)
    assert [ln.code for ln in report.lines] == ["Z"] and report.ready
