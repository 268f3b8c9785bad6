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
# Inventory categories (material.* events) and logistics request categories (logistics.* events, the materials
# table of the report).
MATERIAL_CATEGORY_NAMES = {
    "communication": ("通讯设备", "Communication equipment"),
    "medical": ("医疗物资", "Medical supplies"),
    "safety": ("安全设施", "Safety equipment"),
    "logistics": ("后勤保障物资", "Logistics supplies"),
    "custom": ("其他物资", "Other materials"),
}
LOGISTICS_NAMES = {
    "water": ("饮用水", "Drinking water"),
    "medical": ("医疗救助", "Medical aid"),
    "venue": ("场地保障", "Venue"),
    "materials": ("物资", "Materials"),
}
# The labels of the facts a timeline row shows (payload keys of the event catalogue).
FACT_LABELS = {
    "step": ("步骤", "step"),
    "level": ("等级", "level"),
    "kind": ("类型", "kind"),
    "sequence": ("序号", "no."),
    "count": ("人数", "people"),
    "quantity": ("数量", "quantity"),
    "short": ("缺口", "short"),
    "category": ("类别", "category"),
    "reason_code": ("原因", "reason"),
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
    "incident.summary_returned": ("总结退回修改", "summary returned"),
    "incident.summary_approved": ("总结批准", "summary approved"),
    "incident.closed": ("事件关闭", "incident closed"),
    "material.issued": ("物资出库", "stock issued"),
    "material.returned": ("物资归还入库", "stock returned"),
    "action_item.created": ("整改事项下达", "action item created"),
    "action_item.completed": ("整改事项完成", "action item done"),
}


def _t(pair: tuple[str, str], lang: Lang) -> str:
    return pair[0] if lang == "zh-CN" else pair[1]


def event_name(event_type: str, lang: Lang) -> str:
    """An event type in words: the report's own short name, else the event catalogue's description (every type
    has one in both languages), never the raw key."""
    if event_type in EVENT_NAMES:
        return _t(EVENT_NAMES[event_type], lang)
    from tenants.events import EVENTS

    known = EVENTS.get(event_type)
    if known is None:
        return event_type
    return known.description_zh if lang == "zh-CN" else known.description


class Names(msgspec.Struct, frozen=True, kw_only=True):
    """The plan's own names of what the report mentions by code (levels, measures), code -> (zh, en)."""

    levels: dict[str, tuple[str, str]] = {}
    measures: dict[str, tuple[str, str]] = {}


class Fact(msgspec.Struct, frozen=True, array_like=True):
    """One fact of a timeline row: a payload key and its value as recorded."""

    key: str
    value: str


class Row(msgspec.Struct, frozen=True, kw_only=True):
    """One timeline row: when, the event type, who, the facts, and the org unit named (zh, en) if any."""

    at: datetime
    type: str
    actor: str
    facts: list[Fact] = []
    unit: tuple[str, str] | None = None


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
    timeline: list[Row]
    measures: list[tuple[datetime, str, int, str]]
    materials: list[tuple[str, int, int, int]]  # (logistics category, requested, issued, returned)
    bulletins: list[tuple[int, str, str, str]]  # (sequence, kind, title_zh, title_en)
    proposals: list[tuple[str, tuple[str, str], str]]  # (proposal, owner unit (zh, en), due on)
    names: Names = Names()
    zone: str = "Asia/Shanghai"


def _value(row: Row, fact: Fact, names: Names, lang: Lang) -> str:
    """A fact's value in words: steps, levels, measure and bulletin kinds, categories by their names."""
    table: dict[str, tuple[str, str]] | None = {
        "step": STEP_NAMES,
        "level": names.levels,
        "category": MATERIAL_CATEGORY_NAMES if row.type.startswith("material.") else LOGISTICS_NAMES,
        "kind": {**MEASURE_NAMES, **names.measures} if row.type.startswith("measure.") else KIND_NAMES,
    }.get(fact.key)
    if table is not None and fact.value in table:
        return _t(table[fact.value], lang)
    return fact.value


