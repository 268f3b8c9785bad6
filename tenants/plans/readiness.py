"""Readiness of the materials against the published plan's minimums (§5). Pure: stock levels in, report out."""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Sequence
from typing import Protocol

import msgspec

from tenants.plans.content import MaterialMinimum, Text


class Stock(Protocol):
    """The part of a stock level (``tenants.materials.StockLevel``) the check needs."""

    @property
    def item_id(self) -> uuid.UUID: ...
    @property
    def category(self) -> str: ...
    @property
    def code(self) -> str: ...
    @property
    def name_zh(self) -> str: ...
    @property
    def name_en(self) -> str: ...
    @property
    def unit(self) -> str: ...
    @property
    def location(self) -> str | None: ...
    @property
    def quantity(self) -> int: ...
    @property
    def expires_on(self) -> dt.date | None: ...


class Line(msgspec.Struct, frozen=True, kw_only=True):
    """One minimum of the plan against the usable stock of its item code."""

    category: str
    code: str
    name: Text
    unit: Text
    required: int
    available: int
    expired: int
    short: int


class Expiring(msgspec.Struct, frozen=True, kw_only=True):
    item_id: uuid.UUID
    category: str
    code: str
    name_zh: str
    name_en: str
    location: str | None
    quantity: int
    expires_on: dt.date
    days_left: int


class Shortage(msgspec.Struct, frozen=True, kw_only=True):
    category: str
    code: str
    required: int
    available: int
    short: int


class Readiness(msgspec.Struct, frozen=True, kw_only=True):
    as_of: dt.date
    within_days: int
    ready: bool
    lines: list[Line]
    shortages: list[Shortage]
    expiring: list[Expiring]


def is_expired(stock: Stock, as_of: dt.date) -> bool:
    """Stock is usable through its expiry date and expired the day after."""
    return stock.expires_on is not None and stock.expires_on < as_of


def readiness(
    minimums: Sequence[MaterialMinimum], stock: Sequence[Stock], *, as_of: dt.date, within_days: int
) -> Readiness:
    """What is short of the minimums (expired stock does not count) and what expires within ``within_days``."""
    available: dict[str, int] = defaultdict(int)
    expired: dict[str, int] = defaultdict(int)
    for s in stock:
        (expired if is_expired(s, as_of) else available)[s.code] += max(0, s.quantity)
    lines = [
        Line(
            category=m.category,
            code=m.code,
            name=m.name,
            unit=m.unit,
            required=m.minimum,
            available=available[m.code],
            expired=expired[m.code],
            short=max(0, m.minimum - available[m.code]),
        )
        for m in minimums
    ]
    shortages = [
        Shortage(category=ln.category, code=ln.code, required=ln.required, available=ln.available, short=ln.short)
        for ln in lines
        if ln.short > 0
    ]
    horizon = as_of + dt.timedelta(days=within_days)
    expiring = sorted(
        (
            Expiring(
                item_id=s.item_id,
                category=s.category,
                code=s.code,
                name_zh=s.name_zh,
                name_en=s.name_en,
                location=s.location,
                quantity=s.quantity,
                expires_on=s.expires_on,
                days_left=(s.expires_on - as_of).days,
            )
            for s in stock
            if s.expires_on is not None and s.quantity > 0 and s.expires_on <= horizon
        ),
        key=lambda e: (e.expires_on, e.code, str(e.item_id)),
    )
    return Readiness(
        as_of=as_of,
        within_days=within_days,
        ready=not shortages,
        lines=lines,
        shortages=shortages,
        expiring=expiring,
    )
