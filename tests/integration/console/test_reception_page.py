"""The leaders' reception days on the student's pages (领导接访, public): the same schedule as the public API —
times in the university's zone, the leader by post and never by name, places left — in zh-CN and en."""

from __future__ import annotations

import html
import uuid
from typing import Any

from tests.support.casework import University
from tests.support.forms import Browser
from tests.support.people import make_account


async def _leader(client: Any, uni: University) -> str:
    _, account_id = await make_account(client, uni.tenant, "staff")
    r = await client.post(
        "/api/v1/org/people",
        json={"staff_number": uuid.uuid4().hex[:10], "name_zh": "李校长", "title_zh": "副校长",
              "title_en": "Vice President", "unit_id": uni.unit_a, "account_id": account_id},
        headers=uni.admin,
    )  # fmt: skip
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


async def test_the_schedule_is_public_in_local_time_and_names_no_one(clock, client, web, uni: University):
    b: Browser = web()
    r = await b.get(f"/t/{uni.slug}/reception")
    assert r.status_code == 200 and "近期没有安排领导接访。" in r.text
    leader = await _leader(client, uni)
    r = await client.post(
        "/api/v1/reception-sessions",
        json={"starts_at": "2026-11-20T01:00:00Z", "ends_at": "2026-11-20T03:30:00Z", "place_zh": "行政楼101接待室",
              "place_en": "Admin building, room 101", "leader_person_id": leader, "capacity": 5},
        headers=uni.officer,
    )  # fmt: skip
    assert r.status_code == 201, r.text

    page = (await b.get(f"/t/{uni.slug}/reception")).text
    assert "领导接访日" in page and "行政楼101接待室" in page and "副校长" in page
    assert "09:00–11:30" in page and "2026-11-20" in page  # 01:00 UTC is 09:00 in Shanghai
    assert "5 / 5" in page and "李校长" not in page
    english = html.unescape((await b.get(f"/t/{uni.slug}/reception?lang=en")).text)
    assert "Leaders' reception days" in english and "Admin building, room 101" in english
    assert "Vice President" in english and "李校长" not in english
    api = (await client.get(f"/api/v1/t/{uni.slug}/reception-sessions")).json()
    assert [(s["time_window"], s["available"]) for s in api] == [("09:00–11:30", 5)]
    assert (await b.get("/t/no-such-university/reception")).status_code == 404
