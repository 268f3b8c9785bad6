"""Evaluation report API: request a report of a closed period (202 + Location of the request), list the
snapshots, read one as JSON, or rendered (``report.html`` with charts, ``report.pdf``, ``report.csv``,
``report.xlsx``, ``report.parquet``; ``?lang=zh-CN|en``).

Admins and petition officers request; they, staff, and API keys with ``reports:read`` read. Another university's
ids are 404: row-level security hides its rows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import re
import uuid
from typing import Annotated, Any, Literal, cast

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.openapi import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from sqlalchemy.ext.asyncio import AsyncSession

from analytics.forecasts import compute
from analytics.forecasts import store as forecasts
from analytics.reports import render, store
from analytics.reports.periods import Kind
from service.http.deps import Caller, Input, Page, Session
from service.http.idempotency import IdempotencyKey
from service.http.security import requires
from tenants import idempotency
from tenants.clock import utcnow
from tenants.errors import NotFound
from tenants.identity import Principal, Role
from tenants.tenancy import get_tenant

REQUEST = requires(Role.tenant_admin, Role.petition_officer)
READ = requires(Role.tenant_admin, Role.petition_officer, Role.staff, scopes=("reports:read",))
FILE = re.compile(r"^report\.(html|pdf|csv|xlsx|parquet)$")
BASE = "/api/v1/reports"


class ReportRequestIn(Input):
    kind: Kind
    period_start: dt.date


class ReportRequestOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    period_start: dt.date
    status: Literal["pending", "done"]
    requested_at: dt.datetime
    report_id: uuid.UUID | None
    completed_at: dt.datetime | None
    location: str

    @classmethod
    def of(cls, r: store.ReportRequest) -> ReportRequestOut:
        return cls(
            r.id,
            r.kind,
            r.period_start,
            "done" if r.report_id else "pending",
            r.requested_at,
            r.report_id,
            r.completed_at,
            f"{BASE}/requests/{r.id}",
        )


class ReportOut(msgspec.Struct):
    id: uuid.UUID
    kind: str
    period_start: dt.date
    period_end: dt.date
    revision: int
    current: bool
    watermark_seq: int
    watermark_count: int
    plan_version_id: uuid.UUID | None
    plan_version_number: int | None
    content_hash: str
    generated_at: dt.datetime

    @classmethod
    def of(cls, r: store.Report, latest: int) -> ReportOut:
        return cls(
            r.id,
            r.kind,
            r.period_start,
            r.period_end,
            r.revision,
            r.revision == latest,
            r.watermark_seq,
            r.watermark_count,
            r.plan_version_id,
            r.plan_version_number,
            r.content_hash,
            r.generated_at,
        )


class ReportDetail(msgspec.Struct):
    report: ReportOut
    content: dict[str, Any]


def _tenant(principal: Principal) -> uuid.UUID:
    assert principal.tenant_id is not None  # the guards admit tenant callers only
    return principal.tenant_id


class ForecastRow(msgspec.Struct):
    """One series' forecast: ``series`` is a category code or ``*`` (every category); ``model`` is the one kept
    (``AutoETS`` where it beat the seasonal-naive baseline on the holdout quarter, else the baseline), with both
    MASE figures of the holdout."""

    series: str
    petitions: float
    lo: float
    hi: float
    model: str
    mase: float
    baseline_mase: float
    months: int

    @classmethod
    def of(cls, f: Any) -> ForecastRow:
        return cls(f.series, f.petitions, f.lo, f.hi, f.model, f.mase, f.baseline_mase, f.months)


class ForecastOut(msgspec.Struct):
    quarter_start: dt.date | None  # none before the first refresh (or with under six months of history)
    level: int
    series: list[ForecastRow]


class ReportController(Controller):
    path = BASE
    tags = ["reports"]

    @post(
        "",
        summary="Request the report of a closed period (computed in the background)",
        status_code=202,
        responses={
            202: ResponseSpec(
                data_container=ReportRequestOut, description="Accepted: follow Location", generate_examples=False
            )
        },
        location=True,
        **REQUEST,
    )
    async def request(
        self,
        data: JSONBody[ReportRequestIn],
        db_session: Session,
        principal: Caller,
        request: Request[Any, Any, Any],
        idempotency_key: IdempotencyKey = None,
    ) -> Response[Any]:
        claim = None
        if idempotency_key is not None:
            fp = idempotency.fingerprint(request.method, request.url.path, msgspec.json.encode(data))
            claim = await idempotency.claim(db_session, key=idempotency_key, principal=principal, fp=fp)
            if claim.replay is not None:
                body = claim.replay[1]
                location = msgspec.json.decode(body)["location"]
                return Response(
                    body.encode(),
                    status_code=claim.replay[0],
                    media_type="application/json",
                    headers={"Location": location, "Idempotent-Replayed": "true"},
                )
        tenant = await get_tenant(db_session, _tenant(principal))
        created = await store.request_report(
            db_session,
            data.kind,
            data.period_start,
            actor_id=principal.subject_id,
            today=utcnow().astimezone(tenant.zone).date(),
        )
        out = ReportRequestOut.of(created)
        encoded = msgspec.json.encode(out)
        if claim is not None:
            await idempotency.complete(db_session, claim, 202, encoded.decode())
        return Response(encoded, status_code=202, media_type="application/json", headers={"Location": out.location})

    @get("/requests/{request_id:uuid}", summary="An on-demand request: pending, or done with its report", **READ)
    async def request_status(self, request_id: FromPath[uuid.UUID], db_session: Session) -> ReportRequestOut:
        return ReportRequestOut.of(await store.get_request(db_session, request_id))

    @get("", summary="Report snapshots, newest first (every revision; `current` marks the newest)", **READ)
    async def list(
        self,
        db_session: Session,
        kind: FromQuery[Kind | None] = None,
        period_start: FromQuery[dt.date | None] = None,
        cursor: Annotated[uuid.UUID | None, QueryParameter()] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=200)] = 50,
    ) -> Page[ReportOut]:
        rows, more = await store.list_reports(
            db_session, kind=kind, period_start=period_start, cursor=cursor, limit=limit
        )
        latest = await store.latest_revisions(db_session)
        return Page([ReportOut.of(r, latest[(r.kind, r.period_start)]) for r in rows], str(more) if more else None)

    @get("/forecast", summary="Next quarter's petition volume, in total and per category, with an 80% interval", **READ)
    async def forecast(self, db_session: Session) -> ForecastOut:
        rows = await forecasts.latest(db_session)
        return ForecastOut(
            quarter_start=rows[0].quarter_start if rows else None,
            level=compute.LEVEL,
            series=[ForecastRow.of(r) for r in rows],
        )

    @get("/{report_id:uuid}", summary="One report with its metric tables and findings (JSON)", **READ)
    async def show(self, report_id: FromPath[uuid.UUID], db_session: Session) -> ReportDetail:
        report = await store.get_report(db_session, report_id)
        latest = await store.latest_revisions(db_session)
        return ReportDetail(ReportOut.of(report, latest[(report.kind, report.period_start)]), report.data())

    @get(
        "/{report_id:uuid}/{file:str}",
        summary="The report rendered: report.html, report.pdf, report.csv, report.xlsx or report.parquet",
        produces=("html", "pdf", "csv", "xlsx", "parquet"),
        **READ,
    )
    async def rendered(
        self,
        report_id: FromPath[uuid.UUID],
        file: FromPath[str],
        db_session: Session,
        lang: FromQuery[render.Lang] = "zh-CN",
        table: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> Response[bytes]:
        return await rendition(db_session, report_id, file, lang, table)


async def rendition(
    session: AsyncSession, report_id: uuid.UUID, file: str, lang: render.Lang, table: str | None = None
) -> Response[bytes]:
    """A report rendered as ``file`` (``report.pdf`` …) for download: the API's and the console's."""
    match = FILE.match(file)
    if match is None:
        raise NotFound("no such rendition: report.html, .pdf, .csv, .xlsx or .parquet")
    fmt = cast(render.Format, match.group(1))  # FILE matches only the formats
    report = await store.get_report(session, report_id)
    content = report.data()
    if table is not None and table not in content["tables"]:
        raise NotFound(f"no table {table!r}; one of {sorted(content['tables'])}")
    content["revision"] = report.revision
    # PDF rendering subsets a font: seconds of CPU, kept off the event loop.
    body = await asyncio.to_thread(render.render, content, lang, fmt, table=table)
    name = f"report-{report.kind}-{report.period_start.isoformat()}-r{report.revision}-{lang}.{fmt}"
    disposition = "inline" if fmt == "html" else "attachment"
    return Response(
        body,
        media_type=render.MEDIA_TYPES[fmt],
        headers={"Content-Disposition": f'{disposition}; filename="{name}"'},
    )
