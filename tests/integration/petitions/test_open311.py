import json
import xml.etree.ElementTree as ET

import pytest

from tests.support.casework import petition_body


@pytest.fixture
async def open311_key(client, uni):
    r = await client.post("/api/v1/api-keys", json={"name": "311", "scopes": ["open311"]}, headers=uni.admin)
    assert r.status_code == 201, r.text
    return r.json()["secret"]


def form(uni, key, **extra):
    return {
        "jurisdiction_id": uni.slug,
        "api_key": key,
        "service_code": "dormitory",
        "description": "宿舍楼道灯坏了，晚上很黑。",
        "lat": "23.1",
        "long": "113.3",
        "first_name": "五",
        "last_name": "王",
        "phone": "13700000000",
        **extra,
    }


async def test_xml_round_trip(client, uni, open311_key):
    services = await client.get("/open311/v2/services.xml", params={"jurisdiction_id": uni.slug})
    assert services.status_code == 200 and services.headers["content-type"].startswith("text/xml")
    codes = [s.findtext("service_code") for s in ET.fromstring(services.content).findall("service")]
    assert codes == ["canteen", "dormitory"]
    definition = ET.fromstring(
        (await client.get("/open311/v2/services/dormitory.xml", params={"jurisdiction_id": uni.slug})).content
    )
    assert definition.findtext("service_code") == "dormitory"
    assert [v.findtext("key") for v in definition.find("attributes/attribute/values")] == [
        "complaint",
        "suggestion",
        "accusation",
    ]
    posted = await client.post("/open311/v2/requests.xml", data=form(uni, open311_key))
    assert posted.status_code == 201, posted.text
    created = ET.fromstring(posted.content).find("request")
    request_id, token = created.findtext("service_request_id"), created.findtext("token")
    assert request_id.startswith("XF-") and "lookup code" in created.findtext("service_notice")
    one = ET.fromstring(
        (
            await client.get(
                f"/open311/v2/requests/{request_id}.xml", params={"jurisdiction_id": uni.slug, "api_key": open311_key}
            )
        ).content
    )
    [req] = one.findall("request")
    assert req.findtext("status") == "open" and req.findtext("service_code") == "dormitory"
    assert req.findtext("description") == "宿舍楼道灯坏了，晚上很黑。"
    assert req.findtext("expected_datetime")
    assert [n.findtext("type") for n in req.find("notes")] == ["submitted"]
    filtered = ET.fromstring(
        (
            await client.get(
                "/open311/v2/requests.xml",
                params={"jurisdiction_id": uni.slug, "service_code": "dormitory", "status": "open"},
            )
        ).content
    )
    assert request_id in [r.findtext("service_request_id") for r in filtered.findall("request")]
    assert all(r.findtext("description") is None for r in filtered.findall("request"))  # no key: no free text
    closed = ET.fromstring(
        (await client.get("/open311/v2/requests.xml", params={"jurisdiction_id": uni.slug, "status": "closed"})).content
    )
    assert closed.findall("request") == []
    tok = ET.fromstring(
        (await client.get(f"/open311/v2/tokens/{token}.xml", params={"jurisdiction_id": uni.slug})).content
    )
    assert tok.find("request").findtext("service_request_id") == request_id


async def test_json_round_trip_and_status_mapping(client, uni, open311_key):
    posted = await client.post(
        "/open311/v2/requests.json", data=form(uni, open311_key, **{"attribute[kind]": "suggestion"})
    )
    assert posted.status_code == 201, posted.text
    request_id = posted.json()[0]["service_request_id"]
    petition = (await client.get("/api/v1/petitions", params={"channel": "open311"}, headers=uni.officer)).json()[
        "items"
    ][0]
    assert petition["tracking_number"] == request_id and petition["kind"] == "suggestion"
    await client.post(
        f"/api/v1/petitions/{petition['id']}/actions",
        json={"action": "not_accept", "version": 1, "reason": "重复"},
        headers=uni.officer,
    )
    got = await client.get(f"/open311/v2/requests/{request_id}.json", params={"jurisdiction_id": uni.slug})
    [req] = got.json()
    assert req["status"] == "closed" and "expected_datetime" not in req
    assert [n["type"] for n in req["notes"]] == ["submitted", "not_accepted"]
    page = await client.get(
        "/open311/v2/requests.json",
        params={"jurisdiction_id": uni.slug, "page": 1, "page_size": 1, "extensions": "true"},
    )
    assert len(page.json()) == 1 and "notes" in page.json()[0]
    by_id = await client.get(
        "/open311/v2/requests.json", params={"jurisdiction_id": uni.slug, "service_request_id": request_id}
    )
    assert [r["service_request_id"] for r in by_id.json()] == [request_id]


