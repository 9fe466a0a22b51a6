"""Signing in to the portal: a magic link goes out by email through the email channel's SMTP
path, its page only asks to confirm (a scanner's GET signs nobody in), the POST signs in once;
the answer is the same for known and unknown addresses, limits hold per address and per client,
forged, expired, reused links and tampered cookies open nothing, and the customer's cookie is
not the agents'."""

from __future__ import annotations

import re
from datetime import timedelta

import httpx
from sqlalchemy import func, select, update

from madad.config import Settings
from madad.db import utcnow
from madad.jobs import Job
from madad.portal import access
from madad.portal.models import CustomerSession, SignInLink
from tests.channels.email.conftest import SmtpCapture, make_mailbox, smtp_values
from tests.channels.email.conftest import smtp_capture as smtp_capture  # the fixture
from tests.portal.conftest import (
    BASE,
    client_of,
    db_of,
    latest_link,
    make_customer,
    sign_in,
    work,
)

ORIGIN = {"origin": BASE}


def _answer(html: str, address: str) -> str:
    """The page without the address typed: what must not differ between addresses."""
    return re.sub(r"\s+", " ", html.replace(address, "ADDRESS"))


async def test_a_magic_link_from_the_smtp_server_signs_the_customer_in(
    portal_app: object,
    web: httpx.AsyncClient,
    portal_settings: Settings,
    smtp_capture: SmtpCapture,
) -> None:
    db = db_of(portal_app)
    await make_mailbox(db, display_name="Madad Support", **smtp_values(smtp_capture))
    await make_customer(db, "Sana Khan", "Sana.Khan@Example.com")
    r = await web.post(
        "/portal/sign-in", data={"email": "  SANA.khan@example.com "}, headers=ORIGIN
    )
    assert r.status_code == 200 and "Check your email" in r.text
    await work(db, portal_settings)
    [mail] = smtp_capture.received
    assert mail.rcpt_tos == ["sana.khan@example.com"]
    assert mail.message["Subject"] == "Your sign-in link"
    assert mail.message["Auto-Submitted"] == "auto-generated"
    text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hello Sana Khan," in text
    [link] = re.findall(r"http://madad\.test(/portal/sign-in/[\w.-]+)", text)

    # Opening the link (or a scanner fetching it) shows a button and signs nobody in.
    for _ in range(2):
        page = await web.get(link)
        assert page.status_code == 200 and 'method="post"' in page.text
        assert "set-cookie" not in page.headers
        assert page.headers["referrer-policy"] == "same-origin"
    assert (await web.get("/portal")).status_code == 303

    signed = await web.post(link, headers=ORIGIN)
    assert signed.status_code == 303 and signed.headers["location"] == "/portal"
    cookie = signed.headers["set-cookie"]
    assert cookie.startswith("madad_portal=")
    for flag in ("HttpOnly", "SameSite=lax", "Path=/portal"):
        assert flag.lower() in cookie.lower(), cookie
    home = await web.get("/portal")
    assert home.status_code == 200 and "Your requests" in home.text

    # The link is spent: a second confirmation, even in another browser, opens nothing.
    async with client_of(portal_app) as other:
        again = await other.post(link, headers=ORIGIN)
        assert again.status_code == 410 and "already used" in again.text
        assert "set-cookie" not in again.headers
        assert (await other.get(link)).status_code == 410

    # The customer's cookie opens nothing in the agents' console, and the reverse.
    console = await web.get("/inbox", headers={"accept": "text/html"})
    assert console.status_code == 303 and console.headers["location"].startswith("/login")
    assert (await web.get("/api/v1/tickets")).status_code == 401

    # Signing out ends the session on the server: the old cookie no longer works.
    old = web.cookies.get("madad_portal")
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', home.text)
    assert csrf
    out = await web.post("/portal/sign-out", data={"csrf_token": csrf.group(1)}, headers=ORIGIN)
    assert out.status_code == 303 and out.headers["location"] == "/portal/sign-in?out=1"
    async with client_of(portal_app, cookies={"madad_portal": old}) as stale:
        assert (await stale.get("/portal")).status_code == 303


