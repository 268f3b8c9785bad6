"""The OpenAPI document, made truthful in one place.

Litestar documents each route's success answer from its return type and a 400 of its own shape. Everything else
a route can answer comes from the machinery every route shares, so it is derived here, once, from what each
handler declares:

- the middleware (every route): 401 for a bad credential, 403 (password change pending, university suspended),
  429 and 503 with ``Retry-After``; every answer carries ``x-request-id``;
- parameters and bodies: 400 ``invalid-request`` / ``malformed-body``; a body also 413 and 415;
- path parameters: 404; writes: 409 and 422; an ``Idempotency-Key`` header: ``idempotent-replayed`` on replays;
- renditions: a ``format`` query parameter's values (or ``opt["produces"]``) name the media types of the answer;
- ``opt["responses"]``: a handler's own extra statuses (e.g. 404 on a route without path parameters).

Problems are RFC 9457 ``application/problem+json``. Their ``type`` values are the stable codes of the domain
error hierarchy (``tenants.errors``) and of the HTTP error mapping (``service.http.errors``), collected from the code
that raises them: one ``Problem<status>`` schema per status lists exactly the codes that status can carry.
"""

from __future__ import annotations

import ast
import functools
import re
import typing
from pathlib import Path
from typing import Any

import msgspec
from litestar import Litestar, Response
from litestar._openapi.plugin import OpenAPIPlugin
from litestar.handlers import HTTPRouteHandler
from litestar.plugins.prometheus import PrometheusController
from litestar.routes import HTTPRoute

from service.http.errors import _HTTP_CODES, PROBLEM, TYPE_BASE
from tenants.errors import DomainError

_ROOT = Path(__file__).resolve().parents[2]
_SCANNED = ("service", "tenants", "analytics")
_WRITES = {"post", "put", "patch", "delete"}

# The media type of each rendition a route can give, by the name its ``format`` parameter (or file name) uses.
RENDITIONS: dict[str, str] = {
    "json": "application/json",
    "xml": "text/xml",
    "html": "text/html",
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "csv": "text/csv",
    "gzip": "application/gzip",
    "parquet": "application/vnd.apache.parquet",
    "text": "text/plain",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "mp3": "audio/mpeg",
}

_DESCRIPTIONS = {
    400: "The request is malformed or does not match the schema (every invalid field listed with its JSON pointer)",
    401: "No valid credentials (missing, expired, revoked or foreign)",
    403: "The caller may not do this (role, scope, a password change pending, a suspended university)",
    404: "No such resource in the caller's scope (out of scope answers like unknown)",
    409: "The request conflicts with the current state (a refused transition, a stale version, a duplicate)",
    413: "The request body is too large",
    405: "The path does not support this method (Allow lists those it does)",
    406: "None of the media types the request accepts can be given",
    415: "The request body's media type is not accepted",
    422: "The request is well formed but breaks a business rule (every problem listed, with pointers)",
    429: "Too many requests: retry after the number of seconds in Retry-After",
    503: "A backing service is unavailable: retry after the number of seconds in Retry-After",
}

_HEADER_SCHEMAS: dict[str, dict[str, Any]] = {
    "x-request-id": {"description": "the request's id (echoed when the client sent a valid one)", "required": True},
    "Retry-After": {"description": "seconds to wait before retrying", "required": True, "int": True},
    "idempotent-replayed": {
        "description": "`true` when this is the stored answer to an earlier request with the same Idempotency-Key",
        "required": False,
    },
    "Location": {"description": "where the created resource (or the request's progress) can be read", "required": True},
}


# --- the problem kinds ------------------------------------------------------------------------------------------


def _error_classes() -> dict[str, type[DomainError]]:
    found: dict[str, type[DomainError]] = {}
    todo: list[type[DomainError]] = [DomainError]
    while todo:
        cls = todo.pop()
        found[cls.__name__] = cls
        todo.extend(cls.__subclasses__())
    return found


def _literal(node: ast.AST | None) -> Any:
    return node.value if isinstance(node, ast.Constant) else None


