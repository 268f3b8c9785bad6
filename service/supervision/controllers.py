"""HTTP for supervision orders (督查督办). Thin: the rules live in ``services``."""

from __future__ import annotations

import uuid
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from service.http.deps import Caller, Session
from service.http.guards import STAFF
from service.supervision import schemas as s
from service.supervision import services
from service.supervision.workflow import Action


class SupervisionController(Controller):
    path = "/api/v1/supervision-orders"
    tags = ["supervision"]

    @post("/", summary="Issue a supervision order to a unit on a petition or an incident task", **STAFF)
    async def issue(self, data: JSONBody[s.OrderIn], db_session: Session, principal: Caller) -> s.OrderOut:
        order = await services.issue(
            db_session,
            services.OrderIn(
                org_unit_id=data.org_unit_id,
                expected=data.expected,
                due_at=data.due_at,
                petition_id=data.petition_id,
                incident_id=data.incident_id,
                task_id=data.task_id,
            ),
            principal=principal,
        )
        return s.OrderOut.of(order)

    @get("/", summary="The supervision orders I issue or my units answer", **STAFF)
    async def list(
        self,
        db_session: Session,
        principal: Caller,
        petition_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        org_unit_id: Annotated[uuid.UUID | None, QueryParameter()] = None,
        order_state: Annotated[str | None, QueryParameter(name="state")] = None,
        overdue: Annotated[bool | None, QueryParameter()] = None,
    ) -> list[s.OrderOut]:
        orders = await services.list_orders(
            db_session, principal, petition_id=petition_id, org_unit_id=org_unit_id, state=order_state, overdue=overdue
        )
        return [s.OrderOut.of(o) for o in orders]

    @get("/{order_id:uuid}", summary="One supervision order", **STAFF)
    async def show(self, order_id: FromPath[uuid.UUID], db_session: Session, principal: Caller) -> s.OrderOut:
        return s.OrderOut.of(await services.find_order(db_session, order_id, principal))

    @post(
        "/{order_id:uuid}/actions",
        summary="answer (the unit), accept / return / close (the office or the leadership group)",
        status_code=200,
        **STAFF,
    )
    async def act(
        self, order_id: FromPath[uuid.UUID], data: JSONBody[s.ActionIn], db_session: Session, principal: Caller
    ) -> s.OrderOut:
        order = await services.act(
            db_session,
            order_id,
            Action(data.action),
            principal=principal,
            version=data.version,
            text=data.text,
            due_at=data.due_at,
        )
        return s.OrderOut.of(order)
