"""The tenant admin's webhook pages: subscriptions (create, edit their events, disable), the signing secret shown
once on creation and on rotation, the delivery log with every attempt, redelivery (one, or every failed one
since a time) and the ping.

The forms call ``service.webhooks.services`` as the API's controllers do, behind the same guard (tenant admins).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from service.console import i18n, pages
from service.console.session import staff_only
from service.http.deps import Caller, Session
from service.webhooks import catalogue, services
from service.webhooks import controllers as api
from service.webhooks.models import Subscription
from tenants.clock import utcnow
from tenants.errors import Conflict, Invalid
from tenants.tenancy import tenant_zone

BASE = "/console/admin/webhooks"
LOG_LIMIT = 50
HOUR = 3600


def event_types_of(raw: str) -> list[str]:
    """The event types typed into the form: separated by commas, spaces or new lines, each once."""
    return list(dict.fromkeys(p for p in re.split(r"[\s,，]+", raw) if p))


def local_instant(raw: str, zone: dt.tzinfo) -> dt.datetime | None:
    """A ``datetime-local`` field (the university's wall clock) as an aware instant; None when unreadable."""
    try:
        value = dt.datetime.fromisoformat(raw.strip())
    except ValueError:
        return None
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


class WebhookPageController(Controller):
    path = BASE
    guards = [staff_only, *api.MANAGE["guards"]]
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any], db_session: Session) -> Template:
        return await _index(request, db_session)

    @post("/")
    async def create(
        self, request: Request[Any, Any, Any], db_session: Session, principal: Caller, state: State
    ) -> Template:
        form = await request.form()
        values = {k: str(form.get(k) or "").strip() for k in ("url", "event_types", "description")}
        try:
            async with db_session.begin_nested():
                subscription, secret = await services.create_subscription(
                    db_session,
                    state.settings,
                    url=values["url"],
                    event_types=event_types_of(values["event_types"]),
                    description=values["description"][:500] or None,
                    enabled=True,
                    actor_id=principal.subject_id,
                )
        except Invalid as exc:
            return await _index(
                request, db_session, status_code=422, values=values, problems=list(exc.extra.get("errors") or [])
            )
        return _secret_page(request, subscription, secret, rotated=False, status_code=201)

    @get("/{subscription_id:uuid}")
    async def show(
        self, request: Request[Any, Any, Any], subscription_id: FromPath[uuid.UUID], db_session: Session
    ) -> Template:
        return await _subscription_page(request, db_session, subscription_id)

    @post("/{subscription_id:uuid}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[uuid.UUID],
        db_session: Session,
        principal: Caller,
        state: State,
    ) -> Template | Redirect:
        form = await request.form()
        values = {k: str(form.get(k) or "").strip() for k in ("url", "event_types", "description")}
        try:
            async with db_session.begin_nested():
                await services.update_subscription(
                    db_session,
                    state.settings,
                    subscription_id,
                    actor_id=principal.subject_id,
                    url=values["url"] or None,
                    event_types=event_types_of(values["event_types"]),
                    description=values["description"][:500],
                    enabled=form.get("enabled") == "yes",
                )
        except Invalid as exc:
            return await _subscription_page(
                request, db_session, subscription_id, status_code=422, problems=list(exc.extra.get("errors") or [])
            )
        return pages.redirect(f"{BASE}/{subscription_id}?done=saved")

    @post("/{subscription_id:uuid}/rotate-secret")
    async def rotate(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[uuid.UUID],
        db_session: Session,
        principal: Caller,
    ) -> Template:
        form = await request.form()
        try:
            hours = int(str(form.get("overlap_hours") or "24"))
        except ValueError:
            hours = -1
        try:
            async with db_session.begin_nested():
                subscription, secret = await services.rotate_secret(
                    db_session, subscription_id, overlap_seconds=hours * HOUR, actor_id=principal.subject_id
                )
        except Invalid as exc:
            return await _subscription_page(
                request, db_session, subscription_id, status_code=422, problems=list(exc.extra.get("errors") or [])
            )
        return _secret_page(request, subscription, secret, rotated=True)

    @post("/{subscription_id:uuid}/ping")
    async def ping(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[uuid.UUID],
        db_session: Session,
        principal: Caller,
    ) -> Template | Redirect:
        try:
            await services.ping(db_session, subscription_id, actor_id=principal.subject_id)
        except Conflict as exc:
            return await _subscription_page(
                request, db_session, subscription_id, status_code=409, refused=i18n.refused(pages.lang_of(request), exc)
            )
        return pages.redirect(f"{BASE}/{subscription_id}?done=pinged")

    @post("/{subscription_id:uuid}/redeliver")
    async def redeliver_failed(
        self,
        request: Request[Any, Any, Any],
        subscription_id: FromPath[uuid.UUID],
        db_session: Session,
        principal: Caller,
    ) -> Template | Redirect:
        form = await request.form()
        since = local_instant(str(form.get("since") or ""), await tenant_zone(db_session))
        if since is None:
            return await _subscription_page(
                request, db_session, subscription_id, status_code=422, problems=[{"field": "since", "message": ""}]
            )
        try:
            count = await services.redeliver_failed(
                db_session, subscription_id, since=since, actor_id=principal.subject_id
            )
        except Conflict as exc:
            return await _subscription_page(
                request, db_session, subscription_id, status_code=409, refused=i18n.refused(pages.lang_of(request), exc)
            )
        return pages.redirect(f"{BASE}/{subscription_id}?done=requeued&count={count}")

    @get("/deliveries/{delivery_id:uuid}")
    async def delivery(
        self, request: Request[Any, Any, Any], delivery_id: FromPath[uuid.UUID], db_session: Session
    ) -> Template:
        return await _delivery_page(request, db_session, delivery_id)

    @post("/deliveries/{delivery_id:uuid}/redeliver")
    async def redeliver(
        self, request: Request[Any, Any, Any], delivery_id: FromPath[uuid.UUID], db_session: Session, principal: Caller
    ) -> Template | Redirect:
        try:
            async with db_session.begin_nested():
                await services.redeliver(db_session, delivery_id, actor_id=principal.subject_id)
        except Conflict as exc:
            return await _delivery_page(
                request, db_session, delivery_id, status_code=409, refused=i18n.refused(pages.lang_of(request), exc)
            )
        return pages.redirect(f"{BASE}/deliveries/{delivery_id}?done=requeued")


