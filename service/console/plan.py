"""The tenant admin's emergency plan pages: the versions, two versions side by side with what changed, a draft
edited section by section with the publication checks in place, publishing (refused with every reason listed),
the readiness check and the plan document.

Every form calls what the API calls (``tenants.plans.services`` through the same functions as
``service.plans.controllers``); the pages are the API's admin routes, guarded by the same role rule.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Mapping
from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, FromQuery, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import i18n, pages
from service.console.session import staff_only
from service.http.deps import Caller, Session
from service.plans import controllers as api
from tenants import org
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid, NotFound
from tenants.plans import checks, services
from tenants.plans.content import SECTIONS
from tenants.plans.models import PlanStatus, PlanVersion
from tenants.tenancy import tenant_zone

FORMATS = ("pdf", "docx")
LANGS = ("zh-CN", "en")


# The publication checks' messages (``tenants.plans.checks``) as the Chinese pages say them: each pattern's named
# parts fill the words ``plan.check.<name>``. A message without a pattern shows as the service wrote it.
_Q = r"'(?P<name>[^']*)'"
CHECK_MESSAGES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(f"^{pattern}$"), name)
    for pattern, name in (
        ("the Simplified Chinese text is missing", "zh_missing"),
        ("the English text is missing", "en_missing"),
        ("list at least one goal", "no_goal"),
        ("list at least one kind of event the plan applies to", "no_scope"),
        ("list at least one risk category", "no_risk"),
        (f"risk category {_Q} is listed more than once", "risk_twice"),
        ("list at least one severity level", "no_level"),
        ("levels must be listed from the most severe, ranked 1, 2, 3, ... without gaps or repeats", "ranks"),
        (f"level code {_Q} is used more than once", "level_twice"),
        (r"a level needs a code \(I, II, \.\.\.\)", "level_code"),
        (r"rules nest at most (?P<n>\d+) levels deep", "too_deep"),
        (r"an '(?P<name>all|any)' rule needs at least one condition", "empty_rule"),
        (r"threshold (?P<n>-?\d+) is negative", "negative_threshold"),
        (r"duration (?P<n>-?\d+) is negative", "negative_duration"),
        ("a category condition needs at least one category", "no_category"),
        (f"unknown risk category {_Q}", "unknown_risk"),
        ("no responsible group", "no_group"),
        (f"unknown group {_Q}", "unknown_group"),
        (f"group {_Q} has no leader", "no_leader"),
        ("the seven steps must be listed once each, in order: .*", "seven_steps"),
        (f"step {_Q} has no time target", "no_target"),
        (r"time target (?P<n>-?\d+) must be positive", "target_positive"),
        (r"cadence (?P<n>-?\d+) must be positive", "cadence_positive"),
        (f"measure {_Q} is listed more than once", "measure_twice"),
        (f"item code {_Q} is listed more than once", "item_twice"),
        (r"minimum (?P<n>-?\d+) is negative", "negative_minimum"),
        (r"weight (?P<n>\S+) must be between 0 and 1", "weight_range"),
        (r"weights sum to (?P<n>\S+), not 1", "weights_sum"),
        ("list at least one evaluation dimension", "no_dimension"),
        (f"dimension {_Q} is listed more than once", "dimension_twice"),
        (f"criterion {_Q} is listed more than once", "criterion_twice"),
        ("the training interval must be a positive number of days", "training_days"),
        ("the drill interval must be a positive number of days", "drill_days"),
        ("name at least one group whose members are trained", "no_training_group"),
    )
)


def check_message(message: str, t: Callable[..., str], lang: str) -> str:
    """A publication check's message in the page's language (English as the service wrote it)."""
    if lang == "en":
        return message
    for pattern, name in CHECK_MESSAGES:
        found = pattern.match(message)
        if found:
            return t(f"plan.check.{name}", **found.groupdict())
    return message


# Sections with a form of fields beside the JSON editor (the ones edited most: cadences and material minimums).
FIELD_FORMS = ("training", "materials")


def section_from_fields(section: str, form: Mapping[str, Any], current: Any) -> Any:
    """A section's value from its form of fields, over the section's current value (what the form does not show
    is kept). A number that is not one is passed on as typed, for the plan schema to refuse."""

    def number(name: str, default: Any) -> Any:
        raw = str(form.get(name) or "").strip()
        try:
            return int(raw)
        except ValueError:
            return raw or default

    if section == "training":
        getall = getattr(form, "getall", None)
        groups = [str(g) for g in (getall("training_groups", []) if getall else form.get("training_groups") or [])]
        return {
            **current,
            "training_every_days": number("training_every_days", current.get("training_every_days")),
            "drill_every_days": number("drill_every_days", current.get("drill_every_days")),
            "training_groups": groups,
            "notes": {"zh": str(form.get("notes_zh") or "").strip(), "en": str(form.get("notes_en") or "").strip()},
        }
    if section == "materials":
        return [{**line, "minimum": number(f"minimum_{i}", line.get("minimum"))} for i, line in enumerate(current)]
    raise ValueError(f"no form of fields for section {section!r}")


def section_of(field: str) -> str:
    """The top-level section a problem's field path belongs to (``steps[4].responsible_group`` → ``steps``)."""
    head = field.split(".", 1)[0].split("[", 1)[0]
    return head if head in SECTIONS else ""


