"""Fill a PostgreSQL database with a realistic support history, fast (COPY, not the ORM).

  python bench/seed.py --tickets 1000000 [--database-url URL] [--reset]

Writes organisations, agents in teams, contacts with identities, tickets over two years on
email, chat, phone and API with weekday/hour arrival patterns, their messages (English and
Urdu), tags, and the facts the live system would have recorded for each ticket's life
(created, received, assigned, replies, status changes, reopenings, escalations). Prints how
long each part took and the command that reproduces it.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import orjson
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.harness import bench_url, ensure_database

CHANNELS = [("email", 45), ("chat", 25), ("phone", 18), ("api", 12)]
STATUSES = [("closed", 64), ("solved", 15), ("open", 8), ("new", 4), ("pending", 6), ("on_hold", 3)]
PRIORITIES = [("low", 15), ("normal", 65), ("high", 15), ("urgent", 5)]
TAGS = [
    "billing",
    "refund",
    "shipping",
    "login",
    "bug",
    "feature_request",
    "vip",
    "outage",
    "cancellation",
    "invoice",
    "password",
    "mobile",
    "urdu",
    "complaint",
    "praise",
]
SUBJECTS = [
    "Where is my order {n}?",
    "Refund for invoice {n}",
    "Cannot log in to my account",
    "App crashes when I upload a photo",
    "Charged twice this month",
    "Change my plan to {plan}",
    "Password reset email never arrives",
    "Delivery delayed again",
    "Question about invoice {n}",
    "Cancel my subscription",
    "Feature request: dark mode",
    "Payment failed with card ending {n}",
    "میرا آرڈر ابھی تک نہیں پہنچا",
    "ریفنڈ کب ملے گا؟",
    "اکاؤنٹ میں لاگ ان نہیں ہو رہا",
]
CUSTOMER_LINES = [
    "Hi, I placed order {n} last week and it still has not arrived. Can you check?",
    "I was charged twice for the same invoice. Please refund one of the payments.",
    "The app keeps crashing when I try to upload a photo from my phone.",
    "I cannot log in since yesterday; the reset email never comes.",
    "Could you tell me when my refund will be processed? It has been ten days.",
    "السلام علیکم، میرا آرڈر {n} ابھی تک نہیں پہنچا۔ براہ کرم چیک کریں۔",
    "مجھے دو بار چارج کیا گیا ہے، براہ کرم ایک رقم واپس کریں۔",
    "Thanks, that fixed it!",
    "Still not working, I tried again this morning.",
]
AGENT_LINES = [
    "Thanks for reaching out! I've checked order {n}: it ships today and you'll get tracking.",
    "Sorry about the double charge — I've refunded the second payment; allow 3-5 days.",
    "Could you send the app version and your phone model? That helps us reproduce it.",
    "I've reset your login; please try the link I just sent and let me know.",
    "شکریہ! آپ کا ریفنڈ جاری کر دیا گیا ہے، تین سے پانچ دن میں رقم آ جائے گی۔",
    "I've escalated this to our engineers and will update you tomorrow.",
]
NOTES = [
    "Customer is on the business plan; check SLA.",
    "Known issue, see incident 42.",
    "Called back, no answer.",
    "Refund approved by finance.",
]
FIRST = [
    "Sana",
    "Ali",
    "Ayesha",
    "Omar",
    "Fatima",
    "Bilal",
    "Zara",
    "Hamza",
    "Hina",
    "Usman",
    "Maria",
    "John",
    "Emma",
    "Liam",
    "Noor",
    "Imran",
    "Sara",
    "David",
    "Amna",
    "Kamran",
]
LAST = [
    "Khan",
    "Ahmed",
    "Raza",
    "Malik",
    "Sheikh",
    "Butt",
    "Smith",
    "Jones",
    "Iqbal",
    "Hussain",
    "Chaudhry",
    "Siddiqui",
    "Brown",
    "Mirza",
    "Qureshi",
]
ORG_KINDS = ["Traders", "Labs", "Foods", "Textiles", "Logistics", "Clinics"]
HOUR_WEIGHTS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 10, 9, 8, 9, 9, 8, 7, 6, 5, 4, 3, 2, 2, 1]
DAY_WEIGHTS = [10, 10, 9, 9, 8, 4, 3]  # Monday … Sunday


def pick(rng: random.Random, weighted: list[tuple[str, int]]) -> str:
    return rng.choices([v for v, _ in weighted], [w for _, w in weighted])[0]


def jsonb(value: object) -> str:
    return orjson.dumps(value).decode()


class World:
    """The fixed population: organisations, agents, teams, contacts."""

    def __init__(self, rng: random.Random, tickets: int, now: datetime) -> None:
        self.rng = rng
        self.now = now
        self.orgs = max(20, tickets // 500)
        self.contacts = max(100, tickets // 4)
        self.agents = [(i + 1, (i % 5) + 1) for i in range(50)]  # (user id, team id)


def arrival(rng: random.Random, now: datetime, days: int) -> datetime:
    while True:
        day = now - timedelta(days=rng.randrange(days))
        if rng.random() * 10 < DAY_WEIGHTS[day.weekday()]:
            break
    hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
    return day.replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)


class Ids:
    def __init__(self) -> None:
        self.message = 0
        self.fact = 0

    def next_message(self) -> int:
        self.message += 1
        return self.message

    def next_fact(self) -> int:
        self.fact += 1
        return self.fact


Fact = Callable[..., None]


def live_contact(
    rng: random.Random,
    fact: Fact,
    offered: datetime,
    agent: int | None,
    channel: str,
    now: datetime,
) -> None:
    """A chat's or call's time in the queue as the live channel records it: offered, then
    answered (and on hold for some calls) and ended, or abandoned."""
    session = {"session": "seed", "queue": channel}
    fact(offered, "live.offered", session)
    wait = timedelta(seconds=min(rng.expovariate(1 / 25), 900))
    if agent is None or rng.random() < 0.05:
        if offered + wait < now:
            fact(offered + wait, "live.abandoned", session)
        return
    answered = offered + wait
    fact(answered, "live.answered", session, agent)
    t = answered + timedelta(seconds=rng.expovariate(1 / 120))
    if channel == "phone" and rng.random() < 0.3:
        fact(t, "live.hold", session, agent)
        t += timedelta(seconds=rng.expovariate(1 / 45))
        fact(t, "live.resumed", session, agent)
    t += timedelta(seconds=rng.expovariate(1 / 200))
    if t < now:
        fact(t, "live.ended", session, agent)


def csat_survey(
    rng: random.Random, fact: Fact, solved: datetime, agent: int | None, tid: int, now: datetime
) -> None:
    """The CSAT survey after a solve, answered by about a third of customers."""
    sent = solved + timedelta(hours=1)
    if sent >= now:
        return
    survey = {"survey_id": f"seed-{tid}", "kind": "csat"}
    fact(sent, "survey.sent", survey)
    if rng.random() < 0.35:
        score = rng.choices([1, 2, 3, 4, 5], [6, 6, 12, 30, 46])[0]
        answered = sent + timedelta(hours=rng.expovariate(1 / 6))
        if answered < now:
            fact(answered, "survey.answered", survey | {"score": score}, agent)


def ticket_life(
    rng: random.Random, world: World, ids: Ids, tid: int
) -> tuple[tuple, list[tuple], list[tuple], list[tuple]]:
    """One ticket's row, its messages, its facts and its tags."""
    now = world.now
    created = arrival(rng, now, 730)
    channel = pick(rng, CHANNELS)
    status = pick(rng, STATUSES)
    if created > now - timedelta(days=3) and status == "closed":
        status = "solved"
    priority = pick(rng, PRIORITIES)
    contact = rng.randrange(1, world.contacts + 1)
    org = contact % world.orgs + 1 if contact % 3 else None
    agent, team = rng.choice(world.agents)
    if status in ("new", "open") and rng.random() < (0.7 if status == "new" else 0.2):
        agent, team = None, None
    n = rng.randrange(1000, 99999)
    subject = rng.choice(SUBJECTS).format(n=n, plan="business")
    messages: list[tuple] = []
    facts: list[tuple] = []
    tags = rng.sample(TAGS, rng.choices([0, 1, 2, 3], [30, 40, 20, 10])[0])

    def fact(at: datetime, kind: str, data: dict, by: int | None = None) -> None:
        facts.append((ids.next_fact(), at, kind, tid, contact, by, team, channel, jsonb(data)))

    def message(at: datetime, direction: str, visibility: str, author: str, body: str) -> int:
        mid = ids.next_message()
        messages.append(
            (
                mid,
                tid,
                channel,
                direction,
                visibility,
                author,
                contact if author == "contact" else None,
                agent if author == "agent" else None,
                body,
                None,
                f"seed-{mid}" if author == "contact" else None,
                None,
                "sent" if direction == "outbound" and visibility == "public" else None,
                None,
                "{}",
                at,
            )
        )
        return mid

    t = created
    fact(t, "ticket.created", {"subject": subject, "priority": priority, "status": "new"})
    mid = message(t, "inbound", "public", "contact", rng.choice(CUSTOMER_LINES).format(n=n))
    fact(t, "message.received", {"message_id": mid, "attachments": 0, "new_ticket": True})
    if tags:
        fact(t, "ticket.tags_changed", {"added": tags, "removed": []})
    if channel in ("chat", "phone"):
        live_contact(rng, fact, t, agent, channel, now)
    last = t
    waiting = t
    solved_at = None
    reopens = 0
    if agent is not None:
        t += timedelta(minutes=rng.expovariate(1 / 90))
        fact(t, "ticket.assigned", {"from": None, "to": agent}, agent)
        last = t
    if status != "new":
        rounds = rng.choices([1, 2, 3], [60, 30, 10])[0]
        current = "new"
        for r in range(rounds):
            t += timedelta(minutes=rng.expovariate(1 / (240 if channel == "email" else 20)))
            if rng.random() < 0.1:
                nid = message(t, "outbound", "note", "agent", rng.choice(NOTES))
                fact(t, "note.added", {"message_id": nid}, agent)
            mid = message(t, "outbound", "public", "agent", rng.choice(AGENT_LINES).format(n=n))
            fact(
                t,
                "message.sent",
                {"message_id": mid, "author_type": "agent", "attachments": 0},
                agent,
            )
            waiting = None
            if current == "new":
                fact(
                    t,
                    "ticket.status_changed",
                    {"from": "new", "to": "open", "by": "agent", "assignee_id": agent},
                    agent,
                )
                current = "open"
            if r < rounds - 1:
                t += timedelta(hours=rng.expovariate(1 / 12))
                mid = message(
                    t, "inbound", "public", "contact", rng.choice(CUSTOMER_LINES).format(n=n)
                )
                fact(
                    t,
                    "message.received",
                    {"message_id": mid, "attachments": 0, "new_ticket": False},
                )
                waiting = t
                if rng.random() < 0.08:
                    fact(
                        t,
                        "ticket.escalated",
                        {"from": 0, "to": 1, "reason": "customer upset"},
                        agent,
                    )
            last = t
        if status in ("solved", "closed"):
            fact(
                t,
                "ticket.status_changed",
                {"from": current, "to": "solved", "by": "agent", "assignee_id": agent},
                agent,
            )
            solved_at = t
            if rng.random() < 0.3:
                csat_survey(rng, fact, t, agent, tid, now)
            if rng.random() < 0.07:  # reopened by the customer, solved again
                t += timedelta(hours=rng.expovariate(1 / 30))
                mid = message(t, "inbound", "public", "contact", "Still not working, sorry.")
                fact(
                    t,
                    "message.received",
                    {"message_id": mid, "attachments": 0, "new_ticket": False},
                )
                fact(
                    t,
                    "ticket.status_changed",
                    {"from": "solved", "to": "open", "by": "contact", "assignee_id": agent},
                )
                t += timedelta(hours=rng.expovariate(1 / 3))
                mid = message(t, "outbound", "public", "agent", rng.choice(AGENT_LINES).format(n=n))
                fact(
                    t,
                    "message.sent",
                    {"message_id": mid, "author_type": "agent", "attachments": 0},
                    agent,
                )
                fact(
                    t,
                    "ticket.status_changed",
                    {"from": "open", "to": "solved", "by": "agent", "assignee_id": agent},
                    agent,
                )
                solved_at = t
                reopens = 1
            last = t
            if status == "closed":
                t += timedelta(days=4)
                fact(
                    t,
                    "ticket.status_changed",
                    {"from": "solved", "to": "closed", "by": "system", "assignee_id": agent},
                )
                last = t
        elif status in ("pending", "on_hold"):
            fact(
                t,
                "ticket.status_changed",
                {"from": current, "to": status, "by": "agent", "assignee_id": agent},
                agent,
            )
            waiting = None
    if last > now:
        last = now
    row = (
        tid,
        subject,
        status,
        priority,
        channel,
        contact,
        org,
        agent,
        team,
        "{}",
        0,
        None,
        None,
        reopens,
        created,
        last,
        last,
        waiting if status in ("new", "open") else None,
        solved_at,
    )
    tag_rows = [(tid, tag) for tag in tags]
    return row, messages, facts, tag_rows


