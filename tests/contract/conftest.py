"""The contract tests' server: the real app over real HTTP (uvicorn on loopback, the session's PostgreSQL), with a
seeded university and one set of credentials per role, built through the API like any client would."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn

from tests.support.people import link_person, make_unit
from tests.support.platform import auth, onboard, sign_in


@dataclass
class Seeded:
    """The running server and who can call it."""

    url: str
    slug: str
    # role -> the headers it sends (anonymous and the lookup-code petitioner send none)
    headers: dict[str, dict[str, str]] = field(default_factory=dict)
    tracking_number: str = ""
    lookup_code: str = ""
    unit_id: str = ""
    petition_id: str = ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _account(http: httpx.AsyncClient, slug: str, admin: dict[str, str], role: str) -> tuple[dict[str, str], str]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@{slug}.edu.cn"
    r = await http.post(
        "/api/v1/accounts",
        json={"email": email, "password": "a-long-password-1", "role": role, "display_name": "张三"},
        headers=admin,
    )
    assert r.status_code == 201, r.text
    return (await sign_in(http, slug, email, "a-long-password-1")).headers, r.json()["id"]


async def seed(http: httpx.AsyncClient, platform_token: str) -> Seeded:
    """A university with an office tree, two categories, an officer and a staff member in units, a petitioner
    account, an integrator key with every scope, and one submitted petition (its lookup code kept)."""
    tenant = await onboard(http, platform_token)
    root = await make_unit(http, tenant, "university", "ROOT", None)
    office = await make_unit(http, tenant, "office", "XFB", root)
    college = await make_unit(http, tenant, "college", "JSJ", root)
    for code, unit in (("dormitory", office), ("canteen", college)):
        r = await http.post(
            "/api/v1/petition-categories",
            json={"code": code, "name_zh": code, "name_en": code.title(), "default_org_unit_id": unit},
            headers=tenant.headers,
        )
        assert r.status_code == 201, r.text
    officer, officer_id = await _account(http, tenant.slug, tenant.headers, "petition_officer")
    await link_person(http, tenant, officer_id, office)
    staff, staff_id = await _account(http, tenant.slug, tenant.headers, "staff")
    await link_person(http, tenant, staff_id, college)
    petitioner, _ = await _account(http, tenant.slug, tenant.headers, "petitioner")
    r = await http.post(
        "/api/v1/api-keys", json={"name": "integrator", "scopes": _all_scopes()}, headers=tenant.headers
    )
    assert r.status_code == 201, r.text
    key = r.json()["secret"]
    r = await http.post(
        f"/api/v1/t/{tenant.slug}/petitions",
        json={
            "kind": "complaint",
            "category": "dormitory",
            "subject": "宿舍热水",
            "content": "三号楼没有热水。",
            "anonymous": True,
        },
    )
    assert r.status_code == 201, r.text
    submitted = r.json()
    return Seeded(
        url=str(http.base_url).rstrip("/"),
        slug=tenant.slug,
        headers={
            "platform_admin": auth(platform_token),
            "tenant_admin": tenant.headers,
            "petition_officer": officer,
            "staff": staff,
            "integrator": {"X-API-Key": key},
            "petitioner": petitioner,
            "anonymous": {},
        },
        tracking_number=submitted["tracking_number"],
        lookup_code=submitted["lookup_code"],
        unit_id=office,
        petition_id=submitted["id"],
    )


def _all_scopes() -> list[str]:
    from tenants.identity import SCOPES

    return sorted(SCOPES)


@pytest.fixture(scope="session")
async def contract_server(settings: Any, platform_token: str) -> AsyncIterator[str]:
    """The app served by uvicorn on loopback. Generous rate limits (the fuzzer sends thousands of requests from one
    address; the limits have tests of their own) and access tokens that outlive a long ``make fuzz`` run."""
    from service.http.app import create_app

    served = msgspec.structs.replace(
        settings,
        rate_limit_client_per_minute=1_000_000,
        rate_limit_tenant_per_minute=1_000_000,
        access_token_ttl=4 * 3600,
    )
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(served), host="127.0.0.1", port=port, log_config=None))
    task = asyncio.create_task(server.serve())
    for _ in range(400):  # uvicorn exposes a flag, not an event
        if server.started:
            break
        await asyncio.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


@pytest.fixture(scope="session")
async def seeded(contract_server: str, platform_token: str) -> Seeded:
    async with httpx.AsyncClient(base_url=contract_server, timeout=30) as http:
        # The document is built on its first request (seconds on a busy machine): build it before any client
        # with a short read timeout asks for it.
        assert (await http.get("/schema/openapi.json", timeout=300)).status_code == 200
        return await seed(http, platform_token)
