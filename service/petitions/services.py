"""Petition business rules: intake, tracking numbers, the case workflow, identity sealing, ratings, escalation.

Keyword-only functions that take the session; they raise ``tenants.errors`` and journal every step in the
caller's transaction.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import secrets
import unicodedata
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
import structlog
from sqlalchemy import ColumnElement, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from service.petitions import access_log, deadlines, scope
from service.petitions.models import (
    MAX_REPRESENTATIVES,
    OUTCOMES,
    RATINGS,
    Attachment,
    Category,
    EscalatedPetition,
    EscalationRequest,
    Petition,
    PetitionSettings,
)
from service.petitions.notices import services as notices
from service.petitions.search import index_terms, query_terms
from service.petitions.storage import sniff, storage_from_settings
from service.petitions.workflow import PETITIONER_ACTIONS, Action, State, transition
from tenants import idempotency, journal, org, paging, tenancy
from tenants.cache import TTLCache
from tenants.clock import utcnow
from tenants.crypto import encrypt, lookup_hash
from tenants.db import Database, driver_connection, require_tenant, tenant_statements
from tenants.errors import Conflict, Forbidden, Invalid, NotFound
from tenants.identity import Principal
from tenants.ids import new_id
from tenants.settings import Settings
from tenants.tenancy import tenant_zone

STAFF_ROLES = scope.STAFF_ROLES
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud over the phone
assert len(_CODE_ALPHABET) == 32
LOOKUP_CODE_LENGTH = 12  # 60 bits
log = structlog.get_logger("xinfang.petitions")
NUMBER_BLOCK = 1000  # tracking numbers reserved at a time per process (NumberBlocks)
NUMBER_AHEAD = 100  # the next block is reserved when this many are left


# --- tenant facts cached per process ------------------------------------------------------------------------


async def get_settings(session: AsyncSession) -> PetitionSettings:
    row = await session.get(PetitionSettings, require_tenant())
    return row or PetitionSettings(
        tenant_id=require_tenant(),
        followup_days=28,
        reminder_hours=[72, 24],
        holidays=[],
        workdays=[],
        open311_anonymous_listing=True,
        places=[],
    )


_SETS = {"reminder_hours", "holidays", "workdays"}


async def update_settings(session: AsyncSession, *, actor_id: uuid.UUID | None, **changes: Any) -> PetitionSettings:
    """Change the given settings (``places`` replaces the whole list, kept in its order; codes unique;
    ``timezone``, the calendar's zone, is the university's own: ``tenancy.change_timezone``)."""
    row = await session.get(PetitionSettings, require_tenant(), with_for_update=True)
    if row is None:
        row = PetitionSettings(
            tenant_id=require_tenant(),
            followup_days=28,
            reminder_hours=[72, 24],
            holidays=[],
            workdays=[],
            open311_anonymous_listing=True,
            places=[],
        )
        session.add(row)
    errors = []
    if "reminder_hours" in changes and any(not 1 <= h <= 24 * 30 for h in changes["reminder_hours"]):
        errors.append({"field": "reminder_hours", "message": "each between 1 and 720 hours"})
    if "places" in changes:
        changes["places"] = [msgspec.to_builtins(p) for p in changes["places"]]
        codes = [p["code"] for p in changes["places"]]
        errors += [
            {"field": f"places[{i}].code", "message": f"the code {code!r} is used twice"}
            for i, code in enumerate(codes)
            if code in codes[:i]
        ]
    if errors:
        raise Invalid("petition settings are invalid", errors=errors)
    if "timezone" in changes:  # the working calendar's zone: the university's own record
        await tenancy.change_timezone(session, changes.pop("timezone"), actor_id=actor_id)
        if not changes:
            return row
    for key, value in changes.items():
        # The calendars and reminder points are sets (kept sorted); the places keep the order given, the order the
        # petitioner sees.
        setattr(row, key, sorted(set(value), reverse=key == "reminder_hours") if key in _SETS else value)
    row.updated_at = utcnow()
    await session.flush()
    await journal.record(session, "petition_settings.updated", actor_id=actor_id, changed=sorted(changes))
    return row


def calendar_of(settings: PetitionSettings, zone: ZoneInfo) -> deadlines.Calendar:
    return deadlines.Calendar(zone, frozenset(settings.holidays), frozenset(settings.workdays))


# --- categories -----------------------------------------------------------------------------------------------


async def list_categories(session: AsyncSession, *, active_only: bool = False) -> list[Category]:
    query = select(Category).order_by(Category.position, Category.code)
    if active_only:
        query = query.where(Category.active)
    return list((await session.scalars(query)).all())


async def get_category(session: AsyncSession, code: str) -> Category:
    category = await session.scalar(select(Category).where(Category.code == code))
    if category is None:
        raise NotFound(f"no petition category {code!r}")
    return category


async def create_category(session: AsyncSession, *, actor_id: uuid.UUID | None, **values: Any) -> Category:
    if await session.scalar(select(Category.id).where(Category.code == values["code"])):
        raise Conflict(f"a category with code {values['code']!r} exists", code="duplicate")
    _active.clear()
    category = Category(**values)
    session.add(category)
    await session.flush()
    await journal.record(
        session,
        "petition_category.created",
        actor_id=actor_id,
        subject_id=category.id,
        org_unit_id=category.default_org_unit_id,
        code=category.code,
    )
    return category


async def update_category(session: AsyncSession, code: str, *, actor_id: uuid.UUID | None, **changes: Any) -> Category:
    _active.clear()
    category = await get_category(session, code)
    changed = sorted(k for k, v in changes.items() if getattr(category, k) != v)
    for key in changed:
        setattr(category, key, changes[key])
    if changed:
        await session.flush()
        await journal.record(
            session,
            "petition_category.updated",
            actor_id=actor_id,
            subject_id=category.id,
            org_unit_id=category.default_org_unit_id,
            code=category.code,
            changed=changed,
        )
    return category


# Active categories by (tenant, code), per process: saves a round trip on every submission. Changes made in
# this process clear it at once; other processes see them within the TTL.
_active = TTLCache(5.0)


@dataclass(frozen=True)
class ActiveCategory:
    id: uuid.UUID
    default_org_unit_id: uuid.UUID | None


async def active_category(session: AsyncSession | asyncpg.Connection, code: str) -> ActiveCategory | None:
    """The active category ``code``, or None (cached for a few seconds). ``session`` may also be an asyncpg
    connection (``Database.intake_connection`` or ``driver_transaction``)."""
    key = (require_tenant(), code)
    hit = _active.get(key)
    if hit is None:
        if isinstance(session, AsyncSession):
            query = select(Category.id, Category.default_org_unit_id).where(Category.code == code, Category.active)
            row: Any = (await session.execute(query)).first()
        else:
            async with tenant_statements(session, key[0]):
                row = await session.fetchrow(
                    "select id, default_org_unit_id from petition_categories where code = $1 and active", code
                )
        hit = (ActiveCategory(*row) if row else None,)
        _active.put(key, hit)
    return hit[0]


# --- tracking numbers -----------------------------------------------------------------------------------------


class NumberBlocks:
    """Hands out tracking numbers from blocks reserved per (tenant, year), so the counter row is touched once per
    ``NUMBER_BLOCK`` numbers. The next block is reserved in the background when the current one runs low
    (``NUMBER_AHEAD`` left), so a submission waits for a reservation only on a university's first submission of a
    year in this process. Gaps are acceptable (a process that stops leaves the rest of its block unused).

    Blocks are reserved on a connection pool of their own: a request that already holds a connection of the main
    pool must never wait for a second one from it (under load that is a deadlock until the pool times out), and a
    reservation commits on its own, so a request that rolls back can never hand a block out twice.
    """

    def __init__(self) -> None:
        self._blocks: dict[tuple[uuid.UUID, int], list[tuple[int, int]]] = {}
        self._locks: dict[tuple[uuid.UUID, int], asyncio.Lock] = {}
        self._ahead: dict[tuple[uuid.UUID, int], asyncio.Task[None]] = {}  # background reservations
        self._pools: dict[int, Database] = {}

    def _pool(self, db: Database) -> Database:
        pool = self._pools.get(id(db))
        if pool is None:
            url = db.engine.url.render_as_string(hide_password=False)
            pool = self._pools[id(db)] = Database(url, pool_size=1, max_overflow=1)
        return pool

    async def next(self, db: Database, tenant_id: uuid.UUID, year: int) -> int:
        key = (tenant_id, year)
        blocks = self._blocks.setdefault(key, [])
        while True:
            while blocks and blocks[0][0] >= blocks[0][1]:
                blocks.pop(0)
            if blocks:
                n, end = blocks[0]
                blocks[0] = (n + 1, end)
                if len(blocks) == 1 and end - n - 1 <= NUMBER_AHEAD and key not in self._ahead:
                    self._ahead[key] = asyncio.create_task(self._reserve_ahead(db, key))
                return n
            await self._reserve(db, key, wanted=1)

    async def _reserve_ahead(self, db: Database, key: tuple[uuid.UUID, int]) -> None:
        try:
            await self._reserve(db, key, wanted=2)
        except Exception:  # the next submission that finds the block empty reserves one itself
            log.warning("tracking number block not reserved ahead", exc_info=True)
        finally:
            del self._ahead[key]

    async def _reserve(self, db: Database, key: tuple[uuid.UUID, int], *, wanted: int) -> None:
        """Reserve a block unless ``wanted`` blocks are already held (another task reserved while this waited)."""
        async with self._locks.setdefault(key, asyncio.Lock()):
            blocks = self._blocks.setdefault(key, [])
            if len([b for b in blocks if b[0] < b[1]]) >= wanted:
                return
            tenant_id, year = key
            async with self._pool(db).transaction(tenant_id) as session:
                start = await session.scalar(
                    text(
                        """
                        insert into petition_numbers (tenant_id, year, next_value) values (:t, :y, 1 + :n)
                        on conflict (tenant_id, year)
                        do update set next_value = petition_numbers.next_value + :n
                        returning next_value - :n
                        """
                    ),
                    {"t": tenant_id, "y": year, "n": NUMBER_BLOCK},
                )
            blocks.append((int(start), int(start) + NUMBER_BLOCK))


numbers = NumberBlocks()


def format_tracking_number(year: int, n: int) -> str:
    return f"XF-{year}-{n:06d}"


def new_lookup_code() -> str:
    # 32 symbols: the low five bits of a random byte pick one uniformly (256 is a multiple of 32).
    return "".join([_CODE_ALPHABET[b & 31] for b in secrets.token_bytes(LOOKUP_CODE_LENGTH)])


def normalize_code(raw: str) -> str:
    """A tracking number or lookup code as typed, in its one canonical form: NFKC (full-width letters, digits
    and hyphens to ASCII, as a Chinese input method types them), trimmed, upper case. Applied before looking up
    and before counting guesses, so a variant is never a fresh guessing budget."""
    return unicodedata.normalize("NFKC", raw).strip().upper()


def code_hash(tracking_number: str, code: str) -> str:
    return lookup_hash(f"petition:{tracking_number}:{normalize_code(code)}")


# --- intake ---------------------------------------------------------------------------------------------------


@dataclass
class Representative:
    name: str
    contact: str | None = None


@dataclass
class Submission:
    kind: str
    category: str
    subject: str
    content: str
    channel: str
    anonymous: bool = False
    location_text: str | None = None
    lat: float | None = None
    long: float | None = None
    petitioner_name: str | None = None
    petitioner_phone: str | None = None
    petitioner_number: str | None = None
    participants: int = 1
    representatives: list[Representative] = field(default_factory=list)
    accused_org_unit_id: uuid.UUID | None = None
    notify_consent: bool = False
    notify_email: str | None = None
    notify_phone: str | None = None
    notify_lang: str = "zh-CN"


@dataclass(frozen=True)
class Received:
    """What intake tells the petitioner, without loading the new row back."""

    id: uuid.UUID
    tracking_number: str
    state: str
    received_at: datetime
    accept_due: datetime


@dataclass(frozen=True)
class Submitted:
    """A received petition, or (``replayed``) the first response to a retried request with the same key."""

    petition: Received | None
    lookup_code: str
    body: bytes = b""
    status_code: int = 201
    replayed: bool = False


async def submit(
    session: AsyncSession | asyncpg.Connection,
    db: Database,
    data: Submission,
    *,
    principal: Principal,
    registered_by: uuid.UUID | None = None,
    attempt: idempotency.Attempt | None = None,
    render: Callable[[Received, str], bytes] | None = None,
) -> Submitted:
    """Receive a petition: validate, number it, store it (personal data encrypted) and journal it.

    With ``attempt`` (an Idempotency-Key) the key is claimed and ``render``'s response stored in the same
    statement as the petition; a retry gets that response back (``replayed``) and writes nothing.

    ``session`` is the caller's transaction: an ORM session, or (the intake endpoints) the asyncpg connection of
    a ``Database.driver_transaction``, since intake issues its own SQL only.
    """
    errors = []
    category = await active_category(session, data.category)
    if not category:
        errors.append({"field": "category", "message": f"no active category {data.category!r}"})
    if len(data.representatives) > MAX_REPRESENTATIVES:
        errors.append({"field": "representatives", "message": f"at most {MAX_REPRESENTATIVES} representatives"})
    if data.representatives and data.participants < len(data.representatives):
        errors.append({"field": "participants", "message": "at least as many participants as representatives"})
    petitioner_account = principal.subject_id if principal.kind == "account" and registered_by is None else None
    if data.anonymous and (data.petitioner_name or data.petitioner_phone or data.petitioner_number):
        errors.append({"field": "anonymous", "message": "an anonymous petition carries no petitioner details"})
    if not data.anonymous and petitioner_account is None and not data.petitioner_name:
        errors.append({"field": "petitioner.name", "message": "required unless anonymous or signed in"})
    if data.anonymous and (data.notify_email or data.notify_phone):
        errors.append({"field": "notify", "message": "an anonymous petition carries no contact"})
    if data.notify_consent and not (data.notify_email or data.notify_phone):
        errors.append({"field": "notify", "message": "give an email or a phone to be notified"})
    if (data.lat is None) != (data.long is None):
        errors.append({"field": "lat", "message": "give both lat and long, or neither"})
    if errors:
        raise Invalid("the petition cannot be received", errors=errors)
    assert category is not None
    tenant_id = require_tenant()
    zone = await tenant_zone(session)
    now = utcnow()
    year = now.astimezone(zone).year
    tracking_number = format_tracking_number(year, await numbers.next(db, tenant_id, year))
    code = new_lookup_code()
    accept_due = deadlines.accept_due(now, zone)
    cols: dict[str, Any] = {
        "tenant_id": tenant_id,
        "id": new_id(),
        "tracking_number": tracking_number,
        "lookup_hash": code_hash(tracking_number, code),
        "kind": data.kind,
        "category_id": category.id,
        "channel": data.channel,
        "subject": data.subject,
        "content": data.content,
        "location_text": data.location_text,
        "lat": data.lat,
        "long": data.long,
        "anonymous": data.anonymous,
        "petitioner_account_id": None if data.anonymous else petitioner_account,
        "registered_by": registered_by,
        "petitioner_name": data.petitioner_name,
        "petitioner_phone": data.petitioner_phone,
        "petitioner_number": data.petitioner_number,
        "participants": data.participants,
        "representatives": json.dumps([r.__dict__ for r in data.representatives], ensure_ascii=False)
        if data.representatives
        else None,
        "representative_count": len(data.representatives),
        "accused_org_unit_id": data.accused_org_unit_id,
        "notify_consent": data.notify_consent,
        "notify_email": data.notify_email,
        "notify_phone": data.notify_phone,
        "notify_lang": data.notify_lang,
        "state": State.received.value,
        "version": 1,
        "received_at": now,
        "due_at": accept_due,
        "accept_due": accept_due,
        "updated_at": now,
    }
    payload = {
        "kind": data.kind,
        "category": data.category,
        "channel": data.channel,
        "anonymous": data.anonymous,
        "group": data.participants > 1,
        "registered": registered_by is not None,
    }
    journal.check_payload("petition.submitted", payload)
    petition = Received(cols["id"], tracking_number, cols["state"], now, accept_due)
    body = render(petition, code) if render else b""
    # The hot path: one call of ``intake_petition`` (migration 0023) sets the tenant context, claims the key with
    # its response, and inserts the petition and its journal event — one prepared statement, one round trip, and
    # on an intake connection its own transaction. Personal columns are encrypted here, as EncryptedText would.
    args = [encrypt(v) if k in PERSONAL_COLUMNS and v is not None else v for k, v in cols.items()]
    args += [
        index_terms(data.subject, data.content, data.location_text),
        new_id(),
        registered_by or petitioner_account,
        category.default_org_unit_id,
        json.dumps(payload),
        *idempotency.claim_args(attempt, 201, body.decode()),
    ]
    connection = session if isinstance(session, asyncpg.Connection) else await driver_connection(session)
    inserted = await connection.fetchval(SUBMIT_SQL, *args)
    if inserted is None:  # the key was claimed before: give back the first response
        assert attempt is not None
        async with tenant_statements(connection, tenant_id):
            first = await idempotency.stored(connection, attempt)
        assert first.replay is not None
        return Submitted(None, "", first.replay[1].encode(), first.replay[0], replayed=True)
    return Submitted(petition, code, body)


PERSONAL_COLUMNS = frozenset(
    {"petitioner_name", "petitioner_phone", "petitioner_number", "representatives", "notify_email", "notify_phone"}
)
_COLUMNS = [
    "tenant_id", "id", "tracking_number", "lookup_hash", "kind", "category_id", "channel", "subject", "content",
    "location_text", "lat", "long", "anonymous", "petitioner_account_id", "registered_by", "petitioner_name",
    "petitioner_phone", "petitioner_number", "participants", "representatives", "representative_count",
    "accused_org_unit_id", "notify_consent", "notify_email", "notify_phone", "notify_lang", "state", "version",
    "received_at", "due_at", "accept_due", "updated_at",
]  # fmt: skip


# ``intake_petition``'s arguments: the petition's columns, then the search terms, the event id, actor, unit and
# payload, then the Idempotency-Key's claim (``idempotency.claim_args``).
SUBMIT_SQL = f"select intake_petition({', '.join(f'${i + 1}' for i in range(len(_COLUMNS) + 5 + 7))})"


# --- reading --------------------------------------------------------------------------------------------------


async def get_petition(session: AsyncSession, petition_id: uuid.UUID, *, lock: bool = False) -> Petition:
    """A petition by id, unscoped: only for callers already authorized otherwise (a lookup code, the platform's
    own jobs). Every route of a signed-in caller reads through ``find_petition``."""
    query = select(Petition).where(Petition.id == petition_id)
    if lock:
        query = query.with_for_update()
    petition = await session.scalar(query)
    if petition is None:
        raise NotFound("no such petition")
    return petition


async def find_petition(
    session: AsyncSession, petition_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> tuple[Petition, bool]:
    """The petition if it is in the caller's scope, and whether the caller handles it; out of scope is the same
    404 as an unknown id (``scope.visible``)."""
    query = select(Petition, scope.handles(principal).label("handled")).where(
        Petition.id == petition_id, scope.visible(principal)
    )
    if lock:
        query = query.with_for_update(of=Petition)
    row = (await session.execute(query)).first()
    if row is None:
        raise NotFound("no such petition")
    return row[0], bool(row[1])


@dataclass(frozen=True)
class Shown:
    """A petition as one caller may see it: with the petitioner's identity or without."""

    petition: Petition
    identity: bool


