"""Open311 GeoReport v2 under ``/open311/v2/``: one jurisdiction per university (``jurisdiction_id`` = slug).

Formats by suffix (``.xml``, required by the standard, and ``.json``); errors are the standard's list of
``{code, description}`` with 400/403/404. ``POST requests`` needs an integrator key with the ``open311`` scope.
Reads without a key show no free text or location (a petition is not a pothole) and never an accusation; a
university can turn anonymous reads of requests off (``open311_anonymous_listing`` in the petition settings). Reads
with a key follow the scope policy (``scope.listed``) and show text and location, except for accusations, whose
material stays sealed (art. 30). Extensions: ``page``/``page_size``, and ``notes`` (the case
history, from the journal) on ``requests/{id}`` and on lists with ``extensions=true``.
"""

from __future__ import annotations

import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State
from litestar.params import FromPath
from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.http.deps import Session
from service.http.public import enter_tenant
from service.petitions import scope, services
from service.petitions.models import Category, Petition
from service.petitions.schemas import MAX_CONTENT, status_of
from service.petitions.workflow import CLOSED_STATES
from service.petitions.workflow import State as PState
from tenants import identity
from tenants.clock import utcnow
from tenants.errors import DomainError, Forbidden, Invalid, NotFound, Unauthorized
from tenants.identity import Principal
from tenants.journal import JournalEvent
from tenants.tenancy import Tenant

MAX_WINDOW = timedelta(days=90)
MAX_PAGE_SIZE = 1000
STATUS_NOTES = {
    "received": "已收到，待受理 / received, awaiting acceptance",
    "accepted": "已受理 / accepted",
    "not_accepted": "不予受理 / not accepted",
    "assigned": "已交办 / assigned to the handling unit",
    "in_progress": "办理中 / in progress",
    "transferred": "已转办 / transferred",
    "replied": "已答复 / replied",
    "closed": "已办结 / concluded",
    "review_requested": "复查中 / under review",
    "reviewed": "复查已答复 / review answered",
    "rereview_requested": "复核中 / under re-review",
    "final": "复核已答复，终结 / re-review answered, final",
}
NOTE_OF_EVENT = {
    "petition.submitted": "收到 / received",
    "petition.accepted": "受理 / accepted",
    "petition.not_accepted": "不予受理 / not accepted",
    "petition.assigned": "交办 / assigned",
    "petition.started": "办理 / taken up",
    "petition.transferred": "转办 / transferred",
    "petition.transfer_objected": "转办异议 / transfer objected",
    "petition.extended": "延期 / deadline extended",
    "petition.replied": "答复 / replied",
    "petition.closed": "办结 / concluded",
    "petition.rated": "评价 / rated",
    "petition.review_requested": "申请复查 / review requested",
    "petition.reviewed": "复查答复 / review answered",
    "petition.rereview_requested": "申请复核 / re-review requested",
    "petition.rereviewed": "复核答复 / re-review answered",
}


class Open311Error(Exception):
    def __init__(self, status: int, description: str) -> None:
        self.status = status
        self.description = description


def _split(name: str) -> tuple[str, str]:
    stem, dot, fmt = name.rpartition(".")
    if not dot or fmt not in ("xml", "json"):
        raise Open311Error(404, "unknown resource: use the .xml or .json suffix")
    return stem, fmt


