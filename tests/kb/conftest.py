"""Knowledge-base test helpers: an author, and articles written and published in one call."""

from __future__ import annotations

from madad.auth.models import Role
from madad.auth.permissions import actor_for
from madad.db import Database
from madad.kb import service
from madad.kb.service import ArticleView, Text
from tests.channels.email.conftest import smtp_capture  # noqa: F401 (the SMTP capture fixture)

AUTHOR = actor_for(1, Role.supervisor.value, "Sana Supervisor")


async def write(
    db: Database,
    title: str,
    body: str = "",
    *,
    language: str = "en",
    internal: bool = False,
    publish: bool = True,
    more: dict[str, Text] | None = None,
) -> ArticleView:
    translations = {language: Text(title, body), **(more or {})}
    async with db.session() as session:
        return await service.create_article(
            session,
            AUTHOR,
            translations=translations,
            internal=internal,
            publish=list(translations) if publish else [],
        )


async def find(
    db: Database, q: str, *, language: str = "en", internal: bool = False, limit: int = 10
) -> list[str]:
    """The slugs found for a query, best first."""
    async with db.session(write=False) as session:
        found = await service.search_articles(
            session, q, language=language, include_internal=internal, limit=limit
        )
    return [h.slug for h in found.hits]
