"""Intake in one round trip: ``intake_petition`` sets the tenant context, claims the Idempotency-Key with its
stored response, and inserts the petition and its journal event — one statement, its own transaction when called
outside one. And the hot tables (petitions, journal, idempotency_keys) lose their foreign key to ``tenants``: every
concurrent intake took a KEY SHARE lock on the one ``tenants`` row, which PostgreSQL turns into multixacts under
load (0.09–0.14 ms of database CPU per submission). Row-level security's ``WITH CHECK`` pins ``tenant_id`` to the
context, the context is only ever set for a signed-in principal of an existing university, and offboarding deletes
a university's rows table by table from the catalogue before its ``tenants`` row (see README › How it is built).

The function is ``SECURITY INVOKER``: it runs with the caller's rights and row-level security, and grants nothing
the application role could not do with ``set_config`` itself. It refuses to switch a transaction that already
belongs to another university.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-03
"""

from __future__ import annotations

from alembic import op

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

HOT_TABLES = ("petitions", "journal", "idempotency_keys")

# The petition's columns in the order ``service.petitions.services._COLUMNS`` passes them.
PETITION = [
    ("tenant_id", "uuid"), ("id", "uuid"), ("tracking_number", "text"), ("lookup_hash", "text"), ("kind", "text"),
    ("category_id", "uuid"), ("channel", "text"), ("subject", "text"), ("content", "text"),
    ("location_text", "text"), ("lat", "double precision"), ("long", "double precision"), ("anonymous", "boolean"),
    ("petitioner_account_id", "uuid"), ("registered_by", "uuid"), ("petitioner_name", "bytea"),
    ("petitioner_phone", "bytea"), ("petitioner_number", "bytea"), ("participants", "integer"),
    ("representatives", "bytea"), ("representative_count", "smallint"), ("accused_org_unit_id", "uuid"),
    ("notify_consent", "boolean"), ("notify_email", "bytea"), ("notify_phone", "bytea"), ("notify_lang", "text"),
    ("state", "text"), ("version", "integer"), ("received_at", "timestamptz"), ("due_at", "timestamptz"),
    ("accept_due", "timestamptz"), ("updated_at", "timestamptz"),
]  # fmt: skip
EXTRA = [
    ("search_text", "text"), ("event_id", "uuid"), ("actor_id", "uuid"), ("unit_id", "uuid"), ("payload", "jsonb"),
    # The Idempotency-Key's claim: all null without a key.
    ("key_id", "uuid"), ("key_principal", "text"), ("key_key", "text"), ("key_fingerprint", "text"),
    ("key_status", "integer"), ("key_response", "bytea"), ("key_ttl_seconds", "integer"),
]  # fmt: skip

SIGNATURE = ", ".join(f"{t}" for _, t in PETITION + EXTRA)


def upgrade() -> None:
    for table in HOT_TABLES:
        op.execute(f"alter table {table} drop constraint if exists {table}_tenant_id_fkey")
    params = ",\n  ".join(f"p_{name} {kind}" for name, kind in PETITION + EXTRA)
    columns = ", ".join(name for name, _ in PETITION)
    values = ", ".join(f"p_{name}" for name, _ in PETITION)
    op.execute(
        f"""
create function intake_petition(
  {params}
) returns uuid
language plpgsql
as $$
declare
  claimed uuid;
  current text := coalesce(current_setting('app.tenant_id', true), '');
begin
  if current <> '' and current <> p_tenant_id::text then
    raise exception 'intake_petition: this transaction belongs to another university'
      using errcode = '42501';
  end if;
  perform set_config('app.tenant_id', p_tenant_id::text, true);
  if p_key_key is not null then
    insert into idempotency_keys
           (tenant_id, id, principal, key, fingerprint, status_code, response, created_at, expires_at)
    values (p_tenant_id, p_key_id, p_key_principal, p_key_key, p_key_fingerprint, p_key_status, p_key_response,
            now(), now() + make_interval(secs => p_key_ttl_seconds))
    on conflict (tenant_id, principal, key) do update
       set id = excluded.id, fingerprint = excluded.fingerprint, status_code = excluded.status_code,
           response = excluded.response, created_at = excluded.created_at, expires_at = excluded.expires_at
     where idempotency_keys.expires_at < now()
    returning id into claimed;
    if claimed is null then
      return null;  -- claimed before: the caller reads the first response back
    end if;
  end if;
  insert into petitions ({columns}, search)
  values ({values}, to_tsvector('simple', p_search_text));
  insert into journal (tenant_id, id, occurred_at, type, actor_id, petition_id, org_unit_id, payload)
  values (p_tenant_id, p_event_id, p_received_at, 'petition.submitted', p_actor_id, p_id, p_unit_id, p_payload);
  return p_id;
end
$$
"""
    )


def downgrade() -> None:
    op.execute(f"drop function if exists intake_petition({SIGNATURE})")
    for table in HOT_TABLES:
        op.execute(
            f"alter table {table} add constraint {table}_tenant_id_fkey foreign key (tenant_id) references tenants (id)"
        )
