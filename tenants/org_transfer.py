"""Bulk import and export of the organization chart (units and people) as CSV or XLSX.

An import is validated as a whole against the chart it would produce (the university's units overlaid with the
file's): any error rejects the file with every bad row listed, and nothing is written. A valid file is written
with one set-based ``INSERT ... SELECT FROM unnest(...) ON CONFLICT`` per table on the request's own connection,
so 25,000 rows cost two statements, not 25,000 ORM flushes. Rows are matched by unit code and by staff number:
importing an export back changes nothing but what was edited.
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tenants import crypto, journal
from tenants.clock import utcnow
from tenants.db import require_tenant
from tenants.errors import Invalid
from tenants.identity import Account
from tenants.ids import new_id
from tenants.org import CODE, OrgUnit, Person, UnitKind, lock_tree, normalize_staff_number

UNIT_COLUMNS = ("code", "kind", "name_zh", "name_en", "parent_code", "active")
PERSON_COLUMNS = ("staff_number", "name_zh", "name_en", "title_zh", "title_en", "unit_code", "account_email", "active")
UNIT_REQUIRED = ("code", "kind", "name_zh", "name_en", "parent_code")
PERSON_REQUIRED = ("staff_number", "name_zh", "unit_code")
MAX_ROWS = 200_000
_TRUE = {"", "true", "t", "yes", "y", "1", "是"}
_FALSE = {"false", "f", "no", "n", "0", "否"}
_XLSX_MAGIC = b"PK\x03\x04"


@dataclass
class Table:
    """One sheet of an import: lower-cased header names and the data rows with their 1-based row numbers."""

    name: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    format: str = "csv"


# --- reading and writing files ----------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))  # spreadsheets turn staff numbers like 1001 into 1001.0
    return str(value).strip()


def _table(name: str, records: Iterable[Sequence[Any]], fmt: str) -> Table:
    it = iter(records)
    header = next(it, None)
    if header is None:
        raise Invalid(
            f"the {name} file is empty",
            errors=[{"file": name, "row": 1, "column": None, "message": "empty", "reason": "empty-file"}],
        )
    columns = [_cell(c).lower() for c in header]
    table = Table(name, columns, format=fmt)
    for number, record in enumerate(it, start=2):
        values = [_cell(v) for v in record]
        if not any(values):
            continue
        if len(table.rows) >= MAX_ROWS:
            raise Invalid(
                f"the {name} file has more than {MAX_ROWS} rows",
                errors=[
                    {
                        "file": name,
                        "row": number,
                        "column": None,
                        "message": f"at most {MAX_ROWS} rows",
                        "reason": "too-many-rows",
                        "values": {"max": MAX_ROWS},
                    }
                ],
            )
        table.rows.append((number, dict(zip(columns, values, strict=False))))
    return table


def read_table(data: bytes, *, name: str) -> Table:
    """Parse an uploaded CSV (UTF-8, with or without BOM, or GB18030 as Chinese Excel saves it) or XLSX file.

    In a workbook the sheet called ``name`` is read, else the first sheet.
    """
    if data.startswith(_XLSX_MAGIC):
        import zipfile

        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise Invalid(
                f"the {name} file is not a readable XLSX workbook",
                errors=[{"file": name, "row": None, "column": None, "message": str(exc)[:200], "reason": "unreadable"}],
            ) from None
        try:
            sheet = workbook[name] if name in workbook.sheetnames else workbook.worksheets[0]
            return _table(name, sheet.iter_rows(values_only=True), "xlsx")
        finally:
            workbook.close()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            content = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise Invalid(
            f"the {name} file is not text",
            errors=[{"file": name, "message": "not UTF-8 or GB18030", "reason": "unreadable"}],
        )
    try:
        return _table(name, csv.reader(io.StringIO(content, newline="")), "csv")
    except csv.Error as exc:
        raise Invalid(
            f"the {name} file is not valid CSV",
            errors=[{"file": name, "row": None, "column": None, "message": str(exc), "reason": "unreadable"}],
        ) from None


def write_csv(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    """CSV with a UTF-8 BOM, so that Excel opens Chinese text correctly."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8-sig")


def write_xlsx(sheets: dict[str, tuple[Sequence[str], Iterable[Sequence[Any]]]]) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    for title, (columns, rows) in sheets.items():
        sheet = workbook.create_sheet(title)
        sheet.append(list(columns))
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- export -----------------------------------------------------------------------------------------------------


async def export_units(session: AsyncSession) -> list[tuple[str, ...]]:
    """Every unit (active or not) as import rows, parents before children where codes allow (sorted by code)."""
    units = (await session.scalars(select(OrgUnit).order_by(OrgUnit.code))).all()
    code_of = {u.id: u.code for u in units}
    return [
        (u.code, u.kind, u.name_zh, u.name_en, code_of.get(u.parent_id, "") if u.parent_id else "", _bool(u.active))
        for u in units
    ]