async def show_petition(
    session: AsyncSession,
    petition_id: uuid.UUID,
    principal: Principal,
    via: access_log.Via,
    *,
    acted_on: Petition | None = None,
) -> Shown:
    """Read a petition for a response to ``principal``; when the response carries the petitioner's personal data,
    the access log records it. ``acted_on``: the petition the caller just changed, shown without identity when
    the change took it out of the caller's scope (a transfer away)."""
    try:
        petition, handled = await find_petition(session, petition_id, principal)
    except NotFound:
        if acted_on is None:
            raise
        return Shown(acted_on, False)
    identity = scope.identity_shown(principal, petition, handled=handled)
    if identity:
        await access_log.record(session, principal, [petition], via)
    return Shown(petition, identity)


async def list_attachments(session: AsyncSession, petition_id: uuid.UUID, principal: Principal) -> list[Attachment]:
    """The files attached to a petition in the caller's scope (404 otherwise), oldest first."""
    await find_petition(session, petition_id, principal)
    query = select(Attachment).where(Attachment.petition_id == petition_id)
    return list(await session.scalars(query.order_by(Attachment.created_at, Attachment.id)))


async def get_attachment(
    session: AsyncSession, petition_id: uuid.UUID, attachment_id: uuid.UUID, principal: Principal
) -> Attachment:
    """One attached file of a petition in the caller's scope; an unknown file and a petition out of scope are
    the same 404."""
    await find_petition(session, petition_id, principal)
    attachment = await session.scalar(
        select(Attachment).where(Attachment.petition_id == petition_id, Attachment.id == attachment_id)
    )
    if attachment is None:
        raise NotFound("no such attachment")
    return attachment


