"""Dependencies shared by controllers: the request's transaction, the caller, pagination."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, Generic, TypeVar

import msgspec
from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import HeaderParameter
from sqlalchemy.ext.asyncio import AsyncSession

from tenants.idempotency import KEY_PATTERN
from tenants.identity import ANONYMOUS, Principal

T = TypeVar("T")


async def provide_session(state: State, principal: NamedDependency[Principal]) -> AsyncIterator[AsyncSession]:
    """One transaction per request, in the caller's tenant context; committed after the handler returns.

    A failed COMMIT raises here and becomes an error response: the client never sees 2xx for lost work.
    It depends on the caller, whose tenant it serves (set by the middleware); that also makes Litestar resolve
    the two one after the other rather than in a task group of their own on every request.
    """
    async with state.db.sessionmaker() as session, session.begin():
        yield session


def provide_principal(request: Request[Any, Any, Any]) -> Principal:
    return request.scope.get("user") or ANONYMOUS  # type: ignore[return-value]


# Handler parameter types for the app-wide dependencies (declared explicitly, as Litestar 3 requires).
Session = NamedDependency[AsyncSession]
Caller = NamedDependency[Principal]

# The retry-safe key of a write (``tenants.idempotency``), declared once: its pattern is the one the server checks.
IdempotencyKey = Annotated[
    str | None,
    HeaderParameter(
        name="Idempotency-Key",
        required=False,
        pattern=KEY_PATTERN.pattern,
        description="retry-safe key (a UUID is ideal: 8 to 200 visible ASCII characters); 24 h",
    ),
]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: unknown fields are refused (400), never silently dropped."""


class Page(msgspec.Struct, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
