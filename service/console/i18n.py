"""The console's words in zh-CN (first) and English: one catalogue, one lookup.

The language is the ``lang`` query parameter (``?lang=en`` switches and is remembered in a cookie), else the
cookie, else zh-CN.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from service.console.words import admin, evaluation, plan, platform, problems
from tenants.errors import DomainError
from tenants.events import EVENTS

LANGS = ("zh-CN", "en")
DEFAULT = "zh-CN"
COOKIE = "xf_lang"

# key -> (zh-CN, en)
MESSAGES: dict[str, tuple[str, str]] = {
    "app.name": ("信访平台", "Xinfang petitions"),
    "app.console": ("信访工作台", "Petition console"),
    "lang.switch": ("English", "中文"),
    "nav.queue": ("我的待办", "My queue"),
    "nav.password": ("修改密码", "Change password"),
    "nav.logout": ("退出登录", "Sign out"),
    "nav.skip": ("跳到正文", "Skip to content"),
    "login.title": ("登录", "Sign in"),
    "login.slug": ("学校代码", "University code"),
    "login.email": ("电子邮箱", "Email"),
    "login.password": ("密码", "Password"),
    "login.submit": ("登录", "Sign in"),
    "login.bad": ("学校代码、邮箱或密码不正确。", "The university code, email or password is wrong."),
    "login.throttled": ("登录失败次数过多，请 {seconds} 秒后再试。", "Too many failed sign-ins: wait {seconds} s."),
    "login.suspended": ("该校账户已暂停。", "This university's account is suspended."),
    "login.ended": ("会话已结束，请重新登录。", "Your session has ended; please sign in again."),
    "logout.done": ("您已退出登录。", "You are signed out."),
    "password.title": ("修改密码", "Change password"),
    "password.forced": (
        "您的密码由管理员发放，请先设置自己的密码。",
        "Your password was issued by an administrator: choose your own first.",
    ),
    "password.current": ("当前密码", "Current password"),
    "password.new": ("新密码", "New password"),
    "password.submit": ("保存新密码", "Save the new password"),
    "password.wrong": ("当前密码不正确。", "The current password is wrong."),
    "password.changed": ("密码已修改，其他设备上的登录已结束。", "Password changed; your other sessions have ended."),
    "queue.title": ("我的待办", "My queue"),
    "queue.counts": ("按状态统计", "Counts by state"),
    "queue.filters": ("筛选", "Filters"),
    "queue.any": ("全部", "Any"),
    "queue.q": ("全文搜索", "Full-text search"),
    "queue.overdue": ("是否超期", "Overdue"),
    "queue.overdue_yes": ("已超期", "Overdue"),
    "queue.overdue_no": ("未超期", "Not overdue"),
    "queue.from": ("收到日期自", "Received from"),
    "queue.to": ("收到日期至", "Received until"),
    "queue.apply": ("筛选", "Apply"),
    "queue.reset": ("清除", "Clear"),
    "queue.empty": ("没有符合条件的信访件。", "No petition matches."),
    "queue.next": ("下一页", "Next page"),
    "queue.first": ("第一页", "First page"),
    "queue.results": ("信访件列表", "Petitions"),
    "field.tracking_number": ("受理编号", "Tracking number"),
    "field.subject": ("标题", "Subject"),
    "field.content": ("内容", "Content"),
    "field.kind": ("类别", "Kind"),
    "field.category": ("分类", "Category"),
    "field.channel": ("渠道", "Channel"),
    "field.state": ("状态", "State"),
    "field.unit": ("承办单位", "Unit"),
    "field.received_at": ("收到时间", "Received"),
    "field.due": ("期限", "Due"),
    "field.location": ("地点", "Place"),
    "field.petitioner": ("信访人", "Petitioner"),
    "field.name": ("姓名", "Name"),
    "field.phone": ("电话", "Phone"),
    "field.number": ("学号/工号", "Student or staff number"),
    "field.anonymous": ("匿名", "Anonymous"),
    "field.participants": ("人数", "Participants"),
    "field.reason": ("理由", "Reason"),
    "field.days": ("延长天数", "Days of extension"),
    "field.outcome": ("处理结果", "Outcome"),
    "field.opinion": ("处理意见", "Opinion"),
    "field.agreement": ("调解协议（可选）", "Agreement (optional)"),
    "field.rating": ("评价", "Rating"),
    "field.comment": ("留言（可选）", "Comment (optional)"),
    "field.reveal_reason": ("查看理由代码", "Reason code"),
    "field.lookup_code": ("查询码", "Lookup code"),
    "field.attachment": ("附件（可选）", "Attachment (optional)"),
    "field.identity": ("身份", "Identity"),
    "due.accept": ("受理期限", "Acceptance due"),
    "due.conclude": ("办结期限", "Conclusion due"),
    "due.review": ("复查期限", "Review due"),
    "due.objection": ("异议期限", "Objection due"),
    "due.review_window": ("可申请复查至", "Review may be requested until"),
    "due.current": ("当前期限", "Current deadline"),
    "urgency.overdue": ("已超期", "overdue"),
    "urgency.soon": ("3天内到期", "due within 3 days"),
    "urgency.ok": ("正常", "on time"),
    "petition.facts": ("基本信息", "Facts"),
    "petition.deadlines": ("期限", "Deadlines"),
    "petition.timeline": ("办理记录", "Timeline"),
    "petition.attachments": ("附件", "Attachments"),
    "petition.attachment_image": ("附件图片 {n}", "Attached image {n}"),
    "petition.no_attachments": ("无附件。", "No attachment."),
    "petition.actions": ("可办理的操作", "Actions available now"),
    "petition.no_actions": ("当前状态下您没有可办理的操作。", "No action is yours to take in this state."),
    "petition.sealed": ("信访人身份已密封。", "The petitioner's identity is sealed."),
    "petition.reveal": ("查看密封身份（将记录在案）", "Reveal the sealed identity (journaled)"),
    "petition.anonymous": ("匿名信访", "Anonymous petition"),
    "petition.reply": ("答复", "Reply"),
    "petition.not_accepted_reason": ("不予受理理由", "Reason for not accepting"),
    "petition.stale": (
        "该信访件已被他人更新，以下为最新状态，请核对后重试。",
        "Someone changed this petition meanwhile: here is its current state; check and try again.",
    ),
    "petition.done": ("已办理。", "Done."),
    "petition.refused": ("无法办理：{detail}", "Not possible: {detail}"),
    "petition.invalid": ("请补充以下信息：", "Please complete:"),
    "petition.check_field": ("请补充或更正此项", "please complete or correct it"),
    "petition.back": ("返回待办", "Back to the queue"),
    "action.submit": ("提交", "Submit"),
    "action.accept": ("受理", "Accept"),
    "action.not_accept": ("不予受理", "Do not accept"),
    "action.assign": ("交办", "Assign to a unit"),
    "action.start": ("开始办理", "Start handling"),
    "action.transfer": ("转办", "Transfer"),
    "action.object_transfer": ("对转办提出异议", "Object to the transfer"),
    "action.extend": ("延期", "Extend the deadline"),
    "action.reply": ("答复", "Reply"),
    "action.close": ("办结", "Close"),
    "action.rate": ("评价", "Rate"),
    "action.request_review": ("申请复查", "Request a review"),
    "action.answer_review": ("复查答复", "Answer the review"),
    "action.request_rereview": ("申请复核", "Request a re-review"),
    "action.answer_rereview": ("复核答复", "Answer the re-review"),
    "state.received": ("已收到", "Received"),
    "state.accepted": ("已受理", "Accepted"),
    "state.not_accepted": ("不予受理", "Not accepted"),
    "state.assigned": ("已交办", "Assigned"),
    "state.in_progress": ("办理中", "In progress"),
    "state.transferred": ("已转办", "Transferred"),
    "state.replied": ("已答复", "Replied"),
    "state.closed": ("已办结", "Closed"),
    "state.review_requested": ("复查中", "Review requested"),
    "state.reviewed": ("已复查", "Reviewed"),
    "state.rereview_requested": ("复核中", "Re-review requested"),
    "state.final": ("已终结", "Final"),
    "kind.suggestion": ("建议意见类", "Suggestion"),
    "kind.accusation": ("检举控告类", "Accusation"),
    "kind.complaint": ("申诉求决类", "Complaint"),
    "channel.online": ("网上", "Online"),
    "channel.mobile": ("手机", "Mobile"),
    "channel.letter": ("来信", "Letter"),
    "channel.phone": ("来电", "Phone"),
    "channel.fax": ("传真", "Fax"),
    "channel.visit": ("来访", "Visit"),
    "channel.email": ("电子邮件", "Email"),
    "channel.open311": ("Open311", "Open311"),
    "outcome.supported": ("支持", "Supported"),
    "outcome.explained": ("解释说明", "Explained"),
    "outcome.not_supported": ("不支持", "Not supported"),
    "rating.satisfied": ("满意", "Satisfied"),
    "rating.basically_satisfied": ("基本满意", "Basically satisfied"),
    "rating.dissatisfied": ("不满意", "Dissatisfied"),
    "reveal.investigation": ("核查需要", "Needed for the investigation"),
    "reveal.safety": ("人身安全", "Someone's safety"),
    "reveal.legal-request": ("依法调取", "A lawful request"),
    "nav.incidents": ("突发事件", "Incidents"),
    "nav.warnings": ("预警", "Warnings"),
    "nav.notifications": ("通知", "Notifications"),
    "notification.title": ("我的通知", "My notifications"),
    "notification.unread": ("未读", "Unread"),
    "notification.read_all": ("全部标为已读", "Mark all read"),
    "notification.when": ("时间", "When"),
    "notification.what": ("事项", "What"),
    "notification.state": ("状态", "State"),
    "notification.is_read": ("已读", "read"),
    "notification.is_unread": ("未读", "unread"),
    "notification.more": ("更早的通知", "Older notifications"),
    "notification.none": ("暂无通知。", "No notification."),
    "warning.title": ("未处理的预警", "Open warnings"),
    "warning.none": ("暂无未处理的预警。", "No open warning."),
    "warning.raised_at": ("发出时间", "Raised"),
    "warning.evidence": ("依据", "Evidence"),
    "incident.list_title": ("突发事件", "Incidents"),
    "incident.title": ("事件", "Incident"),
    "incident.level": ("确定等级", "Level decided"),
    "incident.suggested_level": ("预案建议等级", "Level suggested by the plan"),
    "incident.reported_at": ("报告时间", "Reported"),
    "incident.drill": ("演练", "drill"),
    "incident.none": ("暂无突发事件。", "No incident."),
    "incident.none_yet": ("暂无。", "None yet."),
    "incident.steps": ("处置步骤", "The steps"),
    "incident.tasks": ("各单位任务", "Tasks by unit"),
    "incident.measures": ("处置措施", "Measures"),
    "incident.logistics": ("后勤保障", "Logistics"),
    "incident.bulletins": ("信息发布", "Bulletins"),
    "incident.petitions": ("关联信访件", "Linked petitions"),
    "incident.shortfall": ("缺口 {n}", "short by {n}"),
    "incident_state.reported": ("已报告", "Reported"),
    "incident_state.assessed": ("已研判", "Assessed"),
    "incident_state.responding": ("处置中", "Responding"),
    "incident_state.cleanup": ("善后中", "Cleaning up"),
    "incident_state.summary_review": ("总结审核中", "Summary in review"),
    "incident_state.closed": ("已结束", "Closed"),
    "step_status.pending": ("未开始", "Not started"),
    "step_status.started": ("进行中", "Under way"),
    "step_status.done": ("已完成", "Done"),
    "task_state.assigned": ("已分派", "Assigned"),
    "task_state.acknowledged": ("已确认", "Acknowledged"),
    "task_state.done": ("已完成", "Done"),
    "task_state.declined": ("已退回", "Declined"),
    "logistics.water": ("饮用水", "Water"),
    "logistics.medical": ("医疗", "Medical"),
    "logistics.venue": ("场地", "Venue"),
    "logistics.materials": ("物资", "Materials"),
    "logistics_state.requested": ("已申请", "Requested"),
    "logistics_state.fulfilled": ("已满足", "Fulfilled"),
    "logistics_state.short": ("不足", "Short"),
    "bulletin_state.draft": ("草稿", "Draft"),
    "bulletin_state.approved": ("已审核", "Approved"),
    "bulletin_state.published": ("已发布", "Published"),
    "student.title": ("网上信访", "Petition online"),
    "student.intro": (
        "请如实填写。提交后您将获得受理编号和查询码，用于查询进度和评价。",
        "Please write truthfully. You will get a tracking number and a lookup code to follow and rate your case.",
    ),
    "student.submit": ("提交信访", "Submit the petition"),
    "student.named": ("实名信访", "With my name"),
    "student.anonymous": ("匿名信访", "Anonymously"),
    "student.how": ("署名方式", "How to sign"),
    "student.check": ("查询进度", "Check a petition's status"),
    "student.reception": ("领导接访日", "Leaders' reception days"),
    "student.reception_help": (
        "学校领导定期接待来访群众。可凭受理编号和查询码预约，或到场登记新的信访事项。",
        "University leaders receive petitioners in person. Book a place with your tracking number and lookup code, "
        "or come and register a new petition.",
    ),
    "student.reception_none": ("近期没有安排领导接访。", "No reception day is scheduled at the moment."),
    "reception.date": ("日期", "Date"),
    "reception.time": ("时间", "Time"),
    "reception.place": ("地点", "Place"),
    "reception.leader": ("接访领导", "Received by"),
    "reception.leader_unnamed": ("学校领导", "A university leader"),
    "reception.available": ("剩余名额", "Places left"),
    "student.new": ("提交新的信访", "Submit a new petition"),
    "student.saved_title": ("信访已提交，请保存以下信息", "Submitted: save these now"),
    "student.saved_warning": (
        "查询码只显示这一次，请抄写或截图保存。凭受理编号和查询码查询进度、评价和申请复查。",
        "The lookup code is shown only this once: write it down or take a screenshot. With the tracking number "
        "and the code you can follow, rate and ask for a review.",
    ),
    "student.saved_confirm": ("我已保存受理编号和查询码", "I have saved the tracking number and the lookup code"),
    "student.saved_continue": ("继续", "Continue"),
    "student.not_found": (
        "没有找到该受理编号与查询码对应的信访件。",
        "No petition has this tracking number and lookup code.",
    ),
    "student.status_title": ("办理进度", "Status"),
    "student.rate_title": ("评价处理结果", "Rate the outcome"),
    "student.rated": ("感谢您的评价。", "Thank you for rating."),
    "student.review_title": ("申请复查", "Ask for a review"),
    "student.review_help": (
        "如对处理意见不服，可在期限内申请复查或复核。",
        "If you disagree with the opinion, you may ask for a review (then a re-review) within the window.",
    ),
    "student.review_done": ("已提交复查申请。", "Your request for a review is registered."),
    "student.your_rating": ("您的评价", "Your rating"),
    "student.attachment_stored": ("附件已上传。", "The attachment is stored."),
    "student.attachment_refused": (
        "信访已提交，但附件未能保存：仅接受 jpeg、png、pdf、docx 或 mp3 文件。",
        "The petition is submitted, but the attachment was not stored: jpeg, png, pdf, docx or mp3 only.",
    ),
    "student.attachment_help": (
        "可上传一张照片或一份文件（jpeg、png、pdf、docx、mp3）。",
        "One photo or file (jpeg, png, pdf, docx, mp3).",
    ),
    "error.title": ("出错了", "Something went wrong"),
    "error.400": ("请求有误，请检查后重试。", "The request is not valid; check it and try again."),
    "error.401": ("请先登录。", "Please sign in."),
    "error.403": (
        "您无权进行此操作，或表单已过期，请刷新页面后重试。",
        "You may not do this, or the form expired: reload and try again.",
    ),
    "error.404": ("页面不存在或您无权查看。", "This page does not exist or is not yours to see."),
    "error.405": ("不支持此操作。", "This method is not allowed here."),
    "error.409": ("当前状态不允许此操作。", "The current state does not allow this."),
    "error.413": ("提交的内容过大。", "What you sent is too large."),
    "error.415": ("不支持的内容类型。", "This content type is not supported."),
    "error.422": ("请补充或更正所填信息。", "Please complete or correct the form."),
    "error.429": ("操作过于频繁，请稍后再试。", "Too many requests: please wait a moment."),
    "error.500": ("系统出错，请稍后再试。", "Something failed on our side; please try again later."),
    "error.503": ("系统暂时不可用，请稍后再试。", "The service is unavailable for a moment; please retry."),
    "error.home": ("返回首页", "Back to the start"),
    # --- emergency command (the board, my tasks, warnings' actions) -------------------------------------------------
    "nav.tasks": ("我的任务", "My tasks"),
    "tasks.title": ("我的任务", "My tasks"),
    "tasks.caption": ("本单位待办的应急任务", "Open emergency tasks of my units"),
    "tasks.none": ("本单位暂无待办的应急任务。", "No open task for my units."),
    "board.level": ("响应等级", "Response level"),
    "board.activated": ("是否启动预案", "Plan activated"),
    "board.yes": ("是", "Yes"),
    "board.no": ("否", "No"),
    "board.suggested": ("预案建议", "the plan's suggestion"),
    "board.level_as_suggested": ("按预案建议", "As the plan suggests"),
    "board.instruction": ("应急指令", "Instruction"),
    "board.invalid": ("请补充或更正以下内容：", "Please complete or correct:"),
    "board.done": ("已办理，以下为最新情况。", "Done; the board shows where things stand now."),
    "board.updated": ("看板已更新", "Board updated"),
    "board.updated_dirty": (
        "其他成员已更新看板；您有未提交的填写，提交后或刷新可看到最新情况",
        "Another member changed the board; you have unsent input — send it or reload to see the latest",
    ),
    "board.declined_because": ("退回原因：", "Declined:"),
    "board.in_stock": ("库存 {n}", "{n} in stock"),
    "board.issued_of": ("已发放 {issued}/{quantity}", "issued {issued} of {quantity}"),
    "board.returned": ("已归还 {n}", "{n} returned"),
    "board.own_draft": (
        "本稿由您起草，须由信息发布小组其他负责人审核。",
        "You drafted this: another leader of the release group approves it.",
    ),
    "board.kind.correction": ("更正", "correction"),
    "board.kind.retraction": ("撤回", "retraction"),
    "board.cleanup": ("现场清理", "Cleanup"),
    "board.checklist": ("清理事项", "Cleanup checklist"),
    "board.cleanup_later": ("现场处置结束后列出清理事项。", "The checklist opens when the response ends."),
    "board.summary": ("总结报告", "Summary report"),
    "board.summary_document": ("总结报告（PDF）", "The summary report (PDF)"),
    "board.proposal": ("改进建议 {n}", "Proposal {n}"),
    "board.action_items": ("整改事项", "Action items"),
    "board.item_done": ("已完成（{when}）", "done ({when})"),
    "board.item_open": ("未完成", "open"),
    "board.do.report": ("报告突发事件", "Report an incident"),
    "board.do.assess": ("提交评估", "Record the assessment"),
    "board.do.instruct": ("下达指令", "Issue the instruction"),
    "board.do.assign": ("下达任务", "Assign a task"),
    "board.do.acknowledge": ("确认接收", "Acknowledge"),
    "board.do.complete": ("完成任务", "Complete"),
    "board.do.decline": ("退回任务", "Decline"),
    "board.do.reassign": ("改派", "Reassign"),
    "board.do.measure": ("记录处置措施", "Record a measure"),
    "board.do.request": ("申请后勤保障", "Request supplies"),
    "board.do.fulfil": ("发放", "Issue"),
    "board.do.return": ("归还入库", "Return to stock"),
    "board.do.draft": ("起草通报", "Draft a bulletin"),
    "board.do.approve_bulletin": ("审核通过", "Approve"),
    "board.do.publish": ("发布", "Publish"),
    "board.do.correct": ("起草更正", "Draft a correction"),
    "board.do.end_response": ("结束现场处置", "End the response"),
    "board.do.checklist": ("保存清理事项", "Save the checklist"),
    "board.do.submit_summary": ("提交总结报告", "Submit the summary"),
    "board.do.return_summary": ("退回修改", "Send it back"),
    "board.do.approve_summary": ("批准总结", "Approve the summary"),
    "board.do.item_done": ("标记完成", "Mark done"),
    "board.field.title": ("事件标题", "Title"),
    "board.field.facts": ("基本情况", "What happened"),
    "board.field.impact": ("初步影响（可选）", "Impact so far (optional)"),
    "board.field.risk_categories": ("风险类别", "Risk categories"),
    "board.field.people_count": ("涉及人数", "People involved"),
    "board.field.cause": ("信访原因", "Cause"),
    "board.field.site_conditions": ("现场情况", "Conditions on site"),
    "board.field.injuries": ("受伤人数", "Injuries"),
    "board.field.duration_minutes": ("已持续（分钟）", "Lasting so far (minutes)"),
    "board.field.media_attention": ("已引起媒体关注", "Media attention"),
    "board.field.safety_threat": ("危及安全", "A threat to safety"),
    "board.field.level": ("响应等级", "Level"),
    "board.field.reason": ("不采用建议等级的理由", "Why not the suggested level"),
    "board.field.step": ("所属步骤", "Step"),
    "board.field.duty": ("任务内容", "Duty"),
    "board.field.due_at": ("完成期限（可选，默认按预案）", "Due (optional; the plan's target otherwise)"),
    "board.field.reassign_to": ("改派给", "Reassign to"),
    "board.field.result": ("完成情况（可选）", "Result (optional)"),
    "board.field.reason_code": ("退回原因", "Reason"),
    "board.field.note": ("说明（可选）", "Note (optional)"),
    "board.field.kind": ("措施类型", "Kind of measure"),
    "board.field.count": ("人数或人次", "People or staff"),
    "board.field.notes": ("记录", "Notes"),
    "board.field.category": ("类别", "Category"),
    "board.field.quantity": ("数量", "Quantity"),
    "board.field.item": ("从库存发放", "Issue from"),
    "board.field.return_quantity": ("归还数量", "Quantity returned"),
    "board.field.audience": ("发布对象", "Audience"),
    "board.field.title_zh": ("标题（中文）", "Title (Chinese)"),
    "board.field.title_en": ("标题（英文）", "Title (English)"),
    "board.field.body_zh": ("正文（中文）", "Text (Chinese)"),
    "board.field.body_en": ("正文（英文）", "Text (English)"),
    "board.field.cause_analysis": ("原因分析", "Cause analysis"),
    "board.field.lessons": ("经验教训（可选）", "Lessons (optional)"),
    "board.field.proposal": ("建议", "Proposal"),
    "board.field.owner_unit_id": ("责任单位", "Owner unit"),
    "board.field.due_on": ("完成期限", "Due on"),
    "board.field.org_unit_id": ("单位", "Unit"),
    "board.field.version": ("版本", "Version"),
    "board.field.proposals": ("改进建议", "Proposals"),
    "board.refused.stale-version": (
        "其他成员刚刚更新了这里，以下为最新情况，请核对后重试。",
        "Another member changed this meanwhile: here is where it stands now; check and try again.",
    ),
    "board.refused.four-eyes": (
        "通报须由起草人以外的负责人审核（双人审核）。",
        "A bulletin is approved by someone other than its author (four eyes).",
    ),
    "board.refused.transition-refused": (
        "当前状态已不允许此操作，以下为最新情况。",
        "The current state no longer allows this: here is where it stands now.",
    ),
    "board.refused.not-in-group": (
        "此操作属于其他应急小组（或须由组长、副组长办理）。",
        "This is another group's action (or its leader's or a deputy's).",
    ),
    "board.refused.not-assignee": (
        "只有承办单位或小组可以办理此任务。",
        "Only the assigned unit or group acts on this task.",
    ),
    "board.refused.checklist-open": ("清理事项尚未全部完成。", "The cleanup checklist is not done yet."),
    "board.refused.tasks-open": ("仍有未完成的任务。", "Some tasks are still open."),
    "board.refused.reassigned": ("该任务已改派。", "This task was already reassigned."),
    "board.refused.incident-closed": ("事件已结束。", "The incident is closed."),
    "board.refused.done": ("该事项已完成。", "This item is already done."),
    "board.refused.nothing-issued": ("该申请没有已发放的物资。", "Nothing was issued for this request."),
    "board.refused.no-plan": (
        "尚无生效的应急预案，请先发布预案。",
        "No emergency plan is in force: publish one first.",
    ),
    "board.refused.unknown": ("无法识别的操作。", "Unknown action."),
    "board.refused.other": ("当前无法办理此操作。", "This cannot be done now."),
    "decline.not_our_remit": ("不属本单位职责", "Not our remit"),
    "decline.no_capacity": ("人手或能力不足", "No capacity"),
    "decline.needs_other_unit": ("需其他单位办理", "Needs another unit"),
    "decline.other": ("其他原因", "Other"),
    "audience.campus": ("全校师生", "The whole campus"),
    "audience.students": ("学生", "Students"),
    "audience.staff": ("教职工", "Staff"),
    "warning.open_incident": ("据此报告突发事件", "Open an incident from it"),
    "warning.dismiss": ("排除预警", "Dismiss"),
    "warning.dismiss_reason": ("排除理由", "Why it is dismissed"),
    "warning.dismissed": ("预警已排除。", "The warning is dismissed."),
    "warning.refused": (
        "该预警已被处理，或您无权处理（限应急处置小组和管理员）。",
        "This warning was handled already, or is not yours to handle (the handling group and admins).",
    ),
    # --- petition office (office.py: registering on behalf, escalation; reply templates) ---------------------
    "office.register_title": ("登记来信来访", "Register a letter, call or visit"),
    "office.register_intro": (
        "代信访人登记来信、来电、传真、电子邮件或来访（《信访工作条例》第十九条）。",
        "Register a letter, call, fax, email or visit on behalf of the petitioner (regulation, art. 19).",
    ),
    "office.content": ("信访事项（请如实记录）", "The matter (record it as told)"),
    "office.anonymous": ("匿名（不记录信访人身份）", "Anonymous (no identity recorded)"),
    "office.group": ("集体信访", "Group petition"),
    "office.representatives_help": ("集体来访代表不超过五人（第二十条）。", "At most five representatives (art. 20)."),
    "office.representative": ("代表 {n} 姓名", "Representative {n}: name"),
    "office.representative_contact": ("代表 {n} 联系方式", "Representative {n}: contact"),
    "office.accused": ("被检举控告单位（检举控告类）", "Unit accused (accusations)"),
    "office.register_submit": ("登记", "Register"),
    "office.registered_title": ("已登记", "Registered"),
    "office.registered_tell": (
        "请将受理编号和查询码告知信访人：查询码只显示这一次。",
        "Tell the petitioner the tracking number and the lookup code: the code is shown only this once.",
    ),
    "office.open_petition": ("查看该信访件", "Open the petition"),
    "office.register_another": ("继续登记", "Register another"),
    "office.escalated": ("已转为突发事件：", "Escalated to an incident:"),
    "office.incident_link": ("事件 {n}", "incident {n}"),
    "office.escalate": ("转为突发事件", "Escalate to an incident"),
    "office.escalate_help": (
        "集体信访可能演变为突发事件时，立即报告并启动预案（第二十五条）。",
        "When a group petition may become a sudden event, report it at once and start the plan (art. 25).",
    ),
    "office.escalate_reason": ("转报理由", "Reason"),
    "office.incident_title": ("事件标题", "Incident title"),
    "office.incident_facts": ("基本情况", "Facts"),
    "office.people_count": ("涉及人数", "People involved"),
    "office.escalate_submit": ("报告事件", "Report the incident"),
    "escalation.group_visit": ("集体来访", "Group visit"),
    "escalation.major_or_urgent": ("重大紧急事项", "Major or urgent matter"),
    "escalation.safety_risk": ("存在安全风险", "Safety risk"),
    "office.template_pick": ("答复模板", "Reply templates"),
    "office.template": ("选择模板填入处理意见", "Fill the opinion from a template"),
    "office.template_use": ("填入", "Fill in"),
    # --- campus places on the student's form
    "field.place": ("校园地点", "Campus place"),
    "student.place_none": ("（不选）", "(none)"),
    "student.place_help": (
        "可选：选择事发地点，也可在下方补充说明。",
        "Optional: pick where it happens; you can add details below.",
    ),
    "student.extended": ("办理期限已延长", "Handling extended"),
    "student.extended_by": ("延长 {days} 天", "by {days} days"),
}


def _merge(core: dict[str, tuple[str, str]], *areas: dict[str, tuple[str, str]]) -> None:
    for area in areas:
        twice = core.keys() & area.keys()
        if twice:
            raise RuntimeError(f"console words defined twice: {sorted(twice)}")
        core.update(area)


_merge(MESSAGES, admin.MESSAGES, plan.MESSAGES, evaluation.MESSAGES, platform.MESSAGES, problems.MESSAGES)


def choose(query: str | None, cookie: str | None) -> str:
    """The page's language: the query's, else the cookie's, else zh-CN (anything unknown is zh-CN)."""
    for candidate in (query, cookie):
        if candidate is not None and candidate in LANGS:
            return candidate
    return DEFAULT


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **values)`` in ``lang``; an unknown key shows itself (and fails the catalogue test)."""
    index = 1 if lang == "en" else 0

    def t(key: str, **values: object) -> str:
        pair = MESSAGES.get(key)
        text = pair[index] if pair else key
        return text.format(**values) if values else text

    return t


def event(lang: str, event_type: str) -> str:
    """A journal event in words: the event catalogue's own description (``tenants.events``), in ``lang``."""
    known = EVENTS.get(event_type)
    if known is None:
        return event_type
    text = known.description if lang == "en" else known.description_zh
    return text[:1].upper() + text[1:] if lang == "en" else text


