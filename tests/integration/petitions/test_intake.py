import asyncio
import uuid

from sqlalchemy import text

from tests.support.casework import petition_body
from tests.support.journal import journal_of


async def test_anonymous_public_submission_and_lookup(client, uni):
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(anonymous=True, petitioner=None))
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["tracking_number"].startswith("XF-20")
    assert len(body["lookup_code"]) == 12
    status = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/status",
        json={"tracking_number": body["tracking_number"], "lookup_code": body["lookup_code"].lower()},
    )
    assert status.status_code == 200, status.text
    assert status.json()["state"] == "received"
    assert status.json()["status"] == "open"
    assert "petitioner" not in status.json()
    bad = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/status",
        json={"tracking_number": body["tracking_number"], "lookup_code": "WRONGCODE123"},
    )
    assert bad.status_code == 404
    assert bad.json()["type"].endswith("/lookup-failed")
    events = await journal_of(client, uni, body["id"])
    assert [e["type"] for e in events] == ["petition.submitted"]
    assert events[0]["payload"] == {
        "kind": "complaint",
        "category": "dormitory",
        "channel": "mobile",
        "anonymous": True,
        "group": False,
        "registered": False,
    }
    assert events[0]["org_unit_id"] == uni.unit_a


async def test_tracking_numbers_are_unique_per_tenant(client, uni):
    numbers = set()
    for _ in range(25):
        r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
        assert r.status_code == 201, r.text
        numbers.add(r.json()["tracking_number"])
    assert len(numbers) == 25


async def test_named_submission_stores_personal_data_encrypted(client, uni, db):
    from sqlalchemy import text

    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    assert r.status_code == 201, r.text
    async with db.transaction(uni.tenant.id) as session:
        raw = (
            await session.execute(
                text("select petitioner_name, petitioner_phone from petitions where id = :i"), {"i": r.json()["id"]}
            )
        ).one()
    assert "李四".encode() not in raw[0] and b"13800000000" not in raw[1]
    detail = await client.get(f"/api/v1/petitions/{r.json()['id']}", headers=uni.officer)
    assert detail.json()["petitioner"]["name"] == "李四"


async def test_bad_input_is_refused_and_nothing_is_written(client, uni):
    before = len(await journal_of(client, uni))
    cases = [
        (petition_body(content="长" * 4001), 400),
        (petition_body(category="no-such"), 422),
        (
            petition_body(participants=30, representatives=[{"name": f"代表{i}"} for i in range(6)]),
            422,
        ),
        (petition_body(anonymous=False, petitioner=None), 422),
        (petition_body(kind="threat"), 400),
        (petition_body(unknown_field=1), 400),
    ]
    for body, status in cases:
        r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=body)
        assert r.status_code == status, (body, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
    r = await client.post(
        f"/api/v1/t/{uni.slug}/petitions",
        json=petition_body(category="no-such", participants=30, representatives=[{"name": "x"}] * 6),
    )
    assert {e["field"] for e in r.json()["errors"]} == {"category", "representatives"}
    assert len(await journal_of(client, uni)) == before


async def test_every_error_names_the_place_in_the_body_the_client_sent(client, uni):
    # A business rule's error points at the body's own field (petitioner.name), not at a column.
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(anonymous=False, petitioner=None))
    assert r.status_code == 422, r.text
    assert [(e["field"], e["pointer"]) for e in r.json()["errors"]] == [("petitioner.name", "/petitioner/name")]
    # Values only a lenient reading would take ("5" for 5, 0 for false) are all listed, not the first only.
    r = await client.post(
        f"/api/v1/t/{uni.slug}/petitions",
        json=petition_body(participants="5", anonymous=0, petitioner={"name": "李四", "phone": 138}),
    )
    assert r.status_code == 400, r.text
    assert {e["pointer"] for e in r.json()["errors"]} == {"/participants", "/anonymous", "/petitioner/phone"}


async def test_group_petition_with_five_representatives(client, uni):
    reps = [{"name": f"代表{i}", "contact": f"1390000000{i}"} for i in range(5)]
    r = await client.post(
        "/api/v1/petitions", json=petition_body(participants=40, representatives=reps), headers=uni.petitioner
    )
    assert r.status_code == 201, r.text
    detail = (await client.get(f"/api/v1/petitions/{r.json()['id']}", headers=uni.officer)).json()
    assert detail["participants"] == 40 and detail["representative_count"] == 5
    assert detail["representatives"][4] == {"name": "代表4", "contact": "13900000004"}


