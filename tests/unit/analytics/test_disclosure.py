"""Disclosure control: exact hand-computed cases, and properties over arbitrary tables (hypothesis).

The recovery check is independent of the implementation's graph argument: exact Gaussian elimination over the
rationals decides, for every suppressed cell, whether the published cells and margins determine it.
"""

from __future__ import annotations

from fractions import Fraction

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from analytics.province.disclosure import TOTAL, protect, protect_column, protect_long, suppression_pattern


def test_one_way_table_hides_a_small_cell_and_its_cheapest_complement() -> None:
    t = protect(["n"], ["a", "b", "c"], [[3, 20, 30]], k=10)
    # 3 is small; hiding it alone would leave it as 53 − 20 − 30, so the cheapest partner (20) goes too.
    assert t.cells == [[None, None, 30]]
    assert (t.row_totals, t.total) == ([53], 53)


def test_two_way_table_hand_computed() -> None:
    t = protect(["A", "B", "C"], ["x", "y"], [[2, 15], [12, 14], [11, 13]], k=10)
    # (A,x)=2 is small; the cheapest cycle through it is A,x - A,y - C,y - C,x (15 + 13 + 11 = 39 cases).
    assert t.cells == [[None, None], [12, 14], [None, None]]
    assert t.row_totals == [17, 26, 24]
    assert t.column_totals == [25, 42]
    assert t.total == 67


def test_nothing_small_nothing_hidden_and_zero_is_published() -> None:
    t = protect(["A", "B"], ["x", "y"], [[10, 0], [25, 11]], k=10)
    assert t.cells == [[10, 0], [25, 11]]
    assert (t.row_totals, t.column_totals, t.total) == ([10, 36], [35, 11], 46)


def test_small_total_is_hidden_with_its_cells() -> None:
    t = protect(["n"], ["a", "b"], [[2, 3]], k=10)
    assert t.cells == [[None, None]] and t.row_totals == [None] and t.total is None


def test_line_residual_below_k_hides_more() -> None:
    # Two small cells in one row, 1 + 2 = 3 < k: a published total of 40 would bound both below 10.
    t = protect(["n"], ["a", "b", "c", "d"], [[1, 2, 15, 22]], k=10)
    hidden = [j for j, v in enumerate(t.cells[0]) if v is None]
    assert {0, 1} <= set(hidden)
    assert sum([1, 2, 15, 22][j] for j in hidden) >= 10


def test_protect_long_and_frame_round_trip() -> None:
    frame = pl.DataFrame({"u": ["p", "p", "q", "q"], "kind": ["s", "c", "s", "c"], "n": [12, 3, 20, 25]})
    t = protect_long(frame, row="u", column="kind", k=10)
    out = t.frame("university", "kind")
    assert out.filter((pl.col("university") == "p") & (pl.col("kind") == "s")).item(0, "n") is None
    assert out.filter((pl.col("university") == TOTAL) & (pl.col("kind") == TOTAL)).item(0, "n") == 60


def test_protect_column_nulls_dependent_rates() -> None:
    frame = pl.DataFrame({"u": ["a", "b", "c"], "ratings": [4, 30, 12], "satisfied_share": [0.5, 0.9, 0.75]})
    out, total = protect_column(frame, key="u", count="ratings", dependents=["satisfied_share"], k=10)
    assert out.get_column("ratings").to_list() == [None, 30, None]
    assert out.get_column("satisfied_share").to_list() == [None, 0.9, None]
    assert total == 46


# --- properties ------------------------------------------------------------------------------------------------


def _extended(cells: list[list[int]]) -> list[list[int]]:
    rows = [[*r, sum(r)] for r in cells]
    totals = [sum(r[j] for r in rows) for j in range(len(rows[0]))]
    return [*rows, totals]


