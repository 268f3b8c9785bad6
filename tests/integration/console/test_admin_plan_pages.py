"""The tenant admin's plan, materials and webhook pages: the same services and the same rules as the API (admins
only; another university's version is a 404), refusals shown in place with nothing written."""

from __future__ import annotations

import datetime as dt
import html
import io
import json
import uuid
from typing import Any

from docx import Document
from pypdf import PdfReader

from service.webhooks import dispatch
from tests.support.forms import Browser
from tests.support.people import add_person, make_account
from tests.support.plans import LEADERS, draft, fill_groups, provision
from tests.support.platform import FIXED_TODAY, sign_in
from tests.support.receiver import Receiver
from tests.support.webhooks import drive


async def _admin(web: Any, tenant: Any) -> Browser:
    b: Browser = web()
    r = await b.sign_in(tenant.slug, tenant.admin_email, tenant.admin_password)
    assert r.status_code == 303, r.text
    return b


def _text(r: Any) -> str:
    return html.unescape(r.text)


async def test_a_draft_is_refused_with_its_reasons_then_fixed_section_by_section_and_published(
    clock: Any, client: Any, db: Any, web: Any, tenant: Any
) -> None:
    await provision(db, tenant)
    await fill_groups(client, tenant, ("leadership", "handling", "info_release"))
    body = await draft(client, tenant)
    vid = body["version"]["id"]
    b = await _admin(web, tenant)

    listing = _text(await b.get("/console/admin/plan/"))
    assert "第1版" in listing and "草稿" in listing
    page = _text(await b.get(f"/console/admin/plan/versions/{vid}"))
    # The checks stand beside their section before anyone tries to publish.
    assert 'id="problems-steps"' in page and "工作小组“logistics”尚未设组长" in page
    english = _text(await b.get(f"/console/admin/plan/versions/{vid}?lang=en"))
    assert "group 'logistics' has no leader" in english and "Version 1" in english
    await b.get(f"/console/admin/plan/versions/{vid}?lang=zh-CN")

    r = await b.post(f"/console/admin/plan/versions/{vid}/publish", {})
    assert r.status_code == 422
    page = _text(r)
    assert "未能发布" in page and "steps[4].responsible_group" in page and "工作小组“logistics”尚未设组长" in page
    assert (await draft(client, tenant))["version"]["status"] == "draft"

    # A section that is not JSON, then one the schema refuses: shown in place, nothing saved.
    r = await b.post(f"/console/admin/plan/versions/{vid}/sections/evaluation", {"value": "[{", "revision": "1"})
    assert r.status_code == 422 and 'id="refused-evaluation"' in r.text and "[{" in _text(r)
    r = await b.post(f"/console/admin/plan/versions/{vid}/sections/training", {"value": '{"x": 1}', "revision": "1"})
    assert r.status_code == 422 and 'id="refused-training"' in r.text
    assert (await draft(client, tenant))["version"]["revision"] == 1

    # A weight changed: saved (revision 2), and the page now lists the weights among the problems.
    evaluation = body["content"]["evaluation"]
    evaluation[0]["weight"] = round(evaluation[0]["weight"] - 0.05, 10)
    r = await b.post(
        f"/console/admin/plan/versions/{vid}/sections/evaluation",
        {"value": json.dumps(evaluation, ensure_ascii=False), "revision": "1"},
    )
    assert r.status_code == 303, r.text
    page = _text(await b.get(r.headers["location"]))
    assert "已保存：六、评估维度与权重" in page and 'id="problems-evaluation"' in page
    # A stale revision is refused, naming the current one.
    r = await b.post(
        f"/console/admin/plan/versions/{vid}/sections/evaluation",
        {"value": json.dumps(body["content"]["evaluation"]), "revision": "1"},
    )
    assert r.status_code == 409 and "草稿已被他人修改" in _text(r)  # the stale revision, in the page's language
    fixed = (await draft(client, tenant))["content"]["evaluation"]
    fixed[0]["weight"] = round(fixed[0]["weight"] + 0.05, 10)
    r = await b.post(
        f"/console/admin/plan/versions/{vid}/sections/evaluation", {"value": json.dumps(fixed), "revision": "2"}
    )
    assert r.status_code == 303, r.text

    # The logistics group gets its leader (the org chart's work); now it publishes.
    units = (await client.get("/api/v1/org/units", headers=tenant.headers)).json()
    root = (units["items"] if isinstance(units, dict) else units)[0]["id"]
    person = await add_person(client, tenant, root, *LEADERS["logistics"])
    r = await client.post(
        "/api/v1/org/groups/logistics/members", json={"person_id": person, "role": "leader"}, headers=tenant.headers
    )
    assert r.status_code in (200, 201), r.text
    page = _text(await b.get(f"/console/admin/plan/versions/{vid}"))
    assert "检查通过" in page
    r = await b.post(f"/console/admin/plan/versions/{vid}/publish", {})
    assert r.status_code == 303
    assert "已发布（现行）" in _text(await b.get(r.headers["location"]))

    # The document, as the API renders it, in both formats and languages.
    r = await b.get("/console/admin/plan/document", params={"format": "pdf", "lang": "zh-CN", "version_id": vid})
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf" and r.content[:5] == b"%PDF-"
    assert "领导小组" in "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    r = await b.get("/console/admin/plan/document", params={"format": "docx", "lang": "en", "version_id": vid})
    assert r.status_code == 200 and r.content[:2] == b"PK"
    assert any("Leadership group" in p.text for p in Document(io.BytesIO(r.content)).paragraphs)

    # A second draft, a change, and the two side by side.
    r = await b.post("/console/admin/plan/versions", {})
    assert r.status_code == 303
    v2 = r.headers["location"].rsplit("/", 1)[1]
    steps = (await client.get(f"/api/v1/plans/versions/{v2}", headers=tenant.headers)).json()["content"]["steps"]
    steps[0]["target_minutes"] = 20
    r = await b.post(f"/console/admin/plan/versions/{v2}/sections/steps", {"value": json.dumps(steps), "revision": "1"})
    assert r.status_code == 303
    page = _text(await b.get("/console/admin/plan/diff", params={"from": vid, "to": v2}))
    assert "第1版与第2版对比" in page and "steps[report].target_minutes" in page
    assert '<td class="old"' in page and ">30</td>" in page and ">20</td>" in page

    # The forms of fields: training with no group (saved, then a problem in place), a material minimum raised.
    r = await b.post(
        f"/console/admin/plan/versions/{v2}/sections/training",
        {"editor": "fields", "revision": "2", "training_every_days": "90", "drill_every_days": "365"},
    )
    assert r.status_code == 303, r.text
    page = _text(await b.get(f"/console/admin/plan/versions/{v2}"))
    assert "至少指定一个须参加培训的小组" in page.split('id="problems-training"')[1].split("</div>")[0]
    r = await b.post(
        f"/console/admin/plan/versions/{v2}/sections/training",
        {"editor": "fields", "revision": "3", "training_every_days": "soon", "training_groups": "leadership"},
    )
    assert r.status_code == 422 and 'id="refused-training"' in r.text
    r = await b.post(
        f"/console/admin/plan/versions/{v2}/sections/materials",
        {"editor": "fields", "revision": "3", "minimum_0": "12"},
    )
    assert r.status_code == 303, r.text
    content = (await client.get(f"/api/v1/plans/versions/{v2}", headers=tenant.headers)).json()["content"]
    assert content["training"]["training_every_days"] == 90 and content["training"]["training_groups"] == []
    assert content["materials"][0]["minimum"] == 12
    assert content["materials"][1:] == body["content"]["materials"][1:]


