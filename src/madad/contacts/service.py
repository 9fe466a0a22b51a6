"""Operations on the CRM: finding and creating contacts, editing, merging, notes, organisations.

The only writer of the contacts tables. Facts: contact.created/updated/merged/deleted,
contact.note_added, organisation.created/updated/churned/reactivated/merged/deleted.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import orjson
from sqlalchemy import delete, exists, false, func, insert, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.activity.models import Activity
from madad.auth.permissions import Actor, Scope
from madad.contacts.identities import email_domain, normalise
from madad.contacts.models import (
    Contact,
    ContactIdentity,
    ContactNote,
    Organisation,
    OrganisationDomain,
)
from madad.db import utcnow
from madad.dialects import lock_keys
from madad.errors import Conflict, Invalid, NotFound
from madad.pagination import Page, clamp_limit, decode_cursor, encode_cursor

_LANGUAGE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
MAX_CUSTOM_BYTES = 16_384

# Other core domains that own rows pointing at contacts/organisations register here, so a merge
# moves everything without this module importing them (tickets registers its own mover).
ContactMover = Callable[[AsyncSession, int, int], Awaitable[None]]
contact_merge_movers: list[ContactMover] = []
organisation_merge_movers: list[ContactMover] = []


# --- validation -------------------------------------------------------------------------------


def clean_language(value: str | None, field_name: str = "language") -> str | None:
    if value is None or value == "":
        return None
    if not _LANGUAGE.match(value):
        raise Invalid(field_name, "a language tag such as en, ur or en-GB")
    return value


def clean_time_zone(value: str | None, field_name: str = "time_zone") -> str | None:
    if value is None or value == "":
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise Invalid(field_name, f"unknown time zone {value!r} (use an IANA name)") from exc
    return value


def clean_custom(value: Mapping[str, Any] | None, field_name: str = "custom") -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise Invalid(field_name, "must be an object")
    for key in value:
        if not isinstance(key, str) or not 1 <= len(key) <= 64:
            raise Invalid(field_name, "keys are 1-64 characters")
    if len(orjson.dumps(dict(value))) > MAX_CUSTOM_BYTES:
        raise Invalid(field_name, f"at most {MAX_CUSTOM_BYTES} bytes of JSON")
    return dict(value)


def clean_name(value: str | None, field_name: str = "name") -> str | None:
    """Names are kept exactly as given (only an empty one means "no name")."""
    if value is None or value == "":
        return None
    if len(value) > 200:
        raise Invalid(field_name, "at most 200 characters")
    return value


# --- views ------------------------------------------------------------------------------------


@dataclass
class ContactView:
    contact: Contact
    identities: list[ContactIdentity]
    organisation: Organisation | None

    def values(self, kind: str) -> list[str]:
        return [i.value for i in self.identities if i.kind == kind]


@dataclass
class OrganisationView:
    organisation: Organisation
    domains: list[str]
    contact_count: int = 0


@dataclass
class Identity:
    kind: str
    value: str


@dataclass
class ContactIn:
    name: str | None = None
    emails: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    handles: list[str] = field(default_factory=list)
    organisation_id: int | None = None
    language: str | None = None
    time_zone: str | None = None
    birthday: date | None = None
    custom: dict[str, Any] = field(default_factory=dict)


def _identities_of(
    emails: Iterable[str], phones: Iterable[str], handles: Iterable[str]
) -> list[Identity]:
    out: list[Identity] = []
    seen: set[tuple[str, str]] = set()
    for kind, values in (("email", emails), ("phone", phones), ("handle", handles)):
        for i, raw in enumerate(values):
            value = normalise(kind, raw, f"{kind}s[{i}]")
            if (kind, value) not in seen:
                seen.add((kind, value))
                out.append(Identity(kind, value))
    return out


async def _load_views(session: AsyncSession, contacts: list[Contact]) -> list[ContactView]:
    ids = [c.id for c in contacts]
    if not ids:
        return []
    idents = (
        await session.execute(
            select(ContactIdentity)
            .where(ContactIdentity.contact_id.in_(ids))
            .order_by(ContactIdentity.contact_id, ContactIdentity.id)
        )
    ).scalars()
    by_contact: dict[int, list[ContactIdentity]] = {}
    for ident in idents:
        by_contact.setdefault(ident.contact_id, []).append(ident)
    org_ids = {c.organisation_id for c in contacts if c.organisation_id}
    orgs: dict[int, Organisation] = {}
    if org_ids:
        rows = await session.execute(select(Organisation).where(Organisation.id.in_(org_ids)))
        orgs = {o.id: o for o in rows.scalars()}
    return [
        ContactView(c, by_contact.get(c.id, []), orgs.get(c.organisation_id or -1))
        for c in contacts
    ]


async def _live_contact(session: AsyncSession, contact_id: int) -> Contact:
    """The contact, following merges to the surviving one."""
    seen = set()
    contact = await session.get(Contact, contact_id)
    while contact is not None and contact.merged_into_id is not None:
        if contact.id in seen:
            break
        seen.add(contact.id)
        contact = await session.get(Contact, contact.merged_into_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return contact


async def get_contact(session: AsyncSession, actor: Actor, contact_id: int) -> ContactView:
    actor.require(Scope.contacts_read)
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    return (await _load_views(session, [contact]))[0]


async def find_contact(session: AsyncSession, kind: str, value: str) -> Contact | None:
    """The contact that uses this identity (value is normalised here), if any."""
    normal = normalise(kind, value)
    contact_id = await session.scalar(
        select(ContactIdentity.contact_id).where(
            ContactIdentity.kind == kind, ContactIdentity.value == normal
        )
    )
    return None if contact_id is None else await _live_contact(session, contact_id)


async def _organisation_for_domain(session: AsyncSession, address: str) -> int | None:
    return await session.scalar(
        select(OrganisationDomain.organisation_id).where(
            OrganisationDomain.domain == email_domain(address)
        )
    )


async def _add_identities(
    session: AsyncSession, contact: Contact, identities: list[Identity], *, strict: bool
) -> list[Identity]:
    """Attach identities not yet known. Ones owned by another contact raise Conflict if strict,
    else are skipped. Returns the identities added."""
    if not identities:
        return []
    owned = {
        (i.kind, i.value): i.contact_id
        for i in (
            await session.execute(
                select(ContactIdentity).where(
                    or_(
                        *[
                            (ContactIdentity.kind == i.kind) & (ContactIdentity.value == i.value)
                            for i in identities
                        ]
                    )
                )
            )
        ).scalars()
    }
    has_primary = (
        {
            kind
            for (kind,) in (
                await session.execute(
                    select(ContactIdentity.kind).where(
                        ContactIdentity.contact_id == contact.id,
                        ContactIdentity.is_primary.is_(True),
                    )
                )
            ).all()
        }
        if contact.id
        else set()
    )
    added = []
    for ident in identities:
        owner = owned.get((ident.kind, ident.value))
        if owner == contact.id:
            continue
        if owner is not None:
            if strict:
                raise Conflict(f"{ident.kind} {ident.value} belongs to contact {owner}")
            continue
        primary = ident.kind not in has_primary
        has_primary.add(ident.kind)
        session.add(
            ContactIdentity(
                contact_id=contact.id, kind=ident.kind, value=ident.value, is_primary=primary
            )
        )
        added.append(ident)
    return added


@dataclass(frozen=True)
class SenderIn:
    """Who wrote a message, as a channel knows them: normalised identities, most trusted first."""

    identities: tuple[Identity, ...]
    name: str | None = None
    language: str | None = None
    time_zone: str | None = None


@dataclass(frozen=True)
class Resolved:
    contact_id: int
    organisation_id: int | None
    created: bool


class _Groups:
    """Union-find over identities: new senders in one batch who share an identity are one
    new contact."""

    def __init__(self) -> None:
        self.parent: dict[int, int] = {}
        self.of_identity: dict[tuple[str, str], int] = {}

    def find(self, g: int) -> int:
        while self.parent[g] != g:
            self.parent[g] = self.parent[self.parent[g]]
            g = self.parent[g]
        return g

    def add(self, sender_index: int, identities: tuple[Identity, ...]) -> None:
        self.parent[sender_index] = sender_index
        for ident in identities:
            key = (ident.kind, ident.value)
            other = self.of_identity.get(key)
            if other is None:
                self.of_identity[key] = sender_index
            else:
                self.parent[self.find(sender_index)] = self.find(other)


async def _live_contacts(session: AsyncSession, ids: set[int]) -> dict[int, Any]:
    """Contact rows by id, each merged contact replaced by the one it was merged into."""
    rows: dict[int, Any] = {}
    wanted = set(ids)
    for _ in range(10):
        if not wanted:
            break
        found = (
            await (await session.connection()).execute(
                select(
                    Contact.id, Contact.name, Contact.organisation_id, Contact.merged_into_id
                ).where(Contact.id.in_(wanted))
            )
        ).all()
        rows.update({r.id: r for r in found})
        wanted = {
            r.merged_into_id for r in found if r.merged_into_id and r.merged_into_id not in rows
        }
    live: dict[int, Any] = {}
    for cid in ids:
        row, hops = rows.get(cid), 0
        while row is not None and row.merged_into_id is not None and hops < 10:
            row, hops = rows.get(row.merged_into_id), hops + 1
        if row is not None:
            live[cid] = row
    return live


async def resolve_contacts(
    session: AsyncSession, senders: Sequence[SenderIn], *, at: datetime | None = None
) -> list[Resolved]:
    """The contact of each sender, creating contacts for senders nobody knows — in a bounded
    number of statements whatever the number of senders.

    The first known identity of a sender wins (callers list them in order of trust);
    identities not yet known are added to the contact found; new senders that share an
    identity become one contact; a new contact writing from an organisation's email domain
    joins the organisation.
    """
    now = at or utcnow()
    if not senders:
        return []
    for s in senders:
        if not s.identities:
            raise Invalid("contact", "give an email, a phone number or a handle")
    keys = sorted({(i.kind, i.value) for s in senders for i in s.identities})
    # Concurrent first messages from one person must not create two contacts.
    await lock_keys(session, [f"identity:{k}:{v}" for k, v in keys])
    owner: dict[tuple[str, str], int] = {}
    rows_by_id: dict[int, Any] = {}
    conn = await session.connection()
    for chunk_start in range(0, len(keys), 500):
        chunk = keys[chunk_start : chunk_start + 500]
        by_kind: dict[str, list[str]] = {}
        for kind, value in chunk:
            by_kind.setdefault(kind, []).append(value)
        # The identities and their contacts in one statement.
        rows = await conn.execute(
            select(
                ContactIdentity.kind,
                ContactIdentity.value,
                Contact.id,
                Contact.name,
                Contact.organisation_id,
                Contact.merged_into_id,
            )
            .join(Contact, Contact.id == ContactIdentity.contact_id)
            .where(
                or_(
                    *[
                        (ContactIdentity.kind == kind) & ContactIdentity.value.in_(values)
                        for kind, values in by_kind.items()
                    ]
                )
            )
        )
        for row in rows.all():
            owner[(row.kind, row.value)] = row.id
            rows_by_id[row.id] = row
    # A merge moves identities to the surviving contact, so merged contacts show up here only
    # if something went half-way; follow them anyway.
    merged = {cid for cid, row in rows_by_id.items() if row.merged_into_id is not None}
    live = {cid: row for cid, row in rows_by_id.items() if cid not in merged}
    if merged:
        live.update(await _live_contacts(session, merged))

    found: dict[int, Any] = {}  # sender index → live contact row
    groups = _Groups()
    for n, s in enumerate(senders):
        for ident in s.identities:
            cid = owner.get((ident.kind, ident.value))
            if cid is not None and cid in live:
                found[n] = live[cid]
                break
        else:
            groups.add(n, s.identities)

    # New contacts, one per group of senders sharing an identity.
    roots = sorted({groups.find(n) for n in range(len(senders)) if n not in found})
    new_ids: dict[int, int] = {}
    new_orgs: dict[int, int | None] = {}
    if roots:
        members: dict[int, list[int]] = {}
        for n in range(len(senders)):
            if n not in found:
                members.setdefault(groups.find(n), []).append(n)
        domains = {
            email_domain(i.value)
            for r in roots
            for n in members[r]
            for i in senders[n].identities
            if i.kind == "email"
        }
        org_of_domain: dict[str, int] = {}
        if domains:
            org_of_domain = dict(
                (
                    await (await session.connection()).execute(
                        select(OrganisationDomain.domain, OrganisationDomain.organisation_id).where(
                            OrganisationDomain.domain.in_(domains)
                        )
                    )
                ).all()
            )
        values = []
        for r in roots:
            first = senders[members[r][0]]
            org = next(
                (
                    org_of_domain[email_domain(i.value)]
                    for n in members[r]
                    for i in senders[n].identities
                    if i.kind == "email" and email_domain(i.value) in org_of_domain
                ),
                None,
            )
            new_orgs[r] = org
            values.append(
                {
                    "name": next(
                        (clean_name(senders[n].name) for n in members[r] if senders[n].name), None
                    ),
                    "organisation_id": org,
                    "language": clean_language(first.language),
                    "time_zone": clean_time_zone(first.time_zone),
                    "birthday": None,
                    "custom": {},
                    "merged_into_id": None,
                    "created_at": now,
                    "updated_at": now,
                }
            )
        ids = (
            (
                await (await session.connection()).execute(
                    insert(Contact).returning(Contact.id, sort_by_parameter_order=True), values
                )
            )
            .scalars()
            .all()
        )
        new_ids = dict(zip(roots, ids, strict=True))

    # Identities to add: every identity of a new contact; unknown ones of a known contact.
    kinds_of: dict[int, set[str]] = {}
    extra_for_known = {
        found[n].id
        for n, s in enumerate(senders)
        if n in found and any((i.kind, i.value) not in owner for i in s.identities)
    }
    if extra_for_known:
        for cid, kind in (
            await (await session.connection()).execute(
                select(ContactIdentity.contact_id, ContactIdentity.kind).where(
                    ContactIdentity.contact_id.in_(extra_for_known)
                )
            )
        ).all():
            kinds_of.setdefault(cid, set()).add(kind)
    rows_to_add: list[dict[str, Any]] = []
    taken: set[tuple[str, str]] = set(owner)
    for n, s in enumerate(senders):
        cid = found[n].id if n in found else new_ids[groups.find(n)]
        kinds = kinds_of.setdefault(cid, set())
        for ident in s.identities:
            key = (ident.kind, ident.value)
            if key in taken:
                continue
            taken.add(key)
            rows_to_add.append(
                {
                    "contact_id": cid,
                    "kind": ident.kind,
                    "value": ident.value,
                    "is_primary": ident.kind not in kinds,
                    "bouncing": False,
                    "created_at": now,
                }
            )
            kinds.add(ident.kind)
    if rows_to_add:
        await (await session.connection()).execute(insert(ContactIdentity), rows_to_add)

    # A known contact without a name takes the one the sender gives.
    named = {
        found[n].id: clean_name(s.name)
        for n, s in enumerate(senders)
        if n in found and not found[n].name and s.name
    }
    for cid, name in named.items():
        await (await session.connection()).execute(
            update(Contact).where(Contact.id == cid).values(name=name)
        )

    for r in roots:
        facts.record(
            session,
            "contact.created",
            contact_id=new_ids[r],
            at=now,
            data={"organisation_id": new_orgs[r], "via": "inbound"},
        )
    out = []
    for n in range(len(senders)):
        if n in found:
            out.append(Resolved(found[n].id, found[n].organisation_id, False))
        else:
            r = groups.find(n)
            out.append(Resolved(new_ids[r], new_orgs[r], True))
    return out


async def create_contact(
    session: AsyncSession, actor: Actor, data: ContactIn, *, at: datetime | None = None
) -> ContactView:
    actor.require(Scope.contacts_write)
    now = at or utcnow()
    identities = _identities_of(data.emails, data.phones, data.handles)
    if data.organisation_id is not None:
        await get_organisation_row(session, data.organisation_id)
    contact = Contact(
        name=clean_name(data.name),
        organisation_id=data.organisation_id,
        language=clean_language(data.language),
        time_zone=clean_time_zone(data.time_zone),
        birthday=data.birthday,
        custom=clean_custom(data.custom),
        created_at=now,
        updated_at=now,
    )
    if contact.organisation_id is None:
        for ident in identities:
            if ident.kind == "email":
                contact.organisation_id = await _organisation_for_domain(session, ident.value)
                if contact.organisation_id:
                    break
    session.add(contact)
    await session.flush()
    await _add_identities(session, contact, identities, strict=True)
    await session.flush()
    facts.record(
        session,
        "contact.created",
        contact_id=contact.id,
        agent_id=actor.user_id,
        at=now,
        data={"organisation_id": contact.organisation_id, "via": "manual"},
    )
    return (await _load_views(session, [contact]))[0]


CONTACT_FIELDS = {
    "name",
    "emails",
    "phones",
    "handles",
    "organisation_id",
    "language",
    "time_zone",
    "birthday",
    "custom",
}


async def update_contact(
    session: AsyncSession, actor: Actor, contact_id: int, changes: Mapping[str, Any]
) -> ContactView:
    """Apply the given fields; identity lists replace the contact's identities of that kind."""
    actor.require(Scope.contacts_write)
    unknown = set(changes) - CONTACT_FIELDS
    if unknown:
        raise Invalid(sorted(unknown)[0], "not a contact field")
    contact = await session.get(Contact, contact_id)
    if contact is None or contact.merged_into_id is not None:
        raise NotFound(f"contact {contact_id} does not exist")
    changed: list[str] = []
    if "name" in changes:
        contact.name = clean_name(changes["name"])
        changed.append("name")
    if "organisation_id" in changes:
        if changes["organisation_id"] is not None:
            await get_organisation_row(session, changes["organisation_id"])
        contact.organisation_id = changes["organisation_id"]
        changed.append("organisation_id")
    if "language" in changes:
        contact.language = clean_language(changes["language"])
        changed.append("language")
    if "time_zone" in changes:
        contact.time_zone = clean_time_zone(changes["time_zone"])
        changed.append("time_zone")
    if "birthday" in changes:
        contact.birthday = changes["birthday"]
        changed.append("birthday")
    if "custom" in changes:
        contact.custom = clean_custom(changes["custom"])
        changed.append("custom")
    for kind, key in (("email", "emails"), ("phone", "phones"), ("handle", "handles")):
        if key not in changes:
            continue
        wanted = _identities_of(
            changes[key] if kind == "email" else [],
            changes[key] if kind == "phone" else [],
            changes[key] if kind == "handle" else [],
        )
        keep = {i.value for i in wanted}
        await session.execute(
            delete(ContactIdentity).where(
                ContactIdentity.contact_id == contact.id,
                ContactIdentity.kind == kind,
                ContactIdentity.value.not_in(keep) if keep else true(),
            )
        )
        await _add_identities(session, contact, wanted, strict=True)
        await session.flush()
        # The first listed identity is the primary one.
        if wanted:
            await session.execute(
                update(ContactIdentity)
                .where(ContactIdentity.contact_id == contact.id, ContactIdentity.kind == kind)
                .values(is_primary=ContactIdentity.value == wanted[0].value)
            )
        changed.append(key)
    contact.updated_at = utcnow()
    await session.flush()
    facts.record(
        session,
        "contact.updated",
        contact_id=contact.id,
        agent_id=actor.user_id,
        data={"fields": changed},
    )
    session.expire_all()
    contact = await session.get(Contact, contact_id)
    assert contact is not None
    return (await _load_views(session, [contact]))[0]


