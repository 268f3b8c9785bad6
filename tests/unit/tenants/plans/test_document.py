"""The plan document in HTML, PDF and DOCX, read back as text."""

from __future__ import annotations

import datetime as dt
import io

import msgspec
import pytest
from pypdf import PdfReader

from tenants.plans.content import Text
from tenants.plans.defaults import default_plan
from tenants.plans.document import DocumentData, GroupView, StockView, UnitView, render
from tests.support.documents import docx_text, pdf_text, squeeze

ZH_HEADINGS = [
    "一、预案目标与范围",
    "二、风险分析",
    "三、组织机构框架",
    "四、应急处置流程",
    "五、物资清单与资源配置",
    "六、评估机制",
    "七、预案文档编写与培训",
]
EN_HEADINGS = [
    "1. Goals and scope",
    "2. Risk analysis",
    "3. Organization",
    "4. Emergency handling process",
    "5. Materials and resource allocation",
    "6. Evaluation",
    "7. Plan document and training",
]


def data(**changes: object) -> DocumentData:
    base = {
        "university": Text(zh="华南示范大学", en="South China Model University"),
        "number": 3,
        "status": "published",
        # 20:30 UTC on the 28th is already the 29th in Shanghai: the date is the university's.
        "published_at": dt.datetime(2026, 11, 28, 20, 30, tzinfo=dt.UTC),
        "content": default_plan(),
        "groups": [
            GroupView(
                key="leadership",
                name_zh="领导小组",
                name_en="Leadership group",
                duties=Text(zh="负责本预案的实施", en="Implements the plan"),
                leader=Text(zh="王建国（校党委书记）", en="Wang Jianguo (Party Secretary)"),
                deputies=[Text(zh="李明（校长）", en="Li Ming (President)")],
                members=[],
            ),
            GroupView(
                key="handling",
                name_zh="应急处置小组",
                name_en="Emergency handling group",
                duties=Text(),
                leader=None,
                deputies=[],
                members=[Text(zh="赵敏（心理咨询中心）", en="Zhao Min (Counseling Center)")],
            ),
        ],
        "units": [
            UnitView(name=Text(zh="华南示范大学", en="South China Model University"), depth=0),
            UnitView(name=Text(zh="学生处", en="Student Affairs"), depth=1),
        ],
        "stock": [StockView(code="COMM-RADIO", available=12), StockView(code="LOG-WATER", available=50)],
    }
    return DocumentData(**(base | changes))  # type: ignore[arg-type]


ZH_EXPECTED = [
    *ZH_HEADINGS,
    "华南示范大学高校信访工作应急预案",
    "版本：第3版",
    "发布日期：2026-11-29",
    "领导小组",
    "王建国（校党委书记）",
    "李明（校长）",
    "赵敏（心理咨询中心）",
    "组长",
    "（待定）",
    "学生处",
    "对讲机(COMM-RADIO)",
    "短缺150",  # water: 200 required, 50 in stock
    "群体性事件",
    "特别重大",
    "参与人数≥300",
    "事件报告",
    "4小时内，此后每2小时通报一次",
    "心理疏导",
    "师生的满意度与反馈",
    "每180天至少参加一次培训",
]
EN_EXPECTED = [
    *EN_HEADINGS,
    "Version 3",
    "Published 2026-11-29",
    "Wang Jianguo (Party Secretary)",
    "Emergency handling group",
    "(vacant)",
    "Walkie-talkie (COMM-RADIO)",
    "short by 150",
    "participants ≥ 300",
    "within 4 h, then an update every 2 h",
]


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_chinese_document_reads_back(fmt: str) -> None:
    body = render(data(), "zh-CN", fmt)  # type: ignore[arg-type]
    text = {"pdf": pdf_text, "docx": docx_text, "html": bytes.decode}[fmt](body)
    flat = squeeze(text)
    missing = [s for s in ZH_EXPECTED if squeeze(s) not in flat]
    assert missing == []
    # The sections come in the seed's order.
    positions = [flat.index(squeeze(h)) for h in ZH_HEADINGS]
    assert positions == sorted(positions)


@pytest.mark.parametrize("fmt", ["pdf", "docx", "html"])
def test_english_document_reads_back(fmt: str) -> None:
    body = render(data(), "en", fmt)  # type: ignore[arg-type]
    text = {"pdf": pdf_text, "docx": docx_text, "html": bytes.decode}[fmt](body)
    flat = squeeze(text)
    missing = [s for s in EN_EXPECTED if squeeze(s) not in flat]
    assert missing == []
    assert "预案目标" not in text


def test_pdf_embeds_the_cjk_font() -> None:
    reader = PdfReader(io.BytesIO(render(data(), "zh-CN", "pdf")))
    fonts = reader.pages[0]["/Resources"]["/Font"]
    descendants = [f.get_object()["/DescendantFonts"][0].get_object() for f in fonts.values()]
    assert any("/FontFile2" in d["/FontDescriptor"] for d in descendants)


def test_a_draft_says_so_and_has_no_publication_date() -> None:
    text = render(data(status="draft", published_at=None), "zh-CN", "html").decode()
    assert "草案（未发布）" in text and "发布日期" not in text


def test_html_escapes_what_people_typed() -> None:
    groups = [
        GroupView(
            key="x",
            name_zh="<script>alert(1)</script>",
            name_en="x",
            duties=Text(),
            leader=None,
            deputies=[],
            members=[],
        )
    ]
    text = render(data(groups=groups), "zh-CN", "html").decode()
    assert "<script>" not in text and "&lt;script&gt;" in text


def test_no_groups_yet() -> None:
    assert "尚未设立应急工作小组" in render(data(groups=[], units=[]), "zh-CN", "html").decode()


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
def test_every_list_item_starts_at_the_left_margin_of_the_pdf(lang: str) -> None:
    """Consecutive list items must each start at the left margin, not where the previous one ended (which
    pushes them off the page, where text extraction still finds them but no reader can see them)."""
    reader = PdfReader(io.BytesIO(render(data(), lang, "pdf")))  # type: ignore[arg-type]
    starts: list[float] = []

    def visit(text: str, cm: list[float], tm: list[float], *_: object) -> None:
        if text.lstrip().startswith("•"):
            starts.append(cm[4] + tm[4] * cm[0])

    for page in reader.pages:
        page.extract_text(visitor_text=visit)
    assert len(starts) > 3
    width = float(reader.pages[0].mediabox.width)
    assert max(starts) < width * 0.1, starts


def test_groups_follow_the_plans_order_not_the_alphabet() -> None:
    from tenants.plans.defaults import default_plan
    from tenants.plans.services import in_plan_order

    content = default_plan()
    keys = ["logistics", "handling", "zz_extra", "leadership", "info_release", "aa_extra"]
    assert in_plan_order(keys, content) == [
        "leadership",
        "handling",
        "info_release",
        "logistics",
        "aa_extra",
        "zz_extra",
    ]
    # A group the plan names (in its training groups) comes before those it does not name.
    named = msgspec.structs.replace(
        content, training=msgspec.structs.replace(content.training, training_groups=["zz_extra", "leadership"])
    )
    assert in_plan_order(keys, named)[-2:] == ["zz_extra", "aa_extra"]
