"""The scope policy (service/petitions/scope.py) over the whole petition route table, both sides: callers out of a
petition's scope get the answer an unknown id gets (404) and never its personal data; callers in scope get 2xx
and the data. Lists are filtered in the database: a staff list is exactly its units' petitions."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.support.casework import University, make_university, petition_body
from tests.support.people import link_person, make_account, make_unit

NAME, PHONE, NUMBER = "欧阳秘密", "13987654321", "ZX998877"
REP_NAME, REP_PHONE = "代表乙秘", "13566667777"
SECRETS = (NAME, PHONE, NUMBER, REP_NAME, REP_PHONE)


def leaked(text: str) -> list[str]:
    return [s for s in SECRETS if s in text]


@dataclass
class World:
    uni: University
    sub: str  # a unit below unit A
    staff_a: dict[str, str]
    staff_sub: dict[str, str]
    staff_b: dict[str, str]
    staff_post: dict[str, str]  # primary unit B, secondary post in unit A
    officer_a: dict[str, str]  # a petition officer placed in unit A (the accused unit of the accusation)
    admin_a: dict[str, str]  # a tenant admin placed in unit A
    other_petitioner: dict[str, str]
    reader: dict[str, str]  # integrator key with petitions:read
    open311_key: str
    complaint: dict[str, Any]  # assigned to the sub-unit of A, with a named petitioner and a representative
    accusation: dict[str, Any]  # against unit A, assigned to unit B
    ids: dict[str, str] = field(default_factory=dict)


async def office_routes(client: Any, uni: University, pid: str, unit: str) -> None:
    for body in ({"action": "accept", "version": 1}, {"action": "assign", "version": 2, "org_unit_id": unit}):
        r = await client.post(f"/api/v1/petitions/{pid}/actions", json=body, headers=uni.officer)
        assert r.status_code == 201, r.text


async def staff_of(client: Any, uni: University, role: str, unit: str) -> tuple[dict[str, str], str]:
    headers, account_id = await make_account(client, uni.tenant, role)
    await link_person(client, uni.tenant, account_id, unit)
    return headers, account_id


async def submit(client: Any, uni: University, **overrides: Any) -> dict[str, Any]:
    body = petition_body(
        petitioner={"name": NAME, "phone": PHONE, "number": NUMBER},
        participants=2,
        representatives=[{"name": REP_NAME, "contact": REP_PHONE}],
        **overrides,
    )
    r = await client.post("/api/v1/petitions", json=body, headers=uni.petitioner)
    assert r.status_code == 201, r.text
    return r.json()


async def make_world(client: Any, make_tenant: Any) -> World:
    uni = await make_university(client, make_tenant)
    sub = await make_unit(client, uni.tenant, "center", "HQGLC-SUB", uni.unit_a)
    staff_a, a_id = await staff_of(client, uni, "staff", uni.unit_a)
    staff_sub, _ = await staff_of(client, uni, "staff", sub)
    staff_b, b_id = await staff_of(client, uni, "staff", uni.unit_b)
    staff_post, post_id = await staff_of(client, uni, "staff", uni.unit_b)
    person = (await client.get("/api/v1/org/people", params={"account_id": post_id}, headers=uni.admin)).json()
    r = await client.post(
        f"/api/v1/org/people/{person['items'][0]['id']}/posts", json={"unit_id": uni.unit_a}, headers=uni.admin
    )
    assert r.status_code == 201, r.text
    officer_a, _ = await staff_of(client, uni, "petition_officer", uni.unit_a)
    admin_a, _ = await staff_of(client, uni, "tenant_admin", uni.unit_a)
    other, _ = await make_account(client, uni.tenant, "petitioner")
    r = await client.post("/api/v1/api-keys", json={"name": "r", "scopes": ["petitions:read"]}, headers=uni.admin)
    reader = {"X-API-Key": r.json()["secret"]}
    r = await client.post("/api/v1/api-keys", json={"name": "311", "scopes": ["open311"]}, headers=uni.admin)
    open311_key = r.json()["secret"]
    complaint = await submit(client, uni)
    await office_routes(client, uni, complaint["id"], sub)
    accusation = await submit(client, uni, kind="accusation", subject="举报宿管", accused_org_unit_id=uni.unit_a)
    await office_routes(client, uni, accusation["id"], uni.unit_b)
    return World(
        uni,
        sub,
        staff_a,
        staff_sub,
        staff_b,
        staff_post,
        officer_a,
        admin_a,
        other,
        reader,
        open311_key,
        complaint,
        accusation,
        {"staff_a": a_id, "staff_b": b_id},
    )


@pytest.fixture
async def world(client: Any, make_tenant: Any) -> World:
    return await make_world(client, make_tenant)


# --- the route table --------------------------------------------------------------------------------------------

Probe = Callable[[Any, World, dict[str, Any], dict[str, str]], Awaitable[Any]]


def _one(method: str, path: str, body: Callable[[dict[str, Any]], Any] | None = None) -> Probe:
    async def probe(client: Any, w: World, petition: dict[str, Any], headers: dict[str, str]) -> Any:
        kwargs: dict[str, Any] = {"headers": headers}
        if body is not None:
            kwargs["json"] = body(petition)
        return await client.request(method, path.format(id=petition["id"]), **kwargs)

    return probe


def _lookup(route: str, extra: dict[str, Any] | None = None) -> Probe:
    """A public route by tracking number and lookup code; ``headers`` is the code to use ({"code": ...})."""

    async def probe(client: Any, w: World, petition: dict[str, Any], headers: dict[str, str]) -> Any:
        body = {"tracking_number": petition["tracking_number"], "lookup_code": headers["code"], **(extra or {})}
        if route == "attachments":
            return await client.post(
                f"/api/v1/t/{w.uni.slug}/petitions/attachments",
                data={"tracking_number": body["tracking_number"], "lookup_code": body["lookup_code"]},
                files={"files": ("a.png", b"\x89PNG\r\n\x1a\n" + b"0" * 64, "image/png")},
            )
        return await client.post(f"/api/v1/t/{w.uni.slug}/petitions/{route}", json=body)

    return probe


def _open311(resource: str) -> Probe:
    """Open311 reads; ``headers`` carries the api_key to use, if any ({"api_key": ...})."""

    async def probe(client: Any, w: World, petition: dict[str, Any], headers: dict[str, str]) -> Any:
        name = resource.format(number=petition["tracking_number"], id=petition["id"])
        return await client.get(f"/open311/v2/{name}", params={"jurisdiction_id": w.uni.slug, **headers})

    return probe


async def _first_id(client: Any, w: World, petition: dict[str, Any], what: str) -> str:
    """The id of the petition's first notice or attachment (read as the admin), or a random one."""
    r = await client.get(f"/api/v1/petitions/{petition['id']}/{what}", headers=w.uni.admin)
    items = r.json() if r.status_code == 200 else []
    return str(items[0]["id"]) if items else str(uuid.uuid4())


