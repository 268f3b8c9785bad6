"""Every error leaves as ``application/problem+json`` (RFC 9457) with a stable ``type``; never a stack trace."""

from __future__ import annotations

import re
import uuid
from typing import Any

import asyncpg
import structlog
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException
from litestar.utils.scope.state import ScopeState
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from service.http import body_errors
from tenants.errors import DomainError, RateLimited, Unavailable

log = structlog.get_logger("xinfang.errors")

PROBLEM = "application/problem+json"
TYPE_BASE = "https://xinfang.dev/problems/"
# A client's own request id is echoed when it looks like one; anything else is replaced.
REQUEST_ID_PATTERN = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")

_HTTP_CODES = {
    400: ("bad-request", "Bad request"),
    401: ("unauthorized", "Authentication required"),
    403: ("forbidden", "Forbidden"),
    404: ("not-found", "Not found"),
    405: ("method-not-allowed", "Method not allowed"),
    406: ("not-acceptable", "Not acceptable"),
    409: ("conflict", "Conflict"),
    413: ("payload-too-large", "Request body too large"),
    415: ("unsupported-media-type", "Unsupported media type"),
    422: ("validation", "Invalid input"),
    429: ("rate-limited", "Too many requests"),
    500: ("internal", "Internal error"),
    503: ("unavailable", "Service unavailable"),
}


