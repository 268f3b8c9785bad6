"""My notifications in the console: the same feed as ``GET /api/v1/notifications`` (``notifications.services``),
newest first, each in words with a link to what it is about, and "mark all read"."""

from __future__ import annotations

import uuid
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from service.console import pages
from service.console.session import staff_only
from service.http.deps import Caller, Session
from service.notifications import services
from tenants.tenancy import tenant_zone

PAGE_SIZE = 50


def _about(n: Any) -> str | None:
    if n.petition_id:
        return f"/console/petitions/{n.petition_id}"
    if n.incident_id:
        return f"/console/incidents/{n.incident_id}"
    return None


class NotificationPageController(Controller):
    path = "/console/notifications"
    guards = [staff_only]
    include_in_schema = False

    @get("/")
    async def feed(self, request: Request[Any, Any, Any], db_session: Session, principal: Caller) -> Template:
        account = principal.subject_id
        assert account is not None  # staff_only: a signed-in account
        cursor = request.query_params.get("cursor")
        rows, after = await services.feed(
            db_session, account, cursor=uuid.UUID(cursor) if cursor else None, limit=PAGE_SIZE
        )
        return pages.page(
            request,
            "notifications.html",
            zone=await tenant_zone(db_session),
            items=[{"n": n, "href": _about(n)} for n in rows],
            unread=await services.unread_count(db_session, account),
            next_cursor=str(after) if after else None,
        )

    @post("/read-all")
    async def read_all(self, db_session: Session, principal: Caller) -> Redirect:
        assert principal.subject_id is not None
        await services.mark_all_read(db_session, principal.subject_id)
        return pages.redirect("/console/notifications")
