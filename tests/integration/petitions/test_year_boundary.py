"""The calendar's edges on the real path, at fixed instants (the ``clock`` fixture), in Asia/Shanghai (UTC+8) and
Asia/Urumqi (UTC+6): tracking numbers carry the university's local year and start again at 1 in a new year,
deadlines run past the new year in local days, the satisfaction follow-up comes due across the year boundary,
and the report sweep, run with no instant given, reads the clock."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from analytics.reports import jobs as report_jobs
from service.petitions import jobs as petition_jobs
from service.petitions.workflow import State
from tests.support.casework import drive, make_university, petition_body
from tests.support.journal import journal_of

ZONES = ["Asia/Shanghai", "Asia/Urumqi"]


def local(zone: str, *args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=ZoneInfo(zone))


async def _admin(client: Any, uni: Any) -> dict[str, str]:
    """The admin signed in again after a jump of the clock (tokens from before it have expired)."""
    tenant = uni.tenant
    login = {"tenant": tenant.slug, "email": tenant.admin_email, "password": tenant.admin_password}
    r = await client.post("/api/v1/auth/login", json=login)
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


async def _submit(client: Any, uni: Any) -> dict[str, Any]:
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(anonymous=True, petitioner=None))
    assert r.status_code == 201, r.text
    return r.json()


@pytest.mark.parametrize("zone", ZONES)
async def test_tracking_numbers_take_the_local_year_and_restart_at_one(clock, client, make_tenant, zone):
    uni = await make_university(client, make_tenant, zone)
    clock.move_to(local(zone, 2026, 12, 31, 23, 59, 0))
    last_of_2026 = [(await _submit(client, uni))["tracking_number"] for _ in range(2)]
    assert last_of_2026 == ["XF-2026-000001", "XF-2026-000002"]
    clock.move_to(local(zone, 2027, 1, 1, 0, 0, 0))
    assert (await _submit(client, uni))["tracking_number"] == "XF-2027-000001"


@pytest.mark.parametrize("zone", ZONES)
async def test_deadlines_run_in_local_days_across_the_new_year(clock, client, make_tenant, zone):
    uni = await make_university(client, make_tenant, zone)
    clock.move_to(local(zone, 2026, 12, 31, 23, 59, 0))
    sub = await _submit(client, uni)
    detail = (await client.get(f"/api/v1/petitions/{sub['id']}", headers=await _admin(client, uni))).json()
    # Received on the last local minute of 2026: the 15th day after it is 15 January, ending at local midnight.
    assert dt.datetime.fromisoformat(detail["deadlines"]["accept_due"]) == local(zone, 2027, 1, 16)
    clock.move_to(local(zone, 2027, 1, 1, 0, 0, 0))
    sub = await _submit(client, uni)
    detail = (await client.get(f"/api/v1/petitions/{sub['id']}", headers=await _admin(client, uni))).json()
    assert dt.datetime.fromisoformat(detail["deadlines"]["accept_due"]) == local(zone, 2027, 1, 17)


@pytest.mark.parametrize("zone", ZONES)
async def test_the_follow_up_comes_due_28_days_after_the_reply_across_the_year(clock, client, make_tenant, db, zone):
    replied_at = local(zone, 2026, 12, 10, 9, 0, 0)
    clock.move_to(replied_at)
    uni = await make_university(client, make_tenant, zone)
    pid, _ = await drive(client, uni, State.replied)

    def follow_ups(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [e for e in events if e["type"] == "petition.followup_due"]

    clock.move_to(replied_at + dt.timedelta(days=28, minutes=-5))
    await petition_jobs.scan_tenant(db, uni.tenant.id)
    uni.tenant.admin_token = (await _admin(client, uni))["Authorization"].removeprefix("Bearer ")
    assert follow_ups(await journal_of(client, uni, pid)) == []
    clock.move_to(replied_at + dt.timedelta(days=28, minutes=5))  # 7 January 2027
    await petition_jobs.scan_tenant(db, uni.tenant.id)  # no instant given: the job reads the clock
    uni.tenant.admin_token = (await _admin(client, uni))["Authorization"].removeprefix("Bearer ")
    [due] = follow_ups(await journal_of(client, uni, pid))
    assert due["payload"] == {"stage": "reply", "days": 28}


async def test_the_report_sweep_reads_the_clock_at_the_new_year_in_urumqi(clock, client, make_tenant, db):
    urumqi = await make_tenant(timezone="Asia/Urumqi")  # onboarded on 18 November 2026 (the clock)

    def mine(messages: list[Any]) -> list[tuple[str, str]]:
        return sorted((m.args[1], m.args[2]) for m in messages if m.args[0] == str(urumqi.id))

    clock.move_to(local("Asia/Urumqi", 2026, 12, 31, 23, 59, 0))
    # The last local minute of 2026: only November has closed since onboarding.
    assert mine(await report_jobs.sweep(db)) == [("monthly", "2026-11-01")]
    clock.move_to(local("Asia/Urumqi", 2027, 1, 1, 0, 0, 0))
    assert mine(await report_jobs.sweep(db)) == [
        ("monthly", "2026-12-01"),
        ("quarterly", "2026-10-01"),
        ("yearly", "2026-01-01"),
    ]
    assert mine(await report_jobs.sweep(db)) == []  # claimed once


async def test_a_changed_time_zone_moves_the_local_year_and_the_deadlines_at_once(clock, client, make_tenant):
    """31 December 23:30 in Urumqi is already 1 January in Shanghai: a university that corrects its zone from
    Shanghai to Urumqi numbers and dates its next petition in Urumqi's year and days (the change is journaled, a
    bad zone refused naming the field)."""
    uni = await make_university(client, make_tenant, "Asia/Shanghai")
    clock.move_to(local("Asia/Urumqi", 2026, 12, 31, 23, 30, 0))
    assert (await _submit(client, uni))["tracking_number"] == "XF-2027-000001"
    admin = await _admin(client, uni)
    bad = await client.put("/api/v1/petition-settings", json={"timezone": "Asia/Atlantis"}, headers=admin)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "timezone", bad.text
    r = await client.put("/api/v1/petition-settings", json={"timezone": "Asia/Urumqi"}, headers=admin)
    assert r.status_code == 200 and r.json()["timezone"] == "Asia/Urumqi", r.text
    sub = await _submit(client, uni)
    assert sub["tracking_number"] == "XF-2026-000001"
    detail = (await client.get(f"/api/v1/petitions/{sub['id']}", headers=admin)).json()
    assert dt.datetime.fromisoformat(detail["deadlines"]["accept_due"]) == local("Asia/Urumqi", 2027, 1, 16)
    r = await client.get("/api/v1/journal", params={"type": "tenant.timezone_changed"}, headers=admin)
    changed = r.json()["items"]
    assert [(e["payload"]["previous_timezone"], e["payload"]["timezone"]) for e in changed] == [
        ("Asia/Shanghai", "Asia/Urumqi")
    ]
