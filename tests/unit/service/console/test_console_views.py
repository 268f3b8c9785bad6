"""The console's pure parts: urgency of a deadline, the forms a page offers, the catalogue of words."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from service.console import i18n, views
from service.petitions.workflow import TRANSITIONS, State

NOW = datetime(2026, 11, 18, 2, 0, tzinfo=UTC)
TEMPLATES = Path(i18n.__file__).parent / "templates"


@pytest.mark.parametrize(
    ("due", "expected"),
    [
        (None, None),
        (NOW - timedelta(seconds=1), "overdue"),
        (NOW, "overdue"),
        (NOW + timedelta(hours=1), "soon"),
        (NOW + timedelta(days=3), "soon"),
        (NOW + timedelta(days=3, seconds=1), "ok"),
    ],
)
def test_urgency(due, expected):
    assert views.urgency(due, NOW) == expected


def test_staff_forms_are_the_workflow_tables_staff_actions_and_none_out_of_handling():
    for state in State:
        offered = views.staff_actions(state, handled=True)
        table = {a.value for (s, a) in TRANSITIONS if s == state} - {"rate", "request_review", "request_rereview"}
        assert set(offered) == table
        assert views.staff_actions(state, handled=False) == []


def test_form_values_trim_and_drop_empty_fields():
    assert views.form_values({"a": " x ", "b": "", "c": "  ", "d": "y"}, ("a", "b", "c")) == {"a": "x"}


def test_page_url_keeps_the_filters():
    assert views.page_url("/q", {"state": "received", "q": ""}, cursor="abc") == "/q?state=received&cursor=abc"
    assert views.page_url("/q", {"q": ""}) == "/q"


def test_the_language_is_the_query_then_the_cookie_then_chinese():
    assert i18n.choose(None, None) == "zh-CN"
    assert i18n.choose("en", None) == "en"
    assert i18n.choose(None, "en") == "en"
    assert i18n.choose("zh-CN", "en") == "zh-CN"
    assert i18n.choose("fr", "xx") == "zh-CN"


def test_every_word_exists_in_both_languages():
    for key, (zh, en) in i18n.MESSAGES.items():
        assert zh.strip() and en.strip(), key


def test_every_key_the_templates_use_is_in_the_catalogue():
    used = set()
    for template in TEMPLATES.glob("*.html"):
        used |= set(re.findall(r'\bt\(\s*"([a-z_.0-9-]*[a-z0-9])"(?!\s*~)', template.read_text()))
    missing = used - set(i18n.MESSAGES)
    assert not missing, missing


def test_every_value_the_templates_compose_a_key_for_is_in_the_catalogue():
    from service.console.staff import REVEAL_REASONS
    from service.petitions.models import CHANNELS, KINDS, OUTCOMES, RATINGS
    from service.petitions.workflow import Action

    for prefix, values in (
        ("state", [s.value for s in State]),
        ("action", [a.value for a in Action]),
        ("kind", KINDS),
        ("channel", CHANNELS),
        ("outcome", OUTCOMES),
        ("rating", RATINGS),
        ("urgency", ("ok", "soon", "overdue")),
        ("reveal", REVEAL_REASONS),
    ):
        for value in values:
            assert f"{prefix}.{value}" in i18n.MESSAGES, (prefix, value)


def test_the_password_policys_reasons_read_in_chinese():
    from tenants.identity import password_problems

    reasons = password_problems("password", email="wang@x.edu.cn", current="password")
    assert reasons
    for reason in reasons:
        assert i18n.password_problem("zh-CN", reason) != reason, reason
        assert i18n.password_problem("en", reason) == reason
    assert i18n.password_problem("zh-CN", "at least 12 characters") == "至少 12 个字符"
