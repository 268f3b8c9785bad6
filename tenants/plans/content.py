"""The content of an emergency plan (預案) version: typed, bilingual, stored as JSONB.

The structs only bound sizes and shapes; what makes a plan publishable (every text in both languages, weights
summing to 1, known groups with leaders, ...) is checked by ``tenants.plans.checks`` when a draft is published,
so that a draft may be saved half-finished and the editor still sees every problem at once.

Sections follow the seed plan (``shared/domain/emergency-plan.md``): §1 goals and scope, §2 risk categories and the
severity levels with their activation rules, §4 the seven steps and the measures of §4.4, §5 material minimums,
§6 evaluation dimensions, §7 training and drill cadence. The groups of §3 live in the organization chart; the plan
refers to them by key.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Key = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,39}$", description="lowercase identifier")]
Code = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,39}$")]
ShortText = Annotated[str, msgspec.Meta(max_length=200)]
LongText = Annotated[str, msgspec.Meta(max_length=2000)]


class Content(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of every content struct: unknown fields are refused, never dropped."""


class Text(Content):
    """A text in Simplified Chinese and English (both required for publication)."""

    zh: LongText = ""
    en: LongText = ""

    def get(self, lang: str) -> str:
        return self.zh if lang == "zh-CN" else self.en


Texts = Annotated[list[Text], msgspec.Meta(max_length=50)]


# --- §1 goals and scope -----------------------------------------------------------------------------------------


class GoalsAndScope(Content):
    title: Text
    purpose: Text
    goals: Texts = []
    scope: Texts = []


# --- §2 risk categories, severity levels, activation rules --------------------------------------------------------


class RiskCategory(Content):
    key: Key
    name: Text
    description: Text = msgspec.field(default_factory=Text)


class _Condition(Content, tag_field="kind"):
    pass


class ParticipantsAtLeast(_Condition, tag="participants_at_least"):
    """At least ``value`` people take part (petitioners gathered, signatories of a collective demand)."""

    value: int


class InjuriesAtLeast(_Condition, tag="injuries_at_least"):
    value: int


class DurationAtLeast(_Condition, tag="duration_at_least"):
    """The event has lasted at least ``minutes`` (a sit-in that goes on, a gathering that does not disperse)."""

    minutes: int


class AnyCategory(_Condition, tag="any_category"):
    """At least one of ``categories`` is present among the incident's risk categories."""

    categories: Annotated[list[Key], msgspec.Meta(max_length=20)]


class AllCategories(_Condition, tag="all_categories"):
    categories: Annotated[list[Key], msgspec.Meta(max_length=20)]


class MediaAttention(_Condition, tag="media_attention"):
    """Media (press or social media) have picked the event up."""


class SafetyThreat(_Condition, tag="safety_threat"):
    """Campus safety is threatened (violence, a blocked gate, a crowd on a roof, ...)."""


class AllOf(_Condition, tag="all"):
    conditions: Annotated[list[Rule], msgspec.Meta(max_length=20)]


class AnyOf(_Condition, tag="any"):
    conditions: Annotated[list[Rule], msgspec.Meta(max_length=20)]


# No negation on purpose: every condition is monotone in the facts, so more participants, more injuries, a
# longer duration or more categories can never lower the suggested level.
Rule = (
    ParticipantsAtLeast
    | InjuriesAtLeast
    | DurationAtLeast
    | AnyCategory
    | AllCategories
    | MediaAttention
    | SafetyThreat
    | AllOf
    | AnyOf
)


class SeverityLevel(Content):
    """One level of the response grading; ``rank`` 1 is the most severe (I, 特別重大)."""

    rank: int
    code: Annotated[str, msgspec.Meta(max_length=8)]
    name: Text
    description: Text = msgspec.field(default_factory=Text)
    activation: Rule | None = None


# --- §4 steps and measures ----------------------------------------------------------------------------------------

STEP_KEYS = (
    "report",
    "assessment",
    "instruction",
    "response",
    "logistics",
    "information_release",
    "cleanup_summary",
)
StepKey = Literal[
    "report",
    "assessment",
    "instruction",
    "response",
    "logistics",
    "information_release",
    "cleanup_summary",
]


class Step(Content):
    """One of the seven steps; ``target_minutes`` counts from the moment the incident is reported."""

    key: StepKey
    name: Text
    description: Text = msgspec.field(default_factory=Text)
    responsible_group: Key | None = None
    target_minutes: int | None = None
    # While the incident is active the step repeats at this cadence (information release: progress updates).
    repeat_every_minutes: int | None = None


class Measure(Content):
    key: Key
    name: Text
    description: Text = msgspec.field(default_factory=Text)
    responsible_group: Key | None = None
    responsible_unit: Text | None = None


# --- §5 materials -------------------------------------------------------------------------------------------------

MATERIAL_CATEGORIES = ("communication", "medical", "safety", "logistics", "custom")
MaterialCategory = Literal["communication", "medical", "safety", "logistics", "custom"]


class MaterialMinimum(Content):
    category: MaterialCategory
    code: Code
    name: Text
    minimum: int
    unit: Text


# --- §6 evaluation ------------------------------------------------------------------------------------------------


class Criterion(Content):
    key: Key
    name: Text
    weight: float


class EvaluationDimension(Content):
    key: Key
    name: Text
    weight: float
    criteria: Annotated[list[Criterion], msgspec.Meta(max_length=20)] = []


# --- §7 training and drills -----------------------------------------------------------------------------------


class TrainingCadence(Content):
    training_every_days: int
    training_groups: Annotated[list[Key], msgspec.Meta(max_length=20)]
    drill_every_days: int
    notes: Text = msgspec.field(default_factory=Text)


class PlanContent(Content):
    goals: GoalsAndScope
    risk_categories: Annotated[list[RiskCategory], msgspec.Meta(max_length=30)]
    severity_levels: Annotated[list[SeverityLevel], msgspec.Meta(max_length=10)]
    steps: Annotated[list[Step], msgspec.Meta(max_length=10)]
    measures: Annotated[list[Measure], msgspec.Meta(max_length=30)]
    materials: Annotated[list[MaterialMinimum], msgspec.Meta(max_length=200)]
    evaluation: Annotated[list[EvaluationDimension], msgspec.Meta(max_length=20)]
    training: TrainingCadence


SECTIONS: tuple[str, ...] = tuple(PlanContent.__struct_fields__)


def section_type(section: str) -> Any:
    """The type of one top-level section (for section-wise edits)."""
    return msgspec.structs.fields(PlanContent)[SECTIONS.index(section)].type


def to_builtins(content: PlanContent) -> dict[str, Any]:
    return msgspec.to_builtins(content)


def from_builtins(data: Any) -> PlanContent:
    return msgspec.convert(data, PlanContent)
