"""The province cells as pure functions: folding batches of events incrementally gives the cells of a
from-scratch computation, and the bureau's published figures from the cells equal the from-scratch ones,
suppression and scores included (hypothesis over arbitrary petition journals split into arbitrary batches)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.metrics import JOURNAL_SCHEMA, localize
from analytics.province.cells import (
    CELL_SCHEMA,
    SUMS,
    fold_delta,
    published_metrics,
    published_statistics,
    window_cells,
    windows_between,
)
from analytics.province.statistics import (
    BASES,
    METRICS,
    SCORES,
    UNIT_SCHEMA,
    UNIVERSITY_SCHEMA,
    ProvinceData,
    Window,
    statistics,
    university_metrics,
)

TYPES = [
    "submitted", "accepted", "not_accepted", "assigned", "transferred", "transfer_objected", "extended", "replied",
    "rated", "review_requested", "reviewed", "rereview_requested", "followup_due", "overdue",
]  # fmt: skip
START = datetime(2025, 11, 20, tzinfo=UTC)
ZONES = {"a": "Asia/Shanghai", "b": "Asia/Urumqi", "c": "Asia/Shanghai"}
WINDOWS = [*(Window(2025, q) for q in (4,)), *(Window(2026, q) for q in (1, 2, 3)), Window(2025), Window(2026)]

events = st.lists(
    st.fixed_dictionaries(
        {
            "tenant_id": st.sampled_from(sorted(ZONES)),
            # Up to ~10 months: crosses quarter and year boundaries in both zones.
            "occurred_at": st.integers(0, 300 * 24).map(lambda h: START + timedelta(hours=h)),
            "type": st.sampled_from(TYPES).map(lambda t: f"petition.{t}"),
            "petition_id": st.sampled_from([f"p{i}" for i in range(8)]),
            "org_unit_id": st.sampled_from([None, "u1", "u2"]),
            "kind": st.sampled_from(["complaint", "suggestion", "accusation"]),
            "category": st.sampled_from([None, "c1", "c2"]),
            "outcome": st.sampled_from([None, "supported", "explained"]),
            "rating": st.sampled_from([None, "satisfied", "basically_satisfied", "dissatisfied"]),
            "stage": st.sampled_from([None, "reply", "review"]),
            "deadline": st.sampled_from(["accept", "conclude"]),
            "days": st.integers(1, 30),
            # The transaction that committed the event (the fold's watermark unit).
            "txid": st.integers(1, 12),
        }
    ),
    max_size=80,
)


def _journal(rows: list[dict]) -> pl.DataFrame:
    # Petition ids are per university in the real journal (UUIDs): make them so here.
    rows = [{**r, "petition_id": f"{r['tenant_id']}-{r['petition_id']}"} for r in rows]
    return pl.DataFrame(rows, schema={**JOURNAL_SCHEMA, "txid": pl.Int64()})


def _fold_in_batches(journal: pl.DataFrame, cuts: list[int]) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Fold the journal batch by batch, as the job does: each batch is the transactions in ``[lo, hi)``, read as
    every event below ``hi`` of the petitions the batch touches."""
    keys = ["tenant_id", "period_kind", "period_start"]
    cells = pl.DataFrame(schema={**CELL_SCHEMA, "period_kind": pl.String(), "period_start": pl.Date()})
    tag = {"period_kind": pl.String(), "period_start": pl.Date()}
    dims = pl.DataFrame(schema={"tenant_id": pl.String(), **tag, "dimension": pl.String(), "value": pl.String(),
                                "n": pl.Int64()})  # fmt: skip
    bounds = [0, *sorted(set(cuts)), 100]
    for lo, hi in itertools.pairwise(bounds):
        touched = journal.filter((pl.col("txid") >= lo) & (pl.col("txid") < hi)).select("petition_id").unique()
        batch = journal.filter(pl.col("txid") < hi).join(touched, on="petition_id", how="semi")
        delta = fold_delta(localize(batch.lazy(), ZONES), before=lo)
        cells = _add(cells, delta.cells, keys, SUMS)
        dims = _add(dims, delta.dimensions, [*keys, "dimension", "value"], ("n",))
    return cells, dims