async def export_people(session: AsyncSession) -> list[tuple[str, ...]]:
    """Every person as import rows (decrypted: the export is personal data, for tenant admins only)."""
    code_of = dict((await session.execute(select(OrgUnit.id, OrgUnit.code))).all())
    email_of = dict((await session.execute(select(Account.id, Account.email))).all())
    people = (await session.scalars(select(Person).order_by(Person.id))).all()
    return [
        (
            p.staff_number,
            p.name_zh,
            p.name_en or "",
            p.title_zh or "",
            p.title_en or "",
            code_of[p.unit_id],
            email_of.get(p.account_id, "") if p.account_id else "",
            _bool(p.active),
        )
        for p in people
    ]


def _bool(value: bool) -> str:
    return "true" if value else "false"


# --- import -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImportSummary:
    units_created: int
    units_updated: int
    people_created: int
    people_updated: int


@dataclass
class _Unit:
    id: uuid.UUID
    code: str
    kind: str
    name_zh: str
    name_en: str
    parent_code: str
    active: bool
    row: int | None = None  # the file row that sets it; None for units the file leaves alone


class _Errors:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def add(self, table: Table, row: int | None, column: str | None, message: str, reason: str, **values: Any) -> None:
        """One bad cell: the English ``message``, and a stable ``reason`` code with its ``values`` (the console
        words it in the page's language)."""
        item = {"file": table.name, "row": row, "column": column, "message": message, "reason": reason}
        self.items.append(item | ({"values": values} if values else {}))


def _text(errors: _Errors, table: Table, row: int, values: dict[str, str], column: str, *, max_len: int) -> str:
    value = values.get(column, "")
    if len(value) > max_len:
        errors.add(table, row, column, f"at most {max_len} characters", "too-long", max=max_len)
    return value


def _active(errors: _Errors, table: Table, row: int, values: dict[str, str]) -> bool:
    value = values.get("active", "").lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    errors.add(table, row, "active", "true or false", "not-boolean")
    return True


def _check_columns(errors: _Errors, table: Table, required: Sequence[str], known: Sequence[str]) -> bool:
    ok = True
    for column in required:
        if column not in table.columns:
            errors.add(table, 1, column, "required column is missing", "missing-column")
            ok = False
    for column in table.columns:
        if column and column not in known:
            errors.add(
                table,
                1,
                column,
                f"unknown column (expected: {', '.join(known)})",
                "unknown-column",
                expected=", ".join(known),
            )
    if len(set(table.columns)) != len(table.columns):
        errors.add(table, 1, None, "a column appears twice", "duplicate-column")
        ok = False
    return ok


def _validate_units(errors: _Errors, table: Table, units: dict[str, _Unit]) -> list[_Unit]:
    """Overlay the file's rows on ``units`` (code → unit) and check the resulting tree; returns the file's units."""
    if not _check_columns(errors, table, UNIT_REQUIRED, UNIT_COLUMNS):
        return []
    kinds = {k.value for k in UnitKind}
    seen: dict[str, int] = {}
    changed: list[_Unit] = []
    for row, values in table.rows:
        code = values.get("code", "")
        if not CODE.match(code):
            errors.add(table, row, "code", "letters, digits, '.', '_' or '-', 1-64 characters", "bad-code")
            continue
        if code in seen:
            errors.add(
                table,
                row,
                "code",
                f"code {code!r} appears again (first on row {seen[code]})",
                "duplicate",
                value=code,
                first_row=seen[code],
            )
            continue
        seen[code] = row
        kind = values.get("kind", "").lower()
        if kind not in kinds:
            errors.add(table, row, "kind", f"one of {', '.join(sorted(kinds))}", "bad-kind", value=kind)
        names = {}
        for column in ("name_zh", "name_en"):
            names[column] = _text(errors, table, row, values, column, max_len=200)
            if not names[column]:
                errors.add(table, row, column, "required", "required")
        existing = units.get(code)
        unit = _Unit(
            id=existing.id if existing else new_id(),
            code=code,
            kind=kind,
            name_zh=names["name_zh"],
            name_en=names["name_en"],
            parent_code=values.get("parent_code", ""),
            active=_active(errors, table, row, values),
            row=row,
        )
        units[code] = unit
        changed.append(unit)
    # The tree as it would be after the import.
    children: dict[str, list[_Unit]] = {}
    for unit in units.values():
        children.setdefault(unit.parent_code, []).append(unit)
    universities = [u for u in units.values() if u.kind == UnitKind.university]
    for unit in changed:
        is_root = unit.kind == UnitKind.university
        parent = units.get(unit.parent_code) if unit.parent_code else None
        if is_root and unit.parent_code:
            errors.add(
                table, unit.row, "parent_code", "the university is the root: leave parent_code empty", "root-parent"
            )
        elif not is_root and not unit.parent_code:
            errors.add(
                table, unit.row, "parent_code", "required (only the university has no parent)", "parent-required"
            )
        elif unit.parent_code and parent is None:
            errors.add(
                table,
                unit.row,
                "parent_code",
                f"no unit with code {unit.parent_code!r}",
                "no-unit",
                value=unit.parent_code,
            )
        elif parent is not None and unit.active and not parent.active:
            errors.add(
                table,
                unit.row,
                "active",
                f"the parent {parent.code!r} is deactivated",
                "unit-inactive",
                value=parent.code,
            )
        if is_root and len(universities) > 1:
            others = ", ".join(sorted(u.code for u in universities if u is not unit))
            errors.add(
                table,
                unit.row,
                "kind",
                f"a university can have only one root unit (also: {others})",
                "second-root",
                value=others,
            )
        if not unit.active and any(c.active for c in children.get(unit.code, [])):
            errors.add(
                table, unit.row, "active", "a deactivated unit cannot keep active sub-units", "inactive-with-children"
            )
    for cycle in _cycles(units):
        for code in cycle:
            unit = units[code]
            if unit.row is not None:
                loop = " → ".join([*cycle, cycle[0]])
                errors.add(table, unit.row, "parent_code", f"cycle: {loop}", "cycle", value=loop)
    return changed


