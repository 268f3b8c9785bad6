"""Notice templates and the notice's layout. Pure: no I/O.

A template is a title and a body of plain text with ``{placeholder}`` fields; each non-empty body line is a
paragraph. Every kind has its own set of placeholders; a template naming any other field is refused. The layout
around the body is fixed, so every notice carries the university, the document number, the tracking number,
the seal's place and the date of issue whatever the template says.
"""

from __future__ import annotations

import datetime as dt
import string
from typing import Any
from zoneinfo import ZoneInfo

from service.petitions.workflow import Action
from tenants.plans.document import Block, Heading, Para

KINDS = ("acceptance", "non_acceptance", "transfer", "extension", "reply", "review", "rereview")
LANGS = ("zh-CN", "en")
TITLE_MAX = 100
BODY_MAX = 5000

# The action that issues each kind.
KIND_OF_ACTION: dict[Action, str] = {
    Action.accept: "acceptance",
    Action.not_accept: "non_acceptance",
    Action.transfer: "transfer",
    Action.extend: "extension",
    Action.reply: "reply",
    Action.answer_review: "review",
    Action.answer_rereview: "rereview",
}

COMMON = ("university", "tracking_number", "document_number", "issued_on", "received_on", "subject")
_OPINION = ("replied_on", "outcome", "opinion", "basis", "handling_unit")
PLACEHOLDERS: dict[str, tuple[str, ...]] = {
    "acceptance": (*COMMON, "accepted_on", "handling_unit", "conclude_due"),
    "non_acceptance": (*COMMON, "reason", "redirect_to"),
    "transfer": (*COMMON, "transferred_on", "to_unit", "conclude_due"),
    "extension": (*COMMON, "extension_days", "reason", "previous_due", "conclude_due"),
    "reply": (*COMMON, *_OPINION, "review_request_until"),
    "review": (*COMMON, *_OPINION, "rereview_request_until"),
    "rereview": (*COMMON, *_OPINION),
}
# Free-text values a correction may restate (the dates and numbers come from the case, never from a person).
CORRECTABLE = frozenset({"reason", "redirect_to", "opinion", "basis"})

_ZH_DEFAULTS: dict[str, tuple[str, str]] = {
    "acceptance": (
        "受理告知书",
        "您于{received_on}提出的信访事项（编号：{tracking_number}，事项：{subject}）经审查，"
        "符合《信访工作条例》规定的受理条件，本校已于{accepted_on}决定受理。\n"
        "该事项由{handling_unit}办理，将于{conclude_due}前办结并出具书面处理意见（《信访工作条例》第三十四条）。\n"
        "您可凭信访事项编号和查询码查询办理进度。",
    ),
    "non_acceptance": (
        "不予受理告知书",
        "您于{received_on}提出的信访事项（编号：{tracking_number}，事项：{subject}）经审查，决定不予受理。\n"
        "理由：{reason}\n"
        "建议您向{redirect_to}提出。",
    ),
    "transfer": (
        "转送（交办）告知书",
        "您于{received_on}提出的信访事项（编号：{tracking_number}，事项：{subject}）已于{transferred_on}"
        "转送{to_unit}办理。\n该事项的办结期限为{conclude_due}。",
    ),
    "extension": (
        "延期办理告知书",
        "您提出的信访事项（编号：{tracking_number}，事项：{subject}）因{reason}，"
        "办理期限延长{extension_days}日（《信访工作条例》第三十四条）。\n"
        "原办结期限为{previous_due}，延长后的办结期限为{conclude_due}。",
    ),
    "reply": (
        "信访事项处理意见书",
        "您于{received_on}提出的信访事项（编号：{tracking_number}，事项：{subject}），经{handling_unit}调查核实，"
        "现于{replied_on}答复如下：\n"
        "处理结果：{outcome}\n处理意见：{opinion}\n依据：{basis}\n"
        "如对本处理意见不服，可自收到本意见书之日起30日内（至{review_request_until}止），"
        "向{university}信访工作领导小组办公室请求复查（《信访工作条例》第三十五条）。",
    ),
    "review": (
        "信访事项复查意见书",
        "您对信访事项（编号：{tracking_number}，事项：{subject}）处理意见的复查请求，本校已复查，"
        "现于{replied_on}答复如下：\n"
        "复查结果：{outcome}\n复查意见：{opinion}\n依据：{basis}\n"
        "如对本复查意见不服，可自收到本意见书之日起30日内（至{rereview_request_until}止），"
        "向{university}的上级主管机关请求复核（《信访工作条例》第三十六条）。",
    ),
    "rereview": (
        "信访事项复核意见书",
        "您对信访事项（编号：{tracking_number}，事项：{subject}）复查意见的复核请求，已复核，"
        "现于{replied_on}答复如下：\n"
        "复核结果：{outcome}\n复核意见：{opinion}\n依据：{basis}\n"
        "本复核意见为终结意见。信访人对复核意见不服，仍以同一事实和理由提出信访的，"
        "不再受理（《信访工作条例》第三十六条）。",
    ),
}

