"""The command board's forms, without a browser: each member sees exactly the buttons the workflow table, the
group authorization, the task table and four eyes give them; each form goes through the API's service (the
API then shows the change); stale, refused and invalid forms come back as the board with a message in the
user's language (409/422), never an error page; the live poll answers 204 until someone acts. My tasks, and
the warnings' dismiss and open-an-incident forms."""

from __future__ import annotations

import io
import re
from typing import Any

from pypdf import PdfReader
from sqlalchemy import event

from tests.support.emergency import Driver, University, make_university
from tests.support.forms import Browser


async def member(web: Any, uni: University, persona: str) -> Browser:
    b: Browser = web()
    r = await b.sign_in(uni.slug, *uni.logins[persona])
    assert r.status_code == 303, r.text
    return b


async def board(b: Browser, d: Driver, **params: str) -> str:
    r = await b.get(f"/console/incidents/{d.id}", params=params)
    assert r.status_code == 200, r.text[:3000]
    return r.text


def forms(html: str) -> set[str]:
    """The forms a page offers (their ``what``)."""
    return set(re.findall(r'name="what" value="([a-z_]+)"', html))


async def do(b: Browser, d: Driver, what: str, expect: int = 303, **fields: Any) -> Any:
    r = await b.post(f"/console/incidents/{d.id}/do", {"what": what, **fields})
    assert r.status_code == expect, r.text[:3000]
    if expect == 303:
        assert r.headers["location"].startswith(f"/console/incidents/{d.id}?done={what}")
    return r


