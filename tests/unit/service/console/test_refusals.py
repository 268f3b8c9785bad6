"""A service's refusal on a console page is in the page's language: every problem code the services raise has
Chinese words (``service/console/words/problems.py``), except the API's own (credentials, request shape), which
no console form can meet; English pages keep the service's more specific message."""

from __future__ import annotations

import re
from pathlib import Path

from service.console import i18n
from tenants.errors import Conflict, Invalid

ROOT = Path(__file__).resolve().parents[4]
# Raised only before a console page's handler runs, or on the JSON API alone.
API_ONLY = {
    "ambiguous-credentials", "bad-credentials", "foreign-credentials", "invalid-token", "token-expired",
    "token-revoked", "scheme-not-accepted", "password-change-required", "sign-in-throttled", "malformed-body",
    "invalid-request", "idempotency-in-progress", "idempotency-key-reused", "forbidden", "lookup-failed",
    "org-university-exists", "org-unit-not-found", "person-not-found", "post-not-found", "group-not-found",
    "group-member-not-found", "material-not-found", "delivery-pending", "notice-template-invalid", "incident-opened",
    "done",
}  # fmt: skip


def _raised_codes() -> set[str]:
    codes: set[str] = set()
    for folder in ("service", "tenants", "analytics"):
        for path in (ROOT / folder).rglob("*.py"):
            codes |= set(re.findall(r'\bcode="([a-z][a-z0-9-]+)"', path.read_text()))
    return {c for c in codes if not c.isdigit()}


def test_every_problem_code_a_page_can_meet_has_words_in_both_languages():
    missing = sorted(c for c in _raised_codes() - API_ONLY if f"problem.{c}" not in i18n.MESSAGES)
    assert not missing, missing
    for key, (zh, en) in i18n.MESSAGES.items():
        if key.startswith("problem."):
            assert zh and en and re.search(r"[\u4e00-\u9fff]", zh), key


def test_a_refusal_is_in_the_page_s_language():
    exc = Conflict("only 3 boxes in stock", code="material-shortfall")
    assert i18n.refused("zh-CN", exc) == "库存不足。"
    assert i18n.refused("en", exc) == "only 3 boxes in stock"
    unknown = Invalid("something new went wrong", code="brand-new-code")
    assert i18n.refused("zh-CN", unknown) == "操作被拒绝（something new went wrong）"