_EN_DEFAULTS: dict[str, tuple[str, str]] = {
    "acceptance": (
        "Notice of Acceptance",
        "Your petition received on {received_on} (tracking number {tracking_number}: {subject}) meets the "
        "conditions of the Regulation on Petition Work and was accepted on {accepted_on}.\n"
        "It is handled by {handling_unit} and will be concluded, with a written opinion, by {conclude_due} "
        "(Article 34).\nYou can follow its progress with the tracking number and your lookup code.",
    ),
    "non_acceptance": (
        "Notice of Non-acceptance",
        "Your petition received on {received_on} (tracking number {tracking_number}: {subject}) was examined "
        "and is not accepted.\nReason: {reason}\nYou may instead turn to {redirect_to}.",
    ),
    "transfer": (
        "Notice of Transfer",
        "Your petition received on {received_on} (tracking number {tracking_number}: {subject}) was transferred "
        "to {to_unit} on {transferred_on}.\nIt is to be concluded by {conclude_due}.",
    ),
    "extension": (
        "Notice of Extension",
        "The handling of your petition (tracking number {tracking_number}: {subject}) is extended by "
        "{extension_days} days because: {reason} (Article 34).\n"
        "The deadline moves from {previous_due} to {conclude_due}.",
    ),
    "reply": (
        "Handling Opinion",
        "Your petition received on {received_on} (tracking number {tracking_number}: {subject}) was examined by "
        "{handling_unit}. Our reply of {replied_on}:\n"
        "Outcome: {outcome}\nOpinion: {opinion}\nBasis: {basis}\n"
        "If you disagree, you may request a review within 30 days of receiving this opinion (until "
        "{review_request_until}) from the petition office of {university}'s petition work leading group "
        "(Article 35).",
    ),
    "review": (
        "Review Opinion",
        "Your request for a review of the opinion on petition {tracking_number} ({subject}) was examined. "
        "Our reply of {replied_on}:\n"
        "Outcome: {outcome}\nOpinion: {opinion}\nBasis: {basis}\n"
        "If you disagree, you may request a re-review within 30 days of receiving this opinion (until "
        "{rereview_request_until}) from the authority above {university} (Article 36).",
    ),
    "rereview": (
        "Re-review Opinion",
        "Your request for a re-review of petition {tracking_number} ({subject}) was examined. "
        "Our reply of {replied_on}:\n"
        "Outcome: {outcome}\nOpinion: {opinion}\nBasis: {basis}\n"
        "This opinion is final: a petition on the same facts and grounds will not be accepted again (Article 36).",
    ),
}

DEFAULTS: dict[str, dict[str, tuple[str, str]]] = {"zh-CN": _ZH_DEFAULTS, "en": _EN_DEFAULTS}

_LABELS: dict[str, dict[str, str]] = {
    "zh-CN": {
        "tracking": "信访事项编号：{n}",
        "corrects": "本文书更正并取代{n}（更正理由：{r}）。",
        "seal": "（印章）",
        "zone": "本文书所列日期、时间均为{z}时区。",
        "supported": "支持",
        "explained": "解释说明",
        "not_supported": "不予支持",
        "office": "本校信访工作机构",
        "basis": "《信访工作条例》及学校有关规定",
        "redirect": "依法有权处理的机关、单位",
    },
    "en": {
        "tracking": "Tracking number: {n}",
        "corrects": "This document corrects and replaces {n} (reason: {r}).",
        "seal": "(Seal)",
        "zone": "Dates and times in this document are in the {z} time zone.",
        "supported": "supported",
        "explained": "explained",
        "not_supported": "not supported",
        "office": "the university's petition office",
        "basis": "the Regulation on Petition Work and the university's rules",
        "redirect": "the authority competent to handle it",
    },
}
_MONTHS = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
]


def label(lang: str, key: str) -> str:
    return _LABELS[lang][key]


def document_number(year: int, seq: int) -> str:
    return f"〔{year}〕第{seq:04d}号"


def format_day(day: dt.date, lang: str) -> str:
    if lang == "zh-CN":
        return f"{day.year}年{day.month}月{day.day}日"
    return f"{day.day} {_MONTHS[day.month - 1]} {day.year}"


def format_instant(at: dt.datetime, zone: ZoneInfo, lang: str) -> str:
    """The local date of an instant."""
    return format_day(at.astimezone(zone).date(), lang)


def format_deadline(due: dt.datetime, zone: ZoneInfo, lang: str) -> str:
    """A deadline of ``deadlines`` is the local midnight closing its last day: show that day, to its end."""
    last = (due.astimezone(zone) - dt.timedelta(microseconds=1)).date()
    return f"{format_day(last, lang)}24时" if lang == "zh-CN" else f"the end of {format_day(last, lang)}"


