"""The bureau viewer's API on a small exact fixture: three universities of Qinghai (630000, one registered under
a prefecture code 630100) and one of Ningxia (640000), with k = 10.

Qinghai, this quarter (every petition accepted the day it arrived):
    qa1: 10 complaints (dormitory) + 3 suggestions (teaching), the suggestions assigned to a college, replied
         "supported" (adopted)
    qa2: 4 complaints (dormitory)
    qa3: 11 suggestions (teaching)
Ningxia: qb1: 12 complaints (dormitory).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.support.platform import FIXED_NOW, auth, sign_in

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class Uni:
    id: uuid.UUID
    slug: str
    headers: dict[str, str]


async def _university(client: Any, platform: dict[str, str], province: str, tag: str) -> Uni:
    slug = f"{tag}-{uuid.uuid4().hex[:8]}"
    r = await client.post(
        "/api/v1/platform/tenants",
        json={"slug": slug, "name_zh": f"{tag}大学", "name_en": f"{tag} University", "province_code": province,
              "timezone": "Asia/Shanghai", "admin_email": f"admin@{slug}.edu.cn"},
        headers=platform,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    body = r.json()
    headers = (await sign_in(client, slug, body["admin"]["email"], body["admin"]["password"])).headers
    units: dict[str, str] = {}
    for kind, code, parent in (("university", "ROOT", None), ("office", "HQ", "ROOT"), ("college", "CS", "ROOT")):
        r = await client.post(
            "/api/v1/org/units",
            json={"kind": kind, "code": code, "name_zh": code, "name_en": code, "parent_id": units.get(parent or "")},
            headers=headers,
        )
        assert r.status_code == 201, r.text
        units[code] = r.json()["id"]
    for code, unit in (("dormitory", "HQ"), ("teaching", "CS")):
        r = await client.post(
            "/api/v1/petition-categories",
            json={"code": code, "name_zh": code, "name_en": code, "default_org_unit_id": units[unit]},
            headers=headers,
        )
        assert r.status_code == 201, r.text
    return Uni(uuid.UUID(body["tenant"]["id"]), slug, headers)


async def _petitions(db: Any, uni: Uni, kind: str, category: str, n: int, *, adopt: bool = False) -> None:
    """``n`` petitions submitted and accepted through the petition services (and, with ``adopt``, replied
    "supported")."""
    from service.petitions import services
    from service.petitions.workflow import Action
    from tenants.identity import Principal, Role

    staff = Principal(kind="account", role=Role.tenant_admin, subject_id=uuid.uuid4(), tenant_id=uni.id)
    for _ in range(n):
        async with db.transaction(uni.id) as session:
            data = services.Submission(kind=kind, category=category, subject="主题", content="内容", channel="online",
                                       anonymous=True)  # fmt: skip
            received = (await services.submit(session, db, data, principal=staff)).petition
            p = await services.get_petition(session, received.id)
            steps = [(Action.accept, services.ActionInput())]
            if adopt:
                steps += [
                    (Action.assign, services.ActionInput()),
                    (Action.start, services.ActionInput()),
                    (Action.reply, services.ActionInput(outcome="supported", opinion="采纳")),
                ]
            for action, payload in steps:
                p = await services.act(session, p.id, action, payload, principal=staff, version=p.version, petition=p)


async def _viewer(client: Any, platform: dict[str, str], province: str) -> dict[str, str]:
    email = f"bureau-{uuid.uuid4().hex[:8]}@edu.gov.cn"
    r = await client.post(
        "/api/v1/platform/accounts",
        json={"email": email, "password": "bureau-password-1", "role": "bureau_viewer", "province_code": province},
        headers=platform,
    )
    assert r.status_code == 201, r.text
    return (await sign_in(client, None, email, "bureau-password-1")).headers


@dataclass
class Fixture:
    qa1: Uni
    qa2: Uni
    qa3: Uni
    qb1: Uni
    viewer_a: dict[str, str]
    viewer_b: dict[str, str]
    platform: dict[str, str]
    year: int
    quarter: int


@pytest.fixture(scope="module")
def module_clock() -> Iterator[None]:
    """The module's universities, petitions and questions all live at the fixed test instant."""
    with time_machine.travel(FIXED_NOW, tick=True):
        yield