def _determined(grid: list[list[int]], hidden: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Suppressed cells whose value follows from the published ones by the table's linear equations."""
    n_rows, n_cols = len(grid), len(grid[0])
    unknowns = sorted(hidden)
    col = {c: i for i, c in enumerate(unknowns)}
    equations: list[list[Fraction]] = []
    for i in range(n_rows - 1):  # row i: inner cells sum to the row total
        eq = [Fraction(0)] * len(unknowns)
        for j in range(n_cols):
            if (i, j) in col:
                eq[col[(i, j)]] += 1 if j < n_cols - 1 else -1
        equations.append(eq)
    for j in range(n_cols):  # column j (and the margin column): inner cells sum to the column total
        eq = [Fraction(0)] * len(unknowns)
        for i in range(n_rows):
            if (i, j) in col:
                eq[col[(i, j)]] += 1 if i < n_rows - 1 else -1
        equations.append(eq)
    eq = [Fraction(0)] * len(unknowns)  # the totals row sums to the grand total
    for j in range(n_cols):
        if (n_rows - 1, j) in col:
            eq[col[(n_rows - 1, j)]] += 1 if j < n_cols - 1 else -1
    equations.append(eq)
    # Row-reduce; a unit vector in the row space means that unknown is determined.
    rows = [e for e in equations if any(e)]
    rank_rows: list[list[Fraction]] = []
    pivots: list[int] = []
    for r in rows:
        r = r[:]
        for p, pr in zip(pivots, rank_rows, strict=True):
            if r[p]:
                f = r[p] / pr[p]
                r = [a - f * b for a, b in zip(r, pr, strict=True)]
        if any(r):
            p = next(i for i, v in enumerate(r) if v)
            for k, pr in enumerate(rank_rows):
                if pr[p]:
                    f = pr[p] / r[p]
                    rank_rows[k] = [a - f * b for a, b in zip(pr, r, strict=True)]
            rank_rows.append(r)
            pivots.append(p)
    return {unknowns[p] for p, r in zip(pivots, rank_rows, strict=True) if sum(1 for v in r if v) == 1}


tables = st.integers(1, 4).flatmap(
    lambda n: st.integers(1, 4).flatmap(
        lambda m: st.lists(
            st.lists(st.one_of(st.integers(0, 12), st.integers(0, 60)), min_size=m, max_size=m),
            min_size=n,
            max_size=n,
        )
    )
)


@settings(max_examples=300, deadline=None)
@given(cells=tables, k=st.sampled_from([3, 5, 10]))
def test_no_small_cell_is_published_or_recoverable(cells: list[list[int]], k: int) -> None:
    grid = _extended(cells)
    hidden = suppression_pattern(cells, k)
    n_rows, n_cols = len(grid), len(grid[0])
    # Every small cell, margins included, is suppressed.
    for i in range(n_rows):
        for j in range(n_cols):
            if 0 < grid[i][j] < k:
                assert (i, j) in hidden
    # No suppressed value follows from the published cells and totals.
    assert not _determined(grid, hidden)
    lines = [[(i, j) for j in range(n_cols)] for i in range(n_rows)]
    lines += [[(i, j) for i in range(n_rows)] for j in range(n_cols)]
    for line in lines:
        # Zero or at least two suppressed cells per line.
        assert len([c for c in line if c in hidden]) != 1
        inner, margin = line[:-1], line[-1]
        if margin not in hidden:
            residual = sum(grid[i][j] for i, j in inner if (i, j) in hidden)
            # A published total never bounds the suppressed cells of its line below k.
            assert residual == 0 or residual >= k
    # Only cases are hidden: no zero is suppressed (a suppressed zero could be pinned by non-negativity).
    assert all(grid[i][j] > 0 for i, j in hidden)


@settings(max_examples=200, deadline=None)
@given(counts=st.lists(st.integers(0, 40), min_size=1, max_size=8), k=st.sampled_from([5, 10]))
def test_one_way_totals_never_recover_a_small_count(counts: list[int], k: int) -> None:
    frame = pl.DataFrame({"u": [f"u{i}" for i in range(len(counts))], "n": counts, "rate": [0.5] * len(counts)})
    out, total = protect_column(frame, key="u", count="n", dependents=["rate"], k=k)
    published = out.get_column("n").to_list()
    assert all(v is None or not 0 < v < k for v in published)
    assert all((v is None) == (r is None) for v, r in zip(published, out.get_column("rate").to_list(), strict=True))
    hidden = [c for c, v in zip(counts, published, strict=True) if v is None]
    if total is not None and hidden:
        # The total minus the published counts is the sum of at least two hidden counts, itself at least k.
        assert len(hidden) >= 2 and sum(hidden) >= k


def test_the_recovery_check_catches_naive_suppression() -> None:
    # The checker itself: hiding only the small cell, or a dumbbell with a bridge, is recoverable.
    grid = _extended([[3, 20, 30]])
    assert _determined(grid, {(0, 0), (1, 0)}) == {(0, 0), (1, 0)}
    grid = _extended([[2, 15], [12, 14], [11, 13]])
    assert _determined(grid, {(0, 0), (0, 1), (2, 0), (2, 1)}) == set()


def test_empty_tables() -> None:
    assert protect([], ["a", "b"], []) == protect([], ["a", "b"], [], k=3)
    t = protect([], ["a", "b"], [])
    assert (t.cells, t.row_totals, t.column_totals, t.total) == ([], [], [0, 0], 0)
    t = protect(["n"], [], [[]])
    assert (t.cells, t.row_totals, t.column_totals, t.total) == ([[]], [0], [], 0)
