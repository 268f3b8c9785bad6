"""The metric catalogue: every metric's name, zh-CN and en description, and formula (printed in the README).

Names are the output columns of ``analytics.metrics``. "Period" is the tenant's local calendar month, quarter or
year; "local days" are calendar days between local dates, as the regulation counts them.
"""

from __future__ import annotations

from typing import TypedDict


class Metric(TypedDict):
    dimension: str
    zh: str
    en: str
    formula: str


def _m(dimension: str, zh: str, en: str, formula: str) -> Metric:
    return Metric(dimension=dimension, zh=zh, en=en, formula=formula)


CATALOGUE: dict[str, Metric] = {
    # Timeliness and effectiveness (事件處置的及時性與有效性)
    "decisions": _m("timeliness", "本期作出受理决定的信访件数", "acceptance decisions made in the period",
                    "count of petitions whose first accepted/not_accepted event falls in the period"),
    "accepted": _m("timeliness", "本期受理件数", "petitions accepted in the period",
                   "count of decisions that are petition.accepted"),
    "accept_hours_mean": _m("timeliness", "受理决定平均用时（小时）", "mean time to the acceptance decision (hours)",
                            "mean(decision time − submission time) over the period's decisions"),
    "accept_within_15_share": _m("timeliness", "15日内作出受理决定的比例", "share of decisions within 15 days",
                                 "share of decisions with local date(decision) − local date(submission) ≤ 15"),
    "concluded": _m("timeliness", "本期办结（首次答复）件数", "petitions concluded (first reply) in the period",
                    "count of accepted petitions whose first petition.replied falls in the period"),
    "extended": _m("timeliness", "其中延期件数", "of which extended", "count of concluded petitions with an extension"),
    "conclude_days_mean": _m("timeliness", "办结平均用时（日）", "mean time to conclusion (local days)",
                             "mean(local date(reply) − local date(acceptance))"),
    "conclude_on_time_share": _m("timeliness", "60日（含延期）内办结的比例",
                                 "share concluded within 60 days plus the extension",
                                 "share with local date(reply) − local date(acceptance) ≤ 60 + extension days"),
    "review_rate": _m("timeliness", "复查申请率", "review (复查) rate",
                      "share of the period's concluded petitions for which a review was requested (to date)"),
    "reviews_answered": _m("timeliness", "本期复查答复件数", "reviews answered in the period",
                           "count of petitions whose first petition.reviewed falls in the period"),
    "rereview_rate": _m("timeliness", "复核申请率", "re-review (复核) rate",
                        "share of the period's answered reviews followed by a re-review request (to date)"),
    "overdue": _m("timeliness", "逾期次数", "deadlines missed", "count of petition.overdue events in the period"),
    "overdue_accept": _m("timeliness", "受理逾期次数", "acceptance deadlines missed",
                         "petition.overdue events with deadline = accept"),
    "overdue_conclude": _m("timeliness", "办结逾期次数", "conclusion deadlines missed",
                           "petition.overdue events with deadline = conclude"),
    # Coordination between offices (各部門的協調配合程度)
    "assigned": _m("coordination", "本期交办件数", "petitions first assigned in the period",
                   "count of petitions whose first petition.assigned falls in the period"),
    "transfers": _m("coordination", "转办次数", "transfers between units",
                    "count of petition.transferred events of the period's assigned petitions (to date)"),
    "transfers_per_petition": _m("coordination", "件均转办次数", "transfers per petition", "transfers / assigned"),
    "transferred_share": _m("coordination", "被转办件比例", "share transferred at least once",
                            "share of assigned petitions with ≥ 1 transfer"),
    "bounced_share": _m("coordination", "多次转办（推诿）比例", "share bounced between offices",
                        "share of assigned petitions with ≥ 2 transfers"),
    "transfer_objections": _m("coordination", "转办异议次数", "transfer objections",
                              "count of petition.transfer_objected events of the period's assigned petitions"),
    "objection_rate": _m("coordination", "转办异议率", "objection rate",
                         "transfer_objections / transfers (null without transfers)"),
    # Satisfaction and feedback (師生的滿意度與反饋)
    "ratings": _m("satisfaction", "本期评价次数", "ratings given in the period", "count of petition.rated events"),
    "satisfied_share": _m("satisfaction", "满意比例", "share satisfied", "ratings = satisfied / ratings"),
    "basically_satisfied_share": _m("satisfaction", "基本满意比例", "share basically satisfied",
                                    "ratings = basically_satisfied / ratings"),
    "dissatisfied_share": _m("satisfaction", "不满意比例", "share dissatisfied", "ratings = dissatisfied / ratings"),
    "replied": _m("satisfaction", "本期答复件数", "petitions first replied in the period",
                  "count of petitions whose first petition.replied falls in the period"),
    "response_rate": _m("satisfaction", "评价回复率", "response rate",
                        "share of the period's replied petitions rated at any stage (to date)"),
    "followups_outstanding": _m("satisfaction", "待回访件数", "follow-ups outstanding",
                                "period's petition.followup_due events without a rating of that stage (to date)"),
    # Scores (0-100)
    "timeliness_score": _m("score", "及时性得分", "timeliness score",
                           "100 × mean of the available accept_within_15_share and conclude_on_time_share"),
    "coordination_score": _m("score", "协调配合得分", "coordination score",
                             "100 × mean of the available (1 − bounced_share) and (1 − objection_rate)"),
    "information_release_score": _m("score", "信息发布得分", "information release score",
                                    "from the incident metrics; null until incidents are measured"),
    "satisfaction_score": _m("score", "满意度得分", "satisfaction score",
                             "100 × (satisfied_share + 0.5 × basically_satisfied_share)"),
    "overall_score": _m("score", "综合得分", "overall score",
                        "Σ wᵢ·scoreᵢ / Σ wᵢ over the dimensions with a score (weights of the plan in force; "
                        "dimensions without data are left out and the rest renormalised)"),
}  # fmt: skip


def markdown() -> str:
    """The catalogue as a Markdown table (for the README)."""
    lines = ["| metric | 说明 | description | formula |", "|---|---|---|---|"]
    lines += [f"| `{name}` | {m['zh']} | {m['en']} | {m['formula']} |" for name, m in CATALOGUE.items()]
    return "\n".join(lines)
