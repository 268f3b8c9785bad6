"""The province cells on a real database over generated history: the bureau routes (read from the cells) equal
the from-scratch computation and each university's own report; a fold that dies mid-way, and folds running
at once, neither lose nor double-count anything; a rebuild gives the same cells.

Three synthetic universities are moved into one province of their own (Hainan, 460000), so no other test's
universities share it.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text

from analytics.province import cells as province_cells
from analytics.province import jobs as province_jobs
from analytics.province import statistics as province
from analytics.reports import store
from service.ops.synthetic.generate import Spec, generate
from tenants import journal
from tests.support.platform import FIXED_NOW, auth, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")
CODE = "460000"
WINDOWS = [province.Window(2025, 4), *(province.Window(2026, q) for q in (1, 2, 3, 4)), province.Window(2026)]


@pytest.fixture(scope="module")
async def universities(db: Any, settings: Any, database_url: str) -> list[uuid.UUID]:
    spec = Spec(tenants=3, petitions=900, incidents=0, seed=5, until=dt.date(2026, 10, 1),
                prefix=f"pc{uuid.uuid4().hex[:6]}")  # fmt: skip
    report = await generate(db, spec, data_key=settings.data_key_bytes)
    ids = [u.tenant_id for u in report.universities]
    with psycopg.connect(database_url, autocommit=True) as conn:
        conn.execute("update tenants set province_code = %s where id = any(%s)", (CODE, ids))
    return ids


async def _viewer(client: Any, platform_token: str) -> dict[str, str]:
    email = f"bureau-{uuid.uuid4().hex[:8]}@edu.gov.cn"
    r = await client.post(
        "/api/v1/platform/accounts",
        json={"email": email, "password": "bureau-password-1", "role": "bureau_viewer", "province_code": CODE},
        headers=auth(platform_token),
    )
    assert r.status_code == 201, r.text
    return auth((await sign_in(client, None, email, "bureau-password-1")).token)


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and a == pytest.approx(b, rel=1e-9, abs=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


async def _assert_cells_equal_from_scratch(db: Any, *, ks: tuple[int, ...] = (10, 40)) -> None:
    for window in WINDOWS:
        data = await province.extract(db, CODE, window)
        cells = await province_jobs.read(db, CODE, window, dimensions=True)
        for k in ks:
            want, want_total = province.university_metrics(data, window, k=k)
            got, got_total = province_cells.published_metrics(cells.universities, cells.cells, k=k)
            assert _same(want.sort("tenant_id").to_dicts(), got.sort("tenant_id").to_dicts()), (window, k)
            assert _same(want_total.to_dicts(), got_total.to_dicts()), (window, k)
            assert province_cells.published_statistics(
                cells.universities, cells.cells, cells.dimensions, k=k
            ) == province.statistics(data, window, k=k), (window, k)
            assert _same(
                province.rankings(want, data.universities).to_dicts(),
                province.rankings(got, cells.universities).to_dicts(),
            )


async def _late_events(db: Any, tenant_id: uuid.UUID, clock: Any, at: dt.datetime, n: int) -> None:
    """Events for ``n`` generated petitions of the university, at ``at`` (committed now): reviews requested
    and ratings, which change the figures of the periods those petitions were concluded in."""
    async with db.transaction(tenant_id) as session:
        rows = (
            await session.execute(
                select(journal.JournalEvent.petition_id)
                .where(journal.JournalEvent.type == "petition.replied")
                .order_by(journal.JournalEvent.seq)
                .limit(n)
            )
        ).all()
    clock.move_to(at)
    for (petition_id,) in rows:
        async with db.transaction(tenant_id) as session:
            await journal.record(session, "petition.review_requested", petition_id=petition_id, days=3)
            await journal.record(session, "petition.rated", petition_id=petition_id, rating="dissatisfied",
                                 stage="review")  # fmt: skip


async def test_bureau_routes_answer_from_the_cells_as_from_scratch(
    db: Any, client: Any, platform_token: str, universities: list[uuid.UUID], clock: Any
) -> None:
    results = await province_jobs.fold_all(db, universities)
    assert all(r.events > 0 and r.after > r.before for r in results)
    await _assert_cells_equal_from_scratch(db)
    # Late events: some backdated into closed quarters (committed now), some now; folded incrementally.
    await _late_events(db, universities[0], clock, dt.datetime(2026, 5, 20, 3, tzinfo=dt.UTC), 30)
    await _late_events(db, universities[1], clock, FIXED_NOW, 20)
    results = await province_jobs.fold_all(db, universities)
    # Incremental: only the touched petitions' events are read again.
    assert 0 < results[0].events < 2_000 and results[2].events == 0
    await _assert_cells_equal_from_scratch(db)
    # Through HTTP: the same figures as the functions (k of the settings).
    viewer = await _viewer(client, platform_token)
    for window in WINDOWS:
        params = {"year": window.year, **({"quarter": window.quarter} if window.quarter else {})}
        body = (await client.get("/api/v1/bureau/aggregates", params=params, headers=viewer)).json()
        data = await province.extract(db, CODE, window)
        want, totals = province.university_metrics(data, window, k=10)
        by_id = {r["tenant_id"]: r for r in want.to_dicts()}
        slugs = dict(data.universities.select("slug", "tenant_id").iter_rows())
        for row in body["universities"]:
            expected = by_id[slugs[row["slug"]]]
            assert _same(row["metrics"], {m: expected[m] for m in row["metrics"]}), (window, row["slug"])
        assert _same(
            body["province_totals"]["metrics"], {m: totals.to_dicts()[0][m] for m in body["province_totals"]["metrics"]}
        )


async def test_the_cells_equal_each_universitys_own_quarterly_report(db: Any, universities: list[uuid.UUID]) -> None:
    await province_jobs.fold_all(db, universities)
    window = province.Window(2026, 2)
    cells = await province_jobs.read(db, CODE, window)
    per, _ = province_cells.summed(cells.cells, [str(u) for u in universities])
    metrics = {r["tenant_id"]: r for r in province_cells.metrics_of(per).to_dicts()}
    for tenant_id in universities:
        async with db.transaction(tenant_id) as session:
            content, _ = await store.build(session, "quarterly", window.start)
        table = content["tables"]["petitions.total"]
        row = dict(zip(table["columns"], table["rows"][0], strict=True))
        mine = metrics[str(tenant_id)]
        compared = [m for m in province.METRICS if m in row]
        assert len(compared) >= 20
        for m in compared:
            if mine[m] is None or row[m] is None:
                assert mine[m] == row[m] or (row[m] is None and mine[m] in (0, None)), m
            else:
                assert mine[m] == pytest.approx(row[m], abs=1e-6), m


async def _cells(db: Any, universities: list[uuid.UUID]) -> list[tuple[Any, ...]]:
    out = []
    for tenant_id in universities:
        async with db.transaction(tenant_id) as session:
            rows = await session.execute(
                text(
                    f"select period_kind, period_start, {', '.join(province_cells.SUMS)} from province_cells "
                    "order by 1, 2"
                )
            )
            dims = await session.execute(text("select * from province_dimension_cells order by 2, 3, 4, 5"))
            out.append((str(tenant_id), [tuple(r) for r in rows], [tuple(r) for r in dims]))
    return out


async def test_a_fold_that_dies_mid_way_and_concurrent_folds_lose_and_double_nothing(
    db: Any, universities: list[uuid.UUID], clock: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    await province_jobs.fold_all(db, universities)
    before = await _cells(db, universities)
    await _late_events(db, universities[2], clock, dt.datetime(2026, 8, 1, 3, tzinfo=dt.UTC), 25)
    # The worker dies after writing the cells, before moving the watermark: nothing of it stays.
    real_apply = province_jobs._apply

    async def apply_then_die(*args: Any, **kwargs: Any) -> int:
        await real_apply(*args, **kwargs)
        raise SystemExit("killed mid-fold")

    monkeypatch.setattr(province_jobs, "_apply", apply_then_die)
    with pytest.raises(SystemExit):
        await province_jobs.fold(db, universities[2])
    assert await _cells(db, universities) == before
    monkeypatch.setattr(province_jobs, "_apply", real_apply)
    # The retry, redelivered three more times at once, with the other universities' folds running too.
    await asyncio.gather(*(province_jobs.fold(db, u) for u in [universities[2]] * 4 + universities[:2]))
    await _assert_cells_equal_from_scratch(db, ks=(10,))
    folded = await _cells(db, universities)
    assert folded != before
    # A rebuild from scratch gives the same cells.
    await province_jobs.fold_all(db, universities, rebuild=True)
    assert await _cells(db, universities) == folded
