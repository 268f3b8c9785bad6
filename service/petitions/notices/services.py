"""Notice business rules: templates (read, edit, preview), issuing with a workflow action, corrections, reading.

Issuing runs in the caller's transaction: the document number, the notice and its journal event commit with the
action or not at all. What is stored is the composed document (per language); PDF and DOCX are rendered from it
on download, so a stored notice never changes when its template does.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.petitions import deadlines
from service.petitions.models import Category, Petition
from service.petitions.notices import templates as t
from service.petitions.notices.models import Notice, NoticeTemplate
from service.petitions.workflow import Action
from tenants import journal
from tenants.clock import utcnow
from tenants.db import require_tenant
from tenants.errors import Conflict, Invalid, NotFound
from tenants.ids import new_id
from tenants.org import OrgUnit
from tenants.plans.document import render_docx, render_pdf
from tenants.tenancy import Tenant

FORMATS = ("pdf", "docx")


def _known(kind: str, lang: str) -> None:
    errors = []
    if kind not in t.KINDS:
        errors.append({"field": "kind", "message": f"one of {list(t.KINDS)}"})
    if lang not in t.LANGS:
        errors.append({"field": "lang", "message": f"one of {list(t.LANGS)}"})
    if errors:
        raise NotFound(f"no notice template {kind!r} in {lang!r}", errors=errors)


# --- templates ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    kind: str
    lang: str
    title: str
    body: str
    customized: bool
    placeholders: tuple[str, ...]
    updated_at: datetime | None = None


async def get_template(session: AsyncSession, kind: str, lang: str) -> Template:
    """The university's template of ``kind`` in ``lang``, or the packaged default."""
    _known(kind, lang)
    row = await session.scalar(select(NoticeTemplate).where(NoticeTemplate.kind == kind, NoticeTemplate.lang == lang))
    if row is None:
        title, body = t.DEFAULTS[lang][kind]
        return Template(kind, lang, title, body, False, t.PLACEHOLDERS[kind])
    return Template(kind, lang, row.title, row.body, True, t.PLACEHOLDERS[kind], row.updated_at)


async def list_templates(session: AsyncSession) -> list[Template]:
    return [await get_template(session, kind, lang) for kind in t.KINDS for lang in t.LANGS]


def _checked(kind: str, title: str, body: str) -> None:
    errors = t.check(kind, title, body)
    if errors:
        raise Invalid("the notice template is invalid", code="notice-template-invalid", errors=errors)


async def save_template(
    session: AsyncSession, kind: str, lang: str, *, title: str, body: str, actor_id: uuid.UUID | None
) -> Template:
    """Replace the university's template (validated: an unknown placeholder is refused, with its field)."""
    _known(kind, lang)
    _checked(kind, title, body)
    row = await session.scalar(
        select(NoticeTemplate).where(NoticeTemplate.kind == kind, NoticeTemplate.lang == lang).with_for_update()
    )
    if row is None:
        row = NoticeTemplate(kind=kind, lang=lang, title=title, body=body)
        session.add(row)
    row.title, row.body, row.updated_at, row.updated_by = title, body, utcnow(), actor_id
    await session.flush()
    await journal.record(session, "notice_template.updated", actor_id=actor_id, kind=kind, lang=lang)
    return await get_template(session, kind, lang)


async def reset_template(session: AsyncSession, kind: str, lang: str, *, actor_id: uuid.UUID | None) -> Template:
    """Back to the packaged default."""
    _known(kind, lang)
    result: Any = await session.execute(
        delete(NoticeTemplate).where(NoticeTemplate.kind == kind, NoticeTemplate.lang == lang)
    )
    if result.rowcount:
        await journal.record(session, "notice_template.reset", actor_id=actor_id, kind=kind, lang=lang)
    return await get_template(session, kind, lang)


async def _tenant(session: AsyncSession) -> Tenant:
    tenant = await session.get(Tenant, require_tenant())
    assert tenant is not None
    return tenant


def _name(tenant: Tenant, lang: str) -> str:
    return tenant.name_zh if lang == "zh-CN" else tenant.name_en


async def preview_content(
    session: AsyncSession, kind: str, lang: str, *, title: str | None = None, body: str | None = None
) -> list[dict[str, Any]]:
    """The template (the saved one, or the draft given) composed with sample data; nothing is issued or stored."""
    current = await get_template(session, kind, lang)
    title = current.title if title is None else title
    body = current.body if body is None else body
    _checked(kind, title, body)
    tenant = await _tenant(session)
    values = {**t.SAMPLE[lang], "university": _name(tenant, lang)}
    return t.compose(lang=lang, title=title, body=body, values=values, zone=tenant.timezone)


