"""Disclosure control for the bureau's aggregates: small cells are suppressed, and so are enough other cells that
no suppressed value can be worked out from what is published.

Rules (k = ``XINFANG_DISCLOSURE_K``, default 10):

- **Primary suppression.** A count of 1 to k−1 cases is suppressed; a rate or mean is suppressed when the count
  it is built on is (a rate is only ever published beside a published base). A count of zero is published: it
  describes nobody.
- **Complementary suppression** over a table *with its margins* (row totals, column totals, grand total). Sign
  the margins negative and the table extended by its margins is a grid whose every row and column sums to zero;
  the suppressed cells are then the edges of a bipartite graph between the grid's rows and columns, and a
  suppressed value is determined by the published ones exactly when its edge is a *bridge* of that graph (lies on
  no cycle: every other solution moves values around a cycle). So every suppressed edge is put on a cycle by
  suppressing the published cells of the cheapest closing path (fewest cases hidden, never a zero cell).
  Because every suppressed cell is ≥ 1, moving ±1 around such a cycle keeps every value non-negative, so even
  knowing that counts are not negative does not pin a suppressed value.
- **Line residuals.** In every line (row or column, margins included) whose total is published, the suppressed
  cells together hold at least k cases or none at all, so no line's total bounds a suppressed cell below k.

The result: each line has zero or at least two suppressed cells, no suppressed value (small or complementary) is
determined by the published cells and margins, and no line total bounds one below k. Property-tested in
``tests/unit/analytics/test_disclosure.py``. Everything here is pure (plain Python over small tables: a
province has tens of universities, and the tables are its annual statistics).
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

DEFAULT_K = 10
TOTAL = "__total__"


@dataclass(frozen=True)
class Protected:
    """A two-way table after suppression. ``None`` is a suppressed value."""

    rows: list[str]
    columns: list[str]
    cells: list[list[int | None]]
    row_totals: list[int | None]
    column_totals: list[int | None]
    total: int | None

    def frame(self, row: str, column: str, value: str = "n") -> pl.DataFrame:
        """Long form: one row per (row, column) cell and per margin; margins carry ``TOTAL`` as their key."""
        records: list[dict[str, object]] = []
        for i, r in enumerate(self.rows):
            for j, c in enumerate(self.columns):
                records.append({row: r, column: c, value: self.cells[i][j]})
            records.append({row: r, column: TOTAL, value: self.row_totals[i]})
        for j, c in enumerate(self.columns):
            records.append({row: TOTAL, column: c, value: self.column_totals[j]})
        records.append({row: TOTAL, column: TOTAL, value: self.total})
        schema = {row: pl.String(), column: pl.String(), value: pl.Int64()}
        return pl.DataFrame(records, schema=schema, orient="row")


def is_small(n: int, k: int) -> bool:
    """A count that must not be published (1 ≤ n < k)."""
    return 0 < n < k


def _grid(cells: Sequence[Sequence[int]]) -> list[list[int]]:
    """The table extended by its margins: row R holds the column totals, column C the row totals."""
    rows = [list(r) for r in cells]
    width = len(rows[0]) if rows else 0
    out = [[*r, sum(r)] for r in rows]
    column_totals = [sum(r[j] for r in rows) for j in range(width)]
    out.append([*column_totals, sum(column_totals)])
    return out


def _bridges(n_rows: int, n_cols: int, edges: set[tuple[int, int]]) -> set[tuple[int, int]]:
    """Bridges of the bipartite graph rows × columns whose edges are the suppressed cells (Tarjan, iterative)."""
    adjacency: dict[int, list[tuple[int, tuple[int, int]]]] = {}
    for i, j in edges:
        a, b = i, n_rows + j
        adjacency.setdefault(a, []).append((b, (i, j)))
        adjacency.setdefault(b, []).append((a, (i, j)))
    order: dict[int, int] = {}
    low: dict[int, int] = {}
    found: set[tuple[int, int]] = set()
    counter = 0
    for root in adjacency:
        if root in order:
            continue
        order[root] = low[root] = counter
        counter += 1
        stack: list[tuple[int, tuple[int, int] | None, int]] = [(root, None, 0)]
        while stack:
            node, via, index = stack[-1]
            neighbours = adjacency[node]
            if index < len(neighbours):
                stack[-1] = (node, via, index + 1)
                nxt, edge = neighbours[index]
                if edge == via:
                    continue
                if nxt in order:
                    low[node] = min(low[node], order[nxt])
                else:
                    order[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append((nxt, edge, 0))
            else:
                stack.pop()
                if stack:
                    parent = stack[-1][0]
                    low[parent] = min(low[parent], low[node])
                    if low[node] > order[parent] and via is not None:
                        found.add(via)
    return found


def _closing_path(
    grid: list[list[int]], suppressed: set[tuple[int, int]], edge: tuple[int, int]
) -> list[tuple[int, int]] | None:
    """The published cells of the cheapest path from the edge's row to its column avoiding the edge itself.

    Suppressed cells cost nothing, published ones their count; zero cells are never used (a suppressed zero
    could be pinned by non-negativity).
    """
    n_rows, n_cols = len(grid), len(grid[0])
    start, goal = edge[0], n_rows + edge[1]
    best = {start: 0}
    back: dict[int, tuple[int, tuple[int, int]]] = {}
    queue = [(0, start)]
    while queue:
        cost, node = heapq.heappop(queue)
        if node == goal:
            break
        if cost > best.get(node, cost):
            continue
        if node < n_rows:
            steps = [(n_rows + j, (node, j)) for j in range(n_cols)]
        else:
            steps = [(i, (i, node - n_rows)) for i in range(n_rows)]
        for nxt, cell in steps:
            if cell == edge or grid[cell[0]][cell[1]] == 0:
                continue
            step = 0 if cell in suppressed else grid[cell[0]][cell[1]]
            if cost + step < best.get(nxt, 1 << 62):
                best[nxt] = cost + step
                back[nxt] = (node, cell)
                heapq.heappush(queue, (cost + step, nxt))
    if goal not in best:
        return None
    path: list[tuple[int, int]] = []
    node = goal
    while node != start:
        node, cell = back[node]
        path.append(cell)
    return [c for c in path if c not in suppressed]


def _lines(n_rows: int, n_cols: int) -> list[tuple[list[tuple[int, int]], tuple[int, int]]]:
    """Every line of the extended grid as (its inner cells, its margin cell)."""
    lines = [([(i, j) for j in range(n_cols - 1)], (i, n_cols - 1)) for i in range(n_rows)]
    lines += [([(i, j) for i in range(n_rows - 1)], (n_rows - 1, j)) for j in range(n_cols)]
    return lines


def suppression_pattern(cells: Sequence[Sequence[int]], k: int) -> set[tuple[int, int]]:
    """The suppressed positions of the table extended by its margins (row ``len(cells)`` holds the column totals,
    column ``len(cells[0])`` the row totals). See the module docstring for the rules."""
    if any(v < 0 for r in cells for v in r):
        raise ValueError("counts must be non-negative")
    if not cells or not cells[0]:
        return set()
    grid = _grid(cells)
    n_rows, n_cols = len(grid), len(grid[0])
    suppressed = {(i, j) for i in range(n_rows) for j in range(n_cols) if is_small(grid[i][j], k)}
    everything = {(i, j) for i in range(n_rows) for j in range(n_cols) if grid[i][j] > 0}
    changed = True
    while changed:
        changed = False
        for edge in sorted(_bridges(n_rows, n_cols, suppressed)):
            if edge not in _bridges(n_rows, n_cols, suppressed):
                continue  # an earlier path in this round already closed a cycle through it
            path = _closing_path(grid, suppressed, edge)
            if path is None:
                # No path through non-zero cells: nothing short of hiding every case protects it.
                suppressed = set(everything)
                return suppressed
            suppressed.update(path)
            changed = True
        for inner, margin in _lines(n_rows, n_cols):
            if margin in suppressed:
                continue
            hidden = [c for c in inner if c in suppressed]
            residual = sum(grid[i][j] for i, j in hidden)
            if hidden and residual < k:
                candidates = sorted((grid[i][j], (i, j)) for i, j in inner if (i, j) not in suppressed and grid[i][j])
                suppressed.add(candidates[0][1] if candidates else margin)
                changed = True
    return suppressed


def protect(
    rows: Sequence[str], columns: Sequence[str], cells: Sequence[Sequence[int]], *, k: int = DEFAULT_K
) -> Protected:
    """Suppress ``cells`` (a rows × columns table of counts) and its margins for publication."""
    n, m = len(rows), len(columns)
    if n == 0 or m == 0:
        # Nothing counted: every margin is an empty sum.
        return Protected(list(rows), list(columns), [[] for _ in range(n)], [0] * n, [0] * m, 0)
    grid = _grid(cells)
    pattern = suppression_pattern(cells, k)

    def show(i: int, j: int) -> int | None:
        return None if (i, j) in pattern else grid[i][j]

    return Protected(
        rows=list(rows),
        columns=list(columns),
        cells=[[show(i, j) for j in range(m)] for i in range(n)],
        row_totals=[show(i, m) for i in range(n)],
        column_totals=[show(n, j) for j in range(m)],
        total=show(n, m),
    )


def protect_long(frame: pl.DataFrame, *, row: str, column: str, value: str = "n", k: int = DEFAULT_K) -> Protected:
    """``protect`` over a long frame of (row, column, count); absent combinations count zero."""
    rows = sorted({str(v) for v in frame.get_column(row).to_list()})
    columns = sorted({str(v) for v in frame.get_column(column).to_list()})
    at = {(r, c): 0 for r in rows for c in columns}
    for r, c, v in frame.select(pl.col(row).cast(pl.String), pl.col(column).cast(pl.String), value).iter_rows():
        at[(r, c)] += int(v or 0)
    return protect(rows, columns, [[at[(r, c)] for c in columns] for r in rows], k=k)


def protect_column(
    frame: pl.DataFrame, *, key: str, count: str, dependents: Sequence[str] = (), k: int = DEFAULT_K
) -> tuple[pl.DataFrame, int | None]:
    """Suppress one count column of a one-row-per-``key`` frame against its total (a one-way table), and null
    the ``dependents`` (rates and means built on that count) wherever the count is suppressed.

    Returns the frame and the published total (``None`` when it had to be suppressed).
    """
    keys = [str(v) for v in frame.get_column(key).to_list()]
    counts = [int(v or 0) for v in frame.get_column(count).to_list()]
    table = protect([count], keys, [counts], k=k)
    published = table.cells[0] if keys else []
    hidden = pl.lit(pl.Series([v is None for v in published], dtype=pl.Boolean))
    out = frame.with_columns(
        pl.when(hidden).then(None).otherwise(pl.col(count)).alias(count),
        *(pl.when(hidden).then(None).otherwise(pl.col(d)).alias(d) for d in dependents),
    )
    return out, table.row_totals[0] if keys else 0
