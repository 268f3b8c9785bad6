import json

from tests.integration.petitions.conftest import journal_of, make_account, petition_body

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
    for who in (uni.staff, uni.officer, uni.admin, reader):
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
        f"/api/v1/petitions/{pid}/actions", json={"action": "accept", "version": 1}, headers=uni.staff
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


async def test_reveal_is_explicit_restricted_and_journaled(client, uni):
    pid = (await accusation(client, uni))["id"]
    denied = await client.post(
        f"/api/v1/petitions/{pid}/identity", json={"reason_code": "retaliation-check"}, headers=uni.staff
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
    staff = await client.get(f"/api/v1/petitions/{pid}", headers=uni.staff)
    assert staff.json()["petitioner"]["phone"] == "13800000000"
    key = await client.post("/api/v1/api-keys", json={"name": "r", "scopes": ["petitions:read"]}, headers=uni.admin)
    seen = await client.get(f"/api/v1/petitions/{pid}", headers={"X-API-Key": key.json()["secret"]})
    assert seen.json()["petitioner"] is None and leaks(seen) == []


async def test_another_petitioner_cannot_read(client, uni):
    pid = (await accusation(client, uni))["id"]
    other, _ = await make_account(client, uni.tenant, "petitioner")
    assert (await client.get(f"/api/v1/petitions/mine/{pid}", headers=other)).status_code == 404
    assert (await client.get(f"/api/v1/petitions/{pid}", headers=other)).status_code == 403