async def delete_contact(session: AsyncSession, actor: Actor, contact_id: int) -> None:
    """Delete a contact that has no conversation history (otherwise merge it instead)."""
    actor.require(Scope.contacts_write)
    contact = await session.get(Contact, contact_id)
    if contact is None:
        raise NotFound(f"contact {contact_id} does not exist")
    history = await session.scalar(
        select(exists().where(Activity.contact_id == contact_id, Activity.ticket_id.is_not(None)))
    )
    if history:
        raise Conflict("the contact has tickets; merge it into another contact instead")
    await session.execute(delete(ContactIdentity).where(ContactIdentity.contact_id == contact_id))
    await session.execute(delete(ContactNote).where(ContactNote.contact_id == contact_id))
    await session.delete(contact)
    await session.flush()
    facts.record(
        session, "contact.deleted", agent_id=actor.user_id, data={"contact_id": contact_id}
    )


async def list_contacts(
    session: AsyncSession,
    actor: Actor,
    *,
    q: str | None = None,
    organisation_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[ContactView]:
    """Contacts, newest first; `q` matches a name or any identity (prefix of an address)."""
    actor.require(Scope.contacts_read)
    limit = clamp_limit(limit)
    stmt = select(Contact).where(Contact.merged_into_id.is_(None))
    if organisation_id is not None:
        stmt = stmt.where(Contact.organisation_id == organisation_id)
    if q:
        needle = q.strip().lower()
        by_identity = select(ContactIdentity.contact_id).where(
            ContactIdentity.value.startswith(needle, autoescape=True)
        )
        stmt = stmt.where(
            or_(
                func.lower(Contact.name).contains(needle, autoescape=True),
                Contact.id.in_(by_identity),
            )
        )
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        stmt = stmt.where(Contact.id < int(last_id))
    rows = list(
        (await session.execute(stmt.order_by(Contact.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        await _load_views(session, rows),
        encode_cursor([rows[-1].id]) if more and rows else None,
    )


async def merge_contacts(
    session: AsyncSession, actor: Actor, *, source_id: int, target_id: int
) -> ContactView:
    """Fold `source` into `target`: identities, notes, tickets and history move; the source
    stays as a pointer to the target so old references still resolve."""
    actor.require(Scope.contacts_write)
    if source_id == target_id:
        raise Invalid("source_id", "a contact cannot be merged into itself")
    source = await session.get(Contact, source_id)
    target = await session.get(Contact, target_id)
    if source is None:
        raise NotFound(f"contact {source_id} does not exist")
    if target is None:
        raise NotFound(f"contact {target_id} does not exist")
    if source.merged_into_id is not None:
        raise Conflict(f"contact {source_id} was already merged into {source.merged_into_id}")
    if target.merged_into_id is not None:
        raise Conflict(f"contact {target_id} was merged into {target.merged_into_id}")
    target_kinds_with_primary = set(
        (
            await session.execute(
                select(ContactIdentity.kind).where(
                    ContactIdentity.contact_id == target_id, ContactIdentity.is_primary.is_(True)
                )
            )
        ).scalars()
    )
    await session.execute(
        update(ContactIdentity)
        .where(
            ContactIdentity.contact_id == source_id,
            ContactIdentity.kind.in_(target_kinds_with_primary)
            if target_kinds_with_primary
            else false(),
        )
        .values(is_primary=False)
    )
    await session.execute(
        update(ContactIdentity)
        .where(ContactIdentity.contact_id == source_id)
        .values(contact_id=target_id)
    )
    await session.execute(
        update(ContactNote).where(ContactNote.contact_id == source_id).values(contact_id=target_id)
    )
    for mover in contact_merge_movers:
        await mover(session, source_id, target_id)
    await facts.reattribute_contact(session, source_id, target_id)
    target.name = target.name or source.name
    target.organisation_id = target.organisation_id or source.organisation_id
    target.language = target.language or source.language
    target.time_zone = target.time_zone or source.time_zone
    target.birthday = target.birthday or source.birthday
    target.custom = {**(source.custom or {}), **(target.custom or {})}
    target.updated_at = utcnow()
    source.merged_into_id = target_id
    source.updated_at = utcnow()
    await session.flush()
    facts.record(
        session,
        "contact.merged",
        contact_id=target_id,
        agent_id=actor.user_id,
        data={"source_id": source_id, "target_id": target_id},
    )
    session.expire_all()
    merged = await session.get(Contact, target_id)
    assert merged is not None
    return (await _load_views(session, [merged]))[0]


# --- notes ------------------------------------------------------------------------------------


async def add_note(
    session: AsyncSession, actor: Actor, contact_id: int, body: str, *, at: datetime | None = None
) -> ContactNote:
    actor.require(Scope.contacts_write)
    contact = await _live_contact(session, contact_id)
    text = body  # kept exactly as written, whitespace and all
    if not text:
        raise Invalid("body", "must not be empty")
    if len(text) > 20_000:
        raise Invalid("body", "at most 20000 characters")
    note = ContactNote(
        contact_id=contact.id, author_id=actor.user_id, body=text, created_at=at or utcnow()
    )
    session.add(note)
    await session.flush()
    facts.record(
        session,
        "contact.note_added",
        contact_id=contact.id,
        agent_id=actor.user_id,
        at=note.created_at,
        data={"note_id": note.id},
    )
    return note


async def list_notes(session: AsyncSession, actor: Actor, contact_id: int) -> list[ContactNote]:
    actor.require(Scope.contacts_read)
    rows = await session.execute(
        select(ContactNote)
        .where(ContactNote.contact_id == contact_id)
        .order_by(ContactNote.created_at.desc(), ContactNote.id.desc())
    )
    return list(rows.scalars())


async def contact_timeline(
    session: AsyncSession,
    actor: Actor,
    contact_id: int,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Activity]:
    """Everything that happened with this contact, newest first."""
    actor.require(Scope.contacts_read)
    await get_contact(session, actor, contact_id)
    return await facts.list_facts(
        session,
        facts.FactFilter(contact_id=contact_id),
        before_id=before_id,
        limit=clamp_limit(limit),
        newest_first=True,
    )


async def get_organisation_row(session: AsyncSession, organisation_id: int) -> Organisation:
    org = await session.get(Organisation, organisation_id)
    if org is None:
        raise NotFound(f"organisation {organisation_id} does not exist")
    return org


def contact_local_time(contact: Contact, now: datetime | None = None) -> datetime | None:
    if not contact.time_zone:
        return None
    return (now or utcnow()).astimezone(ZoneInfo(contact.time_zone))


async def set_email_bouncing(
    session: AsyncSession, address: str, *, bouncing: bool, reason: str | None = None
) -> int | None:
    """Mark (or clear) an email address as bouncing (a channel saw mail to it fail for good);
    returns its contact's id, or None when no contact has that address."""
    try:
        value = normalise("email", address)
    except Invalid:
        return None
    identity = await session.scalar(
        select(ContactIdentity).where(
            ContactIdentity.kind == "email", ContactIdentity.value == value
        )
    )
    if identity is None:
        return None
    if identity.bouncing != bouncing:
        identity.bouncing = bouncing
        facts.record(
            session,
            "contact.updated",
            contact_id=identity.contact_id,
            data={"fields": ["bouncing"], "email": value, "bouncing": bouncing, "reason": reason},
        )
    return identity.contact_id
