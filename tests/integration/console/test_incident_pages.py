"""The emergency command pages (read-only): the incidents list, active first, and an incident's board with the
plan's step names, due times and levels, in zh-CN and en."""

from __future__ import annotations

from typing import Any

from tests.support.emergency import Driver, make_university
from tests.support.forms import Browser


async def test_the_list_and_the_board_of_an_incident(web, client: Any, db: Any, platform_token: str):
    uni = await make_university(client, db, platform_token)
    first = Driver(client, uni)
    await first.report(title="学生聚集反映宿舍停水")
    await first.assess()
    done = Driver(client, uni)
    await done.report(title="已处理的旧事件")
    b: Browser = web()
    r = await b.sign_in(uni.slug, uni.tenant.admin_email, uni.tenant.admin_password)
    assert r.status_code == 303, r.text
    r = await b.get("/console/incidents")
    assert r.status_code == 200 and "学生聚集反映宿舍停水" in r.text and "已研判" in r.text
    r = await b.get(f"/console/incidents/{first.id}")
    assert r.status_code == 200
    # The steps, named by the plan, each with its status and due time; the level the plan suggests.
    assert "处置步骤" in r.text and "已完成" in r.text and "未开始" in r.text and "期限" in r.text
    assert r.text.count("<li><strong>") == 7
    r = await b.get(f"/console/incidents/{first.id}?lang=en")
    assert "The steps" in r.text and "Level suggested by the plan" in r.text
    r = await b.get("/console/incidents/01a23bbd-156a-7ff7-9b67-1fd4113faaf2")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


async def test_open_warnings_with_their_evidence_in_words(web, client: Any, db: Any, make_tenant: Any):
    from datetime import timedelta

    from tenants.clock import utcnow
    from tests.support.warnings import scan_at as _scan
    from tests.support.warnings import submit_petitions as _submit
    from tests.support.warnings import warning_university as _setup

    tenant = await make_tenant()
    await _setup(client, db, tenant)
    b: Browser = web()
    assert (await b.sign_in(tenant.slug, tenant.admin_email, tenant.admin_password)).status_code == 303
    r = await b.get("/console/warnings")
    assert r.status_code == 200 and "暂无未处理的预警" in r.text
    await _submit(db, tenant, 5)
    await _scan(db, tenant, utcnow() + timedelta(minutes=1))
    r = await b.get("/console/warnings")
    assert "过去24小时内类别“食堂”收到5件信访" in r.text
    r = await b.get("/console/warnings?lang=en")
    assert "5 petitions on category &#39;Canteen&#39; in 24 h" in r.text
