"""Pure helpers of the console's pages (no I/O): how urgent a deadline is, which forms a petition's page
offers, turning a submitted form into the API's input."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from service.petitions.workflow import PETITIONER_ACTIONS, allowed_actions

SOON = timedelta(days=3)
# Why the office escalates a group petition to an incident (art. 25: major or urgent matters, at once).
ESCALATION_REASONS = ("group_visit", "major_or_urgent", "safety_risk")


def urgency(due: datetime | None, now: datetime) -> str | None:
    """``overdue`` once the deadline has passed, ``soon`` within 3 days of it, ``ok`` before; None without one."""
    if due is None:
        return None
    if due <= now:
        return "overdue"
    if due - now <= SOON:
        return "soon"
    return "ok"


def staff_actions(state: str, *, handled: bool) -> list[str]:
    """The forms a petition's page offers a member of staff: the workflow table's actions for the state, without
    the petitioner's own, and none unless the caller handles the petition (``scope.handles``)."""
    if not handled:
        return []
    return [a for a in allowed_actions(state) if a not in PETITIONER_ACTIONS]


# A domain error's field (its place in the API's body) as the console's form labels it.
FIELD_LABELS = {
    "petitioner.name": "field.name",
    "petitioner.phone": "field.phone",
    "petitioner.number": "field.number",
    "participants": "field.participants",
    "representatives": "field.participants",
    "category": "field.category",
    "kind": "field.kind",
    "subject": "field.subject",
    "content": "field.content",
    "channel": "field.channel",
    "anonymous": "field.anonymous",
    "location_text": "field.location",
    "lat": "field.place",
}


def problem_lines(errors: list[Any], t: Any, lang: str) -> list[str]:
    """A domain error's fields as the page names them, in the page's language: the form's label for each (the
    field itself where the form has none), with the service's own words on English pages."""
    lines = []
    for e in errors:
        field = str(e.get("field") or "") if isinstance(e, Mapping) else ""
        label = t(FIELD_LABELS[field]) if field in FIELD_LABELS else field
        detail = str(e.get("message") or "") if isinstance(e, Mapping) else str(e)
        lines.append(f"{label}: {detail}" if lang == "en" else f"{label}：{t('petition.check_field')}")
    return lines


def form_values(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, Any]:
    """The named fields of a form, trimmed; empty ones left out (an optional field not filled in)."""
    out: dict[str, Any] = {}
    for name in names:
        value = form.get(name)
        if isinstance(value, str):
            value = value.strip()
            if value:
                out[name] = value
    return out


def page_url(path: str, params: Mapping[str, str | None], **changes: str | None) -> str:
    """``path`` with the query ``params`` (empty ones dropped) updated by ``changes``."""
    merged = {k: v for k, v in {**params, **changes}.items() if v}
    return f"{path}?{urlencode(merged)}" if merged else path
