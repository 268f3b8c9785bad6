"""RFC 9457 problem responses as tests check them."""

from __future__ import annotations

PROBLEM = "application/problem+json"


def assert_problem(r, status: int, code: str | None = None) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith(PROBLEM)
    body = r.json()
    assert body["status"] == status and body["type"].startswith("https://xinfang.dev/problems/") and body["title"]
    if code:
        assert body["type"].endswith("/" + code), body
    assert "Traceback" not in r.text
    return body
