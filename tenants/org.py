"""The organization chart of a university: org units (a tree), people (staff), and the emergency groups of the
plan's §3 with their leader, deputies and members.

Units and people are deactivated, never deleted: incidents, petitions and the journal point at them. Tree changes
(move, import) take a per-tenant advisory lock so that two concurrent moves cannot build a cycle together.
Names and staff numbers of people are personal data: stored encrypted, found by a keyed hash, never journaled.
"""

from __future__ import annotations

import enum
import re
import uuid
from dataclasses import asdict, dataclass
from datetime import datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    CompoundSelect,
    ForeignKeyConstraint,
    Index,
    SQLColumnExpression,
    String,
    Text,
    func,
    literal,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, aliased, mapped_column

from tenants import journal
from tenants.clock import utcnow
from tenants.crypto import EncryptedText, lookup_hash
from tenants.db import Base, TenantOwned, require_tenant
from tenants.errors import Conflict, Invalid, NotFound
from tenants.identity import Account
from tenants.ids import new_id

# The functional form: a member named "center" in a class body would redefine str.center (a type error).
UnitKind = enum.StrEnum(
    "UnitKind",
    [
        ("university", "university"),
        ("office", "office"),
        ("college", "college"),
        ("center", "center"),
        ("group", "group"),
    ],
)


class MemberRole(enum.StrEnum):
    leader = "leader"
    deputy = "deputy"
    member = "member"


CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
GROUP_KEY = re.compile(r"^[a-z][a-z0-9_]{1,39}$")


# --- models -----------------------------------------------------------------------------------------------------


class OrgUnit(TenantOwned, Base):
    __tablename__ = "org_units"

    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    code: Mapped[str] = mapped_column(String(64), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    parent_id: Mapped[uuid.UUID | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "parent_id"], ["org_units.tenant_id", "org_units.id"]),
        CheckConstraint("kind in ('university', 'office', 'college', 'center', 'group')", name="kind"),
        CheckConstraint("(kind = 'university') = (parent_id is null)", name="root"),
        CheckConstraint("parent_id <> id", name="not_own_parent"),
        Index("uq_org_units_tenant_code", "tenant_id", "code", unique=True),
        Index("ix_org_units_tenant_parent", "tenant_id", "parent_id"),
        Index("uq_org_units_tenant_university", "tenant_id", unique=True, postgresql_where=text("kind = 'university'")),
    )


class Person(TenantOwned, Base):
    __tablename__ = "people"

    staff_number: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    staff_number_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    name_zh: Mapped[str] = mapped_column(EncryptedText, nullable=False)
    name_en: Mapped[str | None] = mapped_column(EncryptedText)
    title_zh: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    unit_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    account_id: Mapped[uuid.UUID | None]
    active: Mapped[bool] = mapped_column(Boolean, default=True, nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_units.tenant_id", "org_units.id"]),
        ForeignKeyConstraint(["tenant_id", "account_id"], ["accounts.tenant_id", "accounts.id"]),
        Index("uq_people_tenant_staff_number", "tenant_id", "staff_number_hash", unique=True),
        Index("ix_people_tenant_unit", "tenant_id", "unit_id"),
        Index("ix_people_tenant_account", "tenant_id", "account_id", postgresql_where=text("account_id is not null")),
    )


class PersonPost(TenantOwned, Base):
    """A secondary post of a person (兼职) in another org unit: the accounts linked to the person belong to that
    unit too (petition scope, the accusation shield)."""

    __tablename__ = "person_posts"

    person_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    unit_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    title_zh: Mapped[str | None] = mapped_column(String(200))
    title_en: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["people.tenant_id", "people.id"]),
        ForeignKeyConstraint(["tenant_id", "unit_id"], ["org_units.tenant_id", "org_units.id"]),
        Index("uq_person_posts_person_unit", "tenant_id", "person_id", "unit_id", unique=True),
    )


