"""A university ready for casework (two offices, two categories routed to them, a staff member, an officer and a
petitioner), a petition's body, and driving a petition through the workflow."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from service.petitions.workflow import PETITIONER_ACTIONS, Action, State
from tests.support.people import make_account, make_unit


@dataclass
class University:
    tenant: Any
    slug: str
    staff: dict[str, str]
    officer: dict[str, str]
    petitioner: dict[str, str]
    petitioner_id: str
    unit_a: str
    unit_b: str

    @property
    def admin(self) -> dict[str, str]:
        return self.tenant.headers


async def make_university(client: Any, make_tenant: Any, timezone: str = "Asia/Shanghai") -> University:
    """A university with two offices, two categories routed to them, and a staff, an officer and a petitioner."""
    tenant = await make_tenant(timezone=timezone)
    root = await make_unit(client, tenant, "university", "ROOT", None)
    unit_a = await make_unit(client, tenant, "office", "HQGLC", root)
    unit_b = await make_unit(client, tenant, "office", "JWC", root)
    for code, name, unit in (("dormitory", "宿舍", unit_a), ("canteen", "食堂", unit_b)):
        r = await client.post(
            "/api/v1/petition-categories",
            json={"code": code, "name_zh": name, "name_en": code.title(), "default_org_unit_id": unit},
            headers=tenant.headers,
        )
        assert r.status_code == 201, r.text
    staff, _ = await make_account(client, tenant, "staff")
    officer, _ = await make_account(client, tenant, "petition_officer")
    petitioner, pid = await make_account(client, tenant, "petitioner")
    return University(tenant, tenant.slug, staff, officer, petitioner, pid, unit_a, unit_b)


def petition_body(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "complaint",
        "category": "dormitory",
        "subject": "宿舍热水供应不足",
        "content": "三号宿舍楼近两周每晚十点后没有热水，多次报修未解决。",
        "location_text": "三号宿舍楼",
        "lat": 23.1,
        "long": 113.3,
        "petitioner": {"name": "李四", "phone": "13800000000", "number": "2024001234"},
    }
    body.update(overrides)
    return body


PATHS: dict[State, list[str]] = {
    State.received: [],
    State.accepted: ["accept"],
    State.not_accepted: ["not_accept"],
    State.assigned: ["accept", "assign"],
    State.in_progress: ["accept", "assign", "start"],
    State.transferred: ["accept", "assign", "transfer"],
    State.replied: ["accept", "assign", "start", "reply"],
    State.closed: ["accept", "assign", "start", "reply", "close"],
    State.review_requested: ["accept", "assign", "start", "reply", "request_review"],
    State.reviewed: ["accept", "assign", "start", "reply", "request_review", "answer_review"],
    State.rereview_requested: [
        "accept",
        "assign",
        "start",
        "reply",
        "request_review",
        "answer_review",
        "request_rereview",
    ],
    State.final: [
        "accept",
        "assign",
        "start",
        "reply",
        "request_review",
        "answer_review",
        "request_rereview",
        "answer_rereview",
    ],
}


def fields(uni, action: str) -> dict:
    return {
        "not_accept": {"reason": "不属于本校信访受理范围"},
        "transfer": {"org_unit_id": uni.unit_b},
        "object_transfer": {"reason": "不属于本单位职责"},
        "extend": {"days": 20, "reason": "需要现场调查"},
        "reply": {"outcome": "supported", "opinion": "已协调后勤处修复热水系统。"},
        "answer_review": {"outcome": "explained", "opinion": "复查维持原处理意见。"},
        "answer_rereview": {"outcome": "explained", "opinion": "复核维持复查意见。"},
        "rate": {"rating": "satisfied"},
    }.get(action, {})


async def do(client, uni, pid: str, action: str, version: int, **extra):
    headers = uni.petitioner if Action(action) in PETITIONER_ACTIONS else uni.officer
    body = {"action": action, "version": version, **fields(uni, action), **extra}
    return await client.post(f"/api/v1/petitions/{pid}/actions", json=body, headers=headers)


async def drive(client, uni, target: State) -> tuple[str, int]:
    r = await client.post("/api/v1/petitions", json=petition_body(), headers=uni.petitioner)
    assert r.status_code == 201, r.text
    pid, version = r.json()["id"], 1
    for action in PATHS[target]:
        step = await do(client, uni, pid, action, version)
        assert step.status_code == 201, (action, step.text)
        version = step.json()["version"]
    return pid, version
