"""The petition office's pages: registering a letter, call, fax, email or visit on behalf of a petitioner (the
API's staff intake: registered by the caller, one petition per Idempotency-Key, the same validation), and
escalating a group petition to an incident (the API's escalation request, then the incident reported from it)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import select

from service.incidents.models import IncidentPetition
from service.petitions.models import EscalatedPetition, Petition
from tests.support.casework import make_university, petition_body
from tests.support.forms import console_account, signed_in
from tests.support.people import add_person
from tests.support.plans import LEADERS, draft, provision

FORM = {
    "channel": "visit",
    "kind": "complaint",
    "category": "dormitory",
    "subject": "来访反映宿舍漏水",
    "content": "来访人反映五号宿舍楼顶层漏水，已持续一周。",
    "location_text": "五号宿舍楼",
    "name": "王五",
    "phone": "13900000000",
}


async def _publish_plan(client: Any, db: Any, uni: Any) -> None:
    """The university's plan in force (incidents need one): its four groups led, the default draft published."""
    await provision(db, uni.tenant)
    for key, names in LEADERS.items():
        person = await add_person(client, uni.tenant, uni.unit_a, *names)
        r = await client.post(
            f"/api/v1/org/groups/{key}/members",
            json={"person_id": person, "role": "leader"},
            headers=uni.tenant.headers,
        )
        assert r.status_code in (200, 201), r.text
    version = await draft(client, uni.tenant)
    r = await client.post(f"/api/v1/plans/versions/{version['version']['id']}/publish", headers=uni.tenant.headers)
    assert r.status_code == 200, r.text


def _key(html: str) -> str:
    found = re.search(r'name="idempotency_key" value="([^"]+)"', html)
    assert found, html[:2000]
    return found.group(1)


async def test_the_office_registers_a_visit_once_and_the_petition_says_who_registered_it(
    web: Any, client: Any, db: Any, make_tenant: Any
) -> None:
    uni = await make_university(client, make_tenant)
    officer = await console_account(client, uni, "petition_officer", None)
    b = await signed_in(web, uni, officer)
    queue = await b.get("/console/queue")
    assert 'href="/console/register"' in queue.text
    page = await b.get("/console/register")
    assert page.status_code == 200 and "登记来信来访" in page.text
    for channel in ("visit", "phone", "letter", "email", "fax"):
        assert f'<option value="{channel}"' in page.text
    assert 'value="online"' not in page.text  # the public form's channels are not the office's
    key = _key(page.text)
    form = {**FORM, "idempotency_key": key, "participants": "3", "rep_name_1": "王五", "rep_contact_1": "139"}
    r = await b.post("/console/register", form)
    assert r.status_code == 201, r.text[-2000:]
    number = re.search(r'id="tracking-number">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    code = re.search(r'id="lookup-code">([^<]+)<', r.text).group(1)  # type: ignore[union-attr]
    assert "查询码只显示这一次" in r.text
    # A double submit of the same form makes one petition and never shows the code again.
    again = await b.post("/console/register", form)
    assert again.status_code == 201 and number in again.text
    async with db.transaction(uni.tenant.id) as s:
        rows = (await s.scalars(select(Petition).where(Petition.subject == FORM["subject"]))).all()
    assert len(rows) == 1
    petition = rows[0]
    assert petition.channel == "visit" and petition.registered_by is not None and petition.participants == 3
    assert petition.representative_count == 1
    # The petitioner can look it up with the codes the office told them.
    lookup = await client.post(
        f"/api/v1/t/{uni.slug}/petitions/status", json={"tracking_number": number, "lookup_code": code}
    )
    assert lookup.status_code == 200, lookup.text
    # And the office's page of the petition shows the channel in words.
    r = await b.get(f"/console/petitions/{petition.id}")
    assert r.status_code == 200 and "来访" in r.text


async def test_bad_registrations_are_answered_on_the_page_in_the_users_language(
    web: Any, client: Any, make_tenant: Any
) -> None:
    uni = await make_university(client, make_tenant)
    officer = await console_account(client, uni, "petition_officer", None)
    b = await signed_in(web, uni, officer)
    await b.get("/console/register")
    # A channel of the public form, not the office's: the API's schema refuses it (400), the form comes back.
    r = await b.post("/console/register", {**FORM, "channel": "online"})
    assert r.status_code == 400 and "登记来信来访" in r.text and FORM["subject"] in r.text
    # The service's rules: a name unless anonymous, at most five representatives (422, the fields named).
    r = await b.post("/console/register", {k: v for k, v in FORM.items() if k not in ("name", "phone")})
    # Named as the form labels it, in the page's language (the service's own words on English pages).
    assert r.status_code == 422 and "姓名：请补充或更正此项" in r.text and "petitioner" not in r.text
    r = await b.post("/console/register?lang=en", {k: v for k, v in FORM.items() if k not in ("name", "phone")})
    assert r.status_code == 422 and "Name: required unless anonymous or signed in" in r.text
    six = {f"rep_name_{i}": f"代表{i}" for i in range(1, 6)}
    r = await b.post("/console/register", {**FORM, **six, "participants": "1"})
    assert r.status_code == 422 and "participants" in r.text
    r = await b.post("/console/register?lang=en", {**FORM, "category": "no-such"})
    assert r.status_code == 422 and "Register a letter" in r.text and "Traceback" not in r.text


async def test_a_group_petition_is_escalated_to_an_incident_by_its_handlers_only(
    web: Any, client: Any, db: Any, make_tenant: Any
) -> None:
    uni = await make_university(client, make_tenant)
    await _publish_plan(client, db, uni)
    officer = await console_account(client, uni, "petition_officer", None)
    other = await console_account(client, uni, "staff", uni.unit_b)
    body = petition_body(
        participants=40, representatives=[{"name": "赵六", "contact": "138"}], subject="集体反映宿舍停水"
    )
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=body)
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    single = (await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body())).json()["id"]
    b = await signed_in(web, uni, officer)
    page = await b.get(f"/console/petitions/{pid}")
    assert "转为突发事件" in page.text and 'value="40"' in page.text
    assert "/escalate" not in (await b.get(f"/console/petitions/{single}")).text  # one petitioner: no form
    # Bad input is a message on the page, not a 500.
    r = await b.post(f"/console/petitions/{pid}/escalate", {"reason_code": "whim", "title": "x", "facts": "y"})
    assert r.status_code == 422 and "reason_code" in r.text
    # Staff of an unrelated unit: not in their scope, a 404 page, nothing written.
    outsider = await signed_in(web, uni, other)
    await outsider.get("/console/queue")
    form = {"reason_code": "group_visit", "title": "学生集体反映停水", "facts": "四十名学生来访", "people_count": "40"}
    r = await outsider.post(f"/console/petitions/{pid}/escalate", form)
    assert r.status_code == 404
    r = await b.post(f"/console/petitions/{pid}/escalate", form)
    assert r.status_code == 303 and r.headers["location"].startswith("/console/incidents/")
    incident_id = r.headers["location"].rsplit("/", 1)[1]
    async with db.transaction(uni.tenant.id) as s:
        marked = (await s.scalars(select(EscalatedPetition.petition_id))).all()
        linked = (await s.scalars(select(IncidentPetition.petition_id))).all()
    assert [str(x) for x in marked] == [pid] and [str(x) for x in linked] == [pid]
    api = await client.get(f"/api/v1/incidents/{incident_id}", headers=uni.tenant.headers)
    assert api.status_code == 200 and api.json()["source"] == "petitions" and api.json()["people_count"] == 40
    # The page now links the incident instead of offering the form again.
    page = await b.get(f"/console/petitions/{pid}")
    assert f"/console/incidents/{incident_id}" in page.text and "/escalate" not in page.text