async def attach_files(
    session: AsyncSession, settings: Settings, petition: Petition, contents: list[bytes]
) -> list[Attachment]:
    """Store files on a petition already authorized otherwise (its lookup code): at most the configured count a
    petition and size a file, each accepted by its content (jpeg, png, pdf, docx, mp3), never its name; each
    journaled. Nothing is stored unless every file is accepted (422 naming each refused one)."""
    existing = int(await session.scalar(select(func.count()).where(Attachment.petition_id == petition.id)) or 0)
    if existing + len(contents) > settings.attachment_max_count:
        raise Invalid(
            "the attachments cannot be stored",
            errors=[{"field": "files", "message": f"at most {settings.attachment_max_count} files a petition"}],
        )
    errors: list[dict[str, str]] = []
    blobs = []
    for i, content in enumerate(contents):
        if len(content) > settings.attachment_max_bytes:
            errors.append({"field": f"files[{i}]", "message": f"larger than {settings.attachment_max_bytes} bytes"})
            continue
        media_type = sniff(content)
        if media_type is None:
            errors.append({"field": f"files[{i}]", "message": "not a jpeg, png, pdf, docx or mp3 file (by content)"})
            continue
        blobs.append((content, media_type))
    if errors:
        raise Invalid("the attachments cannot be stored", code="unsupported-attachment", errors=errors)
    storage = storage_from_settings(settings)
    out = []
    for content, media_type in blobs:
        attachment = Attachment(
            id=new_id(),
            petition_id=petition.id,
            media_type=media_type,
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            storage_key="",
        )
        attachment.storage_key = f"{petition.tenant_id}/{petition.id}/{attachment.id}"
        await storage.put(attachment.storage_key, content, media_type)
        session.add(attachment)
        await journal.record(
            session,
            "petition.attachment_added",
            petition_id=petition.id,
            subject_id=attachment.id,
            media_type=media_type,
            size=len(content),
        )
        out.append(attachment)
    await session.flush()
    return out


