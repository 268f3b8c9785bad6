"""The plan document (§7): a plan version with its groups and materials, as HTML, PDF or DOCX, in zh-CN or en.

Rendering is pure: ``DocumentData`` in, bytes out. The document is first laid out as a short list of blocks
(headings, paragraphs, lists, tables) following the seed's structure §1–§7; each format renders the same blocks.
The PDF embeds WenQuanYi Micro Hei (from the ``paperang-p2-fonts-cjk`` wheel, Apache-2.0/GPLv3 with the font
exception), subset to the glyphs used, so Chinese renders on any reader.
"""

from __future__ import annotations

import datetime as dt
import html
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol
from zoneinfo import ZoneInfo

import msgspec

from tenants.plans.content import PlanContent, Text
from tenants.plans.rules import describe

Lang = Literal["zh-CN", "en"]
Format = Literal["html", "pdf", "docx"]
MEDIA_TYPES: dict[str, str] = {
    "html": "text/html; charset=utf-8",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
}


class GroupView(msgspec.Struct, frozen=True, kw_only=True):
    """An emergency group with its people already turned into printable labels (name and post)."""

    key: str
    name_zh: str
    name_en: str
    duties: Text
    leader: Text | None
    deputies: list[Text]
    members: list[Text]


class UnitView(msgspec.Struct, frozen=True, kw_only=True):
    """An org unit of the chart; ``depth`` 0 is the university itself."""

    name: Text
    depth: int


class StockView(msgspec.Struct, frozen=True, kw_only=True):
    code: str
    available: int


class DocumentData(msgspec.Struct, frozen=True, kw_only=True):
    university: Text
    number: int
    status: str
    published_at: dt.datetime | None
    content: PlanContent
    groups: list[GroupView]
    units: list[UnitView]
    stock: list[StockView]
    timezone: str = "Asia/Shanghai"


# --- blocks -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Heading:
    level: int
    text: str


@dataclass(frozen=True)
class Para:
    text: str


@dataclass(frozen=True)
class Bullets:
    items: list[str]


@dataclass(frozen=True)
class Table:
    header: list[str]
    rows: list[list[str]]
    widths: tuple[int, ...] | None = None  # relative column widths (PDF)


Block = Heading | Para | Bullets | Table


class Figure(Protocol):
    """A block that draws itself on the PDF (a report's chart): lines, shapes and text at the current position."""

    def draw_pdf(self, pdf: Any) -> None: ...


