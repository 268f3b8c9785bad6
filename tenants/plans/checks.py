"""Pure checks on plan content: what stops a draft from being published, and what changed between versions."""

from __future__ import annotations

import math
import uuid
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import msgspec

from tenants.plans.content import (
    STEP_KEYS,
    AllCategories,
    AllOf,
    AnyCategory,
    AnyOf,
    DurationAtLeast,
    InjuriesAtLeast,
    ParticipantsAtLeast,
    PlanContent,
    Text,
)
from tenants.plans.rules import walk

WEIGHT_TOLERANCE = 1e-9
MAX_RULE_DEPTH = 5
# Texts that may be left empty in both languages; every other text needs both.
_OPTIONAL_TEXTS = frozenset({"description", "notes"})


class Roster(Protocol):
    """The part of an emergency group (``tenants.org.GroupRoster``) the checks need."""

    @property
    def leader_person_id(self) -> uuid.UUID | None: ...


Problem = dict[str, str]


def publication_problems(content: PlanContent, groups: Mapping[str, Roster]) -> list[Problem]:
    """Every reason ``content`` cannot be published with the organization's current ``groups``."""
    problems: list[Problem] = []

    def add(field: str, message: str) -> None:
        problems.append({"field": field, "message": message})

    _texts(content, "", add)
    _goals(content, add)
    _risks(content, add)
    _levels(content, add)
    _steps(content, groups, add)
    _measures(content, groups, add)
    _materials(content, add)
    _evaluation(content, add)
    _training(content, groups, add)
    return problems


def _texts(node: Any, path: str, add: Any, *, optional: bool = False) -> None:
    """Walk the content; flag every text missing a language."""
    if isinstance(node, Text):
        zh, en = bool(node.zh.strip()), bool(node.en.strip())
        if optional and not zh and not en:
            return
        if not zh:
            add(f"{path}.zh", "the Simplified Chinese text is missing")
        if not en:
            add(f"{path}.en", "the English text is missing")
    elif isinstance(node, msgspec.Struct):
        for name in node.__struct_fields__:
            child = getattr(node, name)
            if child is not None:
                _texts(child, f"{path}.{name}" if path else name, add, optional=name in _OPTIONAL_TEXTS)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            _texts(item, f"{path}[{i}]", add)


def _duplicates(values: Iterable[str]) -> list[str]:
    return sorted(k for k, n in Counter(values).items() if n > 1)


def _goals(content: PlanContent, add: Any) -> None:
    if not content.goals.goals:
        add("goals.goals", "list at least one goal")
    if not content.goals.scope:
        add("goals.scope", "list at least one kind of event the plan applies to")


def _risks(content: PlanContent, add: Any) -> None:
    if not content.risk_categories:
        add("risk_categories", "list at least one risk category")
    for key in _duplicates(r.key for r in content.risk_categories):
        add("risk_categories", f"risk category {key!r} is listed more than once")


def _levels(content: PlanContent, add: Any) -> None:
    levels = content.severity_levels
    known = {r.key for r in content.risk_categories}
    if not levels:
        add("severity_levels", "list at least one severity level")
    ranks = [lv.rank for lv in levels]
    if ranks != list(range(1, len(levels) + 1)):
        add(
            "severity_levels", "levels must be listed from the most severe, ranked 1, 2, 3, ... without gaps or repeats"
        )
    for code in _duplicates(lv.code for lv in levels):
        add("severity_levels", f"level code {code!r} is used more than once")
    for i, level in enumerate(levels):
        path = f"severity_levels[{i}]"
        if not level.code.strip():
            add(f"{path}.code", "a level needs a code (I, II, ...)")
        if level.activation is None:
            continue
        for node, depth in walk(level.activation):
            where = f"{path}.activation"
            if depth > MAX_RULE_DEPTH:
                add(where, f"rules nest at most {MAX_RULE_DEPTH} levels deep")
                break
            match node:
                case AllOf(conditions=c) | AnyOf(conditions=c) if not c:
                    add(where, f"an '{'all' if isinstance(node, AllOf) else 'any'}' rule needs at least one condition")
                case ParticipantsAtLeast(value=n) | InjuriesAtLeast(value=n) if n < 0:
                    add(where, f"threshold {n} is negative")
                case DurationAtLeast(minutes=m) if m < 0:
                    add(where, f"duration {m} is negative")
                case AnyCategory(categories=cats) | AllCategories(categories=cats):
                    if not cats:
                        add(where, "a category condition needs at least one category")
                    for key in cats:
                        if key not in known:
                            add(where, f"unknown risk category {key!r}")


def _group_ref(field: str, key: str | None, groups: Mapping[str, Roster], add: Any) -> None:
    if key is None:
        add(field, "no responsible group")
    elif key not in groups:
        add(field, f"unknown group {key!r}")
    elif groups[key].leader_person_id is None:
        add(field, f"group {key!r} has no leader")


