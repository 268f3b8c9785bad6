from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from service.petitions import deadlines as d

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [
    ZoneInfo(z)
    for z in (
        "Asia/Shanghai",
        "Asia/Urumqi",
        "America/New_York",
        "Europe/London",
        "Australia/Sydney",
        "America/Havana",
        "Pacific/Chatham",
        "UTC",
    )
]

instants = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2035, 12, 31), timezones=st.just(UTC))
zones = st.sampled_from(ZONES)


def test_accept_due_is_end_of_the_15th_local_day():
    received = datetime(2026, 1, 31, 20, 0, tzinfo=UTC)  # 2026-02-01 04:00 in Shanghai
    due = d.accept_due(received, SHANGHAI)
    assert due == datetime(2026, 2, 17, 0, 0, tzinfo=SHANGHAI)


def test_conclude_due_across_a_leap_february():
    accepted = datetime(2028, 1, 15, 10, tzinfo=SHANGHAI)
    assert d.conclude_due(accepted, SHANGHAI) == datetime(2028, 3, 16, tzinfo=SHANGHAI)  # 2028 is a leap year
    assert d.conclude_due(datetime(2027, 1, 15, 10, tzinfo=SHANGHAI), SHANGHAI) == datetime(
        2027, 3, 17, tzinfo=SHANGHAI
    )


def test_working_days_skip_weekends_and_holidays_and_count_makeup_days():
    cal = d.Calendar(
        SHANGHAI, holidays=frozenset({date(2026, 10, 1), date(2026, 10, 2)}), workdays=frozenset({date(2026, 10, 10)})
    )
    # Transferred Wednesday 30 Sep: Thu 1 + Fri 2 holidays, Sat 3/Sun 4 weekend, Mon 5..Fri 9 five working days.
    assert d.objection_due(datetime(2026, 9, 30, 9, tzinfo=SHANGHAI), cal) == datetime(2026, 10, 10, tzinfo=SHANGHAI)
    # Transferred Thu 8 Oct: Fri 9, Sat 10 (make-up workday), Mon 12, Tue 13, Wed 14.
    assert d.objection_due(datetime(2026, 10, 8, 9, tzinfo=SHANGHAI), cal) == datetime(2026, 10, 15, tzinfo=SHANGHAI)


def test_extension_bounds():
    due = datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert d.extended_due(due, 30, SHANGHAI) == datetime(2026, 3, 31, tzinfo=SHANGHAI)
    for bad in (0, 31):
        try:
            d.extended_due(due, bad, SHANGHAI)
        except ValueError:
            continue
        raise AssertionError(f"{bad} days accepted")


def test_overdue_and_remaining():
    due = datetime(2026, 3, 1, tzinfo=SHANGHAI)
    assert not d.is_overdue(due, due - timedelta(seconds=1))
    assert d.is_overdue(due, due)
    assert not d.is_overdue(None, due)
    assert d.remaining(due, due - timedelta(hours=5)) == timedelta(hours=5)


@given(instants, st.integers(min_value=0, max_value=400), zones)
def test_add_days_ends_the_nth_local_day(start, days, zone):
    due = d.add_days(start, days, zone)
    last_moment = (due - timedelta(microseconds=1)).astimezone(zone)
    assert last_moment.date() == start.astimezone(zone).date() + timedelta(days=days)
    assert due.astimezone(zone).date() == last_moment.date() + timedelta(days=1)
    assert due > start
    # A day is 23 to 25 hours (DST; Lord Howe's half hour fits inside): at most N+1 days plus the shift.
    assert due - start <= timedelta(days=days + 1, hours=2)


@given(instants, st.integers(min_value=0, max_value=200), st.integers(min_value=0, max_value=200), zones)
def test_add_days_is_monotonic_and_additive(start, a, b, zone):
    assert d.add_days(start, a, zone) <= d.add_days(start, a + b, zone)
    first = d.add_days(start, a, zone) - timedelta(microseconds=1)
    assert d.add_days(first, b, zone) == d.add_days(start, a + b, zone)


@given(instants, st.integers(min_value=1, max_value=30), zones)
def test_extension_adds_exactly_n_local_days(start, days, zone):
    due = d.conclude_due(start, zone)
    assert d.extended_due(due, days, zone) == d.add_days(start, d.CONCLUDE_DAYS + days, zone)


holiday_sets = st.frozensets(st.dates(min_value=date(2020, 1, 1), max_value=date(2036, 6, 30)), max_size=30)


@given(instants, st.integers(min_value=1, max_value=20), zones, holiday_sets, holiday_sets)
def test_working_days_count_exactly(start, days, zone, holidays, workdays):
    cal = d.Calendar(zone, holidays=holidays, workdays=workdays)
    due = d.add_working_days(start, days, cal)
    last = (due - timedelta(microseconds=1)).astimezone(zone).date()
    first = start.astimezone(zone).date()
    between = [first + timedelta(days=i) for i in range(1, (last - first).days + 1)]
    assert sum(cal.is_working_day(x) for x in between) == days
    assert cal.is_working_day(last)
