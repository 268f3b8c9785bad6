"""The summary report (§4.7) and the public status page, in zh-CN and en. Pure: data in, bytes out.

The report reuses the plan document's blocks and renderers (HTML, and PDF with the embedded CJK font). The
status page shows only published bulletins and never a name: it is built from bulletins alone.
"""

from __future__ import annotations

import html
from datetime import datetime
from zoneinfo import ZoneInfo

import msgspec

from tenants.plans.content import Text
from tenants.plans.document import Block, Bullets, Heading, Lang, Para, Table, render_html, render_pdf

STEP_NAMES = {
    "report": ("事件报告", "Report"),
    "assessment": ("信息收集与评估", "Assessment"),
    "instruction": ("指令下达", "Instruction"),
    "response": ("应急响应", "Response"),
    "logistics": ("后勤保障", "Logistics"),
    "information_release": ("信息发布", "Information release"),
    "cleanup_summary": ("现场清理与总结", "Cleanup and summary"),
}
MEASURE_NAMES = {
    "communication": ("沟通协调", "Communication and coordination"),
    "order": ("维持秩序", "Keeping order"),
    "psychological": ("心理疏导", "Psychological support"),
}
EVENT_NAMES = {
    "incident.reported": ("事件报告", "incident reported"),
    "incident.assessed": ("完成评估", "assessed"),
    "incident.instructed": ("下达指令", "instruction issued"),
    "incident.step_started": ("步骤开始", "step started"),
    "incident.step_completed": ("步骤完成", "step completed"),
    "incident.response_ended": ("现场处置结束", "response ended"),
    "task.assigned": ("任务下达", "task assigned"),
    "task.acknowledged": ("任务确认", "task acknowledged"),
    "task.declined": ("任务退回", "task declined"),
    "task.completed": ("任务完成", "task completed"),
    "measure.recorded": ("处置措施", "measure recorded"),
    "logistics.requested": ("物资申请", "materials requested"),
    "logistics.fulfilled": ("物资发放", "materials issued"),
    "logistics.returned": ("物资归还", "materials returned"),
    "bulletin.published": ("发布通报", "bulletin published"),
    "bulletin.corrected": ("更正通报", "bulletin corrected"),
    "incident.summary_submitted": ("提交总结", "summary submitted"),
    "incident.summary_approved": ("总结批准", "summary approved"),
    "incident.closed": ("事件关闭", "incident closed"),
}


