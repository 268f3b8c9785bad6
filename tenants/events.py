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
    description_zh: str
    payload: frozenset[str] = frozenset()


def _e(description: str, description_zh: str, *payload: str) -> EventType:
    """An event type: what happened, in English and in Chinese, and the payload fields it may carry."""
    return EventType(description, description_zh, frozenset(payload))


@dataclass(frozen=True)
class Field:
    """A payload field, the same wherever it appears: its JSON types, meaning and an example value."""

    types: tuple[str, ...]
    description: str
    example: object
    items: str | None = None  # the JSON type of the elements of an array


def _f(types: str, description: str, example: object, items: str | None = None) -> Field:
    return Field(tuple(types.split("|")), description, example, items)


# Every payload field of the catalogue below. ``journal.record`` checks each value against its types, so the
# schema the webhooks document publishes is the one the code writes.
FIELDS: dict[str, Field] = {
    "action_items": _f("integer", "number of action items", 2),
    "activated": _f("boolean", "whether the plan's measures were activated", True),
    "agreement": _f("boolean", "whether a mediation or settlement agreement was recorded", False),
    "anonymous": _f("boolean", "whether the petitioner stayed anonymous", False),
    "assignee": _f("string", "who the task went to: unit or group", "unit"),
    "audience": _f("string", "who a bulletin is for", "public"),
    "attempts": _f("integer", "how many attempts were made", 6),
    "available": _f("integer", "stock available", 4),
    "balance": _f("integer", "stock after the movement", 12),
    "based_on_id": _f("string|null", "the plan version a draft starts from", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "baseline": _f("number", "the expected count in the window", 1.5),
    "capacity": _f("integer", "how many petitioners a reception session receives", 10),
    "by": _f("string", "who rated: petitioner or staff on their behalf", "petitioner"),
    "category": _f("string", "a category code (petition or material category)", "dormitory"),
    "changed": _f("array", "the names of the fields that changed", ["name_zh"], "string"),
    "channel": _f("string", "how the petition came in", "online"),
    "code": _f("string", "a code (of a category or a material item)", "COMM-RADIO"),
    "corrects_id": _f("string|null", "the bulletin corrected or retracted", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "count": _f("integer", "a count", 3),
    "days": _f("integer", "calendar days since the petition was received (or the extension's length)", 5),
    "deadline": _f("string", "which deadline: accept, conclude, review_answer, rereview_answer", "accept"),
    "delta": _f("integer", "the signed change of stock", -2),
    "document_number": _f("string", "a written notice's document number (per university and year)", "〔2026〕第0001号"),
    "done": _f("integer", "checklist items done", 3),
    "drill": _f("boolean", "whether the incident is a drill", False),
    "due_at": _f("string|null", "a due time (ISO 8601, UTC)", "2026-11-18T04:00:00+00:00"),
    "due_on": _f("string|null", "a due date (ISO 8601 date, the university's zone)", "2026-12-18"),
    "enabled": _f("boolean|null", "whether the subscription is enabled", True),
    "escalated_to": _f("string", "where an overdue supervision order escalated: unit_head or parent_unit", "unit_head"),
    "event_types": _f("array", "the event type patterns subscribed to", ["petition.*"], "string"),
    "format": _f("string", "a file format", "xlsx"),
    "from_parent_id": _f("string|null", "the previous parent unit", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "from_unit": _f("string|null", "the unit a petition was transferred from", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "group": _f("boolean", "whether it is a group petition", False),
    "held_on": _f("string", "the date a session was held (ISO 8601 date)", "2026-11-15"),
    "hours": _f("integer", "hours before the deadline", 24),
    "key": _f("string", "a key: an emergency group key, or a warning's surging key", "handling"),
    "key_kind": _f("string", "what a warning's key is: category, unit or place", "category"),
    "related_keys": _f(
        "array",
        "the other keys of the same surge, as kind:key",
        ["org_unit:0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"],
        "string",
    ),
    "kind": _f("string", "the kind of the subject (its values depend on the event type)", "complaint"),
    "lang": _f("string", "a language: zh-CN or en", "zh-CN"),
    "level": _f("string|null", "a severity level key of the plan", "II"),
    "linked": _f("boolean", "whether the person is linked to an account", True),
    "new_petition": _f("boolean", "whether a reception booking came with a new petition", False),
    "media_type": _f("string", "the media type of a file", "image/jpeg"),
    "minutes": _f("integer", "minutes since the incident was reported", 42),
    "next_update_at": _f("string|null", "when the next bulletin is due (ISO 8601, UTC)", "2026-11-18T06:00:00+00:00"),
    "number": _f("integer", "a plan version number", 2),
    "on_time": _f("boolean", "whether it was done by its due time", True),
    "outcome": _f("string", "the handling outcome: supported, explained, not_supported", "supported"),
    "overlap_seconds": _f("integer", "how long the previous secret keeps signing", 86400),
    "overridden": _f("boolean", "whether the level differs from the plan's suggestion", False),
    "parent_id": _f("string|null", "the parent unit", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "participant_count": _f("integer", "number of participants", 12),
    "people_count": _f("integer|null", "people involved", 40),
    "people_created": _f("integer", "people created", 10),
    "people_updated": _f("integer", "people updated", 0),
    "period_start": _f("string", "the first day of the report's period (ISO 8601 date)", "2026-11-01"),
    "petitions": _f("integer", "number of petitions", 3),
    "plan_number": _f("integer", "the number of the plan version in force", 1),
    "previous_role": _f("string", "the role before the change", "member"),
    "quantity": _f("integer", "a quantity of material", 6),
    "rating": _f("string", "satisfied, basically_satisfied or dissatisfied", "satisfied"),
    "reason": _f("string", "a reason code", "gone"),
    "reason_code": _f("string", "a reason code", "handling"),
    "reassigned_from": _f("string|null", "the task this one replaces", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "registered": _f("boolean", "whether staff registered it on the petitioner's behalf", False),
    "replaces_id": _f(
        "string|null", "the written notice a correction replaces", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"
    ),
    "required": _f("integer", "the plan's minimum", 10),
    "revision": _f("integer", "a revision number", 1),
    "risk_categories": _f("array", "the plan's risk categories involved", ["group_event"], "string"),
    "role": _f("string", "a role (of an account, or in a group)", "staff"),
    "scopes": _f("array", "the scopes of an API key", ["events:read"], "string"),
    "score": _f("number", "how far the count is above the baseline", 4.2),
    "sections": _f("array", "the plan sections that changed", ["risks"], "string"),
    "seeded": _f("boolean", "whether the group came from the plan", True),
    "sequence": _f("integer", "the bulletin's number within the incident", 1),
    "short": _f("integer", "how much is missing", 6),
    "size": _f("integer", "a size in bytes", 52311),
    "slug": _f("string", "a university's slug", "demo-university"),
    "timezone": _f("string", "an IANA time zone", "Asia/Urumqi"),
    "previous_timezone": _f("string", "the IANA time zone before the change", "Asia/Shanghai"),
    "source": _f("string", "where an incident was reported from", "staff"),
    "stage": _f("string", "which answer was rated: reply, review or rereview", "reply"),
    "step": _f("string", "one of the plan's seven steps", "response"),
    "suggested_level": _f("string|null", "the level the plan suggests", "II"),
    "superseded_by_id": _f("string", "the plan version that replaced this one", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "supersedes_id": _f("string|null", "the plan version this one replaces", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "target_minutes": _f("integer|null", "the step's target time in minutes", 30),
    "to_parent_id": _f("string|null", "the new parent unit", "0196a0f1-7e4a-7b2c-9d3e-4f5a6b7c8d9e"),
    "total": _f("integer", "checklist items in all", 5),
    "units_created": _f("integer", "units created", 12),
    "units_updated": _f("integer", "units updated", 0),
    "via": _f("string", "the channel a notification went by: email or sms", "email"),
    "window_count": _f("integer", "petitions in the window", 9),
    "window_hours": _f("number", "the window's length in hours", 24),
}


EVENTS: dict[str, EventType] = {
    # Platform and identity (subject_id: the tenant, account or key).
    "tenant.created": _e("a university was onboarded", "高校已开通", "slug"),
    "tenant.provisioned": _e(
        "a university's onboarding was finished by the background job", "高校开通的后台初始化已完成"
    ),
    "tenant.suspended": _e("a university was suspended", "高校账户已暂停"),
    "tenant.reactivated": _e("a university was reactivated", "高校账户已恢复"),
    "tenant.timezone_changed": _e(
        "a university's time zone was changed", "高校时区已更改", "timezone", "previous_timezone"
    ),
    "account.created": _e("an account was created", "账号已创建", "role"),
    "account.updated": _e("an account's role, name or activity changed", "账号的角色、姓名或启用状态已变更", "changed"),
    "account.sessions_revoked": _e(
        "every session (access and refresh tokens) of an account was ended",
        "账号的全部会话（访问令牌和刷新令牌）已结束",
    ),
    "account.password_changed": _e(
        "an account's owner changed its password (its other sessions ended)", "账号本人已修改密码（其他会话已结束）"
    ),
    "account.password_reset": _e(
        "an admin issued a one-time password for an account (its sessions ended)",
        "管理员已为账号签发一次性密码（其会话已结束）",
    ),
    "api_key.created": _e("an integrator API key was created", "集成方 API 密钥已创建", "scopes"),
    "api_key.revoked": _e("an integrator API key was revoked", "集成方 API 密钥已撤销"),
    # Petitions (petition_id and org_unit_id as columns; payloads never carry the petitioner or free text).
    "petition.submitted": _e(
        "a petition was received", "收到信访事项", "kind", "category", "channel", "anonymous", "group", "registered"
    ),
    "petition.accepted": _e("a petition was accepted", "信访事项已受理", "kind", "category", "days"),
    "petition.not_accepted": _e("a petition was not accepted", "信访事项不予受理", "kind", "category", "days"),
    "petition.assigned": _e(
        "a petition was assigned to its first-handling unit", "信访事项已交首办单位", "kind", "category"
    ),
    "petition.started": _e("the handling unit took the petition up", "承办单位已开始办理", "kind", "category"),
    "petition.transferred": _e(
        "a petition was transferred to another unit", "信访事项已转送其他单位", "kind", "category", "from_unit"
    ),
    "petition.transfer_objected": _e(
        "the receiving unit objected to a transfer", "接收单位对转送提出异议", "kind", "category", "days"
    ),
    "petition.extended": _e(
        "the conclusion deadline was extended once", "办结期限已延长（一次）", "kind", "category", "days"
    ),
    "petition.replied": _e(
        "the handling opinion was given", "已出具处理意见", "kind", "category", "outcome", "agreement", "days"
    ),
    "petition.closed": _e("a petition was closed", "信访事项已办结", "kind", "category"),
    "petition.rated": _e(
        "the petitioner rated the outcome", "信访人已评价办理结果", "kind", "category", "rating", "stage", "by"
    ),
    "petition.review_requested": _e(
        "the petitioner asked for a review (复查)", "信访人申请复查", "kind", "category", "days"
    ),
    "petition.reviewed": _e("the review was answered", "复查意见已答复", "kind", "category", "outcome", "days"),
    "petition.rereview_requested": _e(
        "the petitioner asked for a re-review (复核)", "信访人申请复核", "kind", "category", "days"
    ),
    "petition.rereviewed": _e(
        "the re-review was answered; the matter is final",
        "复核意见已答复，事项终结",
        "kind",
        "category",
        "outcome",
        "days",
    ),
    "petition.followup_due": _e(
        "a replied petition is still unrated after the follow-up period",
        "已答复事项在回访期后仍未评价",
        "stage",
        "days",
    ),
    "petition.deadline_reminder": _e("a deadline is near", "期限临近", "deadline", "hours"),
    "petition.overdue": _e("a deadline passed", "已超期", "deadline"),
    "petition.identity_revealed": _e(
        "the sealed identity of a petitioner was revealed", "信访人的保密身份已被查看", "reason_code"
    ),
    "petition.escalation_requested": _e(
        "petitions were marked for escalation to an emergency incident",
        "信访事项已标记升级为突发事件",
        "reason_code",
        "petitions",
    ),
    # Supervision orders (督查督办): subject_id is the order, petition_id or incident_id its subject, org_unit_id
    # the unit that must answer. ``kind``: petition or task; ``by``: office or leadership.
    "supervision.issued": _e("a supervision order was issued to a unit", "督办单已下达", "kind", "by", "due_at"),
    "supervision.answered": _e("the unit answered a supervision order", "承办单位已答复督办", "kind", "on_time"),
    "supervision.accepted": _e("a supervision answer was accepted", "督办答复已认可", "kind"),
    "supervision.returned": _e(
        "a supervision answer was returned for more work", "督办答复已退回重办", "kind", "due_at"
    ),
    "supervision.closed": _e("a supervision order was closed", "督办单已办结", "kind"),
    "supervision.overdue": _e(
        "a supervision order passed its due time unanswered and was escalated",
        "督办单逾期未复，已升级督办",
        "kind",
        "escalated_to",
        "due_at",
    ),
    # Leaders' reception days (领导接访): subject_id is the session; the receiving leader stays out of payloads.
    "reception.session_created": _e(
        "a leaders' reception session was scheduled", "领导接访场次已安排", "held_on", "capacity"
    ),
    "reception.session_updated": _e("a reception session was changed", "领导接访场次已变更", "changed"),
    "reception.session_cancelled": _e("a reception session was cancelled", "领导接访场次已取消", "held_on"),
    "reception.booked": _e("a petitioner booked a reception slot", "信访人已预约领导接访", "new_petition"),
    "reception.visit_registered": _e(
        "a visit at a reception session was registered as a petition", "接访来访已登记为信访事项"
    ),
    "reception.in_charge_taken": _e("a leader took personal charge of a petition (包案)", "领导已包案"),
    "petition.attachment_added": _e("a file was attached to a petition", "信访事项已添加附件", "media_type", "size"),
    # Written notices (petition_id: the petition; subject_id: the notice). Only the document's kind and number:
    # its text stays out. Not a ``petition.`` type: issuing is no step of the case, and analytics reads ``petition.*``.
    "notice.issued": _e(
        "a written notice (告知书 or 意见书) was issued to the petitioner",
        "已向信访人出具书面告知书或意见书",
        "kind",
        "document_number",
        "replaces_id",
    ),
    # Notifications (petition_id: the petition; subject_id: the delivery). Never an address or a message text.
    "notification.failed": _e(
        "a notification (to the petitioner or a staff member) was refused, or failed after every retry",
        "通知（致信访人或工作人员）被拒收，或经全部重试后仍未送达",
        "via",
        "attempts",
    ),
    "notification.opted_out": _e("the petitioner opted out of notifications", "信访人已退订通知"),
    "notice_template.updated": _e("a notice template was changed", "告知书模板已修改", "kind", "lang"),
    "notice_template.reset": _e("a notice template was reset to the default", "告知书模板已恢复默认", "kind", "lang"),
    "petition_category.created": _e("a petition category was created", "信访类别已创建", "code"),
    "petition_category.updated": _e("a petition category changed", "信访类别已变更", "code", "changed"),
    "petition_settings.updated": _e("petition settings changed", "信访设置已变更", "changed"),
    # Reply templates of the university (subject_id: the template; its title and text are never in the journal).
    "reply_template.created": _e("a reply template was created", "答复模板已创建"),
    "reply_template.updated": _e("a reply template was changed", "答复模板已修改", "changed"),
    "reply_template.deleted": _e("a reply template was deleted", "答复模板已删除"),
    # Organization chart (org_unit_id: the unit; subject_id: the person or group).
    "orgunit.created": _e("an org unit was created", "组织单位已创建", "kind", "parent_id"),
    "orgunit.renamed": _e("an org unit's names changed", "组织单位名称已变更", "changed"),
    "orgunit.moved": _e(
        "an org unit was moved below another parent", "组织单位已调整上级", "from_parent_id", "to_parent_id"
    ),
    "orgunit.deactivated": _e("an org unit was deactivated", "组织单位已停用"),
    "person.created": _e("a person was added to the chart", "人员已加入组织架构", "linked"),
    "person.updated": _e(
        "a person's unit, title, names, account link or activity changed",
        "人员的单位、职务、姓名、账号关联或状态已变更",
        "changed",
    ),
    "group.created": _e(
        "an emergency group was created (seeded from the plan or custom)",
        "应急小组已创建（按预案生成或自定义）",
        "key",
        "seeded",
    ),
    "group.updated": _e(
        "an emergency group's names, duties or posts changed", "应急小组的名称、职责或职位已变更", "key", "changed"
    ),
    "group.member_added": _e("a person joined an emergency group", "人员已加入应急小组", "key", "role"),
    "group.member_role_changed": _e(
        "a group member's role changed", "小组成员的职位已变更", "key", "role", "previous_role"
    ),
    "group.member_removed": _e("a person left an emergency group", "人员已退出应急小组", "key", "role"),
    "org.imported": _e(
        "units and people were imported from a file",
        "已从文件导入单位和人员",
        "format",
        "units_created",
        "units_updated",
        "people_created",
        "people_updated",
    ),
    # Materials inventory (subject_id: the item; incident_id when issued for an incident).
    "material.item_created": _e("a material item was added to the inventory", "物资已登记入库存", "category"),
    "material.item_updated": _e("a material item's description changed", "物资信息已变更", "changed"),
    "material.received": _e("stock was received", "物资已入库", "category", "quantity", "delta", "balance"),
    "material.issued": _e("stock was issued", "物资已出库", "category", "quantity", "delta", "balance"),
    "material.returned": _e(
        "issued stock was returned", "已出库物资已归还", "category", "quantity", "delta", "balance"
    ),
    "material.written_off": _e("stock was written off", "物资已报废核销", "category", "quantity", "delta", "balance"),
    "material.adjusted": _e(
        "stock was corrected after a count", "盘点后库存已更正", "category", "quantity", "delta", "balance"
    ),
    # Emergency plan (subject_id: the plan version).
    "plan.draft_created": _e("a plan draft was opened", "预案草稿已创建", "number", "based_on_id"),
    "plan.draft_updated": _e("a plan draft's content changed", "预案草稿内容已修改", "number", "revision", "sections"),
    "plan.published": _e(
        "a plan version was published and is in force", "预案版本已发布并生效", "number", "supersedes_id"
    ),
    "plan.superseded": _e(
        "a published plan version was replaced by a newer one",
        "已发布的预案版本被新版本取代",
        "number",
        "superseded_by_id",
    ),
    # Readiness of the materials against the published plan (subject_id: the plan version in force).
    "material.shortage": _e(
        "an item is (still, but differently) short of the plan's minimum",
        "物资低于预案最低储备（或短缺情况有变）",
        "code",
        "category",
        "required",
        "available",
        "short",
    ),
    "material.shortage_resolved": _e(
        "an item short of the plan's minimum is back at it", "短缺物资已恢复至预案最低储备", "code"
    ),
    # Training and drills (subject_id: the session).
    "training.recorded": _e(
        "a training session or drill was recorded", "培训或演练已登记", "kind", "held_on", "participant_count"
    ),
    # Incidents (incident_id on every event; subject_id: the task, measure, bulletin, logistics request or action
    # item; org_unit_id: the assignee or measure unit). Every event carries ``drill`` so analytics can separate drills.
    "incident.reported": _e(
        "an emergency incident was reported",
        "突发信访事件已报告",
        "source",
        "drill",
        "plan_number",
        "people_count",
        "risk_categories",
        "petitions",
    ),
    "incident.assessed": _e(
        "the handling group assessed the incident",
        "应急处置小组已完成评估",
        "suggested_level",
        "level",
        "overridden",
        "drill",
    ),
    "incident.instructed": _e(
        "the leadership group decided on activation and level",
        "领导小组已下达指令（是否启动及响应级别）",
        "activated",
        "level",
        "drill",
    ),
    "incident.step_started": _e("one of the plan's seven steps began", "预案七个步骤之一已开始", "step", "drill"),
    "incident.step_completed": _e(
        "one of the plan's seven steps was completed",
        "预案七个步骤之一已完成",
        "step",
        "target_minutes",
        "minutes",
        "drill",
    ),
    "incident.step_overdue": _e("a step passed its target time", "步骤超出目标时限", "step", "target_minutes", "drill"),
    "incident.response_ended": _e("on-site response ended; cleanup begins", "现场响应结束，进入清理阶段", "drill"),
    "incident.checklist_updated": _e("the cleanup checklist changed", "现场清理清单已更新", "done", "total", "drill"),
    "incident.summary_submitted": _e(
        "the summary report was submitted for approval", "事件总结报告已提交审批", "action_items", "drill"
    ),
    "incident.summary_returned": _e("the leadership group sent the summary back", "领导小组退回总结报告", "drill"),
    "incident.summary_approved": _e(
        "the leadership group approved the summary report", "领导小组已批准总结报告", "action_items", "drill"
    ),
    "incident.closed": _e("the incident was closed", "事件已结束", "level", "drill", "minutes"),
    "task.assigned": _e(
        "a task was issued to an org unit or group",
        "任务已下达至单位或小组",
        "step",
        "assignee",
        "due_at",
        "reassigned_from",
        "drill",
    ),
    "task.acknowledged": _e("the assignee acknowledged a task", "承办方已确认任务", "drill"),
    "task.declined": _e("the assignee declined a task", "承办方已拒绝任务", "reason_code", "drill"),
    "task.completed": _e("a task was done", "任务已完成", "on_time", "drill"),
    "task.overdue": _e("a task passed its due time", "任务已超期", "drill"),
    "measure.recorded": _e("a response measure was recorded", "处置措施已记录", "kind", "count", "drill"),
    "logistics.requested": _e(
        "materials were requested for an incident", "已为事件申请物资", "category", "quantity", "drill"
    ),
    "logistics.fulfilled": _e(
        "a logistics request was met from the inventory",
        "物资申请已从库存满足",
        "category",
        "quantity",
        "short",
        "drill",
    ),
    "logistics.returned": _e(
        "materials issued for an incident were returned", "为事件出库的物资已归还", "category", "quantity", "drill"
    ),
    "bulletin.drafted": _e("a bulletin was drafted", "通报已起草", "audience", "kind", "drill"),
    "bulletin.approved": _e(
        "a bulletin was approved by the information release group's leader or deputy",
        "通报已由信息发布小组组长或副组长审核通过",
        "drill",
    ),
    "bulletin.published": _e(
        "a bulletin was published",
        "通报已发布",
        "audience",
        "sequence",
        "kind",
        "corrects_id",
        "next_update_at",
        "drill",
    ),
    "bulletin.corrected": _e(
        "a published bulletin was corrected or retracted", "已发布的通报已更正或撤回", "corrects_id", "kind", "drill"
    ),
    "bulletin.update_missed": _e("the plan's bulletin cadence was missed", "未按预案频次发布通报", "due_at", "drill"),
    "action_item.created": _e(
        "an improvement proposal became an action item", "改进建议已转为整改事项", "due_on", "drill"
    ),
    "action_item.completed": _e("an action item was done", "整改事项已完成", "on_time", "drill"),
    # Evaluation reports (subject_id: the report, or the on-demand request).
    "report.requested": _e(
        "an evaluation report was requested for a period", "已申请某一期间的评估报告", "kind", "period_start"
    ),
    "report.ready": _e(
        "an evaluation report (a new revision of its period) was generated",
        "评估报告已生成（该期间的新版本）",
        "kind",
        "period_start",
        "revision",
    ),
    # Early warning (subject_id: the warning; org_unit_id when one of the surge's keys is a unit). Evidence only:
    # the keys are category codes, unit ids or grid cells, never a petition or a person.
    "warning.raised": _e(
        "a surge of petitions was flagged (its leading key, and the other keys of the same petitions)",
        "发现信访激增（主要维度及同一批信访涉及的其他维度）",
        "key_kind",
        "key",
        "window_count",
        "baseline",
        "score",
        "window_hours",
        "related_keys",
    ),
    "warning.dismissed": _e(
        "a warning was dismissed by the handling group or an admin", "应急处置小组或管理员已解除预警", "key_kind"
    ),
    # incident_id: the incident opened from the warning (its incident.reported names the warning as subject_id).
    "warning.incident_opened": _e(
        "the handling group or an admin opened an incident from a warning",
        "应急处置小组或管理员已由预警创建事件",
        "key_kind",
    ),
    # Webhooks (subject_id: the subscription). URLs and descriptions stay out: a URL may carry a token.
    "webhook.subscription_created": _e("a webhook subscription was created", "Webhook 订阅已创建", "event_types"),
    "webhook.subscription_updated": _e(
        "a webhook subscription was changed", "Webhook 订阅已变更", "changed", "enabled"
    ),
    "webhook.secret_rotated": _e(
        "a subscription's signing secret was rotated", "订阅的签名密钥已轮换", "overlap_seconds"
    ),
    "webhook.ping": _e("a test delivery was requested for one subscription", "已为一个订阅请求测试投递"),
    "webhook.endpoint_disabled": _e(
        "an endpoint was disabled (gone, or failing for too long)", "接收端已停用（已失效或长时间失败）", "reason"
    ),
    "webhook.redelivery_requested": _e(
        "failed or chosen deliveries were queued again", "失败或选定的投递已重新排队", "count"
    ),
}


_PYTHON: dict[str, type | tuple[type, ...]] = {
    "string": str,
    "integer": int,
    "number": (int, float),
    "boolean": bool,
    "array": list,
    "null": type(None),
}


def field_ok(name: str, value: object) -> bool:
    """Whether ``value`` has one of the catalogued JSON types of the payload field ``name``."""
    field = FIELDS[name]
    if isinstance(value, bool) and "boolean" not in field.types:
        return False  # bool is an int in Python, not in JSON
    if not any(isinstance(value, _PYTHON[t]) for t in field.types):
        return False
    if isinstance(value, list) and field.items:
        return all(isinstance(v, _PYTHON[field.items]) and not isinstance(v, bool) for v in value)
    return True


def payload_schema(event_type: str) -> dict[str, object]:
    """The JSON Schema of the payload of ``event_type`` (every field optional: a field is left out when empty)."""
    properties: dict[str, object] = {}
    for name in sorted(describe(event_type).payload):
        field = FIELDS[name]
        schema: dict[str, object] = {"description": field.description}
        schema["type"] = field.types[0] if len(field.types) == 1 else list(field.types)
        if field.items:
            schema["items"] = {"type": field.items}
        properties[name] = schema
    return {"type": "object", "properties": properties, "additionalProperties": False}


def payload_example(event_type: str) -> dict[str, object]:
    return {name: FIELDS[name].example for name in sorted(describe(event_type).payload)}


def describe(event_type: str) -> EventType:
    """The catalogue entry of ``event_type``; ``KeyError`` names unknown types."""
    try:
        return EVENTS[event_type]
    except KeyError:
        raise KeyError(f"unknown journal event type {event_type!r}: add it to tenants/events.py") from None
