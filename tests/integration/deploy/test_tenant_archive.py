"""Tenant export / import / offboarding over the privileged operator path, against real databases."""

from __future__ import annotations

import hashlib
import io
import json
import tarfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from service.ops import tenant_archive
from service.ops.catalog import read_catalog
from service.ops.cli import main as cli
from tests.support.archive import KEY, archive_tables


@pytest.fixture
def source(database_url: str) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def fresh_url(server_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A second, empty installation on the same server: a new database migrated with `xinfang migrate`."""
    from service.ops.cli import migrate
    from service.ops.embedded import database_url as url_for
    from tenants.settings import get_settings

    name = f"xf_import_{uuid.uuid4().hex[:8]}"
    url = url_for(server_url, name)
    monkeypatch.setenv("XINFANG_DATABASE_URL", url)
    get_settings.cache_clear()
    try:
        migrate()
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(f'drop database if exists "{name}" with (force)')


async def _populate(client: Any, make_tenant: Any) -> Any:
    tenant = await make_tenant()
    r = await client.post(
        "/api/v1/accounts",
        json={
            "email": f"staff@{tenant.slug}.edu.cn",
            "password": "staff-password-1",
            "role": "staff",
            "display_name": "张伟",
        },
        headers=tenant.headers,
    )
    assert r.status_code == 201, r.text
    r = await client.post("/api/v1/api-keys", json={"name": "erp", "scopes": ["events:read"]}, headers=tenant.headers)
    assert r.status_code == 201, r.text
    return tenant


def _tenant_counts(conn: psycopg.Connection, tenant_id: uuid.UUID) -> dict[str, int]:
    """Rows of the tenant per table, as the superuser sees them (no row-level security)."""
    catalog = read_catalog(conn)
    counts = {
        name: conn.execute(f"select count(*) from {name} where tenant_id = %s", (tenant_id,)).fetchone()[0]  # type: ignore[index]
        for name, table in catalog.items()
        if table.tenant
    }
    counts["tenants"] = conn.execute("select count(*) from tenants where id = %s", (tenant_id,)).fetchone()[0]  # type: ignore[index]
    return counts


async def test_export_is_a_documented_archive_of_every_tenant_table(
    client: Any, make_tenant: Any, source: psycopg.Connection, tmp_path: Path
) -> None:
    tenant = await _populate(client, make_tenant)
    other = await _populate(client, make_tenant)
    archive = tmp_path / "a.tar.gz"
    manifest = tenant_archive.export_tenant(source, tenant.slug, archive, data_key=KEY)

    catalog = read_catalog(source)
    assert manifest["tables"][0]["name"] == "tenants"
    assert {t["name"] for t in manifest["tables"]} == {"tenants"} | {n for n, t in catalog.items() if t.tenant}
    assert manifest["schema_version"] == sorted(r[0] for r in source.execute("select version_num from alembic_version"))
    counts = {t["name"]: t["rows"] for t in manifest["tables"]}
    assert counts == _tenant_counts(source, tenant.id)
    assert counts["accounts"] == 2 and counts["api_keys"] == 1 and counts["journal"] >= 3
    accounts = next(t for t in manifest["tables"] if t["name"] == "accounts")
    assert "display_name" in accounts["encrypted_columns"]
    assert {"name": "email", "type": "character varying(254)"} in accounts["columns"]

    tables = archive_tables(archive)
    assert all(row["tenant_id"] == str(tenant.id) for name, rows in tables.items() if name != "tenants" for row in rows)
    assert str(other.id) not in archive.read_bytes().decode("latin-1")
    staff = next(r for r in tables["accounts"] if r["role"] == "staff")
    # Personal data stays ciphertext in the archive: the name is not in it, the hex ciphertext is.
    assert staff["display_name"].startswith("\\x01") and "张伟" not in json.dumps(tables, ensure_ascii=False)
    with tarfile.open(archive, "r:gz") as tar:
        assert sorted(tar.getnames()) == sorted(["manifest.json", *(t["file"] for t in manifest["tables"])])
        for entry in manifest["tables"]:
            data = tar.extractfile(entry["file"]).read()  # type: ignore[union-attr]
            assert hashlib.sha256(data).hexdigest() == entry["sha256"]
    event = source.execute(
        "select type, payload from platform_journal where university_id = %s order by occurred_at", (tenant.id,)
    ).fetchall()
    assert [e[0] for e in event] == ["tenant.exported"] and event[0][1]["rows"] == counts


async def test_round_trip_into_an_empty_installation(
    client: Any, make_tenant: Any, source: psycopg.Connection, fresh_url: str, tmp_path: Path
) -> None:
    from tenants import crypto
    from tenants.settings import with_user

    tenant = await _populate(client, make_tenant)
    archive = tmp_path / "a.tar.gz"
    manifest = tenant_archive.export_tenant(source, tenant.slug, archive, data_key=KEY)

    with psycopg.connect(fresh_url, autocommit=True) as target:
        loaded = tenant_archive.import_tenant(target, archive, data_key=KEY)
        assert loaded == {t["name"]: t["rows"] for t in manifest["tables"]}
        assert _tenant_counts(target, tenant.id) == loaded
        again = tmp_path / "again.tar.gz"
        tenant_archive.export_tenant(target, tenant.slug, again, data_key=KEY)
        # Same contents; only the journal's relay position is re-assigned (txid 0: never relayed again).
        before, after = archive_tables(archive), archive_tables(again)
        assert {row["txid"] for row in after["journal"]} == {"0"}
        assert "0" not in {row["txid"] for row in before["journal"]}
        for row in (*before["journal"], *after["journal"]):
            del row["txid"], row["seq"]
        assert before == after
        cursor = target.execute("select txid, seq from journal_cursors where name = 'relay'").fetchone()
        top = target.execute("select max(seq) from journal where txid = 0").fetchone()[0]  # type: ignore[index]
        assert cursor == (0, top)

        # The application role sees the imported university under row-level security, and decrypts its data.
        with psycopg.connect(with_user(fresh_url, "xinfang_app"), autocommit=True) as app, app.transaction():
            app.execute("select set_config('app.tenant_id', %s, true)", (str(tenant.id),))
            names = [r[0] for r in app.execute("select display_name from accounts where role = 'staff'")]
            assert [crypto.decrypt(n) for n in names] == ["张伟"]
            assert app.execute("select count(*) from api_keys").fetchone()[0] == 1  # type: ignore[index]

        # Importing twice is refused, and changes nothing.
        with pytest.raises(tenant_archive.ArchiveError, match="already exists"):
            tenant_archive.import_tenant(target, archive, data_key=KEY)
        assert _tenant_counts(target, tenant.id) == loaded
        imported = target.execute("select count(*) from platform_journal where type = 'tenant.imported'").fetchone()
        assert imported == (1,)


async def test_import_refuses_damaged_archives_and_other_keys(
    client: Any, make_tenant: Any, source: psycopg.Connection, fresh_url: str, tmp_path: Path
) -> None:
    tenant = await _populate(client, make_tenant)
    archive = tmp_path / "a.tar.gz"
    tenant_archive.export_tenant(source, tenant.slug, archive, data_key=KEY)
    tables = archive_tables(archive)
    damaged = tmp_path / "damaged.tar.gz"
    with tarfile.open(archive, "r:gz") as src, tarfile.open(damaged, "w:gz") as dst:
        for member in src.getmembers():
            data = src.extractfile(member).read()  # type: ignore[union-attr]
            if member.name == "tables/accounts.csv":
                data = data.replace(b"staff", b"tenant_admin")
            member.size = len(data)
            dst.addfile(member, io.BytesIO(data))
    (tmp_path / "junk.tar.gz").write_bytes(b"not an archive")
    with psycopg.connect(fresh_url, autocommit=True) as target:
        with pytest.raises(tenant_archive.ArchiveError, match="checksum"):
            tenant_archive.import_tenant(target, damaged, data_key=KEY)
        with pytest.raises(tenant_archive.ArchiveError, match="another XINFANG_DATA_KEY"):
            tenant_archive.import_tenant(target, archive, data_key=b"x" * 32)
        with pytest.raises(tenant_archive.ArchiveError, match="not a readable archive"):
            tenant_archive.import_tenant(target, tmp_path / "junk.tar.gz", data_key=KEY)
        assert set(_tenant_counts(target, tenant.id).values()) == {0}
    assert tables["accounts"]


async def test_offboarding_exports_then_deletes_only_that_university(
    client: Any, make_tenant: Any, source: psycopg.Connection, db: Any, tmp_path: Path
) -> None:
    tenant = await _populate(client, make_tenant)
    other = await _populate(client, make_tenant)
    other_before = tenant_archive.export_tenant(source, other.slug, tmp_path / "b1.tar.gz", data_key=KEY)
    archive = tmp_path / "offboard" / "a.tar.gz"

    with pytest.raises(tenant_archive.ArchiveError, match="repeating the slug"):
        tenant_archive.offboard_tenant(source, tenant.slug, archive, data_key=KEY, confirm="wrong")
    assert not archive.exists()

    counts = _tenant_counts(source, tenant.id)
    deleted = tenant_archive.offboard_tenant(source, tenant.slug, archive, data_key=KEY, confirm=tenant.slug)
    assert deleted == counts
    assert set(_tenant_counts(source, tenant.id).values()) == {0}
    r = await client.get("/api/v1/accounts", headers=tenant.headers)
    assert r.status_code in {401, 403, 404}

    # The other university is untouched, row for row.
    other_after = tenant_archive.export_tenant(source, other.slug, tmp_path / "b2.tar.gz", data_key=KEY)
    assert [(t["name"], t["rows"], t["sha256"]) for t in other_after["tables"]] == [
        (t["name"], t["rows"], t["sha256"]) for t in other_before["tables"]
    ]
    r = await client.get("/api/v1/accounts", headers=other.headers)
    assert r.status_code == 200 and len(r.json()["items"] if isinstance(r.json(), dict) else r.json()) == 2

    # Journaled at platform level, where it outlives the university.
    events = source.execute(
        "select type, payload, actor from platform_journal where university_id = %s order by occurred_at",
        (tenant.id,),
    ).fetchall()
    assert [e[0] for e in events] == ["tenant.exported", "tenant.offboarded"]
    assert events[1][1]["rows"] == counts and events[1][1]["archive_sha256"] == tenant_archive.file_sha256(archive)
    assert events[1][2]

    # The archive brings it back (here into the same installation).
    restored = tenant_archive.import_tenant(source, archive, data_key=KEY)
    assert restored == counts == _tenant_counts(source, tenant.id)

    # Why the privileged path: the application role can delete neither journal rows nor platform journal rows.
    with pytest.raises(DBAPIError, match="permission denied"):
        async with db.transaction(tenant.id) as session:
            await session.execute(text("delete from journal"))
    with pytest.raises(DBAPIError, match="permission denied"):
        async with db.transaction() as session:
            await session.execute(text("delete from platform_journal"))


async def test_cli_tenant_commands(
    client: Any, make_tenant: Any, tmp_path: Path, capsys: pytest.CaptureFixture[str], source: psycopg.Connection
) -> None:
    tenant = await _populate(client, make_tenant)
    archive = tmp_path / "cli.tar.gz"
    assert cli(["tenant", "export", tenant.slug, "--output", str(archive)]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["accounts"] == 2
    assert cli(["tenant", "import", str(archive)]) == 1
    assert "already exists" in capsys.readouterr().err
    assert cli(["tenant", "offboard", tenant.slug, "--archive", str(archive), "--confirm", "nope"]) == 1
    assert cli(["tenant", "offboard", str(tenant.id), "--archive", str(archive), "--confirm", tenant.slug]) == 0
    assert json.loads(capsys.readouterr().out)["rows"]["tenants"] == 1
    assert set(_tenant_counts(source, tenant.id).values()) == {0}
    assert cli(["tenant", "export", "no-such-university", "--output", str(tmp_path / "x.tar.gz")]) == 1