def _add(store: pl.DataFrame, delta: pl.DataFrame, keys: list[str], values: tuple[str, ...]) -> pl.DataFrame:
    both = pl.concat([store.select(*keys, *values), delta.select(*keys, *values)])
    return both.group_by(keys).agg(pl.col(v).sum() for v in values).sort(keys)


def _nonzero(frame: pl.DataFrame, keys: list[str], values: tuple[str, ...]) -> pl.DataFrame:
    return frame.filter(pl.any_horizontal(pl.col(v) != 0 for v in values)).select(*keys, *values).sort(keys)


@settings(max_examples=25, deadline=None)
@given(events, st.lists(st.integers(1, 12), max_size=5))
def test_folding_batches_gives_the_from_scratch_cells(rows: list[dict], cuts: list[int]) -> None:
    journal = _journal(rows)
    cells, dims = _fold_in_batches(journal, cuts)
    local = localize(journal.lazy(), ZONES)
    for window in WINDOWS:
        expected, expected_dims = window_cells(local, window)
        got = cells.filter(period_kind=window.period, period_start=window.start)
        assert _nonzero(got, ["tenant_id"], SUMS).to_dicts() == _nonzero(expected, ["tenant_id"], SUMS).to_dicts()
        got_dims = dims.filter(period_kind=window.period, period_start=window.start)
        keys = ["tenant_id", "dimension", "value"]
        assert _nonzero(got_dims, keys, ("n",)).to_dicts() == _nonzero(expected_dims, keys, ("n",)).to_dicts()


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return a == pytest.approx(b, rel=1e-9, abs=1e-9)
    return a == b


@settings(max_examples=25, deadline=None)
@given(events, st.sampled_from(WINDOWS), st.sampled_from([1, 2, 3, 5]))
def test_published_figures_from_cells_equal_the_from_scratch_ones(rows: list[dict], window: Window, k: int) -> None:
    journal = _journal(rows)
    universities = pl.DataFrame(
        [(t, f"s-{t}", t, t, z) for t, z in sorted(ZONES.items())], schema=UNIVERSITY_SCHEMA, orient="row"
    )
    units = pl.DataFrame(
        [("a", "u1", "office"), ("b", "u1", "college"), ("c", "u2", "office")], schema=UNIT_SCHEMA, orient="row"
    )
    data = ProvinceData(universities, journal.drop("txid"), units, ZONES)
    expected, expected_total = university_metrics(data, window, k=k)
    cells, dims = window_cells(localize(journal.lazy(), ZONES), window)
    got, got_total = published_metrics(universities, cells, k=k)
    columns = ["tenant_id", *METRICS, *SCORES]
    for want, have in ((expected, got), (expected_total, got_total)):
        want_rows = want.select(columns).sort("tenant_id").to_dicts()
        have_rows = have.select(columns).sort("tenant_id").to_dicts()
        for w, h in zip(want_rows, have_rows, strict=True):
            assert all(_close(w[c], h[c]) for c in columns), (w, h)
    # The statistics: unit kinds come from the units table (the database function does this join).
    kinds = dict(((t, u), kd) for t, u, kd in units.iter_rows())
    dims = dims.with_columns(
        value=pl.when(pl.col("dimension") == "org_unit")
        .then(
            pl.struct("tenant_id", "value").map_elements(
                lambda r: kinds.get((r["tenant_id"], r["value"]), "unassigned"), return_dtype=pl.String
            )
        )
        .otherwise(pl.col("value"))
    )
    assert published_statistics(universities, cells, dims, k=k) == statistics(data, window, k=k)


