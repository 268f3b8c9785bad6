"""The access log of petitioners' personal data: a row for each response that carried it, none for any other,
no personal value in it; readable (filters, keyset pages) by tenant admins only; purged after the retention,
never before six months; part of the tenant archive."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.integration.petitions.test_scope import NAME, SECRETS, World, leaked, make_world, office_routes, submit
from tests.support.casework import petition_body

DETAIL = "/api/v1/petitions/{petition_id}"
PERSONAL = ["petitioner.name", "petitioner.phone", "petitioner.number", "representatives"]


@pytest.fixture
async def world(client: Any, make_tenant: Any) -> World:
    return await make_world(client, make_tenant)


async def log(client: Any, w: World, **params: Any) -> list[dict[str, Any]]:
    """The rows written since the world was made (its routing actions answered with the identity: logged too)."""
    r = await client.get("/api/v1/petition-access-log", params={"limit": 500, **params}, headers=w.uni.admin)
    assert r.status_code == 200, r.text
    assert not leaked(r.text)
    return [e for e in r.json()["items"] if e["id"] not in w.ids.get("logged_before", "")]


async def baseline(client: Any, w: World) -> None:
    r = await client.get("/api/v1/petition-access-log", params={"limit": 500}, headers=w.uni.admin)
    w.ids["logged_before"] = " ".join(e["id"] for e in r.json()["items"])


async def test_each_personal_data_read_is_recorded_and_nothing_else(client: Any, world: World) -> None:
    w = world
    p, acc = w.complaint["id"], w.accusation["id"]
    # Routing them: the office's two action responses on the complaint carried the identity (a row each); those on
    # the accusation did not (sealed).
    routing = await log(client, w)
    assert [(e["route"], e["petition_id"]) for e in routing] == [("/api/v1/petitions/{petition_id}/actions", p)] * 2
    await baseline(client, w)
    # Reads without personal data write nothing: lists, searches, key reads, sealed accusations, out of scope,
    # public status, Open311.
    for headers in (w.staff_a, w.uni.officer, w.uni.admin):
        assert (await client.get("/api/v1/petitions", params={"q": "宿舍"}, headers=headers)).status_code == 200
        assert (await client.get(f"/api/v1/petitions/{acc}", headers=headers)).status_code in (200, 404)
    assert (await client.get(f"/api/v1/petitions/{p}", headers=w.reader)).json()["petitioner"] is None
    assert (await client.get(f"/api/v1/petitions/{p}", headers=w.staff_b)).status_code == 404
    assert (await client.get("/api/v1/petitions/mine", headers=w.uni.petitioner)).status_code == 200
    status = await client.post(
        f"/api/v1/t/{w.uni.slug}/petitions/status",
        json={"tracking_number": w.complaint["tracking_number"], "lookup_code": w.complaint["lookup_code"]},
    )
    assert status.status_code == 200
    assert (await client.get("/open311/v2/requests.json", params={"jurisdiction_id": w.uni.slug})).status_code == 200
    r = await client.post(
        "/api/v1/petitions", json=petition_body(anonymous=True, petitioner=None), headers=w.uni.petitioner
    )
    anonymous = r.json()
    await office_routes(client, w.uni, anonymous["id"], w.uni.unit_a)  # no personal value: no row
    assert (await client.get(f"/api/v1/petitions/{anonymous['id']}", headers=w.staff_a)).status_code == 200
    assert await log(client, w) == []
    # Each response with the identity: one row, naming the fields shown, the route template and who.
    shown = await client.get(f"/api/v1/petitions/{p}", headers=w.staff_a)
    assert NAME in shown.text
    [row] = await log(client, w)
    assert row["account_id"] == w.ids["staff_a"] and row["actor_kind"] == "account" and row["api_key_id"] is None
    assert row["petition_id"] == p and row["fields"] == PERSONAL
    assert (row["method"], row["route"]) == ("GET", DETAIL)
    assert row["request_id"] == shown.headers["x-request-id"]
    assert (await client.get(f"/api/v1/petitions/mine/{p}", headers=w.uni.petitioner)).status_code == 200
    acted = await client.post(
        f"/api/v1/petitions/{p}/actions", json={"action": "start", "version": 3}, headers=w.staff_sub
    )
    assert acted.status_code == 201 and NAME in acted.text
    revealed = await client.post(f"/api/v1/petitions/{acc}/identity", json={"reason_code": "x"}, headers=w.uni.officer)
    assert revealed.status_code == 200
    rows = await log(client, w)
    assert [(r["route"], r["petition_id"]) for r in rows] == [
        ("/api/v1/petitions/{petition_id}/identity", acc),
        ("/api/v1/petitions/{petition_id}/actions", p),
        ("/api/v1/petitions/mine/{petition_id}", p),
        (DETAIL, p),
    ]
    assert rows[2]["account_id"] == w.uni.petitioner_id
    # A refused action shows nothing and logs nothing.
    stale = await client.post(
        f"/api/v1/petitions/{p}/actions", json={"action": "start", "version": 3}, headers=w.staff_sub
    )
    assert stale.status_code == 409 and len(await log(client, w)) == 4


async def test_admins_read_it_filtered_and_paged_and_nobody_else(clock: Any, client: Any, world: World) -> None:
    w = world
    await baseline(client, w)
    p = w.complaint["id"]
    for headers in (w.staff_a, w.staff_a, w.staff_sub, w.uni.officer):
        assert (await client.get(f"/api/v1/petitions/{p}", headers=headers)).status_code == 200
    other = await submit(client, w.uni, subject="另一件")
    await office_routes(client, w.uni, other["id"], w.uni.unit_a)
    assert (await client.get(f"/api/v1/petitions/{other['id']}", headers=w.staff_a)).status_code == 200
    # Four reads of the complaint, the office's two routing actions on the other petition, one read of it.
    assert len(await log(client, w)) == 7
    assert len(await log(client, w, account_id=w.ids["staff_a"])) == 3
    assert len(await log(client, w, petition_id=other["id"])) == 3
    assert len(await log(client, w, account_id=w.ids["staff_a"], petition_id=p)) == 2
    assert len(await log(client, w, account_id=str(uuid.uuid4()))) == 0
    now = dt.datetime.now(dt.UTC)  # the clock fixture's instant
    assert len(await log(client, w, **{"from": (now - dt.timedelta(hours=1)).isoformat()})) == 7
    assert len(await log(client, w, **{"to": (now - dt.timedelta(hours=1)).isoformat()})) == 0
    seen, cursor = [], None
    while True:
        params: dict[str, Any] = {"limit": 2, **({"cursor": cursor} if cursor else {})}
        r = await client.get("/api/v1/petition-access-log", params=params, headers=w.uni.admin)
        seen += [e["id"] for e in r.json()["items"]]
        cursor = r.json()["next_cursor"]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 7 + 2 and seen == sorted(seen, reverse=True)
    key_as_bearer = {"Authorization": f"Bearer {w.reader['X-API-Key']}"}
    for headers in (w.uni.officer, w.staff_a, w.uni.petitioner, key_as_bearer):
        assert (await client.get("/api/v1/petition-access-log", headers=headers)).status_code == 403
    # The route takes bearer tokens only: a key in X-API-Key is no credential here.
    assert (await client.get("/api/v1/petition-access-log", headers=w.reader)).status_code == 401


async def test_rows_are_purged_after_the_retention_and_never_before_six_months(
    client: Any, world: World, db: Any
) -> None:
    from service.petitions import access_log

    w = world
    await baseline(client, w)
    assert (await client.get(f"/api/v1/petitions/{w.complaint['id']}", headers=w.staff_a)).status_code == 200
    [row] = await log(client, w)
    written = dt.datetime.fromisoformat(row["occurred_at"])
    async with db.transaction(w.uni.tenant.id) as session:
        # 182 days later: a retention of 10 days is raised to the minimum of 183; nothing goes.
        assert await access_log.purge(session, retention_days=10, now=written + dt.timedelta(days=182)) == 0
        assert await access_log.purge(session, retention_days=365, now=written + dt.timedelta(days=300)) == 0
    assert len(await log(client, w)) == 1
    async with db.transaction(w.uni.tenant.id) as session:
        # The read, and the office's two routing actions of the world: all older than 183 days now.
        assert await access_log.purge(session, retention_days=10, now=written + dt.timedelta(days=184)) == 3
    assert await log(client, w) == []


def test_the_retention_setting_refuses_less_than_six_months() -> None:
    from tenants.settings import SettingsError, load_settings

    base = {"XINFANG_DATABASE_URL": "postgresql://x@/x"}
    assert load_settings(base).access_log_retention_days == 365
    assert load_settings({**base, "XINFANG_ACCESS_LOG_RETENTION_DAYS": "183"}).access_log_retention_days == 183
    with pytest.raises(SettingsError, match="XINFANG_ACCESS_LOG_RETENTION_DAYS"):
        load_settings({**base, "XINFANG_ACCESS_LOG_RETENTION_DAYS": "182"})


async def test_the_scan_job_purges_expired_rows(client: Any, world: World, db: Any) -> None:
    from service.petitions.jobs import scan_tenant

    w = world
    await baseline(client, w)
    assert (await client.get(f"/api/v1/petitions/{w.complaint['id']}", headers=w.staff_a)).status_code == 200
    [row] = await log(client, w)
    written = dt.datetime.fromisoformat(row["occurred_at"])
    await scan_tenant(db, w.uni.tenant.id, now=written + dt.timedelta(days=30))
    assert len(await log(client, w)) == 1
    await scan_tenant(db, w.uni.tenant.id, now=written + dt.timedelta(days=366))
    assert await log(client, w) == []


async def test_the_tenant_archive_carries_the_access_log(
    client: Any, world: World, database_url: str, tmp_path: Path
) -> None:
    from service.ops import tenant_archive
    from tests.support.archive import KEY, archive_tables

    w = world
    assert (await client.get(f"/api/v1/petitions/{w.complaint['id']}", headers=w.staff_a)).status_code == 200
    archive = tmp_path / "u.tar.gz"
    with psycopg.connect(database_url, autocommit=True) as conn:
        tenant_archive.export_tenant(conn, w.uni.slug, archive, data_key=KEY)
    rows = archive_tables(archive)["petition_access_log"]
    assert len(rows) == 3 and {r["petition_id"] for r in rows} == {w.complaint["id"]}
    assert [r["route"] for r in rows if r["account_id"] == w.ids["staff_a"]] == [DETAIL]
    assert not [s for s in SECRETS if s in str(rows)]
