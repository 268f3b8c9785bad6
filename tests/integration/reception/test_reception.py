"""Leaders' reception days (领导接访) through the API: sessions (CRUD), the public schedule, bookings with a
tracking number or a new petition, capacity under concurrent bookings, visits registered as petitions of
channel visit, and the leader's personal charge (包案) shown on the petition."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

from tests.support.casework import petition_body
from tests.support.journal import journal_of
from tests.support.people import make_account

SESSIONS = "/api/v1/reception-sessions"
LEADER_NAME = "李校长"


async def _leader(client: Any, uni: Any) -> tuple[str, dict[str, str]]:
    headers, account_id = await make_account(client, uni.tenant, "staff")
    r = await client.post(
        "/api/v1/org/people",
        json={
            "staff_number": uuid.uuid4().hex[:10],
            "name_zh": LEADER_NAME,
            "title_zh": "副校长",
            "title_en": "Vice President",
            "unit_id": uni.unit_a,
            "account_id": account_id,
        },
        headers=uni.admin,
    )
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), headers


async def _session(client: Any, uni: Any, leader: str, capacity: int = 5, day: int = 20) -> dict[str, Any]:
    r = await client.post(
        SESSIONS,
        json={
            "starts_at": f"2026-11-{day}T01:00:00Z",
            "ends_at": f"2026-11-{day}T03:30:00Z",
            "place_zh": "行政楼101接待室",
            "place_en": "Admin building, room 101",
            "leader_person_id": leader,
            "capacity": capacity,
        },
        headers=uni.officer,
    )
    assert r.status_code == 201, r.text
    return r.json()


async def test_sessions_and_the_public_schedule(clock, client, uni):
    leader, _ = await _leader(client, uni)
    # Only the office manages sessions.
    r = await client.post(SESSIONS, json={}, headers=uni.staff)
    assert r.status_code in (403, 400), r.text
    first = await _session(client, uni, leader)
    second = await _session(client, uni, leader, day=25)
    cancelled = await _session(client, uni, leader, day=27)
    r = await client.post(
        SESSIONS,
        json={**{k: first[k] for k in ("place_zh", "place_en", "leader_person_id", "capacity")},
              "starts_at": "2026-11-01T01:00:00Z", "ends_at": "2026-11-01T02:00:00Z"},
        headers=uni.officer,
    )  # fmt: skip
    assert r.status_code == 422, r.text  # in the past
    r = await client.patch(f"{SESSIONS}/{second['id']}", json={"capacity": 8}, headers=uni.officer)
    assert r.status_code == 200 and r.json()["capacity"] == 8, r.text
    assert (await client.delete(f"{SESSIONS}/{cancelled['id']}", headers=uni.officer)).status_code == 204
    assert len((await client.get(SESSIONS, headers=uni.staff)).json()) == 3

    r = await client.get(f"/api/v1/t/{uni.slug}/reception-sessions")
    assert r.status_code == 200, r.text
    schedule = r.json()
    assert [x["id"] for x in schedule] == [first["id"], second["id"]]  # the cancelled one is not shown
    assert schedule[0]["date"] == "2026-11-20" and schedule[0]["time_window"] == "09:00–11:30"
    assert schedule[0]["starts_at"].endswith("+08:00") and schedule[0]["timezone"] == "Asia/Shanghai"
    assert schedule[0]["leader_title_zh"] == "副校长" and schedule[0]["available"] == 5
    assert LEADER_NAME not in r.text and leader not in r.text  # no personal data
    types = [e["type"] for e in await journal_of(client, uni) if e["type"].startswith("reception.")]
    assert types.count("reception.session_created") == 3
    assert "reception.session_updated" in types and "reception.session_cancelled" in types


async def test_booking_with_a_tracking_number_or_a_new_petition(clock, client, uni):
    leader, _ = await _leader(client, uni)
    session = await _session(client, uni, leader, capacity=2)
    url = f"/api/v1/t/{uni.slug}/reception-sessions/{session['id']}/bookings"
    submitted = (await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body())).json()
    existing = {"tracking_number": submitted["tracking_number"], "lookup_code": submitted["lookup_code"]}

    r = await client.post(url, json={"existing": {**existing, "lookup_code": "WRONGCODE234"}})
    assert r.status_code == 404, r.text
    r = await client.post(url, json={"existing": existing})
    assert r.status_code == 201, r.text
    assert r.json()["slot"] == 1 and r.json()["lookup_code"] is None
    r = await client.post(url, json={"existing": existing})
    assert r.status_code == 409 and r.json()["type"].endswith("/already-booked"), r.text

    r = await client.post(url, json={"petition": petition_body(subject="想当面反映食堂问题", category="canteen")})
    assert r.status_code == 201, r.text
    new = r.json()
    assert new["slot"] == 2 and new["lookup_code"]
    detail = (await client.get(f"/api/v1/petitions/{new['petition_id']}", headers=uni.officer)).json()
    assert detail["channel"] == "visit" and detail["reception_session_id"] == session["id"]

    r = await client.post(url, json={"petition": petition_body()})
    assert r.status_code == 409 and r.json()["type"].endswith("/session-full"), r.text
    r = await client.post(url, json={})
    assert r.status_code == 422, r.text
    r = await client.patch(f"{SESSIONS}/{session['id']}", json={"capacity": 1}, headers=uni.officer)
    assert r.status_code == 409, r.text
    bookings = (await client.get(f"{SESSIONS}/{session['id']}/bookings", headers=uni.officer)).json()
    assert [b["slot"] for b in bookings] == [1, 2]
    booked = [e for e in await journal_of(client, uni) if e["type"] == "reception.booked"]
    assert sorted(e["payload"]["new_petition"] for e in booked) == [False, True]


async def test_capacity_holds_under_concurrent_bookings(clock, client, uni):
    leader, _ = await _leader(client, uni)
    session = await _session(client, uni, leader, capacity=3)
    url = f"/api/v1/t/{uni.slug}/reception-sessions/{session['id']}/bookings"
    answers = await asyncio.gather(
        *(client.post(url, json={"petition": petition_body(subject=f"来访预约{i}")}) for i in range(10))
    )
    codes = sorted(r.status_code for r in answers)
    assert codes == [201] * 3 + [409] * 7, [r.text for r in answers]
    assert sorted(r.json()["slot"] for r in answers if r.status_code == 201) == [1, 2, 3]
    row = (await client.get(f"{SESSIONS}/{session['id']}", headers=uni.officer)).json()
    assert row["booked"] == 3 and row["available"] == 0
    # The refused bookings' petitions were rolled back with them: no petition without its slot.
    listing = (await client.get("/api/v1/petitions", params={"channel": "visit"}, headers=uni.officer)).json()
    assert len(listing["items"]) == 3


async def test_visits_registered_and_taken_in_charge(clock, client, uni):
    leader, leader_headers = await _leader(client, uni)
    session = await _session(client, uni, leader)
    r = await client.post(f"{SESSIONS}/{session['id']}/visits", json=petition_body(), headers=uni.officer)
    assert r.status_code == 201, r.text
    pid = r.json()["petition_id"]
    detail = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    assert detail["channel"] == "visit" and detail["reception_session_id"] == session["id"]
    assert detail["in_charge_person_id"] is None

    # Someone else than the leader (or the office): 403; a petition of another session: 404.
    r = await client.post(f"{SESSIONS}/{session['id']}/in-charge", json={"petition_id": pid}, headers=uni.staff)
    assert r.status_code == 403, r.text
    other = await _session(client, uni, leader, day=22)
    r = await client.post(f"{SESSIONS}/{other['id']}/in-charge", json={"petition_id": pid}, headers=leader_headers)
    assert r.status_code == 404, r.text
    r = await client.post(f"{SESSIONS}/{session['id']}/in-charge", json={"petition_id": pid}, headers=leader_headers)
    assert r.status_code == 200 and r.json()["in_charge_person_id"] == leader, r.text
    detail = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    assert detail["in_charge_person_id"] == leader and detail["in_charge_name"] == LEADER_NAME

    # Registered and taken in charge at once.
    r = await client.post(
        f"{SESSIONS}/{session['id']}/visits", json={**petition_body(), "in_charge": True}, headers=uni.officer
    )
    assert r.status_code == 201 and r.json()["in_charge_person_id"] == leader, r.text
    events = [e for e in await journal_of(client, uni, pid) if e["type"].startswith("reception.")]
    assert [e["type"] for e in events] == ["reception.visit_registered", "reception.in_charge_taken"]
    assert all(LEADER_NAME not in str(e) for e in events)
