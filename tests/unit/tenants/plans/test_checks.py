"""Publication checks and the diff between versions (pure)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.plans.checks import Change, diff, publication_problems
from tenants.plans.content import (
    AllOf,
    AnyCategory,
    AnyOf,
    Criterion,
    MaterialMinimum,
    ParticipantsAtLeast,
    PlanContent,
    RiskCategory,
    Text,
)
from tenants.plans.defaults import default_plan
from tests.support.rosters import DEFAULT_GROUPS, filled, roster


def replace(content: PlanContent, **sections: object) -> PlanContent:
    return msgspec.structs.replace(content, **sections)


def fields(problems: list[dict[str, str]]) -> list[str]:
    return [p["field"] for p in problems]


def test_the_seed_plan_is_publishable_once_its_groups_have_leaders() -> None:
    assert publication_problems(default_plan(), filled(*DEFAULT_GROUPS)) == []


def test_the_seed_plan_without_groups_lists_every_unknown_group() -> None:
    problems = publication_problems(default_plan(), {})
    assert len(problems) == 7 + 3 + 4  # seven steps, three measures, four trained groups
    assert all("unknown group" in p["message"] for p in problems)


def test_every_reason_is_listed_not_just_the_first() -> None:
    plan = default_plan()
    steps = list(plan.steps)
    steps[0] = msgspec.structs.replace(steps[0], responsible_group=None)
    steps[1] = msgspec.structs.replace(steps[1], target_minutes=-5)
    steps[2] = msgspec.structs.replace(steps[2], responsible_group="nobody")
    steps[5] = msgspec.structs.replace(steps[5], repeat_every_minutes=0, target_minutes=None)
    levels = list(plan.severity_levels)
    levels[3] = msgspec.structs.replace(levels[3], activation=AnyCategory(categories=["earthquake"]))
    levels[1] = msgspec.structs.replace(levels[1], rank=3)
    evaluation = list(plan.evaluation)
    evaluation[0] = msgspec.structs.replace(evaluation[0], weight=0.5)
    evaluation[1] = msgspec.structs.replace(
        evaluation[1], criteria=[Criterion(key="a", name=Text(zh="甲", en="A"), weight=0.7)]
    )
    goals = msgspec.structs.replace(plan.goals, purpose=Text(zh="目的", en=""), scope=[])
    materials = [*plan.materials, msgspec.structs.replace(plan.materials[0], minimum=-1)]
    broken = replace(
        plan,
        steps=steps,
        severity_levels=levels,
        evaluation=evaluation,
        goals=goals,
        materials=materials,
        training=msgspec.structs.replace(plan.training, training_every_days=0, drill_every_days=-1),
    )
    groups = filled("leadership", "info_release", "logistics") | {"handling": roster("handling")}
    problems = publication_problems(broken, groups)
    got = fields(problems)
    messages = " | ".join(p["message"] for p in problems)
    assert "steps[0].responsible_group" in got and "no responsible group" in messages
    assert "steps[1].target_minutes" in got and "must be positive" in messages
    assert "steps[2].responsible_group" in got and "unknown group 'nobody'" in messages
    assert "steps[5].target_minutes" in got and "steps[5].repeat_every_minutes" in got
    assert "group 'handling' has no leader" in messages
    assert "severity_levels[3].activation" in got and "unknown risk category 'earthquake'" in messages
    assert "severity_levels" in got  # ranks 1, 3, 3, 4
    assert "evaluation" in got and "weights sum to 1.15, not 1" in messages
    assert "evaluation[1].criteria" in got
    assert "goals.purpose.en" in got and "goals.scope" in got
    assert "materials" in got and "materials[8].minimum" in got  # duplicate code, negative minimum
    assert "training.training_every_days" in got and "training.drill_every_days" in got
    assert "measures[0].responsible_group" in got


def test_weights_within_tolerance_pass_and_just_outside_fail() -> None:
    plan = default_plan()
    dims = list(plan.evaluation)
    dims[0] = msgspec.structs.replace(dims[0], weight=0.35 + 5e-10)
    assert publication_problems(replace(plan, evaluation=dims), filled(*DEFAULT_GROUPS)) == []
    dims[0] = msgspec.structs.replace(dims[0], weight=0.35 + 1e-8)
    assert fields(publication_problems(replace(plan, evaluation=dims), filled(*DEFAULT_GROUPS))) == ["evaluation"]


@pytest.mark.parametrize("weight", [-0.1, 1.5, float("nan")])
def test_a_weight_out_of_range_is_refused(weight: float) -> None:
    plan = default_plan()
    dims = list(plan.evaluation)
    dims[0] = msgspec.structs.replace(dims[0], weight=weight)
    assert "evaluation[0].weight" in fields(
        publication_problems(replace(plan, evaluation=dims), filled(*DEFAULT_GROUPS))
    )


def test_steps_must_be_the_seven_in_order() -> None:
    plan = default_plan()
    swapped = [plan.steps[1], plan.steps[0], *plan.steps[2:]]
    assert "steps" in fields(publication_problems(replace(plan, steps=swapped), filled(*DEFAULT_GROUPS)))
    assert "steps" in fields(publication_problems(replace(plan, steps=plan.steps[:6]), filled(*DEFAULT_GROUPS)))


def test_levels_duplicated_codes_and_empty_rules() -> None:
    plan = default_plan()
    levels = list(plan.severity_levels)
    levels[1] = msgspec.structs.replace(levels[1], code="I", activation=AnyOf(conditions=[]))
    levels[2] = msgspec.structs.replace(levels[2], activation=ParticipantsAtLeast(value=-3))
    problems = publication_problems(replace(plan, severity_levels=levels), filled(*DEFAULT_GROUPS))
    messages = [p["message"] for p in problems]
    assert "level code 'I' is used more than once" in messages
    assert "an 'any' rule needs at least one condition" in messages
    assert "threshold -3 is negative" in messages


def test_rules_nest_at_most_five_deep() -> None:
    rule = ParticipantsAtLeast(value=1)
    for _ in range(6):
        rule = AllOf(conditions=[rule])
    plan = default_plan()
    levels = [msgspec.structs.replace(plan.severity_levels[0], activation=rule), *plan.severity_levels[1:]]
    problems = publication_problems(replace(plan, severity_levels=levels), filled(*DEFAULT_GROUPS))
    assert [p["message"] for p in problems] == ["rules nest at most 5 levels deep"]


def test_custom_risk_categories_may_be_used_in_rules() -> None:
    plan = default_plan()
    risks = [*plan.risk_categories, RiskCategory(key="campus_food", name=Text(zh="食堂", en="Canteen"))]
    levels = list(plan.severity_levels)
    levels[3] = msgspec.structs.replace(levels[3], activation=AnyCategory(categories=["campus_food"]))
    content = replace(plan, risk_categories=risks, severity_levels=levels)
    assert publication_problems(content, filled(*DEFAULT_GROUPS)) == []
    dup = replace(content, risk_categories=[*risks, risks[0]])
    assert "risk category 'group_event' is listed more than once" in [
        p["message"] for p in publication_problems(dup, filled(*DEFAULT_GROUPS))
    ]


def test_optional_descriptions_may_be_empty_but_not_half_filled() -> None:
    plan = default_plan()
    risks = list(plan.risk_categories)
    risks[0] = msgspec.structs.replace(risks[0], description=Text())
    assert publication_problems(replace(plan, risk_categories=risks), filled(*DEFAULT_GROUPS)) == []
    risks[0] = msgspec.structs.replace(risks[0], description=Text(zh="只有中文"))
    assert fields(publication_problems(replace(plan, risk_categories=risks), filled(*DEFAULT_GROUPS))) == [
        "risk_categories[0].description.en"
    ]
    risks[0] = msgspec.structs.replace(risks[0], name=Text(zh="", en="Group"), description=Text())
    assert fields(publication_problems(replace(plan, risk_categories=risks), filled(*DEFAULT_GROUPS))) == [
        "risk_categories[0].name.zh"
    ]


# --- diff -------------------------------------------------------------------------------------------------------


def test_identical_versions_have_no_diff() -> None:
    assert diff(default_plan(), default_plan()) == {}


def test_diff_matches_keyed_items_and_reports_paths_with_old_and_new_values() -> None:
    old = default_plan()
    steps = list(old.steps)
    steps[0] = msgspec.structs.replace(steps[0], target_minutes=20)
    materials = [m for m in old.materials if m.code != "LOG-FOOD"][::-1]
    materials.append(
        MaterialMinimum(
            category="custom", code="X-TENT", name=Text(zh="帐篷", en="Tent"), minimum=2, unit=Text(zh="顶", en="pcs")
        )
    )
    goals = msgspec.structs.replace(old.goals, title=Text(zh="新标题", en=old.goals.title.en))
    new = replace(old, steps=steps, materials=materials, goals=goals)
    changes = diff(old, new)
    assert sorted(changes) == ["goals", "materials", "steps"]
    assert changes["steps"] == [Change("steps[report].target_minutes", 30, 20)]
    assert changes["goals"] == [Change("goals.title.zh", "高校信访工作应急预案", "新标题")]
    paths = {c.path: c for c in changes["materials"]}
    assert set(paths) == {"materials[LOG-FOOD]", "materials[X-TENT]"}  # the reordering is not a change
    assert paths["materials[LOG-FOOD]"].new is None and paths["materials[LOG-FOOD]"].old["minimum"] == 100
    assert paths["materials[X-TENT]"].old is None and paths["materials[X-TENT]"].new["code"] == "X-TENT"


def test_diff_of_unkeyed_lists_goes_by_position() -> None:
    old = default_plan()
    goals = msgspec.structs.replace(old.goals, scope=[*old.goals.scope, Text(zh="网络舆情", en="Online opinion")])
    changes = diff(old, replace(old, goals=goals))
    assert changes == {"goals": [Change("goals.scope[3]", None, {"zh": "网络舆情", "en": "Online opinion"})]}


def test_diff_of_rules_shows_the_changed_threshold() -> None:
    old = default_plan()
    levels = list(old.severity_levels)
    levels[0] = msgspec.structs.replace(
        levels[0], activation=AnyOf(conditions=[ParticipantsAtLeast(value=500), *levels[0].activation.conditions[1:]])
    )
    changes = diff(old, replace(old, severity_levels=levels))
    assert changes == {"severity_levels": [Change("severity_levels[I].activation.conditions[0].value", 300, 500)]}


@settings(max_examples=200, deadline=None)
@given(
    targets=st.lists(st.integers(min_value=1, max_value=10_000), min_size=7, max_size=7),
    minimums=st.lists(st.integers(min_value=0, max_value=1000), min_size=8, max_size=8),
)
def test_diff_reports_exactly_the_changed_numbers(targets: list[int], minimums: list[int]) -> None:
    old = default_plan()
    steps = [msgspec.structs.replace(s, target_minutes=t) for s, t in zip(old.steps, targets, strict=True)]
    materials = [msgspec.structs.replace(m, minimum=n) for m, n in zip(old.materials, minimums, strict=True)]
    new = replace(old, steps=steps, materials=materials)
    expected = {
        f"steps[{s.key}].target_minutes": (s.target_minutes, t)
        for s, t in zip(old.steps, targets, strict=True)
        if s.target_minutes != t
    } | {
        f"materials[{m.code}].minimum": (m.minimum, n)
        for m, n in zip(old.materials, minimums, strict=True)
        if m.minimum != n
    }
    changes = diff(old, new)
    assert {c.path: (c.old, c.new) for section in changes.values() for c in section} == expected
    assert diff(new, new) == {}