async def test_the_whole_flow_through_the_boards_forms(web: Any, client: Any, db: Any, platform_token: str):
    uni = await make_university(client, db, platform_token)
    d = Driver(client, uni)
    await d.report()
    people = {}
    for p in ("hand_member", "lead_member", "lead_leader", "logi_member", "info_member", "info_leader", "outsider"):
        people[p] = await member(web, uni, p)
    hand, lead, leader = people["hand_member"], people["lead_member"], people["lead_leader"]
    logi, info, info_lead, outsider = (people[p] for p in ("logi_member", "info_member", "info_leader", "outsider"))

    # Reported: only the handling group assesses; the plan's suggestion is beside the decision.
    assert forms(await board(hand, d)) == {"assess"}
    assert forms(await board(lead, d)) == set()
    html = await board(outsider, d)
    assert forms(html) == set() and "预案建议等级" in html
    inc = await d.get()
    await do(hand, d, "assess", version=inc["version"], cause="停水三天", site_conditions="情绪激动但有序")
    inc = await d.get()
    assert inc["state"] == "assessed" and inc["level"] == inc["suggested_level"]

    # Assessed: the leadership instructs (the level picked, the suggestion marked).
    html = await board(lead, d)
    assert forms(html) == {"instruct"} and "预案建议" in html
    await do(lead, d, "instruct", version=inc["version"], activated="yes", level="III", instruction="启动预案")
    assert (await d.get())["level"] == "III"

    # Responding: a task to the logistics office, declined with a reason, reassigned to the student affairs
    # office, whose staff acknowledges and completes it.
    assert {"assign_task"} <= forms(await board(lead, d))
    await do(lead, d, "assign_task", org_unit_id=uni.units["HQGLC"], step="response", duty="准备饮用水")
    task = (await d.get())["tasks"][0]
    html = await board(logi, d)
    assert f'name="task_id" value="{task["id"]}"' in html and "退回任务" in html
    assert f'name="task_id" value="{task["id"]}"' not in await board(hand, d)  # not hand_member's unit
    await do(logi, d, "task", expect=422, task_id=task["id"], action="decline", version=1)  # no reason
    await do(logi, d, "task", task_id=task["id"], action="decline", version=1, reason_code="not_our_remit")
    html = await board(lead, d)
    assert "reassign_task" in forms(html) and "不属本单位职责" in html
    await do(lead, d, "reassign_task", task_id=task["id"], org_unit_id=uni.units["XSC"], step="response", duty="x")
    assert "reassign_task" not in forms(await board(lead, d))  # once
    new = next(t for t in (await d.get())["tasks"] if t["state"] == "assigned")
    await do(hand, d, "task", task_id=new["id"], action="acknowledge", version=1)
    await do(hand, d, "task", task_id=new["id"], action="complete", version=2, note="已送达")

    # Measures and logistics: requested by the handling group, issued by the logistics group; the shortfall.
    await do(hand, d, "record_measure", kind="keeping_order", count="3", notes="派出保卫人员")
    assert (await d.get())["measures"][0]["kind"] == "order"
    assert "维持秩序 · 派出保卫人员" in await board(hand, d)
    await do(hand, d, "request_logistics", category="medical", quantity="5")
    html = await board(logi, d)
    assert "fulfil_logistics" in forms(html) and "缺口 3" in html and "库存 2" in html
    req = (await d.get())["logistics"][0]
    await do(logi, d, "fulfil_logistics", request_id=req["id"], version=1, item_id=uni.items["MED-KIT"])
    req = (await d.get())["logistics"][0]
    assert (req["state"], req["issued"]) == ("short", 2)
    assert "return_logistics" in forms(await board(logi, d))
    await do(logi, d, "return_logistics", request_id=req["id"], quantity="1")
    assert (await d.get())["logistics"][0]["returned"] == 1
    r = await do(logi, d, "return_logistics", expect=422, request_id=req["id"], quantity="5")
    assert "归还数量" in r.text

    # Bulletins: drafted by a member, approved by the release group's leader (never by its author), published.
    draft = {
        "audience": "campus",
        "title_zh": "情况通报",
        "title_en": "Update",
        "body_zh": "处置中",
        "body_en": "Handling",
    }
    await do(info, d, "draft_bulletin", **draft)
    b = (await d.get())["bulletins"][0]
    assert "approve_bulletin" not in forms(await board(info, d))  # a member
    await do(info_lead, d, "draft_bulletin", **draft)
    own = next(x for x in (await d.get())["bulletins"] if x["id"] != b["id"])
    html = await board(info_lead, d)
    assert html.count('value="approve_bulletin"') == 1 and "本稿由您起草" in html  # not on its own draft
    r = await do(info_lead, d, "approve_bulletin", expect=409, bulletin_id=own["id"], version=1)
    assert "双人审核" in r.text and r.headers["content-type"].startswith("text/html")
    await do(info_lead, d, "approve_bulletin", bulletin_id=b["id"], version=1)
    await do(info, d, "publish_bulletin", bulletin_id=b["id"], version=2)
    html = await board(info, d)
    assert "已发布" in html and "起草更正" in html
    fix = {**draft, "title_zh": "更正：情况通报", "corrects_id": b["id"]}
    await do(info, d, "draft_bulletin", **fix)
    correction = next(x for x in (await d.get())["bulletins"] if x["corrects_id"] == b["id"])
    assert (correction["kind"], correction["state"]) == ("correction", "draft")

    # A stale form: the board as it stands now and a message, not an error page.
    inc = await d.get()
    r = await do(hand, d, "end_response", expect=409, version=inc["version"] - 1)
    assert "其他成员刚刚更新了这里" in r.text and "结束现场处置" in r.text
    r = await hand.post(f"/console/incidents/{d.id}/do?lang=en", {"what": "end_response", "version": 1})
    assert r.status_code == 409 and "Another member changed this meanwhile" in r.text
    await do(hand, d, "end_response", version=inc["version"])

    # Cleanup and summary: the checklist, submitted, returned, submitted again, approved by the leader.
    inc = await d.get()
    html = await board(hand, d)
    assert forms(html) >= {"update_checklist", "submit_summary"}
    keys = [i["key"] for i in inc["checklist"]]
    r = await hand.post(
        f"/console/incidents/{d.id}/do",
        {"what": "update_checklist", "version": inc["version"], "key": keys, "done": keys},
    )
    assert r.status_code == 303, r.text[:2000]
    summary = {
        "cause_analysis": "供水设施老化",
        "proposal_0": "更换供水管道",
        "owner_0": uni.units["HQGLC"],
        "due_0": "2027-03-01",
    }
    await do(hand, d, "submit_summary", version=(await d.get())["version"], **summary)
    assert forms(await board(lead, d)) == set()  # a member: the leaders approve
    assert forms(await board(leader, d)) == {"approve_summary", "return_summary"}
    await do(leader, d, "return_summary", version=(await d.get())["version"])
    await do(hand, d, "submit_summary", version=(await d.get())["version"], **summary)
    await do(leader, d, "approve_summary", version=(await d.get())["version"])
    inc = await d.get()
    assert inc["state"] == "closed"
    # The unit that owns the action item marks it done from the board.
    item = inc["action_items"][0]
    assert "complete_action_item" not in forms(await board(outsider, d))
    assert "complete_action_item" in forms(await board(logi, d))
    await do(logi, d, "complete_action_item", item_id=item["id"])
    assert (await d.get())["action_items"][0]["done_at"]
    html = await board(logi, d)
    assert forms(html) == set() and "已完成（" in html

    # The timeline, in words; the summary report as a PDF in the page's language.
    assert "领导小组已批准总结报告" in html
    r = await logi.get(f"/console/incidents/{d.id}/summary.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert "突发信访事件总结报告" in "".join(
        "".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages).split()
    )


