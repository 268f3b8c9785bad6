"""Reply templates (答复模板): each university's own wording of common handling opinions, kept by its tenant
admins and picked by staff on a petition's reply form to fill the opinion (and the outcome, when the template
names one). A template is only a starting text: the reply is the staff member's, checked by the workflow as any.

Changes are journaled (``reply_template.*``: the title never, it is free text; the fields changed).
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, CheckConstraint, ForeignKeyConstraint, Index, Integer, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from service.petitions.models import OUTCOMES
from tenants import journal
from tenants.clock import utcnow
from tenants.db import Base, TenantOwned
from tenants.errors import Conflict, NotFound

MAX_BODY = 4000  # the opinion's own bound (``schemas.Content``)


class ReplyTemplate(TenantOwned, Base):
    __tablename__ = "reply_templates"

    title: Mapped[str] = mapped_column(String(100), nullable=False)
    outcome: Mapped[str | None] = mapped_column(String(16))
    body: Mapped[str] = mapped_column(String(MAX_BODY), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    position: Mapped[int] = mapped_column(Integer, default=0, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("uq_reply_templates_title", "tenant_id", "title", unique=True),
        CheckConstraint(
            "outcome is null or outcome in (" + ", ".join(f"'{o}'" for o in OUTCOMES) + ")", name="outcome"
        ),
    )


async def list_templates(session: AsyncSession, *, active_only: bool = False) -> list[ReplyTemplate]:
    query = select(ReplyTemplate).order_by(ReplyTemplate.position, ReplyTemplate.title)
    if active_only:
        query = query.where(ReplyTemplate.active)
    return list((await session.scalars(query)).all())


async def get_template(session: AsyncSession, template_id: uuid.UUID) -> ReplyTemplate:
    template = await session.scalar(select(ReplyTemplate).where(ReplyTemplate.id == template_id))
    if template is None:
        raise NotFound("no such reply template")
    return template


async def _title_taken(session: AsyncSession, title: str, but: uuid.UUID | None = None) -> None:
    query = select(ReplyTemplate.id).where(ReplyTemplate.title == title)
    if but is not None:
        query = query.where(ReplyTemplate.id != but)
    if await session.scalar(query):
        raise Conflict(f"a reply template titled {title!r} exists", code="duplicate")


async def create_template(session: AsyncSession, *, actor_id: uuid.UUID | None, **values: Any) -> ReplyTemplate:
    await _title_taken(session, values["title"])
    template = ReplyTemplate(**values)
    session.add(template)
    await session.flush()
    await journal.record(session, "reply_template.created", actor_id=actor_id, subject_id=template.id)
    return template


async def update_template(
    session: AsyncSession, template_id: uuid.UUID, *, actor_id: uuid.UUID | None, **changes: Any
) -> ReplyTemplate:
    template = await get_template(session, template_id)
    if "title" in changes and changes["title"] != template.title:
        await _title_taken(session, changes["title"], template.id)
    changed = sorted(k for k, v in changes.items() if getattr(template, k) != v)
    for key in changed:
        setattr(template, key, changes[key])
    if changed:
        template.updated_at = utcnow()
        await session.flush()
        await journal.record(
            session, "reply_template.updated", actor_id=actor_id, subject_id=template.id, changed=changed
        )
    return template


async def delete_template(session: AsyncSession, template_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> None:
    template = await get_template(session, template_id)
    await session.delete(template)
    await session.flush()
    await journal.record(session, "reply_template.deleted", actor_id=actor_id, subject_id=template_id)
