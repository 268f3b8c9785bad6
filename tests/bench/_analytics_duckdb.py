"""The analytics metrics written in SQL for DuckDB: the benchmark's comparison engine (not used by the service).

Each query mirrors one Polars function of ``analytics.metrics`` over the same in-memory frames (registered as
``pj``, the localized petition journal; ``ij``, the localized incident journal; ``targets``, one row of plan
targets per tenant). The benchmark checks that both engines give the same values before it compares times.
"""

from __future__ import annotations

from collections.abc import Sequence

_US_HOUR = 3_600_000_000
_US_MINUTE = 60_000_000


def _keys(by: Sequence[str], period_of: str, period: str, prefix: str = "") -> tuple[str, str]:
    """(select list, group-by list) of tenant, period and breakdown columns."""
    cols = [f"{prefix}tenant_id", f"date_trunc('{period}', {period_of})::date as period", *(prefix + b for b in by)]
    return ", ".join(cols), ", ".join(str(i + 1) for i in range(len(cols)))


PETITION_FACTS = """
create or replace temp table facts as
select tenant_id, petition_id,
  any_value(kind) filter (where type = 'petition.submitted') as kind,
  any_value(category) filter (where type = 'petition.submitted') as category,
  any_value(channel) filter (where type = 'petition.submitted') as channel,
  arg_max(org_unit_id, occurred_at) filter (where org_unit_id is not null) as org_unit_id,
  min(occurred_at) filter (where type = 'petition.submitted') as received_at,
  min(local_at) filter (where type = 'petition.submitted') as received_local,
  min(occurred_at) filter (where type in ('petition.accepted', 'petition.not_accepted')) as decided_at,
  min(local_at) filter (where type in ('petition.accepted', 'petition.not_accepted')) as decided_local,
  min(local_at) filter (where type = 'petition.accepted') as accepted_local,
  min(local_at) filter (where type = 'petition.assigned') as assigned_local,
  min(occurred_at) filter (where type = 'petition.replied') as replied_at,
  min(local_at) filter (where type = 'petition.replied') as replied_local,
  min(local_at) filter (where type = 'petition.reviewed') as reviewed_local,
  coalesce(sum(days) filter (where type = 'petition.extended'), 0) as extension_days,
  count(*) filter (where type = 'petition.transferred') as transfers,
  count(*) filter (where type = 'petition.transfer_objected') as objections,
  bool_or(type = 'petition.review_requested') as review_requested,
  bool_or(type = 'petition.rereview_requested') as rereview_requested,
  bool_or(type = 'petition.rated') as rated
from pj where petition_id is not null and starts_with(type, 'petition.')
group by tenant_id, petition_id
"""


def _with_dims(event: str) -> str:
    return (
        "(select j.tenant_id, j.petition_id, j.local_at, j.deadline, j.rating, j.stage, f.org_unit_id, f.category, "
        f"f.kind from pj j left join facts f using (tenant_id, petition_id) where j.type = 'petition.{event}')"
    )


def _merge(parts: list[str], by: Sequence[str]) -> str:
    keys = ["tenant_id", "period", *by]
    body = " union all by name ".join(f"({p})" for p in parts)
    return f"select {', '.join(keys)}, max(columns(* exclude ({', '.join(keys)}))) from ({body}) group by all"


def timeliness(period: str, by: Sequence[str]) -> str:
    def keys(of: str) -> tuple[str, str]:
        return _keys(by, of, period)

    sel, grp = keys("decided_local")
    decisions = (
        f"select {sel}, count(*) as decisions, count(accepted_local) as accepted, "
        f"avg(epoch_us(decided_at) - epoch_us(received_at)) / {_US_HOUR} as accept_hours_mean, "
        "avg((decided_local::date - received_local::date <= 15)::double) as accept_within_15_share "
        f"from facts where decided_local is not null and received_local is not null group by {grp}"
    )
    sel, grp = keys("replied_local")
    conclusions = (
        f"select {sel}, count(*) as concluded, count(*) filter (where extension_days > 0) as extended, "
        "avg(replied_local::date - accepted_local::date) as conclude_days_mean, "
        "avg((replied_local::date - accepted_local::date <= 60 + extension_days)::double) as conclude_on_time_share, "
        "avg(review_requested::double) as review_rate "
        f"from facts where replied_local is not null and accepted_local is not null group by {grp}"
    )
    sel, grp = keys("reviewed_local")
    rereviews = (
        f"select {sel}, count(*) as reviews_answered, avg(rereview_requested::double) as rereview_rate "
        f"from facts where reviewed_local is not null group by {grp}"
    )
    sel, grp = keys("local_at")
    overdue = (
        f"select {sel}, count(*) as overdue, count(*) filter (where deadline = 'accept') as overdue_accept, "
        f"count(*) filter (where deadline = 'conclude') as overdue_conclude from {_with_dims('overdue')} group by {grp}"
    )
    return _merge([decisions, conclusions, rereviews, overdue], by)


