"""A university ready for incidents: a published plan, its four groups filled with people linked to accounts
(a leader and a member each), offices with staff for tasks, and stock in the inventory."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.emergency import University, make_university


@pytest.fixture
async def uni(client: Any, db: Any, platform_token: str) -> University:
    return await make_university(client, db, platform_token)


@pytest.fixture(scope="module")
async def shared_uni(client: Any, db: Any, platform_token: str) -> University:
    """One university for a whole module (tests that only add incidents of their own)."""
    return await make_university(client, db, platform_token)


@pytest.fixture(autouse=True)
def fresh_rate_limits(app: Any) -> None:
    """These tests drive hundreds of requests per account within a minute (the exhaustive tables): each test
    starts with fresh per-account budgets. Rate limiting itself is tested in test_http_basics."""
    from service.http.security import RateLimiter

    app.state.rate_limiter = RateLimiter()
