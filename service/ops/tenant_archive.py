"""Tenant export, import and offboarding: everything of one university as one archive, generic over the catalog.

The archive (``.tar.gz``) holds ``manifest.json`` and one CSV file per table (``tables/<table>.csv``): RFC 4180
CSV with a header row, values in PostgreSQL's documented text forms (uuid, ISO 8601 timestamps in UTC, ``\\x``
hex for bytea, ``{...}`` for arrays, JSON text for jsonb; an unquoted empty field is NULL). The manifest names
the schema version, and per table its columns and types, row count and SHA-256. Every table with a
``tenant_id`` column is included (discovered from the catalog, so new tables are exported without code
changes), plus the university's own row of ``tenants``.

Encrypted personal data (the ``bytea`` columns written by ``EncryptedText``) is exported as ciphertext, never
decrypted: an archive is a file that travels (to the university, to cold storage), and plaintext names and
phone numbers in it would be the largest leak this platform could have. The manifest carries the data key's
fingerprint; import refuses an archive made under another key (run the target with the same
``XINFANG_DATA_KEY``). Nothing is re-encrypted, so a round trip is byte-for-byte.

Journal rows keep their ids, times and payloads; their relay position (``txid``, ``seq``) belongs to the source
installation and is re-assigned on import with ``txid = 0``, behind every relay cursor, so imported history
is not delivered to webhooks or jobs a second time.

The platform path here is an explicit privileged connection (``XINFANG_DATABASE_URL``, held by operators and
the migration only), not a SECURITY DEFINER function callable by the application role: offboarding deletes a
whole university including its append-only journal, and that power should not be one bug away from the
internet-facing role. Inside it, the work runs as the owner role with the tenant's context set, so row-level
security (forced on the owner too) still confines every statement to the one university. The platform API's
export and offboarding (``service.platform.services``, platform admins only; offboarding also needs the slug typed
again) open this same connection from the API process, which holds the privileged URL for the broker already;
their journal rows name the platform account (``actor``).
"""

from __future__ import annotations

import contextlib
import getpass
import hashlib
import hmac
import io
import json
import tarfile
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import psycopg
from psycopg import sql

from analytics.runtime.relay import CURSOR
from service.ops.catalog import Table, dependency_order, read_catalog
from tenants.clock import utcnow
from tenants.ddl import OWNER_ROLE
from tenants.ids import new_id

FORMAT = "xinfang-tenant-archive"
FORMAT_VERSION = 1
# The journal's position in the source installation's relay order (see the module docstring).
RELAY_POSITION = ("txid", "seq")


class ArchiveError(Exception):
    """The operation was refused; the message says why. Nothing was changed."""


def key_fingerprint(data_key: bytes) -> str:
    """A short, non-reversible identifier of the personal-data key (which key the ciphertext needs)."""
    return hmac.new(data_key, b"xinfang-data-key-fingerprint", hashlib.sha256).hexdigest()[:16]


def _tenant_tables(catalog: dict[str, Table]) -> list[Table]:
    """Every tenant table, referenced tables first."""
    return dependency_order([t for t in catalog.values() if t.tenant], catalog)


def _schema_version(conn: psycopg.Connection) -> list[str]:
    return sorted(r[0] for r in conn.execute("select version_num from alembic_version"))


def _find_tenant(conn: psycopg.Connection, tenant: str) -> tuple[uuid.UUID, str]:
    try:
        row = conn.execute("select id, slug from tenants where id = %s", (uuid.UUID(tenant),)).fetchone()
    except ValueError:
        row = conn.execute("select id, slug from tenants where slug = %s", (tenant,)).fetchone()
    if row is None:
        raise ArchiveError(f"no university {tenant!r}")
    return row[0], row[1]


def _as_tenant(conn: psycopg.Connection, tenant_id: uuid.UUID) -> None:
    """For the rest of the transaction: the owner role (no superuser RLS bypass) in the tenant's context."""
    conn.execute(sql.SQL("set local role {}").format(sql.Identifier(OWNER_ROLE)))
    conn.execute("select set_config('app.tenant_id', %s, true)", (str(tenant_id),))
    conn.execute("set local timezone = 'UTC'")


