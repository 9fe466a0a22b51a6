"""A poller that dies: `python -m tests.channels.email.poll_process MAILBOX_ID`, settings from
MADAD_*. It polls the mailbox and kills itself with SIGKILL right after its first batch is
committed, before marking anything on the server — a worker killed mid-poll."""

from __future__ import annotations

import asyncio
import os
import signal
import sys

from madad.bus import MemoryBus
from madad.channels.email.imap import poll_mailbox
from madad.config import Settings
from madad.db import Database


async def main(mailbox_id: int) -> None:
    db = Database(Settings(), bus=MemoryBus())

    async def die(uids: list[int]) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    await poll_mailbox(db, mailbox_id, before_settle=die)


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
