"""Plan drafts through the API: the default draft, edits with optimistic revisions, roles and tenants."""

from __future__ import annotations

import copy
from typing import Any

import msgspec

from tenants.plans.defaults import default_plan
from tests.support.journal import journal_of
from tests.support.people import make_account
from tests.support.plans import draft, provision


async def test_provisioning_opens_the_seed_plan_as_draft_once(client: Any, db: Any, tenant: Any) -> None:
    await provision(db, tenant)
    await provision(db, tenant)  # a redelivered onboarding job
    r = await client.get("/api/v1/plans/versions", headers=tenant.headers)
    assert [(v["number"], v["status"], v["revision"]) for v in r.json()] == [(1, "draft", 1)]
    body = await draft(client, tenant)
    assert body["content"] == msgspec.to_builtins(default_plan())
    assert body["content"]["goals"]["title"] == {"zh": "高校信访工作应急预案", "en": "Emergency Plan for Petition Work"}
    created = await journal_of(client, tenant, type="plan.draft_created")
    assert [(e["subject_id"], e["payload"]) for e in created] == [
        (body["version"]["id"], {"number": 1, "based_on_id": None})
    ]
    # No published plan yet.
    r = await client.get("/api/v1/plans/current", headers=tenant.headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")


async def test_only_one_draft_at_a_time(client: Any, db: Any, tenant: Any) -> None:
    await provision(db, tenant)
    r = await client.post("/api/v1/plans/versions", json={}, headers=tenant.headers)
    assert r.status_code == 409 and r.json()["type"].endswith("/draft-exists")


async def test_a_university_never_provisioned_can_open_the_seed_draft(client: Any, tenant: Any) -> None:
    r = await client.post("/api/v1/plans/versions", json={}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    assert r.json()["version"]["number"] == 1 and r.json()["content"]["steps"][0]["key"] == "report"


async def test_replace_content_with_optimistic_revision(client: Any, db: Any, tenant: Any) -> None:
    await provision(db, tenant)
    body = await draft(client, tenant)
    vid = body["version"]["id"]
    content = copy.deepcopy(body["content"])
    content["steps"][0]["target_minutes"] = 20
    content["materials"][0]["minimum"] = 12
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": content}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["version"]["revision"] == 2
    assert r.json()["content"]["steps"][0]["target_minutes"] == 20

    # A second editor still on revision 1 is refused, and nothing of theirs is written.
    stale = copy.deepcopy(body["content"])
    stale["steps"][0]["target_minutes"] = 45
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": stale}, headers=tenant.headers
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/stale-revision")
    assert r.json()["current_revision"] == 2
    assert (await draft(client, tenant))["content"]["steps"][0]["target_minutes"] == 20

    # Saving the same content again is not an edit.
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 2, "content": content}, headers=tenant.headers
    )
    assert r.status_code == 200 and r.json()["version"]["revision"] == 2

    updated = await journal_of(client, tenant, type="plan.draft_updated")
    assert [e["payload"] for e in updated] == [{"number": 1, "revision": 2, "sections": ["materials", "steps"]}]


async def test_section_patch(client: Any, db: Any, tenant: Any) -> None:
    await provision(db, tenant)
    body = await draft(client, tenant)
    vid = body["version"]["id"]
    training = {"training_every_days": 90, "training_groups": ["handling"], "drill_every_days": 180}
    r = await client.patch(
        f"/api/v1/plans/versions/{vid}/sections/training", json={"value": training}, headers=tenant.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["content"]["training"]["training_every_days"] == 90
    assert r.json()["content"]["training"]["notes"] == {"zh": "", "en": ""}
    assert r.json()["version"]["revision"] == 2

    r = await client.patch(
        f"/api/v1/plans/versions/{vid}/sections/training",
        json={"value": training | {"drill_every_days": 30}, "revision": 1},
        headers=tenant.headers,
    )
    assert r.status_code == 409 and r.json()["type"].endswith("/stale-revision")

    r = await client.patch(
        f"/api/v1/plans/versions/{vid}/sections/nonsense", json={"value": {}}, headers=tenant.headers
    )
    assert r.status_code == 404

    bad_rule = copy.deepcopy(body["content"]["severity_levels"])
    bad_rule[0]["activation"] = {"kind": "moon_phase", "value": 3}
    r = await client.patch(
        f"/api/v1/plans/versions/{vid}/sections/severity_levels", json={"value": bad_rule}, headers=tenant.headers
    )
    assert r.status_code == 422, r.text
    assert r.json()["errors"][0]["field"] == "severity_levels"
    assert "moon_phase" in r.json()["errors"][0]["message"]
    assert (await draft(client, tenant))["version"]["revision"] == 2  # nothing written


async def test_bad_bodies_are_4xx_and_write_nothing(client: Any, db: Any, tenant: Any) -> None:
    await provision(db, tenant)
    body = await draft(client, tenant)
    vid = body["version"]["id"]
    extra = copy.deepcopy(body["content"]) | {"surprise": 1}
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": extra}, headers=tenant.headers
    )
    assert r.status_code == 400
    wrong_type = copy.deepcopy(body["content"])
    wrong_type["steps"][0]["target_minutes"] = "soon"
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": wrong_type}, headers=tenant.headers
    )
    assert r.status_code == 400
    unknown_step = copy.deepcopy(body["content"])
    unknown_step["steps"][0]["key"] = "pray"
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": unknown_step}, headers=tenant.headers
    )
    assert r.status_code == 400
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 0, "content": body["content"]}, headers=tenant.headers
    )
    assert r.status_code == 400
    assert (await draft(client, tenant))["version"]["revision"] == 1
    assert await journal_of(client, tenant, type="plan.draft_updated") == []