def _level(d: SummaryData, lang: Lang) -> str:
    if d.level is None:
        return "未启动" if lang == "zh-CN" else "not activated"
    if d.level not in d.names.levels:
        return d.level
    name = _t(d.names.levels[d.level], lang)
    return f"{name}（{d.level}级）" if lang == "zh-CN" else f"{name} ({d.level})"


def row_detail(row: Row, names: Names, lang: Lang) -> str:
    """A timeline row's facts as labelled words (``步骤：应急响应``), then the org unit."""
    colon, sep = ("：", "，") if lang == "zh-CN" else (": ", ", ")
    parts = [
        f"{_t(FACT_LABELS.get(f.key, (f.key, f.key)), lang)}{colon}{_value(row, f, names, lang)}" for f in row.facts
    ]
    if row.unit:
        parts.append(_t(row.unit, lang))
    return sep.join(parts)


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
                [
                    "响应级别" if zh else "Level",
                    _level(d, lang),
                ],
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
            [[when(r.at), event_name(r.type, lang), r.actor, row_detail(r, d.names, lang)] for r in d.timeline],
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
                [
                    [when(t), _t({**MEASURE_NAMES, **d.names.measures}.get(k, (k, k)), lang), str(n), notes]
                    for t, k, n, notes in d.measures
                ],
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
            [[_t(LOGISTICS_NAMES.get(c, (c, c)), lang), str(r), str(i), str(b)] for c, r, i, b in d.materials]
            or [["—", "0", "0", "0"]],
            (2, 1, 1, 1),
        )
    )
    out.append(Heading(1, "六、信息发布" if zh else "6. Bulletins"))
    out.append(
        Bullets(
            [
                f"#{n}（{_t(KIND_NAMES.get(kind, (kind, kind)), lang)}）{tzh}"
                if zh
                else f"#{n} ({_t(KIND_NAMES.get(kind, (kind, kind)), lang)}) {ten}"
                for n, kind, tzh, ten in d.bulletins
            ]
            or ["—"]
        )
    )
    out.append(Heading(1, "七、改进建议" if zh else "7. Improvement proposals"))
    out.append(
        Table(
            ["建议" if zh else "Proposal", "责任单位" if zh else "Owner", "完成期限" if zh else "Due"],
            [[text, _t(owner, lang), due] for text, owner, due in d.proposals] or [["—", "—", "—"]],
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
    # The university's time zone (IANA): the page shows every time in it; the JSON keeps instants.
    timezone: str = "Asia/Shanghai"


def local_time(at: datetime, zone: str, lang: str) -> str:
    """An instant as the university's people read it: its local date and time, with the zone named."""
    local = at.astimezone(ZoneInfo(zone))
    if lang == "zh-CN":
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}（{zone}）"
    return f"{local.day} {local:%b} {local.year}, {local:%H:%M} ({zone})"


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
        f'<html lang="{e(page.lang)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title>",
        "<style>body{font-family:'Noto Sans SC','Microsoft YaHei',sans-serif;max-width:42em;margin:2em auto;"
        "line-height:1.6;padding:0 1em}article{border-top:1px solid #ccc;padding:.5em 0}.drill{color:#b00}"
        "</style></head><body>",
        f'<p><a href="?lang={"en" if zh else "zh-CN"}" hreflang="{"en" if zh else "zh-CN"}">'
        f"{'English' if zh else '中文'}</a></p>",
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
        when = local_time(b.published_at, page.timezone, page.lang)
        parts.append(f'<p><time datetime="{e(b.published_at.isoformat())}">{e(when)}</time></p><p>{e(b.body)}</p>')
        if b.corrects_sequence:
            parts.append(
                f'<p>{"更正" if zh else "Corrects"} <a href="#b{b.corrects_sequence}">#{b.corrects_sequence}</a></p>'
            )
        for n in b.corrected_by:
            parts.append(f'<p>{"已被更正，见" if zh else "Corrected by"} <a href="#b{n}">#{n}</a></p>')
        if b.next_update_at:
            by = local_time(b.next_update_at, page.timezone, page.lang)
            parts.append(f"<p>{'下次通报不晚于' if zh else 'Next update by'} {e(by)}</p>")
        parts.append("</article>")
    parts.append("</body></html>")
    return "\n".join(parts)
