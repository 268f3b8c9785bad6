"""Notifications of written notices to the petitioner: a real SMTP server on loopback (accepting, refusing with
550, down), the SMS sink, consent off, opt-out by lookup code and by the link, zh-CN and en, nothing personal
in the messages, the delivery log, the journal or the logs; the workflow action never waits for any of it."""

from __future__ import annotations

import datetime as dt
import json
import re
import uuid
from typing import Any

from sqlalchemy import select
from structlog.testing import capture_logs

from analytics.runtime import relay
from service.notifications import dispatch
from service.notifications.models import NotificationDelivery
from tests.support.casework import do, make_university, petition_body
from tests.support.journal import journal_of
from tests.support.notifications import configured, deliver_all

EMAIL = "li.si@example.org"
PHONE = "+8613912345678"
NAME = "李四"
CONTENT = petition_body()["content"]


async def _submit(client: Any, uni: Any, **notify: Any) -> dict[str, Any]:
    body = petition_body(notify=notify) if notify else petition_body()
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=body)
    assert r.status_code == 201, r.text
    return dict(r.json())


async def _accept(client: Any, uni: Any, pid: str) -> dict[str, Any]:
    """Accept (issues the 受理告知书) and return the notice.issued event."""
    r = await do(client, uni, pid, "accept", 1)
    assert r.status_code == 201, r.text
    return next(e for e in await journal_of(client, uni, pid) if e["type"] == "notice.issued")


async def _deliveries(db: Any, tenant_id: uuid.UUID, pid: str) -> list[NotificationDelivery]:
    async with db.transaction(tenant_id) as session:
        rows = await session.scalars(
            select(NotificationDelivery)
            .where(NotificationDelivery.petition_id == uuid.UUID(pid))
            .order_by(NotificationDelivery.channel)
        )
        return list(rows)


async def test_a_notice_reaches_a_consenting_petitioner_by_email_and_sms_with_nothing_personal(
    clock, client, make_tenant, settings, db, smtp, sms
):
    mailbox, port = smtp
    uni = await make_university(client, make_tenant)
    sub = await _submit(client, uni, consent=True, email=EMAIL, phone=PHONE)
    event = await _accept(client, uni, sub["id"])
    assert "notification_handle" in [m.actor_name for m in relay.messages_for(_feed(event, uni))]

    with capture_logs() as logs:
        assert (
            await deliver_all(db, configured(settings, smtp_port=port, sms_url=sms.url), uni.tenant.id, event["id"])
            == []
        )

    assert mailbox.recipients == [EMAIL]
    (message,) = mailbox.messages
    text = message.get_content()
    assert sub["tracking_number"] in message["Subject"] and "受理告知书" in message["Subject"]
    assert sub["tracking_number"] in text and event["payload"]["document_number"] in text
    assert f"/api/v1/t/{uni.slug}/petitions/notices" in text and "查询码" in text
    (sent,) = sms.received
    assert sent[0]["Authorization"] == "Bearer sms-test-token"
    assert sent[1]["to"] == PHONE and sub["tracking_number"] in sent[1]["text"]
    for body in (text, message["Subject"], sent[1]["text"]):
        assert NAME not in body and CONTENT not in body and sub["lookup_code"] not in body

    rows = await _deliveries(db, uni.tenant.id, sub["id"])
    assert [(r.channel, r.status, r.attempts, r.last_error) for r in rows] == [
        ("email", "sent", 1, None),
        ("sms", "sent", 1, None),
    ]
    logged = json.dumps(logs, default=str, ensure_ascii=False)
    journaled = json.dumps(await journal_of(client, uni), ensure_ascii=False)
    for secret in (EMAIL, PHONE, NAME):
        assert secret not in logged and secret not in journaled

    # Idempotent: the same event again (a duplicate relay message) sends nothing more.
    await deliver_all(db, configured(settings, smtp_port=port, sms_url=sms.url), uni.tenant.id, event["id"])
    assert len(mailbox.messages) == 1 and len(sms.received) == 1


