"""The OpenAPI document says what the server does: every route's refusals as RFC 9457 problems with their stable
types, media types, headers, request bodies the server accepts, and links from creates to reads. Real answers
are checked against the document with an independent JSON Schema validator."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest

from service.http.errors import TYPE_BASE
from service.http.openapi import problem_kinds
from tests.support.platform import auth

METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture(scope="module")
async def document(client: Any) -> dict[str, Any]:
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    return r.json()


def operations(document: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(p, m, op) for p, item in document["paths"].items() for m, op in item.items() if m in METHODS]


def validator(document: dict[str, Any], schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for ``schema`` that resolves the document's ``#/components/...`` references."""
    return jsonschema.Draft202012Validator({**schema, "components": document["components"]})


def response_schema(document: dict[str, Any], path: str, method: str, status: int, media: str) -> dict[str, Any]:
    answer = document["paths"][path][method]["responses"][str(status)]
    if "$ref" in answer:
        answer = document["components"]["responses"][answer["$ref"].rsplit("/", 1)[-1]]
    return answer["content"][media]["schema"]


def test_problem_kinds_come_from_the_code_that_raises_them():
    kinds = problem_kinds()
    # raise sites (Conflict(..., code=...), Invalid(...), NotFound(...)), classes' own codes, the HTTP mapping
    assert {"stale-version", "transition-refused", "session-full", "duplicate"} <= set(kinds[409])
    assert {"lookup-failed", "not-found"} <= set(kinds[404])
    assert {"unknown-reference", "idempotency-key-reused", "validation"} <= set(kinds[422])
    assert {"invalid-request", "malformed-body"} <= set(kinds[400])
    assert {"tenant-suspended", "password-change-required", "forbidden"} <= set(kinds[403])
    assert {"invalid-token", "token-revoked", "foreign-credentials"} <= set(kinds[401])
    assert 500 not in kinds


async def test_every_operation_documents_the_refusals_every_route_can_give(document):
    for path, method, op in operations(document):
        responses = op["responses"]
        for status in ("401", "403", "429", "503"):
            if path.startswith("/open311/") and status == "403":  # GeoReport's own error format, or a problem
                assert "application/problem+json" in responses[status]["content"]
                continue
            assert responses.get(status) == {"$ref": f"#/components/responses/Problem{status}"}, (method, path)
        success = [s for s in responses if s.startswith("2")]
        assert success, (method, path)
        for s in success:
            assert responses[s]["headers"]["x-request-id"]["required"] is True
        if "{" in path:
            assert "404" in responses, (method, path)
        if method in ("post", "put", "patch") and "requestBody" in op:
            assert {"400", "413", "422"} <= set(responses), (method, path)
            # Open311's POST takes any media type (the standard's clients vary); every other body is checked
            assert ("415" in responses) != path.startswith("/open311/"), (method, path)


async def test_problems_are_rfc9457_with_the_stable_types_of_their_status(document):
    responses = document["components"]["responses"]
    for status, codes in problem_kinds().items():
        answer = responses[f"Problem{status}"]
        schema = answer["content"]["application/problem+json"]["schema"]
        problem = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
        assert problem["properties"]["type"]["enum"] == [TYPE_BASE + c for c in codes]
        assert problem["properties"]["status"]["enum"] == [status]
        for code in codes:
            assert f"`{code}`" in answer["description"]
        if status in (429, 503):
            assert answer["headers"]["Retry-After"]["required"] is True
    # Litestar's own 400 shape ("Validation Exception": status_code, detail, extra) is gone everywhere.
    assert "Validation Exception" not in str(document)


async def test_a_real_refusal_matches_its_documented_problem(client, document, tenant):
    r = await client.get("/api/v1/org/units/00000000-0000-7000-8000-000000000000", headers=tenant.headers)
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    validator(
        document, response_schema(document, "/api/v1/org/units/{unit_id}", "get", 404, "application/problem+json")
    ).validate(r.json())
    r = await client.post("/api/v1/org/units", json={"kind": "office", "nope": 1}, headers=tenant.headers)
    assert r.status_code == 400
    validator(
        document, response_schema(document, "/api/v1/org/units", "post", 400, "application/problem+json")
    ).validate(r.json())
    assert {e["pointer"] for e in r.json()["errors"]} >= {"/nope", "/code"}


