"""Delivery engine of notifications: from a committed journal event to feed entries and messages, with retries.

Like the webhooks, the journal is the source of truth and the delivery rows are the state, so a message may be
lost or duplicated without harm:

- ``handle(tenant, event)`` creates the rows an event causes, idempotently (unique per event, channel and
  recipient; the feed unique per account and event), then makes the first attempt of each pending delivery.
- ``deliver(tenant, delivery, token)`` makes one attempt. ``token`` is the attempt count when the message was
  sent: a duplicate or stale message finds a different count and does nothing. The attempt is claimed (count
  raised, ``next_attempt_at`` pushed out) and committed before the message goes out.

A row never holds a message text or an address: both are built at the attempt from the petition (decrypted)
or the account, so an opt-out between the event and the attempt is honoured (recorded as skipped).
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import timedelta

import structlog
from sqlalchemy import select, text, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from service.notifications import channels, messages
from service.notifications.models import (
    KIND_OF,
    PETITIONER,
    Notification,
    NotificationDelivery,
    Preference,
)
from service.petitions.models import Petition
from service.petitions.scope import unit_accounts
from service.supervision.services import escalation_accounts
from tenants import journal
from tenants.clock import utcnow
from tenants.db import Database
from tenants.identity import Account
from tenants.ids import new_id
from tenants.journal import JournalEvent
from tenants.org import Person, group_roster
from tenants.settings import Settings
from tenants.tenancy import Tenant

log = structlog.get_logger("xinfang.notifications")
RELEASE_GROUP = "info_release"


@dataclass(frozen=True)
class Retry:
    tenant_id: uuid.UUID
    delivery_id: uuid.UUID
    token: int
    delay: float


# --- recipients -----------------------------------------------------------------------------------------------


async def release_approvers(session: AsyncSession) -> list[Account]:
    """The information-release group's leader and deputies (their linked accounts): who approves a bulletin."""
    roster = (await group_roster(session)).get(RELEASE_GROUP)
    if roster is None:
        return []
    people = [p for p in (roster.leader_person_id, *roster.deputy_person_ids) if p is not None]
    if not people:
        return []
    rows = await session.scalars(
        select(Account).join(Person, Person.account_id == Account.id).where(Person.id.in_(people), Account.active)
    )
    return list(rows.unique())


async def _recipients(session: AsyncSession, event: JournalEvent) -> list[Account]:
    if event.type == "bulletin.drafted":
        return await release_approvers(session)
    if event.type == "supervision.overdue":
        assert event.subject_id is not None
        return await escalation_accounts(session, event.subject_id)
    if event.org_unit_id is None:
        return []
    return await unit_accounts(session, event.org_unit_id)


async def preferences(session: AsyncSession, account_id: uuid.UUID) -> dict[str, tuple[bool, bool]]:
    """(feed, email) per kind; both on while the account chose nothing."""
    rows = await session.scalars(select(Preference).where(Preference.account_id == account_id))
    chosen = {p.kind: (p.feed, p.email) for p in rows}
    from service.notifications.models import KINDS

    return {kind: chosen.get(kind, (True, True)) for kind in KINDS}


# --- the engine -----------------------------------------------------------------------------------------------


def _delivery(event: JournalEvent, channel: str, recipient: str, **ids: uuid.UUID | None) -> dict[str, object]:
    now = utcnow()
    return {
        "tenant_id": event.tenant_id,
        "id": new_id(),
        "event_id": event.id,
        "event_type": event.type,
        "channel": channel,
        "recipient": recipient,
        "status": "pending",
        "attempts": 0,
        "next_attempt_at": now,
        "created_at": now,
        "updated_at": now,
        **ids,
    }