async def reveal_identity(
    session: AsyncSession, petition_id: uuid.UUID, *, principal: Principal, reason_code: str, via: access_log.Via
) -> Petition:
    """The petition office's explicit reveal of a sealed identity: journaled (a reason code) and access-logged.
    Out of the caller's scope (an accusation against its own unit included) is a 404; in scope but not the
    office, a 403."""
    petition, handled = await find_petition(session, petition_id, principal)
    if principal.role not in scope.OFFICE_ROLES or not handled:
        raise Forbidden("only the petition office may reveal a sealed identity", code="identity-sealed")
    await journal.record(
        session,
        "petition.identity_revealed",
        actor_id=principal.subject_id,
        petition_id=petition.id,
        org_unit_id=petition.org_unit_id,
        reason_code=reason_code,
    )
    await access_log.record(session, principal, [petition], via)
    return petition


@dataclass
class ListFilter:
    state: list[str] | None = None
    overdue: bool | None = None
    org_unit_id: uuid.UUID | None = None
    kind: str | None = None
    category: str | None = None
    channel: str | None = None
    received_from: date | None = None
    received_to: date | None = None
    q: str | None = None


async def list_petitions(
    session: AsyncSession,
    flt: ListFilter,
    *,
    cursor: uuid.UUID | None,
    limit: int,
    within: ColumnElement[bool],
) -> tuple[list[tuple[Petition, str]], uuid.UUID | None]:
    """Newest first (ids are time-ordered), keyset-paginated on the id; returns rows and the next cursor.
    ``within``: the caller's scope (``scope.listed`` or ``scope.own``), applied in the database."""
    zone = await tenant_zone(session)
    query = select(Petition, Category.code).join(Category, Category.id == Petition.category_id).where(within)
    if flt.state:
        query = query.where(Petition.state.in_(flt.state))
    if flt.overdue is True:
        query = query.where(Petition.due_at <= func.now())
    elif flt.overdue is False:
        query = query.where((Petition.due_at.is_(None)) | (Petition.due_at > func.now()))
    if flt.org_unit_id:
        query = query.where(Petition.org_unit_id == flt.org_unit_id)
    if flt.kind:
        query = query.where(Petition.kind == flt.kind)
    if flt.category:
        query = query.where(Category.code == flt.category)
    if flt.channel:
        query = query.where(Petition.channel == flt.channel)
    if flt.received_from:
        query = query.where(Petition.received_at >= deadlines.local_day_start(flt.received_from, zone))
    if flt.received_to:
        query = query.where(Petition.received_at < deadlines.local_day_start(flt.received_to + timedelta(days=1), zone))
    if flt.q:
        terms = query_terms(flt.q)
        if terms:
            query = query.where(Petition.search.op("@@")(func.plainto_tsquery("simple", " ".join(terms))))
    if cursor:
        query = query.where(Petition.id < cursor)
    query = query.order_by(Petition.id.desc())

    async def fetch(n: int) -> list[tuple[Petition, str]]:
        return [(p, c) for p, c in (await session.execute(query.limit(n))).all()]

    return await paging.page(fetch, limit, key=lambda row: row[0].id)