async def test_bad_input_is_a_message_in_the_users_language(web: Any, client: Any, db: Any, platform_token: str):
    uni = await make_university(client, db, platform_token)
    d = Driver(client, uni)
    await d.report()
    hand = await member(web, uni, "hand_member")
    await board(hand, d)
    r = await do(hand, d, "assess", expect=422, version=1, cause="", site_conditions="x", injuries="many")
    assert "请补充或更正以下内容" in r.text and "信访原因" in r.text and "受伤人数" in r.text
    r = await do(hand, d, "nonsense", expect=400)
    assert "无法识别的操作" in r.text
    # An action the group may not take: the board with the reason, nothing changed.
    r = await do(hand, d, "instruct", expect=403, version=1, activated="yes", instruction="x")
    assert "此操作属于其他应急小组" in r.text
    r = await hand.post(f"/console/incidents/{d.id}/do?lang=en", {"what": "assess", "version": "x"})
    assert r.status_code == 422 and "Please complete or correct" in r.text and "Cause: required" in r.text
    assert (await d.get())["state"] == "reported"
    # Another university's incident, or none: 404 as a page.
    r = await hand.get("/console/incidents/01a23bbd-156a-7ff7-9b67-1fd4113faaf2")
    assert r.status_code == 404 and r.headers["content-type"].startswith("text/html")


async def test_the_live_poll_answers_204_until_someone_acts(web: Any, client: Any, db: Any, platform_token: str):
    uni = await make_university(client, db, platform_token)
    d = Driver(client, uni)
    await d.report()
    watcher = await member(web, uni, "outsider")
    html = await board(watcher, d)
    stamp = re.search(r'data-stamp="([^"]+)"', html)
    assert stamp and 'src="/console/static/board.js"' in html and "<script>" not in html
    r = await watcher.get(f"/console/incidents/{d.id}/live", params={"since": stamp.group(1)})
    assert r.status_code == 204 and r.headers["x-board-stamp"] == stamp.group(1)
    await d.assess()
    r = await watcher.get(f"/console/incidents/{d.id}/live", params={"since": stamp.group(1)})
    assert r.status_code == 200 and r.headers["x-board-stamp"] != stamp.group(1)
    assert "已研判" in r.text and "<html" not in r.text and "Content-Security-Policy" in r.headers
    # Tasks, bulletins and measures move the stamp too (they do not touch the incident's version).
    await d.instruct()
    before = (await watcher.get(f"/console/incidents/{d.id}/live")).headers["x-board-stamp"]
    await d.post("hand_member", "/measures", {"kind": "order", "count": 1, "notes": "到场"})
    after = (await watcher.get(f"/console/incidents/{d.id}/live", params={"since": before})).headers["x-board-stamp"]
    assert after != before
    task = await d.task("BWC")
    r = await watcher.get(f"/console/incidents/{d.id}/live", params={"since": after})
    assert r.status_code == 200
    stamp2 = r.headers["x-board-stamp"]
    await d.post("outsider", f"/tasks/{task['id']}/actions", {"action": "acknowledge", "version": 1}, 200)
    r = await watcher.get(f"/console/incidents/{d.id}/live", params={"since": stamp2})
    assert r.status_code == 200 and "已确认" in r.text
    static = await watcher.get("/console/static/board.js")
    assert static.status_code == 200 and "X-Board-Stamp" in static.text