async def test_roles_and_tenants(client: Any, db: Any, make_tenant: Any) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    await provision(db, tenant)
    await provision(db, other)
    body = await draft(client, tenant)
    vid = body["version"]["id"]
    staff = (await make_account(client, tenant, "staff"))[0]
    petitioner = (await make_account(client, tenant, "petitioner"))[0]

    assert (await client.get("/api/v1/plans/versions", headers=staff)).status_code == 200
    assert (await client.get(f"/api/v1/plans/versions/{vid}", headers=staff)).status_code == 200
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": body["content"]}, headers=staff
    )
    assert r.status_code == 403
    assert (await client.post(f"/api/v1/plans/versions/{vid}/publish", headers=staff)).status_code == 403
    assert (await client.post("/api/v1/plans/versions", json={}, headers=staff)).status_code == 403
    assert (await client.get("/api/v1/plans/versions", headers=petitioner)).status_code == 403
    assert (await client.get("/api/v1/plans/versions")).status_code == 401

    # Another university's admin sees nothing of it.
    assert (await client.get(f"/api/v1/plans/versions/{vid}", headers=other.headers)).status_code == 404
    r = await client.put(
        f"/api/v1/plans/versions/{vid}", json={"revision": 1, "content": body["content"]}, headers=other.headers
    )
    assert r.status_code == 404
    r = await client.patch(
        f"/api/v1/plans/versions/{vid}/sections/training",
        json={"value": body["content"]["training"]},
        headers=other.headers,
    )
    assert r.status_code == 404
    assert (await client.post(f"/api/v1/plans/versions/{vid}/publish", headers=other.headers)).status_code == 404
    r = await client.post("/api/v1/plans/versions", json={"based_on_id": vid}, headers=other.headers)
    assert r.status_code == 404
    r = await client.get("/api/v1/plans/diff", params={"from": vid, "to": vid}, headers=staff)
    assert r.status_code == 200 and r.json()["sections"] == {}
    r = await client.get("/api/v1/plans/diff", params={"from": vid, "to": vid}, headers=other.headers)
    assert r.status_code == 404
    others = (await client.get("/api/v1/plans/versions", headers=other.headers)).json()
    assert vid not in {v["id"] for v in others}


async def test_openapi_documents_the_plan_routes_and_who_may_call_them(client: Any) -> None:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/v1/plans/versions",
        "/api/v1/plans/versions/{version_id}",
        "/api/v1/plans/versions/{version_id}/sections/{section}",
        "/api/v1/plans/versions/{version_id}/publish",
        "/api/v1/plans/current",
        "/api/v1/plans/diff",
        "/api/v1/plans/suggest-severity",
        "/api/v1/plans/readiness",
        "/api/v1/plans/document",
        "/api/v1/training/sessions",
        "/api/v1/training/compliance",
    ):
        assert path in paths, path
    # Editing is for admins (bearer only); reading also for API keys with plans:read.
    assert paths["/api/v1/plans/versions/{version_id}/publish"]["post"]["security"] == [{"bearer": []}]
    assert {"apiKey": []} in paths["/api/v1/plans/document"]["get"]["security"]


async def test_an_api_key_with_plans_read_reads_and_never_edits(client: Any, db: Any, tenant: Any) -> None:
    await provision(db, tenant)
    body = await draft(client, tenant)
    vid = body["version"]["id"]
    r = await client.post(
        "/api/v1/api-keys", json={"name": "dashboard", "scopes": ["plans:read"]}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    key = {"X-API-Key": r.json()["secret"]}
    assert (await client.get(f"/api/v1/plans/versions/{vid}", headers=key)).status_code == 200
    edit = {"revision": 1, "content": body["content"]}
    # Editing takes a bearer token only (the document's security says so): a key in X-API-Key is no credential
    # there (401); the same key as a bearer token is a credential, refused for what it may do (403).
    r = await client.put(f"/api/v1/plans/versions/{vid}", json=edit, headers=key)
    assert r.status_code == 401 and r.json()["type"].endswith("/scheme-not-accepted"), r.text
    bearer = {"Authorization": f"Bearer {key['X-API-Key']}"}
    assert (await client.put(f"/api/v1/plans/versions/{vid}", json=edit, headers=bearer)).status_code == 403
    r = await client.post("/api/v1/api-keys", json={"name": "other", "scopes": ["events:read"]}, headers=tenant.headers)
    assert (await client.get("/api/v1/plans/versions", headers={"X-API-Key": r.json()["secret"]})).status_code == 403
