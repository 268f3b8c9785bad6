"""Properties of the metrics over arbitrary journals and scores."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import polars as pl
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from analytics.metrics import DIMENSIONS, JOURNAL_SCHEMA, coordination, localize, overall, satisfaction, timeliness

TYPES = [
    "submitted",
    "accepted",
    "not_accepted",
    "assigned",
    "transferred",
    "transfer_objected",
    "extended",
    "replied",
    "rated",
    "review_requested",
    "reviewed",
    "rereview_requested",
    "followup_due",
    "overdue",
]
START = datetime(2025, 12, 1, tzinfo=UTC)

events = st.lists(
    st.fixed_dictionaries(
        {
            "tenant_id": st.sampled_from(["a", "b"]),
            "occurred_at": st.integers(0, 200 * 24).map(lambda h: START + timedelta(hours=h)),
            "type": st.sampled_from(TYPES).map(lambda t: f"petition.{t}"),
            "petition_id": st.sampled_from(["p1", "p2", "p3", "p4", "p5"]),
            "org_unit_id": st.sampled_from([None, "u1", "u2"]),
            "kind": st.sampled_from(["complaint", "suggestion"]),
            "category": st.sampled_from(["c1", "c2"]),
            "rating": st.sampled_from(["satisfied", "basically_satisfied", "dissatisfied"]),
            "stage": st.sampled_from(["reply", "review"]),
            "deadline": st.sampled_from(["accept", "conclude"]),
            "days": st.integers(1, 30),
        }
    ),
    max_size=60,
)
SHARES = [
    "accept_within_15_share",
    "conclude_on_time_share",
    "review_rate",
    "rereview_rate",
    "transferred_share",
    "bounced_share",
    "objection_rate",
    "satisfied_share",
    "basically_satisfied_share",
    "dissatisfied_share",
    "response_rate",
]


@settings(max_examples=60, deadline=None)
@given(events, st.sampled_from(["month", "quarter", "year"]), st.sampled_from([[], ["org_unit_id"], ["kind"]]))
def test_shares_are_between_zero_and_one(rows, period, by):
    journal = localize(pl.DataFrame(rows, schema=JOURNAL_SCHEMA).lazy(), {"a": "Asia/Shanghai", "b": "Asia/Urumqi"})
    for metric in (timeliness, coordination, satisfaction):
        frame = metric(journal, period=period, by=by)
        for column in set(SHARES) & set(frame.columns):
            values = frame.get_column(column).drop_nulls()
            assert values.is_nan().sum() == 0
            assert ((values >= 0) & (values <= 1)).all()


score = st.one_of(st.none(), st.floats(0, 100))
weight = st.integers(0, 1000).map(lambda w: w / 100)  # weights as the plan writes them


@given(
    st.lists(st.tuples(score, score, score, score), min_size=1, max_size=5), st.tuples(weight, weight, weight, weight)
)
def test_overall_is_a_renormalised_weighted_mean(rows, ws):
    weights = dict(zip(DIMENSIONS, ws, strict=True))
    assume(sum(ws) > 0)
    frame = pl.DataFrame(rows, schema=[f"{d}_score" for d in DIMENSIONS], orient="row")
    result = overall(frame, weights).get_column("overall_score").to_list()
    doubled = overall(frame, {d: 2 * w for d, w in weights.items()}).get_column("overall_score").to_list()
    for values, got, got_doubled in zip(rows, result, doubled, strict=True):
        present = [(v, w) for v, w in zip(values, ws, strict=True) if v is not None and w > 0]
        if not present:
            assert got is None
            continue
        assert min(v for v, _ in present) - 1e-9 <= got <= max(v for v, _ in present) + 1e-9
        assert 0 <= got <= 100 + 1e-9
        assert abs(got - sum(v * w for v, w in present) / sum(w for _, w in present)) < 1e-6
        assert abs(got - got_doubled) < 1e-6
