"""The materials inventory API: items, stock movements (the ledger), stock levels."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from service.http.deps import Caller, Input, Page, Session
from service.http.security import requires
from tenants import materials, paging
from tenants.clock import utcnow
from tenants.identity import Role
from tenants.materials import Category, LedgerEntry, MaterialItem, Movement

READ = requires(Role.tenant_admin, Role.staff, scopes=("materials:read",))
EDIT = requires(Role.tenant_admin)

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Unit = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
Location = Annotated[str, msgspec.Meta(max_length=200)]
Quantity = Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)]


class ItemCreate(Input):
    category: Category
    code: Annotated[str, msgspec.Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
    name_zh: Name
    name_en: Name
    unit: Unit
    location: Location | None = None
    org_unit_id: uuid.UUID | None = None
    expires_on: dt.date | None = None
    initial_quantity: Quantity = 0


class ItemUpdate(Input):
    name_zh: Name | msgspec.UnsetType = msgspec.UNSET
    name_en: Name | msgspec.UnsetType = msgspec.UNSET
    unit: Unit | msgspec.UnsetType = msgspec.UNSET
    location: Location | msgspec.UnsetType | None = msgspec.UNSET
    org_unit_id: uuid.UUID | msgspec.UnsetType | None = msgspec.UNSET
    expires_on: dt.date | msgspec.UnsetType | None = msgspec.UNSET
    active: bool | msgspec.UnsetType = msgspec.UNSET


class MovementIn(Input):
    kind: Movement
    quantity: Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
    incident_id: uuid.UUID | None = None


class ItemOut(msgspec.Struct):
    id: uuid.UUID
    category: str
    code: str
    name_zh: str
    name_en: str
    unit: str
    location: str | None
    org_unit_id: uuid.UUID | None
    expires_on: dt.date | None
    quantity: int
    active: bool
    updated_at: dt.datetime

    @classmethod
    def of(cls, i: MaterialItem) -> ItemOut:
        return cls(
            i.id,
            i.category,
            i.code,
            i.name_zh,
            i.name_en,
            i.unit,
            i.location,
            i.org_unit_id,
            i.expires_on,
            i.quantity,
            i.active,
            i.updated_at,
        )


class LedgerOut(msgspec.Struct):
    id: uuid.UUID
    item_id: uuid.UUID
    kind: str
    delta: int
    balance_after: int
    reason: str
    actor_id: uuid.UUID | None
    incident_id: uuid.UUID | None
    occurred_at: dt.datetime

    @classmethod
    def of(cls, e: LedgerEntry) -> LedgerOut:
        return cls(
            e.id, e.item_id, e.kind, e.delta, e.balance_after, e.reason, e.actor_id, e.incident_id, e.occurred_at
        )


class MaterialController(Controller):
    path = "/api/v1/materials"
    tags = ["materials"]

    @post("/items", summary="Add an item to the inventory (an initial quantity is booked as received)", **EDIT)
    async def create(self, data: JSONBody[ItemCreate], db_session: Session, principal: Caller) -> ItemOut:
        item = await materials.create_item(db_session, actor_id=principal.subject_id, **msgspec.structs.asdict(data))
        return ItemOut.of(item)

    @get("/items", summary="List items with their stock", **READ)
    async def list(
        self,
        db_session: Session,
        category: FromQuery[Category | None] = None,
        org_unit_id: FromQuery[uuid.UUID | None] = None,
        active: FromQuery[bool | None] = True,
        expiring_within_days: Annotated[int | None, QueryParameter(ge=0, le=3650)] = None,
    ) -> list[ItemOut]:
        before = None
        if expiring_within_days is not None:
            before = utcnow().date() + dt.timedelta(days=expiring_within_days + 1)
        items = await materials.list_items(
            db_session, category=category, org_unit_id=org_unit_id, active=active, expiring_before=before
        )
        return [ItemOut.of(i) for i in items]

    @get("/items/{item_id:uuid}", summary="Show an item", **READ)
    async def show(self, item_id: FromPath[uuid.UUID], db_session: Session) -> ItemOut:
        return ItemOut.of(await materials.get_item(db_session, item_id))

    @patch("/items/{item_id:uuid}", summary="Change an item's description (not its stock)", **EDIT)
    async def update(
        self, item_id: FromPath[uuid.UUID], data: JSONBody[ItemUpdate], db_session: Session, principal: Caller
    ) -> ItemOut:
        changes = {k: v for k, v in msgspec.structs.asdict(data).items() if v is not msgspec.UNSET}
        return ItemOut.of(await materials.update_item(db_session, item_id, actor_id=principal.subject_id, **changes))

    @post(
        "/items/{item_id:uuid}/movements",
        summary="Book a stock movement: receive, issue, return, write_off (positive quantity) or adjust (signed)",
        **EDIT,
    )
    async def move(
        self, item_id: FromPath[uuid.UUID], data: JSONBody[MovementIn], db_session: Session, principal: Caller
    ) -> LedgerOut:
        entry = await materials.move(
            db_session,
            item_id=item_id,
            kind=data.kind,
            quantity=data.quantity,
            reason=data.reason,
            actor_id=principal.subject_id,
            incident_id=data.incident_id,
        )
        return LedgerOut.of(entry)

    @get("/ledger", summary="Ledger entries, oldest first (of one item or one incident)", **READ)
    async def ledger(
        self,
        db_session: Session,
        item_id: FromQuery[uuid.UUID | None] = None,
        incident_id: FromQuery[uuid.UUID | None] = None,
        cursor: FromQuery[uuid.UUID | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> Page[LedgerOut]:
        rows, after = await paging.page(
            lambda n: materials.ledger(db_session, item_id=item_id, incident_id=incident_id, after_id=cursor, limit=n),
            limit,
            key=lambda e: str(e.id),
        )
        return Page([LedgerOut.of(e) for e in rows], after)