class EmergencyGroup(TenantOwned, Base):
    __tablename__ = "emergency_groups"

    key: Mapped[str] = mapped_column(String(40), nullable=False)
    name_zh: Mapped[str] = mapped_column(String(200), nullable=False)
    name_en: Mapped[str] = mapped_column(String(200), nullable=False)
    duties_zh: Mapped[str] = mapped_column(Text, nullable=False)
    duties_en: Mapped[str] = mapped_column(Text, nullable=False)
    # The posts the plan names for each role (e.g. 校党委书记), so that the plan document and an empty group
    # still say who should fill it.
    leader_post_zh: Mapped[str | None] = mapped_column(String(500))
    leader_post_en: Mapped[str | None] = mapped_column(String(500))
    deputy_posts_zh: Mapped[str | None] = mapped_column(String(500))
    deputy_posts_en: Mapped[str | None] = mapped_column(String(500))
    member_posts_zh: Mapped[str | None] = mapped_column(String(500))
    member_posts_en: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        CheckConstraint("key ~ '^[a-z][a-z0-9_]{1,39}$'", name="key"),
        Index("uq_emergency_groups_tenant_key", "tenant_id", "key", unique=True),
    )


class GroupMember(TenantOwned, Base):
    __tablename__ = "group_members"

    group_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    person_id: Mapped[uuid.UUID] = mapped_column(nullable=False)
    role: Mapped[str] = mapped_column(String(8), nullable=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "group_id"], ["emergency_groups.tenant_id", "emergency_groups.id"]),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["people.tenant_id", "people.id"]),
        CheckConstraint("role in ('leader', 'deputy', 'member')", name="role"),
        Index("uq_group_members_tenant_group_person", "tenant_id", "group_id", "person_id", unique=True),
        Index(
            "uq_group_members_one_leader",
            "tenant_id",
            "group_id",
            unique=True,
            postgresql_where=text("role = 'leader'"),
        ),
        Index("ix_group_members_tenant_person", "tenant_id", "person_id"),
    )


# --- the contract other domains read ----------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupRoster:
    """Who fills one emergency group now (person ids, and the accounts behind them)."""

    key: str
    name_zh: str
    name_en: str
    leader_person_id: uuid.UUID | None
    deputy_person_ids: tuple[uuid.UUID, ...]
    member_person_ids: tuple[uuid.UUID, ...]
    account_ids: frozenset[uuid.UUID]  # accounts linked to any person in the group, any role


async def group_roster(session: AsyncSession) -> dict[str, GroupRoster]:
    """Every emergency group of the current university by key, with its members (active people only)."""
    groups = (await session.scalars(select(EmergencyGroup).order_by(EmergencyGroup.key))).all()
    rows = (
        await session.execute(
            select(GroupMember.group_id, GroupMember.person_id, GroupMember.role, Person.account_id)
            .join(Person, Person.id == GroupMember.person_id)
            .where(Person.active)
            .order_by(GroupMember.created_at, GroupMember.id)
        )
    ).all()
    by_group: dict[uuid.UUID, list[tuple[uuid.UUID, str, uuid.UUID | None]]] = {}
    for group_id, person_id, role, account_id in rows:
        by_group.setdefault(group_id, []).append((person_id, role, account_id))
    roster = {}
    for g in groups:
        members = by_group.get(g.id, [])
        roster[g.key] = GroupRoster(
            key=g.key,
            name_zh=g.name_zh,
            name_en=g.name_en,
            leader_person_id=next((p for p, r, _ in members if r == MemberRole.leader), None),
            deputy_person_ids=tuple(p for p, r, _ in members if r == MemberRole.deputy),
            member_person_ids=tuple(p for p, r, _ in members if r == MemberRole.member),
            account_ids=frozenset(a for _, _, a in members if a is not None),
        )
    return roster


async def person_ids_of_account(session: AsyncSession, account_id: uuid.UUID) -> list[uuid.UUID]:
    """The (active) people of the chart linked to an account, oldest first."""
    rows = await session.scalars(
        select(Person.id).where(Person.account_id == account_id, Person.active).order_by(Person.id)
    )
    return list(rows)


# --- org units --------------------------------------------------------------------------------------------------


async def lock_tree(session: AsyncSession) -> None:
    """Serialize changes to the shape of this university's tree (moves, imports) until the transaction ends."""
    await session.execute(
        select(func.pg_advisory_xact_lock(func.hashtextextended(literal(f"org-tree:{require_tenant()}"), 0)))
    )


