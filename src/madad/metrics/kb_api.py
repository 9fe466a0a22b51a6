"""`GET /api/v1/reports/knowledge-base`: the knowledge-base report of a period (the same as the
page's JSON export) for an API token with `reports:read`."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from madad.metrics import kb_report, reports
from madad.metrics.api import From, Reader, To, period_of
from madad.web.deps import DB

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])


@router.get("/knowledge-base")
async def knowledge_base(
    session: DB, actor: Reader, start: From = None, end: To = None
) -> dict[str, Any]:
    """Views, reads, read time, helpfulness, contacts started from articles, searches with no
    result (and the failed queries), deflection and the answer bot's outcomes over `[from, to)`
    (default: the last 30 days), with the previous period's headline figures and the articles
    by reads. Definitions: docs/metrics.md."""
    first, last = period_of(start, end)
    return await kb_report.report(session, reports.day_period(first, last))
