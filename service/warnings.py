"""Early warnings' API: list and read (university staff), dismiss with a reason (the handling group or an admin).

Warnings are raised by the scheduled scan (``analytics.warning_scan``), never through the API. Opening an
incident from a warning belongs to the incidents domain; ``incident_id`` and the ``incident_opened`` state are
reserved for it.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from analytics import warning_scan
from analytics.warning_scan import EarlyWarning, WarningState
from service.deps import Caller, Input, Session
from service.security import requires
from tenants.identity import Role

READ = requires(Role.staff, Role.petition_officer, Role.tenant_admin)
KIND_LABELS = {"category": ("类别", "category"), "org_unit": ("部门", "unit"), "place": ("地点", "place")}


class Summary(msgspec.Struct):
    zh: str
    en: str


class WarningOut(msgspec.Struct):
    id: uuid.UUID
    key_kind: str
    key: str
    org_unit_id: uuid.UUID | None
    raised_at: dt.datetime
    window_start: dt.datetime
    window_end: dt.datetime
    window_count: int
    baseline: float
    score: float
    peak_count: int
    last_seen_at: dt.datetime
    state: str
    dismissed_at: dt.datetime | None
    dismissed_by: uuid.UUID | None
    dismiss_reason: str | None
    incident_id: uuid.UUID | None
    summary: Summary

    @classmethod
    def of(cls, w: EarlyWarning) -> WarningOut:
        hours = round((w.window_end - w.window_start) / dt.timedelta(hours=1))
        zh_kind, en_kind = KIND_LABELS[w.key_kind]
        summary = Summary(
            zh=f"过去{hours}小时内{zh_kind}“{w.key}”收到{w.window_count}件信访，"
            f"平时每{hours}小时约{w.baseline:.1f}件（异常分值{w.score:.1f}）。",
            en=f"{w.window_count} petitions on {en_kind} '{w.key}' in {hours} h, against about {w.baseline:.1f} "
            f"usually (score {w.score:.1f}).",
        )
        return cls(
            w.id, w.key_kind, w.key, w.org_unit_id, w.raised_at, w.window_start, w.window_end, w.window_count,
            w.baseline, w.score, w.peak_count, w.last_seen_at, w.state, w.dismissed_at, w.dismissed_by,
            w.dismiss_reason, w.incident_id, summary,
        )  # fmt: skip


class DismissIn(Input):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class WarningController(Controller):
    path = "/api/v1/warnings"
    tags = ["warnings"]

    @get("/", summary="Early warnings, newest first", **READ)
    async def list_warnings(
        self,
        db_session: Session,
        warning_state: Annotated[WarningState | None, QueryParameter(name="state")] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
        before: Annotated[dt.datetime | None, QueryParameter(description="raised before (paging)")] = None,
    ) -> list[WarningOut]:
        rows = await warning_scan.list_warnings(db_session, state=warning_state, limit=limit, before=before)
        return [WarningOut.of(w) for w in rows]

    @get("/{warning_id:uuid}", summary="One warning with its evidence", **READ)
    async def show(self, warning_id: FromPath[uuid.UUID], db_session: Session) -> WarningOut:
        return WarningOut.of(await warning_scan.get_warning(db_session, warning_id))

    @post("/{warning_id:uuid}/dismiss", summary="Dismiss a warning (handling group or admin)", status_code=200, **READ)
    async def dismiss(
        self, warning_id: FromPath[uuid.UUID], data: JSONBody[DismissIn], db_session: Session, principal: Caller
    ) -> WarningOut:
        warning = await warning_scan.dismiss(db_session, warning_id, principal=principal, reason=data.reason)
        return WarningOut.of(warning)
