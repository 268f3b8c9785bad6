"""Process-wide resources of background code: one Database per event loop (asyncpg pools are loop-bound)."""

from __future__ import annotations

import asyncio

from tenants import crypto
from tenants.db import Database
from tenants.settings import get_settings

_databases: dict[asyncio.AbstractEventLoop, Database] = {}


def database() -> Database:
    """The Database for the running event loop, created on first use."""
    loop = asyncio.get_running_loop()
    db = _databases.get(loop)
    if db is None:
        settings = get_settings()
        crypto.configure(settings.data_key_bytes)
        db = _databases[loop] = Database.from_settings(settings)
    return db
