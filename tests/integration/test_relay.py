"""The journal relay turns committed events into broker messages, once per event, resuming from its cursor."""

from __future__ import annotations

from sqlalchemy import text

from analytics.runtime import relay
from service.ops import jobs  # noqa: F401  (registers the relay handlers)


async def queued_messages(db, actor: str) -> list[dict]:
    async with db.sessionmaker() as s:
        rows = await s.execute(
            text("select message from dramatiq.queue where message->>'actor_name' = :a"), {"a": actor}
        )
        return [r[0] for r in rows]


async def drain(db) -> None:
    while await relay.relay_once(db, batch=100):
        pass


async def test_a_new_university_is_relayed_to_its_provisioning_job_exactly_once(db, make_tenant):
    await drain(db)
    t = await make_tenant()
    before = [m for m in await queued_messages(db, "provision_tenant") if m["args"] == [str(t.id)]]
    assert before == []
    await drain(db)
    await drain(db)  # a second pass finds nothing new: the cursor moved
    after = [m for m in await queued_messages(db, "provision_tenant") if m["args"] == [str(t.id)]]
    assert len(after) == 1


async def test_an_open_transaction_holds_back_later_events_until_it_commits(db, make_tenant):
    """Commit order, not insertion order: an event written by a transaction still open when the relay reads is
    neither skipped nor read early."""
    from tenants import journal
    from tenants.db import tenant_context

    slow_tenant = await make_tenant()
    await drain(db)
    with tenant_context(slow_tenant.id):
        async with db.transaction() as slow:
            await journal.record(slow, "tenant.provisioned", subject_id=slow_tenant.id)
            await slow.flush()
            fast_tenant = await make_tenant()  # commits after the slow one began
            await drain(db)
            async with db.sessionmaker() as s:
                cursor = (await s.execute(text("select txid from journal_cursors where name = 'relay'"))).one()
                slow_txid = await slow.scalar(text("select (pg_current_xact_id()::text)::bigint"))
            assert cursor.txid < slow_txid  # the cursor stopped before the open transaction
    await drain(db)
    provisions = await queued_messages(db, "provision_tenant")
    assert [m for m in provisions if m["args"] == [str(fast_tenant.id)]]
