"""Asking and answering: CSAT after a solved ticket (one per ticket, a quiet period per contact),
NPS to a sample of contacts (nobody more than once per interval), the agents' anonymous pulse,
and a supervisor's follow-up on a low score. Every send, open and answer is a fact.

A survey is answered by a POST from its page — never by the GET of a link, which mail scanners
and link previews fetch on their own.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.activity import service as facts
from madad.auth.permissions import Actor, Scope
from madad.config import Settings
from madad.contacts.models import Contact
from madad.db import settings_of, utcnow
from madad.dialects import insert_ignoring_conflicts
from madad.errors import Conflict, Invalid, NotFound
from madad.surveys import tokens
from madad.surveys.models import PulseTaken, Survey
from madad.tickets import changes
from madad.tickets import service as tickets
from madad.tickets.models import Ticket

SOLVED = ("solved", "closed")
SCALES = {"csat": (1, 5), "nps": (0, 10), "ces": (1, 7), "pulse": (1, 5)}
CSAT_JOB, DELIVER_JOB = "surveys.csat", "surveys.deliver"
MAX_COMMENT = 5000


def link_of(settings: Settings, survey: Survey) -> str:
    """The survey's page (absolute when a base URL is configured)."""
    token = tokens.make(settings.resolved_secret_key(), survey.id, survey.nonce)
    return f"{(settings.base_url or '').rstrip('/')}/survey/{token}"