TICKET_COLS = [
    "id",
    "subject",
    "status",
    "priority",
    "channel",
    "contact_id",
    "organisation_id",
    "assignee_id",
    "team_id",
    "custom_fields",
    "escalation_level",
    "conversation_key",
    "merged_into_id",
    "reopen_count",
    "created_at",
    "updated_at",
    "last_activity_at",
    "waiting_since",
    "solved_at",
]
MESSAGE_COLS = [
    "id",
    "ticket_id",
    "channel",
    "direction",
    "visibility",
    "author_type",
    "author_contact_id",
    "author_user_id",
    "text",
    "html",
    "external_id",
    "content_hash",
    "delivery_status",
    "delivery_error",
    "meta",
    "created_at",
]
FACT_COLS = [
    "id",
    "at",
    "kind",
    "ticket_id",
    "contact_id",
    "agent_id",
    "team_id",
    "channel",
    "data",
]


async def copy(conn: asyncpg.Connection, table: str, columns: list[str], rows: list[tuple]) -> None:
    if rows:
        await conn.copy_records_to_table(table, records=rows, columns=columns)


async def seed_population(conn: asyncpg.Connection, world: World) -> None:
    rng, now = world.rng, world.now
    orgs = []
    for i in range(1, world.orgs + 1):
        since = now - timedelta(days=rng.randrange(30, 1500))
        churned = rng.random() < 0.12
        orgs.append(
            (
                i,
                f"{rng.choice(LAST)} {rng.choice(ORG_KINDS)} {i}",
                rng.choice(["starter", "business", "enterprise"]),
                rng.choice([5, 10, 25, 50, 200]),
                "churned" if churned else "active",
                since,
                since + timedelta(days=rng.randrange(30, 700)) if churned else None,
                "{}",
                None,
                None,
                since,
                since,
            )
        )
    await copy(
        conn,
        "organisations",
        [
            "id",
            "name",
            "plan",
            "seats",
            "status",
            "customer_since",
            "churned_at",
            "custom",
            "notes",
            "merged_into_id",
            "created_at",
            "updated_at",
        ],
        orgs,
    )
    await copy(
        conn,
        "organisation_domains",
        ["domain", "organisation_id"],
        [(f"org{i}.example", i) for i in range(1, world.orgs + 1)],
    )
    await copy(
        conn,
        "teams",
        ["id", "name", "description", "created_at"],
        [
            (i, name, None, now)
            for i, name in enumerate(
                ["Tier 1", "Tier 2", "Billing", "Urdu desk", "Technical"], start=1
            )
        ],
    )
    users = [
        (
            uid,
            f"agent{uid}@madad.example",
            f"{rng.choice(FIRST)} {rng.choice(LAST)}",
            "agent",
            None,
            "en",
            "Asia/Karachi",
            None,
            True,
            now,
            now,
            None,
        )
        for uid, _ in world.agents
    ]
    await copy(
        conn,
        "users",
        [
            "id",
            "email",
            "name",
            "role",
            "password_hash",
            "language",
            "time_zone",
            "signature",
            "is_active",
            "created_at",
            "updated_at",
            "last_login_at",
        ],
        users,
    )
    await copy(conn, "team_members", ["team_id", "user_id"], [(t, u) for u, t in world.agents])
    contacts, idents = [], []
    ident_id = 0
    for cid in range(1, world.contacts + 1):
        org = cid % world.orgs + 1 if cid % 3 else None
        created = now - timedelta(days=rng.randrange(1, 900))
        contacts.append(
            (
                cid,
                f"{rng.choice(FIRST)} {rng.choice(LAST)}",
                org,
                rng.choice(["en", "en", "ur"]),
                "Asia/Karachi",
                None,
                "{}",
                None,
                created,
                created,
            )
        )
        ident_id += 1
        domain = f"org{org}.example" if org else "mail.example"
        idents.append((ident_id, cid, "email", f"c{cid}@{domain}", True, False, created))
        if cid % 3 == 0:
            ident_id += 1
            idents.append((ident_id, cid, "phone", f"+92300{cid:07d}", True, False, created))
    await copy(
        conn,
        "contacts",
        [
            "id",
            "name",
            "organisation_id",
            "language",
            "time_zone",
            "birthday",
            "custom",
            "merged_into_id",
            "created_at",
            "updated_at",
        ],
        contacts,
    )
    await copy(
        conn,
        "contact_identities",
        ["id", "contact_id", "kind", "value", "is_primary", "bouncing", "created_at"],
        idents,
    )


