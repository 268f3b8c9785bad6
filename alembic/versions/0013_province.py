"""Province aggregates: per-university, per-period cells (counts and sums) folded from the journal by a worker.

- ``province_cells``: one row per (university, period kind, period start) with the counts and sums the bureau's
  tables are built from (never a rate, never a person: rates are computed at read time from these sums);
- ``province_dimension_cells``: petitions received in the period per category and per handling unit;
- ``province_folds``: each university's fold watermark (a transaction id: every journal row of a transaction
  below it has been folded).

The bureau reads all universities of its province in one statement through ``province_cells_of`` and
``province_dimensions_of``, narrow SECURITY DEFINER functions of the platform path (like ``journal_feed``): they
return only these aggregates, for the universities of one province.

Revision ID: 0013
Revises: 0010
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import OWNER_ROLE, PLATFORM_ROLE, TS, UUID, app_role, execute, grant, tenant_table

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

# Keep in step with analytics.province.cells.SUMS.
SUMS = (
    "decisions", "accept_us", "accept_within_15",
    "concluded", "conclude_days", "conclude_on_time", "concluded_reviewed",
    "reviews_answered", "reviews_rereviewed",
    "overdue_accept", "overdue_conclude",
    "assigned", "transfers", "transferred", "bounced", "objections",
    "ratings", "ratings_known", "satisfied", "basically_satisfied", "dissatisfied",
    "replied", "replied_rated",
    "followups_outstanding",
    "received_suggestion", "received_accusation", "received_complaint",
    "adopted",
)  # fmt: skip
PERIOD_KINDS = "period_kind in ('quarter', 'year')"
CELLS_FN = "province_cells_of(text, text, date)"
DIMENSIONS_FN = "province_dimensions_of(text, text, date)"


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "province_cells",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("period_kind", sa.String(8), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        *(sa.Column(name, sa.BigInteger, nullable=False, server_default="0") for name in SUMS),
        sa.Column("watermark_txid", sa.BigInteger, nullable=False),
        sa.Column("updated_at", TS, nullable=False),
        sa.CheckConstraint(PERIOD_KINDS, name="ck_province_cells_period_kind"),
    )
    op.create_table(
        "province_dimension_cells",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("period_kind", sa.String(8), primary_key=True),
        sa.Column("period_start", sa.Date, primary_key=True),
        sa.Column("dimension", sa.String(16), primary_key=True),
        # A category code or an org unit id as text; '' when the petition has none.
        sa.Column("value", sa.String(80), primary_key=True),
        sa.Column("n", sa.BigInteger, nullable=False),
        sa.CheckConstraint(PERIOD_KINDS, name="ck_province_dimension_cells_period_kind"),
        sa.CheckConstraint("dimension in ('category', 'org_unit')", name="ck_province_dimension_cells_dimension"),
    )
    op.create_table(
        "province_folds",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("txid", sa.BigInteger, nullable=False),
        sa.Column("events", sa.BigInteger, nullable=False),
        sa.Column("folded_at", TS, nullable=False),
    )
    # A fold reads the events committed since its watermark, then every event of the petitions they touch.
    op.create_index("ix_journal_tenant_txid", "journal", ["tenant_id", "txid"])
    op.create_index(
        "ix_journal_tenant_petition",
        "journal",
        ["tenant_id", "petition_id"],
        postgresql_where=sa.text("petition_id is not null"),
    )
    for table in ("province_cells", "province_dimension_cells", "province_folds"):
        tenant_table(execute, table)
        grant(execute, table, "select, insert, update, delete", app)
        grant(execute, table, "select", PLATFORM_ROLE)
    # What the functions join: a university's province, an org unit's kind (no names, nothing personal).
    execute(f"grant select (id, province_code) on tenants to {PLATFORM_ROLE}")
    execute(f"grant select (tenant_id, id, kind) on org_units to {PLATFORM_ROLE}")
    sums = ", ".join(f"c.{s}" for s in SUMS)
    columns = ", ".join(f"{s} bigint" for s in SUMS)
    execute(
        f"""
        create function {CELLS_FN.replace("(text, text, date)", "(p_prefix text, p_kind text, p_start date)")}
        returns table (tenant_id uuid, {columns}, watermark_txid bigint)
        language sql stable security definer set search_path = public as $$
          select c.tenant_id, {sums}, c.watermark_txid
            from province_cells c join tenants t on t.id = c.tenant_id
           where starts_with(t.province_code, left(p_prefix, 2))
             and c.period_kind = p_kind and c.period_start = p_start
        $$
        """
    )
    execute(
        f"""
        create function {DIMENSIONS_FN.replace("(text, text, date)", "(p_prefix text, p_kind text, p_start date)")}
        returns table (tenant_id uuid, dimension text, value text, n bigint)
        language sql stable security definer set search_path = public as $$
          select d.tenant_id, d.dimension,
                 case when d.dimension = 'org_unit' then coalesce(u.kind, 'unassigned') else d.value end,
                 sum(d.n)::bigint
            from province_dimension_cells d
            join tenants t on t.id = d.tenant_id
            left join org_units u
              on u.tenant_id = d.tenant_id
             and u.id = case when d.dimension = 'org_unit' then nullif(d.value, '')::uuid end
           where starts_with(t.province_code, left(p_prefix, 2))
             and d.period_kind = p_kind and d.period_start = p_start
           group by 1, 2, 3
        $$
        """
    )
    for fn in (CELLS_FN, DIMENSIONS_FN):
        execute(f"revoke all on function {fn} from public")
        execute(f"grant execute on function {fn} to {app}")
    execute("reset role")
    for fn in (CELLS_FN, DIMENSIONS_FN):
        execute(f"alter function {fn} owner to {PLATFORM_ROLE}")
    execute(f"set role {OWNER_ROLE}")


def downgrade() -> None:
    for fn in (DIMENSIONS_FN, CELLS_FN):
        execute(f"drop function if exists {fn}")
    execute(f"revoke select (tenant_id, id, kind) on org_units from {PLATFORM_ROLE}")
    execute(f"revoke select (id, province_code) on tenants from {PLATFORM_ROLE}")
    op.drop_index("ix_journal_tenant_petition", table_name="journal")
    op.drop_index("ix_journal_tenant_txid", table_name="journal")
    for table in ("province_folds", "province_dimension_cells", "province_cells"):
        op.drop_table(table)
