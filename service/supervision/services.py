"""Supervision rules: who issues, who answers, what each caller sees, the overdue scan and its escalation.

- **issuer side**: the petition office (``petition_officer``, ``tenant_admin``) and the members of the
  ``leadership`` emergency group issue orders, accept or return answers and close orders; they see every order
  (an order on a petition only while the petition is in their scope, ``service.petitions.scope``).
- **the answering unit**: accounts whose units (``tenants.org.account_units``) include the order's unit answer
  it; accounts of that unit or a unit above it see it (``scope.units_below``), whatever the petition's scope.
- anyone else: an order is not found (404), like an unknown id.
- **the unit's head**: the org chart has no head field, so an overdue order escalates to the order's unit when
  one of its active people holds a head title (``HEAD_TITLES``), otherwise to its parent unit; and always to
  the leadership group (both see the flagged order in their lists, ``?overdue=true``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from service.incidents.models import Task
from service.incidents.services import get_incident, group_roles
from service.petitions import scope
from service.petitions.models import Petition
from service.petitions.scope import OFFICE_ROLES, unit_accounts
from service.petitions.services import find_petition
from service.supervision.models import Order
from service.supervision.workflow import AWAITING, UNIT_ACTIONS, Action, State, transition
from tenants import journal, org
from tenants.clock import utcnow
from tenants.db import require_tenant
from tenants.errors import Conflict, Forbidden, Invalid, NotFound
from tenants.identity import Account, Principal

LEADERSHIP = "leadership"
# Title words that make a person the head of their unit (处长、主任、院长、部长、书记; head, director, dean).
HEAD_TITLES_ZH = ("处长", "主任", "院长", "部长", "书记", "负责人")
HEAD_TITLES_EN = ("head", "director", "dean", "chief")
MAX_DAYS = 366


async def issuer_side(session: AsyncSession, principal: Principal) -> str | None:
    """``office`` or ``leadership`` when the caller may issue orders, else None."""
    if principal.kind != "account" or principal.subject_id is None:
        return None
    if principal.role in OFFICE_ROLES:
        return "office"
    if LEADERSHIP in await group_roles(session, principal.subject_id):
        return "leadership"
    return None


def _answering(principal: Principal) -> ColumnElement[bool]:
    if principal.kind != "account" or principal.subject_id is None:
        return false()
    return Order.org_unit_id.in_(scope.units_below(principal.subject_id))


def _visible(principal: Principal, issuer: bool) -> ColumnElement[bool]:
    """The orders the caller sees, as SQL."""
    if principal.kind != "account" or principal.subject_id is None:
        return false()
    petition_in_scope = or_(
        Order.petition_id.is_(None),
        exists(select(Petition.id).where(Petition.id == Order.petition_id, scope.visible(principal))),
    )
    return or_(_answering(principal), and_(true() if issuer else false(), petition_in_scope))


async def _answers_for(session: AsyncSession, principal: Principal, unit_id: uuid.UUID) -> bool:
    if principal.kind != "account" or principal.subject_id is None:
        return False
    units = org.account_units(principal.subject_id).subquery()
    return bool(await session.scalar(select(exists().where(units.c.unit_id == unit_id))))


@dataclass(frozen=True)
class OrderIn:
    org_unit_id: uuid.UUID
    expected: str
    due_at: datetime
    petition_id: uuid.UUID | None = None
    incident_id: uuid.UUID | None = None
    task_id: uuid.UUID | None = None


def _common(order: Order, actor_id: uuid.UUID | None) -> dict[str, object]:
    return {
        "actor_id": actor_id,
        "subject_id": order.id,
        "petition_id": order.petition_id,
        "incident_id": order.incident_id,
        "org_unit_id": order.org_unit_id,
    }


def _kind(order: Order) -> str:
    return "petition" if order.petition_id is not None else "task"


async def issue(session: AsyncSession, data: OrderIn, *, principal: Principal) -> Order:
    side = await issuer_side(session, principal)
    if side is None:
        raise Forbidden(
            "only the petition office or the leadership group issues supervision orders / 仅信访办或领导小组可下达督办"
        )
    now = utcnow()
    errors = []
    if (data.petition_id is None) == (data.task_id is None):
        errors.append({"field": "petition_id", "message": "give a petition or an incident task, not both"})
    if data.task_id is not None and data.incident_id is None:
        errors.append({"field": "incident_id", "message": "required with a task"})
    if data.due_at <= now:
        errors.append({"field": "due_at", "message": "must be in the future"})
    elif data.due_at > now + timedelta(days=MAX_DAYS):
        errors.append({"field": "due_at", "message": f"at most {MAX_DAYS} days ahead"})
    if errors:
        raise Invalid("the supervision order is invalid", errors=errors)
    unit = await org.get_unit(session, data.org_unit_id)
    if not unit.active:
        raise Invalid("the unit is inactive", errors=[{"field": "org_unit_id", "message": "inactive unit"}])
    if data.petition_id is not None:
        petition, _ = await find_petition(session, data.petition_id, principal)
        accused = petition.accused_org_unit_id if petition.kind == "accusation" else None
        if accused is not None and unit.id in await org.subtree_ids(session, accused):
            raise Invalid(
                "an accusation is never sent to the accused unit (art. 30)",
                errors=[{"field": "org_unit_id", "message": "the accused unit or a unit below it"}],
            )
    else:
        assert data.incident_id is not None and data.task_id is not None
        await get_incident(session, data.incident_id)
        task = await session.scalar(select(Task).where(Task.id == data.task_id, Task.incident_id == data.incident_id))
        if task is None:
            raise NotFound("no such task")
    order = Order(
        petition_id=data.petition_id,
        task_id=data.task_id,
        incident_id=data.incident_id,
        org_unit_id=unit.id,
        expected=data.expected,
        due_at=data.due_at,
        state=State.issued.value,
        version=1,
        issued_by=principal.subject_id,
        issued_at=now,
        updated_at=now,
    )
    session.add(order)
    await session.flush()
    await journal.record(
        session,
        "supervision.issued",
        **_common(order, principal.subject_id),
        kind=_kind(order),
        by=side,
        due_at=order.due_at.isoformat(),
    )
    return order


async def find_order(session: AsyncSession, order_id: uuid.UUID, principal: Principal, *, lock: bool = False) -> Order:
    issuer = await issuer_side(session, principal) is not None
    query = select(Order).where(Order.id == order_id, _visible(principal, issuer))
    order = await session.scalar(query.with_for_update(of=Order) if lock else query)
    if order is None:
        raise NotFound("no such supervision order / 督办单不存在")
    return order


async def list_orders(
    session: AsyncSession,
    principal: Principal,
    *,
    petition_id: uuid.UUID | None = None,
    org_unit_id: uuid.UUID | None = None,
    state: str | None = None,
    overdue: bool | None = None,
    limit: int = 100,
) -> list[Order]:
    issuer = await issuer_side(session, principal) is not None
    query = select(Order).where(_visible(principal, issuer))
    if petition_id is not None:
        query = query.where(Order.petition_id == petition_id)
    if org_unit_id is not None:
        query = query.where(Order.org_unit_id == org_unit_id)
    if state is not None:
        query = query.where(Order.state == state)
    if overdue is not None:
        query = query.where(Order.overdue_at.is_not(None) if overdue else Order.overdue_at.is_(None))
    return list(await session.scalars(query.order_by(Order.issued_at.desc(), Order.id).limit(limit)))


async def act(
    session: AsyncSession,
    order_id: uuid.UUID,
    action: Action,
    *,
    principal: Principal,
    version: int,
    text: str | None = None,
    due_at: datetime | None = None,
) -> Order:
    """answer (the unit), accept / return / close (the issuer side): the transition table decides (409)."""
    order = await find_order(session, order_id, principal, lock=True)
    if action in UNIT_ACTIONS:
        if not await _answers_for(session, principal, order.org_unit_id):
            raise Forbidden("only the order's unit answers it / 仅被督办单位可答复", code="not-the-unit")
    elif await issuer_side(session, principal) is None:
        raise Forbidden(
            "only the petition office or the leadership group reviews supervision answers"
            " / 仅信访办或领导小组可审核督办答复"
        )
    nxt = transition(order.state, action)
    if version != order.version:
        raise Conflict("the order changed meanwhile", code="stale", version=order.version, state=order.state)
    now = utcnow()
    errors = []
    if action in (Action.answer, Action.return_) and not text:
        errors.append({"field": "text", "message": "required for this action"})
    if due_at is not None and (action != Action.return_ or due_at <= now):
        errors.append({"field": "due_at", "message": "a new due time in the future, only when returning"})
    if errors:
        raise Invalid("the action is incomplete", errors=errors)
    common = _common(order, principal.subject_id)
    if action == Action.answer:
        on_time = now <= order.due_at
        order.answer, order.answered_by, order.answered_at = text, principal.subject_id, now
        await journal.record(session, "supervision.answered", **common, kind=_kind(order), on_time=on_time)
    elif action == Action.accept:
        order.review_note = text
        await journal.record(session, "supervision.accepted", **common, kind=_kind(order))
    elif action == Action.return_:
        order.review_note = text
        if due_at is not None:
            order.due_at, order.overdue_at, order.escalated_to_unit_id = due_at, None, None
        await journal.record(
            session, "supervision.returned", **common, kind=_kind(order), due_at=order.due_at.isoformat()
        )
    else:
        order.closed_at = now
        await journal.record(session, "supervision.closed", **common, kind=_kind(order))
    order.state, order.version, order.updated_at = nxt.value, order.version + 1, now
    await session.flush()
    return order


# --- the periodic scan ------------------------------------------------------------------------------------------


def _is_head() -> ColumnElement[bool]:
    title_words = [org.Person.title_zh.contains(w) for w in HEAD_TITLES_ZH]
    title_words += [org.Person.title_en.ilike(f"%{w}%") for w in HEAD_TITLES_EN]
    return and_(org.Person.active, or_(*title_words))


async def head_unit(session: AsyncSession, unit_id: uuid.UUID) -> tuple[uuid.UUID, str]:
    """Where an overdue order escalates: the unit itself when it has a head (an active person with a head title),
    else its parent unit (the university's root has no parent: then the unit itself)."""
    head = await session.scalar(select(org.Person.id).where(org.Person.unit_id == unit_id, _is_head()).limit(1))
    if head is not None:
        return unit_id, "unit_head"
    parent = await session.scalar(select(org.OrgUnit.parent_id).where(org.OrgUnit.id == unit_id))
    return (parent, "parent_unit") if parent is not None else (unit_id, "unit_head")


async def flag_overdue(session: AsyncSession, now: datetime) -> int:
    """Flag every order whose due time passed unanswered, once per due time (the ``overdue_at`` claim), journal
    ``supervision.overdue`` and escalate. Returns how many were flagged."""
    rows = await session.scalars(
        select(Order)
        .where(Order.state.in_([s.value for s in AWAITING]), Order.due_at < now, Order.overdue_at.is_(None))
        .with_for_update(skip_locked=True)
    )
    flagged = 0
    for order in rows.all():
        to_unit, escalation = await head_unit(session, order.org_unit_id)
        order.overdue_at, order.escalated_to_unit_id = now, to_unit
        await journal.record(
            session,
            "supervision.overdue",
            **_common(order, None),
            kind=_kind(order),
            escalated_to=escalation,
            due_at=order.due_at.isoformat(),
        )
        flagged += 1
    await session.flush()
    return flagged


async def escalation_accounts(session: AsyncSession, order_id: uuid.UUID) -> list[Account]:
    """Who hears of an overdue order: the heads of the unit it escalated to (their linked active accounts; every
    active account of that unit when no head has one) and every member of the leadership group with an account."""
    order = await session.get(Order, (require_tenant(), order_id))
    if order is None or order.escalated_to_unit_id is None:
        return []
    unit = order.escalated_to_unit_id
    heads = await session.scalars(
        select(Account)
        .join(org.Person, org.Person.account_id == Account.id)
        .where(org.Person.unit_id == unit, _is_head(), Account.active)
    )
    found = {a.id: a for a in heads.unique()}
    if not found:
        found = {a.id: a for a in await unit_accounts(session, unit)}
    roster = (await org.group_roster(session)).get(LEADERSHIP)
    if roster is not None and roster.account_ids:
        rows = await session.scalars(select(Account).where(Account.id.in_(roster.account_ids), Account.active))
        found.update({a.id: a for a in rows})
    return sorted(found.values(), key=lambda a: a.id)
