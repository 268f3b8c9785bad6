"""The materials inventory of the plan's §5: items, and the ledger of every change to their stock.

The stock level of an item is the sum of its ledger, kept by the database: inserting a ledger row moves
``material_items.quantity`` in the same statement (a trigger, see migration 0002), and a CHECK refuses a negative
quantity, which fails the ledger insert with it. The row lock the trigger's UPDATE takes serializes concurrent
issues of one item, so two issues of the last unit cannot both succeed. The application role can neither write
the quantity column nor change or delete ledger rows.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
import uuid
from dataclasses import dataclass
from typing import cast

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    func,
    insert,
    select,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.orm.attributes import set_committed_value

from tenants import journal
from tenants.clock import utcnow
from tenants.db import Base, TenantOwned, require_tenant
from tenants.errors import Conflict, Invalid, NotFound
from tenants.ids import new_id
from tenants.org import OrgUnit


class Category(enum.StrEnum):
    communication = "communication"
    medical = "medical"
    safety = "safety"
    logistics = "logistics"
    custom = "custom"


class Movement(enum.StrEnum):
    receive = "receive"
    issue = "issue"
    return_ = "return"
    write_off = "write_off"
    adjust = "adjust"


# Journal event of each movement.
EVENT = {
    Movement.receive: "material.received",
    Movement.issue: "material.issued",
    Movement.return_: "material.returned",
    Movement.write_off: "material.written_off",
    Movement.adjust: "material.adjusted",
}
CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")


class MaterialItem(TenantOwned, Base):
    __tablename__ = "material_items"

    category: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    unit: Mapped[str] = mapped_column(String(20), nullable=False)
    location: Mapped[str | None] = mapped_column(String(200))
    org_unit_id: Mapped[uuid.UUID | None]
    expires_on: Mapped[dt.date | None] = mapped_column(Date)
    # Written only by the ledger trigger; read back after every movement.
    quantity: Mapped[int] = mapped_column(Integer, server_default=text("0"), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "org_unit_id"], ["org_units.tenant_id", "org_units.id"]),
        CheckConstraint("category in ('communication', 'medical', 'safety', 'logistics', 'custom')", name="category"),
        CheckConstraint("quantity >= 0", name="quantity_not_negative"),
        Index("uq_material_items_tenant_code", "tenant_id", "code", unique=True),
    )


class LedgerEntry(TenantOwned, Base):
    __tablename__ = "material_ledger"

    item_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    kind: Mapped[str] = mapped_column(String(12), nullable=False)
    delta: Mapped[int] = mapped_column(Integer, nullable=False)
    balance_after: Mapped[int] = mapped_column(Integer, nullable=False)
    reason: Mapped[str] = mapped_column(String(500), nullable=False)
    actor_id: Mapped[uuid.UUID | None]
    incident_id: Mapped[uuid.UUID | None]
    occurred_at: Mapped[dt.datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "item_id"], ["material_items.tenant_id", "material_items.id"]),
        CheckConstraint(
            "(kind in ('receive', 'return') and delta > 0) or (kind in ('issue', 'write_off') and delta < 0) "
            "or (kind = 'adjust' and delta <> 0)",
            name="kind_delta",
        ),
        Index("ix_material_ledger_tenant_item", "tenant_id", "item_id", "occurred_at"),
        Index(
            "ix_material_ledger_tenant_incident",
            "tenant_id",
            "incident_id",
            postgresql_where=text("incident_id is not null"),
        ),
    )


# --- the contract other domains read ----------------------------------------------------------------------------


@dataclass(frozen=True)
class StockLevel:
    item_id: uuid.UUID
    category: str
    code: str
    name_zh: str
    name_en: str
    unit: str
    location: str | None
    quantity: int
    expires_on: dt.date | None


async def stock_levels(session: AsyncSession) -> list[StockLevel]:
    """The current stock of every active item of the university, by category and code."""
    items = await session.scalars(
        select(MaterialItem).where(MaterialItem.active).order_by(MaterialItem.category, MaterialItem.code)
    )
    return [
        StockLevel(
            item_id=i.id,
            category=i.category,
            code=i.code,
            name_zh=i.name_zh,
            name_en=i.name_en,
            unit=i.unit,
            location=i.location,
            quantity=i.quantity,
            expires_on=i.expires_on,
        )
        for i in items
    ]


async def issue(
    session: AsyncSession,
    *,
    item_id: uuid.UUID,
    quantity: int,
    reason: str,
    actor_id: uuid.UUID | None,
    incident_id: uuid.UUID | None = None,
) -> LedgerEntry:
    """Take ``quantity`` out of stock; ``Conflict`` (material-shortfall) when the stock is smaller."""
    return await move(
        session,
        item_id=item_id,
        kind=Movement.issue,
        quantity=quantity,
        reason=reason,
        actor_id=actor_id,
        incident_id=incident_id,
    )


async def return_(
    session: AsyncSession,
    *,
    item_id: uuid.UUID,
    quantity: int,
    reason: str,
    actor_id: uuid.UUID | None,
    incident_id: uuid.UUID | None = None,
) -> LedgerEntry:
    """Put ``quantity`` issued earlier back into stock."""
    return await move(
        session,
        item_id=item_id,
        kind=Movement.return_,
        quantity=quantity,
        reason=reason,
        actor_id=actor_id,
        incident_id=incident_id,
    )


# --- items ------------------------------------------------------------------------------------------------------


async def get_item(session: AsyncSession, item_id: uuid.UUID, *, for_update: bool = False) -> MaterialItem:
    query = select(MaterialItem).where(MaterialItem.id == item_id)
    item = await session.scalar(query.with_for_update() if for_update else query)
    if item is None:
        raise NotFound("no such material item", code="material-not-found")
    return item


async def _check_org_unit(session: AsyncSession, org_unit_id: uuid.UUID | None) -> list[dict[str, str]]:
    if org_unit_id is not None and not await session.scalar(select(OrgUnit.id).where(OrgUnit.id == org_unit_id)):
        return [{"field": "org_unit_id", "message": "no such org unit"}]
    return []


async def create_item(
    session: AsyncSession,
    *,
    category: Category,
    code: str,
    name_zh: str,
    name_en: str,
    unit: str,
    location: str | None,
    org_unit_id: uuid.UUID | None,
    expires_on: dt.date | None,
    initial_quantity: int,
    actor_id: uuid.UUID | None,
) -> MaterialItem:
    """Create an item; a positive ``initial_quantity`` is booked as its first ``receive`` entry."""
    errors = await _check_org_unit(session, org_unit_id)
    if not CODE.match(code):
        errors.append({"field": "code", "message": "letters, digits, '.', '_' or '-', 1-64 characters"})
    for field, value in (("name_zh", name_zh), ("name_en", name_en), ("unit", unit)):
        if not value.strip():
            errors.append({"field": field, "message": "must not be blank"})
    if initial_quantity < 0:
        errors.append({"field": "initial_quantity", "message": "must not be negative"})
    if errors:
        raise Invalid("the material item cannot be created", errors=errors)
    if await session.scalar(select(MaterialItem.id).where(MaterialItem.code == code)):
        raise Conflict(f"a material item with code {code!r} exists", code="material-code-taken")
    item = MaterialItem(
        category=category,
        code=code,
        name_zh=name_zh.strip(),
        name_en=name_en.strip(),
        unit=unit.strip(),
        location=location,
        org_unit_id=org_unit_id,
        expires_on=expires_on,
    )
    session.add(item)
    await session.flush()
    await journal.record(
        session,
        "material.item_created",
        actor_id=actor_id,
        subject_id=item.id,
        org_unit_id=org_unit_id,
        category=str(category),
    )
    if initial_quantity:
        await move(
            session,
            item_id=item.id,
            kind=Movement.receive,
            quantity=initial_quantity,
            reason="initial stock",
            actor_id=actor_id,
        )
        await session.refresh(item)
    return item


ITEM_FIELDS = ("name_zh", "name_en", "unit", "location", "org_unit_id", "expires_on", "active")


async def update_item(
    session: AsyncSession, item_id: uuid.UUID, *, actor_id: uuid.UUID | None, **changes: object
) -> MaterialItem:
    """Change the descriptive fields of an item (its stock changes only through the ledger)."""
    item = await get_item(session, item_id)
    errors = [{"field": f, "message": "not editable"} for f in sorted(set(changes) - set(ITEM_FIELDS))]
    # The controller's update struct gives a UUID, or None to detach the item from its unit.
    errors += await _check_org_unit(session, cast(uuid.UUID | None, changes.get("org_unit_id")))
    for field in ("name_zh", "name_en", "unit"):
        value = changes.get(field)
        if isinstance(value, str) and not value.strip():
            errors.append({"field": field, "message": "must not be blank"})
    if errors:
        raise Invalid("the material item cannot be updated", errors=errors)
    changed = sorted(f for f, v in changes.items() if getattr(item, f) != v)
    for field in changed:
        setattr(item, field, changes[field])
    if changed:
        await session.flush()
        await journal.record(session, "material.item_updated", actor_id=actor_id, subject_id=item.id, changed=changed)
    return item


async def list_items(
    session: AsyncSession,
    *,
    category: Category | None = None,
    org_unit_id: uuid.UUID | None = None,
    active: bool | None = True,
    expiring_before: dt.date | None = None,
) -> list[MaterialItem]:
    query = select(MaterialItem).order_by(MaterialItem.category, MaterialItem.code)
    if category is not None:
        query = query.where(MaterialItem.category == category)
    if org_unit_id is not None:
        query = query.where(MaterialItem.org_unit_id == org_unit_id)
    if active is not None:
        query = query.where(MaterialItem.active == active)
    if expiring_before is not None:
        query = query.where(MaterialItem.expires_on < expiring_before)
    return list((await session.scalars(query)).all())


# --- the ledger -------------------------------------------------------------------------------------------------


async def move(
    session: AsyncSession,
    *,
    item_id: uuid.UUID,
    kind: Movement,
    quantity: int,
    reason: str,
    actor_id: uuid.UUID | None,
    incident_id: uuid.UUID | None = None,
) -> LedgerEntry:
    """Book one movement. ``quantity`` is positive, except for ``adjust`` where it is the signed correction.

    The database applies it to the stock; a movement that would take the stock below zero is refused with
    ``Conflict`` (code ``material-shortfall``) and nothing is written.
    """
    errors = []
    if kind is Movement.adjust:
        if quantity == 0:
            errors.append({"field": "quantity", "message": "an adjustment must not be zero"})
    elif quantity <= 0:
        errors.append({"field": "quantity", "message": "must be positive"})
    if abs(quantity) > 1_000_000_000:
        errors.append({"field": "quantity", "message": "at most 1,000,000,000"})
    if not reason.strip():
        errors.append({"field": "reason", "message": "say why (it is kept in the ledger)"})
    if errors:
        raise Invalid("the movement cannot be booked", errors=errors)
    item = await get_item(session, item_id)
    if not item.active and kind in (Movement.receive, Movement.issue):
        raise Conflict("the material item is deactivated", code="material-inactive")
    delta = -quantity if kind in (Movement.issue, Movement.write_off) else quantity
    values = {
        "tenant_id": require_tenant(),
        "id": new_id(),
        "item_id": item_id,
        "kind": str(kind),
        "delta": delta,
        "reason": reason.strip(),
        "actor_id": actor_id,
        "incident_id": incident_id,
        "occurred_at": utcnow(),
    }
    try:
        async with session.begin_nested():
            # balance_after is filled in by the trigger, which also moves the stock.
            balance = await session.scalar(
                insert(LedgerEntry).values(balance_after=0, **values).returning(LedgerEntry.balance_after)
            )
    except IntegrityError as exc:
        if _constraint(exc) == "ck_material_items_quantity_not_negative":
            await session.refresh(item)
            raise Conflict(
                f"only {item.quantity} {item.unit} in stock",
                code="material-shortfall",
                available=item.quantity,
                requested=quantity,
            ) from None
        raise
    entry = LedgerEntry(**values, balance_after=balance)
    # The trigger already wrote the quantity: record it on the loaded object without marking it for an UPDATE.
    set_committed_value(item, "quantity", int(balance or 0))
    await journal.record(
        session,
        EVENT[kind],
        actor_id=actor_id,
        subject_id=item_id,
        incident_id=incident_id,
        org_unit_id=item.org_unit_id,
        category=item.category,
        quantity=abs(delta),
        delta=delta,
        balance=item.quantity,
    )
    return entry


def _constraint(exc: IntegrityError) -> str | None:
    orig = exc.orig
    for candidate in (orig, getattr(orig, "__cause__", None)):
        name = getattr(candidate, "constraint_name", None)
        if name:
            return str(name)
    return None


async def ledger(
    session: AsyncSession,
    *,
    item_id: uuid.UUID | None = None,
    incident_id: uuid.UUID | None = None,
    after_id: uuid.UUID | None = None,
    limit: int = 100,
) -> list[LedgerEntry]:
    """Ledger entries, oldest first, of one item or one incident (or all)."""
    query = select(LedgerEntry).order_by(LedgerEntry.id).limit(limit)
    if item_id is not None:
        query = query.where(LedgerEntry.item_id == item_id)
    if incident_id is not None:
        query = query.where(LedgerEntry.incident_id == incident_id)
    if after_id is not None:
        query = query.where(LedgerEntry.id > after_id)
    return list((await session.scalars(query)).all())


async def ledger_total(session: AsyncSession, item_id: uuid.UUID) -> int:
    """The sum of an item's ledger (equal to its quantity; kept for checks and audits)."""
    return int(
        await session.scalar(
            select(func.coalesce(func.sum(LedgerEntry.delta), 0)).where(LedgerEntry.item_id == item_id)
        )
        or 0
    )
