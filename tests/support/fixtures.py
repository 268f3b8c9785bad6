"""Fixtures more than one folder of tests uses (loaded by ``tests/conftest.py`` as a plugin): a university ready
for casework, a webhook receiver on loopback, settings whose webhook retries come at once. A folder may
override ``uni`` with a university of its own kind (the incident tests do: an emergency-ready one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import msgspec
import pytest

from tests.support.casework import University, make_university
from tests.support.receiver import Receiver


@pytest.fixture
async def uni(client: Any, make_tenant: Any) -> University:
    return await make_university(client, make_tenant)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver().start()
    yield r
    r.stop()


@pytest.fixture
def fast_settings(settings: Any) -> Any:
    """The session settings with retries at once (the schedule's length is kept)."""
    return msgspec.structs.replace(settings, webhook_retry_schedule="0,0,0,0,0,0,0", webhook_timeout=5.0)
