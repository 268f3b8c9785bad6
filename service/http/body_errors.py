"""Every invalid field of a JSON request body, not only the first.

msgspec stops at the first error it meets; a client fixing a form wants them all. When a body has failed, its
raw JSON is checked again field by field against the handler's body struct (unknown fields, missing required
ones, each present value converted on its own, nested structs and lists of structs walked), strictly: a JSON
body has the JSON types its schema says (see ``strict_json_body``). Each error names its place as a JSON pointer
(RFC 6901) and as a dotted field.
"""

from __future__ import annotations

import re
import types
import typing
from datetime import date, datetime
from typing import Any

import msgspec

_AT = re.compile(r" - at `\$(?P<path>[^`]*)`$")
_STEP = re.compile(r"\.([^.\[]+)|\[(\d+)\]")


def _pointer_of(path: str) -> list[str]:
    """``.a[0].b`` (msgspec's location) as the steps ``["a", "0", "b"]``."""
    return [m.group(1) or m.group(2) for m in _STEP.finditer(path)]


def entry(steps: list[str], message: str) -> dict[str, str]:
    field = "".join(f"[{s}]" if s.isdigit() else (f".{s}" if i else s) for i, s in enumerate(steps))
    pointer = "".join("/" + s.replace("~", "~0").replace("/", "~1") for s in steps)
    return {"field": field, "pointer": pointer, "message": message}


def struct_of(annotation: Any) -> type[msgspec.Struct] | None:
    """The struct behind ``S``, ``S | None`` or ``Annotated[S, ...]``, else None."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if isinstance(annotation, type) and issubclass(annotation, msgspec.Struct):
        return annotation
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    if len(args) == 1 and typing.get_origin(annotation) in (typing.Union, types.UnionType):
        return struct_of(args[0])
    return None


def _items_struct(annotation: Any) -> type[msgspec.Struct] | None:
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    if typing.get_origin(annotation) is list and (args := typing.get_args(annotation)):
        return struct_of(args[0])
    return None


def struct_errors(cls: type[msgspec.Struct], raw: Any, at: list[str] | None = None) -> list[dict[str, str]]:
    """Every error of ``raw`` (decoded JSON) against the struct ``cls``."""
    at = at or []
    if not isinstance(raw, dict):
        return [entry(at, "expected an object")]
    errors: list[dict[str, str]] = []
    fields = msgspec.structs.fields(cls)
    known = {f.encode_name for f in fields}
    forbid = cls.__struct_config__.forbid_unknown_fields
    for name in raw:
        if forbid and name not in known:
            errors.append(entry([*at, name], "unknown field"))
    for f in fields:
        place = [*at, f.encode_name]
        if f.encode_name not in raw:
            if f.required:
                errors.append(entry(place, "required"))
            continue
        value = raw[f.encode_name]
        nested, items = struct_of(f.type), _items_struct(f.type)
        if nested is not None and isinstance(value, dict):
            errors += struct_errors(nested, value, place)
            continue
        if items is not None and isinstance(value, list):
            found = [e for i, v in enumerate(value) for e in struct_errors(items, v, [*place, str(i)])]
            if found:
                errors += found
                continue
        try:
            msgspec.convert(integral(value), f.type, strict=True, str_keys=True)
        except msgspec.ValidationError as exc:
            message = str(exc)
            match = _AT.search(message)
            steps = _pointer_of(match.group("path")) if match else []
            errors.append(entry([*place, *steps], message[: match.start()] if match else message))
    return errors


def json_body_errors(body: bytes, cls: type[msgspec.Struct]) -> list[dict[str, str]]:
    """Every field error of a JSON ``body`` for the struct ``cls``; empty when it is not an object at all."""
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return []
    return struct_errors(cls, raw)


_JSON_TYPES = ("application/json", "application/merge-patch+json")


def integral(value: Any) -> Any:
    """``156.0`` as ``156``: JSON (and JSON Schema's ``integer``) does not tell them apart; msgspec's strict
    reading would."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, list):
        return [integral(v) for v in value]
    if isinstance(value, dict):
        return {k: integral(v) for k, v in value.items()}
    return value


async def strict_json_body(request: Any) -> None:
    """A ``before_request`` hook: a JSON body must have the JSON types its schema says. Litestar converts
    request data leniently (a ``0`` for ``false``, ``"5"`` for ``5``, as a query string needs), which let a body
    the OpenAPI document refuses through; the body is decoded once more, strictly, against the handler's struct,
    and refused (400, with its pointer) when only the lenient reading accepted it."""
    if request.method not in ("POST", "PUT", "PATCH"):
        return
    if request.headers.get("content-type", "").split(";")[0].strip().lower() not in _JSON_TYPES:
        return
    data = request.route_handler.parsed_fn_signature.parameters.get("data")
    target = data.annotation if data is not None else None
    if target is None or (struct_of(target) is None and _items_struct(target) is None):
        return
    body = await request.body()
    if not body:
        return
    try:
        raw = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return  # not JSON at all: Litestar's own parsing answers (malformed-body)
    try:
        msgspec.convert(integral(raw), target, strict=True, str_keys=True)
    except msgspec.ValidationError as exc:
        from litestar.exceptions import ValidationException

        cls = struct_of(target)
        found = struct_errors(cls, raw) if cls is not None else []
        if not found:  # a list body, or an error the field-by-field walk does not see: msgspec's first one
            message = str(exc)
            match = _AT.search(message)
            steps = _pointer_of(match.group("path")) if match else []
            found = [entry(steps, message[: match.start()] if match else message)]
        raise ValidationException(
            "the request does not match the expected schema", extra=[{**e, "source": "body"} for e in found]
        ) from None


# A query string's dates and times as RFC 3339 writes them (the document's ``date-time`` and ``date``).
_DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?([Zz]|[+-]\d{2}:?\d{2})?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def _temporal(annotation: Any) -> type | None:
    """``datetime`` or ``date`` behind ``X``, ``X | None`` or ``Annotated[X, ...]``, else None."""
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    candidates = [a for a in (typing.get_args(annotation) or (annotation,)) if a is not type(None)]
    for kind in (datetime, date):
        if kind in candidates:
            return kind
    return None


def strict_query(request: Any) -> None:
    """Dates and times in the query string as RFC 3339 writes them, nothing else: Litestar's lenient reading
    took ``before=0.5`` as a Unix timestamp (found by fuzzing), which the document (``date-time``) refuses."""
    if not request.query_params:
        return
    for name, parameter in request.route_handler.parsed_fn_signature.parameters.items():
        kind = _temporal(parameter.annotation)
        if kind is None:
            continue
        key = getattr(parameter.kwarg_definition, "query", None) or name
        value = request.query_params.get(key)
        if value is None:
            continue
        pattern = _DATE_TIME if kind is datetime else _DATE
        if not pattern.match(value):
            from litestar.exceptions import ValidationException

            expected = "an RFC 3339 date-time" if kind is datetime else "a date (YYYY-MM-DD)"
            raise ValidationException(
                "the request does not match the expected schema",
                extra=[{"message": f"expected {expected}", "key": key, "source": "query"}],
            )


async def strict_request(request: Any) -> None:
    """The ``before_request`` hook: the query string's dates, then the JSON body, read strictly."""
    strict_query(request)
    await strict_json_body(request)