def _secret_page(
    request: Request[Any, Any, Any], subscription: Subscription, secret: str, *, rotated: bool, status_code: int = 200
) -> Template:
    return pages.page(
        request,
        "webhook_secret.html",
        status_code=status_code,
        subscription=subscription,
        secret=secret,
        rotated=rotated,
    )


async def _index(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    *,
    status_code: int = 200,
    values: dict[str, str] | None = None,
    problems: list[dict[str, Any]] | None = None,
) -> Template:
    rows, _ = await services.list_subscriptions(session, cursor=None, limit=200)
    return pages.page(
        request,
        "webhooks.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        subscriptions=rows,
        values=values or {},
        problems=problems,
        catalogue=[(e.name, e.description.get(pages.lang_of(request), e.name)) for e in catalogue.event_types()],
    )


async def _subscription_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    subscription_id: uuid.UUID,
    *,
    status_code: int = 200,
    problems: list[dict[str, Any]] | None = None,
    refused: str | None = None,
) -> Template:
    subscription = await services.get_subscription(session, subscription_id)
    status = request.query_params.get("status")
    deliveries, _ = await services.list_deliveries(
        session,
        subscription_id=subscription_id,
        status=status if status in ("pending", "succeeded", "failed") else None,
        limit=LOG_LIMIT,
    )
    zone = await tenant_zone(session)
    return pages.page(
        request,
        "webhook.html",
        status_code=status_code,
        zone=zone,
        subscription=subscription,
        deliveries=deliveries,
        status=status,
        problems=problems,
        refused=refused,
        done=request.query_params.get("done"),
        count=request.query_params.get("count"),
        # The redeliver-since field starts a day back, on the university's wall clock.
        since_default=(utcnow().astimezone(zone) - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    )


async def _delivery_page(
    request: Request[Any, Any, Any],
    session: AsyncSession,
    delivery_id: uuid.UUID,
    *,
    status_code: int = 200,
    refused: str | None = None,
) -> Template:
    found, attempts = await services.get_delivery(session, delivery_id)
    return pages.page(
        request,
        "webhook_delivery.html",
        status_code=status_code,
        zone=await tenant_zone(session),
        delivery=found,
        attempts=attempts,
        refused=refused,
        done=request.query_params.get("done"),
    )