async def test_the_petitioner_may_choose_english(clock, client, make_tenant, settings, db, smtp):
    mailbox, port = smtp
    uni = await make_university(client, make_tenant)
    sub = await _submit(client, uni, consent=True, email=EMAIL, lang="en")
    event = await _accept(client, uni, sub["id"])
    await deliver_all(db, configured(settings, smtp_port=port), uni.tenant.id, event["id"])
    (message,) = mailbox.messages
    assert message["Subject"].endswith(f"notice of acceptance on petition {sub['tracking_number']}")
    assert "lookup code" in message.get_content()


async def test_without_consent_nothing_is_sent(clock, client, make_tenant, settings, db, smtp, sms):
    mailbox, port = smtp
    uni = await make_university(client, make_tenant)
    for sub in (await _submit(client, uni, email=EMAIL, phone=PHONE), await _submit(client, uni)):
        event = await _accept(client, uni, sub["id"])
        await deliver_all(db, configured(settings, smtp_port=port, sms_url=sms.url), uni.tenant.id, event["id"])
        assert await _deliveries(db, uni.tenant.id, sub["id"]) == []
    assert mailbox.messages == [] and sms.received == []


async def test_consent_needs_a_contact_and_an_anonymous_petition_has_none(client, make_tenant):
    uni = await make_university(client, make_tenant)
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=petition_body(notify={"consent": True}))
    assert r.status_code == 422 and r.json()["errors"][0]["field"] == "notify"
    anonymous = petition_body(anonymous=True, petitioner=None, notify={"consent": True, "email": EMAIL})
    r = await client.post(f"/api/v1/t/{uni.slug}/petitions", json=anonymous)
    assert r.status_code == 422, r.text


async def test_staff_registration_takes_the_contact_too(clock, client, make_tenant, settings, db, smtp):
    mailbox, port = smtp
    uni = await make_university(client, make_tenant)
    body = petition_body(channel="visit", notify={"consent": True, "email": EMAIL})
    r = await client.post("/api/v1/petitions/register", json=body, headers=uni.officer)
    assert r.status_code == 201, r.text
    event = await _accept(client, uni, r.json()["id"])
    await deliver_all(db, configured(settings, smtp_port=port), uni.tenant.id, event["id"])
    assert mailbox.recipients == [EMAIL]


async def test_a_refusing_server_fails_the_delivery_at_once(clock, client, make_tenant, settings, db, refusing_smtp):
    mailbox, port = refusing_smtp
    uni = await make_university(client, make_tenant)
    sub = await _submit(client, uni, consent=True, email=EMAIL)
    event = await _accept(client, uni, sub["id"])
    assert await deliver_all(db, configured(settings, smtp_port=port), uni.tenant.id, event["id"]) == []
    (row,) = await _deliveries(db, uni.tenant.id, sub["id"])
    assert (row.status, row.attempts) == ("failed", 1) and "550" in (row.last_error or "")
    assert EMAIL not in (row.last_error or "")
    failed = [e for e in await journal_of(client, uni, sub["id"]) if e["type"] == "notification.failed"]
    assert [e["payload"] for e in failed] == [{"via": "email", "attempts": 1}]
    assert mailbox.messages == []