async def test_errors_in_the_standard_format(client, uni, open311_key):
    no_key = await client.post("/open311/v2/requests.xml", data={**form(uni, ""), "api_key": ""})
    assert no_key.status_code == 403
    err = ET.fromstring(no_key.content).find("error")
    assert err.findtext("code") == "403" and err.findtext("description")
    wrong = await client.post("/open311/v2/requests.json", data=form(uni, open311_key[:-2] + "xx"))
    assert wrong.status_code == 403 and wrong.json()[0]["code"] == 403
    bad = await client.post("/open311/v2/requests.json", data=form(uni, open311_key, service_code="nope"))
    assert bad.status_code == 400 and "category" in bad.json()[0]["description"]
    nowhere = await client.post("/open311/v2/requests.json", data=form(uni, open311_key, lat="", long=""))
    assert nowhere.status_code == 400
    assert (await client.get("/open311/v2/services.json", params={"jurisdiction_id": "nope"})).status_code == 404
    assert (await client.get("/open311/v2/services.json")).status_code == 400
    assert (
        await client.get("/open311/v2/requests/XF-1999-000000.json", params={"jurisdiction_id": uni.slug})
    ).status_code == 404
    span = await client.get(
        "/open311/v2/requests.json",
        params={"jurisdiction_id": uni.slug, "start_date": "2026-01-01T00:00:00Z", "end_date": "2026-06-01T00:00:00Z"},
    )
    assert span.status_code == 400 and json.loads(span.content)[0]["code"] == 400
    assert (await client.get("/open311/v2/services.yaml", params={"jurisdiction_id": uni.slug})).status_code == 404


async def test_accusations_stay_sealed_in_open311(client, uni, open311_key):
    r = await client.post("/api/v1/petitions", json=petition_body(kind="accusation"), headers=uni.petitioner)
    number = r.json()["tracking_number"]
    got = await client.get(
        f"/open311/v2/requests/{number}.json", params={"jurisdiction_id": uni.slug, "api_key": open311_key}
    )
    text = got.text
    assert "李四" not in text and "13800000000" not in text and "description" not in got.json()[0]


async def test_anonymous_reads_never_show_accusations_and_can_be_turned_off(client, uni, open311_key):
    complaint = (await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)).json()
    accusation = (
        await client.post(
            "/api/v1/petitions", json=petition_body(kind="accusation", subject="举报"), headers=uni.petitioner
        )
    ).json()
    params = {"jurisdiction_id": uni.slug}
    listing = await client.get("/open311/v2/requests.json", params=params)
    numbers = [r["service_request_id"] for r in listing.json()]
    assert complaint["tracking_number"] in numbers and accusation["tracking_number"] not in numbers
    one = await client.get(f"/open311/v2/requests/{accusation['tracking_number']}.json", params=params)
    unknown = await client.get("/open311/v2/requests/XF-1999-000001.json", params=params)
    assert one.status_code == unknown.status_code == 404
    assert (await client.get(f"/open311/v2/tokens/{accusation['id']}.json", params=params)).status_code == 404
    assert (await client.get(f"/open311/v2/tokens/{complaint['id']}.json", params=params)).status_code == 200
    keyed = await client.get("/open311/v2/requests.json", params={**params, "api_key": open311_key})
    assert accusation["tracking_number"] in [r["service_request_id"] for r in keyed.json()]
    # The university turns anonymous listing off (default on): without a key it is a 403 in the standard's form.
    settings = (await client.get("/api/v1/petition-settings", headers=uni.admin)).json()
    assert settings["open311_anonymous_listing"] is True
    r = await client.put("/api/v1/petition-settings", json={"open311_anonymous_listing": False}, headers=uni.admin)
    assert r.status_code == 200 and r.json()["open311_anonymous_listing"] is False
    assert (await client.get("/api/v1/petition-settings", headers=uni.admin)).json()[
        "open311_anonymous_listing"
    ] is False
    for path in ("requests.json", f"requests/{complaint['tracking_number']}.json"):
        off = await client.get(f"/open311/v2/{path}", params=params)
        assert off.status_code == 403 and off.json()[0]["code"] == 403, path
        assert complaint["tracking_number"] not in off.text
        on = await client.get(f"/open311/v2/{path}", params={**params, "api_key": open311_key})
        assert on.status_code == 200 and complaint["tracking_number"] in on.text, path
    xml = await client.get("/open311/v2/requests.xml", params=params)
    assert xml.status_code == 403 and xml.headers["content-type"].startswith("text/xml")
