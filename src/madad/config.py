"""Configuration: every setting comes from a `MADAD_*` environment variable (or `.env`).

No other module reads the environment; they receive a `Settings`.
"""

from __future__ import annotations

import secrets
from functools import lru_cache
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="MADAD_", env_file=".env", extra="ignore")

    database_url: str = "sqlite+aiosqlite:///./madad.db"
    database_schema: str | None = None  # PostgreSQL: the schema to use (search_path)
    database_replica_url: str | None = None
    redis_url: str | None = None
    data_dir: Path = Path("./madad-data")
    secret_key: str | None = Field(default=None, repr=False)

    host: str = "127.0.0.1"
    port: int = 8000
    base_url: str | None = None
    embedded_worker: bool = True
    auto_migrate: bool = True
    # WebSocket compression (permessage-deflate) for the widget's and the console's sockets:
    # off, because chat frames are small and each compressed socket keeps two zlib streams
    # (~40 KiB) and spends CPU on every frame (bench/chat.py).
    ws_per_message_deflate: bool = False

    db_pool_size: int = 10
    db_max_overflow: int = 20
    sqlite_busy_timeout_ms: int = 10_000

    max_request_bytes: int = 30 * 1024 * 1024
    max_attachment_bytes: int = 20 * 1024 * 1024
    max_attachments_per_message: int = 20

    reopen_window_days: int = 7
    webhook_timeout_seconds: float = 10.0

    # Email channel (see docs/email.md).
    email_max_message_bytes: int = 25 * 1024 * 1024
    email_smtp_listen_host: str = "127.0.0.1"
    email_smtp_listen_port: int = 2525
    email_smtp_hostname: str | None = None  # the name the listener greets with
    email_ack_per_sender: int = 3  # acknowledgements to one address per window, at most
    email_ack_window_hours: int = 24
    email_network_timeout_seconds: float = 30.0
    email_poll_lease_seconds: int = 600
    email_poll_batch: int = 25

    # Live chat: new chats a visitor token, and a client address, may start per hour (0: no
    # limit; behind a proxy, let it pass the client's address or every visitor shares one).
    chat_starts_per_visitor: int = 10
    chat_starts_per_address: int = 30

    # Surveys (CSAT after solve, NPS, the agents' pulse).
    survey_delay_minutes: float = 60.0  # after a ticket is solved
    survey_quiet_days: int = 14  # at most one CSAT survey per contact in this many days
    survey_change_hours: int = 48  # an answer can be changed for this long
    survey_expiry_days: int = 30  # an unanswered link works for this long
    survey_ces: bool = True  # ask the effort question (CES) on the CSAT page
    survey_low_score: int = 2  # CSAT at or below this offers a supervisor's follow-up
    nps_interval_days: int = 90  # 0 turns NPS off; nobody is asked more often than this
    nps_sample: float = 0.1  # share of eligible contacts asked per interval
    nps_batch: int = 200  # surveys sent per run of the periodic job, at most

    job_lease_seconds: int = 300
    job_max_attempts: int = 8
    job_batch_size: int = 20
    worker_poll_seconds: float = 1.0
    worker_concurrency: int = 8
    jobs_keep_done_days: int = 7

    token_cache_seconds: float = 5.0
    log_level: str = "info"

    @property
    def files_dir(self) -> Path:
        return self.data_dir / "files"

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def resolved_secret_key(self) -> str:
        """The signing key: the configured one, or one generated once and kept in the data dir."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret_key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.write_text(key)
        path.chmod(0o600)
        return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