@pytest.fixture(scope="module")
async def world(module_clock: None, client: Any, db: Any, platform_token: str) -> Fixture:
    platform = auth(platform_token)
    qa1 = await _university(client, platform, "630000", "qa1")
    qa2 = await _university(client, platform, "630000", "qa2")
    qa3 = await _university(client, platform, "630100", "qa3")
    qb1 = await _university(client, platform, "640000", "qb1")
    await _petitions(db, qa1, "complaint", "dormitory", 10)
    await _petitions(db, qa1, "suggestion", "teaching", 3, adopt=True)
    await _petitions(db, qa2, "complaint", "dormitory", 4)
    await _petitions(db, qa3, "suggestion", "teaching", 11)
    await _petitions(db, qb1, "complaint", "dormitory", 12)
    # The worker's job: fold the journals into the province cells the bureau routes read.
    from analytics.province import jobs as province_jobs

    await province_jobs.fold_all(db, [u.id for u in (qa1, qa2, qa3, qb1)])
    now = FIXED_NOW.astimezone(ZoneInfo("Asia/Shanghai"))
    return Fixture(
        qa1, qa2, qa3, qb1, await _viewer(client, platform, "630000"), await _viewer(client, platform, "640000"),
        platform, now.year, (now.month - 1) // 3 + 1,
    )  # fmt: skip


def _counts_in(value: Any) -> list[int]:
    """Every count of a statistics table (cells, totals, items), wherever it sits in the JSON."""
    if isinstance(value, dict):
        return [n for k, v in value.items() if k not in {"university", "category", "unit_kind"} for n in _counts_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in _counts_in(v)]
    return [value] if isinstance(value, int) and not isinstance(value, bool) else []


def _by_slug(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["slug"]: r for r in rows}


