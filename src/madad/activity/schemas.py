"""API shapes of the activity domain."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from madad.activity.models import Activity


class FactOut(BaseModel):
    id: int
    at: datetime
    kind: str
    ticket_id: int | None
    contact_id: int | None
    agent_id: int | None
    team_id: int | None
    channel: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, f: Activity) -> FactOut:
        return cls(
            id=f.id,
            at=f.at,
            kind=f.kind,
            ticket_id=f.ticket_id,
            contact_id=f.contact_id,
            agent_id=f.agent_id,
            team_id=f.team_id,
            channel=f.channel,
            data=f.data or {},
        )


class FactPage(BaseModel):
    items: list[FactOut]
    next_cursor: str | None = None
