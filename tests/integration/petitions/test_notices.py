"""Written notices (告知书、意见书) through the API: each kind issued by its action, read back out of the PDF and the
DOCX in both languages; numbering per university and local year; immutability for the application role;
corrections; a failed composition rolls the action back; the petitioner's download needs the lookup code;
templates edited, refused and previewed. Fixed instants only (the ``clock`` fixture)."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.petitions import deadlines
from service.petitions.notices import templates
from service.petitions.workflow import State
from tests.support.casework import do, drive, make_university, petition_body
from tests.support.documents import docx_text, pdf_text, squeeze
from tests.support.journal import journal_of
from tests.support.people import link_person, make_account
from tests.support.platform import FIXED_NOW

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _day(at: dt.datetime) -> str:
    return templates.format_deadline(at, SHANGHAI, "zh-CN")


async def _notices(client: Any, uni: Any, pid: str) -> list[dict[str, Any]]:
    r = await client.get(f"/api/v1/petitions/{pid}/notices", headers=uni.officer)
    assert r.status_code == 200, r.text
    return r.json()


async def _texts(client: Any, uni: Any, pid: str, nid: str, lang: str) -> tuple[str, str]:
    """The notice's text out of its PDF and its DOCX, squeezed (PDF lines wrap anywhere in Chinese)."""
    out = []
    for fmt, extract in (("pdf", pdf_text), ("docx", docx_text)):
        r = await client.get(f"/api/v1/petitions/{pid}/notices/{nid}.{fmt}", params={"lang": lang}, headers=uni.officer)
        assert r.status_code == 200, r.text
        assert r.headers["content-type"].startswith("application/pdf" if fmt == "pdf" else "application/vnd")
        out.append(squeeze(extract(r.content)))
    return out[0], out[1]


async def _step(client: Any, uni: Any, pid: str, action: str, version: int, **extra: Any) -> int:
    r = await do(client, uni, pid, action, version, **extra)
    assert r.status_code == 201, (action, r.text)
    return int(r.json()["version"])


async def test_every_kind_carries_its_facts_in_pdf_and_docx_in_both_languages(clock, client, make_tenant):
    uni = await make_university(client, make_tenant)
    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    pid, v = r.json()["id"], 1
    v = await _step(client, uni, pid, "accept", v)
    v = await _step(client, uni, pid, "assign", v)
    v = await _step(client, uni, pid, "start", v)
    v = await _step(client, uni, pid, "extend", v)
    v = await _step(client, uni, pid, "transfer", v)
    v = await _step(client, uni, pid, "start", v)
    v = await _step(client, uni, pid, "reply", v, basis="《学生宿舍管理规定》第十二条")
    v = await _step(client, uni, pid, "request_review", v)
    v = await _step(client, uni, pid, "answer_review", v)
    v = await _step(client, uni, pid, "request_rereview", v)
    v = await _step(client, uni, pid, "answer_rereview", v)
    refused, _ = await drive(client, uni, State.received)
    await _step(client, uni, refused, "not_accept", 1, redirect_to="学校所在地教育行政部门")

    conclude = deadlines.conclude_due(FIXED_NOW, SHANGHAI)
    extended = deadlines.extended_due(conclude, 20, SHANGHAI)
    review_until = deadlines.add_days(FIXED_NOW, deadlines.REVIEW_REQUEST_DAYS, SHANGHAI)
    assert _day(conclude) == "2027年1月17日24时" and _day(extended) == "2027年2月6日24时"
    common = ["测试大学", "（印章）", "2026年11月18日", "Asia/Shanghai"]
    expected_zh = {
        "acceptance": ["受理告知书", "HQGLC", _day(conclude), "第三十四条"],
        "extension": ["延期办理告知书", "需要现场调查", "延长20日", _day(conclude), _day(extended)],
        "transfer": ["转送（交办）告知书", "转送JWC办理", _day(extended)],
        "reply": [
            *["处理意见书", "支持", "已协调后勤处修复热水系统。", "《学生宿舍管理规定》第十二条", "30日内"],
            *[_day(review_until), "请求复查", "信访工作领导小组办公室"],
        ],
        "review": ["复查意见书", "解释说明", "复查维持原处理意见。", "请求复核", _day(review_until)],
        "rereview": ["复核意见书", "复核维持复查意见。", "终结意见", "不再受理"],
        "non_acceptance": ["不予受理告知书", "不属于本校信访受理范围", "学校所在地教育行政部门"],
    }
    expected_en = {
        "acceptance": ["Notice of Acceptance", "HQGLC", "the end of 17 January 2027"],
        "extension": ["Notice of Extension", "20 days", "the end of 6 February 2027"],
        "transfer": ["Notice of Transfer", "to JWC", "the end of 6 February 2027"],
        "reply": ["Handling Opinion", "request a review within 30 days", "the end of 18 December 2026"],
        "review": ["Review Opinion", "request a re-review within 30 days", "the end of 18 December 2026"],
        "rereview": ["Re-review Opinion", "This opinion is final"],
        "non_acceptance": ["Notice of Non-acceptance", "不属于本校信访受理范围", "学校所在地教育行政部门"],
    }
    issued = await _notices(client, uni, pid) + await _notices(client, uni, refused)
    assert [n["kind"] for n in issued] == [
        "acceptance",
        "extension",
        "transfer",
        "reply",
        "review",
        "rereview",
        "non_acceptance",
    ]
    numbers = [n["document_number"] for n in issued]
    assert numbers == [f"〔2026〕第{i:04d}号" for i in range(1, 8)]
    for notice in issued:
        kind = notice["kind"]
        for lang, expected, base in (
            ("zh-CN", expected_zh, common),
            ("en", expected_en, ["Test University", "(Seal)", "18 November 2026", "Asia/Shanghai"]),
        ):
            pid_of = refused if kind == "non_acceptance" else pid
            track = (await client.get(f"/api/v1/petitions/{pid_of}", headers=uni.officer)).json()["tracking_number"]
            for extracted in await _texts(client, uni, pid_of, notice["id"], lang):
                for needle in [*base, track, notice["document_number"], *expected[kind]]:
                    assert squeeze(needle) in extracted, (kind, lang, needle)


