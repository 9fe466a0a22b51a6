"""How replies leave: channels register the job kind that delivers their outbound messages.

The core never imports a channel. A channel with a transport (email) registers a job kind here;
a reply on it enqueues that job in the reply's transaction. Channels without one registered
(the API channel) leave the message `queued` for integrations, which hear of it through the
`message.sent` webhook and may report delivery back.
"""

from __future__ import annotations

deliverers: dict[str, str] = {}


def register_deliverer(channel: str, job_kind: str) -> None:
    existing = deliverers.get(channel)
    if existing is not None and existing != job_kind:
        raise RuntimeError(f"channel {channel!r} already delivers through {existing!r}")
    deliverers[channel] = job_kind
