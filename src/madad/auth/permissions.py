"""Who may do what: scopes, the scopes each role holds, and the acting principal (`Actor`)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from madad.auth.models import ROLE_RANK, Role
from madad.errors import Forbidden


class Scope(StrEnum):
    tickets_read = "tickets:read"
    tickets_write = "tickets:write"
    contacts_read = "contacts:read"
    contacts_write = "contacts:write"
    inbound = "inbound:write"
    activity_read = "activity:read"
    users_read = "users:read"
    users_write = "users:write"
    webhooks = "webhooks:manage"
    reports_read = "reports:read"
    channels_manage = "channels:manage"  # mailboxes and other channel settings
    kb_read = "kb:read"  # knowledge-base drafts, history and internal articles
    kb_write = "kb:write"  # writing and publishing knowledge-base articles


_AGENT = {
    Scope.tickets_read,
    Scope.tickets_write,
    Scope.contacts_read,
    Scope.contacts_write,
    Scope.inbound,
    Scope.activity_read,
    Scope.users_read,
    Scope.kb_read,
}
ROLE_SCOPES: dict[Role, frozenset[Scope]] = {
    Role.agent: frozenset(_AGENT),
    Role.supervisor: frozenset(_AGENT | {Scope.reports_read, Scope.kb_write}),
    Role.admin: frozenset(Scope),
    Role.owner: frozenset(Scope),
}
ALL_SCOPES = [s.value for s in Scope]


def parse_scopes(values: list[str] | str) -> list[Scope]:
    """Scopes from names ("tickets:read"), comma-separated text, or "all"."""
    items = values.split(",") if isinstance(values, str) else values
    out: list[Scope] = []
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        if name == "all":
            return list(Scope)
        try:
            out.append(Scope(name))
        except ValueError as exc:
            raise ValueError(f"unknown scope {name!r}; known: {', '.join(ALL_SCOPES)}") from exc
    return out


@dataclass(frozen=True)
class Actor:
    """Whoever is acting: an agent through a browser session or an API token, or the system."""

    user_id: int | None
    role: Role
    scopes: frozenset[Scope]
    name: str = ""
    token_id: int | None = None

    @property
    def is_system(self) -> bool:
        return self.user_id is None

    def can(self, scope: Scope) -> bool:
        return scope in self.scopes and scope in ROLE_SCOPES[self.role]

    def require(self, scope: Scope) -> None:
        if not self.can(scope):
            raise Forbidden(f"this needs the {scope.value} scope")

    def outranks_or_equals(self, role: Role) -> bool:
        return ROLE_RANK[self.role] >= ROLE_RANK[role]


SYSTEM = Actor(user_id=None, role=Role.owner, scopes=frozenset(Scope), name="system")


def actor_for(
    user_id: int,
    role: str,
    name: str,
    token_scopes: list[str] | None = None,
    token_id: int | None = None,
) -> Actor:
    r = Role(role)
    allowed = ROLE_SCOPES[r]
    scopes = (
        allowed
        if token_scopes is None
        else frozenset(
            s for s in (Scope(x) for x in token_scopes if x in ALL_SCOPES) if s in allowed
        )
    )
    return Actor(user_id=user_id, role=r, scopes=frozenset(scopes), name=name, token_id=token_id)
