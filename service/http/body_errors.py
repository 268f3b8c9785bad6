"""Every invalid field of a JSON request body, not only the first.

msgspec stops at the first error it meets; a client fixing a form wants them all. When a body has failed, its
raw JSON is checked again field by field against the handler's body struct (unknown fields, missing required
ones, each present value converted on its own, nested structs and lists of structs walked), with the same lax
conversion Litestar applies. Each error names its place as a JSON pointer (RFC 6901) and as a dotted field.
"""

from __future__ import annotations

import re
import types
import typing
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
            msgspec.convert(value, f.type, strict=False, str_keys=True)
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
