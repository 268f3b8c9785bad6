"""Activation rules: an incident's facts → the suggested severity level. Pure functions, no I/O.

A rule is data (``tenants.plans.content.Rule``): thresholds on participants, injuries and duration, the presence
of risk categories, media attention, a safety threat, combined with ``all`` / ``any``. Every condition is
monotone in the facts, so the suggestion can only rise when an incident grows. The most severe matching level
(lowest ``rank``) wins.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import msgspec

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
)


class Facts(msgspec.Struct, frozen=True, kw_only=True):
    """What is known about an incident when its severity is assessed."""

    participants: int = 0
    injuries: int = 0
    duration_minutes: int = 0
    categories: frozenset[str] = frozenset()
    media_attention: bool = False
    safety_threat: bool = False


class Suggestion(msgspec.Struct, frozen=True, kw_only=True):
    """The suggested level, the leaf conditions that made it match, and every level whose rule matched."""

    rank: int
    code: str
    matched: list[Rule]
    matching_levels: list[str]


def holds(rule: Rule, facts: Facts) -> bool:
    """Whether ``rule`` holds for ``facts``."""
    match rule:
        case ParticipantsAtLeast(value=n):
            return facts.participants >= n
        case InjuriesAtLeast(value=n):
            return facts.injuries >= n
        case DurationAtLeast(minutes=m):
            return facts.duration_minutes >= m
        case AnyCategory(categories=cats):
            return any(c in facts.categories for c in cats)
        case AllCategories(categories=cats):
            return all(c in facts.categories for c in cats)
        case MediaAttention():
            return facts.media_attention
        case SafetyThreat():
            return facts.safety_threat
        case AllOf(conditions=conditions):
            return all(holds(c, facts) for c in conditions)
        case AnyOf(conditions=conditions):
            return any(holds(c, facts) for c in conditions)
    raise TypeError(f"not a rule: {rule!r}")


def reasons(rule: Rule, facts: Facts) -> list[Rule]:
    """The leaf conditions that make ``rule`` hold (empty when it does not)."""
    match rule:
        case AllOf(conditions=conditions):
            if not all(holds(c, facts) for c in conditions):
                return []
            return [leaf for c in conditions for leaf in reasons(c, facts)]
        case AnyOf(conditions=conditions):
            return [leaf for c in conditions if holds(c, facts) for leaf in reasons(c, facts)]
    return [rule] if holds(rule, facts) else []


def suggest_level(levels: Sequence[SeverityLevel], facts: Facts) -> Suggestion | None:
    """The most severe level whose activation rule holds; None when no level's rule does (or none has one)."""
    matching = sorted(
        (lv for lv in levels if lv.activation is not None and holds(lv.activation, facts)), key=lambda lv: lv.rank
    )
    if not matching:
        return None
    top = matching[0]
    assert top.activation is not None
    return Suggestion(
        rank=top.rank,
        code=top.code,
        matched=reasons(top.activation, facts),
        matching_levels=[lv.code for lv in matching],
    )


def walk(rule: Rule) -> Iterator[tuple[Rule, int]]:
    """Every condition of ``rule`` with its nesting depth (the root has depth 1)."""
    stack: list[tuple[Rule, int]] = [(rule, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        if isinstance(node, AllOf | AnyOf):
            stack.extend((c, depth + 1) for c in reversed(node.conditions))


def describe(rule: Rule, lang: str, category_names: dict[str, str] | None = None, *, nested: bool = False) -> str:
    """A human-readable form of ``rule`` in ``lang`` (``zh-CN`` or ``en``) for the plan document."""
    zh = lang == "zh-CN"
    if isinstance(rule, AllOf | AnyOf):
        parts = [describe(c, lang, category_names, nested=True) for c in rule.conditions]
        word = ("且" if zh else " and ") if isinstance(rule, AllOf) else ("或" if zh else " or ")
        joined = word.join(parts)
        return (f"（{joined}）" if zh else f"({joined})") if nested and len(parts) > 1 else joined
    names = category_names or {}

    def cats(keys: list[str]) -> str:
        return ("、" if zh else ", ").join(names.get(k, k) for k in keys)

    match rule:
        case ParticipantsAtLeast(value=n):
            return f"参与人数≥{n}" if zh else f"participants ≥ {n}"
        case InjuriesAtLeast(value=n):
            return f"受伤人数≥{n}" if zh else f"injured ≥ {n}"
        case DurationAtLeast(minutes=m):
            return f"持续时间≥{m}分钟" if zh else f"lasting ≥ {m} min"
        case AnyCategory(categories=keys):
            return f"涉及以下任一风险：{cats(keys)}" if zh else f"any of the risks: {cats(keys)}"
        case AllCategories(categories=keys):
            return f"同时涉及以下风险：{cats(keys)}" if zh else f"all of the risks: {cats(keys)}"
        case MediaAttention():
            return "引起媒体关注" if zh else "media attention"
        case SafetyThreat():
            return "威胁校园安全" if zh else "threat to campus safety"
    raise TypeError(f"not a rule: {rule!r}")
