"""Signing in as a real user does, onboarding a university through the platform API, the test instant."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

# The instant date-sensitive tests start at: a Wednesday in the middle of a month, a quarter and a year (10:00 in
# Shanghai), far from every boundary, so no test depends on the real date.
ROOT = Path(__file__).resolve().parents[2]
# The service's secrets in tests (the suite's own; never a deployment's).
SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
DATA_KEY = base64.b64encode(b"k" * 32).decode()
FIXED_NOW = dt.datetime(2026, 11, 18, 2, 0, tzinfo=dt.UTC)


FIXED_TODAY = dt.date(2026, 11, 18)  # its date, in Shanghai and in UTC alike


@dataclass
class TenantHandle:
    id: uuid.UUID
    slug: str
    admin_email: str
    admin_password: str
    admin_token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.admin_token}"}


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@dataclass
class SignedIn:
    token: str
    password: str  # the account's password now (changed at first sign-in when it had to be)

    @property
    def headers(self) -> dict[str, str]:
        return auth(self.token)


def changed(password: str) -> str:
    """The password a test account takes at its first sign-in, in place of the one an admin issued."""
    return password + "-mine"


async def sign_in(client: Any, slug: str | None, email: str, password: str) -> SignedIn:
    """Sign in the way a real user does: when the password was issued by an admin (onboarding, account creation,
    reset), the login answer says it must be changed, so change it to ``changed(password)`` through
    ``POST /api/v1/auth/password`` and continue with the new token. The one helper every test signs in with."""
    body: dict[str, Any] = {"email": email, "password": password}
    if slug is not None:
        body["tenant"] = slug
    login = await client.post("/api/v1/auth/login", json=body)
    assert login.status_code == 200, login.text
    pair = login.json()
    if not pair.get("password_change_required"):
        return SignedIn(pair["access_token"], password)
    new = changed(password)
    r = await client.post(
        "/api/v1/auth/password",
        json={"current_password": password, "new_password": new},
        headers=auth(pair["access_token"]),
    )
    assert r.status_code == 200, r.text
    return SignedIn(r.json()["access_token"], new)


async def onboard(
    client: Any, platform_token: str, province_code: str = "440000", timezone: str = "Asia/Shanghai"
) -> TenantHandle:
    """Onboard a university through the platform API and sign its admin in (changing the one-time password:
    ``admin_password`` is the admin's password now)."""
    slug = f"u-{uuid.uuid4().hex[:10]}"
    r = await client.post(
        "/api/v1/platform/tenants",
        json={
            "slug": slug,
            "name_zh": "测试大学",
            "name_en": "Test University",
            "province_code": province_code,
            "timezone": timezone,
            "admin_email": f"admin@{slug}.edu.cn",
        },
        headers=auth(platform_token),
    )
    assert r.status_code == 201, r.text
    body = r.json()
    admin = await sign_in(client, slug, body["admin"]["email"], body["admin"]["password"])
    return TenantHandle(uuid.UUID(body["tenant"]["id"]), slug, body["admin"]["email"], admin.password, admin.token)