async def get_unit(session: AsyncSession, unit_id: uuid.UUID) -> OrgUnit:
    unit = await session.scalar(select(OrgUnit).where(OrgUnit.id == unit_id))
    if unit is None:
        raise NotFound("no such org unit", code="org-unit-not-found")
    return unit


def _check_unit_fields(code: str | None, name_zh: str | None, name_en: str | None) -> list[dict[str, str]]:
    errors = []
    if code is not None and not CODE.match(code):
        errors.append({"field": "code", "message": "letters, digits, '.', '_' or '-', 1-64 characters"})
    for field, value in (("name_zh", name_zh), ("name_en", name_en)):
        if value is not None and not value.strip():
            errors.append({"field": field, "message": "must not be blank"})
    return errors


async def create_unit(
    session: AsyncSession,
    *,
    kind: UnitKind,
    code: str,
    name_zh: str,
    name_en: str,
    parent_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
) -> OrgUnit:
    errors = _check_unit_fields(code, name_zh, name_en)
    if (kind is UnitKind.university) != (parent_id is None):
        errors.append(
            {
                "field": "parent_id",
                "message": "the university is the root (no parent); every other unit needs a parent",
            }
        )
    if errors:
        raise Invalid("the org unit cannot be created", errors=errors)
    if parent_id is not None:
        parent = await get_unit(session, parent_id)
        if not parent.active:
            raise Conflict("the parent unit is deactivated", code="org-unit-inactive")
    if await session.scalar(select(OrgUnit.id).where(OrgUnit.code == code)):
        raise Conflict(f"an org unit with code {code!r} exists", code="org-unit-code-taken")
    if kind is UnitKind.university and await session.scalar(
        select(OrgUnit.id).where(OrgUnit.kind == UnitKind.university)
    ):
        raise Conflict("this university already has its root unit", code="org-university-exists")
    unit = OrgUnit(kind=kind, code=code, name_zh=name_zh.strip(), name_en=name_en.strip(), parent_id=parent_id)
    session.add(unit)
    await session.flush()
    await journal.record(
        session, "orgunit.created", actor_id=actor_id, org_unit_id=unit.id, kind=str(kind), parent_id=parent_id
    )
    return unit


async def rename_unit(
    session: AsyncSession,
    unit_id: uuid.UUID,
    *,
    name_zh: str | None,
    name_en: str | None,
    actor_id: uuid.UUID | None,
) -> OrgUnit:
    errors = _check_unit_fields(None, name_zh, name_en)
    if errors:
        raise Invalid("the org unit cannot be renamed", errors=errors)
    unit = await get_unit(session, unit_id)
    changed = []
    if name_zh is not None and name_zh.strip() != unit.name_zh:
        unit.name_zh = name_zh.strip()
        changed.append("name_zh")
    if name_en is not None and name_en.strip() != unit.name_en:
        unit.name_en = name_en.strip()
        changed.append("name_en")
    if changed:
        await session.flush()
        await journal.record(session, "orgunit.renamed", actor_id=actor_id, org_unit_id=unit.id, changed=changed)
    return unit


async def ancestors(session: AsyncSession, unit_id: uuid.UUID) -> list[OrgUnit]:
    """The chain from ``unit_id`` up to the root, starting with the unit itself."""
    units = {u.id: u for u in (await session.scalars(select(OrgUnit))).all()}
    chain: list[OrgUnit] = []
    current = units.get(unit_id)
    while current is not None and len(chain) <= len(units):
        chain.append(current)
        current = units.get(current.parent_id) if current.parent_id else None
    return chain


async def move_unit(
    session: AsyncSession, unit_id: uuid.UUID, *, parent_id: uuid.UUID, actor_id: uuid.UUID | None
) -> OrgUnit:
    """Hang a unit (and its subtree) below another parent; a move into its own subtree is refused with the cycle."""
    await lock_tree(session)
    unit = await get_unit(session, unit_id)
    if unit.kind == UnitKind.university:
        raise Conflict("the university is the root and cannot be moved", code="org-root-immovable")
    parent = await get_unit(session, parent_id)
    if unit.parent_id == parent.id:
        return unit
    if not parent.active:
        raise Conflict("the new parent unit is deactivated", code="org-unit-inactive")
    chain = await ancestors(session, parent.id)
    if any(u.id == unit.id for u in chain):
        # The would-be cycle: the unit, down to the new parent, and back to the unit.
        loop = list(reversed(chain[: [u.id for u in chain].index(unit.id) + 1]))
        path = [*loop, unit]
        raise Conflict(
            "the move would make the unit its own ancestor: " + " → ".join(f"{u.name_en} ({u.code})" for u in path),
            code="org-cycle",
            cycle=[{"id": str(u.id), "code": u.code, "name_zh": u.name_zh, "name_en": u.name_en} for u in path],
        )
    old_parent = unit.parent_id
    unit.parent_id = parent.id
    await session.flush()
    await journal.record(
        session,
        "orgunit.moved",
        actor_id=actor_id,
        org_unit_id=unit.id,
        from_parent_id=old_parent,
        to_parent_id=parent.id,
    )
    return unit


