"""Tables of the emergency plan: its versions and the open material shortages of the readiness check."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKeyConstraint, Index, Integer, String, text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from tenants.clock import utcnow
from tenants.db import Base, TenantOwned, require_tenant


class PlanStatus(enum.StrEnum):
    draft = "draft"
    published = "published"
    superseded = "superseded"


class PlanAction(enum.StrEnum):
    edit = "edit"
    publish = "publish"
    supersede = "supersede"


# A version's life: edited while a draft, published once, superseded by the next published version; a published
# or superseded version never changes again (``tenants.transitions.step`` applies the table).
PLAN_TRANSITIONS: dict[tuple[PlanStatus, PlanAction], PlanStatus] = {
    (PlanStatus.draft, PlanAction.edit): PlanStatus.draft,
    (PlanStatus.draft, PlanAction.publish): PlanStatus.published,
    (PlanStatus.published, PlanAction.supersede): PlanStatus.superseded,
}


class PlanVersion(TenantOwned, Base):
    """One version of a university's plan. Drafts are edited; a published version never changes again.

    At most one draft and exactly one published version per university (partial unique indexes); the published
    version in force at a time is the one published before it and not superseded by then.
    """

    __tablename__ = "plan_versions"

    number: Mapped[int] = mapped_column(Integer, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default=PlanStatus.draft)
    # Optimistic concurrency: every edit names the revision it was made on.
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    content: Mapped[dict[str, Any]] = mapped_column(JSONB, nullable=False)
    based_on_id: Mapped[uuid.UUID | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    created_by: Mapped[uuid.UUID | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_by: Mapped[uuid.UUID | None]
    published_at: Mapped[datetime | None]
    published_by: Mapped[uuid.UUID | None]
    superseded_at: Mapped[datetime | None]
    superseded_by_id: Mapped[uuid.UUID | None]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "based_on_id"], ["plan_versions.tenant_id", "plan_versions.id"]),
        ForeignKeyConstraint(["tenant_id", "superseded_by_id"], ["plan_versions.tenant_id", "plan_versions.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by"], ["accounts.tenant_id", "accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "updated_by"], ["accounts.tenant_id", "accounts.id"]),
        ForeignKeyConstraint(["tenant_id", "published_by"], ["accounts.tenant_id", "accounts.id"]),
        CheckConstraint("status in ('draft', 'published', 'superseded')", name="status"),
        CheckConstraint("number > 0 and revision > 0", name="counters"),
        CheckConstraint("(status = 'draft') = (published_at is null)", name="published_at"),
        CheckConstraint("(status = 'superseded') = (superseded_at is not null)", name="superseded_at"),
        Index("uq_plan_versions_tenant_number", "tenant_id", "number", unique=True),
        Index(
            "uq_plan_versions_one_published",
            "tenant_id",
            unique=True,
            postgresql_where=text("status = 'published'"),
        ),
        Index("uq_plan_versions_one_draft", "tenant_id", unique=True, postgresql_where=text("status = 'draft'")),
    )


class OpenShortage(Base):
    """A shortage the readiness check has journaled and not yet seen resolved (so it is journaled once)."""

    __tablename__ = "material_shortages"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=lambda: require_tenant())
    code: Mapped[str] = mapped_column(String(40), primary_key=True)
    required: Mapped[int] = mapped_column(Integer, nullable=False)
    available: Mapped[int] = mapped_column(Integer, nullable=False)
    since: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),)