@functools.cache
def problem_kinds() -> dict[int, tuple[str, ...]]:
    """Status -> the stable problem codes it can carry, read from every place that makes a problem: the raise
    sites of the domain errors (``Conflict(..., code="stale-version")``), the classes' own codes, and the HTTP
    mapping's ``problem(request, 409, code=...)`` calls and defaults."""
    classes = _error_classes()
    kinds: dict[int, set[str]] = {}

    def add(status: int, code: str) -> None:
        kinds.setdefault(status, set()).add(code)

    for cls in classes.values():
        add(cls.status, cls.code)
    for status, (code, _) in _HTTP_CODES.items():
        add(status, code)
    for package in _SCANNED:
        for path in sorted((_ROOT / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                callee = node.func.id if isinstance(node.func, ast.Name) else getattr(node.func, "attr", None)
                given = next((_literal(k.value) for k in node.keywords if k.arg == "code"), None)
                if not isinstance(given, str):
                    continue
                if callee in classes:
                    add(classes[callee].status, given)
                elif callee == "problem" and len(node.args) >= 2 and isinstance(_literal(node.args[1]), int):
                    add(_literal(node.args[1]), given)
    kinds.pop(500, None)  # an internal error is a fault to fix, not part of the contract
    return {status: tuple(sorted(codes)) for status, codes in sorted(kinds.items())}


def _problem_schema(status: int | None, codes: tuple[str, ...]) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "RFC 9457 problem details",
        "required": ["type", "title", "status"],
        "properties": {
            "type": {"type": "string", "enum": [TYPE_BASE + c for c in codes]},
            "title": {"type": "string"},
            "status": {"type": "integer", **({"enum": [status]} if status else {"minimum": 400, "maximum": 599})},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "request_id": {"type": "string"},
            "errors": {"type": "array", "items": {"$ref": "#/components/schemas/ProblemField"}},
        },
    }


def _problem_components() -> tuple[dict[str, Any], dict[str, Any]]:
    kinds = problem_kinds()
    every = tuple(sorted({c for codes in kinds.values() for c in codes}))
    schemas: dict[str, Any] = {
        "Problem": _problem_schema(None, every),
        "ProblemField": {
            "type": "object",
            "description": "one invalid field (or row of an imported file); `pointer` is an RFC 6901 JSON pointer",
            "properties": {
                "field": {"type": ["string", "null"]},
                "pointer": {"type": "string"},
                "message": {"type": "string"},
                "source": {"type": "string"},
            },
        },
        "Open311Errors": {
            "type": "array",
            "description": "GeoReport v2 errors",
            "items": {
                "type": "object",
                "required": ["code", "description"],
                "properties": {"code": {"type": "integer"}, "description": {"type": "string"}},
            },
        },
    }
    responses: dict[str, Any] = {}
    for status, codes in kinds.items():
        if status not in _DESCRIPTIONS:
            continue
        schemas[f"Problem{status}"] = _problem_schema(status, codes)
        headers = {"x-request-id": _header("x-request-id")}
        if status in (429, 503):
            headers["Retry-After"] = _header("Retry-After")
        types = ", ".join(f"`{c}`" for c in codes)
        responses[f"Problem{status}"] = {
            "description": f"{_DESCRIPTIONS[status]}. Problem types: {types}",
            "headers": headers,
            "content": {PROBLEM: {"schema": {"$ref": f"#/components/schemas/Problem{status}"}}},
        }
    return schemas, responses


def _header(name: str) -> dict[str, Any]:
    spec = _HEADER_SCHEMAS[name]
    return {
        "description": spec["description"],
        "required": spec["required"],
        "schema": {"type": "integer", "minimum": 0} if spec.get("int") else {"type": "string"},
    }


# --- per operation ----------------------------------------------------------------------------------------------


def _handlers(app: Litestar) -> dict[tuple[str, str], HTTPRouteHandler]:
    out: dict[tuple[str, str], HTTPRouteHandler] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in handler.http_methods:
                out[(route.path_format or "/", method.lower())] = handler
    return out


def _statuses(path: str, method: str, op: dict[str, Any], handler: HTTPRouteHandler) -> set[int]:
    statuses = {401, 403, 429, 503}
    params = op.get("parameters") or []
    body = "data" in handler.parsed_fn_signature.parameters or bool(handler.opt.get("form"))
    if params or body:
        statuses.add(400)
    if body:
        statuses.add(413)
    if body and handler.opt.get("media") != "any":
        statuses.add(415)
    if "{" in path or body or any(p.get("in") == "query" for p in params):
        statuses.add(404)  # the path's resource, or a record the body or the query refers to
    if method in _WRITES:
        statuses |= {409, 422}
    elif any(p.get("in") == "query" for p in params):
        statuses.add(422)  # a query's values checked together (a date range, a period that has not ended)
    statuses |= set(handler.opt.get("responses", ()))
    statuses -= set(handler.opt.get("not_responses", ()))
    return statuses


def _formats(op: dict[str, Any], handler: HTTPRouteHandler) -> tuple[str, ...]:
    if produces := handler.opt.get("produces"):
        return tuple(produces)
    if getattr(handler.fn, "__module__", None) == PrometheusController.__module__:
        return ("text",)  # the exposition format, text/plain; version=0.0.4
    for p in op.get("parameters") or []:
        if p.get("in") == "query" and p.get("name") in ("format", "fmt"):
            schema = p.get("schema") or {}
            values = schema.get("enum") or [v.get("const") for v in schema.get("oneOf", []) if "const" in v]
            if values:
                return tuple(values)
    return ()


def _success(op: dict[str, Any], handler: HTTPRouteHandler, components: dict[str, Any]) -> None:
    status = str(handler.status_code)
    responses = op["responses"]
    answer = responses.get(status) or {"description": "OK"}
    if declared := handler.opt.get("status"):
        answer = responses.pop(status, answer)
        status = str(declared)
    formats = _formats(op, handler)
    content = answer.get("content") or {}
    if formats:
        json_schema = handler.opt.get("json_schema") or content.get("application/json", {}).get("schema")
        content = {}
        for fmt in formats:
            media = RENDITIONS[fmt]
            if media == "application/json" and json_schema and json_schema.get("type") != "string":
                content[media] = {"schema": json_schema}
            elif media == "application/json":
                content[media] = {"schema": {}}
            else:
                content[media] = {"schema": {"type": "string", "format": "binary"}}
    elif (schema := handler.opt.get("json_schema")) is not None:
        content = {"application/json": {"schema": schema}}
    elif (media := getattr(handler.media_type, "value", handler.media_type).split(";")[0].strip()) not in (
        "application/json",
        "",
    ):
        # A handler that sets its own media type (a page, plain text, the Prometheus exposition format).
        content = {media: {"schema": {"type": "string"}}}
    if content:
        answer["content"] = content
    headers = {"x-request-id": _header("x-request-id")}
    if handler.opt.get("location"):
        headers["Location"] = _header("Location")
    if any(
        p.get("in") == "header" and p.get("name", "").lower() == "idempotency-key" for p in op.get("parameters") or []
    ):
        headers["idempotent-replayed"] = _header("idempotent-replayed")
    answer["headers"] = headers
    responses[status] = answer
    for extra, spec in (handler.opt.get("also") or {}).items():
        responses[str(extra)] = spec


def _open311_error(status: int) -> dict[str, Any]:
    return {
        "description": f"{_DESCRIPTIONS.get(status, 'Error')} (GeoReport v2 errors in the requested format)",
        "headers": {"x-request-id": _header("x-request-id")},
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/Open311Errors"}},
            "text/xml": {"schema": {"type": "string"}},
            # a refusal before the route runs (credentials, a suspended university) is a problem like anywhere
            PROBLEM: {"schema": {"$ref": f"#/components/schemas/Problem{status}"}},
        },
    }