async def main(args: argparse.Namespace) -> None:
    url = bench_url(args.database_url)
    await ensure_database(url)
    dsn = url.replace("postgresql+asyncpg://", "postgresql://")
    conn = await asyncpg.connect(dsn)
    try:
        existing = await conn.fetchval("SELECT count(*) FROM tickets")
        if existing and not args.reset:
            print(f"the database already holds {existing} tickets; pass --reset to start over")
            raise SystemExit(2)
        if args.reset:
            tables = await conn.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "AND tablename <> 'alembic_version'"
            )
            await conn.execute(
                "TRUNCATE "
                + ", ".join(r["tablename"] for r in tables)
                + " RESTART IDENTITY CASCADE"
            )
        rng = random.Random(args.seed)
        world = World(rng, args.tickets, datetime.now(UTC).replace(microsecond=0))
        started = time.perf_counter()
        await seed_population(conn, world)
        population_s = time.perf_counter() - started
        ids = Ids()
        counts = {"tickets": 0, "messages": 0, "facts": 0, "tags": 0}
        # Index maintenance dominates bulk loads: drop the secondary indexes of the big tables,
        # load, and build them once at the end.
        index_defs = await conn.fetch(
            "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = current_schema() "
            "AND tablename IN ('tickets', 'messages', 'activity', 'ticket_tags') "
            "AND indexname NOT LIKE 'pk_%' AND indexname NOT LIKE 'uq_%'"
        )
        for row in index_defs:
            await conn.execute(f'DROP INDEX "{row["indexname"]}"')
        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed:,}/{task.total:,}"),
            TimeElapsedColumn(),
            TimeRemainingColumn(),
        ) as progress:
            task = progress.add_task("tickets", total=args.tickets)
            chunk = 20_000
            for start in range(1, args.tickets + 1, chunk):
                tickets, messages, facts, tags = [], [], [], []
                for tid in range(start, min(start + chunk, args.tickets + 1)):
                    row, msgs, fs, tg = ticket_life(rng, world, ids, tid)
                    tickets.append(row)
                    messages += msgs
                    facts += fs
                    tags += tg
                await copy(conn, "tickets", TICKET_COLS, tickets)
                await copy(conn, "messages", MESSAGE_COLS, messages)
                await copy(conn, "activity", FACT_COLS, facts)
                await copy(conn, "ticket_tags", ["ticket_id", "tag"], tags)
                counts["tickets"] += len(tickets)
                counts["messages"] += len(messages)
                counts["facts"] += len(facts)
                counts["tags"] += len(tags)
                progress.update(task, advance=len(tickets))
        load_s = time.perf_counter() - started - population_s
        index_started = time.perf_counter()
        for row in index_defs:
            await conn.execute(row["indexdef"])
        for table in (
            "tickets",
            "messages",
            "activity",
            "contacts",
            "contact_identities",
            "organisations",
            "users",
            "teams",
        ):
            await conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT coalesce(max(id), 1) FROM {table}))"
            )
        # No webhook existed while this history happened: the webhook consumer starts after it.
        await conn.execute(
            "INSERT INTO fact_cursors (consumer, txid, last_id, failures, updated_at) "
            "SELECT 'webhooks', coalesce(max(txid), 0), coalesce(max(id), 0), 0, now() "
            "FROM activity ON CONFLICT (consumer) DO UPDATE "
            "SET txid = excluded.txid, last_id = excluded.last_id"
        )
        await conn.execute("ANALYZE")
        index_s = time.perf_counter() - index_started
        total = time.perf_counter() - started
    finally:
        await conn.close()
    print(
        f"== seeded {counts['tickets']:,} tickets, {counts['messages']:,} messages, "
        f"{counts['facts']:,} facts, {counts['tags']:,} tags, {world.contacts:,} contacts, "
        f"{world.orgs:,} organisations"
    )
    print(
        f"   population {population_s:.1f} s, tickets+messages+facts {load_s:.1f} s, "
        f"indexes+analyze {index_s:.1f} s, total {total:.1f} s "
        f"({counts['tickets'] / total:,.0f} tickets/s)"
    )
    print(
        f"   reproduce: python bench/seed.py --tickets {args.tickets} --reset"
        + (f" --database-url {url}" if args.database_url else "")
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Seed a bench database with a support history.")
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument(
        "--database-url",
        help="default: $MADAD_BENCH_DATABASE_URL or postgresql+asyncpg://…/madad_bench",
    )
    parser.add_argument("--reset", action="store_true", help="empty the database first")
    parser.add_argument("--seed", type=int, default=7, help="random seed (same data each run)")
    asyncio.run(main(parser.parse_args()))
