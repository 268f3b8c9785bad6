"""Journal extraction into Polars: one tenant's rows only (row-level security), no personal data, metrics run."""

from __future__ import annotations

from datetime import timedelta

import polars as pl
import pytest

from analytics.extract import journal_frame, tenant_zones
from analytics.metrics import JOURNAL_SCHEMA, localize, timeliness
from service.petitions.workflow import State
from tenants.clock import utcnow
from tenants.db import tenant_context
from tests.support.analytics import university
from tests.support.casework import drive


async def test_extraction_returns_only_the_tenant_s_petition_events(clock, client, make_tenant, db):
    a = await university(client, make_tenant, "Asia/Shanghai")
    b = await university(client, make_tenant, "Asia/Urumqi")
    replied_a, _ = await drive(client, a, State.replied)
    accepted_a, _ = await drive(client, a, State.accepted)
    received_b, _ = await drive(client, b, State.received)

    async with db.transaction(a.tenant.id) as session:
        frame = await journal_frame(session)
        zones = await tenant_zones(session)
    assert frame.schema == pl.Schema(JOURNAL_SCHEMA)
    assert frame.get_column("tenant_id").unique().to_list() == [str(a.tenant.id)]
    assert set(frame.get_column("petition_id")) == {replied_a, accepted_a}
    assert received_b not in set(frame.get_column("petition_id"))
    by_petition = frame.filter(petition_id=replied_a).sort("occurred_at")
    assert by_petition.get_column("type").to_list() == [
        "petition.submitted",
        "petition.accepted",
        "petition.assigned",
        "petition.started",
        "petition.replied",
    ]
    submitted = by_petition.row(0, named=True)
    assert (submitted["kind"], submitted["category"], submitted["channel"]) == ("complaint", "dormitory", "mobile")
    replied = by_petition.row(4, named=True)
    assert (replied["outcome"], replied["org_unit_id"]) == ("supported", a.unit_a)
    # Only the journal's ids and declared payload keys: nothing from the petition's personal fields.
    text = frame.write_csv()
    for personal in ("李四", "13800000000", "2024001234", "热水"):
        assert personal not in text
    assert zones == {str(a.tenant.id): "Asia/Shanghai"}

    # The frame is what the metrics take: both decisions of this month, made at once, in time.
    result = timeliness(localize(frame.lazy(), zones), period="month")
    assert result.get_column("decisions").sum() == 2
    assert result.get_column("accept_within_15_share").to_list() == [1.0]

    async with db.transaction(b.tenant.id) as session:
        other = await journal_frame(session)
    assert other.get_column("petition_id").unique().to_list() == [received_b]


async def test_extraction_bounds_and_tenant_requirement(client, make_tenant, db):
    a = await university(client, make_tenant, "Asia/Shanghai")
    await drive(client, a, State.accepted)
    now = utcnow()
    async with db.transaction(a.tenant.id) as session:
        assert (await journal_frame(session, since=now - timedelta(hours=1))).height == 2
        empty = await journal_frame(session, until=now - timedelta(days=1))
        assert empty.height == 0
        assert empty.schema == pl.Schema(JOURNAL_SCHEMA)
        with pytest.raises(ValueError, match="timezone-aware"):
            await journal_frame(session, since=now.replace(tzinfo=None))
    with tenant_context(None):
        async with db.transaction() as session:
            with pytest.raises(RuntimeError, match="no tenant context"):
                await journal_frame(session)