async def test_my_tasks_across_incidents(web: Any, client: Any, db: Any, platform_token: str):
    uni = await make_university(client, db, platform_token)
    first, second = Driver(client, uni), Driver(client, uni)
    for d, title in ((first, "食堂聚集"), (second, "宿舍停水")):
        await d.report(title=title)
        await d.assess()
        await d.instruct()
    a = await first.task("BWC")
    await second.task("BWC")
    await second.task("XCB")  # another unit's
    done = await first.task("BWC")
    await first.post(
        "outsider", f"/tasks/{done['id']}/actions", {"action": "decline", "version": 1, "reason_code": "x"}, 200
    )
    b = await member(web, uni, "outsider")
    r = await b.get("/console/tasks")
    assert r.status_code == 200
    assert r.text.count("/console/incidents/") >= 2 and "食堂聚集" in r.text and "宿舍停水" in r.text
    assert f"#task-{a['id']}" in r.text and f"#task-{done['id']}" not in r.text  # open tasks only
    assert r.text.count("<tr>") == 1 + 2  # the header and my unit's two open tasks
    assert 'class="due' in r.text
    other = await member(web, uni, "info_member")
    r = await other.get("/console/tasks?lang=en")
    assert r.status_code == 200 and r.text.count("<tr>") == 2 and "My tasks" in r.text


async def test_the_board_reads_a_fixed_number_of_queries(web: Any, app: Any, client: Any, db: Any, platform_token: str):
    """No N+1: the board of an incident with many tasks, bulletins and measures reads as many statements as the
    board of an incident with one of each."""
    uni = await make_university(client, db, platform_token)

    async def incident(n: int) -> Driver:
        d = Driver(client, uni)
        await d.report()
        await d.assess()
        await d.instruct()
        for _ in range(n):
            await d.task("BWC")
            await d.bulletin()
            await d.post("hand_member", "/measures", {"kind": "order", "count": 1, "notes": "到场"})
            await d.post("hand_member", "/logistics", {"category": "water", "quantity": 3})
            await d.post(
                "hand_member", "/logistics", {"category": "medical", "quantity": 1, "item_id": uni.items["MED-KIT"]}
            )
        return d

    small, large = await incident(1), await incident(6)
    b = await member(web, uni, "lead_member")
    counts = []
    engine = app.state.db.engine.sync_engine
    seen: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        seen.append(statement)

    for d in (small, large):
        await board(b, d)  # warm (the plan cache)
        seen.clear()
        event.listen(engine, "before_cursor_execute", count)
        try:
            await board(b, d)
        finally:
            event.remove(engine, "before_cursor_execute", count)
        counts.append(len(seen))
    assert counts[0] == counts[1], counts


async def test_report_an_incident_from_the_list(web: Any, client: Any, db: Any, platform_token: str):
    uni = await make_university(client, db, platform_token)
    b = await member(web, uni, "outsider")  # anyone on duty reports
    html = (await b.get("/console/incidents")).text
    assert "报告突发事件" in html and "群体性事件" in html  # the plan's risk categories
    r = await b.post("/console/incidents/new", {"title": "", "facts": "x", "people_count": "many"})
    assert r.status_code == 422 and "事件标题" in r.text and "涉及人数" in r.text
    assert 'value="x"' not in r.text and ">x</textarea>" in r.text  # what was typed comes back
    r = await b.post(
        "/console/incidents/new",
        {"title": "图书馆门前聚集", "facts": "约三十名学生", "people_count": "30", "risk_categories": "group_event"},
    )
    assert r.status_code == 303, r.text[:2000]
    incident_id = r.headers["location"].split("/")[-1].split("?")[0]
    r = await client.get(f"/api/v1/incidents/{incident_id}", headers=uni.headers["admin"])
    assert r.json()["title"] == "图书馆门前聚集" and r.json()["risk_categories"] == ["group_event"]
    r = await client.get(f"/api/v1/incidents/{incident_id}/timeline", headers=uni.headers["admin"])
    assert r.json()[0]["type"] == "incident.reported" and r.json()[0]["actor_id"] == uni.account_ids["outsider"]


