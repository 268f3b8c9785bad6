"""The console's words for the admin pages: key -> (zh-CN, en)."""

from __future__ import annotations

MESSAGES: dict[str, tuple[str, str]] = {}
