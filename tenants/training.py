"""Training sessions and drills (§7), and compliance with the published plan's cadence."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

import msgspec
from sqlalchemy import CheckConstraint, Date, ForeignKeyConstraint, Index, String, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from tenants import journal
from tenants.clock import utcnow
from tenants.db import Base, TenantOwned, require_tenant
from tenants.errors import Invalid, NotFound
from tenants.org import Person
from tenants.plans.content import TrainingCadence


class SessionKind(enum.StrEnum):
    training = "training"
    drill = "drill"


class TrainingSession(TenantOwned, Base):
    __tablename__ = "training_sessions"

    held_on: Mapped[dt.date] = mapped_column(Date, nullable=False)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    topic: Mapped[str] = mapped_column(String(200), nullable=False)
    notes: Mapped[str | None] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(default=utcnow, nullable=False)
    created_by: Mapped[uuid.UUID | None]

    __table_args__ = (
        ForeignKeyConstraint(["tenant_id"], ["tenants.id"]),
        ForeignKeyConstraint(["tenant_id", "created_by"], ["accounts.tenant_id", "accounts.id"]),
        CheckConstraint("kind in ('training', 'drill')", name="kind"),
        Index("ix_training_sessions_tenant_held_on", "tenant_id", "held_on"),
    )


class TrainingParticipant(Base):
    __tablename__ = "training_participants"

    tenant_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=lambda: require_tenant())
    session_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)

    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "session_id"], ["training_sessions.tenant_id", "training_sessions.id"], ondelete="CASCADE"
        ),
        ForeignKeyConstraint(["tenant_id", "person_id"], ["people.tenant_id", "people.id"]),
        Index("ix_training_participants_tenant_person", "tenant_id", "person_id"),
    )


# --- compliance (pure) ------------------------------------------------------------------------------------------


class Roster(Protocol):
    """The part of an emergency group (``tenants.org.GroupRoster``) compliance needs."""

    @property
    def leader_person_id(self) -> uuid.UUID | None: ...
    @property
    def deputy_person_ids(self) -> tuple[uuid.UUID, ...]: ...
    @property
    def member_person_ids(self) -> tuple[uuid.UUID, ...]: ...


class Held(msgspec.Struct, frozen=True, kw_only=True):
    """A session as compliance sees it."""

    held_on: dt.date
    kind: SessionKind
    participants: frozenset[uuid.UUID]


class PersonStatus(msgspec.Struct, frozen=True, kw_only=True):
    person_id: uuid.UUID
    groups: list[str]
    last_trained_on: dt.date | None
    due_on: dt.date | None
    overdue: bool


class DrillStatus(msgspec.Struct, frozen=True, kw_only=True):
    last_drill_on: dt.date | None
    due_on: dt.date | None
    met: bool


class Compliance(msgspec.Struct, frozen=True, kw_only=True):
    as_of: dt.date
    training_every_days: int
    drill_every_days: int
    people: list[PersonStatus]
    overdue: list[uuid.UUID]
    drill: DrillStatus


def members(roster: Roster) -> list[uuid.UUID]:
    """Leader, deputies and members of a group, each once, in that order."""
    ordered = [roster.leader_person_id, *roster.deputy_person_ids, *roster.member_person_ids]
    return list(dict.fromkeys(p for p in ordered if p is not None))


def compliance(
    cadence: TrainingCadence, groups: Mapping[str, Roster], sessions: Sequence[Held], *, as_of: dt.date
) -> Compliance:
    """Who among the trained groups is overdue (never trained counts as overdue), and whether drills keep pace.

    A training or a drill both count as training for the people who took part; sessions after ``as_of`` are
    ignored. A drill is on cadence while the last one is at most ``drill_every_days`` old.
    """
    past = [s for s in sessions if s.held_on <= as_of]
    last_trained: dict[uuid.UUID, dt.date] = {}
    for s in past:
        for person in s.participants:
            if person not in last_trained or s.held_on > last_trained[person]:
                last_trained[person] = s.held_on
    people_groups: dict[uuid.UUID, list[str]] = {}
    for key in cadence.training_groups:
        if key in groups:
            for person in members(groups[key]):
                people_groups.setdefault(person, []).append(key)
    every = dt.timedelta(days=cadence.training_every_days)
    people = []
    for person, keys in people_groups.items():
        last = last_trained.get(person)
        due = last + every if last else None
        people.append(
            PersonStatus(
                person_id=person,
                groups=keys,
                last_trained_on=last,
                due_on=due,
                overdue=due is None or due < as_of,
            )
        )
    drills = [s.held_on for s in past if s.kind == SessionKind.drill]
    last_drill = max(drills, default=None)
    drill_due = last_drill + dt.timedelta(days=cadence.drill_every_days) if last_drill else None
    return Compliance(
        as_of=as_of,
        training_every_days=cadence.training_every_days,
        drill_every_days=cadence.drill_every_days,
        people=people,
        overdue=[p.person_id for p in people if p.overdue],
        drill=DrillStatus(last_drill_on=last_drill, due_on=drill_due, met=drill_due is not None and drill_due >= as_of),
    )


# --- services ---------------------------------------------------------------------------------------------------


async def record_session(
    session: AsyncSession,
    *,
    held_on: dt.date,
    kind: SessionKind,
    topic: str,
    participants: Sequence[uuid.UUID],
    notes: str | None,
    actor_id: uuid.UUID | None,
    today: dt.date,
) -> TrainingSession:
    """Record a training session or drill that took place; journals ``training.recorded``."""
    errors = []
    if held_on > today:
        errors.append({"field": "held_on", "message": "record a session once it has taken place"})
    if not topic.strip():
        errors.append({"field": "topic", "message": "the topic is empty"})
    people = list(dict.fromkeys(participants))
    known = set(await session.scalars(select(Person.id).where(Person.id.in_(people)))) if people else set()
    for i, person in enumerate(participants):
        if person not in known:
            errors.append({"field": f"participants[{i}]", "message": f"no person {person} in the organization chart"})
    if errors:
        raise Invalid("the session cannot be recorded", errors=errors)
    row = TrainingSession(held_on=held_on, kind=kind, topic=topic.strip(), notes=notes, created_by=actor_id)
    session.add(row)
    await session.flush()
    session.add_all(TrainingParticipant(session_id=row.id, person_id=p) for p in people)
    await session.flush()
    await journal.record(
        session,
        "training.recorded",
        actor_id=actor_id,
        subject_id=row.id,
        kind=str(kind),
        held_on=held_on.isoformat(),
        participant_count=len(people),
    )
    return row


async def participants_of(session: AsyncSession, session_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    rows = await session.execute(
        select(TrainingParticipant.session_id, TrainingParticipant.person_id)
        .where(TrainingParticipant.session_id.in_(session_ids))
        .order_by(TrainingParticipant.person_id)
    )
    out: dict[uuid.UUID, list[uuid.UUID]] = {sid: [] for sid in session_ids}
    for sid, pid in rows:
        out[sid].append(pid)
    return out


async def get_session(session: AsyncSession, session_id: uuid.UUID) -> TrainingSession:
    row = await session.scalar(select(TrainingSession).where(TrainingSession.id == session_id))
    if row is None:
        raise NotFound("no such training session")
    return row


async def list_sessions(
    session: AsyncSession, *, since: dt.date | None = None, until: dt.date | None = None
) -> list[TrainingSession]:
    query = select(TrainingSession).order_by(TrainingSession.held_on.desc(), TrainingSession.id.desc())
    if since:
        query = query.where(TrainingSession.held_on >= since)
    if until:
        query = query.where(TrainingSession.held_on <= until)
    return list((await session.scalars(query)).all())


async def held_sessions(session: AsyncSession, *, until: dt.date) -> list[Held]:
    """Every session up to ``until`` with its participants, as compliance needs them."""
    rows = await list_sessions(session, until=until)
    people = await participants_of(session, [r.id for r in rows])
    return [Held(held_on=r.held_on, kind=SessionKind(r.kind), participants=frozenset(people[r.id])) for r in rows]