async def test_aggregates_hand_checked_with_complementary_suppression(client: Any, world: Fixture) -> None:
    r = await client.get(
        "/api/v1/bureau/aggregates", params={"year": world.year, "quarter": world.quarter}, headers=world.viewer_a
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["province"]["code"] == "630000" and body["disclosure_k"] == 10
    unis = _by_slug(body["universities"])
    # Only Qinghai's universities, the prefecture-coded one included.
    assert set(unis) == {world.qa1.slug, world.qa2.slug, world.qa3.slug}
    # Decisions [13, 4, 11], total 28: 4 is small; 11 is its cheapest complement; 13 and the total are published.
    decisions = {s: u["metrics"]["decisions"] for s, u in unis.items()}
    assert decisions == {world.qa1.slug: 13, world.qa2.slug: None, world.qa3.slug: None}
    assert unis[world.qa1.slug]["metrics"]["accept_within_15_share"] == 1.0
    assert unis[world.qa2.slug]["metrics"]["accept_within_15_share"] is None
    assert "decisions" in unis[world.qa3.slug]["suppressed"]
    assert "accept_within_15_share" in unis[world.qa3.slug]["suppressed"]
    totals = body["province_totals"]["metrics"]
    assert totals["decisions"] == 28 and totals["accept_within_15_share"] == 1.0
    # Three conclusions, all at qa1: [3, 0, 0] cannot be published, nor its total.
    assert {u["metrics"]["concluded"] for u in unis.values()} == {None, 0}
    assert unis[world.qa1.slug]["metrics"]["concluded"] is None
    assert totals["concluded"] is None and totals["conclude_on_time_share"] is None
    # Scores come from published figures only: qa1's timeliness rests on its acceptance share alone.
    assert unis[world.qa1.slug]["metrics"]["timeliness_score"] == 100.0
    assert unis[world.qa1.slug]["metrics"]["overall_score"] == 100.0
    assert unis[world.qa2.slug]["metrics"]["overall_score"] is None


async def test_no_published_count_is_small(client: Any, world: Fixture) -> None:
    from analytics.province.statistics import BASES

    for viewer in (world.viewer_a, world.viewer_b):
        for quarter in (None, *range(1, world.quarter + 1)):
            params = {"year": world.year, **({"quarter": quarter} if quarter else {})}
            for route in ("rankings", "statistics"):
                r = await client.get(f"/api/v1/bureau/{route}", params=params, headers=viewer)
                assert r.status_code == 200, (route, params, r.text)
            stats = (await client.get("/api/v1/bureau/statistics", params=params, headers=viewer)).json()
            for table in ("volume", "kinds", "categories", "unit_kinds", "adopted_suggestions"):
                assert not [n for n in _counts_in(stats[table]) if 0 < n < 10], (table, stats[table])
            body = (await client.get("/api/v1/bureau/aggregates", params=params, headers=viewer)).json()
            rows = [u["metrics"] for u in body["universities"]] + [body["province_totals"]["metrics"]]
            for row in rows:
                for base in BASES:
                    assert row[base] is None or row[base] == 0 or row[base] >= 10, (base, row[base])


async def test_university_metrics_and_province_boundary(client: Any, world: Fixture) -> None:
    params = {"year": world.year, "quarter": world.quarter}
    r = await client.get(f"/api/v1/bureau/universities/{world.qa3.slug}/metrics", params=params, headers=world.viewer_a)
    assert r.status_code == 200, r.text
    # The single view carries the province view's suppression (qa3 is qa2's complement).
    assert r.json()["university"]["metrics"]["decisions"] is None
    # Another province's university is as unknown as a made-up one.
    for slug in (world.qb1.slug, "no-such-university"):
        r = await client.get(f"/api/v1/bureau/universities/{slug}/metrics", params=params, headers=world.viewer_a)
        assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")
    r = await client.get(f"/api/v1/bureau/universities/{world.qb1.slug}/metrics", params=params, headers=world.viewer_b)
    assert r.status_code == 200 and r.json()["university"]["metrics"]["decisions"] == 12
    body = (await client.get("/api/v1/bureau/aggregates", params=params, headers=world.viewer_b)).json()
    assert [u["slug"] for u in body["universities"]] == [world.qb1.slug]
    assert body["province"]["code"] == "640000" and body["province_totals"]["metrics"]["decisions"] == 12


async def test_annual_statistics_hand_checked(client: Any, world: Fixture) -> None:
    r = await client.get("/api/v1/bureau/statistics", params={"year": world.year}, headers=world.viewer_a)
    assert r.status_code == 200, r.text
    s = r.json()
    a1, a2, a3 = world.qa1.slug, world.qa2.slug, world.qa3.slug
    rows = {row["university"]: row for row in s["kinds"]["rows"]}
    # kinds (suggestion, accusation, complaint): qa1 [3,0,10|13], qa2 [0,0,4|4], qa3 [11,0,0|11], [14,0,14|28].
    # Small: qa1 suggestions 3, qa2 complaints 4 and its total 4; the cheapest cycle through them hides
    # qa1 complaints (10), qa3 suggestions (11) and qa3's total (11).
    assert rows[a1]["cells"] == {"suggestion": None, "accusation": 0, "complaint": None} and rows[a1]["total"] == 13
    assert rows[a2]["cells"] == {"suggestion": 0, "accusation": 0, "complaint": None} and rows[a2]["total"] is None
    assert rows[a3]["cells"] == {"suggestion": None, "accusation": 0, "complaint": 0} and rows[a3]["total"] is None
    assert s["kinds"]["column_totals"] == {"suggestion": 14, "accusation": 0, "complaint": 14}
    assert s["kinds"]["total"] == 28
    assert s["volume"] == {
        "by_university": [{"university": a, "n": n} for a, n in sorted([(a1, 13), (a2, None), (a3, None)])],
        "total": 28,
    }
    assert s["categories"] == {"items": [{"category": "dormitory", "n": 14}, {"category": "teaching", "n": 14}],
                               "total": 28}  # fmt: skip
    # Handling units (a petition is routed to its category's unit on arrival): teaching → the college (3 + 11),
    # dormitory → the office (10 + 4).
    assert s["unit_kinds"] == {"items": [{"unit_kind": "college", "n": 14}, {"unit_kind": "office", "n": 14}],
                               "total": 28}  # fmt: skip
    # Adopted suggestions [3, 0, 0]: the 3 is small and only the total could complement it.
    adopted = {i["university"]: i["n"] for i in s["adopted_suggestions"]["items"]}
    assert adopted == {a1: None, a2: 0, a3: 0} and s["adopted_suggestions"]["total"] is None


async def test_rankings_rank_only_published_scores(client: Any, world: Fixture) -> None:
    params = {"year": world.year, "quarter": world.quarter}
    r = await client.get("/api/v1/bureau/rankings", params=params, headers=world.viewer_a)
    assert r.status_code == 200, r.text
    ranks = _by_slug(r.json()["rankings"])
    assert ranks[world.qa1.slug]["overall_rank"] == 1 and ranks[world.qa1.slug]["overall_score"] == 100.0
    assert ranks[world.qa2.slug]["overall_rank"] is None and ranks[world.qa3.slug]["overall_rank"] is None


async def test_bureau_tokens_cannot_read_tenant_routes_and_others_cannot_read_bureau_routes(
    client: Any, world: Fixture
) -> None:
    tenant_routes = [
        "/api/v1/petitions",
        f"/api/v1/petitions/{uuid.uuid4()}",
        "/api/v1/org/units",
        "/api/v1/petition-categories",
        "/api/v1/accounts/",
        "/api/v1/platform/tenants",
    ]
    for path in tenant_routes:
        r = await client.get(path, headers=world.viewer_a)
        assert r.status_code == 403, (path, r.status_code)
    params = {"year": world.year}
    for headers in (world.qa1.headers, world.platform):
        assert (await client.get("/api/v1/bureau/aggregates", params=params, headers=headers)).status_code == 403
    assert (await client.get("/api/v1/bureau/aggregates", params=params)).status_code == 401


async def test_bad_periods_are_problems(client: Any, world: Fixture) -> None:
    for params in ({"year": world.year, "quarter": 5}, {"year": "x"}, {}, {"year": 1999}):
        r = await client.get("/api/v1/bureau/aggregates", params=params, headers=world.viewer_a)
        assert r.status_code == 400, (params, r.status_code)
    r = await client.get("/api/v1/bureau/aggregates", params={"year": world.year + 2}, headers=world.viewer_a)
    assert r.status_code == 422


async def test_every_guarded_tenant_route_refuses_a_bureau_token(app: Any, client: Any, world: Fixture) -> None:
    """All routes of the app, not a hand-picked list: any guarded route outside the bureau's own answers 403."""
    from litestar.routes import HTTPRoute

    checked = 0
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith(("/api/v1/bureau", "/api/v1/auth")):
            continue
        # The bureau's console pages, and the console's own-account pages (a bureau viewer signs in there too).
        if route.path.startswith("/console/bureau") or route.path in {"/console/password", "/console/logout"}:
            continue
        for handler in route.route_handlers:
            if not handler.resolve_guards():
                continue  # a public route: a bureau token sees what anyone sees
            path = route.path
            for param in route.path_parameters.values():
                value = str(uuid.uuid4()) if param.type is uuid.UUID else "x"
                path = path.replace("{" + param.full + "}", value)
            for method in sorted(handler.http_methods):
                r = await client.request(method, path, headers=world.viewer_a)
                assert r.status_code == 403, (method, route.path, r.status_code)
                checked += 1
    assert checked > 50


async def test_a_province_without_universities_is_empty_not_an_error(client: Any, world: Fixture) -> None:
    viewer = await _viewer(client, world.platform, "540000")
    params = {"year": world.year}
    body = (await client.get("/api/v1/bureau/aggregates", params=params, headers=viewer)).json()
    assert body["universities"] == [] and body["province_totals"]["metrics"]["decisions"] == 0
    assert body["province"] == {"code": "540000", "name_zh": "西藏自治区", "name_en": "Tibet"}
    s = (await client.get("/api/v1/bureau/statistics", params=params, headers=viewer)).json()
    assert s["volume"] == {"by_university": [], "total": 0} and s["categories"] == {"items": [], "total": 0}
    assert (await client.get("/api/v1/bureau/rankings", params=params, headers=viewer)).json()["rankings"] == []