async def test_numbers_run_per_university_and_restart_in_a_new_local_year(clock, client, make_tenant):
    clock.move_to(dt.datetime(2026, 12, 31, 23, 55, tzinfo=SHANGHAI))
    uni = await make_university(client, make_tenant)
    other = await make_university(client, make_tenant)
    first = [await drive(client, uni, State.accepted) for _ in range(2)]
    theirs, _ = await drive(client, other, State.accepted)
    # Concurrent issuers queue on the year's counter: distinct, gapless numbers.
    concurrent = await asyncio.gather(*(drive(client, uni, State.accepted) for _ in range(4)))
    clock.move_to(dt.datetime(2027, 1, 1, 0, 0, 5, tzinfo=SHANGHAI))  # 16:00:05 UTC on 31 December
    new_year, _ = await drive(client, uni, State.accepted)

    got = [(await _notices(client, uni, p))[0]["document_number"] for p, _ in [*first, *concurrent]]
    assert got[:2] == ["〔2026〕第0001号", "〔2026〕第0002号"]
    assert sorted(got[2:]) == [f"〔2026〕第{i:04d}号" for i in range(3, 7)]
    assert (await _notices(client, other, theirs))[0]["document_number"] == "〔2026〕第0001号"
    latest = (await _notices(client, uni, new_year))[0]
    assert (latest["document_number"], latest["year"]) == ("〔2027〕第0001号", 2027)
    zh, _ = await _texts(client, uni, new_year, latest["id"], "zh-CN")
    assert "2027年1月1日" in zh and squeeze("〔2027〕第0001号") in zh


async def test_issued_notices_are_immutable_for_the_application_role(clock, client, db, uni):
    pid, _ = await drive(client, uni, State.accepted)
    nid = (await _notices(client, uni, pid))[0]["id"]
    for statement in (
        "update petition_notices set number = 'x' where id = :id",
        "delete from petition_notices where id = :id",
    ):
        with pytest.raises(DBAPIError, match="permission denied"):
            async with db.transaction(uni.tenant.id) as session:
                await session.execute(text(statement), {"id": nid})
    async with db.transaction(uni.tenant.id) as session:
        assert await session.scalar(text("select number from petition_notices where id = :id"), {"id": nid})


