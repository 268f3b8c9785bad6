"""The catalogue of journal event types: the contract between the domains that write the journal and its
consumers (analytics, webhooks, integrators).

``journal.record`` refuses a type that is not listed here and payload keys the type does not declare, so the
catalogue is always complete and a payload can never grow a personal field unnoticed. Subject ids travel as
real columns (``petition_id``, ``incident_id``, ``org_unit_id``, ``subject_id``, ``actor_id``), not in payloads.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EventType:
    description: str
    payload: frozenset[str] = frozenset()


def _e(description: str, *payload: str) -> EventType:
    return EventType(description, frozenset(payload))


EVENTS: dict[str, EventType] = {
    # Platform and identity (subject_id: the tenant, account or key).
    "tenant.created": _e("a university was onboarded", "slug"),
    "tenant.provisioned": _e("a university's onboarding was finished by the background job"),
    "tenant.suspended": _e("a university was suspended"),
    "tenant.reactivated": _e("a university was reactivated"),
    "account.created": _e("an account was created", "role"),
    "account.updated": _e("an account's role, name or activity changed", "changed"),
    "account.sessions_revoked": _e("every session (access and refresh tokens) of an account was ended"),
    "account.password_changed": _e("an account's owner changed its password (its other sessions ended)"),
    "account.password_reset": _e("an admin issued a one-time password for an account (its sessions ended)"),
    "api_key.created": _e("an integrator API key was created", "scopes"),
    "api_key.revoked": _e("an integrator API key was revoked"),
    # Petitions (petition_id and org_unit_id as columns; payloads never carry the petitioner or free text).
    "petition.submitted": _e(
        "a petition was received", "kind", "category", "channel", "anonymous", "group", "registered"
    ),
    "petition.accepted": _e("a petition was accepted", "kind", "category", "days"),
    "petition.not_accepted": _e("a petition was not accepted", "kind", "category", "days"),
    "petition.assigned": _e("a petition was assigned to its first-handling unit", "kind", "category"),
    "petition.started": _e("the handling unit took the petition up", "kind", "category"),
    "petition.transferred": _e("a petition was transferred to another unit", "kind", "category", "from_unit"),
    "petition.transfer_objected": _e("the receiving unit objected to a transfer", "kind", "category", "days"),
    "petition.extended": _e("the conclusion deadline was extended once", "kind", "category", "days"),
    "petition.replied": _e("the handling opinion was given", "kind", "category", "outcome", "agreement", "days"),
    "petition.closed": _e("a petition was closed", "kind", "category"),
    "petition.rated": _e("the petitioner rated the outcome", "kind", "category", "rating", "stage", "by"),
    "petition.review_requested": _e("the petitioner asked for a review (复查)", "kind", "category", "days"),
    "petition.reviewed": _e("the review was answered", "kind", "category", "outcome", "days"),
    "petition.rereview_requested": _e("the petitioner asked for a re-review (复核)", "kind", "category", "days"),
    "petition.rereviewed": _e("the re-review was answered; the matter is final", "kind", "category", "outcome", "days"),
    "petition.followup_due": _e("a replied petition is still unrated after the follow-up period", "stage", "days"),
    "petition.deadline_reminder": _e("a deadline is near", "deadline", "hours"),
    "petition.overdue": _e("a deadline passed", "deadline"),
    "petition.identity_revealed": _e("the sealed identity of a petitioner was revealed", "reason_code"),
    "petition.escalation_requested": _e(
        "petitions were marked for escalation to an emergency incident", "reason_code", "petitions"
    ),
    "petition.attachment_added": _e("a file was attached to a petition", "media_type", "size"),
    "petition_category.created": _e("a petition category was created", "code"),
    "petition_category.updated": _e("a petition category changed", "code", "changed"),
    "petition_settings.updated": _e("petition settings changed", "changed"),
    # Organization chart (org_unit_id: the unit; subject_id: the person or group).
    "orgunit.created": _e("an org unit was created", "kind", "parent_id"),
    "orgunit.renamed": _e("an org unit's names changed", "changed"),
    "orgunit.moved": _e("an org unit was moved below another parent", "from_parent_id", "to_parent_id"),
    "orgunit.deactivated": _e("an org unit was deactivated"),
    "person.created": _e("a person was added to the chart", "linked"),
    "person.updated": _e("a person's unit, title, names, account link or activity changed", "changed"),
    "group.created": _e("an emergency group was created (seeded from the plan or custom)", "key", "seeded"),
    "group.updated": _e("an emergency group's names, duties or posts changed", "key", "changed"),
    "group.member_added": _e("a person joined an emergency group", "key", "role"),
    "group.member_role_changed": _e("a group member's role changed", "key", "role", "previous_role"),
    "group.member_removed": _e("a person left an emergency group", "key", "role"),
    "org.imported": _e(
        "units and people were imported from a file",
        "format",
        "units_created",
        "units_updated",
        "people_created",
        "people_updated",
    ),
    # Materials inventory (subject_id: the item; incident_id when issued for an incident).
    "material.item_created": _e("a material item was added to the inventory", "category"),
    "material.item_updated": _e("a material item's description changed", "changed"),
    "material.received": _e("stock was received", "category", "quantity", "delta", "balance"),
    "material.issued": _e("stock was issued", "category", "quantity", "delta", "balance"),
    "material.returned": _e("issued stock was returned", "category", "quantity", "delta", "balance"),
    "material.written_off": _e("stock was written off", "category", "quantity", "delta", "balance"),
    "material.adjusted": _e("stock was corrected after a count", "category", "quantity", "delta", "balance"),
    # Emergency plan (subject_id: the plan version).
    "plan.draft_created": _e("a plan draft was opened", "number", "based_on_id"),
    "plan.draft_updated": _e("a plan draft's content changed", "number", "revision", "sections"),
    "plan.published": _e("a plan version was published and is in force", "number", "supersedes_id"),
    "plan.superseded": _e("a published plan version was replaced by a newer one", "number", "superseded_by_id"),
    # Readiness of the materials against the published plan (subject_id: the plan version in force).
    "material.shortage": _e(
        "an item is (still, but differently) short of the plan's minimum",
        "code",
        "category",
        "required",
        "available",
        "short",
    ),
    "material.shortage_resolved": _e("an item short of the plan's minimum is back at it", "code"),
    # Training and drills (subject_id: the session).
    "training.recorded": _e("a training session or drill was recorded", "kind", "held_on", "participant_count"),
    # Incidents (incident_id on every event; subject_id: the task, measure, bulletin, logistics request or action
    # item; org_unit_id: the assignee or measure unit). Every event carries ``drill`` so analytics can separate drills.
    "incident.reported": _e(
        "an emergency incident was reported",
        "source",
        "drill",
        "plan_number",
        "people_count",
        "risk_categories",
        "petitions",
    ),
    "incident.assessed": _e(
        "the handling group assessed the incident", "suggested_level", "level", "overridden", "drill"
    ),
    "incident.instructed": _e("the leadership group decided on activation and level", "activated", "level", "drill"),
    "incident.step_started": _e("one of the plan's seven steps began", "step", "drill"),
    "incident.step_completed": _e(
        "one of the plan's seven steps was completed", "step", "target_minutes", "minutes", "drill"
    ),
    "incident.step_overdue": _e("a step passed its target time", "step", "target_minutes", "drill"),
    "incident.response_ended": _e("on-site response ended; cleanup begins", "drill"),
    "incident.checklist_updated": _e("the cleanup checklist changed", "done", "total", "drill"),
    "incident.summary_submitted": _e("the summary report was submitted for approval", "action_items", "drill"),
    "incident.summary_returned": _e("the leadership group sent the summary back", "drill"),
    "incident.summary_approved": _e("the leadership group approved the summary report", "action_items", "drill"),
    "incident.closed": _e("the incident was closed", "level", "drill", "minutes"),
    "task.assigned": _e(
        "a task was issued to an org unit or group", "step", "assignee", "due_at", "reassigned_from", "drill"
    ),
    "task.acknowledged": _e("the assignee acknowledged a task", "drill"),
    "task.declined": _e("the assignee declined a task", "reason_code", "drill"),
    "task.completed": _e("a task was done", "on_time", "drill"),
    "task.overdue": _e("a task passed its due time", "drill"),
    "measure.recorded": _e("a response measure was recorded", "kind", "count", "drill"),
    "logistics.requested": _e("materials were requested for an incident", "category", "quantity", "drill"),
    "logistics.fulfilled": _e(
        "a logistics request was met from the inventory", "category", "quantity", "short", "drill"
    ),
    "logistics.returned": _e("materials issued for an incident were returned", "category", "quantity", "drill"),
    "bulletin.drafted": _e("a bulletin was drafted", "audience", "kind", "drill"),
    "bulletin.approved": _e("a bulletin was approved by the information release group's leader or deputy", "drill"),
    "bulletin.published": _e(
        "a bulletin was published",
        "audience",
        "sequence",
        "kind",
        "corrects_id",
        "next_update_at",
        "drill",
    ),
    "bulletin.corrected": _e("a published bulletin was corrected or retracted", "corrects_id", "kind", "drill"),
    "bulletin.update_missed": _e("the plan's bulletin cadence was missed", "due_at", "drill"),
    "action_item.created": _e("an improvement proposal became an action item", "due_on", "drill"),
    "action_item.completed": _e("an action item was done", "on_time", "drill"),
    # Evaluation reports (subject_id: the report, or the on-demand request).
    "report.requested": _e("an evaluation report was requested for a period", "kind", "period_start"),
    "report.ready": _e(
        "an evaluation report (a new revision of its period) was generated", "kind", "period_start", "revision"
    ),
    # Early warning (subject_id: the warning; org_unit_id when the surging key is a unit). Evidence only: the key
    # is a category code, a unit id or a grid cell, never a petition or a person.
    "warning.raised": _e(
        "a surge of petitions on one key was flagged",
        "key_kind",
        "key",
        "window_count",
        "baseline",
        "score",
        "window_hours",
    ),
    "warning.dismissed": _e("a warning was dismissed by the handling group or an admin", "key_kind"),
    # incident_id: the incident opened from the warning (its incident.reported names the warning as subject_id).
    "warning.incident_opened": _e("the handling group or an admin opened an incident from a warning", "key_kind"),
    # Webhooks (subject_id: the subscription). URLs and descriptions stay out: a URL may carry a token.
    "webhook.subscription_created": _e("a webhook subscription was created", "event_types"),
    "webhook.subscription_updated": _e("a webhook subscription was changed", "changed", "enabled"),
    "webhook.secret_rotated": _e("a subscription's signing secret was rotated", "overlap_seconds"),
    "webhook.ping": _e("a test delivery was requested for one subscription"),
    "webhook.endpoint_disabled": _e("an endpoint was disabled (gone, or failing for too long)", "reason"),
    "webhook.redelivery_requested": _e("failed or chosen deliveries were queued again", "count"),
}


def describe(event_type: str) -> EventType:
    """The catalogue entry of ``event_type``; ``KeyError`` names unknown types."""
    try:
        return EVENTS[event_type]
    except KeyError:
        raise KeyError(f"unknown journal event type {event_type!r}: add it to tenants/events.py") from None
