"""API shapes of the CRM."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, Field

from madad.api_types import SafeStr, Strict
from madad.contacts.models import ContactNote
from madad.contacts.service import ContactView, OrganisationView


class OrganisationBrief(BaseModel):
    id: int
    name: str
    plan: str | None
    seats: int | None
    status: str


class ContactOut(BaseModel):
    id: int
    name: str | None
    emails: list[str]
    phones: list[str]
    handles: list[str]
    bouncing_emails: list[str] = []
    organisation_id: int | None
    organisation: OrganisationBrief | None
    language: str | None
    time_zone: str | None
    birthday: date | None
    custom: dict[str, Any]
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: ContactView) -> ContactOut:
        c, o = v.contact, v.organisation
        return cls(
            id=c.id,
            name=c.name,
            emails=v.values("email"),
            phones=v.values("phone"),
            handles=v.values("handle"),
            bouncing_emails=[i.value for i in v.identities if i.kind == "email" and i.bouncing],
            organisation_id=c.organisation_id,
            organisation=OrganisationBrief(
                id=o.id, name=o.name, plan=o.plan, seats=o.seats, status=o.status
            )
            if o
            else None,
            language=c.language,
            time_zone=c.time_zone,
            birthday=c.birthday,
            custom=c.custom or {},
            merged_into_id=c.merged_into_id,
            created_at=c.created_at,
            updated_at=c.updated_at,
        )


class ContactPage(BaseModel):
    items: list[ContactOut]
    next_cursor: str | None = None


class ContactCreate(Strict):
    name: SafeStr | None = Field(default=None, max_length=200)
    emails: list[SafeStr] = Field(default_factory=list, max_length=20)
    phones: list[SafeStr] = Field(default_factory=list, max_length=20)
    handles: list[SafeStr] = Field(default_factory=list, max_length=20)
    organisation_id: int | None = None
    language: str | None = Field(default=None, max_length=16)
    time_zone: str | None = Field(default=None, max_length=64)
    birthday: date | None = None
    custom: dict[str, Any] = Field(default_factory=dict)


class ContactPatch(Strict):
    name: SafeStr | None = Field(default=None, max_length=200)
    emails: list[SafeStr] | None = Field(default=None, max_length=20)
    phones: list[SafeStr] | None = Field(default=None, max_length=20)
    handles: list[SafeStr] | None = Field(default=None, max_length=20)
    organisation_id: int | None = None
    language: str | None = Field(default=None, max_length=16)
    time_zone: str | None = Field(default=None, max_length=64)
    birthday: date | None = None
    custom: dict[str, Any] | None = None


class MergeIn(Strict):
    into: int = Field(description="the record that absorbs this one")


class NoteIn(Strict):
    body: SafeStr = Field(min_length=1, max_length=20_000)


class NoteOut(BaseModel):
    id: int
    contact_id: int
    author_id: int | None
    body: str
    created_at: datetime

    @classmethod
    def of(cls, n: ContactNote) -> NoteOut:
        return cls(
            id=n.id,
            contact_id=n.contact_id,
            author_id=n.author_id,
            body=n.body,
            created_at=n.created_at,
        )


class OrganisationOut(BaseModel):
    id: int
    name: str
    plan: str | None
    seats: int | None
    status: str
    customer_since: datetime | None
    churned_at: datetime | None
    domains: list[str]
    custom: dict[str, Any]
    notes: str | None
    contact_count: int
    merged_into_id: int | None
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, v: OrganisationView) -> OrganisationOut:
        o = v.organisation
        return cls(
            id=o.id,
            name=o.name,
            plan=o.plan,
            seats=o.seats,
            status=o.status,
            customer_since=o.customer_since,
            churned_at=o.churned_at,
            domains=v.domains,
            custom=o.custom or {},
            notes=o.notes,
            contact_count=v.contact_count,
            merged_into_id=o.merged_into_id,
            created_at=o.created_at,
            updated_at=o.updated_at,
        )


class OrganisationPage(BaseModel):
    items: list[OrganisationOut]
    next_cursor: str | None = None


class OrganisationCreate(Strict):
    name: SafeStr = Field(min_length=1, max_length=200)
    plan: SafeStr | None = Field(default=None, max_length=64)
    seats: int | None = Field(default=None, ge=0)
    status: str = Field(default="active", pattern="^(active|churned)$")
    customer_since: datetime | None = None
    churned_at: datetime | None = None
    domains: list[str] = Field(default_factory=list, max_length=50)
    custom: dict[str, Any] = Field(default_factory=dict)
    notes: SafeStr | None = Field(default=None, max_length=20_000)


class OrganisationPatch(Strict):
    name: SafeStr | None = Field(default=None, min_length=1, max_length=200)
    plan: SafeStr | None = Field(default=None, max_length=64)
    seats: int | None = Field(default=None, ge=0)
    status: str | None = Field(default=None, pattern="^(active|churned)$")
    customer_since: datetime | None = None
    churned_at: datetime | None = None
    domains: list[str] | None = Field(default=None, max_length=50)
    custom: dict[str, Any] | None = None
    notes: SafeStr | None = Field(default=None, max_length=20_000)