async def _create(session: AsyncSession, event: JournalEvent) -> None:
    rows: list[dict[str, object]] = []
    if event.type == "notice.issued":
        petition = await session.get(Petition, (event.tenant_id, event.petition_id))
        if petition is None or not petition.notify_consent:
            return
        for channel, contact in (("email", petition.notify_email), ("sms", petition.notify_phone)):
            if contact:
                rows.append(_delivery(event, channel, PETITIONER, petition_id=petition.id))
    elif (kind := KIND_OF.get(event.type)) is not None:
        feed = []
        for account in await _recipients(session, event):
            wants_feed, wants_email = (await preferences(session, account.id))[kind]
            if wants_feed:
                feed.append(
                    {
                        "tenant_id": event.tenant_id,
                        "id": new_id(),
                        "account_id": account.id,
                        "event_id": event.id,
                        "event_type": event.type,
                        "kind": kind,
                        "petition_id": event.petition_id,
                        "incident_id": event.incident_id,
                        "org_unit_id": event.org_unit_id,
                        "subject_id": event.subject_id,
                        "created_at": event.occurred_at,
                    }
                )
            if wants_email:
                rows.append(
                    _delivery(event, "email", str(account.id), account_id=account.id, petition_id=event.petition_id)
                )
        if feed:
            await session.execute(insert(Notification).values(feed).on_conflict_do_nothing())
    if rows:
        await session.execute(insert(NotificationDelivery).values(rows).on_conflict_do_nothing())


async def handle(db: Database, settings: Settings, tenant_id: uuid.UUID, event_id: uuid.UUID) -> list[Retry]:
    """Create what one event causes (idempotent) and make the first attempts of its pending deliveries."""
    async with db.transaction(tenant_id) as session:
        event = await session.get(JournalEvent, (tenant_id, event_id))
        if event is None:
            return []
        await _create(session, event)
        pending = (
            await session.execute(
                select(NotificationDelivery.id, NotificationDelivery.attempts).where(
                    NotificationDelivery.event_id == event_id,
                    NotificationDelivery.status == "pending",
                    NotificationDelivery.attempts == 0,
                )
            )
        ).all()
    retries = []
    for delivery_id, attempts in pending:
        retries += await deliver(db, settings, tenant_id, delivery_id, attempts)
    return retries


@dataclass(frozen=True)
class _Message:
    channel: str
    to: str
    subject: str
    text: str
    sms: str


async def _compose(session: AsyncSession, settings: Settings, d: NotificationDelivery) -> _Message | str:
    """The message of a delivery, or why there is none to send (recorded as skipped)."""
    tenant = await session.get(Tenant, d.tenant_id)
    assert tenant is not None
    event = await session.get(JournalEvent, (d.tenant_id, d.event_id))
    assert event is not None
    base = settings.base_url.rstrip("/")
    petition = await session.get(Petition, (d.tenant_id, d.petition_id)) if d.petition_id else None
    if d.recipient == PETITIONER:
        assert petition is not None
        if not petition.notify_consent:
            return "opted out"
        contact = petition.notify_email if d.channel == "email" else petition.notify_phone
        if not contact:
            return "no contact"
        lang = petition.notify_lang
        subject, text, sms = messages.notice_message(
            lang,
            university=tenant.name_en if lang == "en" else tenant.name_zh,
            tracking_number=petition.tracking_number,
            kind=str(event.payload.get("kind")),
            document_number=str(event.payload.get("document_number")),
            download=f"{base}/api/v1/t/{tenant.slug}/petitions/notices",
            opt_out=opt_out_link(settings, tenant.slug, petition.id),
        )
        return _Message(d.channel, contact, subject, text, sms)
    account = await session.get(Account, (d.tenant_id, d.account_id)) if d.account_id else None
    if account is None or not account.active:
        return "no account"
    if event.petition_id:
        link = f"{base}/api/v1/petitions/{event.petition_id}"
    elif event.incident_id:
        link = f"{base}/api/v1/incidents/{event.incident_id}"
    else:
        link = f"{base}/api/v1/notifications"
    subject, text = messages.staff_message(
        "zh-CN",
        university=tenant.name_zh,
        event_type=event.type,
        tracking_number=petition.tracking_number if petition else None,
        link=link,
    )
    return _Message("email", account.email, subject, text, text)


