"""API shapes of the phone channel: the call event a phone system posts, and what it gets back."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from madad.api_types import SafeStr
from madad.channels.phone.models import PhoneCall, PhoneEvent
from madad.channels.phone.service import CallEvent, Outcome

EventName = Literal[
    "queued",
    "ringing",
    "answered",
    "hold",
    "resume",
    "transferred",
    "ended",
    "abandoned",
    "voicemail",
]


class CallEventIn(BaseModel):
    """One call event. The same (call_id, event, timestamp) posted again is stored once; events
    of a call may arrive in any order. On `transferred`, `agent` and `queue` name where the call
    went."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    call_id: SafeStr = Field(
        min_length=1, max_length=200, description="the call's id in the phone system"
    )
    from_: SafeStr = Field(
        alias="from", min_length=1, max_length=255, description="the caller's number"
    )
    to: SafeStr | None = Field(default=None, max_length=255, description="the number called")
    queue: SafeStr | None = Field(default=None, max_length=255)
    agent: SafeStr | None = Field(
        default=None,
        max_length=320,
        description="the agent's email or Madad user id; unknown agents are stored as none",
    )
    event: EventName
    timestamp: AwareDatetime = Field(description="when it happened: ISO 8601 with its zone")
    recording_url: SafeStr | None = Field(
        default=None, max_length=2000, description="an http(s) URL of the call's recording"
    )
    data: dict[str, Any] = Field(
        default_factory=dict, description="anything else the phone system reports"
    )

    def to_event(self) -> CallEvent:
        return CallEvent(
            call_id=self.call_id,
            event=self.event,
            at=self.timestamp,
            caller=self.from_,
            callee=self.to,
            queue=self.queue,
            agent=self.agent,
            recording_url=self.recording_url,
            data=self.data,
        )


class EventResultOut(BaseModel):
    call_id: str
    event: str
    timestamp: datetime
    stored: bool = Field(description="false when this event was stored before")
    ticket_id: int
    state: str = Field(description="the call's state after every event received so far")
    agent_id: int | None
    warnings: list[str] = Field(description="what was accepted but not understood")

    @classmethod
    def of(cls, o: Outcome) -> EventResultOut:
        return cls(
            call_id=o.call_id,
            event=o.event,
            timestamp=o.at,
            stored=o.stored,
            ticket_id=o.ticket_id,
            state=o.state,
            agent_id=o.agent_id,
            warnings=list(o.warnings),
        )


class EventsOut(BaseModel):
    results: list[EventResultOut]


class CallEventOut(BaseModel):
    event: str
    timestamp: datetime
    from_: str = Field(serialization_alias="from")
    to: str | None
    queue: str | None
    agent: str | None
    agent_id: int | None
    recording_url: str | None
    data: dict[str, Any]

    @classmethod
    def of(cls, e: PhoneEvent) -> CallEventOut:
        return cls(
            event=e.event,
            timestamp=e.at,
            from_=e.caller,
            to=e.callee,
            queue=e.queue,
            agent=e.agent,
            agent_id=e.agent_id,
            recording_url=e.recording_url,
            data=e.data,
        )


class CallOut(BaseModel):
    call_id: str
    ticket_id: int
    contact_id: int
    from_: str = Field(serialization_alias="from")
    to: str | None
    queue: str | None
    state: str
    queued_at: datetime | None
    answered_at: datetime | None
    agent_id: int | None
    ended_at: datetime | None
    abandoned_at: datetime | None
    hold_seconds: float
    recording_url: str | None
    events: list[CallEventOut]

    @classmethod
    def of(cls, c: PhoneCall, events: list[PhoneEvent]) -> CallOut:
        return cls(
            call_id=c.call_id,
            ticket_id=c.ticket_id,
            contact_id=c.contact_id,
            from_=c.caller,
            to=c.callee,
            queue=c.queue,
            state=c.state,
            queued_at=c.queued_at,
            answered_at=c.answered_at,
            agent_id=c.agent_id,
            ended_at=c.ended_at,
            abandoned_at=c.abandoned_at,
            hold_seconds=c.hold_seconds,
            recording_url=c.recording_url,
            events=[CallEventOut.of(e) for e in events],
        )