async def deactivate_unit(session: AsyncSession, unit_id: uuid.UUID, *, actor_id: uuid.UUID | None) -> OrgUnit:
    """Mark a unit inactive (kept for history); refused while it has active sub-units."""
    await lock_tree(session)
    unit = await get_unit(session, unit_id)
    if not unit.active:
        return unit
    children = await session.scalar(
        select(func.count()).select_from(OrgUnit).where(OrgUnit.parent_id == unit.id, OrgUnit.active)
    )
    if children:
        raise Conflict(
            f"the unit still has {children} active sub-units: move or deactivate them first",
            code="org-unit-has-children",
            active_children=children,
        )
    unit.active = False
    await session.flush()
    await journal.record(session, "orgunit.deactivated", actor_id=actor_id, org_unit_id=unit.id)
    return unit


async def list_units(
    session: AsyncSession,
    *,
    kind: UnitKind | None = None,
    active: bool | None = None,
    parent_id: uuid.UUID | None = None,
    q: str | None = None,
    after_code: str | None = None,
    limit: int = 50,
) -> list[OrgUnit]:
    """Units ordered by code, filtered; ``q`` matches code and names (case-insensitive substring)."""
    query = select(OrgUnit).order_by(OrgUnit.code).limit(limit)
    if kind is not None:
        query = query.where(OrgUnit.kind == kind)
    if active is not None:
        query = query.where(OrgUnit.active == active)
    if parent_id is not None:
        query = query.where(OrgUnit.parent_id == parent_id)
    if q:
        pattern = "%" + q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        query = query.where(
            OrgUnit.code.ilike(pattern) | OrgUnit.name_zh.ilike(pattern) | OrgUnit.name_en.ilike(pattern)
        )
    if after_code is not None:
        query = query.where(OrgUnit.code > after_code)
    return list((await session.scalars(query)).all())


async def all_units(session: AsyncSession, *, include_inactive: bool = False) -> list[OrgUnit]:
    query = select(OrgUnit).order_by(OrgUnit.code)
    if not include_inactive:
        query = query.where(OrgUnit.active)
    return list((await session.scalars(query)).all())


# --- people -----------------------------------------------------------------------------------------------------


def normalize_staff_number(value: str) -> str:
    return value.strip().upper()


async def get_person(session: AsyncSession, person_id: uuid.UUID) -> Person:
    person = await session.scalar(select(Person).where(Person.id == person_id))
    if person is None:
        raise NotFound("no such person", code="person-not-found")
    return person


async def _check_person_refs(
    session: AsyncSession, unit_id: uuid.UUID | None, account_id: uuid.UUID | None
) -> list[dict[str, str]]:
    errors = []
    if unit_id is not None:
        active = await session.scalar(select(OrgUnit.active).where(OrgUnit.id == unit_id))
        if active is None:
            errors.append({"field": "unit_id", "message": "no such org unit"})
        elif not active:
            errors.append({"field": "unit_id", "message": "the org unit is deactivated"})
    if account_id is not None and not await session.scalar(select(Account.id).where(Account.id == account_id)):
        errors.append({"field": "account_id", "message": "no such account in this university"})
    return errors