def render(content: list[dict[str, Any]], lang: str, fmt: str) -> bytes:
    """A composed notice as PDF or DOCX, with the plan document's renderers (CPU-bound: run it off the loop)."""
    if fmt not in FORMATS:
        raise NotFound(f"no format {fmt!r}; one of {list(FORMATS)}")
    blocks = t.blocks(content)
    return render_pdf(blocks, lang) if fmt == "pdf" else render_docx(blocks, lang)


# --- issuing --------------------------------------------------------------------------------------------------


async def _next_number(session: AsyncSession, year: int) -> int:
    """The next document number of the year. The counter row stays locked until the caller's transaction ends,
    so concurrent issuers queue on it and a rolled-back action gives its number back: no gaps, no duplicates."""
    value = await session.scalar(
        text(
            """
            insert into petition_notice_numbers (tenant_id, year, next_value) values (:t, :y, 2)
            on conflict (tenant_id, year) do update set next_value = petition_notice_numbers.next_value + 1
            returning next_value - 1
            """
        ),
        {"t": require_tenant(), "y": year},
    )
    return int(value)


async def _unit_names(session: AsyncSession, unit_id: uuid.UUID | None) -> dict[str, str] | None:
    if unit_id is None:
        return None
    unit = await session.get(OrgUnit, (require_tenant(), unit_id))
    return {"zh-CN": unit.name_zh, "en": unit.name_en} if unit else None


async def _values(
    session: AsyncSession,
    petition: Petition,
    kind: str,
    tenant: Tenant,
    zone: ZoneInfo,
    number: str,
    issued_at: datetime,
    inputs: dict[str, str | None],
) -> dict[str, dict[str, str]]:
    """The placeholder values of ``kind`` for this case, in each language (dates in the university's zone)."""
    unit_id = petition.org_unit_id
    if kind == "acceptance" and unit_id is None and petition.kind != "accusation":
        # Accepted before assignment: the category's first-handling unit (首办负责) will handle it. Not for an
        # accusation: that unit may be the accused one (art. 30), so the notice names the petition office.
        unit_id = await session.scalar(select(Category.default_org_unit_id).where(Category.id == petition.category_id))
    unit = await _unit_names(session, unit_id)
    out: dict[str, dict[str, str]] = {}
    for lang in t.LANGS:

        def day(at: datetime | None, lang: str = lang) -> str:
            return t.format_instant(at, zone, lang) if at else "—"

        def due(at: datetime | None, lang: str = lang) -> str:
            return t.format_deadline(at, zone, lang) if at else "—"

        v = {
            "university": _name(tenant, lang),
            "tracking_number": petition.tracking_number,
            "document_number": number,
            "issued_on": day(issued_at),
            "received_on": day(petition.received_at),
            "subject": petition.subject,
            "handling_unit": unit[lang] if unit else t.label(lang, "office"),
        }
        if kind == "acceptance":
            v.update(accepted_on=day(petition.accepted_at), conclude_due=due(petition.conclude_due))
        elif kind == "non_acceptance":
            v.update(
                reason=inputs.get("reason") or petition.not_accepted_reason or "—",
                redirect_to=inputs.get("redirect_to") or t.label(lang, "redirect"),
            )
        elif kind == "transfer":
            v.update(
                transferred_on=day(petition.transferred_at),
                to_unit=v["handling_unit"],
                conclude_due=due(petition.conclude_due),
            )
        elif kind == "extension":
            original = deadlines.conclude_due(petition.accepted_at, zone) if petition.accepted_at else None
            v.update(
                extension_days=str(petition.extended_days or ""),
                reason=inputs.get("reason") or petition.extension_reason or "—",
                previous_due=due(original),
                conclude_due=due(petition.conclude_due),
            )
        else:
            v.update(
                replied_on=day(petition.replied_at),
                outcome=t.label(lang, petition.outcome) if petition.outcome else "—",
                opinion=inputs.get("opinion") or petition.opinion or "—",
                basis=inputs.get("basis") or t.label(lang, "basis"),
            )
            if kind == "reply":
                v["review_request_until"] = due(petition.review_window_until)
            elif kind == "review":
                v["rereview_request_until"] = due(petition.review_window_until)
        out[lang] = {k: v[k] for k in t.PLACEHOLDERS[kind]}
    return out


