"""The mailbox admin pages over HTTP, on both databases: only admins get in; mailboxes are
created, edited, enabled and disabled through forms; passwords never come back; every bad input
is a form error on the page; "Test connection" logs in to a real Dovecot and SMTP server."""

from __future__ import annotations

import html
import re

import httpx
import pytest
from sqlalchemy import func, select

from madad.auth.models import Role
from madad.channels.email import passwords
from madad.channels.email.imap import poll_mailbox
from madad.channels.email.models import Mailbox
from madad.db import Database
from tests.channels.email.conftest import (
    Dovecot,
    SmtpCapture,
    imap_values,
    make_mailbox,
    smtp_values,
)
from tests.conftest import make_person
from tests.console.conftest import PASSWORD, Browser, sign_in
from tests.console.test_contact_pages import assert_no_markup_injected, submit
from tests.servers import free_port
from tests.test_untrusted_input import NAUGHTY

SECRET = "test-secret-key-not-for-production"  # tests.conftest.base_settings


@pytest.fixture
async def admin_browser(client: httpx.AsyncClient, db: Database) -> Browser:
    person = await make_person(db, role=Role.admin, name="Adil Admin", password=PASSWORD)
    return await sign_in(client, person)


@pytest.fixture
async def agent_browser(client: httpx.AsyncClient, db: Database) -> Browser:
    person = await make_person(db, role=Role.agent, name="Ayesha Agent", password=PASSWORD)
    return await sign_in(client, person)


async def stored(db: Database, box_id: int) -> Mailbox:
    async with db.session(write=False) as session:
        box = await session.get(Mailbox, box_id)
        assert box is not None
        return box


async def count(db: Database) -> int:
    async with db.session(write=False) as session:
        return await session.scalar(select(func.count(Mailbox.id))) or 0


