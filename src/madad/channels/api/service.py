"""The API channel's own state: remembered answers to requests sent with an Idempotency-Key."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from madad import jobs
from madad.channels.api.models import IdempotentRequest
from madad.db import utcnow

CHANNEL = "api"
KEEP_KEYS = timedelta(hours=24)


async def remembered(session: AsyncSession, principal: str, key: str) -> IdempotentRequest | None:
    return await session.scalar(
        select(IdempotentRequest).where(
            IdempotentRequest.principal == principal, IdempotentRequest.key == key
        )
    )


def remember(
    session: AsyncSession,
    principal: str,
    key: str,
    request_hash: str,
    status_code: int,
    response: dict[str, Any],
) -> None:
    """Keep the answer in the same transaction as the work: both commit or neither does."""
    session.add(
        IdempotentRequest(
            principal=principal,
            key=key,
            request_hash=request_hash,
            status_code=status_code,
            response=response,
            created_at=utcnow(),
        )
    )


@jobs.periodic("api.idempotency_purge", every_seconds=3600)
async def purge_old_keys(ctx: jobs.JobContext) -> None:
    """Idempotency keys are honoured for 24 hours."""
    await ctx.session.execute(
        delete(IdempotentRequest).where(IdempotentRequest.created_at < utcnow() - KEEP_KEYS)
    )
