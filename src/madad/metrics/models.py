"""Rollup tables: per-day sums by channel × team × agent, duration histograms, and one derived
row per ticket (the ticket's measurements, and what it last contributed to the daily sums)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    Float,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from madad.db import Base, utcnow


class MetricDaily(Base):
    """`n` measurements of `metric` summing to `total`, for one UTC day × channel × team ×
    agent (0 for "none"; channel '' for none)."""

    __tablename__ = "metric_daily"
    __table_args__ = (Index("ix_metric_daily_metric_day", "metric", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)


class MetricHist(Base):
    """How many of a duration metric's measurements fell in each logarithmic bucket."""

    __tablename__ = "metric_hist"
    __table_args__ = (Index("ix_metric_hist_metric_day", "metric", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class MetricDailyTotal(Base):
    """The same sums over all teams and agents: what headline figures read (far fewer rows)."""

    __tablename__ = "metric_daily_total"
    __table_args__ = (Index("ix_metric_daily_total_metric_day", "metric", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)


class MetricHistTotal(Base):
    """The duration histograms over all channels, teams and agents (the headline percentiles:
    a few hundred buckets a day)."""

    __tablename__ = "metric_hist_total"
    __table_args__ = (Index("ix_metric_hist_total_metric_day", "metric", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class MetricDailyAgent(Base):
    """The sums per agent over all channels and teams: what reports by agent, an agent's own
    report and every report's agent-days read (about a fifth of the rows of `metric_daily` at
    1 M tickets)."""

    __tablename__ = "metric_daily_agent"
    __table_args__ = (
        Index("ix_metric_daily_agent_agent_day", "agent_id", "day"),
        # The days each agent replied (metric 'handled'), for requests per agent per day.
        Index("ix_metric_daily_agent_metric_day", "metric", "day"),
    )

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)


class MetricHistAgent(Base):
    """The duration histograms per agent over all channels and teams (nearly as many rows as
    `metric_hist`: an agent's day holds a few dozen measurements in as many buckets; the index
    on the agent serves an agent's own report)."""

    __tablename__ = "metric_hist_agent"
    __table_args__ = (Index("ix_metric_hist_agent_agent_day", "agent_id", "day"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    agent_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class MetricDailyTeam(Base):
    """The sums per team over all channels and agents: what reports by team read."""

    __tablename__ = "metric_daily_team"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[float] = mapped_column(Float, default=0.0)


class MetricHistTeam(Base):
    """The duration histograms per team over all channels and agents."""

    __tablename__ = "metric_hist_team"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    metric: Mapped[str] = mapped_column(String(40), primary_key=True)
    bucket: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    n: Mapped[int] = mapped_column(BigInteger, default=0)


class MetricTicket(Base):
    """A ticket's measurements as of its latest fact (one row per ticket: the export)."""

    __tablename__ = "metric_tickets"
    __table_args__ = (
        Index("ix_metric_tickets_contact", "contact_id"),
        # Unique customers served, overall or per agent, team or channel: an index-only scan.
        Index(
            "ix_metric_tickets_resolved",
            "resolved_at",
            "contact_id",
            postgresql_include=["agent_id", "team_id", "channel"],
        ),
        Index("ix_metric_tickets_created", "created_at"),
    )

    ticket_id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str | None] = mapped_column(String(32))
    team_id: Mapped[int | None] = mapped_column(Integer)
    agent_id: Mapped[int | None] = mapped_column(Integer)
    priority: Mapped[str | None] = mapped_column(String(16))
    created_at: Mapped[datetime | None]
    first_response_s: Mapped[float | None] = mapped_column(Float)
    first_resolved_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolution_s: Mapped[float | None] = mapped_column(Float)
    reopens: Mapped[int] = mapped_column(Integer, default=0)
    replies: Mapped[int] = mapped_column(Integer, default=0)
    escalated: Mapped[bool] = mapped_column(Boolean, default=False)
    fcr: Mapped[bool | None] = mapped_column(Boolean)
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    csat: Mapped[float | None] = mapped_column(Float)
    tags: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"tags": [...]}
    contributed: Mapped[dict[str, Any]] = mapped_column(default=dict)  # {"rows": [...]}


class StaffingRota(Base):
    """The agents a manager has rostered each half hour of a typical week, as they typed it
    (see `metrics.rota`); one per channel ('' for all channels)."""

    __tablename__ = "staffing_rotas"

    channel: Mapped[str] = mapped_column(String(32), primary_key=True)
    spec: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(Integer)
