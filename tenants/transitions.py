"""The one way a workflow's transition table is applied: the next state, or a 409 naming the state and the
actions it allows. Petitions, incident tasks, bulletins, logistics requests, supervision orders and plan
versions keep their tables as data and call ``step``."""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from tenants.errors import Conflict

S = TypeVar("S", bound=Enum)
A = TypeVar("A", bound=Enum)


def allowed(table: Mapping[tuple[S, A], S], state: S) -> list[str]:
    """The actions ``table`` allows in ``state``, by value."""
    return [a.value for (s, a) in table if s == state]


def step(table: Mapping[tuple[S, A], S], state: S, action: A, *, note: str = "") -> S:
    """The state after ``action`` in ``state``, or ``Conflict`` (409 ``transition-refused``)."""
    nxt = table.get((state, action))
    if nxt is None:
        raise Conflict(
            f"action {action.value!r} is not allowed in state {state.value!r}{note}",
            code="transition-refused",
            state=state.value,
            allowed=allowed(table, state),
        )
    return nxt
