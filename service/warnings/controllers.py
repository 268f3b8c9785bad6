"""Early warnings' API: list and read (university staff); dismiss with a reason, or open an incident from a
warning (the handling group or an admin).

Warnings are raised by the scheduled scan (``analytics.warnings.services``), never through the API. Opening an incident
crosses into the incidents domain (``open_incident``): the incident is reported through
``service.incidents.services.report_incident`` with the warning's id, pre-filled from its evidence, and the
warning moves to ``incident_opened`` with the incident's id, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, JSONBody, QueryParameter
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.warnings import services as warning_scan
from analytics.warnings.services import EarlyWarning, WarningState
from service.http.deps import Caller, Input, Session
from service.http.idempotency import IdempotencyKey, idempotent
from service.http.security import requires
from service.incidents import schemas as incident_schemas
from service.incidents import services as incidents
from service.incidents.models import Incident
from service.petitions.models import Category
from tenants.clock import utcnow
from tenants.identity import Principal, Role
from tenants.org import OrgUnit

READ = requires(Role.staff, Role.petition_officer, Role.tenant_admin)
KIND_LABELS = {"category": ("类别", "category"), "org_unit": ("部门", "unit"), "place": ("地点", "place")}


class Summary(msgspec.Struct):
    zh: str
    en: str


class RelatedKeyOut(msgspec.Struct):
    """Another key of the same surge: mostly the same petitions, seen from another side."""

    key_kind: str
    key: str
    name: Summary
    window_count: int
    baseline: float
    score: float


Names = dict[tuple[str, str], tuple[str, str]]


def describe(w: EarlyWarning, names: Names) -> Summary:
    """The warning's evidence in a sentence per language: its leading key, then the other keys of the same
    petitions (``names``: how each (kind, key) is named, zh and en; the key itself when absent)."""
    hours = round((w.window_end - w.window_start) / dt.timedelta(hours=1))
    zh_kind, en_kind = KIND_LABELS[w.key_kind]
    name_zh, name_en = names.get((w.key_kind, w.key), (w.key, w.key))
    zh = (
        f"过去{hours}小时内{zh_kind}“{name_zh}”收到{w.window_count}件信访，"
        f"平时每{hours}小时约{w.baseline:.1f}件（异常分值{w.score:.1f}）。"
    )
    en = (
        f"{w.window_count} petitions on {en_kind} '{name_en}' in {hours} h, against about {w.baseline:.1f} "
        f"usually (score {w.score:.1f})."
    )
    if w.related:
        zh_parts, en_parts = [], []
        for r in w.related:
            rz, re_ = names.get((r["key_kind"], r["key"]), (r["key"], r["key"]))
            kz, ke = KIND_LABELS[r["key_kind"]]
            zh_parts.append(f"{kz}“{rz}”{r['window_count']}件")
            en_parts.append(f"{ke} '{re_}' ({r['window_count']})")
        zh += f"同一批信访还集中于：{'，'.join(zh_parts)}。"
        en += f" The same petitions also concentrate on {', '.join(en_parts)}."
    return Summary(zh=zh, en=en)


class WarningOut(msgspec.Struct):
    id: uuid.UUID
    key_kind: str
    key: str
    org_unit_id: uuid.UUID | None
    raised_at: dt.datetime
    window_start: dt.datetime
    window_end: dt.datetime
    window_count: int
    baseline: float
    score: float
    peak_count: int
    last_seen_at: dt.datetime
    state: str
    dismissed_at: dt.datetime | None
    dismissed_by: uuid.UUID | None
    dismiss_reason: str | None
    incident_id: uuid.UUID | None
    summary: Summary
    name: Summary
    related: list[RelatedKeyOut]

    @classmethod
    def of(cls, w: EarlyWarning, names: Names | None = None) -> WarningOut:
        """The warning as JSON; ``names`` name its keys as people do (default: the keys themselves)."""
        names = names or {}

        def name(kind: str, key: str) -> Summary:
            zh, en = names.get((kind, key), (key, key))
            return Summary(zh=zh, en=en)

        related = [
            RelatedKeyOut(r["key_kind"], r["key"], name(r["key_kind"], r["key"]), r["window_count"], r["baseline"],
                          r["score"])
            for r in w.related
        ]  # fmt: skip
        return cls(
            w.id, w.key_kind, w.key, w.org_unit_id, w.raised_at, w.window_start, w.window_end, w.window_count,
            w.baseline, w.score, w.peak_count, w.last_seen_at, w.state, w.dismissed_at, w.dismissed_by,
            w.dismiss_reason, w.incident_id, describe(w, names), name(w.key_kind, w.key), related,
        )  # fmt: skip


async def named(session: AsyncSession, w: EarlyWarning) -> WarningOut:
    """The warning as JSON with its unit or category named as people name it."""
    return WarningOut.of(w, await _key_names(session, w))


class DismissIn(Input):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class OpenIncidentIn(Input):
    """What the handling group knows beyond the warning; every field left out is pre-filled from the evidence
    (title, facts, and the place of a place key; ``people_count`` defaults to the warning's peak count)."""

    title: incident_schemas.Title | None = None
    facts: incident_schemas.Long | None = None
    people_count: incident_schemas.Count | None = None
    place: incident_schemas.Title | None = None
    impact: incident_schemas.Long | None = None
    people_groups: Annotated[list[incident_schemas.PeopleGroupIn], msgspec.Meta(max_length=50)] = []
    risk_categories: Annotated[list[incident_schemas.Code], msgspec.Meta(max_length=20)] = []


async def _key_names(session: AsyncSession, w: EarlyWarning) -> Names:
    """Each key of the warning as people name it: the category's or unit's names, or the grid cell."""
    keys = warning_scan.warning_keys(w)
    codes = [k for kind, k in keys if kind == "category"]
    units = [uuid.UUID(k) for kind, k in keys if kind == "org_unit"]
    names: Names = {
        ("place", k): (f"{k}（约500米网格）", f"{k} (grid cell of about 500 m)") for kind, k in keys if kind == "place"
    }
    if codes:
        for code, zh, en in await session.execute(
            select(Category.code, Category.name_zh, Category.name_en).where(Category.code.in_(codes))
        ):
            names[("category", code)] = (zh, en)
    if units:
        for unit_id, zh, en in await session.execute(
            select(OrgUnit.id, OrgUnit.name_zh, OrgUnit.name_en).where(OrgUnit.id.in_(units))
        ):
            names[("org_unit", str(unit_id))] = (zh, en)
    return names


async def prefilled(session: AsyncSession, warning: EarlyWarning) -> OpenIncidentIn:
    """What an incident opened from ``warning`` says unless told otherwise: the title (its leading key), the facts
    (the evidence in both languages), the peak count as the people involved, and the place of a place key."""
    names = await _key_names(session, warning)
    name_zh, name_en = names.get((warning.key_kind, warning.key), (warning.key, warning.key))
    zh_kind, en_kind = KIND_LABELS[warning.key_kind]
    title = f"信访激增预警：{zh_kind}“{name_zh}” / Petition surge: {en_kind} {name_en}"
    summary = describe(warning, names)
    return OpenIncidentIn(
        title=title[:200],
        facts=f"{summary.zh}\n{summary.en}",
        people_count=warning.peak_count,
        place=next(
            (" / ".join(names[k])[:200] for k in warning_scan.warning_keys(warning) if k[0] == "place" and k in names),
            None,
        ),
    )


async def open_incident(
    session: AsyncSession, warning_id: uuid.UUID, *, principal: Principal, data: OpenIncidentIn
) -> Incident:
    """Report an incident from an open warning (the handling group or an admin) and link the two both ways.

    403 outside the group, 404 for an unknown warning (another university's included), 409 when it was dismissed
    or already opened its incident; a retry with the same Idempotency-Key gets the first answer back.
    """
    warning = await warning_scan.lock_for_incident(session, warning_id, principal=principal)
    pre = await prefilled(session, warning)
    report = incidents.IncidentReport(
        title=data.title or pre.title or "",
        facts=data.facts or pre.facts or "",
        people_count=data.people_count if data.people_count is not None else (pre.people_count or 0),
        place=data.place or pre.place,
        impact=data.impact,
        people_groups=[incidents.PeopleGroup(g.kind, g.count, g.org_unit_id) for g in data.people_groups],
        risk_categories=data.risk_categories,
    )
    # The petitions of the surge are linked to the incident (both ways, by the incidents domain).
    petition_ids = await warning_scan.surge_petitions(session, warning)
    incident = await incidents.report_incident(
        session, principal.subject_id, report, petition_ids=petition_ids, warning_id=warning.id
    )
    await warning_scan.incident_opened(session, warning, incident.id, actor_id=principal.subject_id)
    return incident


class WarningController(Controller):
    path = "/api/v1/warnings"
    tags = ["warnings"]

    @get("/", summary="Early warnings, newest first", **READ)
    async def list_warnings(
        self,
        db_session: Session,
        warning_state: Annotated[WarningState | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[dt.datetime | None, QueryParameter(description="raised before (paging)")] = None,
    ) -> list[WarningOut]:
        rows = await warning_scan.list_warnings(db_session, state=warning_state, limit=limit, before=before)
        return [await named(db_session, w) for w in rows]

    @get("/{warning_id:uuid}", summary="One warning with its evidence", **READ)
    async def show(self, warning_id: FromPath[uuid.UUID], db_session: Session) -> WarningOut:
        return await named(db_session, await warning_scan.get_warning(db_session, warning_id))

    @post("/{warning_id:uuid}/dismiss", summary="Dismiss a warning (handling group or admin)", status_code=200, **READ)
    async def dismiss(
        self, warning_id: FromPath[uuid.UUID], data: JSONBody[DismissIn], db_session: Session, principal: Caller
    ) -> WarningOut:
        warning = await warning_scan.dismiss(db_session, warning_id, principal=principal, reason=data.reason)
        return await named(db_session, warning)

    @post(
        "/{warning_id:uuid}/incident",
        summary="Open an incident from a warning (handling group or admin; Idempotency-Key)",
        description="Body fields are optional: what is left out is pre-filled from the warning's evidence.",
        responses={
            201: ResponseSpec(
                data_container=incident_schemas.IncidentOut, description="The incident opened", generate_examples=False
            )
        },
        **READ,
    )
    async def open_incident(
        self,
        warning_id: FromPath[uuid.UUID],
        db_session: Session,
        principal: Caller,
        request: Request[Any, Any, Any],
        data: JSONBody[OpenIncidentIn | None] = None,
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        body = data or OpenIncidentIn()

        async def work() -> incident_schemas.IncidentOut:
            incident = await open_incident(db_session, warning_id, principal=principal, data=body)
            return incident_schemas.IncidentOut.of(await incidents.detail(db_session, incident.id), utcnow())

        return await idempotent(db_session, principal, idempotency_key, request, body, work)