def _request_body(op: dict[str, Any], handler: HTTPRouteHandler) -> None:
    form = handler.opt.get("form")
    if not form:
        return
    media = "multipart/form-data" if handler.opt.get("media") == "multipart" else "application/x-www-form-urlencoded"
    properties: dict[str, Any] = {}
    for name, kind in form["fields"].items():
        if kind == "file":
            properties[name] = {"type": "string", "format": "binary"}
        elif kind == "files":
            properties[name] = {"type": "array", "items": {"type": "string", "format": "binary"}, "minItems": 1}
        else:
            properties[name] = kind
    schema: dict[str, Any] = {"type": "object", "properties": properties, "additionalProperties": False}
    if form.get("required"):
        schema["required"] = list(form["required"])
    if form.get("min_properties"):
        schema["minProperties"] = form["min_properties"]
    op["requestBody"] = {"required": True, "content": {media: {"schema": schema}}}


def _closed_structs(handlers: dict[tuple[str, str], HTTPRouteHandler]) -> dict[str, type[msgspec.Struct]]:
    """The request structs that refuse unknown fields (400), nested ones included, by their component names."""
    names: dict[str, type[msgspec.Struct]] = {}
    seen: set[type] = set()

    def walk(annotation: Any) -> None:
        for tp in _types_in(annotation):
            if not (isinstance(tp, type) and issubclass(tp, msgspec.Struct)) or tp in seen:
                continue
            seen.add(tp)
            if tp.__struct_config__.forbid_unknown_fields:
                # Litestar names a struct by its class name, or, when two modules have one of that name, by the
                # shortest unique tail of its dotted path joined with "_" (``incidents_schemas_ActionIn``).
                parts = f"{tp.__module__}.{tp.__qualname__}".split(".")
                names.update({"_".join(parts[i:]): tp for i in range(len(parts))})
                names[".".join(parts)] = tp
            for f in msgspec.structs.fields(tp):
                walk(f.type)

    for handler in handlers.values():
        if data := handler.parsed_fn_signature.parameters.get("data"):
            walk(data.annotation)
    return names


