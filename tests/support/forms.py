"""A form-posting client of the console's pages for integration tests (cookies, CSRF token), without a
browser."""

from __future__ import annotations

import re
import uuid
from typing import Any

import httpx

from tests.support.people import link_person
from tests.support.platform import sign_in

CSRF = re.compile(r'name="_csrf_token" value="([^"]+)"')


class Browser:
    def __init__(self, client: httpx.AsyncClient) -> None:
        self.client = client
        self.last: httpx.Response | None = None
        self.csrf: str | None = None

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        self.last = await self.client.get(path, **kw)
        return self.last

    def token(self) -> str:
        """The CSRF token of the last page that carried one (it stays the same for the cookie's life)."""
        assert self.last is not None
        found = CSRF.search(self.last.text)
        if found:
            self.csrf = found.group(1)
        assert self.csrf, self.last.text[:2000]
        return self.csrf

    async def post(self, path: str, data: dict[str, Any], *, files: Any = None) -> httpx.Response:
        """Post a form as a web would after showing the last page (its CSRF token)."""
        self.last = await self.client.post(path, data={"_csrf_token": self.token(), **data}, files=files)
        return self.last

    async def sign_in(self, slug: str, email: str, password: str) -> httpx.Response:
        await self.get("/console/login")
        return await self.post("/console/login", {"tenant": slug, "email": email, "password": password})


async def console_account(client: Any, uni: Any, role: str, unit: str | None) -> tuple[str, str]:
    email = f"{role}-{uuid.uuid4().hex[:8]}@{uni.slug}.edu.cn"
    r = await client.post(
        "/api/v1/accounts",
        json={"email": email, "password": "a-long-password-1", "role": role, "display_name": "张三"},
        headers=uni.admin,
    )
    assert r.status_code == 201, r.text
    if unit:
        await link_person(client, uni.tenant, r.json()["id"], unit)
    # Choose the account's own password once (through the API), so every console sign-in goes straight in.
    return email, (await sign_in(client, uni.slug, email, "a-long-password-1")).password


async def signed_in(web: Any, uni: Any, who: tuple[str, str]) -> Browser:
    """A browser signed in to the console."""
    b: Browser = web()
    r = await b.sign_in(uni.slug, *who)
    assert r.status_code == 303 and r.headers["location"] == "/console/queue", r.text
    return b