def coordination(period: str, by: Sequence[str]) -> str:
    sel, grp = _keys(by, "assigned_local", period)
    return (
        f"select {sel}, count(*) as assigned, sum(transfers) as transfers, avg(transfers) as transfers_per_petition, "
        "avg((transfers >= 1)::double) as transferred_share, avg((transfers >= 2)::double) as bounced_share, "
        "sum(objections) as transfer_objections, "
        "case when sum(transfers) > 0 then sum(objections) / sum(transfers) end as objection_rate "
        f"from facts where assigned_local is not null group by {grp}"
    )


def satisfaction(period: str, by: Sequence[str]) -> str:
    sel, grp = _keys(by, "local_at", period)
    ratings = (
        f"select {sel}, count(*) as ratings, avg((rating = 'satisfied')::double) as satisfied_share, "
        "avg((rating = 'basically_satisfied')::double) as basically_satisfied_share, "
        f"avg((rating = 'dissatisfied')::double) as dissatisfied_share from {_with_dims('rated')} group by {grp}"
    )
    sel_r, grp_r = _keys(by, "replied_local", period)
    responses = (
        f"select {sel_r}, count(*) as replied, avg(rated::double) as response_rate "
        f"from facts where replied_local is not null group by {grp_r}"
    )
    followups = (
        f"select {sel}, count(*) as followups_outstanding from {_with_dims('followup_due')} f "
        "where not exists (select 1 from pj r where r.type = 'petition.rated' and r.tenant_id = f.tenant_id "
        "and r.petition_id = f.petition_id and r.stage is not distinct from f.stage) "
        f"group by {grp}"
    )
    return _merge([ratings, responses, followups], by)


INCIDENT_FACTS = """
create or replace temp table ifacts as
select * from (
  select tenant_id, incident_id,
    any_value(drill) filter (where type = 'incident.reported') as drill,
    arg_max_null(level, occurred_at) filter (where type = 'incident.assessed') as level,
    min(occurred_at) filter (where type = 'incident.reported') as reported_at,
    min(local_at) filter (where type = 'incident.reported') as reported_local,
    min(occurred_at) filter (where type = 'incident.assessed') as assessed_at,
    min(occurred_at) filter (where type = 'incident.instructed') as instructed_at,
    min(occurred_at) filter (where type = 'bulletin.published') as first_bulletin_at,
    min(occurred_at) filter (where type = 'incident.closed') as closed_at,
    count(*) filter (where type = 'bulletin.published') as bulletins,
    count(*) filter (where type = 'bulletin.published' and kind in ('correction', 'retraction')) as corrections,
    count(*) filter (where type = 'bulletin.update_missed') as updates_missed,
    count(*) filter (where type = 'incident.step_overdue') as steps_overdue,
    count(distinct org_unit_id) filter (where type in ('task.assigned', 'measure.recorded')) as units,
    count(*) filter (where type = 'task.assigned') as tasks
  from ij where incident_id is not null group by tenant_id, incident_id
) where reported_at is not null
"""


def _since_report(column: str) -> str:
    return f"(epoch_us({column}) - epoch_us(reported_at)) / {_US_MINUTE}"


