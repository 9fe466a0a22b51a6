"""The demo shop, `/demo/shop` (and `/demo/shop/ur`): a pretend customer's website with the
chat widget on it, the way a customer of Madad puts it on theirs (one script tag), so that
someone trying the demo can chat as a visitor in one browser and answer as an agent in
another. It exists only on a database that holds the demo and its shop's chat inbox."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from madad.auth.models import User
from madad.channels.chat import inboxes
from madad.demo.desk import DOMAIN
from madad.demo.live import SHOP_INBOX
from madad.demo.shop import SHOP
from madad.errors import NotFound
from madad.web import i18n
from madad.web.deps import DB
from madad.web.templating import render

router = APIRouter(include_in_schema=False)
ASSETS = Path(__file__).parent / "static"


async def shop_inbox_key(session: AsyncSession) -> str:
    """The demo shop's chat inbox; NotFound unless this database holds the demo."""
    demo = await session.scalar(select(User.id).where(User.email.like(f"%@{DOMAIN}")).limit(1))
    shop = next((i for i in await inboxes.list_inboxes(session) if i.name == SHOP_INBOX), None)
    if demo is None or shop is None:
        raise NotFound("no demo here")
    return shop.key


async def _shop(request: Request, session: AsyncSession, language: str) -> HTMLResponse:
    key = await shop_inbox_key(session)
    i18n.activate(language)
    words = SHOP[language]
    other = "ur" if language == "en" else "en"
    base = (request.app.state.settings.base_url or str(request.base_url)).rstrip("/")
    context = {
        "t": words,
        "inbox": key,
        "help": "/help" if language == "en" else f"/help/{language}",
        "portal": "/portal" if language == "en" else f"/portal/{language}",
        "other": {
            "href": "/demo/shop" + ("" if other == "en" else f"/{other}"),
            "name": SHOP[other]["language"],
        },
        "snippet": f'<script src="{base}/widget.js?inbox={key}" async></script>',
    }
    return render(request, "demo_shop.html", context)


@router.get("/demo/shop", response_class=HTMLResponse)
async def shop_en(request: Request, session: DB) -> HTMLResponse:
    return await _shop(request, session, "en")


@router.get("/demo/shop/ur", response_class=HTMLResponse)
async def shop_ur(request: Request, session: DB) -> HTMLResponse:
    return await _shop(request, session, "ur")


@router.get("/demo/assets/shop.css")
async def shop_css() -> FileResponse:
    return FileResponse(ASSETS / "shop.css", media_type="text/css")