def test_a_late_event_before_a_closed_period_end_revises_it_and_a_later_one_does_not() -> None:
    """A petition concluded in Q1: a review requested in Q2 does not change Q1 (the period's figures are those
    known at its end); one backdated into Q1 (committed later) does."""
    at = datetime(2026, 1, 10, 2, tzinfo=UTC)
    base = {"tenant_id": "a", "petition_id": "p", "kind": "complaint", "category": "c1"}
    rows = [
        {**base, "occurred_at": at, "type": "petition.submitted", "txid": 1},
        {**base, "occurred_at": at + timedelta(days=1), "type": "petition.accepted", "txid": 1},
        {**base, "occurred_at": at + timedelta(days=9), "type": "petition.replied", "txid": 1},
        {**base, "occurred_at": datetime(2026, 5, 1, tzinfo=UTC), "type": "petition.review_requested", "txid": 2},
        {**base, "occurred_at": datetime(2026, 3, 1, tzinfo=UTC), "type": "petition.review_requested", "txid": 3},
    ]
    journal = pl.DataFrame(rows, schema={**JOURNAL_SCHEMA, "txid": pl.Int64()})
    cells, _ = _fold_in_batches(journal, [2, 3])
    q1 = cells.filter(period_kind="quarter", period_start=date(2026, 1, 1))
    assert q1.select("concluded", "concluded_reviewed").rows() == [(1, 1)]
    cells, _ = _fold_in_batches(journal.filter(pl.col("txid") < 3), [2])
    q1 = cells.filter(period_kind="quarter", period_start=date(2026, 1, 1))
    assert q1.select("concluded", "concluded_reviewed").rows() == [(1, 0)]


def test_the_reference_counts_what_was_known_at_the_end_of_the_period() -> None:
    """A petition received and assigned to an office in Q1 and transferred to a college in Q2: Q1's statistics
    name the office, from scratch as from the cells (found by the property above: the reference read the whole
    journal, the cells what was known at the period's end)."""
    at = datetime(2026, 1, 10, 2, tzinfo=UTC)
    base = {"tenant_id": "a", "petition_id": "p", "kind": "complaint", "category": "c1"}
    rows = [
        {**base, "occurred_at": at, "type": "petition.submitted", "org_unit_id": None},
        {**base, "occurred_at": at + timedelta(days=1), "type": "petition.assigned", "org_unit_id": "u1"},
        {**base, "occurred_at": datetime(2026, 4, 20, tzinfo=UTC), "type": "petition.transferred", "org_unit_id": "u2"},
    ]
    journal = pl.DataFrame(rows, schema=JOURNAL_SCHEMA)
    universities = pl.DataFrame([("a", "s-a", "a", "a", "Asia/Shanghai")], schema=UNIVERSITY_SCHEMA, orient="row")
    units = pl.DataFrame([("a", "u1", "office"), ("a", "u2", "college")], schema=UNIT_SCHEMA, orient="row")
    data = ProvinceData(universities, journal, units, {"a": "Asia/Shanghai"})
    q1 = statistics(data, Window(2026, 1), k=1).unit_kinds
    assert (q1.columns, q1.total) == (["office"], 1)
    _, dims = window_cells(localize(journal.lazy(), {"a": "Asia/Shanghai"}), Window(2026, 1))
    assert dims.filter(dimension="org_unit").select("value", "n").rows() == [("u1", 1)]


def test_windows_between() -> None:
    assert windows_between(date(2025, 11, 3), date(2026, 4, 1), "quarter") == [
        Window(2025, 4), Window(2026, 1), Window(2026, 2)
    ]  # fmt: skip
    assert windows_between(date(2025, 11, 3), date(2026, 4, 1), "year") == [Window(2025), Window(2026)]


def test_every_count_is_a_cell_and_bases_are_counts() -> None:
    assert set(BASES) <= {*SUMS, "overdue_accept", "overdue_conclude", "followups_outstanding"}


def test_the_relay_asks_for_one_fold_per_university_with_petition_events() -> None:
    import uuid

    from analytics.province import jobs as province_jobs
    from analytics.runtime import relay

    a, b = uuid.uuid4(), uuid.uuid4()

    def event(tenant: uuid.UUID, type_: str) -> relay.FeedEvent:
        return relay.FeedEvent(tenant_id=tenant, id=uuid.uuid4(), txid=1, seq=1, occurred_at=START, type=type_,
                               actor_id=None, petition_id=None, incident_id=None, org_unit_id=None, subject_id=None,
                               payload={})  # fmt: skip

    batch = [event(a, "petition.submitted"), event(a, "petition.accepted"), event(b, "incident.reported")]
    messages = [m for m in relay.messages_for_batch(batch) if m.actor_name == "fold_province_cells"]
    assert [m.args for m in messages] == [(str(a),)]
    assert province_jobs._fold_touched([event(b, "account.created")]) == []