def _steps(content: PlanContent, groups: Mapping[str, Roster], add: Any) -> None:
    keys = [s.key for s in content.steps]
    if keys != list(STEP_KEYS):
        add("steps", f"the seven steps must be listed once each, in order: {', '.join(STEP_KEYS)}")
    for i, step in enumerate(content.steps):
        path = f"steps[{i}]"
        _group_ref(f"{path}.responsible_group", step.responsible_group, groups, add)
        if step.target_minutes is None:
            add(f"{path}.target_minutes", f"step {step.key!r} has no time target")
        elif step.target_minutes <= 0:
            add(f"{path}.target_minutes", f"time target {step.target_minutes} must be positive")
        if step.repeat_every_minutes is not None and step.repeat_every_minutes <= 0:
            add(f"{path}.repeat_every_minutes", f"cadence {step.repeat_every_minutes} must be positive")


def _measures(content: PlanContent, groups: Mapping[str, Roster], add: Any) -> None:
    for key in _duplicates(m.key for m in content.measures):
        add("measures", f"measure {key!r} is listed more than once")
    for i, measure in enumerate(content.measures):
        _group_ref(f"measures[{i}].responsible_group", measure.responsible_group, groups, add)


def _materials(content: PlanContent, add: Any) -> None:
    for code in _duplicates(m.code for m in content.materials):
        add("materials", f"item code {code!r} is listed more than once")
    for i, item in enumerate(content.materials):
        if item.minimum < 0:
            add(f"materials[{i}].minimum", f"minimum {item.minimum} is negative")


def _weights(path: str, weights: list[float], add: Any) -> None:
    for i, w in enumerate(weights):
        if not math.isfinite(w) or w < 0 or w > 1:
            add(f"{path}[{i}].weight", f"weight {w} must be between 0 and 1")
    total = math.fsum(weights)
    if abs(total - 1.0) > WEIGHT_TOLERANCE:
        add(path, f"weights sum to {total:g}, not 1")


def _evaluation(content: PlanContent, add: Any) -> None:
    dims = content.evaluation
    if not dims:
        add("evaluation", "list at least one evaluation dimension")
        return
    for key in _duplicates(d.key for d in dims):
        add("evaluation", f"dimension {key!r} is listed more than once")
    _weights("evaluation", [d.weight for d in dims], add)
    for i, dim in enumerate(dims):
        if dim.criteria:
            for key in _duplicates(c.key for c in dim.criteria):
                add(f"evaluation[{i}].criteria", f"criterion {key!r} is listed more than once")
            _weights(f"evaluation[{i}].criteria", [c.weight for c in dim.criteria], add)


def _training(content: PlanContent, groups: Mapping[str, Roster], add: Any) -> None:
    cadence = content.training
    if cadence.training_every_days <= 0:
        add("training.training_every_days", "the training interval must be a positive number of days")
    if cadence.drill_every_days <= 0:
        add("training.drill_every_days", "the drill interval must be a positive number of days")
    if not cadence.training_groups:
        add("training.training_groups", "name at least one group whose members are trained")
    for i, key in enumerate(cadence.training_groups):
        if key not in groups:
            add(f"training.training_groups[{i}]", f"unknown group {key!r}")


# --- diff -----------------------------------------------------------------------------------------------------


class Change(msgspec.Struct, frozen=True):
    path: str
    old: Any
    new: Any


def _item_key(item: Any) -> str | None:
    if isinstance(item, dict):
        for name in ("key", "code"):
            if isinstance(item.get(name), str):
                return item[name]
    return None


def _diff(old: Any, new: Any, path: str, out: list[Change]) -> None:
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict):
        for name in list(old) + [k for k in new if k not in old]:
            _diff(old.get(name), new.get(name), f"{path}.{name}", out)
        return
    if isinstance(old, list) and isinstance(new, list):
        old_keys, new_keys = [_item_key(x) for x in old], [_item_key(x) for x in new]
        keyed = all(old_keys) and all(new_keys) and len(set(old_keys)) == len(old) and len(set(new_keys)) == len(new)
        if keyed:
            # Items with a key or code are matched by it, so a reordering or an insertion reads as what it is.
            before = dict(zip(old_keys, old, strict=True))
            after = dict(zip(new_keys, new, strict=True))
            for key in [k for k in old_keys if k] + [k for k in new_keys if k not in before]:
                _diff(before.get(key), after.get(key), f"{path}[{key}]", out)
        else:
            for i in range(max(len(old), len(new))):
                _diff(old[i] if i < len(old) else None, new[i] if i < len(new) else None, f"{path}[{i}]", out)
        return
    out.append(Change(path, old, new))


def diff(old: PlanContent, new: PlanContent) -> dict[str, list[Change]]:
    """What changed from ``old`` to ``new``, section by section (sections without changes are left out)."""
    a, b = msgspec.to_builtins(old), msgspec.to_builtins(new)
    sections: dict[str, list[Change]] = {}
    for section in a:
        changes: list[Change] = []
        _diff(a[section], b[section], section, changes)
        if changes:
            sections[section] = changes
    return sections
