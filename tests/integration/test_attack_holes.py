"""The holes an attack found (issue 13, part 3): each test failed before its fix."""

from __future__ import annotations

import json
import logging
import logging.config
import uuid
from typing import Any

import httpx
import msgspec

from tests.support.casework import make_university, petition_body
from tests.support.people import person, root
from tests.support.plans import draft, provision
from tests.support.platform import auth
from tests.support.problems import assert_problem


async def _key(client: Any, tenant: Any, *scopes: str) -> dict[str, str]:
    r = await client.post("/api/v1/api-keys/", json={"name": "k", "scopes": list(scopes)}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return {"X-API-Key": r.json()["secret"]}


async def test_a_foreign_token_is_refused_on_every_tenant_route(client, make_tenant, platform_token):
    a = await make_university(client, make_tenant)
    b = await make_university(client, make_tenant)
    b_key = await _key(client, b.tenant, "open311")
    for headers in (b.petitioner, b.admin, b_key, auth(platform_token)):
        r = await client.post(f"/api/v1/t/{a.slug}/petitions", json=petition_body(petitioner=None), headers=headers)
        assert_problem(r, 401, "foreign-credentials")
        assert_problem(await client.get(f"/api/v1/t/{a.slug}/categories", headers=headers), 401, "foreign-credentials")
        r = await client.get("/open311/v2/services.json", params={"jurisdiction_id": a.slug}, headers=headers)
        assert r.status_code == 401 and "another university" in r.text, r.text
    # Its own university's token, and no token at all, are still welcome.
    assert (await client.get(f"/api/v1/t/{a.slug}/categories", headers=a.petitioner)).status_code == 200
    assert (await client.post(f"/api/v1/t/{a.slug}/petitions", json=petition_body())).status_code == 201


async def test_the_lookup_limit_and_lookup_use_the_normalized_tracking_number(client, make_tenant):
    uni = await make_university(client, make_tenant)
    body = (await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body())).json()
    number, code = body["tracking_number"], body["lookup_code"]
    url = f"/api/v1/t/{uni.slug}/petitions/status"
    full_width = number.lower().translate({ord(c): ord(c) + 0xFEE0 for c in "0123456789-"})
    r = await client.post(url, json={"tracking_number": f"  {full_width} ", "lookup_code": code})
    assert r.status_code == 200, r.text
    for _ in range(10):
        await client.post(url, json={"tracking_number": number, "lookup_code": "WRONGCODE123"})
    for variant in (" " + number, number.lower(), full_width):
        r = await client.post(url, json={"tracking_number": variant, "lookup_code": "WRONGCODE123"})
        assert_problem(r, 429)