async def test_a_server_that_is_down_is_retried_then_failed_and_the_action_stands(
    clock, client, make_tenant, settings, db, closed_port
):
    uni = await make_university(client, make_tenant)
    sub = await _submit(client, uni, consent=True, email=EMAIL)
    event = await _accept(client, uni, sub["id"])  # the action committed: nothing waits for the mail
    down = configured(settings, smtp_port=closed_port, retries="30,600")
    first = await dispatch.handle(db, down, uni.tenant.id, uuid.UUID(event["id"]))
    (retry,) = first
    assert 27 <= retry.delay <= 33  # the schedule's first delay, jittered by +/-10%
    (row,) = await _deliveries(db, uni.tenant.id, sub["id"])
    assert (row.status, row.attempts) == ("pending", 1) and "ConnectionRefused" in (row.last_error or "")
    # A lost message: the sweeper re-sends the delivery once it is overdue (the clock moved past the delay).
    assert retry.delivery_id not in [r.delivery_id for r in await dispatch.sweep(db)]
    clock.shift(dt.timedelta(seconds=100))
    swept = [r for r in await dispatch.sweep(db) if r.delivery_id == retry.delivery_id]
    assert [(r.token, r.delay) for r in swept] == [(1, 0)]
    assert retry.delivery_id not in [r.delivery_id for r in await dispatch.sweep(db)]  # marked due: not twice
    # A duplicate or stale message (another token) does nothing.
    assert await dispatch.deliver(db, down, uni.tenant.id, retry.delivery_id, 0) == []
    (second,) = await dispatch.deliver(db, down, uni.tenant.id, retry.delivery_id, retry.token)
    assert 540 <= second.delay <= 660
    assert await dispatch.deliver(db, down, uni.tenant.id, second.delivery_id, second.token) == []
    (row,) = await _deliveries(db, uni.tenant.id, sub["id"])
    assert (row.status, row.attempts) == ("failed", 3)
    petition = await client.get(f"/api/v1/petitions/{sub['id']}", headers=uni.officer)
    assert petition.json()["state"] == "accepted"


async def test_unconfigured_channels_are_recorded_as_skipped(clock, client, make_tenant, settings, db):
    uni = await make_university(client, make_tenant)
    sub = await _submit(client, uni, consent=True, email=EMAIL, phone=PHONE)
    event = await _accept(client, uni, sub["id"])
    await deliver_all(db, configured(settings), uni.tenant.id, event["id"])
    rows = await _deliveries(db, uni.tenant.id, sub["id"])
    assert [(r.channel, r.status, r.last_error) for r in rows] == [
        ("email", "skipped", "email not configured"),
        ("sms", "skipped", "sms not configured"),
    ]


async def test_opt_out_by_lookup_code_and_by_the_link(clock, client, make_tenant, settings, db, smtp):
    mailbox, port = smtp
    uni = await make_university(client, make_tenant)
    conf = configured(settings, smtp_port=port)
    sub = await _submit(client, uni, consent=True, email=EMAIL)
    event = await _accept(client, uni, sub["id"])
    await deliver_all(db, conf, uni.tenant.id, event["id"])
    link = re.search(r"https?://\S+/notifications/opt-out/\S+", mailbox.messages[0].get_content())
    assert link is not None
    path = link.group(0).split("://", 1)[1].partition("/")[2]
    r = await client.get(f"/{path}")
    assert r.status_code == 200 and "退订" in r.text
    r = await client.get(f"/{path[:-4]}0000")
    assert r.status_code == 404 and r.headers["content-type"].startswith("application/problem+json")

    other = await _submit(client, uni, consent=True, email=EMAIL)
    lookup = {"tracking_number": other["tracking_number"], "lookup_code": "WRONG-CODE"}
    r = await client.post(f"/api/v1/t/{uni.slug}/notifications/opt-out", json=lookup)
    assert r.status_code == 404, r.text
    lookup["lookup_code"] = other["lookup_code"]
    r = await client.post(f"/api/v1/t/{uni.slug}/notifications/opt-out", json=lookup)
    assert r.status_code == 200 and r.json() == {"opted_out": True}
    event = await _accept(client, uni, other["id"])
    await deliver_all(db, conf, uni.tenant.id, event["id"])
    assert await _deliveries(db, uni.tenant.id, other["id"]) == []
    assert len(mailbox.messages) == 1
    opted = [e for e in await journal_of(client, uni) if e["type"] == "notification.opted_out"]
    assert sorted(e["petition_id"] for e in opted) == sorted([sub["id"], other["id"]])


def _feed(event: dict[str, Any], uni: Any) -> relay.FeedEvent:
    from service.notifications import jobs  # noqa: F401  (registers the relay handlers)

    return relay.FeedEvent(
        tenant_id=uni.tenant.id,
        id=uuid.UUID(event["id"]),
        txid=1,
        seq=1,
        occurred_at=event["occurred_at"],
        type=event["type"],
        actor_id=None,
        petition_id=uuid.UUID(event["petition_id"]),
        incident_id=None,
        org_unit_id=None,
        subject_id=None,
        payload=event["payload"],
    )
