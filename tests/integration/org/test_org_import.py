"""Bulk import and export of units and people (CSV and XLSX) through the API: all or nothing."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from tenants import org, org_transfer
from tests.support.journal import db_events
from tests.support.people import make_account

IMPORT = "/api/v1/org/import"

UNITS = [
    ("code", "kind", "name_zh", "name_en", "parent_code", "active"),
    ("U", "university", "示范大学", "Demo University", "", "true"),
    ("XSC", "office", "学生处", "Student Affairs", "U", ""),
    ("CS", "college", "计算机学院", "College of Computing", "U", "是"),
    ("CS-XG", "group", "学工组", "Student work group", "CS", "1"),
]
PEOPLE = [
    ("staff_number", "name_zh", "name_en", "title_zh", "title_en", "unit_code", "account_email", "active"),
    ("1001", "王芳", "Wang Fang", "学生处处长", "Director of Student Affairs", "XSC", "", "true"),
    ("1002", "刘洋", "", "辅导员", "Counselor", "CS-XG", "", ""),
]


def csv_bytes(rows: list[tuple[str, ...]]) -> bytes:
    return org_transfer.write_csv(rows[0], rows[1:])


def xlsx_bytes(sheets: dict[str, list[tuple[Any, ...]]]) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    for title, rows in sheets.items():
        sheet = workbook.create_sheet(title)
        for row in rows:
            sheet.append(list(row))
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


async def upload(client: Any, headers: dict[str, str], **files: bytes) -> Any:
    return await client.post(
        IMPORT, files={name: (f"{name}.bin", content) for name, content in files.items()}, headers=headers
    )


async def count(db: Any, tenant_id: Any, model: Any) -> int:
    async with db.transaction(tenant_id) as session:
        return int(await session.scalar(select(func.count()).select_from(model)))


async def test_csv_import_then_export_round_trip(client, tenant, db):
    r = await upload(client, tenant.headers, units=csv_bytes(UNITS), people=csv_bytes(PEOPLE))
    assert r.status_code == 200, r.text
    assert r.json() == {"units_created": 4, "units_updated": 0, "people_created": 2, "people_updated": 0}

    tree = (await client.get("/api/v1/org/units/tree", headers=tenant.headers)).json()
    assert tree[0]["code"] == "U"
    cs = next(n for n in tree[0]["children"] if n["code"] == "CS")
    assert cs["children"][0]["code"] == "CS-XG"
    people = (await client.get("/api/v1/org/people/", params={"staff_number": "1001"}, headers=tenant.headers)).json()
    assert people["items"][0]["name_zh"] == "王芳" and people["items"][0]["title_en"] == "Director of Student Affairs"

    units_csv = await client.get("/api/v1/org/export/units", headers=tenant.headers)
    people_csv = await client.get("/api/v1/org/export/people", headers=tenant.headers)
    assert units_csv.headers["content-type"].startswith("text/csv")
    assert "王芳" in people_csv.content.decode("utf-8-sig")
    # Importing the export back changes nothing and creates nothing.
    r = await upload(client, tenant.headers, units=units_csv.content, people=people_csv.content)
    assert r.json() == {"units_created": 0, "units_updated": 4, "people_created": 0, "people_updated": 2}
    assert await count(db, tenant.id, org.OrgUnit) == 4 and await count(db, tenant.id, org.Person) == 2

    imported = await db_events(db, tenant.id, "org.imported")
    assert imported[0].payload == {
        "format": "csv",
        "units_created": 4,
        "units_updated": 0,
        "people_created": 2,
        "people_updated": 0,
    }


async def test_xlsx_workbook_import_and_export(client, tenant, db):
    _, account_id = await make_account(client, tenant, "staff")
    account = (await client.get(f"/api/v1/accounts/{account_id}", headers=tenant.headers)).json()
    people = [*PEOPLE, (1003, "赵磊", "Zhao Lei", "", "", "CS", account["email"].upper(), "")]  # numbers as numbers
    workbook = xlsx_bytes({"units": UNITS, "people": people})
    r = await upload(client, tenant.headers, units=workbook, people=workbook)
    assert r.status_code == 200, r.text
    assert r.json()["people_created"] == 3

    found = (await client.get("/api/v1/org/people/", params={"account_id": account_id}, headers=tenant.headers)).json()
    assert [p["staff_number"] for p in found["items"]] == ["1003"]

    export = await client.get("/api/v1/org/export/people", params={"format": "xlsx"}, headers=tenant.headers)
    assert export.status_code == 200
    sheet = load_workbook(io.BytesIO(export.content), read_only=True)["people"]
    rows = [tuple(c if c is not None else "" for c in row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == org_transfer.PERSON_COLUMNS
    assert ("1003", "赵磊", "Zhao Lei", "", "", "CS", account["email"], "true") in rows


async def test_bad_file_lists_every_error_and_writes_nothing(client, tenant, db):
    units = [
        *UNITS,
        ("XSC", "office", "重复", "Duplicate", "U", ""),  # row 6: duplicate code
        ("BAD CODE", "office", "x", "x", "U", ""),  # row 7: code
        ("X1", "ministry", "", "x", "NOPE", "maybe"),  # row 8: kind, name_zh, parent, active
        ("U2", "university", "二", "Two", "", ""),  # row 9: second university
        ("A", "office", "甲", "A", "B", ""),  # rows 10-11: a cycle
        ("B", "office", "乙", "B", "A", ""),
    ]
    people = [
        *PEOPLE,
        ("1001", "重名", "", "", "", "XSC", "", ""),  # row 4: duplicate staff number
        ("1004", "", "", "", "", "NOPE", "nobody@x.cn", ""),  # row 5: name, unit, account
    ]
    r = await upload(client, tenant.headers, units=csv_bytes(units), people=csv_bytes(people))
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["type"].endswith("/validation")
    got = {(e["file"], e["row"], e["column"]) for e in body["errors"]}
    assert got == {
        ("units", 6, "code"),
        ("units", 7, "code"),
        ("units", 8, "kind"),
        ("units", 8, "name_zh"),
        ("units", 8, "parent_code"),
        ("units", 8, "active"),
        ("units", 9, "kind"),
        ("units", 2, "kind"),  # the first university clashes with the second one too
        ("units", 10, "parent_code"),
        ("units", 11, "parent_code"),
        ("people", 4, "staff_number"),
        ("people", 5, "name_zh"),
        ("people", 5, "unit_code"),
        ("people", 5, "account_email"),
    }
    cycle = next(e for e in body["errors"] if e["row"] == 10)
    assert "A → B → A" in cycle["message"]
    # Each error also carries a stable reason code and its values, which the console words in its languages.
    reasons = {(e["file"], e["row"], e["column"]): (e["reason"], e.get("values", {})) for e in body["errors"]}
    assert reasons[("units", 6, "code")] == ("duplicate", {"value": "XSC", "first_row": 3})
    assert reasons[("units", 7, "code")] == ("bad-code", {})
    assert reasons[("units", 8, "kind")] == ("bad-kind", {"value": "ministry"})
    assert reasons[("units", 8, "name_zh")] == ("required", {})
    assert reasons[("units", 8, "parent_code")] == ("no-unit", {"value": "NOPE"})
    assert reasons[("units", 8, "active")] == ("not-boolean", {})
    assert reasons[("units", 9, "kind")] == ("second-root", {"value": "U"})
    assert reasons[("units", 10, "parent_code")] == ("cycle", {"value": "A → B → A"})
    assert reasons[("people", 4, "staff_number")] == ("duplicate", {"value": "1001", "first_row": 2})
    assert reasons[("people", 5, "unit_code")] == ("no-unit", {"value": "NOPE"})
    assert reasons[("people", 5, "account_email")] == ("no-account", {})
    assert await count(db, tenant.id, org.OrgUnit) == 0 and await count(db, tenant.id, org.Person) == 0
    assert await db_events(db, tenant.id, "org.imported") == []


async def test_import_checks_against_the_existing_chart(client, tenant, db):
    assert (await upload(client, tenant.headers, units=csv_bytes(UNITS))).status_code == 200
    # Moving CS below its own group would close a loop through rows already in the database.
    r = await upload(
        client,
        tenant.headers,
        units=csv_bytes([UNITS[0], ("CS", "college", "计算机学院", "College of Computing", "CS-XG", "")]),
    )
    assert r.status_code == 422
    assert [(e["row"], e["column"]) for e in r.json()["errors"]] == [(2, "parent_code")]
    # Deactivating a unit whose sub-unit stays active is refused; a person in a deactivated unit too.
    r = await upload(
        client,
        tenant.headers,
        units=csv_bytes([UNITS[0], ("CS", "college", "计算机学院", "College of Computing", "U", "false")]),
    )
    assert r.status_code == 422 and r.json()["errors"][0]["column"] == "active"
    # Missing and unknown columns are reported on the header row.
    r = await upload(client, tenant.headers, people=csv_bytes([("staff_number", "nickname"), ("1", "x")]))
    assert r.status_code == 422
    assert {(e["row"], e["column"]) for e in r.json()["errors"]} == {(1, "name_zh"), (1, "unit_code"), (1, "nickname")}


async def test_import_refused_to_staff_and_bad_uploads(client, make_tenant):
    t = await make_tenant()
    other = await make_tenant()
    staff, _ = await make_account(client, t, "staff")
    assert (await upload(client, staff, units=csv_bytes(UNITS))).status_code == 403
    assert (await client.get("/api/v1/org/export/people", headers=staff)).status_code == 403
    assert (await upload(client, t.headers, units=csv_bytes(UNITS))).status_code == 200
    # Another university's codes are unknown here.
    r = await upload(client, other.headers, people=csv_bytes(PEOPLE))
    assert r.status_code == 422 and {e["column"] for e in r.json()["errors"]} == {"unit_code"}
    r = await upload(client, t.headers, units=b"PK\x03\x04not really a zip")
    assert r.status_code == 422
    r = await upload(client, t.headers, other=csv_bytes(UNITS))
    assert r.status_code == 422
    r = await client.post(IMPORT, json={"units": "x"}, headers=t.headers)
    assert r.status_code == 415


async def test_import_accepts_files_beyond_the_default_body_limit(client, tenant, settings):
    long_name = "长" * 60  # 180 bytes in UTF-8
    rows = UNITS[:3] + [(f"G{i:05d}", "group", long_name, "x" * 100, "XSC", "") for i in range(4000)]
    data = csv_bytes(rows)
    assert len(data) > settings.max_body_bytes
    r = await upload(client, tenant.headers, units=data)
    assert r.status_code == 200, r.text[:500]
    assert r.json()["units_created"] == 4002