def _file(what: str, suffix: str = "") -> Probe:
    """GET one notice or attachment of the petition (``what``: notices or attachments)."""

    async def probe(client: Any, w: World, petition: dict[str, Any], headers: dict[str, str]) -> Any:
        item = await _first_id(client, w, petition, what)
        return await client.get(f"/api/v1/petitions/{petition['id']}/{what}/{item}{suffix}", headers=headers)

    return probe


def _public_notice() -> Probe:
    """Download a notice with the tracking number and lookup code (``headers``: {"code": ...})."""

    async def probe(client: Any, w: World, petition: dict[str, Any], headers: dict[str, str]) -> Any:
        item = await _first_id(client, w, petition, "notices")
        body = {"tracking_number": petition["tracking_number"], "lookup_code": headers["code"]}
        return await client.post(f"/api/v1/t/{w.uni.slug}/petitions/notices/{item}.pdf", json=body)

    return probe


STALE = 999
# Every route that reads or changes an existing petition, with its probe. "one" routes answer about one petition
# (404 out of scope), "list" routes list petitions (out of scope: absent).
PROBES: dict[tuple[str, str], tuple[str, Probe]] = {
    ("GET", "/api/v1/petitions/{petition_id:uuid}"): ("one", _one("GET", "/api/v1/petitions/{id}")),
    ("GET", "/api/v1/petitions/mine/{petition_id:uuid}"): ("one", _one("GET", "/api/v1/petitions/mine/{id}")),
    # A stale version: in scope it is a 409 (nothing changes), out of scope a 404.
    ("POST", "/api/v1/petitions/{petition_id:uuid}/actions"): (
        "one",
        _one("POST", "/api/v1/petitions/{id}/actions", lambda p: {"action": "start", "version": STALE}),
    ),
    ("POST", "/api/v1/petitions/{petition_id:uuid}/identity"): (
        "one",
        _one("POST", "/api/v1/petitions/{id}/identity", lambda p: {"reason_code": "scope-test"}),
    ),
    ("POST", "/api/v1/petitions/escalations"): (
        "one",
        _one("POST", "/api/v1/petitions/escalations", lambda p: {"petition_ids": [p["id"]], "reason_code": "t"}),
    ),
    # Opening an incident from the petition: in scope the next refusal is the missing plan (409), never a 404.
    ("POST", "/api/v1/incidents"): (
        "one",
        _one(
            "POST",
            "/api/v1/incidents",
            lambda p: {"title": "聚集", "facts": "学生聚集", "people_count": 10, "petition_ids": [p["id"]]},
        ),
    ),
    ("GET", "/api/v1/petitions/{petition_id:uuid}/attachments"): (
        "one",
        _one("GET", "/api/v1/petitions/{id}/attachments"),
    ),
    ("GET", "/api/v1/petitions/{petition_id:uuid}/attachments/{attachment_id:uuid}"): ("one", _file("attachments")),
    ("GET", "/api/v1/petitions/{petition_id:uuid}/notices"): ("one", _one("GET", "/api/v1/petitions/{id}/notices")),
    ("GET", "/api/v1/petitions/{petition_id:uuid}/notices/{file:str}"): ("one", _file("notices", ".pdf")),
    ("POST", "/api/v1/t/{slug:str}/petitions/notices"): ("lookup", _lookup("notices")),
    ("POST", "/api/v1/t/{slug:str}/petitions/notices/{file:str}"): ("lookup", _public_notice()),
    ("GET", "/api/v1/petitions"): ("list", _one("GET", "/api/v1/petitions?limit=200")),
    ("GET", "/api/v1/petitions/mine"): ("list", _one("GET", "/api/v1/petitions/mine?limit=200")),
    ("POST", "/api/v1/t/{slug:str}/petitions/status"): ("lookup", _lookup("status")),
    ("POST", "/api/v1/t/{slug:str}/petitions/rating"): ("lookup", _lookup("rating", {"rating": "satisfied"})),
    ("POST", "/api/v1/t/{slug:str}/petitions/review"): ("lookup", _lookup("review")),
    ("POST", "/api/v1/t/{slug:str}/petitions/attachments"): ("lookup", _lookup("attachments")),
    ("GET", "/open311/v2/{name:str}"): ("open311-list", _open311("requests.json")),
    ("GET", "/open311/v2/requests/{name:str}"): ("open311", _open311("requests/{number}.json")),
    ("GET", "/open311/v2/tokens/{name:str}"): ("open311", _open311("tokens/{id}.json")),
}
# Routes of the petition area that read no existing petition (intake, configuration), and where else the ones
# that do are proven.
NOT_ABOUT_ONE_PETITION = {
    ("POST", "/api/v1/petitions"): "intake",
    ("POST", "/api/v1/petitions/register"): "intake (staff registration)",
    ("POST", "/api/v1/t/{slug:str}/petitions"): "intake (public)",
    ("POST", "/open311/v2/{name:str}"): "intake (Open311)",
    ("GET", "/open311/v2/services/{name:str}"): "service definitions",
    ("GET", "/api/v1/petition-categories"): "categories",
    ("POST", "/api/v1/petition-categories"): "categories",
    ("PATCH", "/api/v1/petition-categories/{code:str}"): "categories",
    ("GET", "/api/v1/petition-settings"): "settings (admins)",
    ("PUT", "/api/v1/petition-settings"): "settings (admins)",
    ("GET", "/api/v1/petition-access-log"): "tenant admins only; test_access_log.py",
    ("POST", "/api/v1/petitions/{petition_id:uuid}/notices/{notice_id:uuid}/corrections"): (
        "the office only (a staff role gets 403 before any petition is read); test_notices.py"
    ),
    ("GET", "/api/v1/incidents"): "no petitions in the list rows",
    # The console's pages read through the same services and scope; their 404s: console/test_queue_and_petition.py
    ("GET", "/console/petitions/{petition_id:uuid}"): "console page; console/test_queue_and_petition.py",
    ("POST", "/console/petitions/{petition_id:uuid}/actions"): "console form; console/test_queue_and_petition.py",
    ("POST", "/console/petitions/{petition_id:uuid}/identity"): "console form; console/test_queue_and_petition.py",
    (
        "POST",
        "/console/petitions/{petition_id:uuid}/escalate",
    ): "console form (out of scope: 404); console/test_office_pages.py",
    ("GET", "/console/petitions/{petition_id:uuid}/attachments/{attachment_id:uuid}"): (
        "console file (services.get_attachment); console/test_queue_and_petition.py"
    ),
    ("POST", "/t/{slug:str}/petitions"): "intake (the student's page)",
    ("GET", "/api/v1/incidents/{incident_id:uuid}"): "linked petitions filtered: incidents/test_petitions_*",
}


