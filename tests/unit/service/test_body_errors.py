"""Every invalid field of a body, with its JSON pointer: nested structs, lists of structs, optional structs,
escaping of pointer steps."""

from __future__ import annotations

from typing import Annotated

import msgspec

from service.http.body_errors import entry, json_body_errors


class Person(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1)]
    age: int


class Group(msgspec.Struct, forbid_unknown_fields=True):
    title: str
    leader: Person | None = None
    members: list[Person] = []
    tags: list[Annotated[str, msgspec.Meta(max_length=3)]] = []


def pointers(body: bytes) -> dict[str, str]:
    return {e["pointer"]: e["message"] for e in json_body_errors(body, Group)}


def test_all_errors_nested_and_in_lists():
    body = msgspec.json.encode(
        {
            "leader": {"name": "", "age": "x", "shoe": 42},
            "members": [{"name": "a", "age": 1}, {"age": 2}],
            "tags": ["ok", "toolong"],
        }
    )
    got = pointers(body)
    assert set(got) == {"/title", "/leader/name", "/leader/age", "/leader/shoe", "/members/1/name", "/tags/1"}
    assert got["/title"] == "required" and got["/leader/shoe"] == "unknown field"
    assert "Expected `int`" in got["/leader/age"]


def test_json_types_are_read_strictly_like_the_server_and_a_valid_body_has_no_errors():
    # a JSON body has the JSON types its schema says (service.body_errors.strict_json_body): "7" is no integer,
    # 7.0 is one (as in JSON Schema)
    assert set(pointers(b'{"title": "t", "leader": {"name": "n", "age": "7"}}')) == {"/leader/age"}
    assert pointers(b'{"title": "t", "leader": {"name": "n", "age": 7.0}}') == {}
    assert pointers(b'{"title": "t", "leader": null}') == {}


def test_not_an_object_and_not_json():
    assert pointers(b"[1, 2]") == {"": "expected an object"}
    assert json_body_errors(b"{", Group) == []


def test_pointer_steps_are_escaped_and_fields_dotted():
    assert entry(["a/b", "0", "c~d"], "m") == {"field": "a/b[0].c~d", "pointer": "/a~1b/0/c~0d", "message": "m"}