def _as_checked(schema: dict[str, Any], struct: type[msgspec.Struct]) -> None:
    """Each property of a request struct as msgspec, which checks the body, describes it. Litestar drops
    constraints it cannot carry: a mapping's keys and values (``dict[Code, NonEmpty]``), a list's items
    (``list[NonEmpty]``), and a bound of 0 on an optional number (``Count | None``: ``minimum`` 0 is falsy to it).
    Properties naming another struct keep Litestar's (its component names are Litestar's); their own
    components are completed the same way."""
    _, defs = msgspec.json.schema_components([struct], ref_template="#/components/schemas/{name}")
    own = defs.get(struct.__name__, {})
    for field, spec in (own.get("properties") or {}).items():
        target = schema.get("properties", {}).get(field)
        if not isinstance(target, dict) or "$ref" in str(spec):
            continue
        kept = {k: target[k] for k in ("description", "examples", "title") if k in target and k not in spec}
        formats = _formats_by_type(target)  # msgspec leaves out a constrained datetime's "date-time"
        target.clear()
        target.update({**spec, **kept})
        for branch in [target, *target.get("anyOf", [])]:
            if isinstance(branch, dict) and "format" not in branch and branch.get("type") in formats:
                branch["format"] = formats[branch["type"]]


def _formats_by_type(schema: dict[str, Any]) -> dict[str, str]:
    branches = [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]
    return {b["type"]: b["format"] for b in branches if isinstance(b, dict) and "format" in b and "type" in b}


_BOUNDS = {"ge": "minimum", "gt": "exclusiveMinimum", "le": "maximum", "lt": "exclusiveMaximum"}