async def count_by_state(session: AsyncSession, *, within: ColumnElement[bool]) -> dict[str, int]:
    """How many petitions of the caller's scope (``within``, as for ``list_petitions``) are in each state."""
    rows = await session.execute(select(Petition.state, func.count()).where(within).group_by(Petition.state))
    return {state: int(n) for state, n in rows.all()}


async def timeline(session: AsyncSession, petition_id: uuid.UUID, principal: Principal) -> list[journal.JournalEvent]:
    """The journal of a petition in the caller's scope (404 otherwise), oldest first."""
    await find_petition(session, petition_id, principal)
    query = select(journal.JournalEvent).where(journal.JournalEvent.petition_id == petition_id)
    return list(await session.scalars(query.order_by(journal.JournalEvent.seq)))


async def person_name(session: AsyncSession, person_id: uuid.UUID) -> str | None:
    """The org chart name of a person (the leader in personal charge of a petition, 包案)."""
    return await session.scalar(select(org.Person.name_zh).where(org.Person.id == person_id))


async def find_by_code(session: AsyncSession, tracking_number: str, code: str) -> Petition:
    """The petition with this tracking number and lookup code; 404 for either wrong (same answer for both)."""
    tracking_number = normalize_code(tracking_number)
    petition = await session.scalar(select(Petition).where(Petition.tracking_number == tracking_number))
    if petition is None or not secrets.compare_digest(petition.lookup_hash, code_hash(petition.tracking_number, code)):
        raise NotFound("no petition with this tracking number and lookup code", code="lookup-failed")
    return petition