# The password policy's reasons (``tenants.identity.password_problems``, English) in the page's language.
_PASSWORD_PROBLEMS = (
    (re.compile(r"^at least (\d+) characters$"), "至少 {0} 个字符"),
    (re.compile(r"^too common"), "过于常见：在攻击者最先尝试的密码名单上"),
    (re.compile(r"^must not be built on your email"), "不得以您的邮箱地址为基础"),
    (re.compile(r"^must not be built on the university"), "不得以学校代码为基础"),
    (re.compile(r"^must differ from the current"), "必须与当前密码不同"),
)


def password_problem(lang: str, message: str) -> str:
    """One reason a new password was refused, in ``lang`` (an unknown reason shows as it came)."""
    if lang == "en":
        return message
    for pattern, zh in _PASSWORD_PROBLEMS:
        if found := pattern.match(message):
            return zh.format(*found.groups())
    return message


def refused(lang: str, exc: DomainError) -> str:
    """A service's refusal in ``lang``: on English pages the service's own message; on Chinese pages the words of
    its problem code (``words/problems.py``), else the service's message after a Chinese lead."""
    if lang == "en":
        return exc.detail
    key = f"problem.{exc.code}"
    pair = MESSAGES.get(key)
    return pair[0] if pair else f"{MESSAGES['problem.refused'][0]}（{exc.detail}）"


def label(lang: str, names: Mapping[str, str | None]) -> str:
    """A bilingual record's name (``name_zh``/``name_en``) in ``lang``."""
    return (names.get("name_en") if lang == "en" else names.get("name_zh")) or names.get("name_zh") or ""
