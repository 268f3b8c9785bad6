"""Which periods the report sweep takes as closed, at the last and the first minute of a month, a quarter and a
year in the universities' own zones (Asia/Shanghai is UTC+8, Asia/Urumqi UTC+6)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from analytics.reports.jobs import closed_periods
from tenants.tenancy import Tenant

D = dt.date
# (the local instant, the closed month, quarter and year it sees)
BOUNDARIES = [
    # a month boundary only
    (dt.datetime(2026, 11, 30, 23, 59), [D(2026, 10, 1), D(2026, 7, 1), D(2025, 1, 1)]),
    (dt.datetime(2026, 12, 1, 0, 0), [D(2026, 11, 1), D(2026, 7, 1), D(2025, 1, 1)]),
    # a quarter boundary
    (dt.datetime(2026, 9, 30, 23, 59), [D(2026, 8, 1), D(2026, 4, 1), D(2025, 1, 1)]),
    (dt.datetime(2026, 10, 1, 0, 0), [D(2026, 9, 1), D(2026, 7, 1), D(2025, 1, 1)]),
    # a year boundary
    (dt.datetime(2026, 12, 31, 23, 59), [D(2026, 11, 1), D(2026, 7, 1), D(2025, 1, 1)]),
    (dt.datetime(2027, 1, 1, 0, 0), [D(2026, 12, 1), D(2026, 10, 1), D(2026, 1, 1)]),
]


def _tenant(zone: str, onboarded: dt.datetime) -> Tenant:
    return Tenant(timezone=zone, created_at=onboarded)


@pytest.mark.parametrize("zone", ["Asia/Shanghai", "Asia/Urumqi"])
@pytest.mark.parametrize(("local", "expected"), BOUNDARIES)
def test_closed_periods_at_the_minutes_around_each_boundary(zone, local, expected):
    tenant = _tenant(zone, dt.datetime(2020, 1, 1, tzinfo=dt.UTC))
    now = local.replace(tzinfo=ZoneInfo(zone)).astimezone(dt.UTC)
    assert closed_periods(tenant, now) == list(zip(("monthly", "quarterly", "yearly"), expected, strict=True))


def test_one_utc_instant_is_a_new_year_in_shanghai_and_not_yet_in_urumqi():
    now = dt.datetime(2026, 12, 31, 17, 0, tzinfo=dt.UTC)  # 01:00 on 1 January in Shanghai, 23:00 in Urumqi
    onboarded = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    assert closed_periods(_tenant("Asia/Shanghai", onboarded), now)[2] == ("yearly", D(2026, 1, 1))
    assert closed_periods(_tenant("Asia/Urumqi", onboarded), now)[2] == ("yearly", D(2025, 1, 1))


def test_periods_that_ended_before_onboarding_are_left_out():
    # Onboarded on 2 December 2026 local: at the new year only December (which it saw a part of) is reported.
    onboarded = dt.datetime(2026, 12, 2, 9, tzinfo=ZoneInfo("Asia/Urumqi"))
    now = dt.datetime(2027, 1, 1, 0, 0, tzinfo=ZoneInfo("Asia/Urumqi"))
    assert closed_periods(_tenant("Asia/Urumqi", onboarded), now) == [
        ("monthly", D(2026, 12, 1)),
        ("quarterly", D(2026, 10, 1)),
        ("yearly", D(2026, 1, 1)),
    ]
    assert closed_periods(_tenant("Asia/Urumqi", onboarded), now - dt.timedelta(minutes=1)) == []