async def test_a_correction_is_a_new_notice_that_names_the_one_it_replaces(clock, client, uni):
    pid, _ = await drive(client, uni, State.replied)
    reply = (await _notices(client, uni, pid))[-1]
    url = f"/api/v1/petitions/{pid}/notices/{reply['id']}/corrections"
    body = {"reason": "处理意见表述有误", "changes": {"opinion": "已协调后勤处于11月20日前修复热水系统。"}}
    assert (await client.post(url, json=body, headers=uni.staff)).status_code == 403  # the petition office corrects
    bad = await client.post(url, json={"reason": "x", "changes": {"conclude_due": "明天"}}, headers=uni.officer)
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "changes/conclude_due"
    r = await client.post(url, json=body, headers=uni.officer)
    assert r.status_code == 201, r.text
    fixed = r.json()
    assert fixed["replaces_id"] == reply["id"] and fixed["kind"] == "reply"
    assert fixed["document_number"] != reply["document_number"]
    zh, docx = await _texts(client, uni, pid, fixed["id"], "zh-CN")
    for text_ in (zh, docx):
        assert squeeze(f"本文书更正并取代{reply['document_number']}") in text_
        assert "处理意见表述有误" in text_ and "11月20日前修复热水系统" in text_
    listed = {n["id"]: n for n in await _notices(client, uni, pid)}
    assert listed[reply["id"]]["replaced_by_id"] == fixed["id"]
    again = await client.post(url, json=body, headers=uni.officer)
    assert again.status_code == 409 and again.json()["type"].endswith("/notice-replaced")
    events = [e for e in await journal_of(client, uni, pid) if e["type"] == "notice.issued"]
    assert events[-1]["payload"] == {
        "kind": "reply",
        "document_number": fixed["document_number"],
        "replaces_id": reply["id"],
    }


async def test_a_failed_composition_leaves_the_action_unapplied(clock, client, uni, monkeypatch):
    pid, version = await drive(client, uni, State.received)

    def broken(**_: Any) -> Any:
        raise RuntimeError("the notice could not be composed")

    monkeypatch.setattr(templates, "compose", broken)
    r = await do(client, uni, pid, "accept", version)
    assert r.status_code == 500
    assert r.headers["content-type"].startswith("application/problem+json")
    monkeypatch.undo()
    detail = (await client.get(f"/api/v1/petitions/{pid}", headers=uni.officer)).json()
    assert (detail["state"], detail["version"]) == ("received", version)
    assert await _notices(client, uni, pid) == []
    assert [e["type"] for e in await journal_of(client, uni, pid)] == ["petition.submitted"]
    # Nothing half-written: not even the document number was used up.
    await _step(client, uni, pid, "accept", version)
    assert (await _notices(client, uni, pid))[0]["document_number"] == "〔2026〕第0001号"


async def test_the_petitioner_downloads_with_the_lookup_code_only(clock, client, uni):
    sub = (await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body())).json()
    await _step(client, uni, sub["id"], "accept", 1)
    other, _ = await drive(client, uni, State.accepted)
    other_notice = (await _notices(client, uni, other))[0]["id"]
    base = f"/api/v1/t/{uni.slug}/petitions/notices"
    good = {"tracking_number": sub["tracking_number"], "lookup_code": sub["lookup_code"]}
    wrong = {**good, "lookup_code": "WRONGCODE234"}
    listed = await client.post(base, json=good)
    assert listed.status_code == 200, listed.text
    [notice] = listed.json()
    assert notice["kind"] == "acceptance" and notice["title"]["zh-CN"] == "受理告知书"
    pdf = await client.post(f"{base}/{notice['id']}.pdf", json=good)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert sub["tracking_number"] in squeeze(pdf_text(pdf.content))
    docx = await client.post(f"{base}/{notice['id']}.docx", params={"lang": "en"}, json=good)
    assert docx.status_code == 200 and "Notice of Acceptance" in docx_text(docx.content)
    assert (await client.post(base, json=wrong)).status_code == 404
    assert (await client.post(f"{base}/{notice['id']}.pdf", json=wrong)).status_code == 404
    # The right code opens its own petition's notices only.
    assert (await client.post(f"{base}/{other_notice}.pdf", json=good)).status_code == 404
    assert (await client.post(f"{base}/{notice['id']}.odt", json=good)).status_code == 404


async def test_the_journal_names_the_notice_and_nothing_personal(clock, client, uni):
    pid, _ = await drive(client, uni, State.replied)
    events = [e for e in await journal_of(client, uni, pid) if e["type"] == "notice.issued"]
    assert [e["payload"]["kind"] for e in events] == ["acceptance", "reply"]
    for event in events:
        assert set(event["payload"]) <= {"kind", "document_number", "replaces_id"}
        dumped = json.dumps(event, ensure_ascii=False)
        for personal in ("李四", "13800000000", "2024001234", "宿舍热水", "热水系统"):
            assert personal not in dumped


