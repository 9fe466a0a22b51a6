"""What admins decide about the portal: whether an organisation's members see each other's
requests (off unless turned on), and the topics a new request can be about. Both changes go
to the audit log."""

from __future__ import annotations

import re
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth import service as auth
from madad.auth.permissions import Actor, Scope
from madad.contacts.service import get_organisation_row
from madad.db import utcnow
from madad.errors import Invalid
from madad.portal.models import OrganisationSharing, Topic

MAX_TOPICS = 50
MAX_TOPIC_TITLE = 100


async def sharing(session: AsyncSession, organisation_id: int) -> bool:
    """Whether the organisation's members see its tickets in the portal."""
    on = await session.scalar(
        select(OrganisationSharing.members_see_tickets).where(
            OrganisationSharing.organisation_id == organisation_id
        )
    )
    return bool(on)


async def set_sharing(
    session: AsyncSession, actor: Actor, organisation_id: int, *, members_see_tickets: bool
) -> None:
    actor.require(Scope.channels_manage)
    await get_organisation_row(session, organisation_id)
    row = await session.get(OrganisationSharing, organisation_id)
    if row is None:
        row = OrganisationSharing(organisation_id=organisation_id)
        session.add(row)
    before = bool(row.members_see_tickets)
    row.members_see_tickets = members_see_tickets
    row.updated_by = actor.user_id
    row.updated_at = utcnow()
    await session.flush()
    if before != members_see_tickets:
        auth.audit(
            session,
            actor,
            "portal.organisation_sharing",
            "organisation",
            organisation_id,
            {"members_see_tickets": members_see_tickets},
        )


def parse_topics(text: str) -> list[tuple[str, str | None]]:
    """Topics written one a line, `English title | Urdu title` (the Urdu one optional)."""
    out: list[tuple[str, str | None]] = []
    for n, line in enumerate(text.replace("\r\n", "\n").split("\n"), start=1):
        if not line.strip():
            continue
        english, _, urdu = line.partition("|")
        english, urdu = english.strip(), urdu.strip()
        if not english:
            raise Invalid("topics", f"line {n}: the English title comes first")
        if len(english) > MAX_TOPIC_TITLE or len(urdu) > MAX_TOPIC_TITLE:
            raise Invalid("topics", f"line {n}: at most {MAX_TOPIC_TITLE} characters a title")
        if any(english == e for e, _ in out):
            raise Invalid("topics", f"line {n}: {english!r} is listed twice")
        out.append((english, urdu or None))
    if len(out) > MAX_TOPICS:
        raise Invalid("topics", f"at most {MAX_TOPICS} topics")
    return out


def topics_text(topics: Sequence[Topic]) -> str:
    return "\n".join(
        t.titles["en"] + (f" | {t.titles['ur']}" if t.titles.get("ur") else "") for t in topics
    )


def _key(title: str, taken: set[str]) -> str:
    base = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40] or "topic"
    key, n = base, 2
    while key in taken:
        key, n = f"{base}-{n}", n + 1
    return key


async def set_topics(
    session: AsyncSession, actor: Actor, topics: Sequence[tuple[str, str | None]]
) -> list[Topic]:
    """Replace the list; a topic keeps its key (its tag on tickets) while its English title
    stays the same."""
    actor.require(Scope.channels_manage)
    before = list((await session.scalars(select(Topic))).all())
    keys = {t.titles.get("en"): t.key for t in before}
    await session.execute(delete(Topic))
    taken: set[str] = set()
    rows = []
    for position, (english, urdu) in enumerate(topics):
        key = keys.get(english) or _key(english, taken | set(keys.values()))
        taken.add(key)
        titles = {"en": english, **({"ur": urdu} if urdu else {})}
        rows.append(Topic(key=key, position=position, titles=titles, created_at=utcnow()))
    session.add_all(rows)
    await session.flush()
    auth.audit(session, actor, "portal.topics", "portal", None, {"topics": [t.key for t in rows]})
    return rows
