"""Training sessions and drills through the API."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from tests.support.journal import events_of_type
from tests.support.people import add_person, make_account, root_unit
from tests.support.platform import FIXED_TODAY

TODAY = FIXED_TODAY


async def test_record_and_read_sessions(clock: Any, client: Any, make_tenant: Any) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    root = await root_unit(client, tenant)
    people = [await add_person(client, tenant, root, name) for name in ("张伟", "刘芳", "陈静")]
    body = {
        "held_on": (TODAY - dt.timedelta(days=3)).isoformat(),
        "kind": "drill",
        "topic": "群体性上访处置演练",
        "participants": [*people, people[0]],
        "notes": "演练顺利",
    }
    r = await client.post("/api/v1/training/sessions", json=body, headers=tenant.headers)
    assert r.status_code == 201, r.text
    session = r.json()
    assert session["kind"] == "drill" and sorted(session["participants"]) == sorted(people)
    recorded = await events_of_type(client, tenant, "training.recorded")
    assert [(e["subject_id"], e["payload"]) for e in recorded] == [
        (session["id"], {"kind": "drill", "held_on": body["held_on"], "participant_count": 3})
    ]

    staff = (await make_account(client, tenant, "staff"))[0]
    r = await client.get("/api/v1/training/sessions", headers=staff)
    assert r.status_code == 200 and [s["id"] for s in r.json()] == [session["id"]]
    r = await client.get(f"/api/v1/training/sessions/{session['id']}", headers=staff)
    assert r.status_code == 200 and r.json()["topic"] == "群体性上访处置演练"
    r = await client.get("/api/v1/training/sessions", params={"since": TODAY.isoformat()}, headers=staff)
    assert r.json() == []
    assert (await client.post("/api/v1/training/sessions", json=body, headers=staff)).status_code == 403

    assert (await client.get(f"/api/v1/training/sessions/{session['id']}", headers=other.headers)).status_code == 404
    assert (await client.get("/api/v1/training/sessions", headers=other.headers)).json() == []


async def test_bad_sessions_are_refused_and_nothing_is_written(clock: Any, client: Any, make_tenant: Any) -> None:
    tenant = await make_tenant()
    future = {"held_on": (TODAY + dt.timedelta(days=2)).isoformat(), "kind": "training", "topic": "  "}
    r = await client.post("/api/v1/training/sessions", json=future, headers=tenant.headers)
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"held_on", "topic"}
    r = await client.post(
        "/api/v1/training/sessions",
        json={"held_on": TODAY.isoformat(), "kind": "party", "topic": "x"},
        headers=tenant.headers,
    )
    assert r.status_code == 400
    r = await client.post(
        "/api/v1/training/sessions",
        json={"held_on": TODAY.isoformat(), "kind": "training", "topic": "x", "participants": ["nope"]},
        headers=tenant.headers,
    )
    assert r.status_code == 400
    # People of another university (or of no university) are not participants here.
    other = await make_tenant()
    stranger = await add_person(client, other, await root_unit(client, other), "外校人员")
    root = await root_unit(client, tenant)
    person = await add_person(client, tenant, root, "张伟")
    r = await client.post(
        "/api/v1/training/sessions",
        json={
            "held_on": TODAY.isoformat(),
            "kind": "training",
            "topic": "预案培训",
            "participants": [person, stranger, str(uuid.uuid4())],
        },
        headers=tenant.headers,
    )
    assert r.status_code == 422, r.text
    assert [e["field"] for e in r.json()["errors"]] == ["participants[1]", "participants[2]"]
    assert (await client.get("/api/v1/training/sessions", headers=tenant.headers)).json() == []
    assert await events_of_type(client, tenant, "training.recorded") == []
