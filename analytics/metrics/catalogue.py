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
    # Supervision orders (督查督办, supervision_coordination): orders issued in the period, by unit
    "supervision_orders": _m("coordination", "本期督办单数", "supervision orders issued in the period",
                             "count of supervision.issued events in the period"),
    "supervision_answered": _m("coordination", "已答复督办单数", "supervision orders answered",
                               "count of the period's orders with ≥ 1 supervision.answered (to date)"),
    "supervision_overdue": _m("coordination", "逾期督办单数", "supervision orders overdue",
                              "count of the period's orders with supervision.overdue (to date)"),
    "supervision_returns": _m("coordination", "督办答复退回次数", "supervision answers returned",
                              "count of supervision.returned events of the period's orders"),
    "supervision_on_time_share": _m("coordination", "督办按时答复率", "share of supervision orders answered on time",
                                    "of the period's orders answered or overdue: share whose first "
                                    "supervision.answered has on_time = true (answered ≤ due_at)"),
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
    # Incidents (incident_timeliness): the period's incidents (reported in it), drills in their own rows
    "incidents": _m("timeliness", "本期报告的突发事件数", "incidents reported in the period",
                    "count of incident.reported events in the period (by drill)"),
    "closed": _m("timeliness", "其中已结束的事件数", "of which closed",
                 "count of those with incident.closed (to date)"),
    "assess_minutes_mean": _m("timeliness", "报告至评估平均用时（分钟）",
                              "mean time from report to assessment (minutes)",
                              "mean(first incident.assessed − incident.reported)"),
    "assess_on_time_share": _m("timeliness", "按预案时限完成评估的比例", "share assessed within the plan's target",
                               "share with report → assessment ≤ the plan's assessment target (default 60 min)"),
    "instruct_minutes_mean": _m("timeliness", "报告至指令下达平均用时（分钟）",
                                "mean time from report to instruction (minutes)",
                                "mean(first incident.instructed − incident.reported)"),
    "instruct_on_time_share": _m("timeliness", "按预案时限下达指令的比例", "share instructed within the plan's target",
                                 "share with report → instruction ≤ the plan's instruction target (default 120 min)"),
    "close_hours_mean": _m("timeliness", "报告至结束平均用时（小时）", "mean time from report to close (hours)",
                           "mean(incident.closed − incident.reported) over closed incidents"),
    "close_on_time_share": _m("timeliness", "按预案时限完成总结并结束的比例",
                              "share closed within the plan's summary target",
                              "share with report → close ≤ the plan's cleanup_summary target (default 7 days)"),
    "steps_overdue": _m("timeliness", "超时步骤次数", "steps past their target",
                        "count of incident.step_overdue events (of the row's step in step_times)"),
    "units_per_incident": _m("coordination", "事件平均参与单位数", "units involved per incident",
                             "mean over incidents of distinct org units given tasks or recording measures"),
    "tasks_per_incident": _m("coordination", "事件平均任务数", "tasks per incident",
                             "mean over incidents of task.assigned events"),
    # Step by step (step_times): one row per milestone (assessment, instruction, information_release = first
    # bulletin, cleanup_summary = close) of the period's incidents
    "target_minutes": _m("timeliness", "预案时限（分钟，自报告起）", "the plan's target (minutes from the report)",
                         "the step's target_minutes in the plan (defaults 60 / 120 / 240 min, 7 days)"),
    "reached": _m("timeliness", "已完成该环节的事件数", "incidents that reached the step",
                  "count of the period's incidents with the step's milestone (to date)"),
    "minutes_mean": _m("timeliness", "报告至该环节平均用时（分钟）", "mean time from the report (minutes)",
                       "mean(milestone − incident.reported) over the incidents that reached it"),
    "on_time_share": _m("timeliness", "按预案时限完成该环节的比例", "share within the plan's target",
                        "share of those incidents with milestone − report ≤ target_minutes"),
    # Tasks between offices (task_coordination): tasks assigned in the period, by unit and step
    "tasks": _m("coordination", "本期交办任务数", "tasks assigned in the period",
                "count of tasks (first task.assigned)"),
    "acknowledged_share": _m("coordination", "任务确认比例", "share of tasks acknowledged",
                             "share of tasks with task.acknowledged (to date)"),
    "ack_minutes_mean": _m("coordination", "任务确认平均用时（分钟）", "mean acknowledgement latency (minutes)",
                           "mean(task.acknowledged − task.assigned) over acknowledged tasks"),
    "ack_on_time_share": _m("coordination", "30分钟内确认任务的比例", "share acknowledged within 30 minutes",
                            "share of tasks not declined acknowledged ≤ 30 min after assignment"),
    "completed": _m("coordination", "已完成任务数", "tasks completed", "count of tasks with task.completed (to date)"),
    "completed_on_time_share": _m("coordination", "按时完成任务的比例", "share of completed tasks on time",
                                  "share of task.completed with on_time = true"),
    "tasks_overdue": _m("coordination", "超时任务数", "tasks past due", "count of tasks with task.overdue"),
    "declines": _m("coordination", "任务拒收次数", "tasks declined", "count of tasks with task.declined"),
    "decline_rate": _m("coordination", "任务拒收率", "decline rate", "declines / tasks"),
    "reassignments": _m("coordination", "任务改派次数", "reassignments",
                        "count of tasks assigned with reassigned_from set"),
    "units": _m("coordination", "参与单位数", "units involved", "distinct org units given tasks"),
    # Information release (information_release): bulletins of the period's incidents
    "status_page_share": _m("information_release", "设公开通报页的事件比例", "share of incidents with a status page",
                            "share of incidents with ≥ 1 bulletin.published"),
    "first_bulletin_minutes_mean": _m("information_release", "报告至首次通报平均用时（分钟）",
                                      "mean time from report to the first bulletin (minutes)",
                                      "mean(first bulletin.published − incident.reported)"),
    "first_bulletin_on_time_share": _m("information_release", "按预案时限首次通报的比例",
                                       "share first bulletin within the plan's target",
                                       "of incidents with a bulletin: first ≤ the information_release target "
                                       "(default 240 min)"),
    "bulletins": _m("information_release", "通报条数", "bulletins published", "count of bulletin.published"),
    "update_intervals": _m("information_release", "通报间隔数", "update intervals",
                           "intervals between consecutive bulletins of an incident"),
    "cadence_share": _m("information_release", "按预案频次更新的比例", "share of intervals within the plan's cadence",
                        "intervals ≤ the plan's repeat_every_minutes (default 120) / intervals"),
    "updates_missed": _m("information_release", "逾期未更新次数", "updates missed",
                         "count of bulletin.update_missed events"),
    "corrections": _m("information_release", "更正与撤回条数", "corrections and retractions",
                      "bulletins of kind correction or retraction"),
    "correction_share": _m("information_release", "更正撤回占比（准确性）", "corrections as a share of bulletins",
                           "corrections / bulletins"),
    # Scores (0-100)
    "timeliness_score": _m("score", "及时性得分", "timeliness score",
                           "100 × mean of the available accept_within_15_share, conclude_on_time_share, "
                           "assess_on_time_share, instruct_on_time_share, close_on_time_share (real incidents)"),
    "coordination_score": _m("score", "协调配合得分（协调指数）", "coordination score (coordination index)",
                             "100 × mean of the available (1 − bounced_share), (1 − objection_rate), "
                             "ack_on_time_share, completed_on_time_share, (1 − decline_rate), "
                             "supervision_on_time_share"),
    "information_release_score": _m("score", "信息发布得分", "information release score",
                                    "100 × (0.5·first_bulletin_on_time_share + 0.3·cadence_share + "
                                    "0.2·(1 − correction_share)), weights renormalised over the available parts; "
                                    "null without real incidents"),
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
