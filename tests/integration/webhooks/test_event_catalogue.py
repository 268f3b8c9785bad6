"""The event-type catalogue: the route and the OpenAPI document's ``webhooks`` section come from one source
(tenants/events.py), every example is valid against its schema, and a real delivery's body is valid against the
schema published for its type (checked with an independent JSON Schema validator)."""

from __future__ import annotations

import json

import jsonschema
from sqlalchemy import select

from service.webhooks import dispatch
from tenants.events import EVENTS
from tenants.journal import JournalEvent
from tests.support.webhooks import drive, subscribe

VALIDATOR = jsonschema.Draft202012Validator


async def test_the_catalogue_route_lists_every_event_type_with_both_languages(client):
    r = await client.get("/api/v1/webhooks/event-types")  # no credentials: the contract is public
    assert r.status_code == 200, r.text
    items = r.json()
    assert [i["name"] for i in items] == sorted(EVENTS)
    for item in items:
        declared = EVENTS[item["name"]]
        assert item["description"] == {"zh-CN": declared.description_zh, "en": declared.description}
        assert set(item["payload_schema"]["properties"]) == set(declared.payload)
        VALIDATOR.check_schema(item["schema"])
        VALIDATOR(item["schema"]).validate(item["example"])
        assert item["example"]["type"] == item["name"]
    petition = next(i for i in items if i["name"] == "petition.replied")
    assert petition["description"]["zh-CN"] == "已出具处理意见"
    assert petition["payload_schema"]["properties"]["days"]["type"] == "integer"


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


async def test_the_openapi_document_has_one_webhook_per_event_type_with_the_same_schema(client):
    document = (await client.get("/schema/openapi.json")).json()
    catalogue = {i["name"]: i for i in (await client.get("/api/v1/webhooks/event-types")).json()}
    assert set(document["webhooks"]) == set(EVENTS)
    for name, item in document["webhooks"].items():
        body = item["post"]["requestBody"]["content"]["application/json"]
        assert body["schema"] == catalogue[name]["schema"], name
        # The OpenAPI renderer leaves null values out of examples; the rest is the catalogue's example.
        assert body["example"] == _without_nulls(catalogue[name]["example"])
        VALIDATOR(body["schema"]).validate(body["example"])
        assert "2XX" in item["post"]["responses"]
    assert "/api/v1/webhooks/event-types" in document["paths"]


async def test_delivered_bodies_are_valid_against_the_published_schema(client, tenant, db, fast_settings, receiver):
    await subscribe(client, tenant.headers, receiver.url, ["*"])
    # A few kinds of events, written by the real services through the API.
    category = {"code": "canteen", "name_zh": "食堂", "name_en": "Canteen"}
    assert (await client.post("/api/v1/petition-categories", json=category, headers=tenant.headers)).status_code == 201
    unit = {"kind": "university", "code": "ROOT", "name_zh": "测试大学", "name_en": "Test U", "parent_id": None}
    assert (await client.post("/api/v1/org/units", json=unit, headers=tenant.headers)).status_code == 201
    async with db.transaction(tenant.id) as session:
        events = list(await session.scalars(select(JournalEvent).order_by(JournalEvent.seq)))
    schemas = {i["name"]: i["schema"] for i in (await client.get("/api/v1/webhooks/event-types")).json()}
    for event in events:
        await drive(db, fast_settings, tenant.id, event.id)
    bodies = [r.body for r in receiver.received]
    assert len(bodies) == len(events) >= 3
    for raw in bodies:
        body = json.loads(raw)
        VALIDATOR(schemas[body["type"]]).validate(body)
    # The engine's own body builder is what was sent.
    assert {e.type for e in events} >= {"petition_category.created", "orgunit.created"}
    assert dispatch.body(events[0], tenant.slug) in bodies