def problems_by_section(problems: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
    """Problems grouped by the section they concern, so each shows beside its section's form."""
    out: dict[str, list[dict[str, str]]] = {}
    for p in problems:
        out.setdefault(section_of(str(p.get("field") or "")), []).append(p)
    return out


def section_json(version: PlanVersion, section: str) -> str:
    """A section's content as the editor shows it: indented JSON, Chinese as itself."""
    return json.dumps(version.content.get(section), ensure_ascii=False, indent=2)


def show_value(value: Any) -> str:
    """A changed value as the diff shows it (texts as themselves, structures as compact JSON)."""
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


class PlanPageController(Controller):
    path = "/console/admin/plan"
    guards = [staff_only, *api.ADMIN["guards"]]
    include_in_schema = False

    @get("/")
    async def versions(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _versions_page(request, db_session)

    @post("/versions")
    async def new_draft(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        try:
            async with db_session.begin_nested():
                draft = await services.create_draft(db_session, actor_id=principal.subject_id)
        except Conflict as exc:
            return await _versions_page(
                request, db_session, status_code=409, refused=i18n.refused(pages.lang_of(request), exc)
            )
        return pages.redirect(f"/console/admin/plan/versions/{draft.id}")

    @get("/versions/{version_id:uuid}")
    async def version(
        self, request: Request[Any, Any, Any], version_id: FromPath[uuid.UUID], db_session: Session
    ) -> Template:
        return await _version_page(request, db_session, version_id)

    @post("/versions/{version_id:uuid}/sections/{section:str}")
    async def save_section(
        self,
        request: Request[Any, Any, Any],
        version_id: FromPath[uuid.UUID],
        section: FromPath[str],
        db_session: Session,
        principal: Caller,
    ) -> Template | Redirect:
        form = await request.form()
        raw = str(form.get("value") or "")
        try:
            revision = int(str(form.get("revision") or ""))
        except ValueError:
            revision = None
        try:
            if form.get("editor") == "fields" and section in FIELD_FORMS:
                current = (await services.get_version(db_session, version_id)).content.get(section)
                value = section_from_fields(section, form, current)
                raw = json.dumps(value, ensure_ascii=False, indent=2)
            else:
                value = json.loads(raw)
        except json.JSONDecodeError as exc:
            return await _version_page(
                request,
                db_session,
                version_id,
                status_code=422,
                edited={section: raw},
                refused_in={section: [{"field": section, "message": f"JSON: {exc.msg} (line {exc.lineno})"}]},
            )
        try:
            async with db_session.begin_nested():
                await services.update_section(
                    db_session, version_id, section, value=value, revision=revision, actor_id=principal.subject_id
                )
        except Invalid as exc:
            return await _version_page(
                request,
                db_session,
                version_id,
                status_code=422,
                edited={section: raw},
                refused_in={section: list(exc.extra.get("errors") or [{"field": section, "message": exc.detail}])},
            )
        except Conflict as exc:
            return await _version_page(
                request,
                db_session,
                version_id,
                status_code=409,
                edited={section: raw},
                refused_in={section: [{"field": section, "message": i18n.refused(pages.lang_of(request), exc)}]},
            )
        return pages.redirect(f"/console/admin/plan/versions/{version_id}?saved={section}#section-{section}")

    @post("/versions/{version_id:uuid}/publish")
    async def publish(
        self, request: Request[Any, Any, Any], version_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        try:
            async with db_session.begin_nested():
                await services.publish(db_session, version_id, actor_id=principal.subject_id)
        except Invalid as exc:
            return await _version_page(
                request, db_session, version_id, status_code=422, refused=list(exc.extra.get("errors") or [])
            )
        except Conflict as exc:
            return await _version_page(
                request,
                db_session,
                version_id,
                status_code=409,
                refused=[{"field": "", "message": i18n.refused(pages.lang_of(request), exc)}],
            )
        return pages.redirect(f"/console/admin/plan/versions/{version_id}?published=1")

    @get("/diff")
    async def diff(
        self,
        request: Request[Any, Any, Any],
        db_session: Session,
        from_id: Annotated[uuid.UUID, QueryParameter(name="from")],
        to_id: Annotated[uuid.UUID, QueryParameter(name="to")],
    ) -> Template:
        old, new, sections = await services.diff_versions(db_session, from_id, to_id)
        return pages.page(
            request,
            "plan_diff.html",
            zone=await tenant_zone(db_session),
            old=old,
            new=new,
            sections=[(name, sections[name]) for name in SECTIONS if name in sections],
            show=show_value,
        )

    @get("/readiness")
    async def readiness(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        zone = await tenant_zone(db_session)
        today = utcnow().astimezone(zone).date()
        try:
            version, report = await services.check_readiness(db_session, as_of=today, within_days=30)
            compliance = await services.training_compliance(db_session, as_of=today)
        except NotFound:
            return pages.page(request, "plan_readiness.html", zone=zone, version=None)
        people = await services.people_named(db_session, [p.person_id for p in compliance.people])
        overdue = [p for p in compliance.people if p.overdue]
        rosters = await org.group_roster(db_session)
        ordered = [rosters[k] for k in services.in_plan_order(rosters, services.content_of(version))]
        return pages.page(
            request,
            "plan_readiness.html",
            zone=zone,
            version=version,
            report=report,
            compliance=compliance,
            overdue=[(p, people.get(p.person_id)) for p in overdue],
            leaderless=[g for g in ordered if g.leader_person_id is None],
            group_names={g.key: g.name_en if pages.lang_of(request) == "en" else g.name_zh for g in ordered},
        )

    @get("/document")
    async def document(
        self,
        db_session: Session,
        principal: Caller,
        format: FromQuery[Literal["pdf", "docx"]] = "pdf",
        lang: FromQuery[Literal["zh-CN", "en"]] = "zh-CN",
        version_id: FromQuery[uuid.UUID | None] = None,
    ) -> Response[bytes]:
        answer = await api.plan_document(db_session, principal, format=format, lang=lang, version_id=version_id)
        answer.headers.update({k: v for k, v in pages.SECURITY_HEADERS.items() if k != "Content-Security-Policy"})
        return answer


async def _versions_page(
    request: Request[Any, Any, Any], session: AsyncSession, *, status_code: int = 200, refused: str | None = None
) -> Template:
    versions = await services.list_versions(session)
    return pages.page(
        request,
        "plan_versions.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        versions=versions,
        has_draft=any(v.status == PlanStatus.draft for v in versions),
        refused=refused,
        formats=FORMATS,
        langs=LANGS,
    )


async def _version_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    version_id: uuid.UUID,
    *,
    status_code: int = 200,
    edited: dict[str, str] | None = None,
    refused_in: dict[str, list[dict[str, Any]]] | None = None,
    refused: list[dict[str, str]] | None = None,
) -> Template:
    version = await services.get_version(session, version_id)
    draft = version.status == PlanStatus.draft
    rosters = await org.group_roster(session)
    lang = pages.lang_of(request)
    # A draft shows what would stop its publication beside each section, before anyone tries.
    problems: list[checks.Problem] = await services.publication_problems(session, version) if draft else []
    return pages.page(
        request,
        "plan_version.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        version=version,
        draft=draft,
        sections=SECTIONS,
        text={s: (edited or {}).get(s) or section_json(version, s) for s in SECTIONS},
        problems=problems_by_section(problems),
        refused_in=refused_in or {},
        refused=refused,
        section_of=section_of,
        field_forms=FIELD_FORMS,
        groups=[
            (k, rosters[k].name_en if lang == "en" else rosters[k].name_zh)
            for k in services.in_plan_order(rosters, services.content_of(version))
        ],
        saved=request.query_params.get("saved"),
        check=lambda message: check_message(message, i18n.translator(pages.lang_of(request)), pages.lang_of(request)),
        published=request.query_params.get("published"),
        formats=FORMATS,
        langs=LANGS,
    )
