"""Petition metrics against hand-computed values on a small exact journal (tenant zone Asia/Shanghai, UTC+8)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl
import pytest

from analytics.metrics import (
    CATALOGUE,
    JOURNAL_SCHEMA,
    coordination,
    dimension_scores,
    localize,
    overall,
    satisfaction,
    timeliness,
)
from analytics.metrics.catalogue import markdown

T = "tenant-a"
ZONES = {T: "Asia/Shanghai"}
U1, U2, U3 = "unit-1", "unit-2", "unit-3"
DIMS = {"p1": ("complaint", "c1"), "p2": ("complaint", "c1"), "p3": ("suggestion", "c1"), "p4": ("complaint", "c2")}


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def ev(event: str, at: datetime, petition: str, unit: str | None = None, **payload: Any) -> dict[str, Any]:
    kind, category = DIMS[petition]
    return {
        "tenant_id": T,
        "occurred_at": at,
        "type": f"petition.{event}",
        "petition_id": petition,
        "org_unit_id": unit,
        "kind": kind,
        "category": category,
        **payload,
    }


EVENTS = [
    # p1: submitted 20 Mar (local 09:00), accepted 31 Mar 23:30 UTC = 1 Apr 07:30 local: an April decision,
    # 12 local days; assigned to U1, transferred to U2, objected back to U1; replied 61 local days after
    # acceptance (late, no extension); never rated; a reply follow-up is outstanding.
    ev("submitted", utc(2026, 3, 20, 1), "p1", channel="online"),
    ev("accepted", utc(2026, 3, 31, 23, 30), "p1", days=11),
    ev("assigned", utc(2026, 4, 1, 2), "p1", U1),
    ev("transferred", utc(2026, 4, 2, 2), "p1", U2, from_unit=U1),
    ev("transfer_objected", utc(2026, 4, 3, 2), "p1", U1, days=1),
    ev("replied", utc(2026, 6, 1, 1), "p1", U1, outcome="explained", days=60),
    ev("followup_due", utc(2026, 6, 20), "p1", U1, stage="reply", days=14),
    # p2: accepted on the 15th local day at 23:59 (in time); assigned in March, bounced U1 -> U2 -> U3,
    # extended by 10 days, replied 65 local days after acceptance (in time); rated; reviewed; re-review asked.
    ev("submitted", utc(2026, 3, 2), "p2", channel="letter"),
    ev("accepted", utc(2026, 3, 17, 15, 59), "p2", days=15),
    ev("assigned", utc(2026, 3, 18, 2), "p2", U1),
    ev("transferred", utc(2026, 3, 19, 2), "p2", U2, from_unit=U1),
    ev("transferred", utc(2026, 3, 20, 2), "p2", U3, from_unit=U2),
    ev("extended", utc(2026, 4, 20), "p2", U3, days=10),
    ev("replied", utc(2026, 5, 21, 2), "p2", U3, outcome="supported", days=65),
    ev("rated", utc(2026, 5, 22), "p2", U3, rating="satisfied", stage="reply"),
    ev("review_requested", utc(2026, 5, 25), "p2", U3, days=4),
    ev("reviewed", utc(2026, 6, 10), "p2", U3, outcome="supported", days=16),
    ev("followup_due", utc(2026, 6, 11), "p2", U3, stage="review", days=14),
    ev("rated", utc(2026, 6, 12), "p2", U3, rating="dissatisfied", stage="review"),
    ev("rereview_requested", utc(2026, 6, 15), "p2", U3, days=5),
    # p3: not accepted at local midnight opening the 16th day (late).
    ev("submitted", utc(2026, 3, 2), "p3", channel="visit"),
    ev("not_accepted", utc(2026, 3, 17, 16), "p3", days=15),
    # p4: no decision; the acceptance deadline passed (flagged at local midnight of 27 April).
    ev("submitted", utc(2026, 4, 10), "p4", channel="online"),
    ev("overdue", utc(2026, 4, 26, 16), "p4", deadline="accept"),
]


def journal(events: list[dict[str, Any]] = EVENTS) -> pl.LazyFrame:
    frame = pl.DataFrame(events, schema=JOURNAL_SCHEMA) if events else pl.DataFrame(schema=JOURNAL_SCHEMA)
    return localize(frame.lazy(), ZONES)


def row(frame: pl.DataFrame, **keys: Any) -> dict[str, Any]:
    rows = frame.filter(**keys).to_dicts()
    assert len(rows) == 1, rows
    return rows[0]


def test_acceptance_decisions_fall_in_the_local_month():
    result = timeliness(journal(), period="month")
    march = row(result, period=date(2026, 3, 1))
    # p2 on the 15th local day (in time), p3 at the first instant of the 16th (late).
    assert march["decisions"] == 2
    assert march["accepted"] == 1
    assert march["accept_within_15_share"] == 0.5
    assert march["accept_hours_mean"] == pytest.approx(((15 * 24 + 15 + 59 / 60) + (15 * 24 + 16)) / 2)
    # p1 was accepted at 23:30 UTC on 31 March: April 1st in Shanghai.
    april = row(result, period=date(2026, 4, 1))
    assert april["decisions"] == 1
    assert april["accept_within_15_share"] == 1.0
    assert april["accept_hours_mean"] == pytest.approx(11 * 24 + 22.5)
    assert april["overdue"] == 1
    assert april["overdue_accept"] == 1
    assert april["overdue_conclude"] == 0
    # No conclusions in March or April: null, never NaN or 0.
    assert march["concluded"] is None
    assert april["conclude_on_time_share"] is None


def test_conclusion_with_and_without_extension():
    result = timeliness(journal(), period="quarter")
    q2 = row(result, period=date(2026, 4, 1))
    assert q2["concluded"] == 2
    assert q2["extended"] == 1
    # p2: 65 local days <= 60 + 10; p1: 61 local days > 60.
    assert q2["conclude_on_time_share"] == 0.5
    assert q2["conclude_days_mean"] == 63.0
    by_unit = timeliness(journal(), period="quarter", by=["org_unit_id"])
    assert row(by_unit, period=date(2026, 4, 1), org_unit_id=U3)["conclude_on_time_share"] == 1.0
    assert row(by_unit, period=date(2026, 4, 1), org_unit_id=U1)["conclude_on_time_share"] == 0.0


def test_review_and_rereview_rates_follow_their_cohorts():
    result = timeliness(journal(), period="month")
    assert row(result, period=date(2026, 5, 1))["review_rate"] == 1.0
    june = row(result, period=date(2026, 6, 1))
    assert june["review_rate"] == 0.0
    assert june["reviews_answered"] == 1
    assert june["rereview_rate"] == 1.0


def test_the_same_events_in_utc_months_would_differ():
    utc_journal = localize(pl.DataFrame(EVENTS, schema=JOURNAL_SCHEMA).lazy(), {T: "UTC"})
    assert row(timeliness(utc_journal, period="month"), period=date(2026, 3, 1))["decisions"] == 3


def test_coordination_counts_bouncing_between_offices():
    result = coordination(journal(), period="month")
    march = row(result, period=date(2026, 3, 1))
    assert (march["assigned"], march["transfers"], march["transfers_per_petition"]) == (1, 2, 2.0)
    assert march["bounced_share"] == 1.0
    assert march["objection_rate"] == 0.0
    april = row(result, period=date(2026, 4, 1))
    assert (april["transferred_share"], april["bounced_share"]) == (1.0, 0.0)
    assert (april["transfer_objections"], april["objection_rate"]) == (1, 1.0)


def test_satisfaction_shares_response_rate_and_outstanding_followups():
    result = satisfaction(journal(), period="month")
    may = row(result, period=date(2026, 5, 1))
    assert (may["ratings"], may["satisfied_share"], may["dissatisfied_share"]) == (1, 1.0, 0.0)
    assert (may["replied"], may["response_rate"]) == (1, 1.0)
    june = row(result, period=date(2026, 6, 1))
    assert (june["ratings"], june["dissatisfied_share"]) == (1, 1.0)
    assert (june["replied"], june["response_rate"]) == (1, 0.0)
    # p1's reply follow-up is unanswered; p2's review follow-up was answered by its review rating.
    assert june["followups_outstanding"] == 1


def test_breakdown_by_category_and_kind():
    result = timeliness(journal(), period="month", by=["category", "kind"])
    march = result.filter(period=date(2026, 3, 1)).sort("kind")
    assert march.select("category", "kind", "decisions", "accept_within_15_share").rows() == [
        ("c1", "complaint", 1, 1.0),
        ("c1", "suggestion", 1, 0.0),
    ]
    assert row(result, period=date(2026, 4, 1), category="c2")["overdue"] == 1


def test_year_period_and_unknown_breakdown():
    assert row(timeliness(journal(), period="year"), period=date(2026, 1, 1))["decisions"] == 3
    with pytest.raises(ValueError, match="unknown breakdown"):
        timeliness(journal(), period="month", by=["petitioner"])


def test_empty_journal_gives_empty_frames():
    for metric in (timeliness, coordination, satisfaction):
        result = metric(journal([]), period="month", by=["org_unit_id"])
        assert result.height == 0
        assert result.columns[:3] == ["tenant_id", "period", "org_unit_id"]


def test_localize_refuses_a_tenant_without_zone():
    with pytest.raises(KeyError, match="no time zone"):
        localize(pl.DataFrame(EVENTS, schema=JOURNAL_SCHEMA).lazy(), {})


def test_composite_leaves_out_dimensions_without_data():
    j = journal()
    keys = ["tenant_id", "period"]
    scores = dimension_scores(
        timeliness(j, period="month"), coordination(j, period="month"), satisfaction(j, period="month"), keys=keys
    )
    weights = {"timeliness": 0.4, "coordination": 0.3, "information_release": 0.1, "satisfaction": 0.2}
    april = row(overall(scores, weights), period=date(2026, 4, 1))
    # Timeliness 100 (the one decision in time), coordination mean(1 - 0, 1 - 1) = 50; no ratings and no
    # incidents: the remaining weights 0.4 and 0.3 are renormalised.
    assert april["timeliness_score"] == 100.0
    assert april["coordination_score"] == 50.0
    assert april["satisfaction_score"] is None
    assert april["information_release_score"] is None
    assert april["overall_score"] == pytest.approx((0.4 * 100 + 0.3 * 50) / 0.7)
    may = row(overall(scores, weights), period=date(2026, 5, 1))
    assert may["satisfaction_score"] == 100.0


def test_weights_are_checked():
    scores = pl.DataFrame({"timeliness_score": [50.0]})
    for bad in ({"speed": 1.0}, {"timeliness": -1.0}, {"timeliness": 0.0}):
        with pytest.raises(ValueError):
            overall(scores, bad)


def test_every_petition_output_column_is_in_the_catalogue():
    # The full equality (petition and incident columns) is checked in test_incident_metrics.
    j = journal()
    keys = {"tenant_id", "period"}
    columns: set[str] = set()
    for metric in (timeliness, coordination, satisfaction):
        columns |= set(metric(j, period="month").columns) - keys
    assert columns <= set(CATALOGUE)
    assert all(m["zh"] and m["en"] and m["formula"] for m in CATALOGUE.values())
    assert markdown().count("\n") == len(CATALOGUE) + 1


def test_satisfaction_and_coordination_by_unit():
    sat = satisfaction(journal(), period="quarter", by=["org_unit_id"])
    # p2 (last unit U3): two ratings in Q2, one satisfied; p1 (U1): replied in Q2, never rated.
    u3 = row(sat, period=date(2026, 4, 1), org_unit_id=U3)
    assert (u3["ratings"], u3["satisfied_share"], u3["dissatisfied_share"], u3["response_rate"]) == (2, 0.5, 0.5, 1.0)
    u1 = row(sat, period=date(2026, 4, 1), org_unit_id=U1)
    assert (u1["ratings"], u1["response_rate"], u1["followups_outstanding"]) == (None, 0.0, 1)
    coord = coordination(journal(), period="quarter", by=["org_unit_id"])
    assert row(coord, period=date(2026, 1, 1), org_unit_id=U3)["bounced_share"] == 1.0
    assert row(coord, period=date(2026, 4, 1), org_unit_id=U1)["transfer_objections"] == 1
