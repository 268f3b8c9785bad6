"""Webhook API: subscriptions (tenant admins, or API keys with ``webhooks:manage``) and the delivery log."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar import Controller, get, patch, post
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody, QueryParameter

from service.http.deps import Caller, Input, Page, Session
from service.http.security import requires
from service.webhooks import catalogue, services
from service.webhooks.models import Attempt, Delivery, Subscription
from tenants.identity import Role

MANAGE = requires(Role.tenant_admin, scopes=("webhooks:manage",))

Url = Annotated[str, msgspec.Meta(min_length=8, max_length=2048)]
EventTypes = Annotated[
    list[Annotated[str, msgspec.Meta(min_length=1, max_length=80)]], msgspec.Meta(min_length=1, max_length=50)
]
Description = Annotated[str, msgspec.Meta(max_length=500)]


class SubscriptionCreate(Input):
    url: Url
    event_types: EventTypes
    description: Description | None = None
    enabled: bool = True


class SubscriptionUpdate(Input):
    url: Url | None = None
    event_types: EventTypes | None = None
    description: Description | None = None
    enabled: bool | None = None


class RotateSecret(Input):
    # How long the previous secret keeps signing beside the new one (default one day, at most a week).
    overlap_seconds: Annotated[int, msgspec.Meta(ge=0, le=services.MAX_OVERLAP)] = 24 * 3600


class RedeliverFailed(Input):
    since: datetime


class SubscriptionOut(msgspec.Struct):
    id: uuid.UUID
    url: str
    event_types: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    failing_since: datetime | None
    previous_secret_expires_at: datetime | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, s: Subscription) -> SubscriptionOut:
        return cls(
            s.id,
            s.url,
            list(s.event_types),
            s.description,
            s.enabled,
            s.disabled_reason,
            s.disabled_at,
            s.failing_since,
            s.previous_secret_expires_at if s.previous_secret else None,
            s.created_at,
            s.updated_at,
        )


class SubscriptionCreated(msgspec.Struct):
    subscription: SubscriptionOut
    secret: str
    note: str = "shown once: verify the webhook-signature header with it (Standard Webhooks)"


class SecretRotated(msgspec.Struct):
    subscription: SubscriptionOut
    secret: str
    note: str = "shown once; the previous secret also signs until previous_secret_expires_at"


class DeliveryOut(msgspec.Struct):
    id: uuid.UUID
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    created_at: datetime
    completed_at: datetime | None

    @classmethod
    def of(cls, d: Delivery) -> DeliveryOut:
        return cls(
            d.id,
            d.subscription_id,
            d.event_id,
            d.event_type,
            d.status,
            d.attempts,
            d.next_attempt_at if d.status == "pending" else None,
            d.last_status_code,
            d.last_error,
            d.created_at,
            d.completed_at,
        )


class AttemptOut(msgspec.Struct):
    id: uuid.UUID
    attempted_at: datetime
    succeeded: bool
    status_code: int | None
    latency_ms: int
    response_body: str | None
    error: str | None

    @classmethod
    def of(cls, a: Attempt) -> AttemptOut:
        return cls(a.id, a.attempted_at, a.succeeded, a.status_code, a.latency_ms, a.response_body, a.error)


class DeliveryDetail(msgspec.Struct):
    delivery: DeliveryOut
    attempts: list[AttemptOut]


class PingQueued(msgspec.Struct):
    event_id: uuid.UUID


class RedeliveryQueued(msgspec.Struct):
    count: int


Status = Literal["pending", "succeeded", "failed"]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]


class WebhookController(Controller):
    path = "/api/v1/webhooks"

    @get(
        "/event-types",
        summary="The event-type catalogue: every event a subscription can receive, its payload schema and an example",
        description="The same catalogue as the OpenAPI document's `webhooks` section. No authentication: it is "
        "the contract, with no data of any university.",
        security=[{}],
        cache=3600,
    )
    async def event_types(self) -> list[catalogue.EventTypeOut]:
        return catalogue.event_types()

    tags = ["webhooks"]

    @post("/subscriptions", summary="Subscribe an endpoint (the signing secret is shown once)", **MANAGE)
    async def create(
        self, data: JSONBody[SubscriptionCreate], db_session: Session, principal: Caller, state: State
    ) -> SubscriptionCreated:
        subscription, secret = await services.create_subscription(
            db_session,
            state.settings,
            url=data.url,
            event_types=data.event_types,
            description=data.description,
            enabled=data.enabled,
            actor_id=principal.subject_id,
        )
        return SubscriptionCreated(SubscriptionOut.of(subscription), secret)

    @get("/subscriptions", summary="List subscriptions (never their secrets)", **MANAGE)
    async def list(
        self, db_session: Session, cursor: Annotated[uuid.UUID | None, QueryParameter()] = None, limit: Limit = 50
    ) -> Page[SubscriptionOut]:
        rows, more = await services.list_subscriptions(db_session, cursor=cursor, limit=limit)
        return Page([SubscriptionOut.of(s) for s in rows], str(more) if more else None)

    @get("/subscriptions/{subscription_id:uuid}", summary="Show a subscription", **MANAGE)
    async def show(self, subscription_id: FromPath[uuid.UUID], db_session: Session) -> SubscriptionOut:
        return SubscriptionOut.of(await services.get_subscription(db_session, subscription_id))

    @patch("/subscriptions/{subscription_id:uuid}", summary="Change or enable/disable a subscription", **MANAGE)
    async def update(
        self,
        subscription_id: FromPath[uuid.UUID],
        data: JSONBody[SubscriptionUpdate],
        db_session: Session,
        principal: Caller,
        state: State,
    ) -> SubscriptionOut:
        subscription = await services.update_subscription(
            db_session,
            state.settings,
            subscription_id,
            actor_id=principal.subject_id,
            url=data.url,
            event_types=data.event_types,
            description=data.description,
            enabled=data.enabled,
        )
        return SubscriptionOut.of(subscription)

    @post(
        "/subscriptions/{subscription_id:uuid}/rotate-secret",
        summary="Rotate the signing secret; both sign during the overlap",
        status_code=200,
        **MANAGE,
    )
    async def rotate(
        self,
        subscription_id: FromPath[uuid.UUID],
        data: JSONBody[RotateSecret],
        db_session: Session,
        principal: Caller,
    ) -> SecretRotated:
        subscription, secret = await services.rotate_secret(
            db_session, subscription_id, overlap_seconds=data.overlap_seconds, actor_id=principal.subject_id
        )
        return SecretRotated(SubscriptionOut.of(subscription), secret)

    @post(
        "/subscriptions/{subscription_id:uuid}/ping",
        summary="Send a test delivery (webhook.ping)",
        status_code=202,
        **MANAGE,
    )
    async def ping(self, subscription_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> PingQueued:
        return PingQueued(await services.ping(db_session, subscription_id, actor_id=principal.subject_id))

    @get("/subscriptions/{subscription_id:uuid}/deliveries", summary="The delivery log of a subscription", **MANAGE)
    async def deliveries(
        self,
        subscription_id: FromPath[uuid.UUID],
        db_session: Session,
        status: Annotated[Status | None, QueryParameter()] = None,
        event_type: Annotated[str | None, QueryParameter(max_length=80)] = None,
        event_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        since: Annotated[datetime | None, QueryParameter()] = None,
        cursor: Annotated[uuid.UUID | None, QueryParameter()] = None,
        limit: Limit = 50,
    ) -> Page[DeliveryOut]:
        rows, more = await services.list_deliveries(
            db_session,
            subscription_id=subscription_id,
            status=status,
            event_type=event_type,
            event_id=event_id,
            since=since,
            cursor=cursor,
            limit=limit,
        )
        return Page([DeliveryOut.of(d) for d in rows], str(more) if more else None)

    @post(
        "/subscriptions/{subscription_id:uuid}/redeliver",
        summary="Queue again every failed delivery created since a time",
        status_code=202,
        **MANAGE,
    )
    async def redeliver_failed(
        self,
        subscription_id: FromPath[uuid.UUID],
        data: JSONBody[RedeliverFailed],
        db_session: Session,
        principal: Caller,
    ) -> RedeliveryQueued:
        count = await services.redeliver_failed(
            db_session, subscription_id, since=data.since, actor_id=principal.subject_id
        )
        return RedeliveryQueued(count)

    @get("/deliveries", summary="Search deliveries of every subscription (e.g. per event)", **MANAGE)
    async def search(
        self,
        db_session: Session,
        event_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        status: Annotated[Status | None, QueryParameter()] = None,
        event_type: Annotated[str | None, QueryParameter(max_length=80)] = None,
        since: Annotated[datetime | None, QueryParameter()] = None,
        cursor: Annotated[uuid.UUID | None, QueryParameter()] = None,
        limit: Limit = 50,
    ) -> Page[DeliveryOut]:
        rows, more = await services.list_deliveries(
            db_session, event_id=event_id, status=status, event_type=event_type, since=since, cursor=cursor, limit=limit
        )
        return Page([DeliveryOut.of(d) for d in rows], str(more) if more else None)

    @get("/deliveries/{delivery_id:uuid}", summary="A delivery with every attempt", **MANAGE)
    async def delivery(self, delivery_id: FromPath[uuid.UUID], db_session: Session) -> DeliveryDetail:
        found, attempts = await services.get_delivery(db_session, delivery_id)
        return DeliveryDetail(DeliveryOut.of(found), [AttemptOut.of(a) for a in attempts])

    @post(
        "/deliveries/{delivery_id:uuid}/redeliver",
        summary="Queue one delivery again",
        status_code=202,
        **MANAGE,
    )
    async def redeliver(self, delivery_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> DeliveryOut:
        return DeliveryOut.of(await services.redeliver(db_session, delivery_id, actor_id=principal.subject_id))
