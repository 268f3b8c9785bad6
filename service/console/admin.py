"""What the university administration's pages share: who may open them (the API's own guard for tenant admins,
after the console's sign-in guard), their sub-navigation, and a refusal of the domain in the page's language.

The pages call the services the JSON API calls (``tenants.org``, ``tenants.org_transfer``, ``tenants.identity``,
``service.petitions.services``, ``service.petitions.access_log``): the rules live there, once.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import msgspec

from service.console import i18n
from service.console.session import staff_only
from service.http.security import requires
from tenants.errors import DomainError, Invalid
from tenants.identity import Role

# The console's sign-in guard, then exactly the API's rule for these routes (``requires(Role.tenant_admin)``).
GUARDS = [staff_only, *requires(Role.tenant_admin)["guards"]]

# The sub-navigation of the administration pages: (path, word).
SECTIONS = (
    ("/console/admin/org", "admin.nav.org"),
    ("/console/admin/people", "admin.nav.people"),
    ("/console/admin/groups", "admin.nav.groups"),
    ("/console/admin/import", "admin.nav.import"),
    ("/console/admin/accounts", "admin.nav.accounts"),
    ("/console/admin/api-keys", "admin.nav.keys"),
    ("/console/admin/access-log", "admin.nav.access_log"),
    ("/console/admin/settings", "admin.nav.settings"),
    ("/console/admin/categories", "admin.nav.categories"),
    ("/console/admin/reply-templates", "admin.nav.templates"),
)


def _label(t: Any, field: str) -> str:
    key = f"admin.field.{field}"
    return t(key) if key in i18n.MESSAGES else field


def refusal(exc: DomainError, lang: str) -> list[str]:
    """Why the domain refused a form, in ``lang``: each invalid field as the form labels it (the service's own
    words on English pages; the password policy's reasons in Chinese too), a known conflict in words of its own
    (a cycle names the units along it), anything else as the service said it."""
    t = i18n.translator(lang)
    errors = exc.extra.get("errors") if isinstance(exc, Invalid) else None
    if errors:
        lines = []
        for e in errors:
            field = str(e.get("field") or "") if isinstance(e, Mapping) else ""
            message = str(e.get("message") or "") if isinstance(e, Mapping) else str(e)
            if lang == "en":
                lines.append(f"{_label(t, field)}: {message}")
            elif field == "password":
                lines.append(f"{_label(t, field)}：{i18n.password_problem(lang, message)}")
            else:
                lines.append(f"{_label(t, field)}：{t('admin.check_field')}")
        return lines
    if exc.code == "org-cycle":
        names = [i18n.label(lang, u) for u in exc.extra.get("cycle") or []]
        return [t("admin.refused.org-cycle", path=" → ".join(names))]
    key = f"admin.refused.{exc.code}"
    if key in i18n.MESSAGES:
        return [t(key)]
    return [i18n.refused(lang, exc)]


_FIELD_OF = re.compile(r"`\$\.([a-z_]+)`|required field `([a-z_]+)`")


def problems(exc: DomainError | msgspec.ValidationError, lang: str) -> list[str]:
    """A refused form's reasons in ``lang``: the domain's (``refusal``), or the field the API's body refused."""
    if isinstance(exc, DomainError):
        return refusal(exc, lang)
    t = i18n.translator(lang)
    found = _FIELD_OF.search(str(exc))
    field = (found.group(1) or found.group(2)) if found else ""
    if lang == "en":
        return [f"{_label(t, field)}: {exc}" if field else str(exc)]
    return [f"{_label(t, field)}：{t('admin.check_field')}" if field else t("admin.check_form")]


def import_reason(lang: str, error: Mapping[str, Any]) -> str:
    """One bad cell of an import in ``lang``: the reason code's words with its values (the service's English
    message for a reason the console has no words for)."""
    key = f"admin.import.reason.{error.get('reason')}"
    if key not in i18n.MESSAGES:
        return str(error.get("message") or "")
    values = {k: str(v) for k, v in (error.get("values") or {}).items()}
    return i18n.translator(lang)(key, **values)