async def test_readiness_names_the_people_overdue_and_the_groups_without_a_leader(
    clock: Any, client: Any, db: Any, web: Any, tenant: Any
) -> None:
    await provision(db, tenant)
    await fill_groups(client, tenant)
    body = await draft(client, tenant)
    assert (
        await client.post(f"/api/v1/plans/versions/{body['version']['id']}/publish", headers=tenant.headers)
    ).status_code == 200
    r = await client.post(
        "/api/v1/org/groups",
        json={
            "key": "medical",
            "name_zh": "医疗救护组",
            "name_en": "Medical group",
            "duties_zh": "救护",
            "duties_en": "Aid",
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    b = await _admin(web, tenant)
    page = _text(await b.get("/console/admin/plan/readiness"))
    assert "物资不足" in page and "缺口" in page
    assert "医疗救护组" in page.split('id="leaderless"')[1].split("</ul>")[0]
    overdue = page.split('id="overdue"')[1].split("</table>")[0]
    for name in ("王建国", "张伟", "刘芳", "陈静"):
        assert name in overdue
    english = _text(await b.get("/console/admin/plan/readiness?lang=en"))
    assert "Wang Jianguo" in english.split('id="overdue"')[1]


async def test_the_plan_pages_are_the_admins_and_another_universitys_version_is_a_404(
    client: Any, db: Any, web: Any, make_tenant: Any
) -> None:
    tenant, other = await make_tenant(), await make_tenant()
    await provision(db, tenant)
    vid = (await draft(client, tenant))["version"]["id"]
    email = f"staff-{uuid.uuid4().hex[:6]}@{tenant.slug}.edu.cn"
    r = await client.post(
        "/api/v1/accounts",
        json={"email": email, "password": "a-long-password-1", "role": "staff", "display_name": "职员"},
        headers=tenant.headers,
    )
    assert r.status_code == 201
    password = (await sign_in(client, tenant.slug, email, "a-long-password-1")).password
    staff: Browser = web()
    await staff.sign_in(tenant.slug, email, password)
    for path in (
        "/console/admin/plan/",
        f"/console/admin/plan/versions/{vid}",
        "/console/admin/materials/",
        "/console/admin/webhooks/",
    ):
        assert (await staff.get(path)).status_code == 403, path
    assert "/console/admin/plan/" not in (await staff.get("/console/queue")).text
    stranger = await _admin(web, other)
    assert (await stranger.get(f"/console/admin/plan/versions/{vid}")).status_code == 404
    assert "/console/admin/plan/" in (await stranger.get("/console/queue")).text


async def test_materials_are_listed_with_low_stock_marked_and_a_movement_refused_in_place(
    clock: Any, client: Any, db: Any, web: Any, tenant: Any
) -> None:
    await provision(db, tenant)
    await fill_groups(client, tenant)
    body = await draft(client, tenant)
    await client.post(f"/api/v1/plans/versions/{body['version']['id']}/publish", headers=tenant.headers)
    minimum = body["content"]["materials"][0]
    b = await _admin(web, tenant)
    await b.get("/console/admin/materials/")
    r = await b.post(
        "/console/admin/materials/",
        {
            "category": minimum["category"],
            "code": minimum["code"],
            "name_zh": "对讲机",
            "name_en": "Radio",
            "unit": "台",
            "initial_quantity": "1",
        },
    )
    assert r.status_code == 303, r.text
    item = r.headers["location"].rsplit("/", 1)[1]
    listing = _text(await b.get("/console/admin/materials/"))
    row = listing.split(f'id="item-{minimum["code"]}"')[1].split("</tr>")[0]
    assert row.startswith(' class="low"') and "低于最低储备" in row
    # Issuing more than the stock: refused in place, the stock unchanged.
    r = await b.post(f"/console/admin/materials/{item}/movements", {"kind": "issue", "quantity": "5", "reason": "演练"})
    assert r.status_code == 409 and 'id="problems"' in r.text
    r = await b.post(
        f"/console/admin/materials/{item}/movements", {"kind": "receive", "quantity": "9", "reason": "采购"}
    )
    assert r.status_code == 303
    page = _text(await b.get(r.headers["location"]))
    assert 'id="quantity">10 台' in page and "采购" in page and "+9" in page
    # The expiry set on the page (the API's item update): within 30 days, the list marks it.
    soon = (FIXED_TODAY + dt.timedelta(days=10)).isoformat()
    r = await b.post(
        f"/console/admin/materials/{item}",
        {
            "name_zh": "对讲机",
            "name_en": "Radio",
            "unit": "台",
            "location": "保卫处",
            "expires_on": soon,
            "active": "yes",
        },
    )
    assert r.status_code == 303, r.text
    shown = (await client.get(f"/api/v1/materials/items/{item}", headers=tenant.headers)).json()
    assert shown["expires_on"] == soon and shown["location"] == "保卫处" and shown["quantity"] == 10
    row = _text(await b.get("/console/admin/materials/")).split(f'id="item-{minimum["code"]}"')[1].split("</tr>")[0]
    assert "即将过期" in row
    r = await b.post(f"/console/admin/materials/{item}", {"name_zh": " ", "name_en": "Radio", "unit": "台"})
    assert r.status_code == 422 and "name_zh" in r.text
    # The same code twice: the service's conflict, on the page.
    r = await b.post(
        "/console/admin/materials/",
        {"category": "medical", "code": minimum["code"], "name_zh": "x", "name_en": "x", "unit": "x"},
    )
    assert r.status_code == 409


async def test_a_webhook_subscribed_pinged_failed_then_redelivered_from_the_pages(
    client: Any, db: Any, web: Any, tenant: Any, settings: Any
) -> None:
    receiver = Receiver(script=[(500, {}), (200, {}), (503, {}), (200, {})]).start()
    fast = __import__("msgspec").structs.replace(settings, webhook_retry_schedule="")
    try:
        b = await _admin(web, tenant)
        await b.get("/console/admin/webhooks/")
        r = await b.post("/console/admin/webhooks/", {"url": receiver.url, "event_types": "nope.event"})
        assert r.status_code == 422 and "nope.event" in _text(r)
        r = await b.post("/console/admin/webhooks/", {"url": receiver.url, "event_types": "webhook.ping, petition.*"})
        assert r.status_code == 201 and 'id="secret"' in r.text
        secret = r.text.split('id="secret">')[1].split("<")[0]
        listed = (await client.get("/api/v1/webhooks/subscriptions", headers=tenant.headers)).json()["items"]
        [sub] = listed
        assert sub["event_types"] == ["webhook.ping", "petition.*"]
        page = _text(await b.get(f"/console/admin/webhooks/{sub['id']}"))
        assert secret not in page  # shown once

        r = await b.post(f"/console/admin/webhooks/{sub['id']}/ping", {})
        assert r.status_code == 303
        events = await client.get("/api/v1/webhooks/deliveries", headers=tenant.headers)
        assert events.json()["items"] == []  # the relay fans out: not yet
        from tests.support.journal import journal_of

        [ping] = await journal_of(client, tenant, type="webhook.ping")
        await drive(db, fast, tenant.id, uuid.UUID(ping["id"]))
        page = _text(await b.get(f"/console/admin/webhooks/{sub['id']}?status=failed"))
        delivery = page.split('id="delivery-')[1].split('"')[0]
        assert "失败" in page and ">500" in page
        detail = _text(await b.get(f"/console/admin/webhooks/deliveries/{delivery}"))
        assert "HTTP 500" in detail and 'class="attempt"' in detail

        r = await b.post(f"/console/admin/webhooks/deliveries/{delivery}/redeliver", {})
        assert r.status_code == 303
        assert "待投递" in _text(await b.get(r.headers["location"]))
        r = await b.post(f"/console/admin/webhooks/deliveries/{delivery}/redeliver", {})
        assert r.status_code == 409  # already pending: the service's rule, on the page
        for retry in await dispatch.resume(db, tenant.id, uuid.UUID(sub["id"])):
            await dispatch.deliver(db, fast, tenant.id, retry.delivery_id, retry.token)
        detail = _text(await b.get(f"/console/admin/webhooks/deliveries/{delivery}"))
        assert 'class="delivery-status succeeded"' in detail and detail.count('class="attempt"') == 2

        # A second ping fails (503); every failed one since a time (the university's wall clock) goes again.
        r = await b.post(f"/console/admin/webhooks/{sub['id']}/ping", {})
        pings = await journal_of(client, tenant, type="webhook.ping")
        await drive(db, fast, tenant.id, uuid.UUID(next(e for e in pings if e["id"] != ping["id"])["id"]))
        failed = _text(await b.get(f"/console/admin/webhooks/{sub['id']}?status=failed"))
        assert failed.count('class="delivery failed"') == 1 and ">503" in failed
        r = await b.post(f"/console/admin/webhooks/{sub['id']}/redeliver", {"since": "2099-01-01T00:00"})
        assert r.status_code == 303 and "count=0" in r.headers["location"]
        r = await b.post(f"/console/admin/webhooks/{sub['id']}/redeliver", {"since": "2020-01-01T08:00"})
        assert r.status_code == 303 and "count=1" in r.headers["location"]
        assert "已重新排队1个投递" in _text(await b.get(r.headers["location"]))
        r = await b.post(f"/console/admin/webhooks/{sub['id']}/redeliver", {"since": "yesterday"})
        assert r.status_code == 422 and "请填写有效的时间" in _text(r)
        for retry in await dispatch.resume(db, tenant.id, uuid.UUID(sub["id"])):
            await dispatch.deliver(db, fast, tenant.id, retry.delivery_id, retry.token)
        assert [x.status for x in receiver.received] == [500, 200, 503, 200]
        assert 'class="delivery failed"' not in _text(await b.get(f"/console/admin/webhooks/{sub['id']}"))

        # Rotate the secret: a new one, shown once.
        r = await b.post(f"/console/admin/webhooks/{sub['id']}/rotate-secret", {"overlap_hours": "1"})
        assert r.status_code == 200 and 'id="secret"' in r.text and secret not in r.text
        # Disable: the ping is then refused in place.
        r = await b.post(
            f"/console/admin/webhooks/{sub['id']}",
            {"url": receiver.url, "event_types": "webhook.ping", "description": ""},
        )
        assert r.status_code == 303
        r = await b.post(f"/console/admin/webhooks/{sub['id']}/ping", {})
        assert r.status_code == 409 and "该订阅已停用" in r.text
    finally:
        receiver.stop()
    staff_headers, _ = await make_account(client, tenant, "staff")
    assert (await client.get("/api/v1/webhooks/subscriptions", headers=staff_headers)).status_code == 403