async def test_known_and_unknown_addresses_get_the_same_answer_and_the_same_limits(
    portal_app: object, web: httpx.AsyncClient, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    _, known = await make_customer(db, "Bilal Ahmed", "bilal@example.com")
    unknown = "nobody-here@example.com"
    answers = []
    for address in (known, unknown):
        r = await web.post("/portal/sign-in", data={"email": address}, headers=ORIGIN)
        answers.append((r.status_code, _answer(r.text, address)))
    assert answers[0] == answers[1]
    async with db.session(write=False) as session:
        rows = (await session.scalars(select(SignInLink).order_by(SignInLink.id))).all()
        jobs_queued = await session.scalar(
            select(func.count(Job.id)).where(Job.kind == access.SEND_LINK_JOB)
        )
    assert [r.contact_id is not None for r in rows] == [True, False]
    assert rows[1].address is None  # an unknown address is not kept, only its keyed hash
    assert unknown not in rows[1].address_digest
    assert jobs_queued == 1

    # Per address: the sixth request within an hour is refused, for both kinds alike.
    for address in (known, unknown):
        for _ in range(access.PER_ADDRESS_PER_HOUR - 1):
            r = await web.post("/portal/sign-in", data={"email": address}, headers=ORIGIN)
            assert r.status_code == 200
    limited = []
    for address in (known, unknown):
        r = await web.post("/portal/sign-in", data={"email": address}, headers=ORIGIN)
        limited.append((r.status_code, _answer(r.text, address)))
    assert limited[0] == limited[1] and limited[0][0] == 429
    assert 0 < int(r.headers["retry-after"]) <= 60 * 60

    # Per client: twenty requests an hour from one address, whatever emails they name.
    async with client_of(portal_app) as same_client:
        for n in range(access.PER_CLIENT_PER_HOUR - 2 * access.PER_ADDRESS_PER_HOUR):
            r = await same_client.post(
                "/portal/sign-in", data={"email": f"x{n}@example.com"}, headers=ORIGIN
            )
            assert r.status_code == 200, n
        r = await same_client.post(
            "/portal/sign-in", data={"email": "one-more@example.com"}, headers=ORIGIN
        )
        assert r.status_code == 429 and "Wait an hour" in r.text
        assert 59 * 60 < int(r.headers["retry-after"]) <= 60 * 60  # the first link of the hour

    # Text that is no address is a form error, and stores nothing.
    async with db.session(write=False) as session:
        before = await session.scalar(select(func.count(SignInLink.id)))
    for bad in ("", "not-an-email", "a@b", "<script>@x.com", "x" * 400):
        r = await web.post("/portal/sign-in", data={"email": bad}, headers=ORIGIN)
        assert r.status_code in (422, 429), bad
    async with db.session(write=False) as session:
        assert await session.scalar(select(func.count(SignInLink.id))) == before


async def test_forged_expired_and_reused_links_and_tampered_cookies_open_nothing(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    _, email = await make_customer(db, "Nida Ali")
    async with client_of(portal_app) as web:
        await web.post("/portal/sign-in", data={"email": email}, headers=ORIGIN)
        await web.post("/portal/sign-in", data={"email": "stranger@example.com"}, headers=ORIGIN)
        token = await latest_link(db, portal_settings, email)
        link_id, nonce, sig = token.split(".")
        secret = portal_settings.resolved_secret_key()
        async with db.session(write=False) as session:
            stranger = await session.scalar(
                select(SignInLink).where(SignInLink.contact_id.is_(None))
            )
            assert stranger is not None
        forged = [
            f"{link_id}.{nonce}.{sig[:-2]}xx",
            f"{link_id}.{nonce}x.{sig}",
            f"{int(link_id) + 1}.{nonce}.{sig}",
            f"{link_id}.{nonce}",
            "x" * 90,
            f"{link_id}.{nonce}.{sig}.more",
            access.link_token("some-other-secret", stranger),
            access.link_token(secret, stranger),  # signed, but for an unknown address
            "99999999999.abc.def",
        ]
        for bad in forged:
            for method in ("GET", "POST"):
                r = await web.request(method, f"/portal/sign-in/{bad}", headers=ORIGIN)
                assert r.status_code == 404 and "does not work" in r.text, (bad, method)
                assert "set-cookie" not in r.headers

        # A link from another site's form is refused before it is spent.
        r = await web.post(f"/portal/sign-in/{token}", headers={"origin": "http://evil.test"})
        assert r.status_code == 403
        # Expired: past its 30 minutes.
        async with db.session() as session:
            await session.execute(
                update(SignInLink)
                .where(SignInLink.id == int(link_id))
                .values(expires_at=utcnow() - timedelta(seconds=1))
            )
        for method in ("GET", "POST"):
            r = await web.request(method, f"/portal/sign-in/{token}", headers=ORIGIN)
            assert r.status_code == 410 and "expired" in r.text
        async with db.session(write=False) as session:
            assert await session.scalar(select(func.count(CustomerSession.id))) == 0

    # Cookies: made up, tampered with, or of a session that idled out: sign in again.
    portal = await sign_in(portal_app, portal_settings, email)
    good = portal.client.cookies.get("madad_portal")
    assert good
    for cookie in ("", "made-up", good[:-1] + ("A" if good[-1] != "A" else "B"), good + "x"):
        async with client_of(portal_app, cookies={"madad_portal": cookie}) as c:
            r = await c.get("/portal/tickets/1")
            assert r.status_code == 303
            assert r.headers["location"] == "/portal/sign-in?next=%2Fportal%2Ftickets%2F1"
    async with db.session() as session:
        await session.execute(
            update(CustomerSession).values(last_seen_at=utcnow() - access.IDLE_LIMIT)
        )
    assert (await portal.get("/portal")).status_code == 303
    await portal.client.aclose()


async def test_a_link_never_points_at_a_host_the_request_chose(
    settings: Settings, smtp_capture: SmtpCapture
) -> None:
    """Without a configured base URL only a loopback host is trusted as the link's site: a
    forged Host header must not send a customer's link to someone else's server."""
    from madad.app import create_app

    app = create_app(settings)  # no base URL
    async with app.router.lifespan_context(app):
        db = db_of(app)
        await make_mailbox(db, **smtp_values(smtp_capture))
        _, email = await make_customer(db, "Hina Baig")
        for base in ("http://evil.example", "http://127.0.0.1:8000"):
            transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
            async with httpx.AsyncClient(transport=transport, base_url=base) as c:
                r = await c.post("/portal/sign-in", data={"email": email}, headers={"origin": base})
                assert r.status_code == 200
        await work(db, settings)
        [mail] = smtp_capture.received
        text = mail.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "http://127.0.0.1:8000/portal/sign-in/" in text and "evil" not in text


async def test_urdu_pages_are_right_to_left_and_links_keep_the_language(
    portal_app: object, web: httpx.AsyncClient, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    _, email = await make_customer(db, "Ayesha Noor")
    page = await web.get("/portal/ur/sign-in")
    assert page.status_code == 200
    assert '<html lang="ur" dir="rtl">' in page.text
    assert 'href="/portal/sign-in"' in page.text  # the English page of the same thing
    for missing in ("/portal/en", "/portal/en/sign-in", "/portal/xx/sign-in", "/portal/fr"):
        r = await web.get(missing)
        assert r.status_code == 404, missing
    portal = await sign_in(portal_app, portal_settings, email, lang="ur")
    home = await portal.get("/portal/ur")
    assert home.status_code == 200 and 'dir="rtl"' in home.text
    async with db.session(write=False) as session:
        link = await session.scalar(select(SignInLink).where(SignInLink.address == email))
        assert link is not None and link.language == "ur"
    await portal.client.aclose()


async def test_unsafe_forms_need_the_sessions_csrf_token(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    _, email = await make_customer(db, "Zara Sheikh")
    portal = await sign_in(portal_app, portal_settings, email)
    data = {"subject": "Help", "description": "Please", "form_id": "f" * 24}
    for headers, body in (
        ({"origin": BASE}, data),  # no token
        ({"origin": BASE}, {**data, "csrf_token": "wrong"}),
        ({"origin": "http://evil.test"}, {**data, "csrf_token": portal.csrf}),
    ):
        r = await portal.client.post("/portal/new", data=body, headers=headers)
        assert r.status_code == 403, (headers, body)
        assert "This form has expired" in r.text
    ok = await portal.post("/portal/new", data)
    assert ok.status_code == 303
    await portal.client.aclose()


async def test_after_signing_in_only_the_portals_own_pages_are_a_destination(
    portal_app: object, portal_settings: Settings
) -> None:
    db = db_of(portal_app)
    _, email = await make_customer(db, "Maha Iqbal")
    cases = {
        "/portal/new?article=3": "/portal/new?article=3",
        "/portal/ur/tickets/5": "/portal/ur/tickets/5",
        "//evil.example/portal": "/portal",
        "https://evil.example/portal": "/portal",
        "/inbox": "/portal",
        "/portal/../inbox": "/portal",
        "/portal/%2e%2e/inbox": "/portal",
        "/portal\\..\\inbox": "/portal",
        "/portal\r\nSet-Cookie: x=1": "/portal",
    }
    async with client_of(portal_app) as web:
        for target, expected in cases.items():
            page = await web.get("/portal/sign-in", params={"next": target})
            assert page.status_code == 200
            r = await web.post(
                "/portal/sign-in", data={"email": email, "next": target}, headers=ORIGIN
            )
            assert r.status_code == 200
            token = await latest_link(db, portal_settings, email)
            r = await web.post(f"/portal/sign-in/{token}", headers=ORIGIN)
            assert r.status_code == 303 and r.headers["location"] == expected, target
            web.cookies.clear()
            async with db.session() as session:  # the hourly limit is not what this is about
                await session.execute(
                    update(SignInLink).values(created_at=utcnow() - timedelta(hours=2))
                )
