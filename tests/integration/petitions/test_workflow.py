import pytest

from service.petitions.workflow import TRANSITIONS, Action, State
from tests.support.casework import do, drive, petition_body
from tests.support.journal import journal_of


@pytest.mark.parametrize("state", list(State))
async def test_every_transition_allowed_and_refused_as_the_table_says(client, uni, state):
    pid, version = await drive(client, uni, state)
    detail = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    assert detail["state"] == state.value
    for action in Action:
        if (state, action) in TRANSITIONS:
            continue
        r = await do(client, uni, pid, action.value, version)
        assert r.status_code == 409, (state, action, r.text)
        assert r.json()["type"].endswith("/transition-refused")
    allowed = [a for (s, a) in TRANSITIONS if s == state]
    for action in allowed:
        fresh, v = await drive(client, uni, state)
        r = await do(client, uni, fresh, action.value, v)
        assert r.status_code == 201, (state, action, r.text)
        assert r.json()["state"] == TRANSITIONS[(state, action)].value


async def test_full_case_is_journaled_with_deadlines(client, uni):
    pid, version = await drive(client, uni, State.in_progress)
    detail = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    assert detail["org_unit_id"] == uni.unit_a  # the category's default unit
    assert detail["deadlines"]["conclude_due"] is not None and detail["deadlines"]["overdue"] is False
    r = await do(client, uni, pid, "extend", version)
    assert r.status_code == 201, r.text
    assert r.json()["extended_days"] == 20
    again = await do(client, uni, pid, "extend", r.json()["version"])
    assert again.status_code == 409 and again.json()["type"].endswith("/already-extended")
    events = [e["type"] for e in await journal_of(client, uni, pid)]
    assert events == [
        "petition.submitted",
        "petition.accepted",
        "notice.issued",  # 受理告知书
        "petition.assigned",
        "petition.started",
        "petition.extended",
        "notice.issued",  # 延期告知
    ]


async def test_stale_version_is_refused_with_the_current_state(client, uni):
    pid, version = await drive(client, uni, State.accepted)
    r = await do(client, uni, pid, "assign", version - 1)
    assert r.status_code == 409
    assert r.json()["type"].endswith("/stale-version")
    assert r.json()["state"] == "accepted" and r.json()["version"] == version


async def test_missing_fields_are_listed(client, uni):
    pid, version = await drive(client, uni, State.in_progress)
    r = await client.post(
        f"/api/v1/petitions/{pid}/actions", json={"action": "reply", "version": version}, headers=uni.officer
    )
    assert r.status_code == 422
    assert {e["field"] for e in r.json()["errors"]} == {"opinion", "outcome"}
    assert (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()["version"] == version


async def test_transfer_objection_returns_the_case(client, uni):
    pid, version = await drive(client, uni, State.transferred)
    detail = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    assert detail["org_unit_id"] == uni.unit_b and detail["deadlines"]["objection_due"] is not None
    r = await do(client, uni, pid, "object_transfer", version)
    assert r.status_code == 201, r.text
    assert r.json()["org_unit_id"] == uni.unit_a and r.json()["state"] == "assigned"
    events = await journal_of(client, uni, pid)
    assert events[-1]["type"] == "petition.transfer_objected"


async def test_roles_are_enforced(client, uni):
    pid, version = await drive(client, uni, State.received)
    r = await client.post(
        f"/api/v1/petitions/{pid}/actions", json={"action": "accept", "version": version}, headers=uni.petitioner
    )
    assert r.status_code == 403
    pid2, v2 = await drive(client, uni, State.replied)
    r = await client.post(
        f"/api/v1/petitions/{pid2}/actions",
        json={"action": "request_review", "version": v2},
        headers=uni.officer,
    )
    assert r.status_code == 403


async def test_rating_and_review_by_lookup_code(client, uni, db):
    from sqlalchemy import text

    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(anonymous=True, petitioner=None))
    sub = r.json()
    pid, version = sub["id"], 1
    for action in ["accept", "assign", "start", "reply"]:
        step = await do(client, uni, pid, action, version)
        version = step.json()["version"]
    creds = {"tracking_number": sub["tracking_number"], "lookup_code": sub["lookup_code"]}
    status = (await client.post(f"/api/v1/t/{uni.slug}/petitions/status", json=creds)).json()
    assert status["can_rate"] and status["can_request_review"] and status["outcome"] == "supported"
    rated = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/rating", json={**creds, "rating": "dissatisfied", "comment": "没有解决"}
    )
    assert rated.status_code == 200, rated.text
    twice = await client.post(f"/api/v1/t/{uni.slug}/petitions/rating", json={**creds, "rating": "satisfied"})
    assert twice.status_code == 409 and twice.json()["type"].endswith("/already-rated")
    review = await client.post(f"/api/v1/t/{uni.slug}/petitions/review", json=creds)
    assert review.status_code == 200, review.text
    assert review.json()["state"] == "review_requested"
    events = await journal_of(client, uni, pid)
    rated_event = next(e for e in events if e["type"] == "petition.rated")
    assert rated_event["payload"] == {
        "kind": "complaint",
        "category": "dormitory",
        "rating": "dissatisfied",
        "stage": "reply",
        "by": "lookup_code",
    }
    # The review window is 30 days from the reply: once it has passed, the request is refused.
    step = await do(
        client,
        uni,
        pid,
        "answer_review",
        review_version := (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()["version"],
    )
    assert step.status_code == 201, (review_version, step.text)
    async with db.transaction(uni.tenant.id) as session:
        await session.execute(
            text("update petitions set review_window_until = now() - interval '1 second' where id = :i"), {"i": pid}
        )
    late = await client.post(f"/api/v1/t/{uni.slug}/petitions/review", json=creds)
    assert late.status_code == 409 and late.json()["type"].endswith("/review-window-closed")


async def test_escalation_links_petitions(client, uni):
    a, _ = await drive(client, uni, State.received)
    b, _ = await drive(client, uni, State.accepted)
    r = await client.post(
        "/api/v1/petitions/escalations",
        json={"petition_ids": [a, b], "reason_code": "mass-gathering"},
        headers=uni.officer,
    )
    assert r.status_code == 201, r.text
    events = [e for e in await journal_of(client, uni) if e["type"] == "petition.escalation_requested"]
    assert {e["petition_id"] for e in events} == {a, b}
    assert all(e["subject_id"] == r.json()["id"] and e["payload"]["petitions"] == 2 for e in events)
    bad = await client.post(
        "/api/v1/petitions/escalations",
        json={"petition_ids": ["01900000-0000-7000-8000-000000000000"], "reason_code": "x"},
        headers=uni.officer,
    )
    # An unknown petition is a 404, the same answer as one out of the caller's scope (no existence oracle).
    assert bad.status_code == 404
