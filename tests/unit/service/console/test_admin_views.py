"""The administration pages' pure parts: a refusal and an import's bad cell in the page's language, the tree,
the working calendar, and the words every composed key needs."""

from __future__ import annotations

import ast
import uuid
from datetime import date
from pathlib import Path

import msgspec

from service.console import admin, i18n
from service.console.admin_org import KINDS, MEMBER_ROLES, tree
from service.console.admin_settings import months, parse_days
from service.org import controllers as api
from tenants import identity, org_transfer
from tenants.errors import Conflict, Invalid
from tenants.org import OrgUnit


def _import_reasons() -> set[str]:
    """Every reason code ``tenants.org_transfer`` can give: the fifth argument of each ``errors.add(...)`` and
    each ``"reason"`` of an error written out in full (read from its source, so a new one cannot be missed)."""
    found = set()
    for node in ast.walk(ast.parse(Path(org_transfer.__file__).read_text())):
        is_add = isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr == "add"
        if is_add and len(node.args) >= 5 and isinstance(node.args[4], ast.Constant):
            found.add(node.args[4].value)
        if isinstance(node, ast.Dict):
            for key, value in zip(node.keys, node.values, strict=True):
                if isinstance(key, ast.Constant) and key.value == "reason" and isinstance(value, ast.Constant):
                    found.add(value.value)
    return found


def test_every_reason_the_import_gives_has_words_in_both_languages():
    reasons = _import_reasons()
    assert {"no-unit", "cycle", "duplicate", "required", "unreadable", "missing-column", "empty-file"} <= reasons
    for reason in reasons:
        assert f"admin.import.reason.{reason}" in i18n.MESSAGES, reason


def test_an_import_error_reads_in_the_pages_language_with_its_values():
    error = {
        "file": "units",
        "row": 5,
        "column": "parent_code",
        "message": "no unit with code 'CSX'",
        "reason": "no-unit",
        "values": {"value": "CSX"},
    }
    assert admin.import_reason("zh-CN", error) == "没有代码为“CSX”的单位"
    assert admin.import_reason("en", error) == "no unit with code CSX"
    # A reason the console has no words for shows the service's message.
    assert admin.import_reason("zh-CN", {"message": "something new", "reason": "new-reason"}) == "something new"


def test_a_cycle_is_refused_naming_the_units_in_the_pages_language():
    exc = Conflict(
        "the move would make the unit its own ancestor",
        code="org-cycle",
        cycle=[
            {"id": "1", "code": "A", "name_zh": "甲处", "name_en": "Office A"},
            {"id": "2", "code": "B", "name_zh": "乙组", "name_en": "Group B"},
            {"id": "1", "code": "A", "name_zh": "甲处", "name_en": "Office A"},
        ],
    )
    assert admin.refusal(exc, "zh-CN") == ["不能移动：该单位将成为自己的上级，形成循环：甲处 → 乙组 → 甲处"]
    assert admin.refusal(exc, "en") == [
        "Not moved: the unit would become its own ancestor, a cycle: Office A → Group B → Office A"
    ]


def test_refusals_name_the_forms_fields_and_known_conflicts():
    invalid = Invalid("bad", errors=[{"field": "unit_id", "message": "the org unit is deactivated"}])
    assert admin.refusal(invalid, "zh-CN") == ["所在单位：请检查此项"]
    assert admin.refusal(invalid, "en") == ["Unit: the org unit is deactivated"]
    weak = Invalid("weak", errors=[{"field": "password", "message": "at least 12 characters"}])
    assert admin.refusal(weak, "zh-CN") == ["密码：至少 12 个字符"]
    assert admin.refusal(Conflict("x", code="group-leader-taken"), "zh-CN") == [
        "本组已有组长：请先更改现任组长的角色。"
    ]
    assert admin.refusal(Conflict("something else", code="new-code"), "en") == ["something else"]
    assert admin.refusal(Conflict("something else", code="new-code"), "zh-CN") == ["操作被拒绝（something else）"]


def test_a_body_the_api_refuses_names_the_field():
    try:
        msgspec.convert({"kind": "office", "code": "bad code", "name_zh": "x", "name_en": "x"}, api.UnitCreate)
    except msgspec.ValidationError as exc:
        assert admin.problems(exc, "zh-CN") == ["代码：请检查此项"]
        assert admin.problems(exc, "en")[0].startswith("Code: ")
    else:  # pragma: no cover
        raise AssertionError("the code should be refused")


def test_the_tree_hangs_units_below_their_parents_in_the_pages_language():
    root = OrgUnit(id=uuid.uuid4(), kind="university", code="U", name_zh="大学", name_en="University", parent_id=None)
    a = OrgUnit(id=uuid.uuid4(), kind="office", code="A", name_zh="甲处", name_en="Office A", parent_id=root.id)
    b = OrgUnit(id=uuid.uuid4(), kind="group", code="B", name_zh="乙组", name_en="Group B", parent_id=a.id)
    roots = tree([root, a, b], "en")
    assert [n.name for n in roots] == ["University"]
    assert [n.name for n in roots[0].children] == ["Office A"]
    assert [n.unit.code for n in roots[0].children[0].children] == ["B"]


def test_the_working_calendar_draws_the_months_with_a_day_off_or_worked():
    drawn = months([date(2026, 10, 1), date(2026, 10, 2)], [date(2026, 10, 11)])
    assert [(m["year"], m["month"]) for m in drawn] == [(2026, 10)]
    days = {d: mark for week in drawn[0]["weeks"] for d, mark, inside in week if inside}
    assert days[date(2026, 10, 1)] == "holiday" and days[date(2026, 10, 11)] == "workday"
    assert days[date(2026, 10, 3)] is None and len(days) == 31
    assert drawn[0]["weeks"][0][0][0].weekday() == 0  # Monday first
    assert parse_days("2026-10-01\n2026-10-02, 2026-10-03，2026-10-04") == [
        "2026-10-01",
        "2026-10-02",
        "2026-10-03",
        "2026-10-04",
    ]


def test_every_value_the_admin_templates_compose_a_key_for_is_in_the_catalogue():
    for pattern, values in (
        ("admin.kind.{}", KINDS),
        ("admin.role.{}", MEMBER_ROLES),
        ("admin.account_role.{}", [r.value for r in identity.TENANT_ROLES]),
        ("admin.scope.{}", list(identity.SCOPES)),
        ("admin.weekday.{}", [str(d) for d in range(7)]),
        ("admin.settings.mark_{}", ("holiday", "workday")),
        ("admin.import.file_{}", ("units", "people")),
        ("admin.unit.done_{}", ("created", "renamed", "moved", "deactivated")),
        ("admin.person.done_{}", ("created", "saved", "post_added", "post_removed")),
        ("admin.groups.done_{}", ("added", "changed", "removed")),
        ("admin.account.done_{}", ("created", "saved", "linked", "unlinked", "reset")),
        ("admin.keys.done_{}", ("revoked",)),
        ("admin.categories.done_{}", ("created", "saved")),
        ("admin.templates.done_{}", ("created", "saved", "deleted")),
    ):
        for value in values:
            assert pattern.format(value) in i18n.MESSAGES, pattern.format(value)
    for path, word in admin.SECTIONS:
        assert path.startswith("/console/admin/") and word in i18n.MESSAGES