def _value(cursor: psycopg.Cursor[Any]) -> Any:
    """The one value of a statement that always gives one row (a count, a session setting)."""
    row = cursor.fetchone()
    assert row is not None
    return row[0]


def _actor(conn: psycopg.Connection) -> str:
    login = _value(conn.execute("select session_user"))
    return f"{login} (os user {getpass.getuser()})"[:200]


def _journal(
    conn: psycopg.Connection, event: str, tenant_id: uuid.UUID, payload: dict[str, Any], actor: str | None = None
) -> None:
    """A platform journal row; ``actor`` names who asked (a platform account through the API), else the login."""
    conn.execute(
        "insert into platform_journal (id, type, university_id, actor, payload) values (%s, %s, %s, %s, %s)",
        (new_id(), event, tenant_id, (actor or _actor(conn))[:200], json.dumps(payload)),
    )


def _columns(table: Table) -> sql.Composable:
    return sql.SQL(", ").join(sql.Identifier(c) for c in table.columns)


def _primary_key(table: Table) -> list[str]:
    return next((cols for kind, _, cols, _, _ in table.keys if kind == "p"), table.columns)


# --- export ---------------------------------------------------------------------------------------------------


def _copy_out(conn: psycopg.Connection, query: sql.Composable, path: Path) -> str:
    digest = hashlib.sha256()
    with (
        path.open("wb") as out,
        conn.cursor().copy(sql.SQL("copy ({}) to stdout (format csv, header)").format(query)) as copy,
    ):
        for chunk in copy:
            out.write(chunk)
            digest.update(chunk)
    return digest.hexdigest()


def export_tenant(
    conn: psycopg.Connection, tenant: str, archive: Path, *, data_key: bytes, actor: str | None = None
) -> dict[str, Any]:
    """Write every row of one university (id or slug) to ``archive``; returns the manifest.

    ``conn`` is a privileged connection in autocommit mode; the export reads one consistent snapshot.
    """
    with tempfile.TemporaryDirectory() as tmp, conn.transaction():
        conn.execute("set transaction isolation level repeatable read, read only")
        tenant_id, slug = _find_tenant(conn, tenant)
        catalog = read_catalog(conn)
        tables = [catalog["tenants"], *_tenant_tables(catalog)]
        schema_version = _schema_version(conn)
        _as_tenant(conn, tenant_id)
        entries = []
        for table in tables:
            order = sql.SQL(", ").join(sql.Identifier(c) for c in _primary_key(table))
            query = sql.SQL("select {} from {} ").format(_columns(table), sql.Identifier(table.name))
            if table.tenant:
                # Row-level security already confines this to the tenant; the filter states it for the reader.
                where = sql.SQL("where tenant_id = {}").format(sql.Literal(str(tenant_id)))
            else:
                where = sql.SQL("where id = {}").format(sql.Literal(str(tenant_id)))
            query = query + where + sql.SQL(" order by ") + order
            rows = _value(conn.execute(sql.SQL("select count(*) from ({}) q").format(query)))
            file = f"tables/{table.name}.csv"
            checksum = _copy_out(conn, query, Path(tmp) / f"{table.name}.csv")
            entries.append(
                {
                    "name": table.name,
                    "file": file,
                    "scope": "tenant" if table.tenant else "global row of this university",
                    "columns": [{"name": c, "type": t} for c, t in zip(table.columns, table.types, strict=True)],
                    "encrypted_columns": [c for c, t in zip(table.columns, table.types, strict=True) if t == "bytea"],
                    "rows": rows,
                    "sha256": checksum,
                }
            )
        manifest = {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "schema_version": schema_version,
            "exported_at": utcnow().isoformat(),
            "tenant": {"id": str(tenant_id), "slug": slug},
            "encryption": {
                "algorithm": "AES-256-GCM (1 version byte, 12-byte nonce, ciphertext and tag)",
                "key_fingerprint": key_fingerprint(data_key),
                "note": "bytea columns are exported as ciphertext; importing needs the same XINFANG_DATA_KEY",
            },
            "csv": "RFC 4180, header row, PostgreSQL text forms; an unquoted empty field is NULL",
            "tables": entries,
        }
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_name(archive.name + ".partial")
        with tarfile.open(partial, "w:gz") as tar:
            data = json.dumps(manifest, indent=2, ensure_ascii=False).encode()
            info = tarfile.TarInfo("manifest.json")
            info.size, info.mtime, info.mode = len(data), int(utcnow().timestamp()), 0o600
            tar.addfile(info, io.BytesIO(data))
            for entry in entries:
                tar.add(Path(tmp) / Path(entry["file"]).name, arcname=entry["file"])
        partial.chmod(0o600)
        partial.replace(archive)
    _record(
        conn,
        "tenant.exported",
        tenant_id,
        {"slug": slug, "rows": _counts(manifest), "sha256": file_sha256(archive)},
        actor,
    )
    return manifest