async def _issue(
    session: AsyncSession,
    petition: Petition,
    kind: str,
    *,
    actor_id: uuid.UUID | None,
    inputs: dict[str, str | None],
    replaces: Notice | None = None,
    reason: str | None = None,
) -> Notice:
    tenant = await _tenant(session)
    zone = ZoneInfo(tenant.timezone or "Asia/Shanghai")
    now = utcnow()
    year = now.astimezone(zone).year
    seq = await _next_number(session, year)
    number = t.document_number(year, seq)
    values: dict[str, Any] = await _values(session, petition, kind, tenant, zone, number, now, inputs)
    content = {}
    for lang in t.LANGS:
        template = await get_template(session, kind, lang)
        errors = t.check(kind, template.title, template.body)
        if errors:
            raise Conflict(
                f"the {lang} template of {kind!r} no longer fits; fix it first", code="notice-template-invalid"
            )
        content[lang] = t.compose(
            lang=lang,
            title=template.title,
            body=template.body,
            values=values[lang],
            zone=tenant.timezone,
            replaces=(replaces.number, reason or "") if replaces else None,
        )
    notice = Notice(
        id=new_id(),
        petition_id=petition.id,
        kind=kind,
        year=year,
        seq=seq,
        number=number,
        issued_at=now,
        issued_by=actor_id,
        replaces_id=replaces.id if replaces else None,
        correction_reason=reason if replaces else None,
        # The staff's own words given with the action, so that a correction can start from them.
        values={**values, "inputs": {k: v for k, v in inputs.items() if v}},
        content=content,
    )
    session.add(notice)
    await session.flush()
    # The payload names the document, never its content: the notice text holds the case's free text.
    await journal.record(
        session,
        "notice.issued",
        actor_id=actor_id,
        petition_id=petition.id,
        org_unit_id=petition.org_unit_id,
        subject_id=notice.id,
        kind=kind,
        document_number=number,
        replaces_id=replaces.id if replaces else None,
    )
    return notice


async def issue_for(
    session: AsyncSession,
    petition: Petition,
    action: Action,
    *,
    actor_id: uuid.UUID | None,
    basis: str | None = None,
    redirect_to: str | None = None,
) -> Notice | None:
    """The notice the applied ``action`` owes the petitioner (none for most actions), in the action's transaction.
    Any failure raises, and the action is rolled back with it."""
    kind = t.KIND_OF_ACTION.get(action)
    if kind is None:
        return None
    return await _issue(session, petition, kind, actor_id=actor_id, inputs={"basis": basis, "redirect_to": redirect_to})


async def correct(
    session: AsyncSession,
    petition: Petition,
    notice_id: uuid.UUID,
    *,
    reason: str,
    changes: dict[str, str],
    actor_id: uuid.UUID | None,
) -> Notice:
    """A new notice of the same kind that names the one it replaces, with the free text restated as ``changes``
    say (dates and numbers come from the case). A notice is replaced once; correct the newest one."""
    old = await get_notice(session, petition.id, notice_id)
    allowed = sorted(t.CORRECTABLE & set(t.PLACEHOLDERS[old.kind]))
    errors = [
        {"field": f"changes/{k}", "message": f"not correctable in this notice; one of {allowed}"}
        for k in changes
        if k not in allowed
    ]
    if not reason.strip():
        errors.append({"field": "reason", "message": "required"})
    if errors:
        raise Invalid("the correction is invalid", errors=errors)
    newer = await session.scalar(select(Notice.number).where(Notice.replaces_id == old.id))
    if newer is not None:
        raise Conflict(f"this notice was already replaced by {newer}", code="notice-replaced", replaced_by=newer)
    inputs = {**old.values.get("inputs", {}), **changes}
    return await _issue(session, petition, old.kind, actor_id=actor_id, inputs=inputs, replaces=old, reason=reason)


# --- reading --------------------------------------------------------------------------------------------------


async def list_notices(session: AsyncSession, petition_id: uuid.UUID) -> list[Notice]:
    query = select(Notice).where(Notice.petition_id == petition_id).order_by(Notice.issued_at, Notice.seq)
    return list((await session.scalars(query)).all())


async def get_notice(session: AsyncSession, petition_id: uuid.UUID, notice_id: uuid.UUID) -> Notice:
    notice = await session.scalar(select(Notice).where(Notice.id == notice_id, Notice.petition_id == petition_id))
    if notice is None:
        raise NotFound("no such notice")
    return notice


async def replaced_ids(session: AsyncSession, petition_id: uuid.UUID) -> dict[uuid.UUID, uuid.UUID]:
    """Replaced notice -> the notice that replaces it, for one petition."""
    rows = await session.execute(
        select(Notice.replaces_id, Notice.id).where(Notice.petition_id == petition_id, Notice.replaces_id.is_not(None))
    )
    return {r: i for r, i in rows.all() if r is not None}  # the query already leaves out the None