def sampled(contact_id: int, period: int, share: float) -> bool:
    """Whether a contact is in the NPS sample of a period: a stable hash below `share`, so the
    same contact is in or out for the whole period, whichever worker asks."""
    digest = hashlib.sha256(f"nps:{period}:{contact_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64 < share


def period_of(at: datetime, days: int) -> int:
    """The index of the `days`-long period `at` falls in."""
    return int(at.timestamp() // (days * 86400))


def _fact(session: AsyncSession, kind: str, s: Survey, data: dict[str, Any], at: datetime) -> None:
    facts.record(
        session,
        kind,
        ticket_id=s.ticket_id,
        contact_id=s.contact_id,
        agent_id=s.agent_id,
        team_id=s.team_id,
        channel=s.channel,
        data=data,
        at=at,
    )


async def _language(session: AsyncSession, contact_id: int | None) -> str:
    if contact_id is None:
        return "en"
    lang = await session.scalar(select(Contact.language).where(Contact.id == contact_id))
    return "ur" if (lang or "").lower().startswith("ur") else "en"


async def _new(
    session: AsyncSession, settings: Settings, kind: str, at: datetime, **fields: Any
) -> Survey:
    s = Survey(
        kind=kind,
        nonce=secrets.token_urlsafe(12),
        sent_at=at,
        expires_at=at + timedelta(days=settings.survey_expiry_days),
        language=await _language(session, fields.get("contact_id")),
        **fields,
    )
    session.add(s)
    await session.flush()
    _fact(session, "survey.sent", s, {"survey_id": str(s.id), "kind": kind, "via": s.via}, at)
    if s.ask_ces:
        _fact(session, "survey.sent", s, {"survey_id": f"{s.id}-ces", "kind": "ces"}, at)
    return s


async def quiet(session: AsyncSession, contact_id: int, kind: str, since: datetime) -> bool:
    """Whether the contact was sent a survey of this kind since `since`."""
    found = await session.scalar(
        select(Survey.id)
        .where(Survey.contact_id == contact_id, Survey.kind == kind, Survey.sent_at >= since)
        .limit(1)
    )
    return found is not None


async def open_csat(
    session: AsyncSession, ticket_id: int, *, at: datetime | None = None
) -> Survey | None:
    """The CSAT survey of a solved ticket, unless it has one already, is no longer solved, has
    no customer, or the customer was surveyed within the quiet period."""
    return await _open_ticket_csat(session, ticket_id, at=at, via=None, solved_only=True)


async def open_inline_csat(
    session: AsyncSession, ticket_id: int, *, via: str, at: datetime | None = None
) -> Survey | None:
    """The ticket's CSAT survey asked where the conversation happened (`via`: "chat", the
    widget's rating when a chat ends), whether or not the ticket is solved — the same one
    survey per ticket and quiet period per contact as by email; no effort question."""
    return await _open_ticket_csat(session, ticket_id, at=at, via=via, solved_only=False)


async def ticket_csat(session: AsyncSession, ticket_id: int) -> Survey | None:
    """The ticket's one CSAT survey, if it has been asked."""
    return await session.scalar(
        select(Survey).where(Survey.ticket_id == ticket_id, Survey.kind == "csat")
    )


async def _open_ticket_csat(
    session: AsyncSession,
    ticket_id: int,
    *,
    at: datetime | None,
    via: str | None,
    solved_only: bool,
) -> Survey | None:
    settings = settings_of(session)
    now = at or utcnow()
    ticket = await session.get(Ticket, ticket_id)
    if ticket is None or ticket.contact_id is None:
        return None
    if solved_only and ticket.status not in SOLVED:
        return None
    if ticket.merged_into_id is not None:
        return None
    if (
        solved_only
        and ticket.solved_at is not None
        and now - ticket.solved_at > timedelta(days=settings.survey_expiry_days)
    ):
        return None  # a solve long ago (a backlog of jobs, an import): too late to ask
    existing = await session.scalar(
        select(Survey.id).where(Survey.ticket_id == ticket_id, Survey.kind == "csat")
    )
    if existing is not None:
        return None
    since = now - timedelta(days=settings.survey_quiet_days)
    if await quiet(session, ticket.contact_id, "csat", since):
        return None
    return await _new(
        session,
        settings,
        "csat",
        now,
        ticket_id=ticket.id,
        contact_id=ticket.contact_id,
        agent_id=ticket.assignee_id,
        team_id=ticket.team_id,
        channel=ticket.channel,
        via=via or ("email" if ticket.channel == "email" else "link"),
        ask_ces=settings.survey_ces if via is None else False,
    )


async def open_nps(session: AsyncSession, contact_id: int, *, at: datetime | None = None) -> Survey:
    settings = settings_of(session)
    return await _new(session, settings, "nps", at or utcnow(), contact_id=contact_id, via="email")


# --- answering ------------------------------------------------------------------------------------


class LinkProblem(Exception):
    """Why a survey link cannot be used: invalid | expired | closed."""

    def __init__(self, reason: str, survey: Survey | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.survey = survey


async def by_token(session: AsyncSession, token: str, *, lock: bool = False) -> Survey:
    """The survey of a link; LinkProblem("invalid") for a forged, mangled or unknown one."""
    got = tokens.read(settings_of(session).resolved_secret_key(), token)
    if got is None:
        raise LinkProblem("invalid")
    stmt = select(Survey).where(Survey.id == got[0])
    if lock:
        stmt = stmt.with_for_update().execution_options(populate_existing=True)
    survey = await session.scalar(stmt)
    if survey is None or not secrets.compare_digest(survey.nonce, got[1]):
        raise LinkProblem("invalid")
    return survey


@dataclass(frozen=True)
class Standing:
    can_answer: bool
    reason: str | None  # expired | closed
    until: datetime | None  # the answer can be changed until then


def standing(survey: Survey, settings: Settings, now: datetime) -> Standing:
    if survey.answered_at is not None:
        until = survey.answered_at + timedelta(hours=settings.survey_change_hours)
        return Standing(now < until, None if now < until else "closed", until)
    if now >= survey.expires_at:
        return Standing(False, "expired", None)
    return Standing(True, None, None)


async def mark_opened(session: AsyncSession, survey: Survey, *, at: datetime | None = None) -> None:
    """The customer's browser showed the page (a POST from its script, not the link's GET)."""
    if survey.opened_at is None:
        now = at or utcnow()
        survey.opened_at = now
        _fact(session, "survey.opened", survey, {"survey_id": str(survey.id), "kind": survey.kind},
              now)  # fmt: skip


def parse_score(kind: str, value: object, *, required: bool = True) -> float | None:
    low, high = SCALES[kind]
    if value is None or value == "":
        if required:
            raise Invalid("score", f"choose a score from {low} to {high}")
        return None
    try:
        score = int(str(value))
    except ValueError:
        raise Invalid("score", f"a whole number from {low} to {high}") from None
    if not low <= score <= high:
        raise Invalid("score", f"a whole number from {low} to {high}")
    return float(score)


def clean_comment(text: str | None) -> str | None:
    text = (text or "").replace("\x00", "").strip()
    if len(text) > MAX_COMMENT:
        raise Invalid("comment", f"at most {MAX_COMMENT} characters")
    return text or None


async def answer(
    session: AsyncSession,
    survey: Survey,
    *,
    score: object,
    ces_score: object = None,
    comment: str | None = None,
    at: datetime | None = None,
) -> Survey:
    """Store (or, within the change window, replace) the answer; record it as facts."""
    settings = settings_of(session)
    now = at or utcnow()
    state = standing(survey, settings, now)
    if not state.can_answer:
        raise LinkProblem(state.reason or "closed", survey)
    value = parse_score(survey.kind, score)
    ces = parse_score("ces", ces_score, required=False) if survey.ask_ces else None
    text = clean_comment(comment)
    if survey.answered_at is None:
        survey.answered_at = now
    else:
        survey.changed_at = now
    survey.score, survey.ces_score, survey.comment = value, ces, text
    data: dict[str, Any] = {"survey_id": str(survey.id), "kind": survey.kind, "score": value}
    if text:
        data["comment"] = text
    _fact(session, "survey.answered", survey, data, now)
    if ces is not None:
        _fact(session, "survey.answered", survey,
              {"survey_id": f"{survey.id}-ces", "kind": "ces", "score": ces}, now)  # fmt: skip
    return survey


# --- the agents' pulse ----------------------------------------------------------------------------


def pulse_period(at: datetime) -> str:
    year, week, _ = at.isocalendar()
    return f"{year}-W{week:02d}"


async def pulse_taken(session: AsyncSession, user_id: int, period: str) -> bool:
    found = await session.get(PulseTaken, (user_id, period))
    return found is not None


async def submit_pulse(
    session: AsyncSession,
    actor: Actor,
    *,
    satisfaction: object,
    workload: object,
    tools: object,
    comment: str | None,
    at: datetime | None = None,
) -> None:
    """An agent's answer to this week's pulse: who answered is kept (once a week), what they
    answered is recorded without their name."""
    if actor.user_id is None:
        raise Invalid("user", "only a signed-in agent can answer the pulse")
    now = at or utcnow()
    period = pulse_period(now)
    values = {
        "score": parse_score("pulse", satisfaction),
        "workload": parse_score("pulse", workload),
        "tools": parse_score("pulse", tools),
    }
    text = clean_comment(comment)
    stmt = insert_ignoring_conflicts(session, PulseTaken.__table__).values(
        user_id=actor.user_id, period=period, taken_at=now
    )
    if (await session.execute(stmt)).rowcount == 0:
        raise Conflict("you have answered this week's pulse already; thank you")
    data: dict[str, Any] = {"survey_id": f"pulse-{secrets.token_hex(8)}", "kind": "pulse",
                            "period": period, **values}  # fmt: skip
    if text:
        data["comment"] = text
    facts.record(session, "survey.answered", data=data, at=now)


# --- follow-up of a low score ---------------------------------------------------------------------


async def follow_up(session: AsyncSession, actor: Actor, survey_id: int) -> Survey:
    """A supervisor takes a low score: the ticket is escalated, assigned to them and gets an
    internal note with the customer's words."""
    actor.require(Scope.reports_read)
    survey = await session.get(Survey, survey_id)
    if survey is None or survey.ticket_id is None or survey.score is None:
        raise NotFound(f"answered ticket survey {survey_id} not found")
    if survey.follow_up_by is not None:
        raise Conflict("someone is following this answer up already")
    settings = settings_of(session)
    if survey.kind != "csat" or survey.score > settings.survey_low_score:
        raise Invalid("survey", "only low CSAT scores get a follow-up")
    survey.follow_up_by = actor.user_id
    words = f": “{survey.comment}”" if survey.comment else ""
    await tickets.add_note(
        session,
        actor,
        survey.ticket_id,
        text=f"Low CSAT ({survey.score:.0f}/5){words}. Followed up by a supervisor.",
    )
    ticket = await session.get(Ticket, survey.ticket_id)
    assert ticket is not None
    if ticket.merged_into_id is None:
        await changes.update_ticket(
            session,
            actor,
            survey.ticket_id,
            {"assignee_id": actor.user_id, "escalation_level": max(1, ticket.escalation_level)},
        )
    return survey


# --- lists for the API and the feedback inbox -----------------------------------------------------


@dataclass
class SurveyFilter:
    kind: str | None = None
    ticket_id: int | None = None
    contact_id: int | None = None
    answered: bool | None = None
    max_score: float | None = None
    with_comment: bool = False


async def list_surveys(
    session: AsyncSession, f: SurveyFilter, *, before_id: int | None = None, limit: int = 50
) -> list[Survey]:
    """Newest first, keyset-paginated by id."""
    where = []
    if f.kind:
        where.append(Survey.kind == f.kind)
    if f.ticket_id is not None:
        where.append(Survey.ticket_id == f.ticket_id)
    if f.contact_id is not None:
        where.append(Survey.contact_id == f.contact_id)
    if f.answered is True:
        where.append(Survey.answered_at.is_not(None))
    if f.answered is False:
        where.append(Survey.answered_at.is_(None))
    if f.max_score is not None:
        where.append(and_(Survey.score.is_not(None), Survey.score <= f.max_score))
    if f.with_comment:
        where.append(Survey.comment.is_not(None))
    if before_id is not None:
        where.append(Survey.id < before_id)
    stmt = select(Survey).where(*where).order_by(Survey.id.desc()).limit(limit)
    return list((await session.execute(stmt)).scalars())


# --- what starts a survey -------------------------------------------------------------------------


@facts.consumer("surveys")
async def on_solved(session: AsyncSession, batch: list[facts.Fact]) -> None:
    """A solve schedules the ticket's CSAT survey after the configured delay."""
    settings = settings_of(session)
    for f in batch:
        if f.kind != "ticket.status_changed" or f.ticket_id is None:
            continue
        if f.data.get("to") in SOLVED and f.data.get("from") not in SOLVED:
            await jobs.enqueue(
                session,
                CSAT_JOB,
                {"ticket_id": f.ticket_id},
                delay=settings.survey_delay_minutes * 60,
                idempotency_key=f"csat:{f.ticket_id}:{f.id}",
            )


@jobs.handler(CSAT_JOB)
async def csat_job(ctx: jobs.JobContext) -> None:
    survey = await open_csat(ctx.session, int(ctx.payload["ticket_id"]))
    if survey is not None and survey.via == "email":
        await jobs.enqueue(ctx.session, DELIVER_JOB, {"survey_id": survey.id},
                           idempotency_key=f"survey-mail:{survey.id}")  # fmt: skip


@jobs.periodic("surveys.nps", every_seconds=3600)
async def nps_job(ctx: jobs.JobContext) -> None:
    """Ask a sample of recently served contacts for NPS; nobody twice within the interval."""
    days = ctx.settings.nps_interval_days
    if days <= 0 or ctx.settings.nps_sample <= 0:
        return
    now = utcnow()
    period = period_of(now, days)
    since = now - timedelta(days=days)
    recent = (
        await ctx.session.execute(
            select(Ticket.contact_id)
            .where(Ticket.contact_id.is_not(None), Ticket.solved_at >= since)
            .distinct()
        )
    ).scalars()
    asked = 0
    for contact_id in recent:
        if asked >= ctx.settings.nps_batch:
            break
        if not sampled(contact_id, period, ctx.settings.nps_sample):
            continue
        if await quiet(ctx.session, contact_id, "nps", since):
            continue
        survey = await open_nps(ctx.session, contact_id, at=now)
        await jobs.enqueue(ctx.session, DELIVER_JOB, {"survey_id": survey.id},
                           idempotency_key=f"survey-mail:{survey.id}")  # fmt: skip
        asked += 1