def _cycles(units: dict[str, _Unit]) -> list[list[str]]:
    """Every cycle of parent links (each as the codes along it), found in one pass."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    found = []
    for start in units:
        path: list[str] = []
        code: str | None = start
        while code is not None and code in units and state.get(code) is None:
            state[code] = 1
            path.append(code)
            code = units[code].parent_code or None
        if code is not None and state.get(code) == 1:
            found.append(path[path.index(code) :])
        for c in path:
            state[c] = 2
    return found


async def import_org(
    session: AsyncSession,
    *,
    units: Table | None,
    people: Table | None,
    actor_id: uuid.UUID | None,
) -> ImportSummary:
    """Validate and apply an import of units and/or people; ``Invalid`` lists every bad row, nothing written."""
    if units is None and people is None:
        raise Invalid("nothing to import", errors=[{"field": "file", "message": "upload a units or people file"}])
    await lock_tree(session)
    errors = _Errors()
    rows = (
        await session.execute(
            select(
                OrgUnit.id,
                OrgUnit.code,
                OrgUnit.kind,
                OrgUnit.name_zh,
                OrgUnit.name_en,
                OrgUnit.active,
                OrgUnit.parent_id,
            )
        )
    ).all()
    code_of = {r.id: r.code for r in rows}
    existing_units = {
        r.code: _Unit(r.id, r.code, r.kind, r.name_zh, r.name_en, code_of[r.parent_id] if r.parent_id else "", r.active)
        for r in rows
    }
    merged = dict(existing_units)
    unit_rows = _validate_units(errors, units, merged) if units is not None else []
    person_rows = await _validate_people(session, errors, people, merged) if people is not None else []
    if errors.items:
        errors.items.sort(key=lambda e: (e["file"] != "units", e["row"] or 0))
        raise Invalid(
            f"the import has {len(errors.items)} errors; nothing was imported",
            errors=errors.items,
        )
    driver = await _driver(session)
    tenant_id = require_tenant()
    now = utcnow()
    if unit_rows:
        await driver.execute(
            """
            insert into org_units (tenant_id, id, kind, code, name_zh, name_en, parent_id, active, created_at,
                                   updated_at)
            select $1, u.id, u.kind, u.code, u.name_zh, u.name_en, u.parent_id, u.active, $2, $2
              from unnest($3::uuid[], $4::text[], $5::text[], $6::text[], $7::text[], $8::uuid[], $9::bool[])
                   as u(id, kind, code, name_zh, name_en, parent_id, active)
            on conflict (tenant_id, code) do update
               set kind = excluded.kind, name_zh = excluded.name_zh, name_en = excluded.name_en,
                   parent_id = excluded.parent_id, active = excluded.active, updated_at = excluded.updated_at
            """,
            tenant_id,
            now,
            [u.id for u in unit_rows],
            [u.kind for u in unit_rows],
            [u.code for u in unit_rows],
            [u.name_zh for u in unit_rows],
            [u.name_en for u in unit_rows],
            [merged[u.parent_code].id if u.parent_code else None for u in unit_rows],
            [u.active for u in unit_rows],
        )
    if person_rows:
        encrypt = crypto.encrypt
        await driver.execute(
            """
            insert into people (tenant_id, id, staff_number, staff_number_hash, name_zh, name_en, title_zh, title_en,
                                unit_id, account_id, active, created_at, updated_at)
            select $1, p.id, p.staff_number, p.staff_number_hash, p.name_zh, p.name_en, p.title_zh, p.title_en,
                   p.unit_id, p.account_id, p.active, $2, $2
              from unnest($3::uuid[], $4::bytea[], $5::text[], $6::bytea[], $7::bytea[], $8::text[], $9::text[],
                          $10::uuid[], $11::uuid[], $12::bool[])
                   as p(id, staff_number, staff_number_hash, name_zh, name_en, title_zh, title_en, unit_id,
                        account_id, active)
            on conflict (tenant_id, staff_number_hash) do update
               set staff_number = excluded.staff_number, name_zh = excluded.name_zh, name_en = excluded.name_en,
                   title_zh = excluded.title_zh, title_en = excluded.title_en, unit_id = excluded.unit_id,
                   account_id = excluded.account_id, active = excluded.active, updated_at = excluded.updated_at
            """,
            tenant_id,
            now,
            [p.id for p in person_rows],
            [encrypt(p.staff_number) for p in person_rows],
            [p.staff_number_hash for p in person_rows],
            [encrypt(p.name_zh) for p in person_rows],
            [encrypt(p.name_en) if p.name_en else None for p in person_rows],
            [p.title_zh or None for p in person_rows],
            [p.title_en or None for p in person_rows],
            [merged[p.unit_code].id for p in person_rows],
            [p.account_id for p in person_rows],
            [p.active for p in person_rows],
        )
    summary = ImportSummary(
        units_created=sum(1 for u in unit_rows if u.code not in existing_units),
        units_updated=sum(1 for u in unit_rows if u.code in existing_units),
        people_created=sum(1 for p in person_rows if not p.existed),
        people_updated=sum(1 for p in person_rows if p.existed),
    )
    formats = sorted({t.format for t in (units, people) if t is not None})
    await journal.record(session, "org.imported", actor_id=actor_id, format="+".join(formats), **vars(summary))
    # Objects loaded before the import are stale now.
    session.expire_all()
    return summary


@dataclass
class _Person:
    id: uuid.UUID
    staff_number: str
    staff_number_hash: str
    name_zh: str
    name_en: str
    title_zh: str
    title_en: str
    unit_code: str
    account_id: uuid.UUID | None
    active: bool
    existed: bool


async def _validate_people(
    session: AsyncSession, errors: _Errors, table: Table, units: dict[str, _Unit]
) -> list[_Person]:
    if not _check_columns(errors, table, PERSON_REQUIRED, PERSON_COLUMNS):
        return []
    existing = dict((await session.execute(select(Person.staff_number_hash, Person.id))).all())
    accounts = dict((await session.execute(select(Account.email, Account.id))).all())
    lookup_hash = crypto.lookup_hash
    seen: dict[str, int] = {}
    rows = []
    for row, values in table.rows:
        staff_number = normalize_staff_number(values.get("staff_number", ""))
        if not staff_number or len(staff_number) > 64:
            errors.add(table, row, "staff_number", "required, at most 64 characters", "bad-staff-number")
            continue
        if staff_number in seen:
            errors.add(
                table,
                row,
                "staff_number",
                f"appears again (first on row {seen[staff_number]})",
                "duplicate",
                value=staff_number,
                first_row=seen[staff_number],
            )
            continue
        seen[staff_number] = row
        name_zh = _text(errors, table, row, values, "name_zh", max_len=100)
        if not name_zh:
            errors.add(table, row, "name_zh", "required", "required")
        name_en = _text(errors, table, row, values, "name_en", max_len=100)
        title_zh = _text(errors, table, row, values, "title_zh", max_len=200)
        title_en = _text(errors, table, row, values, "title_en", max_len=200)
        active = _active(errors, table, row, values)
        unit_code = values.get("unit_code", "")
        unit = units.get(unit_code)
        if unit is None:
            if unit_code:
                errors.add(table, row, "unit_code", f"no unit with code {unit_code!r}", "no-unit", value=unit_code)
            else:
                errors.add(table, row, "unit_code", "required", "required")
        elif active and not unit.active:
            errors.add(
                table, row, "unit_code", f"the unit {unit_code!r} is deactivated", "unit-inactive", value=unit_code
            )
        email = values.get("account_email", "").lower()
        account_id = accounts.get(email) if email else None
        if email and account_id is None:
            errors.add(table, row, "account_email", "no account with this email in this university", "no-account")
        digest = lookup_hash(staff_number)
        person_id = existing.get(digest)
        rows.append(
            _Person(
                id=person_id or new_id(),
                staff_number=staff_number,
                staff_number_hash=digest,
                name_zh=name_zh,
                name_en=name_en,
                title_zh=title_zh,
                title_en=title_en,
                unit_code=unit_code,
                account_id=account_id,
                active=active,
                existed=person_id is not None,
            )
        )
    return rows


async def _driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session's transaction (the tenant setting is already on it)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection
