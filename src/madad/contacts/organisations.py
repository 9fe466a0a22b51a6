"""Operations on organisations: create, edit, churn and reactivate, merge, timeline.

With `service.py`, the only writer of the CRM tables. Facts: organisation.created/updated/
churned/reactivated/merged/deleted.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from madad.activity import service as facts
from madad.activity.models import Activity
from madad.auth.permissions import Actor, Scope
from madad.contacts.models import Contact, Organisation, OrganisationDomain
from madad.contacts.service import (
    OrganisationView,
    clean_custom,
    clean_name,
    get_organisation_row,
    organisation_merge_movers,
)
from madad.db import utcnow
from madad.errors import Conflict, Invalid
from madad.pagination import Page, clamp_limit, decode_cursor, encode_cursor

_DOMAIN = re.compile(r"^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$")

ORG_STATUSES = ("active", "churned")
ORG_FIELDS = {
    "name",
    "plan",
    "seats",
    "status",
    "customer_since",
    "churned_at",
    "domains",
    "custom",
    "notes",
}


def _clean_domains(domains: Iterable[str]) -> list[str]:
    out = []
    for i, raw in enumerate(domains):
        d = raw.strip().lower().removeprefix("@")
        if not _DOMAIN.match(d):
            raise Invalid(f"domains[{i}]", f"{raw!r} is not a domain name")
        if d not in out:
            out.append(d)
    return out


async def _org_views(session: AsyncSession, orgs: list[Organisation]) -> list[OrganisationView]:
    ids = [o.id for o in orgs]
    domains: dict[int, list[str]] = {}
    counts: dict[int, int] = {}
    if ids:
        for d in (
            await session.execute(
                select(OrganisationDomain)
                .where(OrganisationDomain.organisation_id.in_(ids))
                .order_by(OrganisationDomain.domain)
            )
        ).scalars():
            domains.setdefault(d.organisation_id, []).append(d.domain)
        counts = dict(
            (
                await session.execute(
                    select(Contact.organisation_id, func.count())
                    .where(Contact.organisation_id.in_(ids), Contact.merged_into_id.is_(None))
                    .group_by(Contact.organisation_id)
                )
            ).all()
        )
    return [OrganisationView(o, domains.get(o.id, []), counts.get(o.id, 0)) for o in orgs]


async def get_organisation(
    session: AsyncSession, actor: Actor, organisation_id: int
) -> OrganisationView:
    actor.require(Scope.contacts_read)
    return (await _org_views(session, [await get_organisation_row(session, organisation_id)]))[0]


async def _set_domains(session: AsyncSession, org: Organisation, domains: list[str]) -> None:
    if domains:
        taken = (
            (
                await session.execute(
                    select(OrganisationDomain).where(
                        OrganisationDomain.domain.in_(domains),
                        OrganisationDomain.organisation_id != org.id,
                    )
                )
            )
            .scalars()
            .first()
        )
        if taken is not None:
            raise Conflict(f"{taken.domain} belongs to organisation {taken.organisation_id}")
    await session.execute(
        delete(OrganisationDomain).where(OrganisationDomain.organisation_id == org.id)
    )
    session.add_all([OrganisationDomain(domain=d, organisation_id=org.id) for d in domains])


def _check_status(status: str) -> str:
    if status not in ORG_STATUSES:
        raise Invalid("status", f"one of {', '.join(ORG_STATUSES)}")
    return status


def _check_seats(seats: Any) -> int | None:
    if seats is not None and (not isinstance(seats, int) or seats < 0):
        raise Invalid("seats", "a whole number ≥ 0")
    return seats


async def create_organisation(
    session: AsyncSession, actor: Actor, values: Mapping[str, Any], *, at: datetime | None = None
) -> OrganisationView:
    actor.require(Scope.contacts_write)
    unknown = set(values) - ORG_FIELDS
    if unknown:
        raise Invalid(sorted(unknown)[0], "not an organisation field")
    name = clean_name(values.get("name"))
    if not name or not name.strip():
        raise Invalid("name", "must not be empty")
    now = at or utcnow()
    status = _check_status(values.get("status") or "active")
    org = Organisation(
        name=name,
        plan=values.get("plan"),
        seats=_check_seats(values.get("seats")),
        status=status,
        customer_since=values.get("customer_since") or now,
        churned_at=values.get("churned_at") or (now if status == "churned" else None),
        custom=clean_custom(values.get("custom")),
        notes=values.get("notes"),
        created_at=now,
        updated_at=now,
    )
    session.add(org)
    await session.flush()
    await _set_domains(session, org, _clean_domains(values.get("domains") or []))
    await session.flush()
    facts.record(
        session,
        "organisation.created",
        agent_id=actor.user_id,
        at=now,
        data={
            "organisation_id": org.id,
            "status": org.status,
            "plan": org.plan,
            "customer_since": org.customer_since.isoformat() if org.customer_since else None,
        },
    )
    return (await _org_views(session, [org]))[0]


async def update_organisation(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    changes: Mapping[str, Any],
    *,
    at: datetime | None = None,
) -> OrganisationView:
    actor.require(Scope.contacts_write)
    unknown = set(changes) - ORG_FIELDS
    if unknown:
        raise Invalid(sorted(unknown)[0], "not an organisation field")
    org = await get_organisation_row(session, organisation_id)
    if org.merged_into_id is not None:
        raise Conflict(f"organisation {organisation_id} was merged into {org.merged_into_id}")
    old_status = org.status
    if "name" in changes:
        name = clean_name(changes["name"])
        if not name or not name.strip():
            raise Invalid("name", "must not be empty")
        org.name = name
    if "plan" in changes:
        org.plan = changes["plan"]
    if "seats" in changes:
        org.seats = _check_seats(changes["seats"])
    if "customer_since" in changes:
        org.customer_since = changes["customer_since"]
    if "notes" in changes:
        org.notes = changes["notes"]
    if "custom" in changes:
        org.custom = clean_custom(changes["custom"])
    if "domains" in changes:
        await _set_domains(session, org, _clean_domains(changes["domains"] or []))
    if "status" in changes:
        org.status = _check_status(changes["status"])
    if "churned_at" in changes:
        org.churned_at = changes["churned_at"]
    now = at or utcnow()
    if org.status == "churned" and old_status != "churned":
        org.churned_at = changes.get("churned_at") or now
        facts.record(
            session,
            "organisation.churned",
            agent_id=actor.user_id,
            at=now,
            data={"organisation_id": org.id, "at": org.churned_at.isoformat()},
        )
    elif org.status == "active" and old_status == "churned":
        org.churned_at = None
        facts.record(
            session,
            "organisation.reactivated",
            agent_id=actor.user_id,
            at=now,
            data={"organisation_id": org.id},
        )
    org.updated_at = now
    await session.flush()
    facts.record(
        session,
        "organisation.updated",
        agent_id=actor.user_id,
        at=now,
        data={"organisation_id": org.id, "fields": sorted(changes)},
    )
    return (await _org_views(session, [org]))[0]


async def list_organisations(
    session: AsyncSession,
    actor: Actor,
    *,
    q: str | None = None,
    status: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Page[OrganisationView]:
    actor.require(Scope.contacts_read)
    limit = clamp_limit(limit)
    stmt = select(Organisation).where(Organisation.merged_into_id.is_(None))
    if q:
        stmt = stmt.where(
            func.lower(Organisation.name).contains(q.strip().lower(), autoescape=True)
        )
    if status:
        stmt = stmt.where(Organisation.status == _check_status(status))
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        stmt = stmt.where(Organisation.id < int(last_id))
    rows = list(
        (await session.execute(stmt.order_by(Organisation.id.desc()).limit(limit + 1))).scalars()
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return Page(
        await _org_views(session, rows), encode_cursor([rows[-1].id]) if more and rows else None
    )


async def delete_organisation(session: AsyncSession, actor: Actor, organisation_id: int) -> None:
    """Delete an organisation nobody belongs to (otherwise merge it instead)."""
    actor.require(Scope.contacts_write)
    org = await get_organisation_row(session, organisation_id)
    members = await session.scalar(
        select(func.count()).where(Contact.organisation_id == organisation_id)
    )
    if members:
        raise Conflict("the organisation has contacts; move them or merge the organisation")
    await session.execute(
        delete(OrganisationDomain).where(OrganisationDomain.organisation_id == organisation_id)
    )
    await session.delete(org)
    try:
        await session.flush()
    except Exception as exc:  # tickets still point at it
        raise Conflict("the organisation still has tickets; merge it instead") from exc
    facts.record(
        session,
        "organisation.deleted",
        agent_id=actor.user_id,
        data={"organisation_id": organisation_id},
    )


async def merge_organisations(
    session: AsyncSession, actor: Actor, *, source_id: int, target_id: int
) -> OrganisationView:
    actor.require(Scope.contacts_write)
    if source_id == target_id:
        raise Invalid("source_id", "an organisation cannot be merged into itself")
    source = await get_organisation_row(session, source_id)
    target = await get_organisation_row(session, target_id)
    for org in (source, target):
        if org.merged_into_id is not None:
            raise Conflict(f"organisation {org.id} was already merged into {org.merged_into_id}")
    await session.execute(
        update(Contact)
        .where(Contact.organisation_id == source_id)
        .values(organisation_id=target_id)
    )
    await session.execute(
        update(OrganisationDomain)
        .where(OrganisationDomain.organisation_id == source_id)
        .values(organisation_id=target_id)
    )
    for mover in organisation_merge_movers:
        await mover(session, source_id, target_id)
    target.plan = target.plan or source.plan
    target.seats = target.seats if target.seats is not None else source.seats
    if source.customer_since and (
        target.customer_since is None or source.customer_since < target.customer_since
    ):
        target.customer_since = source.customer_since
    target.custom = {**(source.custom or {}), **(target.custom or {})}
    source.merged_into_id = target_id
    now = utcnow()
    source.updated_at = target.updated_at = now
    await session.flush()
    facts.record(
        session,
        "organisation.merged",
        agent_id=actor.user_id,
        data={"source_id": source_id, "target_id": target_id},
    )
    return (await _org_views(session, [target]))[0]


async def organisation_timeline(
    session: AsyncSession,
    actor: Actor,
    organisation_id: int,
    *,
    before_id: int | None = None,
    limit: int = 50,
) -> list[Activity]:
    """What happened with any of the organisation's contacts, newest first."""
    actor.require(Scope.contacts_read)
    await get_organisation_row(session, organisation_id)
    members = select(Contact.id).where(Contact.organisation_id == organisation_id)
    stmt = select(Activity).where(Activity.contact_id.in_(members))
    if before_id is not None:
        stmt = stmt.where(Activity.id < before_id)
    stmt = stmt.order_by(Activity.id.desc()).limit(clamp_limit(limit, maximum=1001))
    return list((await session.execute(stmt)).scalars())
