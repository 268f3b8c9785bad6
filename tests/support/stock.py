"""Stock levels for unit tests (the materials inventory's ``StockLevel``)."""

from __future__ import annotations

import datetime as dt
import uuid

from tenants.materials import StockLevel


def item(
    code: str, quantity: int, expires_on: dt.date | None = None, *, category: str = "logistics", location: str = "仓库"
) -> StockLevel:
    return StockLevel(
        item_id=uuid.uuid4(),
        category=category,
        code=code,
        name_zh=code,
        name_en=code,
        unit="pcs",
        location=location,
        quantity=quantity,
        expires_on=expires_on,
    )
