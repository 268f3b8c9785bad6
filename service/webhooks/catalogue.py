"""The event-type catalogue integrators read: one source (``tenants.events``) for the catalogue route and for
the OpenAPI document's ``webhooks`` section, as Svix does. The envelope is what ``dispatch.body`` sends."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar.openapi.spec import (
    OpenAPIMediaType,
    OpenAPIResponse,
    Operation,
    PathItem,
    Reference,
    RequestBody,
    Schema,
)

from tenants.events import EVENTS, describe, payload_example, payload_schema

_ID = {"type": "string", "format": "uuid"}
_MAYBE_ID = {"type": ["string", "null"], "format": "uuid"}
_INSTANT = {"type": "string", "format": "date-time"}
SIGNATURE_HEADERS = {
    "webhook-id": "the event id: the same on every retry (deduplicate on it)",
    "webhook-timestamp": "seconds since the epoch when this attempt was signed",
    "webhook-signature": "v1,<base64 HMAC-SHA256 of id.timestamp.body> (Standard Webhooks); several while a "
    "secret is being rotated",
}


def envelope_schema(event_type: str) -> dict[str, Any]:
    """The JSON Schema of a delivery's body for ``event_type``."""
    data = {
        "tenant_id": _ID,
        "tenant_slug": {"type": "string"},
        "event_id": _ID,
        "event_type": {"const": event_type},
        "occurred_at": _INSTANT,
        "actor_id": _MAYBE_ID,
        "petition_id": _MAYBE_ID,
        "incident_id": _MAYBE_ID,
        "org_unit_id": _MAYBE_ID,
        "subject_id": _MAYBE_ID,
        "payload": payload_schema(event_type),
    }
    required = ["tenant_id", "tenant_slug", "event_id", "event_type", "occurred_at", "payload"]
    return {
        "type": "object",
        "required": ["type", "timestamp", "data"],
        "properties": {
            "type": {"const": event_type},
            "timestamp": _INSTANT,
            # The subject ids are always sent (null when the event has none), but not required of a reader.
            "data": {"type": "object", "required": required, "properties": data, "additionalProperties": False},
        },
        "additionalProperties": False,
    }


def envelope_example(event_type: str) -> dict[str, Any]:
    occurred = "2026-11-18T02:00:00Z"
    return {
        "type": event_type,
        "timestamp": occurred,
        "data": {
            "tenant_id": "0196a0f1-5c2e-7d3a-9b1e-2f4c6a8e0b12",
            "tenant_slug": "demo-university",
            "event_id": "0196a0f1-6d3f-7e4b-8c2f-3a5d7b9f1c23",
            "event_type": event_type,
            "occurred_at": occurred,
            "actor_id": None,
            "petition_id": None,
            "incident_id": None,
            "org_unit_id": None,
            "subject_id": None,
            "payload": payload_example(event_type),
        },
    }


class EventTypeOut(msgspec.Struct):
    name: str
    description: dict[str, str]
    payload_schema: dict[str, Any]
    schema: dict[str, Any]
    example: dict[str, Any]


def event_types() -> list[EventTypeOut]:
    return [
        EventTypeOut(
            name,
            {"zh-CN": e.description_zh, "en": e.description},
            payload_schema(name),
            envelope_schema(name),
            envelope_example(name),
        )
        for name, e in sorted(EVENTS.items())
    ]


def openapi_webhooks() -> dict[str, PathItem | Reference]:
    """The OpenAPI 3.1 ``webhooks`` section: one POST a subscriber receives per event type."""
    out: dict[str, PathItem | Reference] = {}
    for name in sorted(EVENTS):
        e = describe(name)
        body = Schema(**_schema_kwargs(envelope_schema(name)))
        out[name] = PathItem(
            post=Operation(
                summary=f"{e.description} / {e.description_zh}",
                description="Signed with the subscription's secret (Standard Webhooks headers: "
                + ", ".join(SIGNATURE_HEADERS)
                + "). Answer 2xx within 10 s; anything else is retried with back-off. Delivery is at least "
                "once: deduplicate on webhook-id.",
                operation_id=f"webhook_{name.replace('.', '_')}",
                tags=["webhooks"],
                request_body=RequestBody(
                    required=True,
                    content={"application/json": OpenAPIMediaType(schema=body, example=envelope_example(name))},
                ),
                responses={"2XX": OpenAPIResponse(description="received")},
            )
        )
    return out


def _schema_kwargs(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema dict as keyword arguments of Litestar's ``Schema`` (nested schemas converted too)."""
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "properties":
            out["properties"] = {k: Schema(**_schema_kwargs(v)) for k, v in value.items()}
        elif key == "items":
            out["items"] = Schema(**_schema_kwargs(value))
        elif key == "additionalProperties":
            out["additional_properties"] = value
        elif key == "const":
            out["const"] = value
        elif key == "type":
            out["type"] = value
        else:
            out[key] = value
    return out