async def category_code(session: AsyncSession, petition: Petition) -> str:
    return str(await session.scalar(select(Category.code).where(Category.id == petition.category_id)))


# --- the workflow ---------------------------------------------------------------------------------------------

EVENT_OF = {
    Action.accept: "petition.accepted",
    Action.not_accept: "petition.not_accepted",
    Action.assign: "petition.assigned",
    Action.start: "petition.started",
    Action.transfer: "petition.transferred",
    Action.object_transfer: "petition.transfer_objected",
    Action.extend: "petition.extended",
    Action.reply: "petition.replied",
    Action.close: "petition.closed",
    Action.rate: "petition.rated",
    Action.request_review: "petition.review_requested",
    Action.answer_review: "petition.reviewed",
    Action.request_rereview: "petition.rereview_requested",
    Action.answer_rereview: "petition.rereviewed",
}
RATING_STAGE = {State.replied: "reply", State.closed: "reply", State.reviewed: "review", State.final: "rereview"}


@dataclass
class ActionInput:
    reason: str | None = None
    org_unit_id: uuid.UUID | None = None
    days: int | None = None
    outcome: str | None = None
    opinion: str | None = None
    agreement: str | None = None
    rating: str | None = None
    comment: str | None = None
    basis: str | None = None
    redirect_to: str | None = None


async def _not_to_the_accused(
    session: AsyncSession, petition: Petition, unit_id: uuid.UUID | None, errors: list[dict[str, str]]
) -> None:
    """An accusation is never handled by the accused unit or a unit below it (art. 30)."""
    if petition.kind != "accusation" or petition.accused_org_unit_id is None or unit_id is None:
        return
    if petition.accused_org_unit_id in {u.id for u in await org.ancestors(session, unit_id)}:
        errors.append({"field": "org_unit_id", "message": "an accusation never goes to the accused unit"})


def _require(errors: list[dict[str, str]], value: object, name: str, message: str = "required for this action") -> None:
    if value in (None, ""):
        errors.append({"field": name, "message": message})


@dataclass
class _Step:
    """One workflow action under way: what its effect reads, and what it writes besides the petition's columns
    (``errors`` refuse the action with 422, ``payload`` goes into the journal event)."""

    session: AsyncSession
    petition: Petition
    action: Action
    data: ActionInput
    now: datetime
    zone: ZoneInfo
    by_lookup_code: bool
    errors: list[dict[str, str]] = field(default_factory=list)
    payload: dict[str, Any] = field(default_factory=dict)

    def require(self, value: object, name: str, message: str = "required for this action") -> None:
        _require(self.errors, value, name, message)


