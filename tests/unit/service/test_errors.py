"""Database errors map to problems whether they come through the ORM or straight from asyncpg (the intake hot
path): a duplicate is 409, a broken rule 422, a refused privilege 403, a lost or restarting server 503 with
Retry-After — never a 500 for what the client or a retry can fix."""

from __future__ import annotations

import asyncpg
import pytest
from litestar import Litestar, get
from litestar.params import FromPath
from litestar.testing import TestClient

from service.http.errors import EXCEPTION_HANDLERS

RAISED: dict[str, Exception] = {
    "unique": asyncpg.UniqueViolationError("duplicate key"),
    "foreign-key": asyncpg.ForeignKeyViolationError("no such unit"),
    "check": asyncpg.CheckViolationError("negative stock"),
    "privilege": asyncpg.InsufficientPrivilegeError("row-level security"),
    "shutdown": asyncpg.AdminShutdownError("terminating connection"),
    "closed": asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
}


@get("/raise/{name:str}", sync_to_thread=False)
def raising(name: FromPath[str]) -> None:
    raise RAISED[name]


@pytest.mark.parametrize(
    ("name", "status", "code"),
    [
        ("unique", 409, "duplicate"),
        ("foreign-key", 422, "unknown-reference"),
        ("check", 422, "constraint"),
        ("privilege", 403, "forbidden"),
        ("shutdown", 503, "unavailable"),
        ("closed", 503, "unavailable"),
    ],
)
def test_asyncpg_errors_become_problems(name: str, status: int, code: str) -> None:
    with TestClient(Litestar([raising], exception_handlers=EXCEPTION_HANDLERS)) as client:
        response = client.get(f"/raise/{name}")
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"].endswith(code)
    if status == 503:
        assert response.headers["retry-after"] == "5"
