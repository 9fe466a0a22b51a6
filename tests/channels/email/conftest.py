"""Real mail servers for the email tests.

`dovecot`: Debian's dovecot-imapd (/usr/sbin/dovecot), started once per test session on a free
loopback port with its own config and base dir in a temporary directory, a passwd-file user and
a Maildir; IMAP with STARTTLS on one port and IMAPS on another (a self-signed certificate made
with `cryptography`). Run as root, dovecot needs unprivileged users for its internal and login
processes (`dovecot`, `dovenull`, created by the Debian package) and the mail user is `nobody`;
run as anyone else, every process runs as the current user. Without dovecot the IMAP tests are
skipped — or fail, under MADAD_REQUIRE_SERVICES=1.

`smtp_capture`: an aiosmtpd server in this event loop on a loopback port, keeping what it is
sent (Madad's outbound replies); it can be told to refuse or defer mail.
"""

from __future__ import annotations

import datetime as dt
import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.smtp import SMTP

from madad.auth.permissions import SYSTEM
from madad.channels.email import service
from madad.db import Database
from tests.conftest import REQUIRE
from tests.servers import free_port

CORPUS = Path(__file__).parent / "corpus"
DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"


def corpus(name: str) -> bytes:
    return (CORPUS / name).read_bytes()


# --- dovecot ----------------------------------------------------------------------------------


@dataclass
class Dovecot:
    host: str
    port: int  # IMAP, STARTTLS offered
    ssl_port: int  # IMAPS
    user: str
    password: str
    root: Path

    def client(self) -> imaplib.IMAP4:
        c = imaplib.IMAP4(self.host, self.port, timeout=10)
        c.login(self.user, self.password)
        return c

    def new_folder(self) -> str:
        name = f"T{uuid.uuid4().hex[:10]}"
        c = self.client()
        try:
            assert c.create(name)[0] == "OK"
        finally:
            c.logout()
        return name

    def append(self, folder: str, raw: bytes, *, seen: bool = False) -> None:
        c = self.client()
        try:
            flags = r"(\Seen)" if seen else None
            typ, data = c.append(folder, flags, None, raw)
            assert typ == "OK", data
        finally:
            c.logout()

    def unseen(self, folder: str) -> list[int]:
        c = self.client()
        try:
            c.select(folder, readonly=True)
            _, data = c.uid("SEARCH", "UNSEEN")
            return [int(x) for x in (data[0] or b"").split()]
        finally:
            c.logout()

    def count(self, folder: str) -> int:
        c = self.client()
        try:
            _typ, data = c.select(folder, readonly=True)
            return int(data[0])
        finally:
            c.logout()

    def recreate(self, folder: str) -> None:
        """Delete and create the folder again: the server gives it a new UIDVALIDITY."""
        c = self.client()
        try:
            assert c.delete(folder)[0] == "OK"
            assert c.create(folder)[0] == "OK"
        finally:
            c.logout()


def _self_signed(root: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = root / "cert.pem", root / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


def _wait_for_greeting(port: int, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"dovecot exited: {log.read_text(errors='replace')[-2000:]}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1) as s:
                if s.recv(100).startswith(b"* OK"):
                    return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("dovecot did not start in 15 s")


@pytest.fixture(scope="session")
def dovecot() -> Iterator[Dovecot]:
    if not os.path.exists(DOVECOT):
        message = "dovecot is not installed (apt-get install dovecot-imapd)"
        if REQUIRE:
            pytest.fail(message + " but MADAD_REQUIRE_SERVICES=1")
        pytest.skip(message)
    root = Path(tempfile.mkdtemp(prefix="madad-dovecot-"))
    root.chmod(0o755)
    me = pwd.getpwuid(os.geteuid())
    if os.geteuid() == 0:
        internal, login, mail_user = "dovecot", "dovenull", pwd.getpwnam("nobody")
    else:
        internal, login, mail_user = me.pw_name, me.pw_name, me
    (root / "mail").mkdir()
    (root / "run").mkdir()
    (root / "state").mkdir()
    os.chown(root / "mail", mail_user.pw_uid, mail_user.pw_gid)
    cert, key = _self_signed(root)
    port, ssl_port = free_port(), free_port()
    (root / "users").write_text(
        f"support:{{PLAIN}}imap-secret:{mail_user.pw_uid}:{mail_user.pw_gid}::{root / 'mail'}\n"
    )
    conf = root / "dovecot.conf"
    conf.write_text(
        f"""protocols = imap
listen = 127.0.0.1
base_dir = {root / "run"}
state_dir = {root / "state"}
log_path = {root / "dovecot.log"}
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 1
mail_location = maildir:{root / "mail"}/%u
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root / "users"}
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root / "users"}
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
  }}
}}
service anvil {{
  chroot =
}}
"""
    )
    proc = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT
    )
    try:
        _wait_for_greeting(port, proc, root / "dovecot.log")
        yield Dovecot("127.0.0.1", port, ssl_port, "support", "imap-secret", root)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        shutil.rmtree(root, ignore_errors=True)


# --- SMTP capture -----------------------------------------------------------------------------


@dataclass
class Captured:
    mail_from: str
    rcpt_tos: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        unix = self.raw.replace(b"\r\n", b"\n")
        return message_from_bytes(unix, policy=policy.default)  # type: ignore[return-value]


@dataclass
class SmtpCapture:
    host: str
    port: int
    received: list[Captured] = field(default_factory=list)
    answer: str | None = None  # e.g. "451 4.3.0 busy" or "550 5.1.1 unknown"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.answer:
            return self.answer
        self.received.append(
            Captured(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
        )
        return "250 OK"


@pytest.fixture
async def smtp_capture() -> AsyncIterator[SmtpCapture]:
    import asyncio

    capture = SmtpCapture("127.0.0.1", 0)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(capture, hostname="capture.test", decode_data=False),
        host="127.0.0.1",
        port=0,
    )
    capture.port = server.sockets[0].getsockname()[1]
    try:
        yield capture
    finally:
        server.close()
        await server.wait_closed()


# --- mailboxes --------------------------------------------------------------------------------


async def make_mailbox(db: Database, **values: Any) -> int:
    data: dict[str, Any] = {
        "name": f"Support {uuid.uuid4().hex[:6]}",
        "address": "support@madad.test",
    }
    data.update(values)
    async with db.session() as session:
        box = await service.create_mailbox(session, SYSTEM, data)
        return box.id


def imap_values(d: Dovecot, folder: str, **more: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "imap_host": d.host,
        "imap_port": d.port,
        "imap_security": "none",
        "imap_username": d.user,
        "imap_password": d.password,
        "imap_folder": folder,
    }
    values.update(more)
    return values


def smtp_values(capture: SmtpCapture, **more: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "smtp_host": capture.host,
        "smtp_port": capture.port,
        "smtp_security": "none",
    }
    values.update(more)
    return values