def opt_out_token(petition_id: uuid.UUID) -> str:
    from tenants.crypto import lookup_hash

    return lookup_hash(f"notify-opt-out:{petition_id}")[:32]


def opt_out_link(settings: Settings, slug: str, petition_id: uuid.UUID) -> str:
    base = settings.base_url.rstrip("/")
    return f"{base}/api/v1/t/{slug}/notifications/opt-out/{petition_id}/{opt_out_token(petition_id)}"


def _lease(settings: Settings) -> timedelta:
    return timedelta(seconds=2 * settings.smtp_timeout + 30)


async def deliver(
    db: Database, settings: Settings, tenant_id: uuid.UUID, delivery_id: uuid.UUID, token: int
) -> list[Retry]:
    """One attempt of a delivery (claimed first, so a duplicate message does nothing)."""
    now = utcnow()
    async with db.transaction(tenant_id) as session:
        d = await session.scalar(
            select(NotificationDelivery).where(NotificationDelivery.id == delivery_id).with_for_update(skip_locked=True)
        )
        if d is None or d.status != "pending" or d.attempts != token:
            return []
        message = await _compose(session, settings, d)
        d.attempts += 1
        d.updated_at = now
        if isinstance(message, str):
            d.status, d.last_error = "skipped", message
            return []
        enabled = channels.email_enabled(settings) if d.channel == "email" else channels.sms_enabled(settings)
        if not enabled:
            d.status, d.last_error = "skipped", f"{d.channel} not configured"
            return []
        d.next_attempt_at = now + _lease(settings)
        attempts, channel, recipient, petition_id = d.attempts, d.channel, d.recipient, d.petition_id
    error: channels.SendError | None = None
    try:
        if channel == "email":
            await channels.send_email(settings, message.to, message.subject, message.text)
        else:
            await channels.send_sms(settings, message.to, message.sms)
    except channels.SendError as exc:
        error = exc
    async with db.transaction(tenant_id) as session:
        values: dict[str, object] = {"updated_at": utcnow()}
        retries: list[Retry] = []
        if error is None:
            values.update(status="sent", last_error=None)
        else:
            delays = settings.notify_retry_delays
            step = attempts - 1
            if not error.permanent and step < len(delays):
                delay = delays[step] * random.uniform(0.9, 1.1)
                values.update(last_error=error.reason, next_attempt_at=utcnow() + timedelta(seconds=delay))
                retries.append(Retry(tenant_id, delivery_id, attempts, delay))
            else:
                values.update(status="failed", last_error=error.reason)
                await journal.record(
                    session,
                    "notification.failed",
                    petition_id=petition_id,
                    subject_id=delivery_id,
                    via=channel,
                    attempts=attempts,
                )
        await session.execute(
            update(NotificationDelivery)
            .where(NotificationDelivery.id == delivery_id, NotificationDelivery.attempts == attempts)
            .values(**values)
        )
    log.info(
        "notification attempt",
        delivery_id=str(delivery_id),
        channel=channel,
        audience="petitioner" if recipient == PETITIONER else "staff",
        attempt=attempts,
        outcome="sent" if error is None else ("failed" if not retries else "retry"),
        error=error.reason if error else None,
    )
    return retries


async def sweep(db: Database, *, grace_seconds: float = 60, limit: int = 5000) -> list[Retry]:
    """Overdue pending deliveries of every tenant (a lost message, a worker that died mid-attempt), as messages;
    runs on the platform path (``notification_sweep``), on the application's clock like every attempt time."""
    async with db.transaction() as session:
        rows = await session.execute(
            text("select tenant_id, id, attempts from notification_sweep(:at, :grace, :lim)"),
            {"at": utcnow(), "grace": grace_seconds, "lim": limit},
        )
        return [Retry(r.tenant_id, r.id, r.attempts, 0) for r in rows]
