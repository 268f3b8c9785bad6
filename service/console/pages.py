"""Rendering a console page: the language, the words, the caller, times in the university's zone, and the
security headers every page carries (a strict Content-Security-Policy: no inline script or style)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request
from litestar.datastructures import Cookie
from litestar.response import Redirect, Template

from service.console import i18n
from tenants.identity import ANONYMOUS, Principal

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
SHANGHAI = ZoneInfo("Asia/Shanghai")


def lang_of(request: Request[Any, Any, Any]) -> str:
    return i18n.choose(request.query_params.get("lang"), request.cookies.get(i18n.COOKIE))


def local_time(zone: ZoneInfo) -> Callable[[datetime | None], str]:
    """A datetime as the university's local time (``2026-11-18 10:00``); empty for none."""

    def fmt(value: datetime | None) -> str:
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M") if value else ""

    return fmt


def _lang_cookies(request: Request[Any, Any, Any]) -> list[Cookie]:
    asked = request.query_params.get("lang")
    if asked in i18n.LANGS and asked != request.cookies.get(i18n.COOKIE):
        return [Cookie(key=i18n.COOKIE, value=asked, path="/", samesite="lax", httponly=True, max_age=365 * 86400)]
    return []


def page(
    request: Request[Any, Any, Any],
    template: str,
    *,
    status_code: int = 200,
    zone: ZoneInfo | None = None,
    cookies: list[Cookie] | None = None,
    **context: Any,
) -> Template:
    lang = lang_of(request)
    principal: Principal = request.scope.get("user") or ANONYMOUS
    other = "en" if lang == "zh-CN" else "zh-CN"
    return Template(
        template_name=template,
        context={
            "t": i18n.translator(lang),
            "lang": lang,
            "user": principal,
            "signed_in": not principal.is_anonymous,
            "when": local_time(zone or SHANGHAI),
            "switch_url": f"{request.url.path}?lang={other}",
            "event": lambda event_type: i18n.event(lang, event_type),
            **context,
        },
        status_code=status_code,
        headers=SECURITY_HEADERS,
        cookies=[*_lang_cookies(request), *(cookies or [])],
    )


def switch_to(request: Request[Any, Any, Any], path: str) -> str:
    """The language switch of a page answered to a form (posted elsewhere): ``path`` in the other language."""
    return f"{path}?lang={'en' if lang_of(request) == 'zh-CN' else 'zh-CN'}"


def redirect(path: str, *, cookies: list[Cookie] | None = None) -> Redirect:
    """A 303 to ``path`` (after a form, the browser GETs the result)."""
    return Redirect(path, status_code=303, headers=SECURITY_HEADERS, cookies=cookies or [])