async def test_names_need_the_people_scope(client, db, tenant):
    await provision(db, tenant)
    u = await root(client, tenant)
    p = await person(client, tenant, u["id"], "P-100", name_zh="王小明", title_zh="值班主任甲")
    r = await client.post(
        "/api/v1/org/groups/handling/members", json={"person_id": p["id"], "role": "leader"}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    org_key = await _key(client, tenant, "org:read")
    people_key = await _key(client, tenant, "org:read", "people:read")
    plans_key = await _key(client, tenant, "plans:read")
    for url in ("/api/v1/org/groups/handling", "/api/v1/org/groups/"):
        r = await client.get(url, headers=org_key)
        assert r.status_code == 200, r.text
        assert "王小明" not in r.text and "值班主任甲" not in r.text
        assert p["id"] in r.text  # membership without names
        assert "王小明" in (await client.get(url, headers=people_key)).text
        assert "王小明" in (await client.get(url, headers=tenant.headers)).text
    version = (await draft(client, tenant))["version"]["id"]
    params = {"format": "html", "version_id": version}
    r = await client.get("/api/v1/plans/document", params=params, headers=plans_key)
    assert r.status_code == 200, r.text
    assert "王小明" not in r.text and "值班主任甲" not in r.text
    both = await _key(client, tenant, "plans:read", "people:read")
    assert "王小明" in (await client.get("/api/v1/plans/document", params=params, headers=both)).text
    assert "王小明" in (await client.get("/api/v1/plans/document", params=params, headers=tenant.headers)).text


async def test_a_movement_names_an_incident_of_its_own_university_only(client, tenant):
    r = await client.post(
        "/api/v1/materials/items",
        json={"category": "medical", "code": "MED-1", "name_zh": "急救包", "name_en": "Kit", "unit": "box"},
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    item = r.json()["id"]
    # An id from nowhere (or from another university: the foreign key includes tenant_id) is refused.
    r = await client.post(
        f"/api/v1/materials/items/{item}/movements",
        json={"kind": "receive", "quantity": 5, "reason": "stock", "incident_id": str(uuid.uuid4())},
        headers=tenant.headers,
    )
    body = assert_problem(r, 422, "unknown-reference")
    assert "incident" in body["detail"]
    ledger = await client.get("/api/v1/materials/ledger", headers=tenant.headers)
    assert ledger.json()["items"] == []


async def test_a_key_with_petitions_write_submits_on_behalf_of_a_user(client, make_tenant):
    uni = await make_university(client, make_tenant)
    key = await _key(client, uni.tenant, "petitions:write")
    r = await client.post("/api/v1/petitions", json=petition_body(channel="mobile"), headers=key)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    shown = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    assert shown["channel"] == "mobile" and shown["petitioner"]["name"] == "李四"
    # The backend vouches for a named user: a named petition without a name is refused.
    r = await client.post("/api/v1/petitions", json=petition_body(petitioner=None), headers=key)
    assert_problem(r, 422)
    # The scope writes, it does not read.
    assert_problem(await client.get(f"/api/v1/petitions/{pid}", headers=key), 403)


async def test_a_refusal_by_the_middleware_carries_its_request_id_and_real_status(
    settings, platform_token, make_tenant, capfd
):
    from service.http.app import app_resources, create_app
    from service.ops.logging import configure_logging

    t = await make_tenant()
    app = create_app(msgspec.structs.replace(settings, log_level="info", log_format="json"))
    try:
        async with (
            app_resources(app),
            httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c,
        ):
            r = await c.post(f"/api/v1/platform/tenants/{t.id}/suspend", headers=auth(platform_token))
            assert r.status_code == 200
            capfd.readouterr()
            r = await c.get("/api/v1/accounts/", headers={**t.headers, "X-Request-ID": "req-suspended-1"})
            assert_problem(r, 403, "tenant-suspended")
            assert r.headers["x-request-id"] == "req-suspended-1"
            assert r.json()["request_id"] == "req-suspended-1"
            r = await c.get("/api/v1/accounts/", headers={"Authorization": "Basic x", "X-Request-ID": "req-basic-1"})
            assert_problem(r, 401)
            assert r.headers["x-request-id"] == "req-basic-1"
            err = capfd.readouterr().err
    finally:
        configure_logging(settings)
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    status = {line["request_id"]: line["status"] for line in lines if line.get("event") == "request"}
    assert status == {"req-suspended-1": 403, "req-basic-1": 401}


def test_library_loggers_write_the_same_json_lines(settings, capfd):
    import uvicorn.config

    from service.ops.logging import configure_logging

    # uvicorn installs its own plain-text handlers when it starts; the service's set-up must win over them.
    logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)
    try:
        configure_logging(msgspec.structs.replace(settings, log_level="info", log_format="json"))
        capfd.readouterr()
        logging.getLogger("uvicorn.error").info("Started server process")
        logging.getLogger("dramatiq.worker.WorkerThread").warning("worker restarted")
        logging.getLogger("fontTools.subset").info("glyphs retained")
        logging.getLogger("some.library").debug("below the configured level")
        err = capfd.readouterr().err
    finally:
        configure_logging(settings)
    lines = [line for line in err.splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # every line is JSON
    events = {p["event"]: p for p in parsed}
    assert set(events) == {"Started server process", "worker restarted"}
    assert events["worker restarted"]["level"] == "warning" and events["worker restarted"]["logger"].startswith(
        "dramatiq"
    )


async def test_a_role_error_names_values_not_python_reprs(client, tenant):
    r = await client.post(
        "/api/v1/accounts/",
        json={"email": "p@example.edu.cn", "password": "a-long-password-1", "role": "platform_admin"},
        headers=tenant.headers,
    )
    body = assert_problem(r, 422)
    assert "<Role" not in r.text and "Role." not in r.text
    assert "petition_officer" in json.dumps(body["errors"])