async def _accept(s: _Step) -> None:
    p = s.petition
    p.accepted_at = s.now
    p.conclude_due = p.due_at = deadlines.conclude_due(s.now, s.zone)
    s.payload["days"] = (s.now - p.received_at).days


async def _not_accept(s: _Step) -> None:
    s.require(s.data.reason, "reason")
    p = s.petition
    p.not_accepted_reason, p.closed_at, p.due_at = s.data.reason, s.now, None
    s.payload["days"] = (s.now - p.received_at).days


async def _assign(s: _Step) -> None:
    p = s.petition
    unit = s.data.org_unit_id or await s.session.scalar(
        select(Category.default_org_unit_id).where(Category.id == p.category_id)
    )
    s.require(unit, "org_unit_id", "required: the category has no default unit")
    await _not_to_the_accused(s.session, p, unit, s.errors)
    p.org_unit_id = unit


async def _start(s: _Step) -> None:
    s.petition.objection_due = None
    s.petition.due_at = s.petition.conclude_due


async def _transfer(s: _Step) -> None:
    p, unit = s.petition, s.data.org_unit_id
    s.require(unit, "org_unit_id")
    if unit is not None and unit == p.org_unit_id:
        s.errors.append({"field": "org_unit_id", "message": "transfer to another unit"})
    await _not_to_the_accused(s.session, p, unit, s.errors)
    s.payload["from_unit"] = str(p.org_unit_id) if p.org_unit_id else None
    p.previous_org_unit_id, p.org_unit_id = p.org_unit_id, unit
    p.transferred_at = s.now
    p.objection_due = deadlines.objection_due(s.now, calendar_of(await get_settings(s.session), s.zone))


async def _object_transfer(s: _Step) -> None:
    p = s.petition
    s.require(s.data.reason, "reason")
    if p.objection_due is None or s.now >= p.objection_due:
        raise Conflict("the 5-working-day objection window has passed", code="objection-window-closed")
    s.payload["days"] = (s.now - p.transferred_at).days if p.transferred_at else 0
    p.org_unit_id, p.previous_org_unit_id = p.previous_org_unit_id, p.org_unit_id
    p.objection_due = None


async def _extend(s: _Step) -> None:
    p, days = s.petition, s.data.days
    if p.extended_days is not None:
        raise Conflict("the deadline was already extended once", code="already-extended")
    s.require(s.data.reason, "reason")
    if days is None or not 1 <= days <= deadlines.MAX_EXTENSION_DAYS:
        s.errors.append({"field": "days", "message": f"1 to {deadlines.MAX_EXTENSION_DAYS} days"})
    elif p.conclude_due is not None:
        p.extended_days, p.extension_reason = days, s.data.reason
        p.conclude_due = p.due_at = deadlines.extended_due(p.conclude_due, days, s.zone)
        s.payload["days"] = days


async def _answer(s: _Step) -> None:
    """A reply, a review's or a re-review's answer: the opinion and outcome, then the window for the next step
    (none after a re-review: the matter is final)."""
    p, data, action = s.petition, s.data, s.action
    s.require(data.opinion, "opinion")
    if data.outcome not in OUTCOMES:
        s.errors.append({"field": "outcome", "message": f"one of {list(OUTCOMES)}"})
    p.outcome, p.opinion = data.outcome, data.opinion
    if data.agreement is not None:
        p.agreement = data.agreement
    s.payload["outcome"] = data.outcome
    start = p.accepted_at if action is Action.reply else p.review_requested_at
    s.payload["days"] = (s.now - start).days if start else 0
    if action is Action.reply:
        s.payload["agreement"] = data.agreement is not None
    p.replied_at, p.due_at = s.now, None
    if action is Action.answer_rereview:
        p.closed_at, p.review_window_until = s.now, None
    else:
        days = deadlines.REVIEW_REQUEST_DAYS if action is Action.reply else deadlines.REREVIEW_REQUEST_DAYS
        p.review_window_until = deadlines.add_days(s.now, days, s.zone)


async def _close(s: _Step) -> None:
    s.petition.closed_at = s.now


async def _request_review(s: _Step) -> None:
    p = s.petition
    if p.review_window_until is None or s.now >= p.review_window_until:
        raise Conflict("the window for this request has passed", code="review-window-closed")
    p.review_requested_at = s.now
    answer = deadlines.REVIEW_ANSWER_DAYS if s.action is Action.request_review else deadlines.REREVIEW_ANSWER_DAYS
    p.due_at = deadlines.add_days(s.now, answer, s.zone)
    p.closed_at = None
    s.payload["days"] = (s.now - p.replied_at).days if p.replied_at else 0


async def _rate(s: _Step) -> None:
    p, data = s.petition, s.data
    stage = RATING_STAGE[State(p.state)]
    if p.rating_stage == stage:
        raise Conflict("this outcome was already rated", code="already-rated")
    if data.rating not in RATINGS:
        s.errors.append({"field": "rating", "message": f"one of {list(RATINGS)}"})
    p.rating, p.rating_comment = data.rating, data.comment
    p.rated_at, p.rating_stage = s.now, stage
    s.payload.update(rating=data.rating, stage=stage, by="lookup_code" if s.by_lookup_code else "account")


