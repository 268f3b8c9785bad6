"""Incident business rules, one module per step of the plan: report, assessment, instruction and tasks, response
measures, logistics, information release, cleanup and summary (``common`` holds what every step uses: the pinned
plan, the group roles, the workflow check, the step bookkeeping; ``reading`` the list and the detail).

Keyword-only functions that take the session. Every action is checked against the workflow table
(``workflow.check``) with the acting account's group roles in the pinned plan version, journaled in the
caller's transaction, and guarded against lost updates: incident-level actions name the incident version they
were made on, task/bulletin/logistics actions the version of their row (409 with the current state otherwise).
Callers use this package's names: ``from service.incidents import services``.
"""

from service.incidents.services.assessment import Assessment, assess, suggestion
from service.incidents.services.cleanup import (
    DEFAULT_CHECKLIST,
    ChecklistItem,
    Proposal,
    approve_summary,
    complete_action_item,
    end_response,
    return_summary,
    submit_summary,
    update_checklist,
)
from service.incidents.services.common import (
    authorize,
    complete_step,
    drill_of,
    get_incident,
    group_roles,
    plan_of,
    stale,
    start_step,
    step_groups,
    step_row,
    touch,
)
from service.incidents.services.logistics import (
    MATERIAL_CATEGORIES,
    available_for,
    fulfil_logistics,
    get_logistics,
    request_logistics,
    return_logistics,
)
from service.incidents.services.measures import MEASURE_KINDS, record_measure
from service.incidents.services.reading import Detail, board_stamp, detail, incidents_of_petition, list_incidents
from service.incidents.services.release import (
    BulletinDraft,
    approve_bulletin,
    draft_bulletin,
    find_public,
    get_bulletin,
    publish_bulletin,
    published_bulletins,
)
from service.incidents.services.report import IncidentReport, PeopleGroup, report_incident
from service.incidents.services.tasks import (
    TaskOrder,
    act_on_task,
    assign_task,
    get_task,
    instruct,
    my_units,
    open_tasks_for,
    reassign_task,
)
from service.incidents.services.timeline import TimelineEntry, timeline

__all__ = [
    "DEFAULT_CHECKLIST",
    "MATERIAL_CATEGORIES",
    "MEASURE_KINDS",
    "Assessment",
    "BulletinDraft",
    "ChecklistItem",
    "Detail",
    "IncidentReport",
    "PeopleGroup",
    "Proposal",
    "TaskOrder",
    "TimelineEntry",
    "act_on_task",
    "approve_bulletin",
    "approve_summary",
    "assess",
    "assign_task",
    "authorize",
    "available_for",
    "board_stamp",
    "complete_action_item",
    "complete_step",
    "detail",
    "draft_bulletin",
    "drill_of",
    "end_response",
    "find_public",
    "fulfil_logistics",
    "get_bulletin",
    "get_incident",
    "get_logistics",
    "get_task",
    "group_roles",
    "incidents_of_petition",
    "instruct",
    "list_incidents",
    "my_units",
    "open_tasks_for",
    "plan_of",
    "publish_bulletin",
    "published_bulletins",
    "reassign_task",
    "record_measure",
    "report_incident",
    "request_logistics",
    "return_logistics",
    "return_summary",
    "stale",
    "start_step",
    "step_groups",
    "step_row",
    "submit_summary",
    "suggestion",
    "timeline",
    "touch",
    "update_checklist",
]