# --- placeholders -----------------------------------------------------------------------------------------------


def check(kind: str, title: str, body: str) -> list[dict[str, str]]:
    """Every problem of a template, each with the field it is in: unknown placeholders, formats, stray braces."""
    allowed = PLACEHOLDERS[kind]
    errors: list[dict[str, str]] = []
    for name, text, limit in (("title", title, TITLE_MAX), ("body", body, BODY_MAX)):
        if not text.strip():
            errors.append({"field": name, "message": "must not be empty"})
            continue
        if len(text) > limit:
            errors.append({"field": name, "message": f"at most {limit} characters"})
        try:
            parts = list(string.Formatter().parse(text))
        except ValueError as exc:
            errors.append({"field": name, "message": f"unbalanced braces ({exc}); write {{{{ or }}}} for a brace"})
            continue
        for _, field, spec, conversion in parts:
            if field is None:
                continue
            if field not in allowed:
                errors.append(
                    {"field": name, "message": f"unknown placeholder {{{field}}}; allowed: {', '.join(allowed)}"}
                )
            elif spec or conversion:
                errors.append({"field": name, "message": f"placeholder {{{field}}} takes no format or conversion"})
    return errors


def fill(text: str, values: dict[str, str]) -> str:
    """``text`` with its placeholders replaced (only plain names: no attribute, index or format is evaluated)."""
    out = []
    for literal, field, _, _ in string.Formatter().parse(text):
        out.append(literal)
        if field is not None:
            out.append(values[field])
    return "".join(out)


# --- layout -----------------------------------------------------------------------------------------------------


def compose(
    *,
    lang: str,
    title: str,
    body: str,
    values: dict[str, str],
    zone: str,
    replaces: tuple[str, str] | None = None,
) -> list[dict[str, Any]]:
    """The notice as stored: a list of ``{"h": text}`` (headings) and ``{"p": text}`` (paragraphs).

    ``replaces`` is the (document number, reason) of the notice a correction replaces.
    """
    out: list[dict[str, Any]] = [{"h": values["university"]}, {"h": fill(title, values)}]
    out.append({"p": values["document_number"]})
    out.append({"p": label(lang, "tracking").format(n=values["tracking_number"])})
    if replaces is not None:
        out.append({"p": label(lang, "corrects").format(n=replaces[0], r=replaces[1])})
    out += [{"p": fill(line, values).strip()} for line in body.splitlines() if line.strip()]
    out += [
        {"p": label(lang, "seal")},
        {"p": values["university"]},
        {"p": values["issued_on"]},
        {"p": label(lang, "zone").format(z=zone)},
    ]
    return out


def blocks(content: list[dict[str, Any]]) -> list[Block]:
    """The stored notice as the document blocks the plan document's renderers take."""
    return [Heading(0, b["h"]) if "h" in b else Para(b["p"]) for b in content]


SAMPLE: dict[str, dict[str, str]] = {
    "zh-CN": {
        "tracking_number": "XF-2026-000123",
        "document_number": document_number(2026, 1),
        "issued_on": "2026年11月18日",
        "received_on": "2026年11月10日",
        "subject": "（示例）宿舍热水供应不足",
        "accepted_on": "2026年11月18日",
        "handling_unit": "后勤管理处",
        "conclude_due": "2027年1月17日24时",
        "reason": "（示例）需要现场调查",
        "redirect_to": "依法有权处理的机关、单位",
        "transferred_on": "2026年11月18日",
        "to_unit": "教务处",
        "extension_days": "30",
        "previous_due": "2027年1月17日24时",
        "replied_on": "2026年11月18日",
        "outcome": "支持",
        "opinion": "（示例）已协调修复热水系统。",
        "basis": "《信访工作条例》第三十二条",
        "review_request_until": "2026年12月18日24时",
        "rereview_request_until": "2026年12月18日24时",
    },
    "en": {
        "tracking_number": "XF-2026-000123",
        "document_number": document_number(2026, 1),
        "issued_on": "18 November 2026",
        "received_on": "10 November 2026",
        "subject": "(sample) no hot water in the dormitory",
        "accepted_on": "18 November 2026",
        "handling_unit": "Logistics Office",
        "conclude_due": "the end of 17 January 2027",
        "reason": "(sample) an on-site investigation is needed",
        "redirect_to": "the authority competent to handle it",
        "transferred_on": "18 November 2026",
        "to_unit": "Academic Affairs Office",
        "extension_days": "30",
        "previous_due": "the end of 17 January 2027",
        "replied_on": "18 November 2026",
        "outcome": "supported",
        "opinion": "(sample) The hot water system was repaired.",
        "basis": "Article 32 of the Regulation on Petition Work",
        "review_request_until": "the end of 18 December 2026",
        "rereview_request_until": "the end of 18 December 2026",
    },
}
