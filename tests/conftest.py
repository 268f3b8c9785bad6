"""Test set-up: one fresh, migrated database per test session on a real PostgreSQL.

The server is an embedded PostgreSQL (``.xinfang/test-pgdata``) unless ``XINFANG_TEST_DATABASE_URL`` names a
server (a privileged URL; the suite creates and drops its own database there). Tests isolate themselves the way
production does: every test makes its own universities, so nothing needs truncating.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import psycopg
import pytest
import time_machine
from hypothesis import settings as hypothesis_settings

from tests.support.platform import DATA_KEY, FIXED_NOW, ROOT, SECRET, TenantHandle, onboard

pytest_plugins = ["tests.support.fixtures"]

# Properties are about values, not speed: a loaded CI machine must not turn a slow example into a failure.
hypothesis_settings.register_profile("xinfang", deadline=None)
hypothesis_settings.load_profile("xinfang")
os.environ.setdefault("XINFANG_ENV", "test")
os.environ.setdefault("XINFANG_SECRET_KEY", SECRET)
os.environ.setdefault("XINFANG_DATA_KEY", DATA_KEY)
os.environ.setdefault("XINFANG_LOG_FORMAT", "json")
os.environ.setdefault("XINFANG_LOG_LEVEL", "warning")
os.environ.setdefault("XINFANG_BROKER_URL", "postgres")
os.environ.setdefault("XINFANG_TENANT_CACHE_SECONDS", "0")
# argon2id at its cheapest: the suite creates thousands of accounts (production keeps RFC 9106's cost).
os.environ.setdefault("XINFANG_PASSWORD_HASH_PROFILE", "test")
# Every test signs in from the same client address: per-client sign-in throttling is tested on an app of its own.
os.environ.setdefault("XINFANG_SIGN_IN_CLIENT_FAILURES", "1000000")
# Webhook tests deliver to receivers on 127.0.0.1 (the development/test allowance).
os.environ.setdefault("XINFANG_WEBHOOK_ALLOW_LOOPBACK", "true")

_SESSION: dict[str, str] = {}


def pytest_configure(config: pytest.Config) -> None:
    """Create the session database before any test module is imported, so that every process-wide object
    (settings, the broker installed by actor modules) sees its URL from the start."""
    from service.ops.embedded import database_url as url_for
    from service.ops.embedded import start_postgres

    server = os.environ.get("XINFANG_TEST_DATABASE_URL") or start_postgres(
        ROOT / ".xinfang" / "test-pgdata", cleanup="stop"
    )
    name = f"xf_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    _SESSION.update(server=server, name=name)
    os.environ["XINFANG_DATABASE_URL"] = url_for(server, name)


def pytest_unconfigure(config: pytest.Config) -> None:
    if _SESSION:
        with psycopg.connect(_SESSION["server"], autocommit=True) as conn:
            conn.execute(f'drop database if exists "{_SESSION["name"]}" with (force)')


@pytest.fixture
def clock() -> Iterator[time_machine.Traveller]:
    """Time starts at ``FIXED_NOW`` for the whole test and ticks on from there; ``clock.move_to(instant)``
    jumps (to the last minute of a year, say). Sign in inside the test: tokens carry the travelled time."""
    with time_machine.travel(FIXED_NOW, tick=True) as traveller:
        yield traveller


@pytest.fixture(scope="session")
def server_url() -> str:
    return _SESSION["server"]


@pytest.fixture(scope="session")
def database_url() -> str:
    """The session's database, migrated to head (it is XINFANG_DATABASE_URL for the whole session)."""
    from service.ops.cli import migrate
    from tenants.settings import get_settings

    get_settings.cache_clear()
    migrate()
    return os.environ["XINFANG_DATABASE_URL"]


@pytest.fixture(scope="session")
def settings(database_url: str) -> Any:
    from tenants.settings import get_settings

    return get_settings()


@pytest.fixture(scope="session")
async def app(settings: Any) -> Any:
    from service.http.app import create_app

    return create_app(settings)


@pytest.fixture(scope="session")
async def client(app: Any) -> AsyncIterator[Any]:
    """An HTTP client on the test's own event loop, through the real ASGI app (lifespan included)."""
    import httpx

    from service.http.app import app_resources

    async with app_resources(app):
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as test_client:
            yield test_client


@pytest.fixture(scope="session")
async def db(app: Any, client: Any) -> Any:
    """The app's own Database (application role, row-level security applies)."""
    return app.state.db


@pytest.fixture(scope="session")
async def platform_token(db: Any) -> str:
    from tenants import identity

    async with db.transaction() as session:
        account = await identity.create_platform_account(
            session,
            email=f"root-{uuid.uuid4().hex[:8]}@xinfang.test",
            password="platform-password-1",
            role=identity.Role.platform_admin,
        )
        return await identity.create_platform_token(session, account, "tests")


@pytest.fixture
async def make_tenant(client: Any, platform_token: str) -> Any:
    """``await make_tenant(province_code=..., timezone=...)``: a new university, its admin signed in."""

    async def make(province_code: str = "440000", timezone: str = "Asia/Shanghai") -> TenantHandle:
        return await onboard(client, platform_token, province_code, timezone)

    return make


@pytest.fixture
async def tenant(make_tenant: Any) -> TenantHandle:
    return await make_tenant()
