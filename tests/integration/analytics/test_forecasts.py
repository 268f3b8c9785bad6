"""Forecasts through the database and the API: the monthly history counted under the university's RLS in its
zone, the refresh (idempotent), the university's route, the bureau's province view (small category forecasts
suppressed, another province's universities absent), and the daily job registered with the scheduler."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import text

from analytics.forecasts import compute, store
from tests.support.casework import make_university, petition_body
from tests.support.platform import FIXED_NOW, auth, sign_in

# Petitions per month over ten months (February to November 2026, local), canteen a few of them.
MONTHS = [dt.date(2026, m, 1) for m in range(2, 12)]
PER_MONTH = {"dormitory": 3, "canteen": 1}


async def _history(client: Any, db: Any, uni: Any) -> None:
    ids: list[tuple[str, dt.date]] = []
    for month in MONTHS:
        for category, n in PER_MONTH.items():
            for _ in range(n):
                r = await client.post(
                    "/api/v1/petitions", json=petition_body(category=category), headers=uni.petitioner
                )
                assert r.status_code == 201, r.text
                ids.append((r.json()["id"], month))
    async with db.transaction(uni.tenant.id) as session:
        for pid, month in ids:  # 10:00 on the 10th, Shanghai time
            at = dt.datetime(month.year, month.month, 10, 2, tzinfo=dt.UTC)
            await session.execute(
                text("update petitions set received_at = :at where id = :id"), {"at": at, "id": uuid.UUID(pid)}
            )
        # 23:30 UTC on 31 October is 07:30 on 1 November in Shanghai: a November petition.
        await session.execute(
            text("update petitions set received_at = :at where id = :id"),
            {"at": dt.datetime(2026, 10, 31, 23, 30, tzinfo=dt.UTC), "id": uuid.UUID(ids[-1][0])},
        )


async def test_forecasts_are_computed_from_the_local_monthly_history_and_read_by_the_university(
    clock, client, make_tenant, db
):
    uni = await make_university(client, make_tenant)
    await _history(client, db, uni)
    async with db.transaction(uni.tenant.id) as session:
        history = await store.monthly_history(session, dt.date(2026, 11, 1))
    by = {(r["series"], r["month"]): r["petitions"] for r in history.iter_rows(named=True)}
    assert by[("dormitory", dt.date(2026, 10, 1))] == 3 and by[("canteen", dt.date(2026, 11, 1))] == 1
    assert sum(history.get_column("petitions")) == 40

    r = await client.get("/api/v1/reports/forecast", headers=uni.officer)
    assert r.status_code == 200 and r.json() == {"quarter_start": None, "level": 80, "series": []}
    # FIXED_NOW is 18 November: the last complete month is October, the target the quarter after it.
    assert await store.refresh(db, uni.tenant.id, FIXED_NOW) == 3
    assert await store.refresh(db, uni.tenant.id, FIXED_NOW) == 3  # idempotent: the same rows replaced
    body = (await client.get("/api/v1/reports/forecast", headers=uni.officer)).json()
    assert body["quarter_start"] == "2027-01-01"
    series = {s["series"]: s for s in body["series"]}
    assert set(series) == {"*", "canteen", "dormitory"}
    assert series["*"]["months"] == 9  # February to October
    assert series["*"]["lo"] <= series["*"]["petitions"] <= series["*"]["hi"]
    assert series["*"]["petitions"] > series["dormitory"]["petitions"] > series["canteen"]["petitions"]
    assert (await client.get("/api/v1/reports/forecast", headers=uni.petitioner)).status_code == 403


async def _viewer(client: Any, platform_token: str, province: str) -> dict[str, str]:
    email = f"bureau-{uuid.uuid4().hex[:8]}@edu.gov.cn"
    r = await client.post(
        "/api/v1/platform/accounts",
        json={"email": email, "password": "bureau-password-1", "role": "bureau_viewer", "province_code": province},
        headers=auth(platform_token),
    )
    assert r.status_code == 201, r.text
    return (await sign_in(client, None, email, "bureau-password-1")).headers


async def test_the_bureau_sees_its_province_s_forecasts_with_small_categories_suppressed(
    clock, client, make_tenant, db, platform_token
):
    province = "150000"  # Inner Mongolia: no other test onboards a university there
    uni = await make_university(client, lambda **kw: make_tenant(province_code=province, **kw))
    await _history(client, db, uni)
    other = await make_university(client, make_tenant)  # 440000: another province
    await _history(client, db, other)
    for u in (uni, other):
        await store.refresh(db, u.tenant.id, FIXED_NOW)

    body = (
        await client.get("/api/v1/bureau/forecasts", headers=await _viewer(client, platform_token, province))
    ).json()
    assert [u["slug"] for u in body["universities"]] == [uni.slug]
    rows = {s["series"]: s for s in body["universities"][0]["series"]}
    total, canteen = rows[compute.TOTAL], rows["canteen"]
    assert total["suppressed"] is False and total["petitions"] > 0
    # Fewer than k = 10 canteen petitions forecast: suppressed, never shown as a number (nor as zero).
    assert canteen["suppressed"] is True and canteen["petitions"] is None and canteen["lo"] is None
    assert body["province_total"]["petitions"] == total["petitions"]
    assert body["province_total"]["universities"] == 1 and body["province_total"]["quarter_start"] == "2027-01-01"
    assert (await client.get("/api/v1/bureau/forecasts", headers=uni.admin)).status_code == 403


def test_the_refresh_is_registered_with_the_scheduler():
    from analytics.runtime.scheduler import _periodic
    from service.ops import jobs  # noqa: F401  (what the scheduler imports)

    job = next(p for p in _periodic if p.name == "forecasts.refresh")
    (message,) = job.messages("2026-12-01")
    assert message.actor_name == "forecasts_sweep"
