"""A web-like client for the console: HTTPS (the session cookie is Secure outside development), cookies
kept, forms posted with the CSRF token the page carried."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from tests.support.forms import Browser


@pytest.fixture
async def web(app: Any, client: Any) -> AsyncIterator[Any]:
    """``await web()``: a new web (its own cookies) on the app, over HTTPS."""
    opened: list[httpx.AsyncClient] = []

    def make() -> Browser:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50001))
        c = httpx.AsyncClient(transport=transport, base_url="https://testserver")
        opened.append(c)
        return Browser(c)

    yield make
    for c in opened:
        await c.aclose()


@pytest.fixture
async def uni(client: Any, make_tenant: Any) -> Any:
    """A university with two offices, two categories, a staff, an officer and a petitioner (the petitions'
    test set-up)."""
    from tests.support.casework import make_university

    return await make_university(client, make_tenant)
