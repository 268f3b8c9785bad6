"""The platform API's archive download, offboarding with a typed confirmation, and bureau accounts by province."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from service.ops import tenant_archive
from tests.support.archive import archive_tables
from tests.support.platform import auth, sign_in
from tests.support.problems import assert_problem


def _rows(conn: psycopg.Connection, tenant_id: uuid.UUID) -> dict[str, int]:
    """Rows of the university per tenant table, as the superuser sees them (no row-level security)."""
    from service.ops.catalog import read_catalog

    counts = {
        name: conn.execute(f"select count(*) from {name} where tenant_id = %s", (tenant_id,)).fetchone()[0]  # type: ignore[index]
        for name, table in read_catalog(conn).items()
        if table.tenant
    }
    counts["tenants"] = conn.execute("select count(*) from tenants where id = %s", (tenant_id,)).fetchone()[0]  # type: ignore[index]
    return counts


@pytest.fixture
def superuser(database_url: str) -> Any:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


async def test_the_archive_download_is_the_command_line_archive_of_that_university(
    client, platform_token, make_tenant, tmp_path: Path, superuser
):
    t = await make_tenant()
    other = await make_tenant()
    r = await client.get(f"/api/v1/platform/tenants/{t.id}/archive", headers=auth(platform_token))
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "application/gzip"
    assert f'filename="{t.slug}.tar.gz"' in r.headers["content-disposition"]
    archive = tmp_path / "a.tar.gz"
    archive.write_bytes(r.content)
    tables = archive_tables(archive)
    assert [row["slug"] for row in tables["tenants"]] == [t.slug]
    assert {row["email"] for row in tables["accounts"]} == {t.admin_email}
    assert {row["tenant_id"] for name, rows in tables.items() if name != "tenants" for row in rows} == {str(t.id)}
    assert str(other.id) not in r.content.decode("latin-1")
    events = superuser.execute(
        "select type, actor from platform_journal where university_id = %s order by occurred_at", (t.id,)
    ).fetchall()
    assert events[-1][0] == "tenant.exported" and events[-1][1].startswith("platform account ")

    assert_problem(
        await client.get(f"/api/v1/platform/tenants/{uuid.uuid4()}/archive", headers=auth(platform_token)), 404
    )
    assert_problem(await client.get(f"/api/v1/platform/tenants/{t.id}/archive", headers=t.headers), 403)
    assert_problem(await client.get(f"/api/v1/platform/tenants/{t.id}/archive"), 401)


async def test_offboarding_needs_the_typed_code_deletes_everything_once_and_answers_a_retry(
    client, platform_token, make_tenant, settings, superuser
):
    t = await make_tenant()
    other = await make_tenant()
    url, h = f"/api/v1/platform/tenants/{t.id}/offboard", auth(platform_token)
    before = _rows(superuser, t.id)
    other_before = _rows(superuser, other.id)

    body = assert_problem(await client.post(url, json={"confirm": other.slug}, headers=h), 422, "confirmation-mismatch")
    assert [e["field"] for e in body["errors"]] == ["confirm"]
    assert_problem(await client.post(url, json={}, headers=h), 400)
    assert_problem(await client.post(url, json={"confirm": t.slug}, headers=t.headers), 403)
    assert _rows(superuser, t.id) == before  # nothing touched

    r = await client.post(url, json={"confirm": t.slug}, headers=h)
    assert r.status_code == 200, r.text
    done = r.json()
    assert (done["tenant_id"], done["slug"], done["rows"]) == (str(t.id), t.slug, before)
    assert set(_rows(superuser, t.id).values()) == {0}
    assert _rows(superuser, other.id) == other_before
    kept = Path(settings.data_dir) / done["archive_file"]
    assert tenant_archive.file_sha256(kept) == done["archive_sha256"]
    assert {row["email"] for row in archive_tables(kept)["accounts"]} == {t.admin_email}
    # The university's own sessions end.
    assert (await client.get("/api/v1/accounts/", headers=t.headers)).status_code in {401, 403}

    # A retry (the answer was lost) answers the same offboarding; a wrong code is still refused.
    again = await client.post(url, json={"confirm": t.slug}, headers=h)
    assert again.status_code == 200 and again.json() == done
    assert_problem(await client.post(url, json={"confirm": "nope"}, headers=h), 422, "confirmation-mismatch")
    offboarded = superuser.execute(
        "select count(*) from platform_journal where university_id = %s and type = 'tenant.offboarded'", (t.id,)
    ).fetchone()
    assert offboarded == (1,)
    assert_problem(await client.get(f"/api/v1/platform/tenants/{t.id}", headers=h), 404)
    # Its archive stays downloadable: the one the offboarding kept, byte for byte.
    r = await client.get(f"/api/v1/platform/tenants/{t.id}/archive", headers=h)
    assert r.status_code == 200 and r.content == kept.read_bytes()
    assert f'filename="{t.slug}.tar.gz"' in r.headers["content-disposition"]
    assert kept.exists()  # served, not removed
    assert_problem(
        await client.post(f"/api/v1/platform/tenants/{uuid.uuid4()}/offboard", json={"confirm": "x"}, headers=h), 404
    )


async def test_offboarding_a_university_that_changes_during_the_export_deletes_nothing(
    client, platform_token, make_tenant, settings, superuser, monkeypatch
):
    """The export and the deletion are two steps: a row added between them rolls the deletion back whole."""
    t = await make_tenant()
    real_export = tenant_archive.export_tenant

    def export_then_write(conn: psycopg.Connection, *args: Any, **kw: Any) -> Any:
        manifest = real_export(conn, *args, **kw)
        conn.execute(
            "insert into api_keys (id, tenant_id, name, scopes, secret_hash, created_at) "
            "values (gen_random_uuid(), %s, 'late', '{}', 'x', now())",
            (t.id,),
        )
        return manifest

    monkeypatch.setattr(tenant_archive, "export_tenant", export_then_write)
    before = _rows(superuser, t.id)
    r = await client.post(
        f"/api/v1/platform/tenants/{t.id}/offboard", json={"confirm": t.slug}, headers=auth(platform_token)
    )
    assert_problem(r, 409, "offboarding-interrupted")
    assert _rows(superuser, t.id) == {**before, "api_keys": before["api_keys"] + 1}
    assert (await client.get(f"/api/v1/platform/tenants/{t.id}", headers=auth(platform_token))).status_code == 200


async def test_bureau_accounts_by_province_listed_and_deactivated(client, platform_token):
    h = auth(platform_token)
    province = "450000"
    email = f"bureau-{uuid.uuid4().hex[:6]}@edu.gx.gov.cn"
    made = await client.post(
        "/api/v1/platform/accounts",
        headers=h,
        json={"email": email, "password": "bureau-password-1", "role": "bureau_viewer", "province_code": province},
    )
    assert made.status_code == 201, made.text
    account = made.json()
    assert (account["province_code"], account["active"]) == (province, True)
    elsewhere = await client.post(
        "/api/v1/platform/accounts",
        headers=h,
        json={
            "email": f"bureau-{uuid.uuid4().hex[:6]}@edu.gd.gov.cn",
            "password": "bureau-password-1",
            "role": "bureau_viewer",
            "province_code": "440000",
        },
    )
    assert elsewhere.status_code == 201

    listed = await client.get(
        "/api/v1/platform/accounts", params={"role": "bureau_viewer", "province_code": province}, headers=h
    )
    assert listed.status_code == 200
    assert email in [a["email"] for a in listed.json()]
    assert {a["province_code"] for a in listed.json()} == {province}
    assert_problem(await client.get("/api/v1/platform/accounts", params={"province_code": "45"}, headers=h), 400)

    bureau = await sign_in(client, None, email, "bureau-password-1")
    assert (await client.get("/api/v1/auth/me", headers=bureau.headers)).status_code == 200
    assert_problem(await client.get("/api/v1/platform/accounts", headers=bureau.headers), 403)

    r = await client.post(f"/api/v1/platform/accounts/{account['id']}/deactivate", headers=h)
    assert r.status_code == 200 and r.json()["active"] is False
    assert_problem(await client.get("/api/v1/auth/me", headers=bureau.headers), 401)
    login = await client.post("/api/v1/auth/login", json={"email": email, "password": bureau.password})
    assert_problem(login, 401)
    again = await client.post(f"/api/v1/platform/accounts/{account['id']}/deactivate", headers=h)
    assert again.status_code == 200 and again.json()["active"] is False
    active = await client.get(
        "/api/v1/platform/accounts", params={"province_code": province, "active": "true"}, headers=h
    )
    assert email not in [a["email"] for a in active.json()]
    assert_problem(await client.post(f"/api/v1/platform/accounts/{uuid.uuid4()}/deactivate", headers=h), 404)


async def test_an_admin_cannot_deactivate_their_own_account(client, db):
    from tenants import identity

    async with db.transaction() as session:
        account = await identity.create_platform_account(
            session,
            email=f"root-{uuid.uuid4().hex[:8]}@xinfang.test",
            password="platform-password-1",
            role=identity.Role.platform_admin,
        )
        token = await identity.create_platform_token(session, account, "tests")
    r = await client.post(f"/api/v1/platform/accounts/{account.id}/deactivate", headers=auth(token))
    assert_problem(r, 409, "own-account")


async def test_two_offboardings_at_once_delete_once_and_answer_alike(
    client, platform_token, make_tenant, superuser, settings
):
    import asyncio

    t = await make_tenant()
    url, h = f"/api/v1/platform/tenants/{t.id}/offboard", auth(platform_token)
    first, second = await asyncio.gather(
        client.post(url, json={"confirm": t.slug}, headers=h), client.post(url, json={"confirm": t.slug}, headers=h)
    )
    assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
    assert first.json() == second.json()
    # The kept archive is the one the offboarding recorded (the second request did not overwrite it).
    kept = Path(settings.data_dir) / first.json()["archive_file"]
    assert tenant_archive.file_sha256(kept) == first.json()["archive_sha256"]
    offboarded = superuser.execute(
        "select count(*) from platform_journal where university_id = %s and type = 'tenant.offboarded'", (t.id,)
    ).fetchone()
    assert offboarded == (1,)
