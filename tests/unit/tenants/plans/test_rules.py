"""Activation rules: facts → suggested severity level (pure)."""

from __future__ import annotations

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tenants.plans.content import (
    AllCategories,
    AllOf,
    AnyCategory,
    AnyOf,
    DurationAtLeast,
    InjuriesAtLeast,
    MediaAttention,
    ParticipantsAtLeast,
    Rule,
    SafetyThreat,
    SeverityLevel,
    Text,
)
from tenants.plans.defaults import default_plan
from tenants.plans.rules import Facts, describe, holds, reasons, suggest_level, walk

LEVELS = default_plan().severity_levels
CATEGORIES = ["group_event", "information_asymmetry", "public_opinion", "legal", "custom_risk"]


def level(rank: int, activation: Rule | None) -> SeverityLevel:
    return SeverityLevel(rank=rank, code=f"L{rank}", name=Text(zh=f"级{rank}", en=f"L{rank}"), activation=activation)


@pytest.mark.parametrize(
    ("rule", "facts", "expected"),
    [
        (ParticipantsAtLeast(value=5), Facts(participants=5), True),
        (ParticipantsAtLeast(value=5), Facts(participants=4), False),
        (InjuriesAtLeast(value=1), Facts(injuries=1), True),
        (InjuriesAtLeast(value=1), Facts(), False),
        (DurationAtLeast(minutes=60), Facts(duration_minutes=60), True),
        (DurationAtLeast(minutes=60), Facts(duration_minutes=59), False),
        (AnyCategory(categories=["legal", "public_opinion"]), Facts(categories=frozenset({"legal"})), True),
        (AnyCategory(categories=["legal"]), Facts(categories=frozenset({"group_event"})), False),
        (AllCategories(categories=["legal", "group_event"]), Facts(categories=frozenset({"legal"})), False),
        (
            AllCategories(categories=["legal", "group_event"]),
            Facts(categories=frozenset({"legal", "group_event", "x"})),
            True,
        ),
        (MediaAttention(), Facts(media_attention=True), True),
        (MediaAttention(), Facts(), False),
        (SafetyThreat(), Facts(safety_threat=True), True),
        (SafetyThreat(), Facts(), False),
        (AllOf(conditions=[SafetyThreat(), InjuriesAtLeast(value=1)]), Facts(safety_threat=True), False),
        (AllOf(conditions=[SafetyThreat(), InjuriesAtLeast(value=1)]), Facts(safety_threat=True, injuries=2), True),
        (AnyOf(conditions=[SafetyThreat(), MediaAttention()]), Facts(media_attention=True), True),
        (AnyOf(conditions=[]), Facts(participants=1000), False),
        (AllOf(conditions=[]), Facts(), True),
    ],
)
def test_each_condition(rule: Rule, facts: Facts, expected: bool) -> None:
    assert holds(rule, facts) is expected


@pytest.mark.parametrize(
    ("facts", "code"),
    [
        (Facts(), None),
        (Facts(participants=4), None),
        (Facts(participants=5), "IV"),
        (Facts(categories=frozenset({"legal"})), "IV"),
        (Facts(categories=frozenset({"unknown"})), None),
        (Facts(participants=30), "III"),
        (Facts(safety_threat=True), "III"),
        (Facts(media_attention=True, participants=10), "III"),
        (Facts(duration_minutes=240), "III"),
        (Facts(participants=100), "II"),
        (Facts(safety_threat=True, injuries=1), "II"),
        (Facts(media_attention=True, participants=50), "II"),
        (Facts(participants=300), "I"),
        (Facts(injuries=3), "I"),
    ],
)
def test_default_levels(facts: Facts, code: str | None) -> None:
    suggestion = suggest_level(LEVELS, facts)
    assert (suggestion.code if suggestion else None) == code


def test_suggestion_names_the_matching_conditions_and_levels() -> None:
    suggestion = suggest_level(LEVELS, Facts(participants=120, safety_threat=True, injuries=1))
    assert suggestion is not None
    assert suggestion.code == "II" and suggestion.rank == 2
    assert suggestion.matching_levels == ["II", "III", "IV"]
    assert ParticipantsAtLeast(value=100) in suggestion.matched
    assert SafetyThreat() in suggestion.matched and InjuriesAtLeast(value=1) in suggestion.matched
    # The suggestion travels as JSON (the API returns it).
    assert msgspec.json.decode(msgspec.json.encode(suggestion))["matched"][0]["kind"] == "participants_at_least"


def test_highest_matching_level_wins_whatever_the_list_order() -> None:
    levels = [level(3, MediaAttention()), level(1, ParticipantsAtLeast(value=10)), level(2, MediaAttention())]
    suggestion = suggest_level(levels, Facts(participants=10, media_attention=True))
    assert suggestion is not None and suggestion.rank == 1
    assert suggestion.matching_levels == ["L1", "L2", "L3"]


def test_a_level_without_activation_is_never_suggested() -> None:
    assert suggest_level([level(1, None)], Facts(participants=10**6, safety_threat=True)) is None


def test_reasons_of_a_failed_rule_are_empty() -> None:
    assert reasons(AllOf(conditions=[SafetyThreat(), MediaAttention()]), Facts(safety_threat=True)) == []
    assert reasons(SafetyThreat(), Facts()) == []