def _counts(manifest: dict[str, Any]) -> dict[str, int]:
    return {e["name"]: e["rows"] for e in manifest["tables"]}


def _record(
    conn: psycopg.Connection, event: str, tenant_id: uuid.UUID, payload: dict[str, Any], actor: str | None
) -> None:
    with conn.transaction():
        conn.execute(sql.SQL("set local role {}").format(sql.Identifier(OWNER_ROLE)))
        _journal(conn, event, tenant_id, payload, actor)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


# --- import ---------------------------------------------------------------------------------------------------


@contextlib.contextmanager
def _open_archive(archive: Path) -> Iterator[tuple[dict[str, Any], tarfile.TarFile]]:
    try:
        tar = tarfile.open(archive, "r:gz")  # noqa: SIM115  (closed by the with-block below)
    except (OSError, tarfile.TarError) as exc:
        raise ArchiveError(f"not a readable archive: {exc}") from None
    with tar:
        manifest = json.loads(_member(tar, "manifest.json"))
        if manifest.get("format") != FORMAT or manifest.get("format_version") != FORMAT_VERSION:
            raise ArchiveError(f"not a {FORMAT} version {FORMAT_VERSION}")
        yield manifest, tar


def _open_member(tar: tarfile.TarFile, name: str) -> IO[bytes]:
    try:
        member = tar.extractfile(name)
    except KeyError:
        member = None
    if member is None:
        raise ArchiveError(f"{name} is missing from the archive")
    return member


def _member(tar: tarfile.TarFile, name: str) -> bytes:
    return _open_member(tar, name).read()


def import_tenant(conn: psycopg.Connection, archive: Path, *, data_key: bytes) -> dict[str, int]:
    """Load an archive into this installation (where the university must not exist); returns rows per table.

    All or nothing: one transaction, checked against the manifest's checksums and row counts.
    """
    with _open_archive(archive) as (manifest, tar), conn.transaction():
        if manifest["encryption"]["key_fingerprint"] != key_fingerprint(data_key):
            raise ArchiveError("the archive's personal data is encrypted under another XINFANG_DATA_KEY")
        if manifest["schema_version"] != _schema_version(conn):
            raise ArchiveError(
                f"schema version {manifest['schema_version']} differs from this installation's "
                f"{_schema_version(conn)}: import into an installation migrated to the same version"
            )
        tenant_id, slug = uuid.UUID(manifest["tenant"]["id"]), manifest["tenant"]["slug"]
        if conn.execute("select 1 from tenants where id = %s or slug = %s", (tenant_id, slug)).fetchone():
            raise ArchiveError(f"university {slug!r} already exists here")
        catalog = read_catalog(conn)
        expected = {"tenants", *(t.name for t in _tenant_tables(catalog))}
        if {e["name"] for e in manifest["tables"]} != expected:
            raise ArchiveError("the archive's tables differ from this installation's tenant tables")
        _as_tenant(conn, tenant_id)
        counts = {}
        for entry in manifest["tables"]:
            table = catalog[entry["name"]]
            names = [c["name"] for c in entry["columns"]]
            if names != table.columns:
                raise ArchiveError(f"{table.name}: the archive's columns differ from this installation's")
            counts[table.name] = _copy_in(conn, table, _open_member(tar, entry["file"]), entry["sha256"])
            if counts[table.name] != entry["rows"]:
                raise ArchiveError(f"{table.name}: {counts[table.name]} rows loaded, the manifest says {entry['rows']}")
        if "journal" in counts:
            # Imported events carry txid 0, so a cursor past txid 0 is already beyond them; a cursor still at
            # txid 0 (nothing relayed yet) is moved past them. New events (txid > 0) are relayed as usual.
            conn.execute(
                """
                insert into journal_cursors (name, txid, seq) values (%(n)s, 0, 0)
                on conflict (name) do nothing
                """,
                {"n": CURSOR},
            )
            conn.execute(
                """
                update journal_cursors set seq = greatest(seq, (select coalesce(max(seq), 0) from journal
                                                                  where txid = 0)), updated_at = now()
                 where name = %(n)s and txid = 0
                """,
                {"n": CURSOR},
            )
        _journal(conn, "tenant.imported", tenant_id, {"slug": slug, "rows": counts, "sha256": file_sha256(archive)})
    return counts


