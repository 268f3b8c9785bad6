"""A form-posting client of the console's pages for integration tests (cookies, CSRF token), without a
browser."""

from __future__ import annotations

import re
from typing import Any

import httpx

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