TEMPLATE = {
    "title": "宿舍维修类答复",
    "body": "经核实，后勤处已安排维修，预计三个工作日内完成。",
    "outcome": "supported",
}


async def test_the_reply_form_is_filled_from_the_template_picked(web: Any, client: Any, make_tenant: Any) -> None:
    uni = await make_university(client, make_tenant)
    tid = (await client.post("/api/v1/reply-templates", json=TEMPLATE, headers=uni.admin)).json()["id"]
    p = (await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body())).json()
    for action, extra in (("accept", {}), ("assign", {"org_unit_id": uni.unit_a})):
        r = await client.get(f"/api/v1/petitions/{p['id']}", headers=uni.admin)
        r = await client.post(
            f"/api/v1/petitions/{p['id']}/actions",
            json={"action": action, "version": r.json()["version"], **extra},
            headers=uni.admin,
        )
        assert r.status_code in (200, 201), r.text
    staff = await console_account(client, uni, "staff", uni.unit_a)
    b = await signed_in(web, uni, staff)
    page = await b.get(f"/console/petitions/{p['id']}")
    assert 'name="template"' not in page.text  # assigned: no reply form yet, so no picker
    version = page.text.split('name="version" value="')[1].split('"')[0]
    await b.post(f"/console/petitions/{p['id']}/actions", {"action": "start", "version": version})
    page = await b.get(f"/console/petitions/{p['id']}")
    assert 'name="template"' in page.text and TEMPLATE["title"] in page.text
    assert TEMPLATE["body"] not in page.text  # nothing filled until one is picked
    page = await b.get(f"/console/petitions/{p['id']}", params={"template": tid})
    assert page.status_code == 200
    assert f">{TEMPLATE['body']}</textarea>" in page.text and '<option value="supported" selected>' in page.text
    # An unknown or malformed choice fills nothing and is no error.
    for bad in (str(uuid.uuid4()), "not-an-id"):
        page = await b.get(f"/console/petitions/{p['id']}", params={"template": bad})
        assert page.status_code == 200 and TEMPLATE["body"] not in page.text
    # The reply goes through the workflow as any: the filled opinion is sent as the form's own.
    version = page.text.split('name="version" value="')[1].split('"')[0]
    r = await b.post(
        f"/console/petitions/{p['id']}/actions",
        {"action": "reply", "version": version, "outcome": "supported", "opinion": TEMPLATE["body"]},
    )
    assert r.status_code == 303
    got = await client.get(f"/api/v1/petitions/{p['id']}", headers=uni.admin)
    assert got.json()["state"] == "replied" and got.json()["opinion"] == TEMPLATE["body"]
