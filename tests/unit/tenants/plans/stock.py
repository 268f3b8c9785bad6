"""Stock levels for unit tests, shaped like ``tenants.materials.StockLevel``."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Stock:
    code: str
    quantity: int
    expires_on: dt.date | None = None
    category: str = "logistics"
    name_zh: str = "物资"
    name_en: str = "Item"
    unit: str = "pcs"
    location: str | None = "仓库"
    item_id: uuid.UUID = field(default_factory=uuid.uuid4)
