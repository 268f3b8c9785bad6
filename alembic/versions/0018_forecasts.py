"""Forecasts of next quarter's petition volume per university and series (a category, or ``*`` for all), and
the platform-path function the bureau reads its province's with (``province_forecasts_of``, SECURITY DEFINER,
like ``province_cells_of``: only these numbers, for the universities of one province).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-03
"""

from __future__ import annotations

import sqlalchemy as sa

from alembic import op
from tenants.ddl import OWNER_ROLE, PLATFORM_ROLE, TS, UUID, app_role, execute, grant, tenant_table

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

FN = "province_forecasts_of(text)"


def upgrade() -> None:
    app = app_role()
    op.create_table(
        "petition_forecasts",
        sa.Column("tenant_id", UUID, sa.ForeignKey("tenants.id"), primary_key=True),
        sa.Column("id", UUID, primary_key=True),
        sa.Column("series", sa.String(64), nullable=False),
        sa.Column("quarter_start", sa.Date, nullable=False),
        sa.Column("petitions", sa.Float, nullable=False),
        sa.Column("lo", sa.Float, nullable=False),
        sa.Column("hi", sa.Float, nullable=False),
        sa.Column("model", sa.String(32), nullable=False),
        sa.Column("mase", sa.Float, nullable=False),
        sa.Column("baseline_mase", sa.Float, nullable=False),
        sa.Column("months", sa.Integer, nullable=False),
        sa.Column("computed_at", TS, nullable=False),
    )
    op.create_index(
        "uq_petition_forecasts_series", "petition_forecasts", ["tenant_id", "quarter_start", "series"], unique=True
    )
    tenant_table(execute, "petition_forecasts")
    grant(execute, "petition_forecasts", "select, insert, update, delete", app)
    grant(execute, "petition_forecasts", "select", PLATFORM_ROLE)
    execute(
        f"""
        create function {FN.replace("(text)", "(p_prefix text)")}
        returns table (tenant_id uuid, series text, quarter_start date, petitions double precision,
                       lo double precision, hi double precision, model text, mase double precision,
                       baseline_mase double precision, months integer)
        language sql stable security definer set search_path = public as $$
          select f.tenant_id, f.series, f.quarter_start, f.petitions, f.lo, f.hi, f.model, f.mase,
                 f.baseline_mase, f.months
            from petition_forecasts f join tenants t on t.id = f.tenant_id
           where starts_with(t.province_code, left(p_prefix, 2))
             and f.quarter_start = (select max(g.quarter_start) from petition_forecasts g where g.tenant_id = f.tenant_id)
        $$
        """
    )
    execute(f"revoke all on function {FN} from public")
    execute(f"grant execute on function {FN} to {app}")
    execute("reset role")
    execute(f"alter function {FN} owner to {PLATFORM_ROLE}")
    execute(f"set role {OWNER_ROLE}")


def downgrade() -> None:
    execute(f"drop function if exists {FN}")
    op.drop_table("petition_forecasts")