_L: dict[str, dict[str, str]] = {
    "zh-CN": {
        "version": "版本：第{n}版",
        "published": "发布日期：{d}",
        "draft": "草案（未发布）",
        "purpose": "总则",
        "s1": "一、预案目标与范围",
        "goals": "预案目标",
        "scope": "适用范围",
        "s2": "二、风险分析",
        "levels": "事件分级与启动条件",
        "level": "级别",
        "level_name": "名称",
        "activation": "启动条件",
        "manual": "由领导小组决定",
        "s3": "三、组织机构框架",
        "chart": "组织机构",
        "duties": "职责",
        "leader": "组长",
        "deputies": "副组长",
        "members": "成员",
        "vacant": "（待定）",
        "no_groups": "尚未设立应急工作小组。",
        "s4": "四、应急处置流程",
        "step": "步骤",
        "responsible": "负责小组",
        "target": "时限",
        "repeat": "，此后每{t}通报一次",
        "measures": "应急响应措施",
        "unit": "负责部门",
        "s5": "五、物资清单与资源配置",
        "category": "类别",
        "item": "物资",
        "minimum": "最低储备",
        "stock": "现有库存",
        "status": "状态",
        "ok": "充足",
        "short": "短缺{n}",
        "s6": "六、评估机制",
        "dimension": "评估维度",
        "weight": "权重",
        "criteria": "评估指标",
        "s7": "七、预案文档编写与培训",
        "training": "预案所列人员（{groups}）每{d}天至少参加一次培训；每{r}天至少组织一次应急演练。",
        "minutes": "{n}分钟",
        "hours": "{n}小时",
        "days": "{n}天",
        "within": "{t}内",
        "sep": "、",
        "communication": "通讯设备",
        "medical": "医疗物资",
        "safety": "安全设施",
        "logistics": "后勤保障物资",
        "custom": "其他",
    },
    "en": {
        "version": "Version {n}",
        "published": "Published {d}",
        "draft": "Draft (not published)",
        "purpose": "Purpose",
        "s1": "1. Goals and scope",
        "goals": "Goals",
        "scope": "Scope",
        "s2": "2. Risk analysis",
        "levels": "Severity levels and activation",
        "level": "Level",
        "level_name": "Name",
        "activation": "Activated when",
        "manual": "decided by the leadership group",
        "s3": "3. Organization",
        "chart": "Organization chart",
        "duties": "Duties",
        "leader": "Leader",
        "deputies": "Deputies",
        "members": "Members",
        "vacant": "(vacant)",
        "no_groups": "No emergency groups have been set up yet.",
        "s4": "4. Emergency handling process",
        "step": "Step",
        "responsible": "Responsible group",
        "target": "Time target",
        "repeat": ", then an update every {t}",
        "measures": "Response measures",
        "unit": "Responsible office",
        "s5": "5. Materials and resource allocation",
        "category": "Category",
        "item": "Item",
        "minimum": "Minimum",
        "stock": "In stock",
        "status": "Status",
        "ok": "sufficient",
        "short": "short by {n}",
        "s6": "6. Evaluation",
        "dimension": "Dimension",
        "weight": "Weight",
        "criteria": "Criteria",
        "s7": "7. Plan document and training",
        "training": "The people named in the plan ({groups}) are trained at least every {d} days; an emergency "
        "drill is held at least every {r} days.",
        "minutes": "{n} min",
        "hours": "{n} h",
        "days": "{n} days",
        "within": "within {t}",
        "sep": ", ",
        "communication": "Communication",
        "medical": "Medical",
        "safety": "Safety",
        "logistics": "Logistics",
        "custom": "Other",
    },
}