def _copy_in(conn: psycopg.Connection, table: Table, data: IO[bytes], sha256: str) -> int:
    """COPY into a staging table (COPY FROM cannot target a table under row-level security), then INSERT,
    so the tenant policies check every row. Streamed; the checksum is verified before anything is inserted."""
    stage = sql.Identifier(f"import_{table.name}")
    conn.execute(sql.SQL("create temp table {} (like {}) on commit drop").format(stage, sql.Identifier(table.name)))
    with conn.cursor().copy(
        sql.SQL("copy {} ({}) from stdin (format csv, header match)").format(stage, _columns(table))
    ) as copy:
        digest = hashlib.sha256()
        for block in iter(lambda: data.read(1 << 20), b""):
            digest.update(block)
            copy.write(block)
    if digest.hexdigest() != sha256:
        raise ArchiveError(f"{table.name}: the file does not match its checksum: the archive is damaged")
    if table.name == "journal":
        kept = [c for c in table.columns if c not in RELAY_POSITION]
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in kept)
        statement = sql.SQL("insert into journal ({}, txid) select {}, 0 from {} order by txid, seq").format(
            cols, cols, stage
        )
    else:
        statement = sql.SQL("insert into {} ({}) overriding system value select {} from {}").format(
            sql.Identifier(table.name), _columns(table), _columns(table), stage
        )
    return conn.execute(statement).rowcount


# --- offboarding ----------------------------------------------------------------------------------------------


def offboard_tenant(
    conn: psycopg.Connection, tenant: str, archive: Path, *, data_key: bytes, confirm: str, actor: str | None = None
) -> dict[str, int]:
    """Export the university to ``archive``, then delete all its rows; returns rows deleted per table.

    Refused unless ``confirm`` repeats the slug, and rolled back when the university changed between the export
    and the deletion (the archive would be incomplete: suspend it first).
    """
    tenant_id, slug = _find_tenant(conn, tenant)
    if confirm != slug:
        raise ArchiveError(f"confirm the offboarding by repeating the slug {slug!r}")
    manifest = export_tenant(conn, str(tenant_id), archive, data_key=data_key, actor=actor)
    archived = _counts(manifest)
    deleted: dict[str, int] = {}
    with conn.transaction():
        conn.execute("select 1 from tenants where id = %s for update", (tenant_id,))
        _as_tenant(conn, tenant_id)
        for table in reversed(_tenant_tables(read_catalog(conn))):
            deleted[table.name] = conn.execute(
                sql.SQL("delete from {} where tenant_id = %s").format(sql.Identifier(table.name)), (tenant_id,)
            ).rowcount
        deleted["tenants"] = conn.execute("delete from tenants where id = %s", (tenant_id,)).rowcount
        if deleted != archived:
            changed = sorted(k for k in deleted.keys() | archived.keys() if deleted.get(k) != archived.get(k))
            raise ArchiveError(f"{slug} changed during the export ({', '.join(changed)}): suspend it and retry")
        _journal(
            conn,
            "tenant.offboarded",
            tenant_id,
            {"slug": slug, "rows": deleted, "archive_sha256": file_sha256(archive)},
            actor,
        )
    return deleted
