"""The one scope policy of petitions: which petitions a caller may see and act on, as SQL.

Every read and write of a petition goes through the where-clauses built here, so lists and counts are filtered
in the database and a single petition out of scope is simply not found (404, like an unknown id):

- **own**: every account sees the petitions it submitted itself (``petitioner_account_id``); a ``petitioner``
  sees nothing else.
- **handling side** (``handles``): tenant admins and petition officers (the petition office) handle every
  petition of the university; a ``staff`` account handles the petitions currently assigned or transferred to one
  of its units or to a unit below it (``org_unit_id``, recursive over ``org_units.parent_id``), and those it
  registered itself (``registered_by``). A petition transferred away leaves the old unit's scope; the journal
  keeps the history for the office.
- **an account's units**: the primary unit of every active person of the org chart linked to the account, and
  those people's secondary posts (``person_posts``; ``tenants.org.account_units``).
- **the accusation shield** (art. 30) applies on top, to the office too: an accusation whose accused unit is one
  of the caller's units or a unit above them is never seen by that caller (except by its own accuser).
- **integrator keys** with ``petitions:read`` or ``open311`` read every petition of their university, never an
  identity; they handle nothing.
- the petitioner's identity (name, phone, number, representatives) is shown to the accuser themself and to the
  handling side, never for an accusation (only the office's explicit, journaled reveal) and never to keys.
"""

from __future__ import annotations

import uuid

from sqlalchemy import ColumnElement, Select, and_, false, literal, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from service.petitions.models import Petition
from tenants.identity import Account, Principal, Role
from tenants.org import OrgUnit, account_units

STAFF_ROLES = frozenset({Role.staff, Role.petition_officer, Role.tenant_admin})
# The petition office: every petition of the university (and the only ones who may reveal a sealed identity).
OFFICE_ROLES = frozenset({Role.petition_officer, Role.tenant_admin})
KEY_READ_SCOPES = frozenset({"petitions:read", "open311"})
# The personal fields a petition response can carry, by the name the access log records.
PERSONAL_FIELDS = {
    "petitioner.name": "petitioner_name",
    "petitioner.phone": "petitioner_phone",
    "petitioner.number": "petitioner_number",
    "representatives": "representatives",
}


def units_below(account_id: uuid.UUID) -> Select[tuple[uuid.UUID]]:
    """The account's units and every unit below them."""
    tree = (
        select(OrgUnit.id)
        .where(OrgUnit.id.in_(account_units(account_id)))
        .cte("scope_below", recursive=True, nesting=True)
    )
    child = aliased(OrgUnit)
    tree = tree.union(select(child.id).join(tree, child.parent_id == tree.c.id))
    return select(tree.c.id)


def units_above(account_id: uuid.UUID) -> Select[tuple[uuid.UUID]]:
    """The account's units and every unit above them: whose accusations the account must never see."""
    tree = (
        select(OrgUnit.id, OrgUnit.parent_id)
        .where(OrgUnit.id.in_(account_units(account_id)))
        .cte("scope_above", recursive=True, nesting=True)
    )
    parent = aliased(OrgUnit)
    tree = tree.union(select(parent.id, parent.parent_id).join(tree, parent.id == tree.c.parent_id))
    return select(tree.c.id)


def own(principal: Principal) -> ColumnElement[bool]:
    if principal.kind != "account" or principal.subject_id is None:
        return false()
    return Petition.petitioner_account_id == principal.subject_id


def not_shielded(principal: Principal) -> ColumnElement[bool]:
    """False for an accusation against one of the caller's units or a unit above them (art. 30)."""
    if principal.kind != "account" or principal.subject_id is None:
        return true()
    return or_(
        Petition.kind != "accusation",
        Petition.accused_org_unit_id.is_(None),
        Petition.accused_org_unit_id.not_in(units_above(principal.subject_id)),
    )


def handles(principal: Principal) -> ColumnElement[bool]:
    """The petitions the caller may handle (take staff actions on, and see the petitioner's identity of)."""
    if principal.kind != "account" or principal.subject_id is None or principal.role not in STAFF_ROLES:
        return false()
    if principal.role in OFFICE_ROLES:
        return not_shielded(principal)
    return and_(
        or_(
            Petition.org_unit_id.in_(units_below(principal.subject_id)),
            Petition.registered_by == principal.subject_id,
        ),
        not_shielded(principal),
    )


def listed(principal: Principal) -> ColumnElement[bool]:
    """What the staff list, search and Open311 show the caller: the handling side's petitions, or (integrator
    keys) the whole university's."""
    if principal.kind == "api_key":
        return true() if principal.scopes & KEY_READ_SCOPES else false()
    return handles(principal)


def visible(principal: Principal) -> ColumnElement[bool]:
    """Every petition the caller may read one by one: its own, and those listed for it."""
    return or_(own(principal), listed(principal))


def identity_shown(principal: Principal, petition: Petition, *, handled: bool) -> bool:
    """Whether a response to this caller carries the petitioner's identity (``handled``: the petition is in the
    caller's ``handles`` scope). An accuser's identity is sealed from everyone but the accuser (art. 30)."""
    if principal.subject_id is not None and principal.subject_id == petition.petitioner_account_id:
        return True
    return handled and petition.kind != "accusation" and principal.kind == "account"


def personal_fields(petition: Petition) -> list[str]:
    """The personal fields of this petition that hold a value (what a response with its identity carries)."""
    return [name for name, column in PERSONAL_FIELDS.items() if getattr(petition, column)]


async def unit_accounts(session: AsyncSession, unit_id: uuid.UUID) -> list[Account]:
    """The active staff accounts one of whose units (``tenants.org.account_units``) is ``unit_id``: who handles
    what is sent to that unit."""
    rows = await session.scalars(
        select(Account).where(
            Account.active,
            Account.role.in_([r.value for r in STAFF_ROLES]),
            literal(unit_id).in_(account_units(Account.id)),  # type: ignore[arg-type]
        )
    )
    return list(rows)