async def create_person(
    session: AsyncSession,
    *,
    staff_number: str,
    name_zh: str,
    name_en: str | None,
    title_zh: str | None,
    title_en: str | None,
    unit_id: uuid.UUID,
    account_id: uuid.UUID | None,
    actor_id: uuid.UUID | None,
) -> Person:
    errors = []
    staff_number = normalize_staff_number(staff_number)
    if not staff_number:
        errors.append({"field": "staff_number", "message": "must not be blank"})
    if not name_zh.strip():
        errors.append({"field": "name_zh", "message": "must not be blank"})
    errors += await _check_person_refs(session, unit_id, account_id)
    if errors:
        raise Invalid("the person cannot be created", errors=errors)
    digest = lookup_hash(staff_number)
    if await session.scalar(select(Person.id).where(Person.staff_number_hash == digest)):
        raise Conflict("a person with this staff number exists", code="staff-number-taken")
    person = Person(
        staff_number=staff_number,
        staff_number_hash=digest,
        name_zh=name_zh.strip(),
        name_en=name_en.strip() if name_en else None,
        title_zh=title_zh,
        title_en=title_en,
        unit_id=unit_id,
        account_id=account_id,
    )
    session.add(person)
    await session.flush()
    await journal.record(
        session, "person.created", actor_id=actor_id, subject_id=person.id, org_unit_id=unit_id, linked=bool(account_id)
    )
    return person


class _Unset(enum.Enum):
    """The default of a keyword whose None means something (``account_id=None`` unlinks)."""

    token = 0


_UNSET = _Unset.token


async def update_person(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    actor_id: uuid.UUID | None,
    name_zh: str | None = None,
    name_en: str | None = None,
    title_zh: str | None = None,
    title_en: str | None = None,
    unit_id: uuid.UUID | None = None,
    account_id: uuid.UUID | _Unset | None = _UNSET,
    active: bool | None = None,
) -> Person:
    """Change the given fields (``account_id=None`` unlinks the account); journals the changed field names."""
    person = await get_person(session, person_id)
    errors = await _check_person_refs(session, unit_id, account_id if isinstance(account_id, uuid.UUID) else None)
    if name_zh is not None and not name_zh.strip():
        errors.append({"field": "name_zh", "message": "must not be blank"})
    if errors:
        raise Invalid("the person cannot be updated", errors=errors)
    changed = []
    for field, value in (
        ("name_zh", name_zh.strip() if name_zh else None),
        ("name_en", name_en),
        ("title_zh", title_zh),
        ("title_en", title_en),
        ("unit_id", unit_id),
        ("active", active),
    ):
        if value is not None and getattr(person, field) != value:
            setattr(person, field, value)
            changed.append(field)
    if account_id is not _UNSET and person.account_id != account_id:
        person.account_id = account_id
        changed.append("account_id")
    if changed:
        await session.flush()
        await journal.record(
            session,
            "person.updated",
            actor_id=actor_id,
            subject_id=person.id,
            org_unit_id=person.unit_id,
            changed=changed,
        )
    return person


async def list_people(
    session: AsyncSession,
    *,
    unit_id: uuid.UUID | None = None,
    include_subunits: bool = False,
    active: bool | None = None,
    staff_number: str | None = None,
    account_id: uuid.UUID | None = None,
    after_id: uuid.UUID | None = None,
    limit: int = 50,
) -> list[Person]:
    """People ordered by id. Names are encrypted, so look-up is by staff number (exact), unit or account."""
    query = select(Person).order_by(Person.id).limit(limit)
    if unit_id is not None:
        if include_subunits:
            query = query.where(Person.unit_id.in_(await subtree_ids(session, unit_id)))
        else:
            query = query.where(Person.unit_id == unit_id)
    if active is not None:
        query = query.where(Person.active == active)
    if staff_number:
        query = query.where(Person.staff_number_hash == lookup_hash(normalize_staff_number(staff_number)))
    if account_id is not None:
        query = query.where(Person.account_id == account_id)
    if after_id is not None:
        query = query.where(Person.id > after_id)
    return list((await session.scalars(query)).all())


async def subtree_ids(session: AsyncSession, unit_id: uuid.UUID) -> list[uuid.UUID]:
    """The unit and every unit below it."""
    tree = select(OrgUnit.id).where(OrgUnit.id == unit_id).cte("tree", recursive=True)
    child = aliased(OrgUnit)
    tree = tree.union(select(child.id).join(tree, child.parent_id == tree.c.id))
    return list((await session.scalars(select(tree.c.id))).all())