def petition_routes(app: Any) -> set[tuple[str, str]]:
    from litestar.routes import HTTPRoute

    found = set()
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        if not (
            route.path.startswith(("/api/v1/petition", "/open311/"))
            or "/petitions" in route.path
            or route.path in ("/api/v1/incidents", "/api/v1/incidents/{incident_id:uuid}")
        ):
            continue
        for handler in route.route_handlers:
            found |= {(m, route.path) for m in handler.http_methods if m != "OPTIONS"}
    return found


def test_every_petition_route_has_a_probe_or_a_reason(app: Any) -> None:
    routes = petition_routes(app)
    assert len(routes) > 20
    assert routes == set(PROBES) | set(NOT_ABOUT_ONE_PETITION), (
        routes - set(PROBES) - set(NOT_ABOUT_ONE_PETITION),
        set(PROBES) | set(NOT_ABOUT_ONE_PETITION) - routes,
    )


def _listed(r: Any, petition: dict[str, Any]) -> bool:
    return petition["id"] in r.text or petition["tracking_number"] in r.text


async def test_out_of_scope_is_an_unknown_id_on_every_route_for_every_role(client: Any, world: World) -> None:
    """For each role, an account outside the petition's scope gets what an unknown id gets, and no personal
    data: staff of an unrelated unit (the complaint), another petitioner (the complaint), and, for the office's
    roles, an officer and an admin placed in the accused unit (the accusation, art. 30); staff of the accused
    unit and of a unit below it too."""
    w = world
    unknown = {"id": str(uuid.uuid4()), "tracking_number": "XF-1999-000001"}
    outsiders = [
        ("staff", w.staff_b, w.complaint),
        ("petitioner", w.other_petitioner, w.complaint),
        ("staff", w.staff_a, w.accusation),
        ("staff", w.staff_sub, w.accusation),
        ("petition_officer", w.officer_a, w.accusation),
        ("tenant_admin", w.admin_a, w.accusation),
    ]
    checked = 0
    for key, (kind, probe) in PROBES.items():
        if kind not in ("one", "list"):
            continue
        for role, headers, petition in outsiders:
            r = await probe(client, w, petition, headers)
            assert not leaked(r.text), (key, role, r.text)
            if kind == "list":
                if r.status_code == 200:
                    assert not _listed(r, petition), (key, role)
                else:
                    assert r.status_code == 403 and role == "petitioner", (key, role, r.status_code)
            else:
                blind = await probe(client, w, unknown, headers)
                assert (r.status_code, r.json().get("type")) == (blind.status_code, blind.json().get("type")), (
                    key,
                    role,
                    r.text,
                    blind.text,
                )
                # Staff and the office's roles may call every petition route: out of scope is always a 404.
                assert r.status_code == 404 or role == "petitioner", (key, role, r.status_code)
            checked += 1
    assert checked >= 40


