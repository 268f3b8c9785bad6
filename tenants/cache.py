"""A small per-process cache with expiry: facts that change rarely and may be a few seconds stale (a tenant's
status and zone, a slug's tenant, verified API keys, session versions)."""

from __future__ import annotations

import time
from typing import Any


class TTLCache:
    """A small per-process cache with expiry (tenant status, verified keys)."""

    def __init__(self, ttl: float, max_items: int = 10_000) -> None:
        self.ttl = ttl
        self.max_items = max_items
        self._items: dict[Any, tuple[float, Any]] = {}

    def get(self, key: Any) -> Any:
        hit = self._items.get(key)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]

    def put(self, key: Any, value: Any, ttl: float | None = None) -> None:
        if len(self._items) >= self.max_items:
            self._items.clear()
        self._items[key] = (time.monotonic() + (self.ttl if ttl is None else min(ttl, self.ttl)), value)

    def clear(self) -> None:
        self._items.clear()
