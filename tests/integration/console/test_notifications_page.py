"""My notifications in the console: the same feed as the API (a petition assigned to my unit reaches me, not the
other unit), in words with a link to the petition, and "mark all read"."""

from __future__ import annotations

import html

from tests.support.casework import do, make_university, petition_body
from tests.support.forms import console_account, signed_in
from tests.support.journal import journal_of
from tests.support.notifications import configured, deliver_all
from tests.support.platform import sign_in


async def test_the_feed_page_shows_my_units_notifications_and_marks_them_read(
    clock, client, web, make_tenant, settings, db
):
    uni = await make_university(client, make_tenant)
    mine, other = (
        await console_account(client, uni, "staff", uni.unit_a),
        await console_account(client, uni, "staff", uni.unit_b),
    )
    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    pid = r.json()["id"]
    assert (await do(client, uni, pid, "accept", 1)).status_code == 201
    assert (await do(client, uni, pid, "assign", 2)).status_code == 201  # to the dormitory's unit A
    event = next(e for e in await journal_of(client, uni, pid) if e["type"] == "petition.assigned")
    await deliver_all(db, configured(settings), uni.tenant.id, event["id"])

    b = await signed_in(web, uni, mine)
    page = html.unescape((await b.get("/console/notifications")).text)
    assert "我的通知" in page and f'href="/console/petitions/{pid}"' in page
    assert 'id="unread">1<' in page and "信访事项已交首办单位" in page  # the event catalogue's words
    english = html.unescape((await b.get("/console/notifications?lang=en")).text)
    assert "My notifications" in english and "assigned" in english.lower()
    r = await b.post("/console/notifications/read-all", {})
    assert r.status_code == 303
    assert 'id="unread">0<' in (await b.get("/console/notifications")).text
    api = (
        await client.get("/api/v1/notifications/unread-count", headers=(await sign_in(client, uni.slug, *mine)).headers)
    ).json()
    assert api == {"unread": 0}

    theirs = (await (await signed_in(web, uni, other)).get("/console/notifications")).text
    assert "暂无通知。" in theirs and pid not in theirs