async def test_a_route_that_matches_nothing_still_names_the_request(client):
    r = await client.get("/api/v1/petitions/not-a-uuid")
    assert r.status_code == 404 and len(r.headers["x-request-id"]) == 32
    assert r.json()["request_id"] == r.headers["x-request-id"]
    r = await client.get("/api/v1/no-such-route", headers={"x-request-id": "mine-1"})
    assert r.headers["x-request-id"] == "mine-1" == r.json()["request_id"]


async def test_request_bodies_say_what_the_server_takes(document):
    body = document["paths"]["/api/v1/org/import"]["post"]["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(body["properties"]) == {"units", "people"} and body["additionalProperties"] is False
    assert body["minProperties"] == 1 and body["properties"]["units"]["format"] == "binary"
    attach = document["paths"]["/api/v1/t/{slug}/petitions/attachments"]["post"]["requestBody"]["content"]
    schema = attach["multipart/form-data"]["schema"]
    assert schema["properties"]["files"]["type"] == "array"
    assert set(schema["required"]) == {"tracking_number", "lookup_code", "files"}
    # a struct that refuses unknown fields says so
    units = document["components"]["schemas"]["UnitCreate"]
    assert units["additionalProperties"] is False
    # also one that shares its class name with another module's (Litestar names it by its module path), and the
    # constraints of its list items, which the server checks
    action = document["components"]["schemas"]["incidents_schemas_ActionIn"]
    assert action["additionalProperties"] is False
    [array] = [b for b in action["properties"]["risk_categories"]["anyOf"] if b.get("type") == "array"]
    assert array["items"]["minLength"] == 1 and array["items"]["maxLength"] == 40
    # and an optional count's lower bound of 0 (Litestar drops a bound of 0: falsy to it)
    [count] = [b for b in action["properties"]["people_count"]["anyOf"] if b.get("type") == "integer"]
    assert (count["minimum"], count["maximum"]) == (0, 1_000_000)
    # a query parameter's bound of 0 too
    [days] = [p for p in document["paths"]["/api/v1/materials/items"]["get"]["parameters"]
              if p["name"] == "expiring_within_days"]  # fmt: skip
    assert [b.get("minimum") for b in days["schema"]["oneOf"] if b.get("type") == "integer"] == [0]
    # a constrained datetime keeps its format
    assert document["components"]["schemas"]["OrderIn"]["properties"]["due_at"]["format"] == "date-time"


async def test_media_types_of_renditions_pages_and_open311(document):
    def media(path: str, method: str = "get") -> set[str]:
        op = document["paths"][path][method]
        status = next(s for s in op["responses"] if s.startswith("2"))
        return set(op["responses"][status]["content"])

    assert media("/api/v1/plans/document") == {"text/html", "application/pdf", RENDITION_DOCX}
    assert media("/api/v1/reports/{report_id}/{file}") >= {"application/vnd.apache.parquet", "text/csv"}
    assert media("/api/v1/org/export/units") == {"text/csv", RENDITION_XLSX}
    assert media("/open311/v2/{name}") == {"application/json", "text/xml"}
    assert media("/public/{slug}/incidents/{token}/page") == {"text/html"}
    assert media("/metrics") == {"text/plain"}
    error = document["paths"]["/open311/v2/{name}"]["get"]["responses"]["404"]
    assert set(error["content"]) == {"application/json", "text/xml", "application/problem+json"}


RENDITION_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
RENDITION_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


async def test_headers_location_and_idempotent_replays(document):
    report = document["paths"]["/api/v1/reports"]["post"]["responses"]
    assert "202" in report and "201" not in report
    assert report["202"]["headers"]["Location"]["required"] is True
    submit = document["paths"]["/api/v1/t/{slug}/petitions"]["post"]
    assert submit["responses"]["201"]["headers"]["idempotent-replayed"]["required"] is False
    key = next(p for p in submit["parameters"] if p["name"] == "Idempotency-Key")
    assert key["schema"]["pattern"]


async def test_creates_link_to_their_reads(document):
    links = document["paths"]["/api/v1/org/units"]["post"]["responses"]["201"]["links"]
    targets = {link["operationId"] for link in links.values()}
    read = document["paths"]["/api/v1/org/units/{unit_id}"]["get"]["operationId"]
    assert read in targets
    assert all(link["parameters"] == {"unit_id": "$response.body#/id"} for link in links.values())


async def test_options_and_405_list_every_method_of_a_path(client, tenant):
    r = await client.options("/api/v1/accounts", headers=tenant.headers)
    assert r.status_code == 204 and set(r.headers["allow"].split(", ")) == {"GET", "OPTIONS", "POST"}
    r = await client.delete("/api/v1/accounts", headers=auth(tenant.admin_token))
    assert r.status_code == 405 and set(r.headers["allow"].split(", ")) == {"GET", "OPTIONS", "POST"}


# --- bugs the fuzzer found, fixed in the server --------------------------------------------------------------


async def test_two_credentials_are_refused_not_one_of_them_picked(client, tenant):
    r = await client.post("/api/v1/api-keys", json={"name": "k", "scopes": ["webhooks:manage"]}, headers=tenant.headers)
    key = r.json()["secret"]
    ok = await client.get("/api/v1/webhooks/subscriptions", headers={"X-API-Key": key})
    assert ok.status_code == 200
    both = await client.get(
        "/api/v1/webhooks/subscriptions", headers={"X-API-Key": key, "Authorization": "Bearer not-a-token"}
    )
    assert both.status_code == 401 and both.json()["type"].endswith("/ambiguous-credentials")
    # An empty Authorization header is a credential too (make fuzz found it ignored beside a good key).
    empty = await client.get("/api/v1/webhooks/subscriptions", headers={"X-API-Key": key, "Authorization": ""})
    assert empty.status_code == 401 and empty.json()["type"].endswith("/ambiguous-credentials")
    alone = await client.get("/api/v1/t/nowhere/categories", headers={"Authorization": ""})
    assert alone.status_code == 401 and alone.json()["type"].endswith("/invalid-token")


async def test_a_json_body_has_the_json_types_its_schema_says(client, tenant):
    # Litestar's lenient conversion read 0 as false and "5" as 5; the document says boolean and integer
    r = await client.put(
        "/api/v1/notifications/preferences", json=[{"kind": "task", "feed": True, "email": 0}], headers=tenant.headers
    )
    assert r.status_code == 400, r.text
    assert [e["pointer"] for e in r.json()["errors"]] == ["/0/email"]
    r = await client.post(
        f"/api/v1/t/{tenant.slug}/petitions",
        json={
            "kind": "complaint",
            "category": "x",
            "subject": "s",
            "content": "c",
            "anonymous": True,
            "participants": "5",
        },
    )
    assert r.status_code == 400 and [e["pointer"] for e in r.json()["errors"]] == ["/participants"]
    fine = await client.put(
        "/api/v1/notifications/preferences",
        json=[{"kind": "task", "feed": True, "email": False}],
        headers=tenant.headers,
    )
    assert fine.status_code == 200, fine.text


async def test_an_integral_float_is_an_integer_as_json_schema_says(client, tenant):
    # found by fuzzing the strict reading: `"participants": 3.0` is an integer to JSON Schema, so it is to us
    body = {"kind": "complaint", "category": "x", "subject": "s", "content": "c", "anonymous": True}
    r = await client.post(f"/api/v1/t/{tenant.slug}/petitions", json={**body, "participants": 3.0})
    assert r.status_code == 422 and [e["pointer"] for e in r.json()["errors"]] == ["/category"], r.text
    r = await client.post(f"/api/v1/t/{tenant.slug}/petitions", json={**body, "participants": 3.5})
    assert r.status_code == 400 and [e["pointer"] for e in r.json()["errors"]] == ["/participants"]


async def test_dates_in_the_query_string_are_rfc_3339_as_documented(client, tenant):
    # Litestar read before=0.5 as a Unix timestamp (found by fuzzing); the document says date-time.
    for bad in ("0.5", "0", "yesterday", "2026-13"):
        r = await client.get("/api/v1/warnings", params={"before": bad}, headers=tenant.headers)
        assert r.status_code == 400 and r.json()["errors"][0]["key"] == "before", (bad, r.text)
    for good in ("2026-12-01T00:00:00Z", "2026-12-01T08:00:00+08:00", "2026-12-01 08:00:00.5+08:00"):
        r = await client.get("/api/v1/warnings", params={"before": good}, headers=tenant.headers)
        assert r.status_code == 200, (good, r.text)