def account_units(account_id: uuid.UUID | SQLColumnExpression[uuid.UUID]) -> CompoundSelect[uuid.UUID]:
    """The org units an account belongs to, as SQL: the primary unit of every active person linked to it, and
    those people's secondary posts (``person_posts``). ``account_id`` may be a column (a correlated query)."""
    primary = select(Person.unit_id.label("unit_id")).where(Person.account_id == account_id, Person.active)
    posts = (
        select(PersonPost.unit_id.label("unit_id"))
        .join(Person, Person.id == PersonPost.person_id)
        .where(Person.account_id == account_id, Person.active)
    )
    return primary.union(posts)


async def list_posts(session: AsyncSession, person_id: uuid.UUID) -> list[PersonPost]:
    await get_person(session, person_id)
    rows = await session.scalars(select(PersonPost).where(PersonPost.person_id == person_id).order_by(PersonPost.id))
    return list(rows)


async def add_post(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    unit_id: uuid.UUID,
    title_zh: str | None = None,
    title_en: str | None = None,
    actor_id: uuid.UUID | None,
) -> PersonPost:
    """Give a person a secondary post in ``unit_id`` (409 when the person is already there)."""
    person = await get_person(session, person_id)
    errors = await _check_person_refs(session, unit_id, None)
    if errors:
        raise Invalid("the post cannot be added", errors=errors)
    taken = await session.scalar(
        select(PersonPost.id).where(PersonPost.person_id == person_id, PersonPost.unit_id == unit_id)
    )
    if taken is not None or person.unit_id == unit_id:
        raise Conflict("the person already belongs to this unit", code="post-exists")
    post = PersonPost(person_id=person_id, unit_id=unit_id, title_zh=title_zh, title_en=title_en)
    session.add(post)
    await session.flush()
    await journal.record(
        session, "person.updated", actor_id=actor_id, subject_id=person_id, org_unit_id=unit_id, changed=["posts"]
    )
    return post


async def remove_post(
    session: AsyncSession, person_id: uuid.UUID, unit_id: uuid.UUID, *, actor_id: uuid.UUID | None
) -> None:
    post = await session.scalar(
        select(PersonPost).where(PersonPost.person_id == person_id, PersonPost.unit_id == unit_id)
    )
    if post is None:
        raise NotFound("the person has no post in this unit", code="post-not-found")
    await session.delete(post)
    await session.flush()
    await journal.record(
        session, "person.updated", actor_id=actor_id, subject_id=person_id, org_unit_id=unit_id, changed=["posts"]
    )


# --- emergency groups -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupDefault:
    key: str
    name_zh: str
    name_en: str
    duties_zh: str
    duties_en: str
    leader_post_zh: str | None = None
    leader_post_en: str | None = None
    deputy_posts_zh: str | None = None
    deputy_posts_en: str | None = None
    member_posts_zh: str | None = None
    member_posts_en: str | None = None