def _t(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh-CN" else pair[1]


class SummaryData(msgspec.Struct, frozen=True, kw_only=True):
    university: Text
    title: str
    drill: bool
    level: str | None
    activated: bool | None
    reported_at: datetime
    closed_at: datetime | None
    people_count: int
    facts: str
    cause: str | None
    cause_analysis: str
    lessons: str | None
    # (when, event type, actor label, detail)
    timeline: list[tuple[datetime, str, str, str]]
    measures: list[tuple[datetime, str, int, str]]
    materials: list[tuple[str, int, int, int]]  # (category, requested, issued, returned)
    bulletins: list[tuple[int, str, str, str]]  # (sequence, kind, title_zh, title_en)
    proposals: list[tuple[str, str, str]]  # (proposal, owner unit label, due on)
    zone: str = "Asia/Shanghai"


def blocks(d: SummaryData, lang: Lang) -> list[Block]:
    zh = lang == "zh-CN"
    zone = ZoneInfo(d.zone)

    def when(t: datetime) -> str:
        return t.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    drill = ("【演练】" if zh else "[DRILL] ") if d.drill else ""
    out: list[Block] = [
        Heading(0, f"{drill}{d.university.get(lang)} {'突发信访事件总结报告' if zh else 'Incident summary report'}"),
        Para(d.title),
        Table(
            ["", ""],
            [
                ["报告时间" if zh else "Reported", when(d.reported_at)],
                ["关闭时间" if zh else "Closed", when(d.closed_at) if d.closed_at else "—"],
                ["响应级别" if zh else "Level", d.level or ("未启动" if zh else "not activated")],
                ["涉及人数" if zh else "People involved", str(d.people_count)],
            ],
            (1, 3),
        ),
        Heading(1, "一、基本情况" if zh else "1. Facts"),
        Para(d.facts),
        Heading(1, "二、原因分析" if zh else "2. Cause analysis"),
        Para(d.cause_analysis),
    ]
    if d.cause:
        out.append(Para(("评估时的信访原因：" if zh else "Cause at assessment: ") + d.cause))
    out.append(Heading(1, "三、处置经过" if zh else "3. Timeline"))
    out.append(
        Table(
            ["时间" if zh else "Time", "事项" if zh else "Event", "人员" if zh else "By", "说明" if zh else "Detail"],
            [[when(t), _t(EVENT_NAMES.get(k, (k, k)), lang), who, detail] for t, k, who, detail in d.timeline],
            (2, 2, 2, 3),
        )
    )
    out.append(Heading(1, "四、采取的措施" if zh else "4. Measures taken"))
    if d.measures:
        out.append(
            Table(
                [
                    "时间" if zh else "Time",
                    "措施" if zh else "Measure",
                    "人数" if zh else "People",
                    "记录" if zh else "Notes",
                ],
                [[when(t), _t(MEASURE_NAMES.get(k, (k, k)), lang), str(n), notes] for t, k, n, notes in d.measures],
                (2, 2, 1, 4),
            )
        )
    else:
        out.append(Para("无" if zh else "None"))
    out.append(Heading(1, "五、物资使用" if zh else "5. Materials used"))
    out.append(
        Table(
            [
                "类别" if zh else "Category",
                "申请" if zh else "Requested",
                "发放" if zh else "Issued",
                "归还" if zh else "Returned",
            ],
            [[c, str(r), str(i), str(b)] for c, r, i, b in d.materials] or [["—", "0", "0", "0"]],
            (2, 1, 1, 1),
        )
    )
    out.append(Heading(1, "六、信息发布" if zh else "6. Bulletins"))
    out.append(Bullets([f"#{n} ({kind}) {tzh if zh else ten}" for n, kind, tzh, ten in d.bulletins] or ["—"]))
    out.append(Heading(1, "七、改进建议" if zh else "7. Improvement proposals"))
    out.append(
        Table(
            ["建议" if zh else "Proposal", "责任单位" if zh else "Owner", "完成期限" if zh else "Due"],
            [list(p) for p in d.proposals] or [["—", "—", "—"]],
            (4, 2, 1),
        )
    )
    if d.lessons:
        out.append(Para(d.lessons))
    return out


def render(d: SummaryData, lang: Lang, fmt: str) -> bytes:
    content = blocks(d, lang)
    return render_pdf(content, lang) if fmt == "pdf" else render_html(content, lang).encode()


# --- the public status page -----------------------------------------------------------------------------------------


class PublicBulletin(msgspec.Struct, frozen=True, kw_only=True):
    sequence: int
    kind: str
    audience: str
    title: str
    body: str
    published_at: datetime
    next_update_at: datetime | None
    corrects_sequence: int | None
    corrected_by: list[int]


class StatusPage(msgspec.Struct, frozen=True, kw_only=True):
    university: str
    lang: str
    status: str  # active / closed, in the page's language
    drill: bool
    bulletins: list[PublicBulletin]


KIND_NAMES = {
    "initial": ("首次通报", "First bulletin"),
    "update": ("进展通报", "Update"),
    "correction": ("更正", "Correction"),
    "retraction": ("撤回", "Retraction"),
}


def status_html(page: StatusPage) -> str:
    e = html.escape
    zh = page.lang == "zh-CN"
    title = f"{page.university} — {'事件通报' if zh else 'Incident bulletins'}"
    parts = [
        "<!doctype html>",
        f'<html lang="{e(page.lang)}"><head><meta charset="utf-8"><title>{e(title)}</title>',
        "<style>body{font-family:'Noto Sans SC','Microsoft YaHei',sans-serif;max-width:42em;margin:2em auto;"
        "line-height:1.6}article{border-top:1px solid #ccc;padding:.5em 0}.drill{color:#b00}</style></head><body>",
        f"<h1>{e(title)}</h1>",
    ]
    if page.drill:
        parts.append(
            f'<p class="drill">{"【演练】本事件为应急演练" if zh else "[DRILL] This is an emergency drill"}</p>'
        )
    parts.append(f"<p>{'状态' if zh else 'Status'}: {e(page.status)}</p>")
    if not page.bulletins:
        parts.append(f"<p>{'暂无通报' if zh else 'No bulletins yet'}</p>")
    for b in page.bulletins:
        kind = _t(KIND_NAMES[b.kind], "zh-CN" if zh else "en")
        parts.append(f'<article id="b{b.sequence}"><h2>#{b.sequence} {e(kind)}: {e(b.title)}</h2>')
        parts.append(f"<p><time>{e(b.published_at.isoformat())}</time></p><p>{e(b.body)}</p>")
        if b.corrects_sequence:
            parts.append(
                f'<p>{"更正" if zh else "Corrects"} <a href="#b{b.corrects_sequence}">#{b.corrects_sequence}</a></p>'
            )
        for n in b.corrected_by:
            parts.append(f'<p>{"已被更正，见" if zh else "Corrected by"} <a href="#b{n}">#{n}</a></p>')
        if b.next_update_at:
            parts.append(f"<p>{'下次通报不晚于' if zh else 'Next update by'} {e(b.next_update_at.isoformat())}</p>")
        parts.append("</article>")
    parts.append("</body></html>")
    return "\n".join(parts)
