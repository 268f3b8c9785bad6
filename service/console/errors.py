"""Error pages: on the console's and the student's paths, every error the API would answer with a problem
document is a page in the user's language instead (same status and headers; never a stack trace)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Request, Response

from service.console import pages
from service.console.i18n import MESSAGES
from service.console.session import GoTo

Handler = Callable[[Request[Any, Any, Any], Any], Response[Any]]
PREFIXES = ("/console", "/t/")
_KNOWN = {k for k in MESSAGES if k.startswith("error.")}


def is_page(path: str) -> bool:
    return (path == "/console" or path.startswith(PREFIXES)) and not path.startswith("/console/static/")


def go_to(request: Request[Any, Any, Any], exc: GoTo) -> Response[Any]:
    location = exc.location + ("?ended=1" if exc.ended else "")
    return pages.redirect(location)


def for_pages(handlers: dict[Any, Handler]) -> dict[Any, Handler]:
    """The app's exception handlers, each answering a page instead of a problem on the console's paths."""

    def wrap(original: Handler) -> Handler:
        def handler(request: Request[Any, Any, Any], exc: Any) -> Response[Any]:
            answer = original(request, exc)
            if not is_page(request.url.path):
                return answer
            status = answer.status_code or 500
            key = f"error.{status}" if f"error.{status}" in _KNOWN else ("error.400" if status < 500 else "error.500")
            headers = {k: v for k, v in answer.headers.items() if k.lower() == "retry-after"}
            body = answer.content if isinstance(answer.content, dict) else {}
            response = pages.page(
                request,
                "error.html",
                status_code=status,
                message_key=key,
                request_id=body.get("request_id"),
            )
            response.headers.update(headers)
            return response

        return handler

    wrapped: dict[Any, Handler] = {exc_type: wrap(h) for exc_type, h in handlers.items()}
    wrapped[GoTo] = go_to
    return wrapped