async def test_templates_are_edited_validated_previewed_and_reset(clock, client, uni):
    listed = await client.get("/api/v1/notice-templates", headers=uni.staff)
    assert listed.status_code == 200
    assert {(x["kind"], x["lang"]) for x in listed.json()} == {
        (k, lang) for k in templates.KINDS for lang in templates.LANGS
    }
    url = "/api/v1/notice-templates/acceptance/zh-CN"
    custom = {"title": "受理告知书（{university}）", "body": "编号{tracking_number}已受理，{conclude_due}前办结。"}
    assert (await client.put(url, json=custom, headers=uni.staff)).status_code == 403
    bad = await client.put(
        url, json={"title": "受理", "body": "{petitioner_name}：{reason} {conclude_due:>9}"}, headers=uni.officer
    )
    assert bad.status_code == 422
    assert bad.json()["type"].endswith("/notice-template-invalid")
    messages = [(e["field"], e["message"]) for e in bad.json()["errors"]]
    assert [f for f, _ in messages] == ["body", "body", "body"]
    assert "{petitioner_name}" in messages[0][1] and "{reason}" in messages[1][1]  # reason is not an acceptance field
    assert (await client.put(url, json={"title": "x", "body": "未闭合{"}, headers=uni.officer)).status_code == 422
    assert (await client.get("/api/v1/notice-templates/unknown/zh-CN", headers=uni.staff)).status_code == 404

    preview = await client.post(
        f"{url}/preview", json={"body": "预览{tracking_number}，{handling_unit}"}, headers=uni.staff
    )
    assert preview.status_code == 200 and preview.headers["content-type"] == "application/pdf"
    assert squeeze("预览XF-2026-000123，后勤管理处") in squeeze(pdf_text(preview.content))
    saved = await client.put(url, json=custom, headers=uni.officer)
    assert saved.status_code == 200 and saved.json()["customized"] is True
    preview = await client.post(f"{url}/preview", params={"format": "docx"}, json={}, headers=uni.staff)
    assert "受理告知书（测试大学）" in docx_text(preview.content)

    pid, _ = await drive(client, uni, State.accepted)
    notice = (await _notices(client, uni, pid))[0]
    # The previews issued nothing: the first notice of the university is number 1.
    assert notice["document_number"] == "〔2026〕第0001号" and notice["title"]["zh-CN"] == "受理告知书（测试大学）"
    zh, _ = await _texts(client, uni, pid, notice["id"], "zh-CN")
    assert "2027年1月17日24时前办结" in zh
    reset = await client.delete(url, headers=uni.officer)
    assert reset.status_code == 204
    assert (await client.get(url, headers=uni.staff)).json()["customized"] is False
    # The notice issued before keeps its text.
    assert (await _notices(client, uni, pid))[0]["title"]["zh-CN"] == "受理告知书（测试大学）"
    types = [e["type"] for e in await journal_of(client, uni) if e["type"].startswith("notice_template.")]
    assert types == ["notice_template.updated", "notice_template.reset"]


async def test_the_accused_unit_never_reads_an_accusations_notices(clock, client, uni):
    accused_staff, accused_id = await make_account(client, uni.tenant, "staff")
    await link_person(client, uni.tenant, accused_id, uni.unit_a)
    body = petition_body(kind="accusation", subject="举报宿管收受好处", accused_org_unit_id=uni.unit_a)
    pid = (await client.post("/api/v1/petitions", json=body, headers=uni.petitioner)).json()["id"]
    await _step(client, uni, pid, "accept", 1)
    [notice] = await _notices(client, uni, pid)
    zh, _ = await _texts(client, uni, pid, notice["id"], "zh-CN")
    # The category's default unit is the accused one: the notice names the petition office instead.
    assert "HQGLC" not in zh and "由本校信访工作机构办理" in zh
    assert (await client.get(f"/api/v1/petitions/{pid}/notices", headers=accused_staff)).status_code == 404
    download = f"/api/v1/petitions/{pid}/notices/{notice['id']}.pdf"
    assert (await client.get(download, headers=accused_staff)).status_code == 404