# The four groups of the seed plan (§3 and §4.5), in Simplified Chinese and English.
DEFAULT_GROUPS: tuple[GroupDefault, ...] = (
    GroupDefault(
        key="leadership",
        name_zh="领导小组",
        name_en="Leadership group",
        duties_zh="负责本预案的实施，统筹协调各部门的应急工作，下达应急指令，确保信访事件的高效处理。",
        duties_en=(
            "Implements this plan, coordinates the emergency work of all offices and issues instructions, "
            "so that petition events are handled efficiently."
        ),
        leader_post_zh="校党委书记",
        leader_post_en="Secretary of the university Party committee",
        deputy_posts_zh="校长、副校长",
        deputy_posts_en="President; vice presidents",
        member_posts_zh="教务处、学生处、保卫处、宣传部、后勤管理处等相关部门负责人",
        member_posts_en=(
            "Heads of Academic Affairs, Student Affairs, Security, Publicity, Logistics and the other offices concerned"
        ),
    ),
    GroupDefault(
        key="handling",
        name_zh="应急处置小组",
        name_en="Emergency handling group",
        duties_zh="对信访事件进行具体处置，及时收集信息，制定应对方案，协调各方资源。",
        duties_en=(
            "Handles the petition event on site, gathers information in time, drafts the response and "
            "coordinates resources."
        ),
        leader_post_zh="学生处处长",
        leader_post_en="Director of Student Affairs",
        deputy_posts_zh="保卫处处长",
        deputy_posts_en="Director of Security",
        member_posts_zh="各学院学生工作负责人、心理咨询中心工作人员等",
        member_posts_en="Each college's student-affairs lead; staff of the counseling center",
    ),
    GroupDefault(
        key="info_release",
        name_zh="信息发布小组",
        name_en="Information release group",
        duties_zh="负责信息的收集、整理与发布，确保信息传递的及时性与准确性，维护学校形象。",
        duties_en=(
            "Gathers, edits and publishes information, keeps it timely and accurate, and protects the "
            "university's image."
        ),
        leader_post_zh="宣传部部长",
        leader_post_en="Head of the Publicity Department",
        deputy_posts_zh="学生处副处长",
        deputy_posts_en="Deputy director of Student Affairs",
        member_posts_zh="新闻中心工作人员、各学院宣传联络员",
        member_posts_en="News center staff; each college's publicity liaison",
    ),
    GroupDefault(
        key="logistics",
        name_zh="后勤保障组",
        name_en="Logistics support group",
        duties_zh="根据现场情况提供必要的后勤支持，包括饮水、医疗救助、场地保障等，确保应急处置工作的顺利进行。",
        duties_en=(
            "Provides the logistics support the situation needs (drinking water, medical aid, venue) so that "
            "the emergency response runs smoothly."
        ),
        leader_post_zh="后勤管理处负责人",
        leader_post_en="Head of the Logistics office",
        member_posts_zh="后勤管理处、校医院等相关人员",
        member_posts_en="Staff of the Logistics office, the campus clinic and others concerned",
    ),
)


async def seed_default_groups(session: AsyncSession) -> int:
    """Create the plan's default groups that the current university lacks (empty); returns how many were added.

    Idempotent: an existing group of the same key is left as the university edited it.
    """
    now = utcnow()
    rows = [
        {"tenant_id": require_tenant(), "id": new_id(), **asdict(d), "created_at": now, "updated_at": now}
        for d in DEFAULT_GROUPS
    ]
    result = await session.execute(
        pg_insert(EmergencyGroup)
        .values(rows)
        .on_conflict_do_nothing(index_elements=["tenant_id", "key"])
        .returning(EmergencyGroup.id, EmergencyGroup.key)
    )
    added = result.all()
    for group_id, key in added:
        await journal.record(session, "group.created", subject_id=group_id, key=key, seeded=True)
    return len(added)


async def get_group(session: AsyncSession, key: str) -> EmergencyGroup:
    group = await session.scalar(select(EmergencyGroup).where(EmergencyGroup.key == key))
    if group is None:
        raise NotFound(f"no emergency group {key!r}", code="group-not-found")
    return group


async def list_groups(session: AsyncSession) -> list[EmergencyGroup]:
    return list((await session.scalars(select(EmergencyGroup).order_by(EmergencyGroup.created_at))).all())


async def create_group(
    session: AsyncSession,
    *,
    key: str,
    name_zh: str,
    name_en: str,
    duties_zh: str,
    duties_en: str,
    actor_id: uuid.UUID | None,
    **posts: str | None,
) -> EmergencyGroup:
    if not GROUP_KEY.match(key):
        raise Invalid(
            "invalid group key",
            errors=[{"field": "key", "message": "lowercase letters, digits and '_', starting with a letter, 2-40"}],
        )
    if await session.scalar(select(EmergencyGroup.id).where(EmergencyGroup.key == key)):
        raise Conflict(f"a group {key!r} exists", code="group-key-taken")
    group = EmergencyGroup(key=key, name_zh=name_zh, name_en=name_en, duties_zh=duties_zh, duties_en=duties_en, **posts)
    session.add(group)
    await session.flush()
    await journal.record(session, "group.created", actor_id=actor_id, subject_id=group.id, key=key, seeded=False)
    return group


GROUP_TEXT_FIELDS = (
    "name_zh",
    "name_en",
    "duties_zh",
    "duties_en",
    "leader_post_zh",
    "leader_post_en",
    "deputy_posts_zh",
    "deputy_posts_en",
    "member_posts_zh",
    "member_posts_en",
)


