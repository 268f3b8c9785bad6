"""A university ready for incidents (a published plan, its four groups filled with people linked to accounts,
offices with staff for tasks, stock in the inventory) and a driver of one incident through the API."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from tests.support.plans import draft, provision
from tests.support.platform import TenantHandle, onboard, sign_in

PASSWORD = "a-long-password-1"


# persona -> (group key, role) ; outsider and admin hold no group
PERSONAS: dict[str, tuple[str, str] | None] = {
    "lead_leader": ("leadership", "leader"),
    "lead_member": ("leadership", "member"),
    "hand_leader": ("handling", "leader"),
    "hand_member": ("handling", "member"),
    "info_leader": ("info_release", "leader"),
    "info_member": ("info_release", "member"),
    "logi_leader": ("logistics", "leader"),
    "logi_member": ("logistics", "member"),
    "outsider": None,
    "admin": None,
}


# Where each persona's person sits (tasks go to these offices).
UNIT_OF = {"hand_member": "XSC", "outsider": "BWC", "info_member": "XCB", "logi_member": "HQGLC"}


PERSON_NAMES = {"lead_leader": "王建国", "hand_member": "张伟", "outsider": "赵保卫"}


@dataclass
class University:
    tenant: TenantHandle
    headers: dict[str, dict[str, str]]  # persona -> auth headers
    account_ids: dict[str, str]
    person_ids: dict[str, str]
    units: dict[str, str]  # code -> id
    items: dict[str, str] = field(default_factory=dict)  # code -> material item id
    logins: dict[str, tuple[str, str]] = field(default_factory=dict)  # persona -> (email, password now)

    @property
    def slug(self) -> str:
        return self.tenant.slug


async def make_university(client: Any, db: Any, platform_token: str) -> University:
    tenant = await onboard(client, platform_token)
    await provision(db, tenant)
    admin = tenant.headers
    units: dict[str, str] = {}
    for code, kind, parent in (
        ("ROOT", "university", None),
        ("XSC", "office", "ROOT"),
        ("BWC", "office", "ROOT"),
        ("XCB", "office", "ROOT"),
        ("HQGLC", "office", "ROOT"),
        ("XLZX", "center", "XSC"),
    ):
        r = await client.post(
            "/api/v1/org/units",
            json={
                "kind": kind,
                "code": code,
                "name_zh": f"单位{code}",
                "name_en": f"Unit {code}",
                "parent_id": units.get(parent or ""),
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        units[code] = r.json()["id"]
    headers, accounts, people = {"admin": admin}, {}, {}
    logins: dict[str, tuple[str, str]] = {}
    for persona, membership in PERSONAS.items():
        if persona == "admin":
            continue
        email = f"{persona}-{uuid.uuid4().hex[:6]}@{tenant.slug}.edu.cn"
        r = await client.post(
            "/api/v1/accounts",
            json={"email": email, "password": PASSWORD, "role": "staff", "display_name": persona},
            headers=admin,
        )
        assert r.status_code == 201, r.text
        accounts[persona] = r.json()["id"]
        r = await client.post(
            "/api/v1/org/people",
            json={
                "staff_number": f"S-{uuid.uuid4().hex[:8]}",
                "name_zh": PERSON_NAMES.get(persona, "职员"),
                "unit_id": units[UNIT_OF.get(persona, "ROOT")],
                "account_id": accounts[persona],
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        people[persona] = r.json()["id"]
        if membership:
            key, role = membership
            r = await client.post(
                f"/api/v1/org/groups/{key}/members", json={"person_id": people[persona], "role": role}, headers=admin
            )
            assert r.status_code in (200, 201), r.text
        signed = await sign_in(client, tenant.slug, email, PASSWORD)
        headers[persona], logins[persona] = signed.headers, (email, signed.password)
    version = await draft(client, tenant)
    r = await client.post(f"/api/v1/plans/versions/{version['version']['id']}/publish", headers=admin)
    assert r.status_code == 200, r.text
    uni = University(tenant, headers, accounts, people, units, logins=logins)
    for code, category, qty in (("LOG-WATER", "logistics", 100), ("MED-KIT", "medical", 2)):
        r = await client.post(
            "/api/v1/materials/items",
            json={
                "category": category,
                "code": code,
                "name_zh": code,
                "name_en": code,
                "unit": "件",
                "initial_quantity": qty,
            },
            headers=admin,
        )
        assert r.status_code == 201, r.text
        uni.items[code] = r.json()["id"]
    return uni


def report_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": "学生聚集反映宿舍停水",
        "facts": "约两百名学生聚集在行政楼前，反映三号宿舍楼停水三天。",
        "people_count": 200,
        "place": "行政楼前广场",
        "impact": "行政楼出入受阻",
        "risk_categories": ["group_event"],
    }
    body.update(overrides)
    return body


class Driver:
    """Drives one incident through the API as the personas whose groups the plan names."""

    def __init__(self, client: Any, uni: University) -> None:
        self.client, self.uni = client, uni
        self.id = ""

    def h(self, persona: str) -> dict[str, str]:
        return self.uni.headers[persona]

    async def get(self) -> dict[str, Any]:
        r = await self.client.get(f"/api/v1/incidents/{self.id}", headers=self.h("admin"))
        assert r.status_code == 200, r.text
        return r.json()  # type: ignore[no-any-return]

    async def version(self) -> int:
        return int((await self.get())["version"])

    async def report(self, persona: str = "outsider", **overrides: Any) -> dict[str, Any]:
        r = await self.client.post("/api/v1/incidents", json=report_body(**overrides), headers=self.h(persona))
        assert r.status_code == 201, r.text
        self.id = r.json()["id"]
        return r.json()  # type: ignore[no-any-return]

    async def action(self, persona: str, action: str, expect: int = 200, **fields: Any) -> Any:
        body = {"action": action, "version": await self.version(), **fields}
        r = await self.client.post(f"/api/v1/incidents/{self.id}/actions", json=body, headers=self.h(persona))
        assert r.status_code == expect, r.text
        return r.json()

    async def post(self, persona: str, path: str, body: dict[str, Any], expect: int = 201) -> Any:
        r = await self.client.post(f"/api/v1/incidents/{self.id}{path}", json=body, headers=self.h(persona))
        assert r.status_code == expect, r.text
        return r.json()

    async def assess(self, persona: str = "hand_member") -> Any:
        return await self.action(persona, "assess", cause="停水", site_conditions="情绪激动但有序")

    async def instruct(self, persona: str = "lead_member") -> Any:
        return await self.action(persona, "instruct", activated=True, instruction="启动预案，各部门按职责处置")

    async def end_response(self, persona: str = "hand_member") -> Any:
        return await self.action(persona, "end_response")

    async def tick_all(self, persona: str = "hand_member") -> Any:
        checklist = (await self.get())["checklist"]
        return await self.action(
            persona, "update_checklist", items=[{"key": i["key"], "done": True} for i in checklist]
        )

    async def submit(self, persona: str = "hand_member") -> Any:
        return await self.action(
            persona,
            "submit_summary",
            cause_analysis="供水设施老化，信息未及时告知学生。",
            proposals=[
                {"proposal": "更换三号楼供水管道", "owner_unit_id": self.uni.units["HQGLC"], "due_on": "2027-03-01"}
            ],
        )

    async def approve(self, persona: str = "lead_leader") -> Any:
        return await self.action(persona, "approve_summary")

    async def task(self, unit: str = "BWC", step: str = "response") -> dict[str, Any]:
        body = {"step": step, "duty": "按职责处置", "org_unit_id": self.uni.units[unit]}
        return await self.post("lead_member", "/tasks", body)  # type: ignore[no-any-return]

    async def bulletin(self, approve: bool = True, publish: bool = True, **overrides: Any) -> dict[str, Any]:
        body = {
            "audience": "campus",
            "title_zh": "关于三号宿舍楼停水的情况通报",
            "title_en": "Water outage in Dormitory 3",
            "body_zh": "学校已组织抢修，预计今晚恢复供水。",
            "body_en": "Repairs are under way; water is expected back tonight.",
            **overrides,
        }
        b = await self.post("info_member", "/bulletins", body)
        if approve:
            b = await self.post("info_leader", f"/bulletins/{b['id']}/approve", {"version": b["version"]}, 200)
        if publish:
            b = await self.post("info_member", f"/bulletins/{b['id']}/publish", {"version": b["version"]}, 200)
        return b  # type: ignore[no-any-return]

    async def to_state(self, state: str) -> None:
        """Report and drive the incident to ``state`` with the authorized personas."""
        order = ["reported", "assessed", "responding", "cleanup", "summary_review", "closed"]
        await self.report()
        steps = [self.assess, self.instruct, self.end_response, self._tick_and_submit, self.approve]
        for step in steps[: order.index(state)]:
            await step()

    async def _tick_and_submit(self) -> None:
        await self.tick_all()
        await self.submit()