def _iso(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z") if value else None


def _xml(root: str, item: str, rows: list[dict[str, Any]]) -> bytes:
    top = ET.Element(root)
    for row in rows:
        _fill(ET.SubElement(top, item), row)
    return ET.tostring(top, encoding="utf-8", xml_declaration=True)


def _fill(element: ET.Element, row: dict[str, Any]) -> None:
    for key, value in row.items():
        if value is None:
            continue
        child = ET.SubElement(element, key)
        if isinstance(value, list):
            singular = {"attributes": "attribute", "values": "value", "notes": "note", "keywords": "keyword"}[key]
            for entry in value:
                sub = ET.SubElement(child, singular)
                if isinstance(entry, dict):
                    _fill(sub, entry)
                else:
                    sub.text = str(entry)
        elif isinstance(value, bool):
            child.text = "true" if value else "false"
        else:
            child.text = str(value)


def render(fmt: str, root: str, item: str, rows: list[dict[str, Any]], status: int = 200) -> Response[bytes]:
    if fmt == "xml":
        return Response(_xml(root, item, rows), status_code=status, media_type="text/xml; charset=utf-8")
    compact = [{k: v for k, v in row.items() if v is not None} for row in rows]
    return Response(msgspec.json.encode(compact), status_code=status, media_type="application/json")


def error(fmt: str, status: int, description: str) -> Response[bytes]:
    return render(fmt, "errors", "error", [{"code": status, "description": description}], status)


async def _guarded(fmt_of: str, work: Any) -> Response[bytes]:
    fmt = fmt_of.rpartition(".")[2] if fmt_of.rpartition(".")[2] in ("xml", "json") else "json"
    try:
        return await work()
    except Open311Error as exc:
        return error(fmt, exc.status, exc.description)
    except Invalid as exc:
        details = "; ".join(f"{e.get('field')}: {e.get('message')}" for e in exc.extra.get("errors", [])) or exc.detail
        return error(fmt, 400, details)
    except NotFound as exc:
        return error(fmt, 404, exc.detail)
    except Forbidden as exc:
        return error(fmt, 403, exc.detail)
    except Unauthorized as exc:  # another university's (or the platform's) credentials on this jurisdiction
        return error(fmt, 401, exc.detail)
    except DomainError as exc:
        return error(fmt, 400 if exc.status >= 400 and exc.status not in (403, 404) else exc.status, exc.detail)


async def _jurisdiction(state: State, value: str | None) -> Tenant:
    if not value:
        raise Open311Error(400, "jurisdiction_id is required (the university's slug)")
    try:
        tenant_id = await enter_tenant(state, value)
    except NotFound:
        raise Open311Error(404, f"unknown jurisdiction_id {value!r}") from None
    async with state.db.sessionmaker() as session:
        tenant = await session.get(Tenant, tenant_id)
    assert tenant is not None
    return tenant


async def _api_key(session: AsyncSession, tenant: Tenant, raw: str | None, *, required: bool) -> Principal | None:
    if not raw:
        if required:
            raise Open311Error(403, "api_key is required")
        return None
    parsed = identity.parse_api_key(raw)
    principal = None
    if parsed is not None and parsed[0] == tenant.id:
        principal = await identity.resolve_api_key(session, parsed[1], parsed[2])
    if principal is None or "open311" not in principal.scopes:
        raise Open311Error(403, "invalid api_key for this jurisdiction")
    return principal


async def _readable(session: AsyncSession, key: Principal | None, *, listing: bool = True) -> ColumnElement[bool]:
    """Which requests a read may show: with an api_key, the scope policy's (``scope.listed``); without one, never
    an accusation, and (``listing``) nothing at all when the university turned anonymous listing off."""
    if key is not None:
        return scope.listed(key)
    if listing and not (await services.get_settings(session)).open311_anonymous_listing:
        raise Open311Error(403, "api_key is required: this university does not list requests anonymously")
    return Petition.kind != "accusation"


def _service(c: Category) -> dict[str, Any]:
    return {
        "service_code": c.code,
        "service_name": c.name_zh,
        "description": c.description_zh or f"{c.name_zh} / {c.name_en}",
        "metadata": True,
        "type": "realtime",
        "keywords": [c.name_en],
        "group": "信访 petitions",
    }


KIND_ATTRIBUTE = {
    "variable": True,
    "code": "kind",
    "datatype": "singlevaluelist",
    "required": False,
    "datatype_description": "信访类型 kind of petition (default complaint)",
    "order": 1,
    "description": "类型 / kind",
    "values": [
        {"key": "complaint", "name": "申诉求决 / complaint"},
        {"key": "suggestion", "name": "建议意见 / suggestion"},
        {"key": "accusation", "name": "检举控告 / accusation"},
    ],
}


async def _request_rows(
    session: AsyncSession,
    tenant: Tenant,
    rows: list[tuple[Petition, Category]],
    *,
    detailed: bool,
    notes: bool,
) -> list[dict[str, Any]]:
    history: dict[uuid.UUID, list[dict[str, Any]]] = {}
    if notes and rows:
        events = await session.scalars(
            select(JournalEvent)
            .where(JournalEvent.petition_id.in_([p.id for p, _ in rows]), JournalEvent.type.in_(list(NOTE_OF_EVENT)))
            .order_by(JournalEvent.seq)
        )
        for e in events:
            assert e.petition_id is not None  # selected by petition_id
            history.setdefault(e.petition_id, []).append(
                {
                    "datetime": _iso(e.occurred_at),
                    "type": e.type.removeprefix("petition."),
                    "summary": NOTE_OF_EVENT[e.type],
                }
            )
    out = []
    for p, c in rows:
        show = detailed and p.kind != "accusation"
        row: dict[str, Any] = {
            "service_request_id": p.tracking_number,
            "status": status_of(p.state),
            "status_notes": STATUS_NOTES[p.state],
            "service_name": c.name_zh,
            "service_code": c.code,
            "description": p.content if show else None,
            "agency_responsible": tenant.name_zh,
            "service_notice": None,
            "requested_datetime": _iso(p.received_at),
            "updated_datetime": _iso(p.updated_at),
            "expected_datetime": _iso(p.due_at) if PState(p.state) not in CLOSED_STATES else None,
            "address": p.location_text if show else None,
            "lat": p.lat if show else None,
            "long": p.long if show else None,
            "media_url": None,
        }
        if notes:
            row["notes"] = history.get(p.id, [])
        out.append(row)
    return out


def _date(value: str | None, name: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Open311Error(400, f"{name} must be an ISO 8601 datetime") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: str | None, name: str, default: int, low: int, high: int) -> int:
    if value is None or value == "":
        return default
    try:
        number = int(value)
    except ValueError:
        raise Open311Error(400, f"{name} must be an integer") from None
    if not low <= number <= high:
        raise Open311Error(400, f"{name} must be between {low} and {high}")
    return number


# The GeoReport v2 form of POST requests.{fmt}, as the handler reads it (for the OpenAPI document).
_TEXT = {"type": "string", "minLength": 1, "maxLength": 200}
OPEN311_FORM: dict[str, Any] = {
    "fields": {
        "jurisdiction_id": _TEXT,
        "api_key": _TEXT,
        "service_code": _TEXT,
        "description": {"type": "string", "minLength": 1, "maxLength": MAX_CONTENT, "pattern": r"\S"},
        "lat": {"type": "number", "minimum": -90, "maximum": 90},
        "long": {"type": "number", "minimum": -180, "maximum": 180},
        "address_string": _TEXT,
        "address_id": _TEXT,
        "attribute[kind]": {"type": "string", "enum": ["complaint", "suggestion", "accusation"]},
        "first_name": _TEXT,
        "last_name": _TEXT,
        "phone": _TEXT,
        "email": _TEXT,
    },
    "required": ["jurisdiction_id", "api_key", "service_code", "description", "address_string"],
}


class Open311Controller(Controller):
    path = "/open311/v2"
    tags = ["Open311 GeoReport v2"]

    @get("/{name:str}", summary="services.{fmt} or requests.{fmt} (GET)", security=[{}], produces=("json", "xml"))
    async def index(
        self, name: FromPath[str], request: Request[Any, Any, Any], state: State, db_session: Session
    ) -> Response[bytes]:
        async def work() -> Response[bytes]:
            stem, fmt = _split(name)
            q = request.query_params
            tenant = await _jurisdiction(state, q.get("jurisdiction_id"))
            if stem == "services":
                categories = await services.list_categories(db_session, active_only=True)
                return render(fmt, "services", "service", [_service(c) for c in categories])
            if stem != "requests":
                raise Open311Error(404, f"unknown resource {stem!r}")
            key = await _api_key(db_session, tenant, q.get("api_key"), required=False)
            query = (
                select(Petition, Category)
                .join(Category, Category.id == Petition.category_id)
                .where(await _readable(db_session, key))
            )
            if ids := q.get("service_request_id"):
                query = query.where(Petition.tracking_number.in_([i.strip() for i in ids.split(",") if i.strip()]))
            else:
                start, end = _date(q.get("start_date"), "start_date"), _date(q.get("end_date"), "end_date")
                end = end or utcnow()
                start = start or end - MAX_WINDOW
                if end - start > MAX_WINDOW or start > end:
                    raise Open311Error(400, "start_date to end_date spans at most 90 days")
                query = query.where(Petition.received_at >= start, Petition.received_at <= end)
                if codes := q.get("service_code"):
                    query = query.where(Category.code.in_([c.strip() for c in codes.split(",")]))
                if statuses := q.get("status"):
                    wanted = {s.strip() for s in statuses.split(",")}
                    if not wanted <= {"open", "closed"}:
                        raise Open311Error(400, "status is open, closed or both")
                    closed = [s.value for s in CLOSED_STATES]
                    if wanted == {"open"}:
                        query = query.where(Petition.state.not_in(closed))
                    elif wanted == {"closed"}:
                        query = query.where(Petition.state.in_(closed))
            page = _int(q.get("page"), "page", 1, 1, 100_000)
            size = _int(q.get("page_size"), "page_size", MAX_PAGE_SIZE, 1, MAX_PAGE_SIZE)
            query = query.order_by(Petition.id.desc()).offset((page - 1) * size).limit(size)
            rows = [(p, c) for p, c in (await db_session.execute(query)).all()]
            notes = q.get("extensions") == "true"
            body = await _request_rows(db_session, tenant, rows, detailed=key is not None, notes=notes)
            return render(fmt, "service_requests", "request", body)

        return await _guarded(name, work)

    @post(
        "/{name:str}",
        summary="POST requests.{fmt}: file a petition (form-encoded, api_key required)",
        opt={"media": "any", "form": OPEN311_FORM},
        security=[{}],
        status_code=201,
        produces=("json", "xml"),
    )
    async def create(
        self, name: FromPath[str], request: Request[Any, Any, Any], state: State, db_session: Session
    ) -> Response[bytes]:
        async def work() -> Response[bytes]:
            stem, fmt = _split(name)
            if stem != "requests":
                raise Open311Error(404, f"unknown resource {stem!r}")
            form = await request.form()
            field = lambda k: str(form.get(k)) if form.get(k) is not None else None  # noqa: E731
            tenant = await _jurisdiction(state, field("jurisdiction_id") or request.query_params.get("jurisdiction_id"))
            key = await _api_key(db_session, tenant, field("api_key"), required=True)
            assert key is not None
            description = (field("description") or "").strip()
            problems = []
            if not field("service_code"):
                problems.append("service_code is required")
            if not description:
                problems.append("description is required")
            elif len(description) > MAX_CONTENT:
                problems.append(f"description is longer than {MAX_CONTENT} characters")
            lat, long = field("lat"), field("long")
            if not ((lat and long) or field("address_string") or field("address_id")):
                problems.append("a location is required: lat and long, address_string or address_id")
            coords: tuple[float | None, float | None] = (None, None)
            if lat and long:
                try:
                    coords = (float(lat), float(long))
                except ValueError:
                    problems.append("lat and long must be numbers")
                else:
                    if not (-90 <= coords[0] <= 90 and -180 <= coords[1] <= 180):
                        problems.append("lat or long out of range")
            kind = field("attribute[kind]") or "complaint"
            if kind not in ("complaint", "suggestion", "accusation"):
                problems.append("attribute[kind] is complaint, suggestion or accusation")
            if problems:
                raise Open311Error(400, "; ".join(problems))
            name_parts = [x for x in (field("last_name"), field("first_name")) if x]
            person = "".join(name_parts)[:100] or None
            submitted = await services.submit(
                db_session,
                state.db,
                services.Submission(
                    kind=kind,
                    category=str(field("service_code")),
                    subject=description.splitlines()[0][:60],
                    content=description,
                    channel="open311",
                    anonymous=person is None,
                    location_text=(field("address_string") or "")[:200] or None,
                    lat=coords[0],
                    long=coords[1],
                    petitioner_name=person,
                    petitioner_phone=(field("phone") or "")[:40] or None,
                ),
                principal=key,
            )
            p = submitted.petition
            assert p is not None  # only a replayed submission has none, and this one has no Idempotency-Key
            notice = f"请在 15 日内留意受理结果；查询码 lookup code: {submitted.lookup_code}"
            return render(
                fmt,
                "service_requests",
                "request",
                [{"service_request_id": p.tracking_number, "token": str(p.id), "service_notice": notice}],
                201,
            )

        return await _guarded(name, work)

    @get(
        "/services/{name:str}",
        summary="services/{code}.{fmt}: a service definition",
        security=[{}],
        produces=("json", "xml"),
    )
    async def definition(
        self, name: FromPath[str], request: Request[Any, Any, Any], state: State, db_session: Session
    ) -> Response[bytes]:
        async def work() -> Response[bytes]:
            code, fmt = _split(name)
            await _jurisdiction(state, request.query_params.get("jurisdiction_id"))
            category = await services.get_category(db_session, code)
            if not category.active:
                raise Open311Error(404, f"unknown service_code {code!r}")
            body = {"service_code": category.code, "attributes": [KIND_ATTRIBUTE]}
            if fmt == "xml":
                top = ET.Element("service_definition")
                _fill(top, body)
                return Response(
                    ET.tostring(top, encoding="utf-8", xml_declaration=True), media_type="text/xml; charset=utf-8"
                )
            return Response(msgspec.json.encode(body), media_type="application/json")

        return await _guarded(name, work)

    @get(
        "/requests/{name:str}",
        summary="requests/{id}.{fmt}: one request (still a list)",
        security=[{}],
        produces=("json", "xml"),
    )
    async def show(
        self, name: FromPath[str], request: Request[Any, Any, Any], state: State, db_session: Session
    ) -> Response[bytes]:
        async def work() -> Response[bytes]:
            number, fmt = _split(name)
            q = request.query_params
            tenant = await _jurisdiction(state, q.get("jurisdiction_id"))
            key = await _api_key(db_session, tenant, q.get("api_key"), required=False)
            row = (
                await db_session.execute(
                    select(Petition, Category)
                    .join(Category, Category.id == Petition.category_id)
                    .where(Petition.tracking_number == number, await _readable(db_session, key))
                )
            ).first()
            if row is None:
                raise Open311Error(404, f"unknown service_request_id {number!r}")
            body = await _request_rows(db_session, tenant, [(row[0], row[1])], detailed=key is not None, notes=True)
            return render(fmt, "service_requests", "request", body)

        return await _guarded(name, work)

    @get(
        "/tokens/{name:str}",
        summary="tokens/{token}.{fmt}: the request id of a token",
        security=[{}],
        produces=("json", "xml"),
    )
    async def token(
        self, name: FromPath[str], request: Request[Any, Any, Any], state: State, db_session: Session
    ) -> Response[bytes]:
        async def work() -> Response[bytes]:
            token, fmt = _split(name)
            q = request.query_params
            tenant = await _jurisdiction(state, q.get("jurisdiction_id"))
            key = await _api_key(db_session, tenant, q.get("api_key"), required=False)
            try:
                petition_id = uuid.UUID(token)
            except ValueError:
                raise Open311Error(404, "unknown token") from None
            number = await db_session.scalar(
                select(Petition.tracking_number).where(
                    Petition.id == petition_id, await _readable(db_session, key, listing=False)
                )
            )
            if number is None:
                raise Open311Error(404, "unknown token")
            return render(fmt, "service_requests", "request", [{"token": token, "service_request_id": number}])

        return await _guarded(name, work)