def form(**values: object) -> dict[str, object]:
    """A complete mailbox form as the page posts it (checkboxes only when ticked)."""
    data: dict[str, object] = {
        "name": "Support",
        "address": "support@madad.test",
        "display_name": "Madad Support",
        "enabled": "true",
        "verify_tls": "true",
        "plus_addressing": "true",
        "imap_host": "",
        "imap_port": "",
        "imap_security": "ssl",
        "imap_username": "",
        "imap_password": "",
        "imap_folder": "INBOX",
        "after_import": "seen",
        "move_to_folder": "",
        "poll_interval_seconds": "60",
        "smtp_host": "",
        "smtp_port": "",
        "smtp_security": "starttls",
        "smtp_username": "",
        "smtp_password": "",
        "ack_subject": "",
        "ack_text": "",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


def box_id_of(response: httpx.Response) -> int:
    assert response.status_code == 303, response.text[:500]
    match = re.fullmatch(r"/admin/mailboxes/(\d+)\?done=\w+", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


def shown_error(page: str) -> str:
    match = re.search(r'<p class="error" role="alert"[^>]*>(.*?)</p>', page, re.S)
    assert match, "no error shown on the page"
    return html.unescape(match.group(1))


# --- who gets in -----------------------------------------------------------------------------


async def test_an_agent_gets_403_from_the_mailbox_pages_and_forms(
    agent_browser: Browser, db: Database
) -> None:
    box = await make_mailbox(db, name="Main")
    for path in ("/admin/mailboxes", "/admin/mailboxes/new", f"/admin/mailboxes/{box}"):
        r = await agent_browser.get(path)
        assert r.status_code == 403, path
        assert r.headers["content-type"].startswith("text/html")
        assert 'href="/admin/mailboxes"' not in r.text
    attempts = [
        ("/admin/mailboxes", form(name="Sneaky", address="sneaky@madad.test")),
        (f"/admin/mailboxes/{box}", form(name="Hijacked", smtp_host="evil.example.com")),
        (f"/admin/mailboxes/{box}/enabled", {"enabled": "false"}),
        (f"/admin/mailboxes/{box}/test", {}),
        (f"/admin/mailboxes/{box}/delete", {}),
    ]
    for path, data in attempts:
        r = await submit(agent_browser, path, data)
        assert r.status_code == 403, path
    after = await stored(db, box)
    assert (after.name, after.enabled, after.smtp_host) == ("Main", True, None)
    assert await count(db) == 1


async def test_mailbox_forms_without_the_csrf_token_are_refused(
    admin_browser: Browser, db: Database
) -> None:
    box = await make_mailbox(db, name="Main")
    r = await admin_browser.client.post("/admin/mailboxes", data=form(name="No token"))
    assert r.status_code == 403
    r = await admin_browser.client.post(
        f"/admin/mailboxes/{box}/enabled", data={"enabled": "false", "csrf_token": "forged"}
    )
    assert r.status_code == 403
    assert await count(db) == 1 and (await stored(db, box)).enabled is True


# --- create, edit, enable --------------------------------------------------------------------


async def test_an_admin_creates_edits_and_disables_a_mailbox_and_passwords_never_come_back(
    admin_browser: Browser, db: Database
) -> None:
    listed = await admin_browser.get("/admin/mailboxes")
    assert listed.status_code == 200 and "No mailboxes yet." in listed.text
    assert '<a href="/admin/mailboxes" aria-current="page">' in listed.text
    created = await submit(
        admin_browser,
        "/admin/mailboxes",
        form(
            name="Support",
            address="Support@Madad.test",
            imap_host="imap.madad.test",
            imap_port="993",
            imap_username="support",
            imap_password="imap-pa55",
            after_import="move",
            move_to_folder="Imported",
            smtp_host="smtp.madad.test",
            smtp_port="587",
            smtp_username="support",
            smtp_password="smtp-pa55",
            ack_enabled="true",
            ack_subject="We got it: {{ subject }}",
            ack_text="Hello {{ name }}, ticket #{{ ticket_id }}.",
        ),
    )
    box_id = box_id_of(created)
    box = await stored(db, box_id)
    assert (box.address, box.imap_port, box.after_import, box.move_to_folder) == (
        "support@madad.test",
        993,
        "move",
        "Imported",
    )
    assert box.ack_enabled and box.ack_text == "Hello {{ name }}, ticket #{{ ticket_id }}."
    # Stored encrypted, never in the page.
    assert box.imap_password and "imap-pa55" not in box.imap_password
    assert passwords.decrypt(SECRET, box.imap_password) == "imap-pa55"
    assert passwords.decrypt(SECRET, box.smtp_password) == "smtp-pa55"
    page = await admin_browser.get(f"/admin/mailboxes/{box_id}?done=created")
    assert page.status_code == 200
    assert "Mailbox created." in page.text
    assert "imap-pa55" not in page.text and "smtp-pa55" not in page.text
    assert box.imap_password not in page.text
    assert page.text.count("A password is stored; leave blank to keep it.") == 2
    assert 'value="imap.madad.test"' in page.text and "Not polled yet" in page.text

    # Saving with blank password fields keeps the passwords; the clear box removes one.
    saved = await submit(
        admin_browser,
        f"/admin/mailboxes/{box_id}",
        form(
            name="Support desk",
            address="support@madad.test",
            imap_host="imap.madad.test",
            imap_username="support",
            imap_folder="Support",
            smtp_host="smtp.madad.test",
            smtp_username="support",
            smtp_security="ssl",
            smtp_password_clear="true",
            ack_enabled=None,
        ),
    )
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=saved")
    box = await stored(db, box_id)
    assert (box.name, box.imap_folder, box.imap_port, box.smtp_security) == (
        "Support desk",
        "Support",
        None,
        "ssl",
    )
    assert passwords.decrypt(SECRET, box.imap_password) == "imap-pa55"
    assert box.smtp_password is None and box.ack_enabled is False
    # A new password replaces the stored one.
    await submit(
        admin_browser,
        f"/admin/mailboxes/{box_id}",
        form(
            name="Support desk",
            imap_host="imap.madad.test",
            imap_username="support",
            imap_password="n3w-pass",
        ),
    )
    assert passwords.decrypt(SECRET, (await stored(db, box_id)).imap_password) == "n3w-pass"

    off = await submit(admin_browser, f"/admin/mailboxes/{box_id}/enabled", {"enabled": "false"})
    assert off.status_code == 303 and not (await stored(db, box_id)).enabled
    listed = await admin_browser.get("/admin/mailboxes")
    row = re.search(rf'<tr id="mailbox-{box_id}" class="inactive">.*?</tr>', listed.text, re.S)
    assert row and "Support desk" in row.group(0) and "Disabled" in row.group(0)
    on = await submit(admin_browser, f"/admin/mailboxes/{box_id}/enabled", {"enabled": "true"})
    assert on.status_code == 303 and (await stored(db, box_id)).enabled

    gone = await submit(admin_browser, f"/admin/mailboxes/{box_id}/delete", {})
    assert gone.status_code == 303 and gone.headers["location"] == "/admin/mailboxes?done=deleted"
    assert await count(db) == 0
    assert (await admin_browser.get(f"/admin/mailboxes/{box_id}")).status_code == 404
    assert (await admin_browser.get("/admin/mailboxes/99999999999")).status_code == 422


async def test_every_bad_input_is_a_form_error_on_the_page(
    admin_browser: Browser, db: Database
) -> None:
    taken = await make_mailbox(db, name="Taken", address="taken@madad.test")
    cases: list[tuple[dict[str, object], str, int]] = [
        ({"address": "not an address"}, "Address:", 422),
        ({"address": "support+x@madad.test"}, "without a +tag", 422),
        ({"name": "   "}, "Name: a mailbox needs a name", 422),
        ({"name": "x" * 101}, "Name:", 422),
        ({"imap_host": "evil host"}, "IMAP server:", 422),
        (
            {"imap_host": "imap.madad.test", "imap_port": "70000", "imap_username": "u"},
            "IMAP port: a port number",
            422,
        ),
        ({"smtp_port": "twenty-five"}, "SMTP port: a whole number", 422),
        ({"smtp_port": "٢٥"}, "SMTP port: a whole number", 422),
        ({"poll_interval_seconds": "5"}, "Poll every (seconds):", 422),
        ({"poll_interval_seconds": ""}, "Poll every (seconds): a whole number", 422),
        ({"imap_security": "tls9"}, "IMAP security: one of", 422),
        ({"after_import": "move"}, "Move imported mail to folder:", 422),
        ({"imap_folder": "Posteingang/Büro"}, "Folder to read:", 422),
        ({"imap_host": "imap.madad.test"}, "IMAP user name: IMAP needs a user name", 422),
        ({"ack_text": "Hello {% if name %}"}, "Acknowledgement text: not a valid template", 422),
        ({"ack_subject": "{{ subject"}, "Acknowledgement subject: not a valid template", 422),
        ({"display_name": "a" * 30_000}, "Display name (From): this is far too long", 422),
        ({"name": "Taken"}, "another mailbox has this name or address", 409),
        ({"address": "taken@madad.test"}, "another mailbox has this name or address", 409),
    ]
    for values, message, status in cases:
        data = form(**values)
        r = await submit(admin_browser, "/admin/mailboxes", data)
        assert r.status_code == status, (values, r.text[:300])
        assert r.headers["content-type"].startswith("text/html")
        assert message in shown_error(r.text), (values, shown_error(r.text))
        if status == 409:
            continue  # its own name and address are no clash: see below
        r = await submit(admin_browser, f"/admin/mailboxes/{taken}", data)
        assert r.status_code == status, (values, r.text[:300])
        assert message in shown_error(r.text), (values, shown_error(r.text))
    other = await make_mailbox(db, name="Other", address="other@madad.test")
    r = await submit(admin_browser, f"/admin/mailboxes/{other}", form(name="Taken"))
    assert r.status_code == 409 and "another mailbox" in shown_error(r.text)
    assert (await stored(db, other)).name == "Other"
    assert await count(db) == 2
    after = await stored(db, taken)
    assert (after.name, after.address, after.imap_host) == ("Taken", "taken@madad.test", None)
    # The field in error is marked, and what was typed comes back.
    r = await submit(admin_browser, "/admin/mailboxes", form(name="Kept", imap_port="abc"))
    assert 'name="imap_port" type="text" value="abc" maxlength="5" aria-invalid="true"' in r.text
    assert 'value="Kept"' in r.text
    poll = await submit(admin_browser, f"/admin/mailboxes/{taken}/poll", {})
    assert poll.status_code == 422 and "no IMAP server to poll" in shown_error(poll.text)


async def test_naughty_strings_come_back_escaped_on_the_mailbox_pages(
    admin_browser: Browser, db: Database
) -> None:
    box = await make_mailbox(db, name="Start")
    for i, s in enumerate(NAUGHTY):
        data = form(name=s[:100] or "Empty", display_name=s[:200], ack_subject=s[:500], ack_text=s)
        r = await submit(admin_browser, f"/admin/mailboxes/{box}", data)
        assert r.status_code in (303, 422), (i, s, r.text[:300])
        page = r if r.status_code == 422 else await admin_browser.get(f"/admin/mailboxes/{box}")
        assert page.status_code in (200, 422), (i, s)
        assert_no_markup_injected(page.text)
        if "<script" in s:
            assert "&lt;script" in page.text, i
        created = await submit(admin_browser, "/admin/mailboxes", form(name=s[:100], address=s))
        assert created.status_code == 422, (i, s)
        assert_no_markup_injected(created.text)
    listed = await admin_browser.get("/admin/mailboxes")
    assert listed.status_code == 200
    assert_no_markup_injected(listed.text)
    assert await count(db) == 1


# --- the last poll and the connection test ---------------------------------------------------


async def test_the_pages_show_the_last_poll_status_and_error(
    admin_browser: Browser, db: Database, dovecot: Dovecot
) -> None:
    folder = dovecot.new_folder()
    good = await make_mailbox(
        db, name="Good", address="good@madad.test", **imap_values(dovecot, folder)
    )
    bad = await make_mailbox(
        db,
        name="Bad",
        address="bad@madad.test",
        **imap_values(dovecot, folder, imap_password="wrong"),
    )
    assert (await poll_mailbox(db, good)).error is None
    assert (await poll_mailbox(db, bad)).error is not None
    error = (await stored(db, bad)).last_poll_error
    assert error
    listed = (await admin_browser.get("/admin/mailboxes")).text
    good_row = re.search(rf'<tr id="mailbox-{good}".*?</tr>', listed, re.S)
    bad_row = re.search(rf'<tr id="mailbox-{bad}".*?</tr>', listed, re.S)
    assert good_row and bad_row
    assert 'class="status poll-ok status-active">OK<' in good_row.group(0)
    assert "0 messages imported" in good_row.group(0)
    assert 'class="status poll-error status-inactive">Error<' in bad_row.group(0)
    cell = re.search(r'<td class="error-text">(.*?)</td>', bad_row.group(0), re.S)
    assert cell and html.unescape(cell.group(1)) == error
    assert error == "ImapError: [AUTHENTICATIONFAILED] Authentication failed."
    page = (await admin_browser.get(f"/admin/mailboxes/{bad}")).text
    shown = re.search(r'<dd class="error-text" id="poll-error">(.*?)</dd>', page, re.S)
    assert shown and html.unescape(shown.group(1)) == error
    assert "wrong" not in error and "imap-secret" not in page


async def test_test_connection_logs_in_to_dovecot_and_the_smtp_server(
    admin_browser: Browser, db: Database, dovecot: Dovecot, smtp_capture: SmtpCapture
) -> None:
    folder = dovecot.new_folder()
    box = await make_mailbox(
        db,
        **imap_values(dovecot, folder, imap_security="starttls", verify_tls=False),
        **smtp_values(smtp_capture),
    )
    r = await submit(admin_browser, f"/admin/mailboxes/{box}/test", {})
    assert r.status_code == 200, r.text[:500]
    assert "Connection test" in r.text and "it works" in r.text
    imap = re.search(r'<dd class="ok" id="test-imap">(.*?)</dd>', r.text, re.S)
    smtp = re.search(r'<dd class="ok" id="test-smtp">(.*?)</dd>', r.text, re.S)
    assert imap and f"logged in; 0 messages in {folder}" in imap.group(1)
    assert smtp and "capture.test accepted EHLO (250)" in smtp.group(1)
    assert smtp_capture.received == []  # nothing was sent
    # A wrong password: the server's own words.
    await submit(
        admin_browser,
        f"/admin/mailboxes/{box}",
        form(
            **{
                k: str(v)
                for k, v in imap_values(
                    dovecot, folder, imap_security="starttls", imap_password="wrong"
                ).items()
            },
            verify_tls=None,
            smtp_host=smtp_capture.host,
            smtp_port=str(smtp_capture.port),
            smtp_security="none",
        ),
    )
    assert passwords.decrypt(SECRET, (await stored(db, box)).imap_password) == "wrong"
    r = await submit(admin_browser, f"/admin/mailboxes/{box}/test", {})
    assert r.status_code == 200 and "it failed" in r.text
    imap = re.search(r'<dd class="error-text" id="test-imap">(.*?)</dd>', r.text, re.S)
    assert imap and "ImapError" in imap.group(1) and "AUTHENTICATIONFAILED" in imap.group(1)
    assert re.search(r'<dd class="ok" id="test-smtp">', r.text)


async def test_test_connection_to_a_refused_port_shows_the_error(
    admin_browser: Browser, db: Database
) -> None:
    closed = free_port()  # bound and released: nothing listens there
    box = await make_mailbox(
        db,
        imap_host="127.0.0.1",
        imap_port=closed,
        imap_security="none",
        imap_username="support",
        imap_password="x",
        smtp_host="127.0.0.1",
        smtp_port=closed,
        smtp_security="none",
    )
    r = await submit(admin_browser, f"/admin/mailboxes/{box}/test", {})
    assert r.status_code == 200 and "it failed" in r.text
    imap = re.search(r'<dd class="error-text" id="test-imap">(.*?)</dd>', r.text, re.S)
    smtp = re.search(r'<dd class="error-text" id="test-smtp">(.*?)</dd>', r.text, re.S)
    assert imap and "ConnectionRefusedError" in imap.group(1), r.text
    assert "Connection refused" in imap.group(1)
    assert smtp and "SMTPConnectError" in smtp.group(1) and str(closed) in smtp.group(1)
    # Without any server there is nothing to test, and the page says so.
    plain = await make_mailbox(db, name="Plain", address="plain@madad.test")
    r = await submit(admin_browser, f"/admin/mailboxes/{plain}/test", {})
    assert r.status_code == 200 and "there is nothing to test" in r.text