# What each action does beyond the state change (the transition table, ``workflow.TRANSITIONS``, decides whether
# it may happen at all); an action without an entry changes only the state.
_EFFECTS: dict[Action, Callable[[_Step], Awaitable[None]]] = {
    Action.accept: _accept,
    Action.not_accept: _not_accept,
    Action.assign: _assign,
    Action.start: _start,
    Action.transfer: _transfer,
    Action.object_transfer: _object_transfer,
    Action.extend: _extend,
    Action.reply: _answer,
    Action.answer_review: _answer,
    Action.answer_rereview: _answer,
    Action.close: _close,
    Action.request_review: _request_review,
    Action.request_rereview: _request_review,
    Action.rate: _rate,
}


async def act(
    session: AsyncSession,
    petition_id: uuid.UUID,
    action: Action,
    data: ActionInput,
    *,
    principal: Principal,
    version: int | None,
    by_lookup_code: bool = False,
    petition: Petition | None = None,
) -> Petition:
    """Apply one workflow action: scope, permission, version (optimistic concurrency), the transition table, then
    the action's own rules; journaled. ``version`` may be omitted only by a petitioner using a lookup code.

    Without ``petition`` (already found by its lookup code) the petition is read through the caller's scope: out
    of scope is a 404. Staff actions need the petition in the caller's handling scope (``scope.handles``)."""
    if petition is None:
        petition, handled = await find_petition(session, petition_id, principal, lock=True)
    else:
        handled = action not in PETITIONER_ACTIONS and bool(
            await session.scalar(select(scope.handles(principal)).where(Petition.id == petition.id))
        )
    if action in PETITIONER_ACTIONS:
        own = principal.subject_id is not None and principal.subject_id == petition.petitioner_account_id
        if not (by_lookup_code or own):
            raise Forbidden("only the petitioner may take this action")
    elif principal.role not in STAFF_ROLES or not handled:
        raise Forbidden("only the unit handling the petition may take this action")
    if version is not None and version != petition.version:
        raise Conflict(
            "the petition changed since you read it",
            code="stale-version",
            state=petition.state,
            version=petition.version,
        )
    nxt = transition(petition.state, action)
    step = _Step(session, petition, action, data, utcnow(), await tenant_zone(session), by_lookup_code)
    effect = _EFFECTS.get(action)
    if effect is not None:
        await effect(step)
    now, errors, payload = step.now, step.errors, step.payload
    if errors:
        raise Invalid(f"the action {action.value!r} needs more information", errors=errors)
    petition.state = nxt
    petition.version += 1
    petition.updated_at = now
    await journal.record(
        session,
        EVENT_OF[action],
        actor_id=principal.subject_id,
        petition_id=petition.id,
        org_unit_id=petition.org_unit_id,
        kind=petition.kind,
        category=await category_code(session, petition),
        **payload,
    )
    await session.flush()
    # The written notice the action owes the petitioner, if any: in this transaction, so both commit or neither.
    await notices.issue_for(
        session, petition, action, actor_id=principal.subject_id, basis=data.basis, redirect_to=data.redirect_to
    )
    return petition


# --- escalation -----------------------------------------------------------------------------------------------


async def require_handled(session: AsyncSession, petition_ids: list[uuid.UUID], principal: Principal) -> None:
    """404 unless every petition exists and is in the caller's handling scope: an unknown id and one out of scope
    give the same answer, so escalating or opening an incident reveals nothing about other units' petitions."""
    ids = list(dict.fromkeys(petition_ids))
    if not ids:
        return
    found = set(
        (await session.scalars(select(Petition.id).where(Petition.id.in_(ids), scope.handles(principal)))).all()
    )
    if len(found) != len(ids):
        raise NotFound("no such petition")


async def request_escalation(
    session: AsyncSession, petition_ids: list[uuid.UUID], *, reason_code: str, principal: Principal
) -> EscalationRequest:
    """Mark related petitions for escalation to an emergency incident (the incidents domain picks it up).
    Every petition must be in the caller's handling scope (else 404)."""
    ids = list(dict.fromkeys(petition_ids))
    await require_handled(session, ids, principal)
    actor_id = principal.subject_id
    escalation = EscalationRequest(id=new_id(), reason_code=reason_code, requested_by=actor_id)
    session.add(escalation)
    await session.flush()
    session.add_all(
        EscalatedPetition(tenant_id=require_tenant(), escalation_id=escalation.id, petition_id=i) for i in ids
    )
    for pid in ids:
        await journal.record(
            session,
            "petition.escalation_requested",
            actor_id=actor_id,
            petition_id=pid,
            subject_id=escalation.id,
            reason_code=reason_code,
            petitions=len(ids),
        )
    await session.flush()
    return escalation


async def campus_places(session: AsyncSession) -> list[dict[str, Any]]:
    """The current university's campus places, in the order its admins set."""
    return list((await get_settings(session)).places or [])


def place_named(places: list[dict[str, Any]], code: str | None) -> dict[str, Any] | None:
    return next((p for p in places if p["code"] == code), None) if code else None
