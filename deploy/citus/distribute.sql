-- Citus distribution of the Xinfang schema. GENERATED from the migrated catalog by
--   python -m service.ops.citus --write
-- Do not edit by hand: tests/integration/deploy/test_citus.py fails when it differs from the catalog
-- (regenerate with `XINFANG_WRITE_CITUS=1 make test`).
-- Run once, as the owner role, on the coordinator after `xinfang migrate` (see the README).

begin;
-- Distributed tables with foreign keys to reference tables, created in one transaction, need this.
set local citus.multi_shard_modify_mode to 'sequential';

-- Global tables: small, read everywhere; a copy on every node.
select create_reference_table('journal_cursors');
select create_reference_table('platform_accounts');
select create_reference_table('platform_journal');
select create_reference_table('platform_tokens');
select create_reference_table('schedule_runs');
select create_reference_table('scheduler_leases');
select create_reference_table('sign_in_failures');
select create_reference_table('tenants');

-- Tenant tables: distributed by tenant_id, all co-located with the first one.
select create_distributed_table('accounts', 'tenant_id', colocate_with => 'default');
select create_distributed_table('api_keys', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('emergency_groups', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('org_units', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('people', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('group_members', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('idempotency_keys', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('plan_versions', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('warnings', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incidents', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incident_action_items', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incident_bulletins', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('material_items', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incident_logistics', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incident_measures', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_escalations', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('reception_sessions', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_categories', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petitions', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incident_petitions', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incident_reminders', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incident_steps', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('incident_tasks', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('journal', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('material_ledger', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('material_shortages', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('notice_templates', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('notification_deliveries', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('notification_preferences', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('notifications', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('person_posts', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_access_log', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_attachments', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_escalation_members', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_forecasts', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_notice_numbers', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_notices', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_numbers', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_reminders', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('petition_settings', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('province_cells', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('province_dimension_cells', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('province_folds', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('reception_bookings', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('reply_templates', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('reports', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('report_requests', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('supervision_orders', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('training_sessions', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('training_participants', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('webhook_subscriptions', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('webhook_deliveries', 'tenant_id', colocate_with => 'accounts');
select create_distributed_table('webhook_attempts', 'tenant_id', colocate_with => 'accounts');

-- Kept local to the coordinator:
--   alembic_version: migration bookkeeping, written only by `xinfang migrate` on the coordinator
--   schema dramatiq: the PostgreSQL broker's queue; on Citus set XINFANG_BROKER_URL to RabbitMQ or Redis instead

commit;