async def update_group(
    session: AsyncSession, key: str, *, actor_id: uuid.UUID | None, **changes: str | None
) -> EmergencyGroup:
    """Change names, duties or posts of a group (the key is its stable identity and does not change)."""
    group = await get_group(session, key)
    unknown = set(changes) - set(GROUP_TEXT_FIELDS)
    if unknown:
        raise Invalid("unknown fields", errors=[{"field": f, "message": "not editable"} for f in sorted(unknown)])
    changed = [f for f, v in changes.items() if getattr(group, f) != v]
    for field in changed:
        setattr(group, field, changes[field])
    if changed:
        await session.flush()
        await journal.record(
            session, "group.updated", actor_id=actor_id, subject_id=group.id, key=key, changed=sorted(changed)
        )
    return group


async def group_members(session: AsyncSession, group_id: uuid.UUID) -> list[tuple[GroupMember, Person]]:
    rows = await session.execute(
        select(GroupMember, Person)
        .join(Person, Person.id == GroupMember.person_id)
        .where(GroupMember.group_id == group_id)
        .order_by(GroupMember.created_at, GroupMember.id)
    )
    return [(m, p) for m, p in rows]


async def _check_leader_free(session: AsyncSession, group: EmergencyGroup, person_id: uuid.UUID) -> None:
    holder = await session.scalar(
        select(GroupMember.person_id).where(GroupMember.group_id == group.id, GroupMember.role == MemberRole.leader)
    )
    if holder is not None and holder != person_id:
        raise Conflict(
            f"group {group.key!r} already has a leader: change that member's role first",
            code="group-leader-taken",
            leader_person_id=str(holder),
        )


async def add_member(
    session: AsyncSession, key: str, *, person_id: uuid.UUID, role: MemberRole, actor_id: uuid.UUID | None
) -> GroupMember:
    group = await get_group(session, key)
    person = await session.scalar(select(Person).where(Person.id == person_id))
    if person is None:
        raise Invalid("unknown person", errors=[{"field": "person_id", "message": "no such person"}])
    if not person.active:
        raise Conflict("the person is deactivated", code="person-inactive")
    if await session.scalar(
        select(GroupMember.id).where(GroupMember.group_id == group.id, GroupMember.person_id == person_id)
    ):
        raise Conflict("the person is already in this group", code="group-member-exists")
    if role is MemberRole.leader:
        await _check_leader_free(session, group, person_id)
    member = GroupMember(group_id=group.id, person_id=person_id, role=role)
    session.add(member)
    await _flush_membership(session)
    await journal.record(
        session, "group.member_added", actor_id=actor_id, subject_id=person_id, key=key, role=str(role)
    )
    return member


async def _flush_membership(session: AsyncSession) -> None:
    """Flush; a concurrent second leader (or duplicate) caught by the unique indexes becomes a 409."""
    try:
        async with session.begin_nested():
            await session.flush()
    except IntegrityError:
        raise Conflict("the group changed concurrently: reload and retry", code="group-conflict") from None


async def _get_member(session: AsyncSession, group: EmergencyGroup, person_id: uuid.UUID) -> GroupMember:
    member = await session.scalar(
        select(GroupMember).where(GroupMember.group_id == group.id, GroupMember.person_id == person_id)
    )
    if member is None:
        raise NotFound("the person is not in this group", code="group-member-not-found")
    return member


async def change_member_role(
    session: AsyncSession, key: str, *, person_id: uuid.UUID, role: MemberRole, actor_id: uuid.UUID | None
) -> GroupMember:
    group = await get_group(session, key)
    member = await _get_member(session, group, person_id)
    if member.role == role:
        return member
    if role is MemberRole.leader:
        await _check_leader_free(session, group, person_id)
    old = member.role
    member.role = role
    await _flush_membership(session)
    await journal.record(
        session,
        "group.member_role_changed",
        actor_id=actor_id,
        subject_id=person_id,
        key=key,
        role=str(role),
        previous_role=old,
    )
    return member


async def remove_member(session: AsyncSession, key: str, *, person_id: uuid.UUID, actor_id: uuid.UUID | None) -> None:
    group = await get_group(session, key)
    member = await _get_member(session, group, person_id)
    await session.delete(member)
    await session.flush()
    await journal.record(
        session, "group.member_removed", actor_id=actor_id, subject_id=person_id, key=key, role=member.role
    )
