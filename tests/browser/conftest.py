"""Browser tests: Playwright drives Debian's chromium (``/usr/bin/chromium``, launched by path: no browser
download) against the app served over real HTTP by ``xinfang serve`` on the session's database. Each role has a
browser context of its own; axe-core (bundled in axe-playwright-python) checks every page visited; screenshots
go to ``.xinfang/screenshots/``.

Without chromium these tests fail, naming the packages to install (CI installs them: ``.ci/run``).
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("XINFANG_TEST_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / ".xinfang" / "screenshots"
PASSWORD = "a-long-password-1"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"the browser tests need Debian's chromium at {CHROMIUM}: apt-get install -y chromium fonts-wqy-microhei"
        )
    # Root needs --no-sandbox; the tests run headless.
    return {**browser_type_launch_args, "executable_path": str(CHROMIUM), "args": ["--no-sandbox"], "headless": True}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(database_url: str) -> Iterator[str]:
    """The app under uvicorn on a free port, on the session's migrated database."""
    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "service.ops.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    # localhost: a secure context for chromium, so the Secure session cookie works over plain HTTP here.
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.stderr.read().decode()[-3000:] if process.stderr else ""
        try:
            if httpx.get(f"{url}/ready", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.3)
    else:
        process.terminate()
        pytest.fail("the server did not become ready")
    try:
        yield url
    finally:
        process.terminate()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()


@dataclass
class Campus:
    """A university made through the HTTP API: two offices with a staff member each, a petition officer."""

    url: str
    slug: str
    admin: dict[str, str]
    unit_a: str
    unit_b: str
    officer: tuple[str, str]
    staff_a: tuple[str, str]
    staff_b: tuple[str, str]

    def api(self, method: str, path: str, **kw: Any) -> httpx.Response:
        return httpx.request(method, self.url + path, headers=self.admin, timeout=30, **kw)


def _sign_in(url: str, slug: str | None, email: str, password: str) -> tuple[str, str]:
    """Sign in through the API, choosing one's own password when it was issued: (token, password now)."""
    body = {"email": email, "password": password, **({"tenant": slug} if slug else {})}
    r = httpx.post(f"{url}/api/v1/auth/login", json=body, timeout=30)
    assert r.status_code == 200, r.text
    pair = r.json()
    if not pair.get("password_change_required"):
        return pair["access_token"], password
    new = password + "-mine"
    r = httpx.post(
        f"{url}/api/v1/auth/password",
        json={"current_password": password, "new_password": new},
        headers={"Authorization": f"Bearer {pair['access_token']}"},
        timeout=30,
    )
    assert r.status_code == 200, r.text
    return r.json()["access_token"], new


@pytest.fixture(scope="session")
def platform_headers(live_server: str) -> dict[str, str]:
    email = f"root-{uuid.uuid4().hex[:8]}@xinfang.test"
    out = subprocess.run(
        [sys.executable, "-m", "service.ops.cli", "admin", "--email", email, "--password", "platform-password-1"],
        cwd=ROOT,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    token = re.search(r"token:\s+(\S+)", out)
    assert token, out
    return {"Authorization": f"Bearer {token.group(1)}"}


@pytest.fixture
def campus(live_server: str, platform_headers: dict[str, str]) -> Campus:
    url = live_server
    slug = f"u-{uuid.uuid4().hex[:10]}"
    r = httpx.post(
        f"{url}/api/v1/platform/tenants",
        json={
            "slug": slug,
            "name_zh": "示范大学",
            "name_en": "Demo University",
            "province_code": "440000",
            "timezone": "Asia/Shanghai",
            "admin_email": f"admin@{slug}.edu.cn",
        },
        headers=platform_headers,
        timeout=30,
    )
    assert r.status_code == 201, r.text
    admin = r.json()["admin"]
    token, _ = _sign_in(url, slug, admin["email"], admin["password"])
    headers = {"Authorization": f"Bearer {token}"}

    def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        r = httpx.post(url + path, json=body, headers=headers, timeout=30)
        assert r.status_code == 201, r.text
        return r.json()  # type: ignore[no-any-return]

    root = post(
        "/api/v1/org/units", {"kind": "university", "code": "ROOT", "name_zh": "示范大学", "name_en": "Demo University"}
    )
    unit_a = post(
        "/api/v1/org/units",
        {
            "kind": "office",
            "code": "HQ",
            "name_zh": "后勤管理处",
            "name_en": "Logistics Office",
            "parent_id": root["id"],
        },
    )["id"]
    unit_b = post(
        "/api/v1/org/units",
        {"kind": "office", "code": "JW", "name_zh": "教务处", "name_en": "Academic Affairs", "parent_id": root["id"]},
    )["id"]
    post(
        "/api/v1/petition-categories",
        {"code": "dormitory", "name_zh": "宿舍", "name_en": "Dormitory", "default_org_unit_id": unit_a},
    )
    post(
        "/api/v1/petition-categories",
        {"code": "teaching", "name_zh": "教学", "name_en": "Teaching", "default_org_unit_id": unit_b},
    )

    def account(role: str, unit: str | None) -> tuple[str, str]:
        email = f"{role}-{uuid.uuid4().hex[:6]}@{slug}.edu.cn"
        made = post("/api/v1/accounts", {"email": email, "password": PASSWORD, "role": role, "display_name": "职员"})
        if unit:
            post(
                "/api/v1/org/people",
                {"staff_number": uuid.uuid4().hex[:10], "name_zh": "职员", "unit_id": unit, "account_id": made["id"]},
            )
        return email, PASSWORD

    return Campus(
        url,
        slug,
        headers,
        unit_a,
        unit_b,
        account("petition_officer", None),
        account("staff", unit_a),
        account("staff", unit_b),
    )