def test_walk_reports_depth() -> None:
    rule = AnyOf(conditions=[AllOf(conditions=[SafetyThreat()]), MediaAttention()])
    assert [(type(r).__name__, d) for r, d in walk(rule)] == [
        ("AnyOf", 1),
        ("AllOf", 2),
        ("SafetyThreat", 3),
        ("MediaAttention", 2),
    ]


def test_describe_in_both_languages() -> None:
    rule = AnyOf(
        conditions=[
            ParticipantsAtLeast(value=100),
            AllOf(conditions=[SafetyThreat(), InjuriesAtLeast(value=1)]),
            AnyCategory(categories=["legal"]),
        ]
    )
    assert describe(rule, "zh-CN", {"legal": "法律风险"}) == (
        "参与人数≥100或（威胁校园安全且受伤人数≥1）或涉及以下任一风险：法律风险"
    )
    assert (
        describe(rule, "en")
        == "participants ≥ 100 or (threat to campus safety and injured ≥ 1) or any of the risks: legal"
    )


# --- properties -------------------------------------------------------------------------------------------------

counts = st.integers(min_value=0, max_value=2000)
category_sets = st.frozensets(st.sampled_from(CATEGORIES))
facts_strategy = st.builds(
    Facts,
    participants=counts,
    injuries=st.integers(min_value=0, max_value=50),
    duration_minutes=st.integers(min_value=0, max_value=10_000),
    categories=category_sets,
    media_attention=st.booleans(),
    safety_threat=st.booleans(),
)
leaves = st.one_of(
    st.builds(ParticipantsAtLeast, value=counts),
    st.builds(InjuriesAtLeast, value=st.integers(min_value=0, max_value=50)),
    st.builds(DurationAtLeast, minutes=st.integers(min_value=0, max_value=10_000)),
    st.builds(AnyCategory, categories=st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3)),
    st.builds(AllCategories, categories=st.lists(st.sampled_from(CATEGORIES), min_size=1, max_size=3)),
    st.just(MediaAttention()),
    st.just(SafetyThreat()),
)
rules_strategy = st.recursive(
    leaves,
    lambda children: st.one_of(
        st.builds(AllOf, conditions=st.lists(children, min_size=1, max_size=3)),
        st.builds(AnyOf, conditions=st.lists(children, min_size=1, max_size=3)),
    ),
    max_leaves=8,
)
level_lists = st.lists(st.one_of(st.none(), rules_strategy), min_size=1, max_size=5).map(
    lambda rules: [level(i + 1, r) for i, r in enumerate(rules)]
)


def rank(levels: list[SeverityLevel], facts: Facts) -> int:
    """The suggested rank, with 'no level' as the least severe of all."""
    suggestion = suggest_level(levels, facts)
    return suggestion.rank if suggestion else 10**6


def grow(facts: Facts, data: st.DataObject) -> Facts:
    return msgspec.structs.replace(
        facts,
        participants=facts.participants + data.draw(counts),
        injuries=facts.injuries + data.draw(st.integers(min_value=0, max_value=10)),
        duration_minutes=facts.duration_minutes + data.draw(st.integers(min_value=0, max_value=1000)),
        categories=facts.categories | data.draw(category_sets),
        media_attention=facts.media_attention or data.draw(st.booleans()),
        safety_threat=facts.safety_threat or data.draw(st.booleans()),
    )


@settings(max_examples=300, deadline=None)
@given(levels=level_lists, facts=facts_strategy, more=counts)
def test_more_participants_never_lower_the_level(levels: list[SeverityLevel], facts: Facts, more: int) -> None:
    bigger = msgspec.structs.replace(facts, participants=facts.participants + more)
    assert rank(levels, bigger) <= rank(levels, facts)


@settings(max_examples=300, deadline=None)
@given(levels=level_lists, facts=facts_strategy, data=st.data())
def test_worse_facts_of_any_kind_never_lower_the_level(
    levels: list[SeverityLevel], facts: Facts, data: st.DataObject
) -> None:
    assert rank(levels, grow(facts, data)) <= rank(levels, facts)


@settings(max_examples=300, deadline=None)
@given(levels=level_lists, facts=facts_strategy)
def test_suggestion_is_the_most_severe_matching_level(levels: list[SeverityLevel], facts: Facts) -> None:
    matching = [lv for lv in levels if lv.activation is not None and holds(lv.activation, facts)]
    suggestion = suggest_level(levels, facts)
    if not matching:
        assert suggestion is None
    else:
        assert suggestion is not None
        assert suggestion.rank == min(lv.rank for lv in matching)
        assert suggestion.matching_levels == [lv.code for lv in sorted(matching, key=lambda lv: lv.rank)]


@settings(max_examples=300, deadline=None)
@given(rule=rules_strategy, facts=facts_strategy)
def test_reasons_are_leaves_that_hold_and_exist_exactly_when_the_rule_holds(rule: Rule, facts: Facts) -> None:
    found = reasons(rule, facts)
    assert bool(found) == holds(rule, facts)
    assert all(holds(r, facts) and not isinstance(r, AllOf | AnyOf) for r in found)


@settings(max_examples=200, deadline=None)
@given(rule=rules_strategy)
def test_rules_round_trip_through_json(rule: Rule) -> None:
    assert msgspec.json.decode(msgspec.json.encode(rule), type=Rule) == rule
