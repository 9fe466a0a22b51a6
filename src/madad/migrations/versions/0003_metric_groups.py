"""Rollups per agent and per team (over all channels), filled from the detailed sums.

Revision ID: 0003_metric_groups
Revises: 0002_rota
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003_metric_groups"
down_revision: str | Sequence[str] | None = "0002_rota"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _tables(group: str) -> None:
    op.create_table(
        f"metric_daily_{group}",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(f"{group}_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", f"{group}_id", "metric", name=op.f(f"pk_metric_daily_{group}")
        ),
    )
    op.create_table(
        f"metric_hist_{group}",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column(f"{group}_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(length=40), nullable=False),
        sa.Column("bucket", sa.SmallInteger(), nullable=False),
        sa.Column("n", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(
            "day", f"{group}_id", "metric", "bucket", name=op.f(f"pk_metric_hist_{group}")
        ),
    )
    # The sums so far, from the detailed rollups (a rebuild would give the same), in day order
    # so that a period's rows lie together, as a rebuild writes them.
    op.execute(
        f"INSERT INTO metric_daily_{group} (day, {group}_id, metric, n, total)"
        f" SELECT day, {group}_id, metric, SUM(n), SUM(total) FROM metric_daily"
        f" GROUP BY day, {group}_id, metric HAVING SUM(n) <> 0 OR SUM(total) <> 0"
        f" ORDER BY day, {group}_id, metric"
    )
    op.execute(
        f"INSERT INTO metric_hist_{group} (day, {group}_id, metric, bucket, n)"
        f" SELECT day, {group}_id, metric, bucket, SUM(n) FROM metric_hist"
        f" GROUP BY day, {group}_id, metric, bucket HAVING SUM(n) <> 0"
        f" ORDER BY day, {group}_id, metric, bucket"
    )


def upgrade() -> None:
    _tables("agent")
    _tables("team")
    op.create_index("ix_metric_daily_agent_agent_day", "metric_daily_agent", ["agent_id", "day"])
    op.create_index("ix_metric_hist_agent_agent_day", "metric_hist_agent", ["agent_id", "day"])


def downgrade() -> None:
    for table in ("metric_hist_team", "metric_daily_team", "metric_hist_agent"):
        op.drop_table(table)
    op.drop_table("metric_daily_agent")