def incident_timeliness(period: str) -> str:
    sel, grp = _keys(["drill"], "reported_local", period, "f.")
    return (
        f"select {sel}, count(*) as incidents, count(closed_at) as closed, "
        f"avg({_since_report('assessed_at')}) as assess_minutes_mean, "
        f"avg(({_since_report('assessed_at')} <= t.assessment)::double) as assess_on_time_share, "
        f"avg({_since_report('instructed_at')}) as instruct_minutes_mean, "
        f"avg(({_since_report('instructed_at')} <= t.instruction)::double) as instruct_on_time_share, "
        f"avg({_since_report('closed_at')}) / 60 as close_hours_mean, "
        f"avg(({_since_report('closed_at')} <= t.cleanup_summary)::double) as close_on_time_share, "
        "sum(steps_overdue) as steps_overdue, avg(units) as units_per_incident, avg(tasks) as tasks_per_incident "
        f"from ifacts f left join targets t using (tenant_id) group by {grp}"
    ).replace("f.drill", "drill")


TASK_FACTS = """
create or replace temp table tfacts as
select * from (
  select tenant_id, subject_id,
    any_value(org_unit_id) filter (where type = 'task.assigned') as org_unit_id,
    any_value(step) filter (where type = 'task.assigned') as step,
    any_value(drill) filter (where type = 'task.assigned') as drill,
    min(occurred_at) filter (where type = 'task.assigned') as assigned_at,
    min(local_at) filter (where type = 'task.assigned') as assigned_local,
    coalesce(bool_or(reassigned_from is not null) filter (where type = 'task.assigned'), false) as reassigned,
    min(occurred_at) filter (where type = 'task.acknowledged') as acknowledged_at,
    bool_or(type = 'task.declined') as declined,
    bool_or(type = 'task.completed') as completed,
    any_value(on_time) filter (where type = 'task.completed') as on_time,
    bool_or(type = 'task.overdue') as overdue
  from ij where starts_with(type, 'task.') and subject_id is not null group by tenant_id, subject_id
) where assigned_at is not null
"""


def task_coordination(period: str, by: Sequence[str]) -> str:
    sel, grp = _keys(["drill", *by], "assigned_local", period)
    ack = f"(epoch_us(acknowledged_at) - epoch_us(assigned_at)) / {_US_MINUTE}"
    return (
        f"select {sel}, count(*) as tasks, avg((acknowledged_at is not null)::double) as acknowledged_share, "
        f"avg({ack}) as ack_minutes_mean, "
        f"avg(coalesce({ack} <= 30, false)::double) filter (where not declined) as ack_on_time_share, "
        "count(*) filter (where completed) as completed, avg(on_time::double) as completed_on_time_share, "
        "count(*) filter (where overdue) as tasks_overdue, count(*) filter (where declined) as declines, "
        "avg(declined::double) as decline_rate, count(*) filter (where reassigned) as reassignments, "
        f"count(distinct org_unit_id) as units from tfacts group by {grp}"
    )


def information_release(period: str) -> str:
    sel, grp = _keys(["drill"], "reported_local", period, "f.")
    first = _since_report("first_bulletin_at")
    intervals = (
        "select tenant_id, incident_id, count(*) as intervals, count(*) filter (where gap <= cadence * 60000000) "
        "as on_cadence from (select tenant_id, incident_id, epoch_us(occurred_at) - lag(epoch_us(occurred_at)) "
        "over (partition by tenant_id, incident_id order by occurred_at) as gap from ij "
        "where type = 'bulletin.published' and incident_id is not null) join targets using (tenant_id) "
        "where gap is not null group by all"
    )
    return (
        f"select {sel}, count(*) as incidents, avg((bulletins > 0)::double) as status_page_share, "
        f"avg({first}) as first_bulletin_minutes_mean, "
        f"avg(({first} <= t.information_release)::double) as first_bulletin_on_time_share, "
        "sum(bulletins) as bulletins, sum(coalesce(i.intervals, 0)) as update_intervals, "
        "case when sum(i.intervals) > 0 then sum(i.on_cadence) / sum(i.intervals) end as cadence_share, "
        "sum(updates_missed) as updates_missed, sum(corrections) as corrections, "
        "case when sum(bulletins) > 0 then sum(corrections) / sum(bulletins) end as correction_share "
        f"from ifacts f left join targets t using (tenant_id) left join ({intervals}) i using (tenant_id, incident_id) "
        f"group by {grp}"
    ).replace("f.drill", "drill")