async def test_in_scope_callers_get_the_petition_and_its_data(client: Any, world: World) -> None:
    """The positive side: the unit's staff (and staff of the unit above, and staff with a secondary post there),
    the office, the admin and the petitioner get 2xx and the personal data; nothing was ever filtered away."""
    w = world
    p = w.complaint
    handlers = {
        "staff of the sub-unit": w.staff_sub,
        "staff of the unit above": w.staff_a,
        "staff with a post in the unit above": w.staff_post,
        "petition officer": w.uni.officer,
        "tenant admin": w.uni.admin,
    }
    detail = PROBES[("GET", "/api/v1/petitions/{petition_id:uuid}")][1]
    listing = PROBES[("GET", "/api/v1/petitions")][1]
    act = PROBES[("POST", "/api/v1/petitions/{petition_id:uuid}/actions")][1]
    reveal = PROBES[("POST", "/api/v1/petitions/{petition_id:uuid}/identity")][1]
    escalate = PROBES[("POST", "/api/v1/petitions/escalations")][1]
    incident = PROBES[("POST", "/api/v1/incidents")][1]
    for who, headers in handlers.items():
        r = await detail(client, w, p, headers)
        assert r.status_code == 200, (who, r.text)
        body = r.json()
        assert body["petitioner"] == {"name": NAME, "phone": PHONE, "number": NUMBER, "account_id": w.uni.petitioner_id}
        assert body["representatives"] == [{"name": REP_NAME, "contact": REP_PHONE}]
        assert _listed(await listing(client, w, p, headers), p), who
        stale = await act(client, w, p, headers)
        assert stale.status_code == 409 and stale.json()["type"].endswith("/stale-version"), (who, stale.text)
        assert (await escalate(client, w, p, headers)).status_code == 201, who
        opened = await incident(client, w, p, headers)
        assert opened.status_code == 409 and opened.json()["type"].endswith("/no-plan"), (who, opened.text)
        revealed = await reveal(client, w, p, headers)
        assert revealed.status_code == (200 if who in ("petition officer", "tenant admin") else 403), (who, revealed)
    # The petitioner: their own petition, with their data, on the routes open to them.
    own = await detail(client, w, p, w.uni.petitioner)
    assert own.status_code == 200 and own.json()["petitioner"]["name"] == NAME
    mine = PROBES[("GET", "/api/v1/petitions/mine/{petition_id:uuid}")][1]
    assert (await mine(client, w, p, w.uni.petitioner)).json()["petitioner"]["phone"] == PHONE
    assert _listed(await PROBES[("GET", "/api/v1/petitions/mine")][1](client, w, p, w.uni.petitioner), p)
    # The accusation: its handling unit (B) and the office see it, sealed; the office reveals it explicitly.
    acc = w.accusation
    for headers in (w.staff_b, w.uni.officer, w.uni.admin, w.reader):
        r = await detail(client, w, acc, headers)
        assert r.status_code == 200 and r.json()["identity_sealed"] is True and not leaked(r.text)
        assert _listed(await listing(client, w, acc, headers), acc)
    r = await reveal(client, w, acc, w.uni.officer)
    assert r.status_code == 200 and r.json()["petitioner"]["name"] == NAME
    # A key reads every petition, never an identity.
    r = await detail(client, w, p, w.reader)
    assert r.status_code == 200 and r.json()["petitioner"] is None and not leaked(r.text)


