"""Import parsing and whole-file validation of the org chart, without a database."""

from __future__ import annotations

import io
import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import Workbook

from tenants.errors import Invalid
from tenants.org_transfer import Table, _cycles, _Errors, _Unit, _validate_units, read_table, write_csv


def unit(code: str, parent: str, kind: str = "office", active: bool = True) -> _Unit:
    return _Unit(uuid.uuid4(), code, kind, code, code, parent, active)


def test_csv_with_bom_and_blank_rows():
    table = read_table(write_csv(["Code", " Kind "], [["A", "office"], ["", ""], ["B", "college"]]), name="units")
    assert table.columns == ["code", "kind"] and table.format == "csv"
    assert table.rows == [(2, {"code": "A", "kind": "office"}), (4, {"code": "B", "kind": "college"})]


def test_csv_in_gb18030_as_chinese_excel_saves_it():
    data = "code,name_zh\r\nXSC,学生处\r\n".encode("gb18030")
    assert read_table(data, name="units").rows == [(2, {"code": "XSC", "name_zh": "学生处"})]


def test_xlsx_reads_the_named_sheet_and_normalizes_numbers():
    workbook = Workbook()
    workbook.active.title = "units"
    workbook.active.append(["code"])
    people = workbook.create_sheet("people")
    people.append(["staff_number", "name_zh"])
    people.append([1001.0, "王芳"])
    people.append([None, None])
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), name="people")
    assert table.format == "xlsx" and table.rows == [(2, {"staff_number": "1001", "name_zh": "王芳"})]


def test_empty_and_broken_files_are_invalid():
    with pytest.raises(Invalid):
        read_table(b"", name="units")
    with pytest.raises(Invalid):
        read_table(b"PK\x03\x04garbage", name="units")


def test_cycles_are_found_once_each():
    units = {c.code: c for c in [unit("U", "", "university"), unit("A", "B"), unit("B", "C"), unit("C", "A")]}
    units["S"] = unit("S", "S")
    units["T"] = unit("T", "A")  # hangs off a cycle without being part of it
    found = sorted(sorted(c) for c in _cycles(units))
    assert found == [["A", "B", "C"], ["S"]]


@given(st.lists(st.integers(min_value=0, max_value=30), min_size=1, max_size=30))
def test_a_tree_built_from_earlier_parents_has_no_cycle(parents):
    # Unit i hangs below some unit j < i: always a forest.
    units = {"0": unit("0", "", "university")}
    for i, p in enumerate(parents, start=1):
        units[str(i)] = unit(str(i), str(p % i))
    assert _cycles(units) == []


def test_validate_units_overlays_the_file_on_existing_units():
    existing = {c.code: c for c in [unit("U", "", "university"), unit("A", "U"), unit("B", "A")]}
    table = Table(
        "units",
        ["code", "kind", "name_zh", "name_en", "parent_code"],
        [(2, {"code": "A", "kind": "office", "name_zh": "甲", "name_en": "A", "parent_code": "B"})],
    )
    errors = _Errors()
    changed = _validate_units(errors, table, existing)
    assert [u.code for u in changed] == ["A"]
    assert [(e["row"], e["column"]) for e in errors.items] == [(2, "parent_code")]
    assert "A → B → A" in errors.items[0]["message"] or "B → A → B" in errors.items[0]["message"]
