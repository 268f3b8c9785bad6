"""My queue and a petition's page: the API's scope rule and workflow decide what is listed and which forms
exist; out of scope is a 404 page; a stale form shows the current state."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from tests.support.casework import University, make_university, petition_body
from tests.support.forms import console_account as _account
from tests.support.forms import signed_in
from tests.support.platform import FIXED_NOW


@dataclass
class Desk:
    uni: University
    officer: tuple[str, str]  # email, password (already changed)
    staff_a: tuple[str, str]
    staff_b: tuple[str, str]


@pytest.fixture
async def desk(client: Any, make_tenant: Any) -> Desk:
    uni = await make_university(client, make_tenant)
    return Desk(
        uni,
        await _account(client, uni, "petition_officer", None),
        await _account(client, uni, "staff", uni.unit_a),
        await _account(client, uni, "staff", uni.unit_b),
    )


async def submit(client: Any, uni: University, **overrides: Any) -> dict[str, Any]:
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(**overrides))
    assert r.status_code == 201, r.text
    return r.json()


def version_of(html: str) -> str:
    found = re.search(r'name="version" value="(\d+)"', html)
    assert found, html[:3000]
    return found.group(1)


def actions_in(html: str) -> list[str]:
    return re.findall(r'name="action" value="([a-z_]+)"', html)


async def test_the_office_accepts_and_assigns_and_only_that_unit_sees_it(web, client, desk: Desk):
    uni = desk.uni
    p = await submit(client, uni, subject="热水供应不足请处理")
    office = await signed_in(web, uni, desk.officer)
    r = await office.get("/console/queue")
    assert r.status_code == 200 and p["tracking_number"] in r.text and "热水供应不足请处理" in r.text
    assert "已收到 <strong>1</strong>" in r.text  # the count per state
    r = await office.get(f"/console/petitions/{p['id']}")
    assert r.status_code == 200
    # Exactly the actions of the workflow table for "received", as forms.
    assert actions_in(r.text) == ["accept", "not_accept"]
    r = await office.post(f"/console/petitions/{p['id']}/actions", {"action": "accept", "version": version_of(r.text)})
    assert r.status_code == 303 and r.headers["location"].endswith("?done=1")
    r = await office.get(r.headers["location"])
    assert "已受理" in r.text and actions_in(r.text) == ["assign"]
    # The assign form offers the org chart's units.
    assert f'value="{uni.unit_a}"' in r.text and f'value="{uni.unit_b}"' in r.text
    r = await office.post(
        f"/console/petitions/{p['id']}/actions",
        {"action": "assign", "version": version_of(r.text), "org_unit_id": uni.unit_a},
    )
    assert r.status_code == 303
    r = await office.get(f"/console/petitions/{p['id']}")
    # The timeline, in the event catalogue's words.
    assert "收到信访事项" in r.text and "信访事项已受理" in r.text and "信访事项已交首办单位" in r.text

    a = await signed_in(web, uni, desk.staff_a)
    r = await a.get("/console/queue")
    assert p["tracking_number"] in r.text
    r = await a.get(f"/console/petitions/{p['id']}")
    assert actions_in(r.text) == ["start", "transfer"]

    # The unrelated unit: not in the queue, not in a search, and by URL a 404 page.
    b = await signed_in(web, uni, desk.staff_b)
    r = await b.get("/console/queue")
    assert r.status_code == 200 and p["tracking_number"] not in r.text
    r = await b.get("/console/queue", params={"q": "热水供应"})
    assert p["tracking_number"] not in r.text
    for path in (f"/console/petitions/{p['id']}", f"/console/petitions/{uuid.uuid4()}"):
        r = await b.get(path)
        assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")
    r = await b.get(f"/console/petitions/{p['id']}")
    r = await b.post(f"/console/petitions/{p['id']}/actions", {"action": "start", "version": "3"})
    assert r.status_code == 404


async def test_search_filters_and_paging(web, client, desk: Desk):
    uni = desk.uni
    water = await submit(client, uni, subject="热水问题", content="三号楼热水不足")
    food = await submit(client, uni, subject="食堂价格", content="食堂饭菜涨价", category="canteen", kind="suggestion")
    office = await signed_in(web, uni, desk.officer)
    r = await office.get("/console/queue", params={"q": "热水"})
    assert water["tracking_number"] in r.text and food["tracking_number"] not in r.text
    r = await office.get("/console/queue", params={"kind": "suggestion"})
    assert food["tracking_number"] in r.text and water["tracking_number"] not in r.text
    r = await office.get("/console/queue", params={"category": "dormitory", "state": "received"})
    assert water["tracking_number"] in r.text and food["tracking_number"] not in r.text
    r = await office.get("/console/queue", params={"channel": "mobile", "overdue": "no"})
    assert water["tracking_number"] in r.text and food["tracking_number"] in r.text
    # Received dates are the university's calendar days (submitted just now, today in Shanghai).
    from zoneinfo import ZoneInfo

    from tenants.clock import today

    day = today(ZoneInfo("Asia/Shanghai"))
    r = await office.get("/console/queue", params={"from": day.isoformat(), "to": day.isoformat()})
    assert water["tracking_number"] in r.text
    r = await office.get("/console/queue", params={"to": (day - timedelta(days=1)).isoformat()})
    assert water["tracking_number"] not in r.text
    # Bad filters are a 4xx page, never a 500.
    for bad in ({"state": "nope"}, {"unit": "not-an-id"}, {"kind": "x"}, {"cursor": "zz"}, {"from": "yesterday"}):
        r = await office.get("/console/queue", params=bad)
        assert r.status_code in (400, 422) and r.headers["content-type"].startswith("text/html"), bad


async def test_keyset_paging(web, client, desk: Desk, monkeypatch):
    from service.console import staff

    monkeypatch.setattr(staff, "PAGE_SIZE", 2)
    uni = desk.uni
    numbers = [(await submit(client, uni, subject=f"第{i}件"))["tracking_number"] for i in range(3)]
    office = await signed_in(web, uni, desk.officer)
    r = await office.get("/console/queue")
    assert numbers[2] in r.text and numbers[1] in r.text and numbers[0] not in r.text
    nxt = re.search(r'href="(/console/queue\?cursor=[^"]+)" rel="next"', r.text)
    assert nxt
    r = await office.get(nxt.group(1).replace("&amp;", "&"))
    assert numbers[0] in r.text and numbers[2] not in r.text


async def test_clocks_are_coloured_by_urgency_in_the_universitys_zone(clock, web, client, desk: Desk):
    uni = desk.uni
    p = await submit(client, uni)
    # Received 18 Nov 10:00 in Shanghai: acceptance due 15 days later, shown in local time.
    clock.move_to(FIXED_NOW + timedelta(days=13))
    office = await signed_in(web, uni, desk.officer)
    r = await office.get("/console/queue")
    assert p["tracking_number"] in r.text, (r.status_code, r.headers, r.text[-3000:])
    row = r.text[r.text.index(p["tracking_number"]) :]
    assert 'class="due soon"' in row[:2000] and "3天内到期" in row[:2000]
    clock.move_to(FIXED_NOW + timedelta(days=16))
    office = await signed_in(web, uni, desk.officer)
    # (Not through the overdue filter: the list service compares with the database's now(), not the clock.)
    r = await office.get("/console/queue")
    assert p["tracking_number"] in r.text, (r.status_code, r.headers, r.text[-3000:])
    row = r.text[r.text.index(p["tracking_number"]) :]
    assert 'class="due overdue"' in row[:2000] and "已超期" in row[:2000]
    assert "2026-11-18 10:" in row[:2000]  # received, in Shanghai time (02:00 UTC)


async def test_a_stale_form_shows_the_current_state_not_an_error(web, client, desk: Desk):
    uni = desk.uni
    p = await submit(client, uni)
    first = await signed_in(web, uni, desk.officer)
    second = await signed_in(web, uni, desk.officer)
    r1 = await first.get(f"/console/petitions/{p['id']}")
    await second.get(f"/console/petitions/{p['id']}")
    r = await first.post(f"/console/petitions/{p['id']}/actions", {"action": "accept", "version": version_of(r1.text)})
    assert r.status_code == 303
    r = await second.post(
        f"/console/petitions/{p['id']}/actions", {"action": "not_accept", "version": "1", "reason": "重复"}
    )
    assert r.status_code == 409 and "已被他人更新" in r.text
    assert "已受理" in r.text and actions_in(r.text) == ["assign"]


async def test_a_refused_action_changes_nothing_and_says_what_is_missing(web, client, desk: Desk):
    uni = desk.uni
    p = await submit(client, uni)
    office = await signed_in(web, uni, desk.officer)
    r = await office.get(f"/console/petitions/{p['id']}")
    r = await office.post(f"/console/petitions/{p['id']}/actions", {"action": "not_accept", "version": "1"})
    assert r.status_code == 422 and "reason" in r.text
    r = await office.get(f"/console/petitions/{p['id']}")
    assert actions_in(r.text) == ["accept", "not_accept"] and version_of(r.text) == "1"
    # An action the state does not allow: the page, with the reason, never a 500.
    r = await office.post(f"/console/petitions/{p['id']}/actions", {"action": "close", "version": "1"})
    assert r.status_code == 409 and "已收到" in r.text
    r = await office.post(f"/console/petitions/{p['id']}/actions", {"action": "fly", "version": "1"})
    assert r.status_code == 400


async def test_the_sealed_identity_of_an_accusation_is_revealed_by_the_office_with_a_reason(web, client, desk: Desk):
    uni = desk.uni
    p = await submit(
        client, uni, kind="accusation", petitioner={"name": "举报人甲", "phone": "13911112222"}, subject="举报"
    )
    office = await signed_in(web, uni, desk.officer)
    r = await office.get(f"/console/petitions/{p['id']}")
    assert "举报人甲" not in r.text and "已密封" in r.text
    r = await office.post(f"/console/petitions/{p['id']}/identity", {"reason_code": "not-a-listed-reason"})
    assert r.status_code == 422 and "举报人甲" not in r.text
    r = await office.post(f"/console/petitions/{p['id']}/identity", {"reason_code": "investigation"})
    assert r.status_code == 200 and "举报人甲" in r.text and "13911112222" in r.text
    r = await office.get(f"/console/petitions/{p['id']}")
    assert "举报人甲" not in r.text and "信访人的保密身份已被查看" in r.text  # journaled, shown in the timeline


PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\xff\xff?\x00\x05\xfe\x02\xfe\xa7\x35\x81\x84\x00\x00\x00\x00IEND\xaeB`\x82"
)


async def test_attachments_are_listed_and_served_sandboxed_in_scope_only(web, client, desk: Desk):
    uni = desk.uni
    p = await submit(client, uni)
    r = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/attachments",
        data={"tracking_number": p["tracking_number"], "lookup_code": p["lookup_code"]},
        files={"files": ("a.png", PNG, "image/png")},
    )
    assert r.status_code == 201, r.text
    attachment = r.json()[0]["id"]
    office = await signed_in(web, uni, desk.officer)
    r = await office.get(f"/console/petitions/{p['id']}")
    link = f"/console/petitions/{p['id']}/attachments/{attachment}"
    assert link in r.text and f'<img class="preview" src="{link}"' in r.text  # images previewed
    r = await office.get(link)
    assert r.status_code == 200 and r.content == PNG and r.headers["content-security-policy"] == "sandbox"
    b = await signed_in(web, uni, desk.staff_b)
    assert (await b.get(link)).status_code == 404