async def test_public_and_open311_routes_follow_their_own_scope(clock: Any, client: Any, world: World) -> None:
    """Lookup-code routes: the code is the scope (a wrong code answers like an unknown number). Open311:
    anonymous reads never show an accusation; a key reads the university's petitions without identities."""
    w = world
    unknown = {"id": str(uuid.uuid4()), "tracking_number": "XF-1999-000001"}
    for key, (kind, probe) in PROBES.items():
        if kind != "lookup":
            continue
        clock.shift(61)  # a new minute of the guessing limits for each route
        wrong = await probe(client, w, w.complaint, {"code": "WRONGCODE234"})
        blind = await probe(client, w, unknown, {"code": "WRONGCODE234"})
        assert wrong.status_code == blind.status_code == 404 and not leaked(wrong.text), key
        right = await probe(client, w, w.complaint, {"code": w.complaint["lookup_code"]})
        # In scope: 2xx, or the workflow's refusal in this state (assigned: nothing to rate or review yet).
        assert right.status_code in (200, 201, 409), (key, right.text)
        assert not leaked(right.text), key
    listing = PROBES[("GET", "/open311/v2/{name:str}")][1]
    anonymous = await listing(client, w, w.complaint, {})
    assert anonymous.status_code == 200 and _listed(anonymous, w.complaint)
    assert not _listed(anonymous, w.accusation) and not leaked(anonymous.text)
    keyed = await listing(client, w, w.accusation, {"api_key": w.open311_key})
    assert _listed(keyed, w.accusation) and not leaked(keyed.text)
    for resource in ("requests/{number}.json", "tokens/{id}.json"):
        probe = _open311(resource)
        hidden = await probe(client, w, w.accusation, {})
        blind = await probe(client, w, unknown, {})
        assert hidden.status_code == blind.status_code == 404, (resource, hidden.text)
        assert (await probe(client, w, w.complaint, {})).status_code == 200, resource
        shown = await probe(client, w, w.accusation, {"api_key": w.open311_key})
        assert shown.status_code == 200 and w.accusation["tracking_number"] in shown.text, resource
        assert not leaked(shown.text)