async def test_a_warning_opened_as_an_incident(web: Any, client: Any, db: Any, platform_token: str):
    from tests.support.warnings import surging_university

    uni, warning = await surging_university(client, db, platform_token)
    hand, outsider = await member(web, uni, "hand_member"), await member(web, uni, "outsider")
    html = (await hand.get("/console/warnings")).text
    assert html.count('action="/console/warnings/') == 2  # open an incident, dismiss
    assert "信访激增预警" in html  # the incident's title pre-filled from the evidence
    html = (await outsider.get("/console/warnings")).text
    assert 'action="/console/warnings/' not in html  # not the handling group
    r = await outsider.post(f"/console/warnings/{warning['id']}/dismiss", {"reason": "误报"})
    assert r.status_code == 403 and "限应急处置小组和管理员" in r.text
    r = await hand.post(f"/console/warnings/{warning['id']}/dismiss", {"reason": " "})
    assert r.status_code == 422 and "理由" in r.text

    body = {"title": "食堂饭菜问题集中反映", "facts": "食堂聚集", "people_count": "12", "place": "二食堂"}
    r = await hand.post(f"/console/warnings/{warning['id']}/incident", body)
    assert r.status_code == 303, r.text[:2000]
    incident_id = r.headers["location"].split("/")[-1].split("?")[0]
    inc = (await client.get(f"/api/v1/incidents/{incident_id}", headers=uni.headers["admin"])).json()
    assert (inc["source"], inc["people_count"], inc["place"]) == ("warning", 12, "二食堂")
    assert len(inc["petition_ids"]) == 6
    shown = (await client.get(f"/api/v1/warnings/{warning['id']}", headers=uni.headers["admin"])).json()
    assert (shown["state"], shown["incident_id"]) == ("incident_opened", incident_id)
    r = await hand.post(f"/console/warnings/{warning['id']}/incident", body)  # a second time
    assert r.status_code == 409 and "该预警已被处理" in r.text
    r = await hand.post(f"/console/warnings/{warning['id']}/dismiss", {"reason": "已立案"})
    assert r.status_code == 409 and "该预警已被处理" in r.text


async def test_a_warning_dismissed_with_a_reason(web: Any, client: Any, db: Any, make_tenant: Any):
    from datetime import timedelta

    from tenants.clock import utcnow
    from tests.support.warnings import scan_at, submit_petitions, warning_university

    tenant = await make_tenant()
    await warning_university(client, db, tenant)
    await submit_petitions(db, tenant, 5)
    await scan_at(db, tenant, utcnow() + timedelta(minutes=1))
    b: Browser = web()
    assert (await b.sign_in(tenant.slug, tenant.admin_email, tenant.admin_password)).status_code == 303  # an admin
    [warning] = (await client.get("/api/v1/warnings/", headers=tenant.headers)).json()
    await b.get("/console/warnings")
    r = await b.post(f"/console/warnings/{warning['id']}/dismiss", {"reason": "食堂已核实，系同一批学生重复反映"})
    assert r.status_code == 303 and r.headers["location"] == "/console/warnings?done=1"
    shown = (await client.get(f"/api/v1/warnings/{warning['id']}", headers=tenant.headers)).json()
    assert shown["state"] == "dismissed" and shown["dismiss_reason"].startswith("食堂已核实")
    html = (await b.get("/console/warnings?done=1")).text
    assert "预警已排除" in html and "暂无未处理的预警" in html
