import json

from tests.support.casework import petition_body
from tests.support.journal import journal_of
from tests.support.people import make_account

SECRETS = ("李四", "13800000000", "2024001234", "代表甲", "13911112222")


def leaks(response) -> list[str]:
    text = json.dumps(response.json(), ensure_ascii=False)
    return [s for s in SECRETS if s in text]


async def accusation(client, uni, headers=None):
    body = petition_body(
        kind="accusation",
        subject="举报宿管收受好处",
        participants=3,
        representatives=[{"name": "代表甲", "contact": "13911112222"}],
        accused_org_unit_id=uni.unit_a,
    )
    r = await client.post("/api/v1/petitions", json=body, headers=headers or uni.petitioner)
    assert r.status_code == 201, r.text
    return r.json()


async def test_accuser_identity_is_sealed_through_every_route(client, uni):
    sub = await accusation(client, uni)
    pid = sub["id"]
    r = await client.post("/api/v1/api-keys", json={"name": "reader", "scopes": ["petitions:read"]}, headers=uni.admin)
    reader = {"X-API-Key": r.json()["secret"]}
    for who in (uni.officer, uni.admin, reader):
        detail = await client.get(f"/api/v1/petitions/{pid}", headers=who)
        assert detail.status_code == 200, detail.text
        assert detail.json()["identity_sealed"] is True and detail.json()["petitioner"] is None
        assert leaks(detail) == []
        for params in ({}, {"q": "宿管"}, {"kind": "accusation"}, {"state": "received"}):
            listing = await client.get("/api/v1/petitions", params=params, headers=who)
            assert listing.status_code == 200
            assert pid in [p["id"] for p in listing.json()["items"]]
            assert leaks(listing) == []
    acted = await client.post(
        f"/api/v1/petitions/{pid}/actions", json={"action": "accept", "version": 1}, headers=uni.officer
    )
    assert acted.status_code == 201 and leaks(acted) == []
    status = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/status",
        json={"tracking_number": sub["tracking_number"], "lookup_code": sub["lookup_code"]},
    )
    assert leaks(status) == []
    # The accuser sees their own petition.
    own = await client.get(f"/api/v1/petitions/mine/{pid}", headers=uni.petitioner)
    assert own.json()["petitioner"]["name"] == "李四"


async def handling_staff(client, uni, pid, unit):
    """Accept and assign the petition to ``unit`` (as the office), and a staff account of that unit."""
    from tests.support.people import link_person

    for body in ({"action": "accept", "version": 1}, {"action": "assign", "version": 2, "org_unit_id": unit}):
        r = await client.post(f"/api/v1/petitions/{pid}/actions", json=body, headers=uni.officer)
        assert r.status_code == 201, r.text
    staff, staff_id = await make_account(client, uni.tenant, "staff")
    await link_person(client, uni.tenant, staff_id, unit)
    return staff


async def test_reveal_is_explicit_restricted_and_journaled(client, uni):
    pid = (await accusation(client, uni))["id"]
    # Staff outside the petition's scope: 404; the handling unit's staff: 403 (only the office reveals).
    unrelated = await client.post(
        f"/api/v1/petitions/{pid}/identity", json={"reason_code": "retaliation-check"}, headers=uni.staff
    )
    assert unrelated.status_code == 404
    handler = await handling_staff(client, uni, pid, uni.unit_b)
    denied = await client.post(
        f"/api/v1/petitions/{pid}/identity", json={"reason_code": "retaliation-check"}, headers=handler
    )
    assert denied.status_code == 403
    r = await client.post(
        f"/api/v1/petitions/{pid}/identity", json={"reason_code": "retaliation-check"}, headers=uni.officer
    )
    assert r.status_code == 200, r.text
    assert r.json()["petitioner"]["name"] == "李四"
    assert r.json()["representatives"] == [{"name": "代表甲", "contact": "13911112222"}]
    events = [e for e in await journal_of(client, uni, pid) if e["type"] == "petition.identity_revealed"]
    assert len(events) == 1
    assert events[0]["payload"] == {"reason_code": "retaliation-check"}
    assert events[0]["actor_id"] is not None
    assert not [s for s in SECRETS if s in json.dumps(await journal_of(client, uni), ensure_ascii=False)]


