"""The one error hierarchy. Services raise these; ``service.http.errors`` turns them into RFC 9457 problems.

``code`` is the stable slug that becomes the problem ``type``; ``status`` its HTTP status.
"""

from __future__ import annotations

from typing import Any, ClassVar


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad-request"
    title: ClassVar[str] = "Bad request"

    def __init__(self, detail: str, *, code: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        if code:
            self.code = code  # type: ignore[misc]
        self.extra = extra


class NotFound(DomainError):
    status = 404
    code = "not-found"
    title = "Not found"


class Conflict(DomainError):
    """The request conflicts with the current state (a refused transition, a duplicate, a stale version)."""

    status = 409
    code = "conflict"
    title = "Conflict"


class Invalid(DomainError):
    """Semantically invalid input; ``errors`` lists every problem found, not just the first."""

    status = 422
    code = "validation"
    title = "Invalid input"

    def __init__(self, detail: str, *, errors: list[dict[str, Any]] | None = None, **extra: Any) -> None:
        super().__init__(detail, errors=errors or [], **extra)


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"
    title = "Authentication required"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    title = "Forbidden"


class TenantSuspended(Forbidden):
    code = "tenant-suspended"
    title = "University suspended"


class RateLimited(DomainError):
    status = 429
    code = "rate-limited"
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int, code: str | None = None) -> None:
        super().__init__(detail, code=code)
        self.retry_after = retry_after


class Unavailable(DomainError):
    status = 503
    code = "unavailable"
    title = "Service unavailable"

    def __init__(self, detail: str, *, retry_after: int = 5) -> None:
        super().__init__(detail)
        self.retry_after = retry_after
