"""The seeded simulation: legal workflow paths, deterministic per seed, seasonal, incidents per the contract."""

from __future__ import annotations

import json
import uuid
from collections import Counter
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from service.ops.synthetic import model
from service.ops.synthetic.universities import university
from service.petitions.services import EVENT_OF
from service.petitions.workflow import State, transition

ACTION_OF = {event: action for action, event in EVENT_OF.items()}
UNITS = [uuid.UUID(int=i + 1) for i in range(12)]
SHAPE = model.Shape(
    index=3,
    zone=ZoneInfo("Asia/Urumqi"),
    categories=[model.CategoryRef(f"c{i}", uuid.UUID(int=100 + i), UNITS[i], 1.0 + i) for i in range(5)],
    units=UNITS,
    colleges=UNITS[8:],
    task_units={"response": UNITS[:4], "logistics": UNITS[4:6], "information_release": UNITS[6:8]},
    staff_id=uuid.UUID(int=999),
)
START, END = date(2025, 1, 1), date(2026, 1, 1)


@pytest.fixture(autouse=True)
def data_key():
    from tenants import crypto

    crypto.configure(b"k" * 32)  # the lookup hashes are keyed


def generate(seed: int = 5, count: int = 3000) -> list[tuple]:
    return list(model.petitions(SHAPE, seed=seed, count=count, start=START, end=END))


def test_every_path_is_legal_and_ends_in_the_row_s_state():
    cut = datetime(2026, 1, 1, tzinfo=SHAPE.zone)
    for row, events, _ in generate():
        fields = dict(zip(model.PETITION_COLUMNS, row, strict=True))
        assert events[0][2] == "petition.submitted"
        times = [e[1] for e in events]
        assert times == sorted(times) and times[-1] < cut
        state = State.received
        for e in events[1:]:
            if e[2] in ACTION_OF:
                state = transition(state, ACTION_OF[e[2]])
        assert state.value == fields["state"]
        assert fields["updated_at"] == times[-1]
        assert all(e[4] == fields["id"] for e in events)


def test_same_seed_same_rows_other_seed_other_rows():
    assert generate(5, 300) == generate(5, 300)
    assert generate(5, 300) != generate(6, 300)
    incidents = list(model.incidents(SHAPE, seed=5, count=20, start=START, end=END))
    assert incidents == list(model.incidents(SHAPE, seed=5, count=20, start=START, end=END))


def test_volume_follows_the_academic_year():
    months = Counter(row[model.PETITION_COLUMNS.index("received_at")].astimezone(SHAPE.zone).month
                     for row, _, _ in generate(count=12_000))  # fmt: skip
    assert months[9] > 2.5 * months[8]  # term start vs summer holiday
    assert months[3] > 2.5 * months[2]  # spring term vs Spring Festival
    assert months[6] > months[7]  # exams vs holiday


def test_incidents_follow_the_contract_and_drills_are_flagged():
    seen = Counter()
    drills = 0
    for events in model.incidents(SHAPE, seed=2, count=200, start=START, end=END):
        assert events[0][2] == "incident.reported"
        flags = {json.loads(e[8])["drill"] for e in events}
        assert len(flags) == 1
        drills += flags.pop()
        for e in events:
            seen[e[2]] += 1
            assert set(json.loads(e[8])) == set(model.INCIDENT_EVENTS[e[2]]), e[2]
    assert set(seen) == set(model.INCIDENT_EVENTS)  # every contract type occurs
    assert 10 < drills < 60


def test_ids_are_time_ordered_uuid7():
    at = datetime(2025, 3, 1, tzinfo=UTC)
    rng = model.rng_for(1, 0, "x")
    value = model.uuid7(at, rng)
    assert value.version == 7 and value.variant == uuid.RFC_4122
    assert value.int >> 80 == int(at.timestamp() * 1000)


def test_universities_span_provinces_and_zones():
    unis = [university(i) for i in range(50)]
    assert len({u.slug for u in unis}) == 50 and len({u.name_zh for u in unis}) == 50
    assert len({u.province_code for u in unis}) == 10
    assert {u.timezone for u in unis} == {"Asia/Shanghai", "Asia/Urumqi"}


def test_volumes_split_unevenly_but_exactly_and_the_window_counts_months_back():
    import random

    from service.ops.synthetic.generate import Spec, split

    counts = split(1_000_003, 50, random.Random(1))
    assert sum(counts) == 1_000_003 and len(counts) == 50 and max(counts) > 1.5 * min(counts)
    assert split(7, 0, random.Random(1)) == []
    spec = Spec(tenants=1, petitions=1, incidents=0, months=14, until=date(2026, 3, 1))
    assert spec.window() == (date(2025, 1, 1), date(2026, 3, 1))


def test_the_default_window_ends_at_this_month_in_china_across_the_new_year():
    import datetime as dt

    import time_machine

    from service.ops.synthetic.generate import Spec

    spec = Spec(tenants=1, petitions=1, incidents=0, months=12)
    # 23:59 on 31 December in Shanghai: December is still the month under way, so it is not generated.
    with time_machine.travel(dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC), tick=False):
        assert spec.window() == (date(2025, 12, 1), date(2026, 12, 1))
    # 00:00 on 1 January in Shanghai (still 31 December in UTC): the whole of 2026 is history.
    with time_machine.travel(dt.datetime(2026, 12, 31, 16, 0, tzinfo=dt.UTC), tick=False):
        assert spec.window() == (date(2026, 1, 1), date(2027, 1, 1))
