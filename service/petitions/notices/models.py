"""Notice tables: the issued notices (append-only), their per-(university, year) counter, the templates."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Integer, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from service.petitions.notices.templates import KINDS, LANGS
from tenants.clock import utcnow
from tenants.db import Base, TenantOwned


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} in ({', '.join(repr(v) for v in values)})"


class NoticeNumber(Base):
    """The next document number of a university in a (local) year; one counter for every kind of notice, like
    a petition office's register of outgoing documents (发文登记)."""

    __tablename__ = "petition_notice_numbers"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(Integer, primary_key=True)
    next_value: Mapped[int] = mapped_column(Integer, nullable=False)

    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)


class Notice(TenantOwned, Base):
    """An issued notice. The application may insert and read these rows, never change or delete them: a
    correction is a new notice whose ``replaces_id`` names the one it replaces."""

    __tablename__ = "petition_notices"

    petition_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    year: Mapped[int] = mapped_column(Integer, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, nullable=False)
    number: Mapped[str] = mapped_column(String(32), nullable=False)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    issued_by: Mapped[uuid.UUID | None]
    replaces_id: Mapped[uuid.UUID | None]
    correction_reason: Mapped[str | None] = mapped_column(String(500))
    # The placeholder values per language, and the composed document per language (what every download renders).
    values: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id", "petition_id"], ["petitions.tenant_id", "petitions.id"]),
        ForeignKeyConstraint(["tenant_id", "replaces_id"], ["petition_notices.tenant_id", "petition_notices.id"]),
        Index("uq_petition_notices_number", "tenant_id", "year", "seq", unique=True),
        Index("ix_petition_notices_petition", "tenant_id", "petition_id", "issued_at"),
        CheckConstraint(_in("kind", KINDS), name="kind"),
    )


class NoticeTemplate(TenantOwned, Base):
    """A university's own template of one kind and language (the packaged default applies while none exists)."""

    __tablename__ = "notice_templates"

    kind: Mapped[str] = mapped_column(String(24), nullable=False)
    lang: Mapped[str] = mapped_column(String(8), nullable=False)
    title: Mapped[str] = mapped_column(String(100), nullable=False)
    body: Mapped[str] = mapped_column(Text, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_by: Mapped[uuid.UUID | None]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        Index("uq_notice_templates_kind_lang", "tenant_id", "kind", "lang", unique=True),
        CheckConstraint(_in("kind", KINDS), name="kind"),
        CheckConstraint(_in("lang", LANGS), name="lang"),
    )
