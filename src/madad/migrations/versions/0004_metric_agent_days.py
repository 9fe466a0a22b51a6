"""The per-agent sums get an index on metric and day: the days agents replied ("handled"),
which every report's requests-per-agent-per-day reads, without scanning every metric of the
period's days.

Revision ID: 0004_metric_agent_days
Revises: 0003_metric_groups
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004_metric_agent_days"
down_revision: str | Sequence[str] | None = "0003_metric_groups"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_metric_daily_agent_metric_day", "metric_daily_agent", ["metric", "day"])


def downgrade() -> None:
    op.drop_index("ix_metric_daily_agent_metric_day", table_name="metric_daily_agent")