def _duration(minutes: int, lang: str) -> str:
    labels = _L[lang]
    if minutes % (24 * 60) == 0:
        return labels["days"].format(n=minutes // (24 * 60))
    if minutes % 60 == 0:
        return labels["hours"].format(n=minutes // 60)
    return labels["minutes"].format(n=minutes)


def _weight(value: float) -> str:
    return f"{value * 100:g}%"


def blocks(data: DocumentData, lang: Lang) -> list[Block]:
    """The document as blocks, in the seed's order §1–§7."""
    L = _L[lang]
    c = data.content
    zh = lang == "zh-CN"
    sep = L["sep"]
    group_names = {g.key: (g.name_zh if zh else g.name_en) for g in data.groups}
    risk_names = {r.key: r.name.get(lang) for r in c.risk_categories}

    def group(key: str | None) -> str:
        return group_names.get(key, key) if key else "—"

    out: list[Block] = [Heading(0, f"{data.university.get(lang)} {c.goals.title.get(lang)}")]
    if data.published_at is not None:
        day = data.published_at.astimezone(ZoneInfo(data.timezone)).date().isoformat()
        out.append(Para(f"{L['version'].format(n=data.number)}    {L['published'].format(d=day)}"))
    else:
        out.append(Para(f"{L['version'].format(n=data.number)}    {L['draft']}"))
    out += [Heading(2, L["purpose"]), Para(c.goals.purpose.get(lang))]

    out += [Heading(1, L["s1"]), Heading(2, L["goals"]), Bullets([t.get(lang) for t in c.goals.goals])]
    out += [Heading(2, L["scope"]), Bullets([t.get(lang) for t in c.goals.scope])]

    out.append(Heading(1, L["s2"]))
    out.append(
        Bullets(
            [
                f"{r.name.get(lang)}{'：' if zh else ': '}{r.description.get(lang)}".rstrip("：: ")
                for r in c.risk_categories
            ]
        )
    )
    out.append(Heading(2, L["levels"]))
    out.append(
        Table(
            [L["level"], L["level_name"], L["activation"]],
            [
                [
                    lv.code,
                    lv.name.get(lang),
                    describe(lv.activation, lang, risk_names) if lv.activation else L["manual"],
                ]
                for lv in c.severity_levels
            ],
            (10, 20, 70),
        )
    )

    out.append(Heading(1, L["s3"]))
    if data.units:
        out += [Heading(2, L["chart"]), Bullets(["\u3000" * u.depth + u.name.get(lang) for u in data.units])]
    if not data.groups:
        out.append(Para(L["no_groups"]))
    for g in data.groups:
        out.append(Heading(2, g.name_zh if zh else g.name_en))
        out.append(
            Table(
                ["", ""],
                [
                    [L["leader"], g.leader.get(lang) if g.leader else L["vacant"]],
                    [L["deputies"], sep.join(p.get(lang) for p in g.deputies) or L["vacant"]],
                    [L["members"], sep.join(p.get(lang) for p in g.members) or L["vacant"]],
                    [L["duties"], g.duties.get(lang) or "—"],
                ],
                (20, 80),
            )
        )

    out.append(Heading(1, L["s4"]))
    rows = []
    for i, step in enumerate(c.steps, 1):
        target = L["within"].format(t=_duration(step.target_minutes, lang)) if step.target_minutes else "—"
        if step.repeat_every_minutes:
            target += L["repeat"].format(t=_duration(step.repeat_every_minutes, lang))
        rows.append([f"{i}. {step.name.get(lang)}", group(step.responsible_group), target])
    out.append(Table([L["step"], L["responsible"], L["target"]], rows, (40, 25, 35)))
    for i, step in enumerate(c.steps, 1):
        if step.description.get(lang):
            out.append(Para(f"{i}. {step.name.get(lang)}{'：' if zh else ': '}{step.description.get(lang)}"))
    out.append(Heading(2, L["measures"]))
    out.append(
        Table(
            [L["measures"], L["responsible"], L["unit"]],
            [
                [
                    f"{m.name.get(lang)}{'：' if zh else ': '}{m.description.get(lang)}",
                    group(m.responsible_group),
                    m.responsible_unit.get(lang) if m.responsible_unit else "—",
                ]
                for m in c.measures
            ],
            (60, 20, 20),
        )
    )

    out.append(Heading(1, L["s5"]))
    available = {s.code: s.available for s in data.stock}
    mat_rows = []
    for m in c.materials:
        have = available.get(m.code, 0)
        status = L["ok"] if have >= m.minimum else L["short"].format(n=m.minimum - have)
        mat_rows.append(
            [
                L.get(m.category, m.category),
                f"{m.name.get(lang)} ({m.code})",
                f"{m.minimum} {m.unit.get(lang)}",
                f"{have} {m.unit.get(lang)}",
                status,
            ]
        )
    out.append(Table([L["category"], L["item"], L["minimum"], L["stock"], L["status"]], mat_rows))

    out.append(Heading(1, L["s6"]))
    out.append(
        Table(
            [L["dimension"], L["weight"], L["criteria"]],
            [
                [
                    d.name.get(lang),
                    _weight(d.weight),
                    sep.join(f"{k.name.get(lang)} {_weight(k.weight)}" for k in d.criteria),
                ]
                for d in c.evaluation
            ],
            (30, 10, 60),
        )
    )

    out.append(Heading(1, L["s7"]))
    out.append(
        Para(
            L["training"].format(
                groups=sep.join(group(k) for k in c.training.training_groups),
                d=c.training.training_every_days,
                r=c.training.drill_every_days,
            )
        )
    )
    if c.training.notes.get(lang):
        out.append(Para(c.training.notes.get(lang)))
    return out


# --- formats ----------------------------------------------------------------------------------------------------


def render(data: DocumentData, lang: Lang, fmt: Format) -> bytes:
    """The document in ``fmt``."""
    content = blocks(data, lang)
    if fmt == "html":
        return render_html(content, lang).encode()
    if fmt == "pdf":
        return render_pdf(content, lang)
    return render_docx(content, lang)


def render_html(content: list[Block], lang: str) -> str:
    e = html.escape
    title = next(b.text for b in content if isinstance(b, Heading))
    parts = [
        "<!doctype html>",
        f'<html lang="{e(lang)}"><head><meta charset="utf-8"><title>{e(title)}</title>',
        "<style>body{font-family:'Noto Sans SC','Microsoft YaHei','PingFang SC',sans-serif;max-width:52em;"
        "margin:2em auto;line-height:1.6}table{border-collapse:collapse;width:100%}"
        "td,th{border:1px solid #999;padding:.3em .5em;vertical-align:top}</style></head><body>",
    ]
    for b in content:
        match b:
            case Heading(level=level, text=t):
                parts.append(f"<h{level + 1}>{e(t)}</h{level + 1}>")
            case Para(text=t):
                parts.append(f"<p>{e(t)}</p>")
            case Bullets(items=items):
                parts.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in items) + "</ul>")
            case Table(header=header, rows=rows):
                head = "" if not any(header) else "<tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>"
                body = "".join("<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows)
                parts.append(f"<table>{head}{body}</table>")
    parts.append("</body></html>")
    return "\n".join(parts)


def font_path() -> Path:
    """The CJK font embedded in PDFs."""
    import paperang_p2_fonts_cjk

    return Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc"


def render_pdf(content: Sequence[Block | Figure], lang: str) -> bytes:
    from fpdf import FPDF
    from fpdf.enums import WrapMode
    from fpdf.fonts import FontFace

    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    # One face, regular only (the font has no bold; table headings are set to regular below). Parsing the CJK
    # font is most of a document's CPU time: registering it once per style would parse it twice.
    pdf.add_font("cjk", "", str(font_path()), collection_font_number=0)
    pdf.set_lang("zh-CN" if lang == "zh-CN" else "en")
    pdf.add_page()
    # Chinese has no spaces to break at: wrap anywhere between characters.
    wrap = WrapMode.CHAR if lang == "zh-CN" else WrapMode.WORD
    width = pdf.epw
    for b in content:
        match b:
            case Heading(level=level, text=t):
                size = {0: 18, 1: 14}.get(level, 12)
                pdf.set_font("cjk", size=size)
                pdf.ln(3 if level else 0)
                pdf.multi_cell(
                    width,
                    size * 0.55,
                    t,
                    align="C" if level == 0 else "L",
                    wrapmode=wrap,
                    new_x="LMARGIN",
                    new_y="NEXT",
                )
                pdf.ln(1)
            case Para(text=t):
                pdf.set_font("cjk", size=10.5)
                pdf.multi_cell(width, 6, t, align="L", wrapmode=wrap, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            case Bullets(items=items):
                pdf.set_font("cjk", size=10.5)
                for item in items:
                    pdf.multi_cell(width, 6, f"• {item}", align="L", wrapmode=wrap, new_x="LMARGIN", new_y="NEXT")
                pdf.ln(1)
            case Table(header=header, rows=rows, widths=widths):
                pdf.set_font("cjk", size=9.5)
                has_header = any(header)
                with pdf.table(
                    first_row_as_headings=has_header,
                    headings_style=FontFace(emphasis=""),
                    wrapmode=wrap,
                    text_align="LEFT",
                    line_height=5.5,
                    col_widths=widths,
                ) as table:
                    for row in [header, *rows] if has_header else rows:
                        cells = table.row()
                        for cell in row:
                            cells.cell(cell)
                pdf.ln(2)
            case _:
                b.draw_pdf(pdf)
    return bytes(pdf.output())


def render_docx(content: list[Block], lang: str) -> bytes:
    from docx import Document
    from docx.oxml.ns import qn

    doc = Document()
    for style_name in ("Normal", "Title", "Heading 1", "Heading 2", "Heading 3"):
        style = doc.styles[style_name]
        style.font.name = "SimSun" if lang == "zh-CN" else "Calibri"
        # Word picks East Asian glyphs from the eastAsia font, not from the Latin one set above.
        style.element.get_or_add_rPr().get_or_add_rFonts().set(qn("w:eastAsia"), "宋体")
    doc.core_properties.language = lang
    for b in content:
        match b:
            case Heading(level=level, text=t):
                doc.add_heading(t, level=level)
            case Para(text=t):
                doc.add_paragraph(t)
            case Bullets(items=items):
                for item in items:
                    doc.add_paragraph(item, style="List Bullet")
            case Table(header=header, rows=rows):
                all_rows = [header, *rows] if any(header) else rows
                table = doc.add_table(rows=len(all_rows), cols=len(all_rows[0]) if all_rows else 1)
                table.style = "Table Grid"
                for r, row in enumerate(all_rows):
                    for col, value in enumerate(row):
                        table.cell(r, col).text = value
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()