def _zero_bounds(parameter: dict[str, Any], handler: HTTPRouteHandler) -> None:
    """A parameter's bound of 0 (``QueryParameter(ge=0)``), which Litestar drops as falsy, on every branch of
    its schema that is a number (found by fuzzing: ``-1`` was schema-valid and refused)."""

    def name_of(p: Any) -> str:
        return str(getattr(p.kwarg_definition, "query", None) or p.name)

    found = [p for p in handler.parsed_fn_signature.parameters.values() if name_of(p) == parameter.get("name")]
    definition = found[0].kwarg_definition if found else None
    if definition is None:
        return
    schema = parameter.get("schema") or {}
    for branch in [schema, *schema.get("oneOf", []), *schema.get("anyOf", [])]:
        if isinstance(branch, dict) and branch.get("type") in ("integer", "number"):
            for bound, key in _BOUNDS.items():
                if getattr(definition, bound, None) == 0 and key not in branch:
                    branch[key] = 0


def _types_in(annotation: Any) -> list[Any]:
    args = typing.get_args(annotation)
    if typing.get_origin(annotation) is typing.Annotated:
        return _types_in(args[0])
    return [annotation, *(t for a in args for t in _types_in(a))]


def _unique_titles(schemas: dict[str, Any]) -> None:
    """Two structs of one name in two modules (``petitions`` and ``supervision`` both have an ``ActionIn``) get
    component names of their own from Litestar but keep one title; generated clients name classes by the title,
    so a shared title becomes the component's name."""
    seen: dict[str, int] = {}
    for schema in schemas.values():
        if isinstance(title := schema.get("title"), str):
            seen[title] = seen.get(title, 0) + 1
    for name, schema in schemas.items():
        if seen.get(schema.get("title"), 0) > 1:
            schema["title"] = "".join(part[:1].upper() + part[1:] for part in re.split(r"[^A-Za-z0-9]+", name))


def _without_null(schema: dict[str, Any]) -> dict[str, Any]:
    """A header's ``X | None`` is a header left out: a header has no null (``null`` is four letters the server
    checks like any value), so the null branch is dropped. (A query parameter's ``null`` does read as None.)"""
    for key in ("oneOf", "anyOf"):
        branches = schema.get(key)
        if isinstance(branches, list) and any(b.get("type") == "null" for b in branches):
            rest = [b for b in branches if b.get("type") != "null"]
            others = {k: v for k, v in schema.items() if k != key}
            return {**others, **rest[0]} if len(rest) == 1 else {**others, key: rest}
    if isinstance(schema.get("enum"), list) and None in schema["enum"]:
        schema = {**schema, "enum": [v for v in schema["enum"] if v is not None]}
    if isinstance(schema.get("type"), list) and "null" in schema["type"]:
        types = [t for t in schema["type"] if t != "null"]
        return {**schema, "type": types[0] if len(types) == 1 else types}
    return schema


def complete(document: dict[str, Any], app: Litestar) -> dict[str, Any]:
    """The document Litestar generated, with every route's answers, headers and media types."""
    schemas, responses = _problem_components()
    components = document.setdefault("components", {})
    components.setdefault("schemas", {}).update(schemas)
    components.setdefault("responses", {}).update(responses)
    _unique_titles(components.get("schemas", {}))
    handlers = _handlers(app)
    closed = _closed_structs(handlers)
    for name, schema in components.get("schemas", {}).items():
        if name in closed and schema.get("type") == "object":
            schema["additionalProperties"] = False
            _as_checked(schema, closed[name])
    for path, item in document.get("paths", {}).items():
        for method, op in item.items():
            handler = handlers.get((path, method))
            if handler is None or not isinstance(op, dict) or "responses" not in op:
                continue
            op["responses"].pop("400", None)  # Litestar's own shape; ours is the problem below
            for parameter in op.get("parameters") or []:
                if parameter.get("in") == "header":
                    parameter["schema"] = _without_null(parameter.get("schema") or {})
                _zero_bounds(parameter, handler)
            _request_body(op, handler)
            _success(op, handler, components)
            open311 = path.startswith("/open311/")
            for status in sorted(_statuses(path, method, op, handler)):
                if open311 and status in (400, 403, 404, 422):
                    op["responses"][str(status)] = _open311_error(status)
                else:
                    op["responses"][str(status)] = {"$ref": f"#/components/responses/Problem{status}"}
    _link_creates_to_reads(document)
    return document