def problem(
    request: Request[Any, Any, Any] | None,
    status: int,
    *,
    code: str | None = None,
    title: str | None = None,
    detail: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Response[dict[str, Any]]:
    default_code, default_title = _HTTP_CODES.get(status, ("error", "Error"))
    body: dict[str, Any] = {
        "type": TYPE_BASE + (code or default_code),
        "title": title or default_title,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if request is not None:
        body["instance"] = request.url.path
        request_id = request.scope.get("state", {}).get("request_id")
        if not request_id:
            # No route matched (404, 405): the request never met the middleware that names requests, so name it
            # here; every answer carries an id.
            sent = request.headers.get("x-request-id", "")
            request_id = sent if REQUEST_ID_PATTERN.match(sent) else uuid.uuid4().hex
            headers = {**(headers or {}), "x-request-id": request_id}
        body["request_id"] = request_id
    body.update({k: v for k, v in extra.items() if v is not None})
    if isinstance(body.get("errors"), list):
        body["errors"] = [_with_pointer(e) for e in body["errors"]]
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


def _with_pointer(error: Any) -> Any:
    """A domain error's ``field`` (``a.b[0]``) also as a JSON pointer (``/a/b/0``), like schema errors."""
    if isinstance(error, dict) and isinstance(error.get("field"), str) and "pointer" not in error:
        steps = [s for s in error["field"].replace("]", "").replace("[", ".").split(".") if s]
        return {**error, "pointer": body_errors.entry(steps, "")["pointer"]}
    return error


def domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[dict[str, Any]]:
    headers = None
    if isinstance(exc, RateLimited | Unavailable):
        headers = {"Retry-After": str(exc.retry_after)}
    return problem(request, exc.status, code=exc.code, title=exc.title, detail=exc.detail, headers=headers, **exc.extra)


def validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[dict[str, Any]]:
    errors = [_located(e) for e in exc.extra] if isinstance(exc.extra, list) else None
    if errors and any(e.get("source") == "body" for e in errors):
        # msgspec reports the body's first error only: list every invalid field of it instead.
        every = _every_body_error(request)
        if every:
            errors = [e for e in errors if e.get("source") != "body"] + [{**e, "source": "body"} for e in every]
    detail = exc.detail
    # Litestar's message names the route; the useful part is the per-field list.
    if detail.startswith("Validation failed for"):
        detail = "the request does not match the expected schema"
    return problem(request, 400, code="invalid-request", title="Invalid request", detail=detail, errors=errors)


def _located(error: Any) -> Any:
    """Litestar's ``{message, key, source}`` with the field and, for the body, its JSON pointer."""
    if not isinstance(error, dict) or "key" not in error:
        return error
    out = dict(error)
    if out.get("source") == "body":
        out.update({k: v for k, v in body_errors.entry(str(out["key"]).split("."), out["message"]).items()})
    return out


def _every_body_error(request: Request[Any, Any, Any]) -> list[dict[str, str]]:
    try:
        body = ScopeState.from_scope(request.scope).body
        data = request.route_handler.parsed_fn_signature.parameters.get("data")
        struct = body_errors.struct_of(data.annotation) if data is not None else None
        if not isinstance(body, bytes) or not body or struct is None:
            return []
        return body_errors.json_body_errors(body, struct)
    except Exception:  # a fault here must not turn the client's 400 into a 500: keep msgspec's first error
        log.exception("validation.collect_failed")
        return []


def http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[dict[str, Any]]:
    status = exc.status_code
    detail = exc.detail if exc.detail and exc.detail != _HTTP_CODES.get(status, ("", ""))[1] else None
    if status == 400 and detail and "JSON" in detail.upper():
        return problem(request, 400, code="malformed-body", title="Malformed request body", detail=detail)
    headers = {k: v for k, v in (exc.headers or {}).items()}
    return problem(request, status, detail=detail, headers=headers or None)


# character_not_in_repertoire, untranslatable_character: text PostgreSQL cannot store (a NUL character).
_UNSTORABLE_TEXT = {"22021", "22P05"}
_UNAVAILABLE_STATES = {"08000", "08001", "08003", "08004", "08006", "57P01", "57P02", "57P03", "53300"}


def database_error(
    request: Request[Any, Any, Any], exc: DBAPIError | asyncpg.PostgresError | asyncpg.InterfaceError
) -> Response[dict[str, Any]]:
    """A database error from the ORM (``DBAPIError``) or, on the intake hot path, straight from asyncpg."""
    if isinstance(exc, asyncpg.PostgresError | asyncpg.InterfaceError):
        state = getattr(exc, "sqlstate", None)
        if isinstance(exc, asyncpg.InterfaceError) or state in _UNAVAILABLE_STATES:
            log.warning("database.unavailable", error=type(exc).__name__)
            return unavailable(request, exc)
        return _by_state(request, state, integrity=bool(state and state.startswith("23")), error=exc)
    if isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated:
        log.warning("database.unavailable", error=type(exc.orig).__name__ if exc.orig else type(exc).__name__)
        return unavailable(request, exc)
    state = getattr(getattr(exc, "orig", None), "sqlstate", None) or getattr(
        getattr(getattr(exc, "orig", None), "__cause__", None), "sqlstate", None
    )
    return _by_state(request, state, integrity=isinstance(exc, IntegrityError), error=exc)


def _referencing_column(error: Any) -> str | None:
    """The column of a violated foreign key, from its constraint's name (PostgreSQL withholds the key's values
    from a role under row-level security): ``fk_<table>_<column>``, ``fk_<table>_tenant_id_<column>_<target>``
    or PostgreSQL's default ``<table>_tenant_id_<column>_fkey``."""
    for _ in range(5):  # the ORM's error, the dialect's, asyncpg's
        if error is None:
            return None
        name, table = getattr(error, "constraint_name", None), getattr(error, "table_name", None)
        if name and table:
            rest = name.removeprefix(f"fk_{table}_").removeprefix(f"{table}_").removesuffix("_fkey")
            rest = rest.removeprefix("tenant_id_")
            match = re.match(r"(.*?_id)(_|$)", rest)
            return match.group(1) if match else None
        error = getattr(error, "orig", None) or error.__cause__
    return None


def _unknown_reference(request: Request[Any, Any, Any], error: Any) -> Response[dict[str, Any]]:
    """A foreign key violation: the request names a record that does not exist in this university."""
    field = _referencing_column(error)
    what = field.removesuffix("_id").replace("_", " ") if field else "record"
    return problem(
        request,
        422,
        code="unknown-reference",
        title="Unknown reference",
        detail=f"no such {what} in this university" + (f" ({field})" if field else ""),
        errors=[{"field": field, "message": f"no such {what} in this university"}] if field else None,
    )


def _by_state(
    request: Request[Any, Any, Any], state: str | None, *, integrity: bool, error: Any = None
) -> Response[dict[str, Any]]:
    if integrity and state == "23503":
        return _unknown_reference(request, error)
    if integrity:
        if state == "23505":
            return problem(
                request,
                409,
                code="duplicate",
                title="Already exists",
                detail="a record with these values exists",
            )
        return problem(
            request,
            422,
            code="constraint",
            title="Invalid reference or value",
            detail="the request violates a data rule (unknown reference or out-of-range value)",
        )
    if state in _UNSTORABLE_TEXT:
        # Found by fuzzing: a NUL character (JSON's "\u0000") is valid JSON and a valid Python string, but
        # PostgreSQL's text cannot hold it. The statement failed, so the transaction wrote nothing.
        return problem(
            request, 400, code="invalid-request", title="Invalid request", detail="text must not contain NUL (U+0000)"
        )
    if state == "42501":
        return problem(request, 403, code="forbidden", detail="not permitted")
    if state in _UNAVAILABLE_STATES:
        log.warning("database.unavailable", sqlstate=state)
        return unavailable(request, None)
    log.exception("database.error", sqlstate=state)
    return problem(request, 500, detail="an internal error occurred")


def unavailable(request: Request[Any, Any, Any], exc: Exception | None) -> Response[dict[str, Any]]:
    return problem(request, 503, detail="a backing service is unavailable; retry shortly", headers={"Retry-After": "5"})


def internal_error(request: Request[Any, Any, Any], exc: Exception) -> Response[dict[str, Any]]:
    if isinstance(exc, ConnectionError | OSError | PoolTimeout):
        log.warning("backend.unavailable", error=type(exc).__name__)
        return unavailable(request, exc)
    log.exception("request.failed", error=type(exc).__name__)
    return problem(request, 500, detail="an internal error occurred")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: domain_error,
    ValidationException: validation_error,
    HTTPException: http_error,
    DBAPIError: database_error,
    asyncpg.PostgresError: database_error,
    asyncpg.InterfaceError: database_error,
    PoolTimeout: internal_error,
    Exception: internal_error,
}