async def test_complaint_identity_visible_to_staff_not_to_integrators(client, uni):
    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    pid = r.json()["id"]
    handler = await handling_staff(client, uni, pid, uni.unit_a)
    staff = await client.get(f"/api/v1/petitions/{pid}", headers=handler)
    assert staff.json()["petitioner"]["phone"] == "13800000000"
    key = await client.post("/api/v1/api-keys", json={"name": "r", "scopes": ["petitions:read"]}, headers=uni.admin)
    seen = await client.get(f"/api/v1/petitions/{pid}", headers={"X-API-Key": key.json()["secret"]})
    assert seen.json()["petitioner"] is None and leaks(seen) == []


async def test_another_petitioner_cannot_read(client, uni):
    pid = (await accusation(client, uni))["id"]
    other, _ = await make_account(client, uni.tenant, "petitioner")
    assert (await client.get(f"/api/v1/petitions/mine/{pid}", headers=other)).status_code == 404
    assert (await client.get(f"/api/v1/petitions/{pid}", headers=other)).status_code == 404


async def test_the_accused_units_staff_never_see_the_accusation(client, uni):
    from tests.support.people import link_person, make_unit

    # Staff of the accused unit (unit A) and of a unit below it; a petition officer placed in the accused unit.
    sub_unit = await make_unit(client, uni.tenant, "center", "HQGLC-SUB", uni.unit_a)
    accused_staff, accused_id = await make_account(client, uni.tenant, "staff")
    await link_person(client, uni.tenant, accused_id, uni.unit_a)
    below_staff, below_id = await make_account(client, uni.tenant, "staff")
    await link_person(client, uni.tenant, below_id, sub_unit)
    accused_officer, officer_id = await make_account(client, uni.tenant, "petition_officer")
    await link_person(client, uni.tenant, officer_id, uni.unit_a)
    sub = await accusation(client, uni)
    pid = sub["id"]
    for who in (accused_staff, below_staff, accused_officer):
        assert (await client.get(f"/api/v1/petitions/{pid}", headers=who)).status_code == 404
        for params in ({}, {"q": "宿管"}, {"kind": "accusation"}):
            listing = await client.get("/api/v1/petitions", params=params, headers=who)
            assert pid not in [p["id"] for p in listing.json()["items"]]
            assert leaks(listing) == []
        acted = await client.post(
            f"/api/v1/petitions/{pid}/actions", json={"action": "accept", "version": 1}, headers=who
        )
        assert acted.status_code in (403, 404)
    reveal = await client.post(
        f"/api/v1/petitions/{pid}/identity", json={"reason_code": "curious"}, headers=accused_officer
    )
    assert reveal.status_code == 404
    # An unrelated complaint stays visible to the same staff.
    complaint = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    for body in ({"action": "accept", "version": 1}, {"action": "assign", "version": 2, "org_unit_id": uni.unit_a}):
        r = await client.post(f"/api/v1/petitions/{complaint.json()['id']}/actions", json=body, headers=uni.officer)
        assert r.status_code == 201, r.text
    assert (await client.get(f"/api/v1/petitions/{complaint.json()['id']}", headers=accused_staff)).status_code == 200
    # And the accusation is never assigned or transferred to the accused unit.
    accepted = await client.post(
        f"/api/v1/petitions/{pid}/actions", json={"action": "accept", "version": 1}, headers=uni.officer
    )
    assert accepted.status_code == 201
    to_accused = await client.post(
        f"/api/v1/petitions/{pid}/actions",
        json={"action": "assign", "version": 2, "org_unit_id": sub_unit},
        headers=uni.officer,
    )
    assert to_accused.status_code == 422
    assert to_accused.json()["errors"][0]["field"] == "org_unit_id"
    elsewhere = await client.post(
        f"/api/v1/petitions/{pid}/actions",
        json={"action": "assign", "version": 2, "org_unit_id": uni.unit_b},
        headers=uni.officer,
    )
    assert elsewhere.status_code == 201, elsewhere.text