# --- lists and counts -------------------------------------------------------------------------------------------


async def _ids(client: Any, headers: dict[str, str], **params: Any) -> set[str]:
    r = await client.get("/api/v1/petitions", params={"limit": 200, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return {p["id"] for p in r.json()["items"]}


async def test_a_staff_list_is_exactly_its_units_petitions_and_a_transfer_takes_one_away(
    client: Any, world: World
) -> None:
    w = world
    at_a = (await submit(client, w.uni, subject="甲处宿舍"))["id"]
    await office_routes(client, w.uni, at_a, w.uni.unit_a)
    at_b = (await submit(client, w.uni, subject="乙处食堂", category="canteen"))["id"]
    await office_routes(client, w.uni, at_b, w.uni.unit_b)
    unrouted = (await submit(client, w.uni, subject="尚未交办"))["id"]
    r = await client.post("/api/v1/petitions/register", json=petition_body(channel="visit"), headers=w.staff_a)
    registered = r.json()["id"]
    complaint, accusation = w.complaint["id"], w.accusation["id"]
    everything = {at_a, at_b, unrouted, registered, complaint, accusation}
    # Staff of A: A's, the sub-unit's (below A) and what they registered; never the accusation against A.
    assert await _ids(client, w.staff_a) == {at_a, complaint, registered}
    assert await _ids(client, w.staff_sub) == {complaint}
    assert await _ids(client, w.staff_b) == {at_b, accusation}
    # A secondary post in A adds A's subtree to the primary unit B's petitions (the accusation stays sealed
    # from that account: it now belongs to the accused unit).
    assert await _ids(client, w.staff_post) == {at_a, at_b, complaint}
    assert await _ids(client, w.uni.officer) == everything
    assert await _ids(client, w.uni.admin) == everything
    assert await _ids(client, w.officer_a) == everything - {accusation}
    # Filters and search run inside the scope, not after it.
    assert await _ids(client, w.staff_a, q="甲处") == {at_a}
    assert await _ids(client, w.staff_b, q="甲处") == set()
    assert await _ids(client, w.staff_a, org_unit_id=w.uni.unit_b) == set()
    assert await _ids(client, w.staff_a, state="received") == {registered}
    # Keyset pages of one item each add up to the same set.
    seen, cursor = set(), None
    while True:
        params: dict[str, Any] = {"limit": 1, **({"cursor": cursor} if cursor else {})}
        page = (await client.get("/api/v1/petitions", params=params, headers=w.staff_a)).json()
        seen |= {p["id"] for p in page["items"]}
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == {at_a, complaint, registered}
    # Staff of A start it and transfer it to B: it leaves A's scope at once and arrives in B's.
    detail = (await client.get(f"/api/v1/petitions/{at_a}", headers=w.staff_a)).json()
    started = await client.post(
        f"/api/v1/petitions/{at_a}/actions", json={"action": "start", "version": detail["version"]}, headers=w.staff_a
    )
    assert started.status_code == 201, started.text
    moved = await client.post(
        f"/api/v1/petitions/{at_a}/actions",
        json={"action": "transfer", "version": started.json()["version"], "org_unit_id": w.uni.unit_b},
        headers=w.staff_a,
    )
    assert moved.status_code == 201, moved.text
    # The answer to the transfer itself no longer carries the petitioner's data.
    assert moved.json()["petitioner"] is None and not leaked(moved.text)
    assert at_a not in await _ids(client, w.staff_a)
    assert at_a in await _ids(client, w.staff_b)
    assert (await client.get(f"/api/v1/petitions/{at_a}", headers=w.staff_a)).status_code == 404
    back = await client.post(
        f"/api/v1/petitions/{at_a}/actions", json={"action": "reply", "version": 1}, headers=w.staff_a
    )
    assert back.status_code == 404
    # The office still reads the history, the transfer by A's staff included.
    journal = (await client.get("/api/v1/journal", params={"limit": 500}, headers=w.uni.admin)).json()["items"]
    transfer = [e for e in journal if e["petition_id"] == at_a and e["type"] == "petition.transferred"]
    assert len(transfer) == 1 and transfer[0]["actor_id"] == w.ids["staff_a"]
    assert transfer[0]["payload"]["from_unit"] == w.uni.unit_a


async def test_ending_a_secondary_post_ends_its_scope(client: Any, world: World) -> None:
    w = world
    assert w.complaint["id"] in await _ids(client, w.staff_post)
    people = (await client.get("/api/v1/org/people", params={"unit_id": w.uni.unit_b}, headers=w.uni.admin)).json()
    for person in people["items"]:
        posts = (await client.get(f"/api/v1/org/people/{person['id']}/posts", headers=w.uni.admin)).json()
        for post in posts:
            r = await client.delete(f"/api/v1/org/people/{person['id']}/posts/{post['unit_id']}", headers=w.uni.admin)
            assert r.status_code == 204
    assert w.complaint["id"] not in await _ids(client, w.staff_post)
    r = await client.get(f"/api/v1/petitions/{w.complaint['id']}", headers=w.staff_post)
    assert r.status_code == 404 and not leaked(r.text)


async def test_secondary_posts_are_managed_by_admins_and_checked(client: Any, world: World) -> None:
    w = world
    people = (await client.get("/api/v1/org/people", params={"unit_id": w.uni.unit_b}, headers=w.uni.admin)).json()
    person = people["items"][0]["id"]
    path = f"/api/v1/org/people/{person}/posts"
    r = await client.post(path, json={"unit_id": w.sub, "title_zh": "兼职干事"}, headers=w.uni.admin)
    assert r.status_code == 201 and r.json()["unit_id"] == w.sub and r.json()["title_zh"] == "兼职干事"
    again = await client.post(path, json={"unit_id": w.sub}, headers=w.uni.admin)
    assert again.status_code == 409 and again.json()["type"].endswith("/post-exists")
    primary = await client.post(path, json={"unit_id": w.uni.unit_b}, headers=w.uni.admin)
    assert primary.status_code == 409
    nowhere = await client.post(path, json={"unit_id": str(uuid.uuid4())}, headers=w.uni.admin)
    assert nowhere.status_code == 422
    assert (await client.post(path, json={"unit_id": w.uni.unit_a}, headers=w.staff_a)).status_code == 403
    assert w.sub in [p["unit_id"] for p in (await client.get(path, headers=w.staff_a)).json()]
    gone = await client.delete(f"{path}/{uuid.uuid4()}", headers=w.uni.admin)
    assert gone.status_code == 404
    assert (await client.get(f"/api/v1/org/people/{uuid.uuid4()}/posts", headers=w.uni.admin)).status_code == 404


async def test_attachments_are_read_in_scope_as_sandboxed_files(client: Any, world: World) -> None:
    w = world
    png = b"\x89PNG\r\n\x1a\n" + b"1" * 80
    r = await client.post(
        f"/api/v1/t/{w.uni.slug}/petitions/attachments",
        data={"tracking_number": w.complaint["tracking_number"], "lookup_code": w.complaint["lookup_code"]},
        files={"files": ("photo.png", png, "image/png")},
    )
    assert r.status_code == 201, r.text
    attachment_id = r.json()[0]["id"]
    base = f"/api/v1/petitions/{w.complaint['id']}/attachments"
    for headers in (w.staff_sub, w.uni.officer, w.uni.petitioner, w.reader):
        listed = await client.get(base, headers=headers)
        assert listed.status_code == 200 and [a["id"] for a in listed.json()] == [attachment_id], listed.text
        assert listed.json()[0]["media_type"] == "image/png" and listed.json()[0]["size"] == len(png)
        got = await client.get(f"{base}/{attachment_id}", headers=headers)
        assert got.status_code == 200 and got.content == png
        assert got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-security-policy"] == "sandbox"
        assert got.headers["content-disposition"] == f'inline; filename="{attachment_id}.png"'
    # Staff of an unrelated unit: the list and the file are an unknown petition's; another petition's file id
    # under this petition is an unknown file.
    assert (await client.get(base, headers=w.staff_b)).status_code == 404
    assert (await client.get(f"{base}/{attachment_id}", headers=w.staff_b)).status_code == 404
    other = f"/api/v1/petitions/{w.accusation['id']}/attachments/{attachment_id}"
    assert (await client.get(other, headers=w.uni.officer)).status_code == 404
