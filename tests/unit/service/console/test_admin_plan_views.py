"""The pure parts of the admin's plan, materials and webhook pages."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import msgspec

from service.console import i18n
from service.console.materials import flags
from service.console.plan import CHECK_MESSAGES, check_message, problems_by_section, section_of
from service.console.webhooks import event_types_of, local_instant
from tenants.materials import Category, Movement
from tenants.plans import checks
from tenants.plans.content import SECTIONS, AnyCategory, AnyOf, DurationAtLeast, ParticipantsAtLeast, Text
from tenants.plans.defaults import default_plan
from tenants.plans.models import PlanStatus


def _broken_plan_problems() -> list[checks.Problem]:
    """A plan broken in as many ways as the checks know, against groups of which one has no leader."""
    plan = default_plan()
    r = msgspec.structs.replace
    goals = r(plan.goals, title=Text(zh="", en=""), goals=[], scope=[])
    risks = [plan.risk_categories[0], plan.risk_categories[0]]
    levels = [r(lv, rank=lv.rank + 1) for lv in plan.severity_levels]
    levels[0] = r(levels[0], code=" ", activation=AnyOf(conditions=[]))
    levels[1] = r(levels[1], code=levels[2].code, activation=AnyCategory(categories=["earthquake"]))
    levels[2] = r(levels[2], activation=ParticipantsAtLeast(value=-1))
    levels[3] = r(levels[3], activation=AnyOf(conditions=[DurationAtLeast(minutes=-5), AnyCategory(categories=[])]))
    deep = ParticipantsAtLeast(value=1)
    for _ in range(7):
        deep = AnyOf(conditions=[deep])
    levels.append(r(levels[3], code="V", activation=deep))
    steps = list(reversed(plan.steps))
    steps[0] = r(steps[0], responsible_group=None, target_minutes=None)
    steps[1] = r(steps[1], responsible_group="nobody", target_minutes=0, repeat_every_minutes=0)
    steps[2] = r(steps[2], responsible_group="empty")
    measures = [plan.measures[0], plan.measures[0]]
    materials = [r(plan.materials[0], minimum=-1), plan.materials[0]]
    dimension = r(plan.evaluation[0], weight=2.0, criteria=[plan.evaluation[0].criteria[0]] * 2)
    training = r(plan.training, training_every_days=0, drill_every_days=0, training_groups=[])
    broken = r(
        plan,
        goals=goals,
        risk_categories=risks,
        severity_levels=levels,
        steps=steps,
        measures=measures,
        materials=materials,
        evaluation=[dimension, dimension],
        training=training,
    )
    groups = {"leadership": SimpleNamespace(leader_person_id=1), "empty": SimpleNamespace(leader_person_id=None)}
    problems = checks.publication_problems(broken, groups)
    unknown_trained = r(plan.training, training_groups=["x"])
    empty = r(plan, evaluation=[], severity_levels=[], risk_categories=[], training=unknown_trained)
    no_dimensions = checks.publication_problems(empty, groups)
    return problems + no_dimensions


def test_every_publication_check_reads_in_chinese_and_unchanged_in_english():
    problems = _broken_plan_problems()
    zh, en = i18n.translator("zh-CN"), i18n.translator("en")
    seen = set()
    for p in problems:
        chinese = check_message(p["message"], zh, "zh-CN")
        assert chinese != p["message"] and "{" not in chinese, p
        assert check_message(p["message"], en, "en") == p["message"]
        seen |= {name for pattern, name in CHECK_MESSAGES if pattern.match(p["message"])}
    # The broken plan above reaches nearly every pattern; each has its words in both languages.
    assert len(seen) >= len(CHECK_MESSAGES) - 3, {n for _, n in CHECK_MESSAGES} - seen
    for _, name in CHECK_MESSAGES:
        assert f"plan.check.{name}" in i18n.MESSAGES
    assert check_message("group 'logistics' has no leader", zh, "zh-CN") == "工作小组“logistics”尚未设组长"
    assert check_message("something new", zh, "zh-CN") == "something new"


def test_problems_stand_beside_their_section():
    assert section_of("steps[4].responsible_group") == "steps"
    assert section_of("evaluation") == "evaluation"
    assert section_of("goals.title.zh") == "goals"
    assert section_of("") == "" and section_of("nonsense.x") == ""
    grouped = problems_by_section(
        [{"field": "steps[0].x", "message": "a"}, {"field": "steps", "message": "b"}, {"field": "", "message": "c"}]
    )
    assert [p["message"] for p in grouped["steps"]] == ["a", "b"] and grouped[""][0]["message"] == "c"


def test_the_event_types_typed_into_the_form():
    assert event_types_of("webhook.ping, petition.*\nincident.*，webhook.ping") == [
        "webhook.ping",
        "petition.*",
        "incident.*",
    ]
    assert event_types_of("  ") == []


def test_the_redeliver_since_field_is_the_universitys_wall_clock():
    shanghai = ZoneInfo("Asia/Shanghai")
    assert local_instant("2026-12-04T10:00", shanghai) == dt.datetime(2026, 12, 4, 2, 0, tzinfo=dt.UTC)
    assert local_instant("not a time", shanghai) is None


def test_an_item_is_marked_low_expiring_or_expired():
    today = dt.date(2026, 12, 1)

    def item(code: str, expires: dt.date | None) -> SimpleNamespace:
        return SimpleNamespace(code=code, expires_on=expires)

    assert flags(item("A", None), {"A"}, today) == ["low"]  # type: ignore[arg-type]
    assert flags(item("B", dt.date(2026, 11, 30)), set(), today) == ["expired"]  # type: ignore[arg-type]
    assert flags(item("B", today), set(), today) == ["expiring"]  # type: ignore[arg-type]
    assert flags(item("B", dt.date(2026, 12, 31)), set(), today) == ["expiring"]  # type: ignore[arg-type]
    assert flags(item("B", dt.date(2027, 1, 1)), set(), today) == []  # type: ignore[arg-type]


def test_every_value_the_plan_pages_compose_a_key_for_is_in_the_catalogue():
    for prefix, values in (
        ("plan.status", [s.value for s in PlanStatus]),
        ("plan.section", SECTIONS),
        ("plan.lang", ("zh-CN", "en")),
        ("plan.mat.cat", [c.value for c in Category]),
        ("plan.mat.kind", [m.value for m in Movement]),
        ("plan.mat.flag", ("low", "expiring", "expired")),
        ("plan.wh.status", ("all", "pending", "succeeded", "failed")),
        ("plan.wh.reason", ("gone", "failing")),
        ("plan.wh.done", ("saved", "pinged", "requeued")),
    ):
        for value in values:
            assert f"{prefix}.{value}" in i18n.MESSAGES, (prefix, value)


def test_the_training_and_materials_forms_build_their_sections_over_the_current_one():
    from multidict import MultiDict

    from service.console.plan import section_from_fields

    plan = msgspec.to_builtins(default_plan())
    form = MultiDict(
        [
            ("training_every_days", "90"),
            ("drill_every_days", "x"),
            ("training_groups", "leadership"),
            ("training_groups", "handling"),
            ("notes_zh", " 每季度培训 "),
        ]
    )
    training = section_from_fields("training", form, plan["training"])
    assert training["training_every_days"] == 90 and training["drill_every_days"] == "x"  # refused by the schema
    assert training["training_groups"] == ["leadership", "handling"]
    assert training["notes"] == {"zh": "每季度培训", "en": ""}
    materials = section_from_fields("materials", MultiDict([("minimum_1", "7")]), plan["materials"])
    assert [m["minimum"] for m in materials][:2] == [plan["materials"][0]["minimum"], 7]
    assert [m["code"] for m in materials] == [m["code"] for m in plan["materials"]]