async def test_idempotent_retry_returns_the_first_response(client, uni):
    key = str(uuid.uuid4())
    headers = {**uni.petitioner, "Idempotency-Key": key}
    first = await client.post("/api/v1/petitions", json=petition_body(), headers=headers)
    again = await client.post("/api/v1/petitions", json=petition_body(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    other = await client.post("/api/v1/petitions", json=petition_body(subject="别的事"), headers=headers)
    assert other.status_code == 422
    assert other.json()["type"].endswith("/idempotency-key-reused")
    # Another principal with the same key is another scope.
    separate = await client.post(
        "/api/v1/petitions", json=petition_body(), headers={**uni.staff, "Idempotency-Key": key}
    )
    assert separate.status_code == 201 and separate.json()["id"] != first.json()["id"]


async def test_concurrent_requests_with_one_key_create_one_petition(client, uni):
    key = str(uuid.uuid4())
    results = await asyncio.gather(
        *[
            client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(), headers={"Idempotency-Key": key})
            for _ in range(2)
        ]
    )
    assert [r.status_code for r in results] == [201, 201], [r.text for r in results]
    assert results[0].json()["id"] == results[1].json()["id"]
    submitted = [e for e in await journal_of(client, uni) if e["petition_id"] == results[0].json()["id"]]
    assert len(submitted) == 1
    listing = await client.get("/api/v1/petitions", headers=uni.officer)
    assert [p["id"] for p in listing.json()["items"]].count(results[0].json()["id"]) == 1


async def test_an_expired_key_is_claimed_afresh(client, uni, db):
    key = str(uuid.uuid4())
    headers = {**uni.petitioner, "Idempotency-Key": key}
    first = await client.post("/api/v1/petitions", json=petition_body(), headers=headers)
    async with db.transaction(uni.tenant.id) as session:
        await session.execute(
            text("update idempotency_keys set expires_at = now() - interval '1 second' where key = :k"), {"k": key}
        )
    later = await client.post("/api/v1/petitions", json=petition_body(subject="过期后再用"), headers=headers)
    assert later.status_code == 201 and "idempotent-replayed" not in later.headers
    assert later.json()["id"] != first.json()["id"]
    again = await client.post("/api/v1/petitions", json=petition_body(subject="过期后再用"), headers=headers)
    assert again.json() == later.json() and again.headers["idempotent-replayed"] == "true"


async def test_staff_registration_of_a_phone_call(client, uni):
    r = await client.post("/api/v1/petitions/register", json=petition_body(channel="phone"), headers=uni.staff)
    assert r.status_code == 201, r.text
    events = await journal_of(client, uni, r.json()["id"])
    assert events[0]["payload"]["channel"] == "phone" and events[0]["payload"]["registered"] is True
    assert (
        await client.post("/api/v1/petitions/register", json=petition_body(channel="phone"), headers=uni.petitioner)
    ).status_code == 403
    assert (
        await client.post("/api/v1/petitions/register", json=petition_body(channel="mobile"), headers=uni.staff)
    ).status_code == 400


async def test_lookup_guessing_is_rate_limited(clock, client, uni):
    # The limits count in fixed one-minute windows; the clock starts on a whole minute, so the twelve guesses
    # fall in one window.
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(anonymous=True, petitioner=None))
    number = r.json()["tracking_number"]
    statuses = []
    for _ in range(12):
        g = await client.post(
            f"/api/v1/t/{uni.slug}/petitions/status", json={"tracking_number": number, "lookup_code": "GUESS"}
        )
        statuses.append(g.status_code)
    assert statuses[:10] == [404] * 10
    assert statuses[10:] == [429, 429]


async def test_unknown_university_and_cross_tenant(client, uni, make_tenant):
    assert (await client.post("/api/v1/t/no-such-uni/petitions", json=petition_body())).status_code == 404
    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    other = await make_tenant()
    assert (await client.get(f"/api/v1/petitions/{r.json()['id']}", headers=other.headers)).status_code == 404
    listing = await client.get("/api/v1/petitions", headers=other.headers)
    assert listing.json()["items"] == []


async def test_attachments_checked_by_content(client, uni):
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(anonymous=True, petitioner=None))
    sub = r.json()
    form = {"tracking_number": sub["tracking_number"], "lookup_code": sub["lookup_code"]}
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 100
    ok = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/attachments", data=form, files=[("files", ("photo.png", png, "image/png"))]
    )
    assert ok.status_code == 201, ok.text
    assert ok.json()[0]["media_type"] == "image/png"
    exe = b"MZ\x90\x00" + b"\x00" * 100
    bad = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/attachments", data=form, files=[("files", ("photo.jpg", exe, "image/jpeg"))]
    )
    assert bad.status_code == 422, bad.text
    assert bad.json()["type"].endswith("/unsupported-attachment")
    wrong = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/attachments",
        data={**form, "lookup_code": "NOPE"},
        files=[("files", ("photo.png", png, "image/png"))],
    )
    assert wrong.status_code == 404


async def test_a_suspended_university_takes_no_public_submissions(client, uni, platform_token):
    from tests.support.platform import auth

    r = await client.post(f"/api/v1/platform/tenants/{uni.tenant.id}/suspend", headers=auth(platform_token))
    assert r.status_code == 200, r.text
    refused = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body())
    assert refused.status_code == 403 and refused.json()["type"].endswith("/tenant-suspended")
    open311 = await client.get("/open311/v2/services.json", params={"jurisdiction_id": uni.slug})
    assert open311.status_code == 403
    await client.post(f"/api/v1/platform/tenants/{uni.tenant.id}/reactivate", headers=auth(platform_token))
    assert (await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body())).status_code == 201