_ID = re.compile(r"^\{(\w+)\}$")


def _created_id(schema: Any, path: str, schemas: dict[str, Any]) -> str | None:
    """Where a create's answer holds the new id: ``/id``, or ``/tenant/id`` when ``POST .../tenants`` answers the
    tenant beside other things (its first admin, a subscription's secret)."""

    def resolved(s: Any) -> dict[str, Any]:
        s = s or {}
        return schemas.get(s["$ref"].rsplit("/", 1)[-1], {}) if "$ref" in s else s

    properties = resolved(schema).get("properties") or {}
    if "id" in properties:
        return "/id"
    singular = path.rstrip("/").rsplit("/", 1)[-1].removesuffix("s")
    if "id" in (resolved(properties.get(singular)).get("properties") or {}):
        return f"/{singular}/id"
    return None


def _link_creates_to_reads(document: dict[str, Any]) -> None:
    """OpenAPI links from each create (``POST /x`` answering an object with an ``id``) to the operations on
    ``/x/{id}``, so a stateful client (Schemathesis's stateful phase, a generated SDK) can follow them."""
    paths = document.get("paths", {})
    schemas = document.get("components", {}).get("schemas", {})
    for path, item in paths.items():
        post = item.get("post")
        if not isinstance(post, dict):
            continue
        created = next((post["responses"][s] for s in ("201", "200") if s in post["responses"]), None)
        pointer = _created_id(
            ((created or {}).get("content") or {}).get("application/json", {}).get("schema"), path, schemas
        )
        if pointer is None:
            continue
        links: dict[str, Any] = {}
        for other, other_item in paths.items():
            if not other.startswith(path.rstrip("/") + "/"):
                continue
            rest = other[len(path.rstrip("/")) + 1 :].split("/")
            match = _ID.match(rest[0])
            if not match:
                continue
            for method, op in other_item.items():
                if method not in ("get", "patch", "put", "delete", "post") or not isinstance(op, dict):
                    continue
                if len(rest) > 1 and (method != "get" or "{" in "/".join(rest[1:])):
                    continue  # a nested read whose other parameters the create does not give
                name = (op.get("operationId") or f"{method}{other}").replace("/", "_")
                links[name] = {
                    "operationId": op["operationId"],
                    "parameters": {match.group(1): f"$response.body#{pointer}"},
                }
        if links and created is not None:
            created["links"] = links


class DocumentedOpenAPIPlugin(OpenAPIPlugin):
    """Litestar's OpenAPI plugin, serving the completed document."""

    __slots__ = ()

    def provide_openapi_schema(self) -> dict[str, Any]:
        if not self._openapi_schema:
            self._openapi_schema = complete(self.provide_openapi().to_schema(), self.app)
        return self._openapi_schema


def install(app: Litestar) -> None:
    """Serve the completed document. Litestar keeps its plugins in a registry keyed by their exact type, built
    before the app can be touched, so the registered instance takes the subclass's behaviour in place."""
    plugin = app.plugins.get(OpenAPIPlugin)
    plugin.__class__ = DocumentedOpenAPIPlugin
    allow_every_method(app)


def _allow(methods: frozenset[str]) -> Any:
    def options_handler(scope: Any) -> Response[None]:
        return Response(content=None, status_code=204, headers={"Allow": ", ".join(sorted(methods))})

    return options_handler


def allow_every_method(app: Litestar) -> None:
    """``OPTIONS`` (and a 405's ``Allow``) list every method of a path. Litestar builds a path's OPTIONS handler
    when the first handler of the path is registered and keeps it when the others join, so it listed that first
    method only (``Allow: OPTIONS, POST`` on a path with GET and POST)."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or "OPTIONS" not in route.route_handler_map:
            continue
        handler = route.route_handler_map["OPTIONS"][0]
        if handler.handler_name == "options_handler":
            handler._fn = _allow(frozenset(route.methods))
