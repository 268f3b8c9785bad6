"""The notice templates and layout, without I/O: every default is valid, placeholders are checked with their field,
filling evaluates nothing but plain names, deadlines print as their last local day."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from service.petitions import deadlines
from service.petitions.notices import templates as t

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("lang", t.LANGS)
@pytest.mark.parametrize("kind", t.KINDS)
def test_every_default_template_is_valid_and_fills_from_the_sample(kind, lang):
    title, body = t.DEFAULTS[lang][kind]
    assert t.check(kind, title, body) == []
    content = t.compose(
        lang=lang, title=title, body=body, values={**t.SAMPLE[lang], "university": "U"}, zone="Asia/Shanghai"
    )
    texts = [b.get("h") or b.get("p") for b in content]
    assert texts[0] == "U" and t.SAMPLE[lang]["document_number"] in texts
    assert t.label(lang, "seal") in texts and not any("{" in x for x in texts)


def test_unknown_placeholders_formats_and_braces_are_refused_with_their_field():
    errors = t.check("acceptance", "{subject} {opinion}", "{conclude_due!r} {university.name} {x[0]} {tracking_number}")
    assert [e["field"] for e in errors] == ["title", "body", "body", "body"]
    assert "{opinion}" in errors[0]["message"] and "conclude_due" in errors[0]["message"]  # lists what is allowed
    assert "format" in errors[1]["message"]
    empty, brace = t.check("reply", "", "{")
    assert empty == {"field": "title", "message": "must not be empty"}
    assert brace["field"] == "body" and "brace" in brace["message"]
    assert t.check("reply", "答复", "a" * (t.BODY_MAX + 1))[0]["message"].startswith("at most")


def test_fill_substitutes_plain_names_and_keeps_doubled_braces():
    assert t.fill("{{字}}{a}，{b}", {"a": "{b}", "b": "二"}) == "{字}{b}，二"


def test_a_deadline_prints_as_its_last_local_day_in_both_languages():
    received = dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC)  # 23:59 in Shanghai
    due = deadlines.accept_due(received, SHANGHAI)
    assert t.format_deadline(due, SHANGHAI, "zh-CN") == "2027年1月15日24时"
    assert t.format_deadline(due, SHANGHAI, "en") == "the end of 15 January 2027"
    assert t.format_instant(received, SHANGHAI, "zh-CN") == "2026年12月31日"
    assert t.format_instant(received, ZoneInfo("UTC"), "en") == "31 December 2026"
    assert t.document_number(2027, 12) == "〔2027〕第0012号"


def test_every_issuing_action_has_a_kind_with_placeholders():
    assert sorted(t.KIND_OF_ACTION.values()) == sorted(t.KINDS)
    assert all(set(t.COMMON) <= set(t.PLACEHOLDERS[k]) for k in t.KINDS)
    assert set().union(*t.PLACEHOLDERS.values()) >= t.CORRECTABLE
