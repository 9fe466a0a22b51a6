"""Console admin pages of the auth domain: users and roles, teams, API tokens.

Only admins and owners reach them (the `users:write` scope); everyone else gets 403. Who may
grant what is the service's rule (nobody grants a role above their own); the pages only offer
what it allows. Every change is written to the audit log by the service.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession

from madad.api_types import SafeStr
from madad.auth import service as auth
from madad.auth.models import Role, User
from madad.auth.permissions import Actor, Scope, parse_scopes
from madad.auth.sessions import SignedIn
from madad.errors import Invalid, MadadError
from madad.web import i18n
from madad.web.console import require_page, see_other
from madad.web.deps import DB, PathId
from madad.web.templating import render

router = APIRouter(include_in_schema=False)

Admin = Annotated[SignedIn, Depends(require_page(Scope.users_write))]
Done = Annotated[str | None, Query(max_length=40)]
Name = Annotated[SafeStr, Form(max_length=200)]
# Row ids are 32-bit integers on PostgreSQL: anything larger cannot name a row.
RowId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def done_message(code: str | None) -> str | None:
    messages = {
        "user_created": i18n.gettext("User created. They can sign in now."),
        "user_saved": i18n.gettext("User saved."),
        "password_set": i18n.gettext("Password set. Their other sessions were signed out."),
        "team_created": i18n.gettext("Team created."),
        "team_saved": i18n.gettext("Team saved."),
        "team_deleted": i18n.gettext("Team deleted."),
        "token_revoked": i18n.gettext("Token revoked. It no longer works."),
    }
    return messages.get(code or "")


def role_label(role: str) -> str:
    labels = {
        "agent": i18n.gettext("Agent"),
        "supervisor": i18n.gettext("Supervisor"),
        "admin": i18n.gettext("Admin"),
        "owner": i18n.gettext("Owner"),
    }
    return labels.get(role, role)


def scope_label(scope: str) -> str:
    labels = {
        "tickets:read": i18n.gettext("read tickets and messages"),
        "tickets:write": i18n.gettext("reply to and change tickets"),
        "contacts:read": i18n.gettext("read contacts and organisations"),
        "contacts:write": i18n.gettext("change contacts and organisations"),
        "inbound:write": i18n.gettext("post inbound messages"),
        "activity:read": i18n.gettext("read facts and the live stream"),
        "users:read": i18n.gettext("read users and teams"),
        "users:write": i18n.gettext("manage users, teams and tokens"),
        "webhooks:manage": i18n.gettext("manage webhooks"),
        "reports:read": i18n.gettext("read reports"),
        "channels:manage": i18n.gettext("manage channels (mailboxes, chat, phone)"),
        "kb:read": i18n.gettext("read knowledge-base drafts and internal articles"),
        "kb:write": i18n.gettext("write and publish knowledge-base articles"),
    }
    return labels.get(scope, scope)


def grantable_roles(actor: Actor) -> list[str]:
    """The roles this admin may give: never one above their own."""
    return [r.value for r in Role if actor.outranks_or_equals(r)]


def may_change(actor: Actor, user: User) -> bool:
    return actor.outranks_or_equals(Role(user.role))


def _role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError as exc:
        raise Invalid("role", i18n.gettext("choose one of the roles offered")) from exc


# --- users -----------------------------------------------------------------------------------

EMPTY_USER = {"name": "", "email": "", "role": "agent", "language": "en", "time_zone": "UTC"}


async def _users_page(
    request: Request,
    session: AsyncSession,
    who: SignedIn,
    *,
    done: str | None = None,
    form: dict[str, str] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    users = await auth.list_users(session, include_inactive=True)
    teams_of: dict[int, list[str]] = {}
    for team, members in await auth.list_teams(session):
        for user_id in members:
            teams_of.setdefault(user_id, []).append(team.name)
    context = {
        "users": users,
        "teams_of": teams_of,
        "grantable": grantable_roles(who.actor),
        "may_change": lambda u: may_change(who.actor, u),
        "role_label": role_label,
        "ui_languages": auth.UI_LANGUAGES,
        "form": form or EMPTY_USER,
        "error": error,
        "done": done_message(done),
    }
    return render(request, "admin_users.html", context, status)


@router.get("/admin", include_in_schema=False)
async def admin_home(who: Admin) -> Response:
    return RedirectResponse("/admin/users", status_code=303)


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(request: Request, session: DB, who: Admin, done: Done = None) -> Response:
    return await _users_page(request, session, who, done=done)


@router.post("/admin/users", response_class=HTMLResponse)
async def create_user(
    request: Request,
    session: DB,
    who: Admin,
    name: Name = "",
    email: Annotated[SafeStr, Form(max_length=320)] = "",
    role: Annotated[str, Form(max_length=16)] = "agent",
    password: Annotated[SafeStr, Form(max_length=200)] = "",
    language: Annotated[str, Form(max_length=16)] = "en",
    time_zone: Annotated[SafeStr, Form(max_length=64)] = "UTC",
) -> Response:
    form = {
        "name": name,
        "email": email,
        "role": role,
        "language": language,
        "time_zone": time_zone,
    }
    try:
        if len(password) < auth.MIN_PASSWORD:
            raise Invalid(
                "password",
                i18n.gettext("a first password of at least %(n)s characters", n=auth.MIN_PASSWORD),
            )
        if language not in auth.UI_LANGUAGES:
            raise Invalid("language", i18n.gettext("choose one of the languages offered"))
        await auth.create_user(
            session,
            who.actor,
            email=email,
            name=name,
            role=_role(role),
            password=password,
            language=language,
            time_zone=auth.check_time_zone(time_zone.strip() or "UTC"),
        )
    except MadadError as exc:
        await session.rollback()
        return await _users_page(request, session, who, form=form, error=exc.detail, status=422)
    return see_other(request, "/admin/users?done=user_created")


async def _change_user(
    request: Request, session: AsyncSession, who: SignedIn, user_id: PathId, patch: auth.UserPatch
) -> Response:
    try:
        await auth.update_user(session, who.actor, user_id, patch)
    except MadadError as exc:
        if request.headers.get("hx-request"):
            raise  # htmx (a confirmed deactivation) shows the problem's detail as a toast
        await session.rollback()
        return await _users_page(request, session, who, error=exc.detail, status=exc.status)
    done = "password_set" if patch.password is not None else "user_saved"
    return see_other(request, f"/admin/users?done={done}#user-{user_id}")


@router.post("/admin/users/{user_id}/role", response_class=HTMLResponse)
async def change_role(
    request: Request,
    session: DB,
    who: Admin,
    user_id: RowId,
    role: Annotated[str, Form(max_length=16)],
) -> Response:
    try:
        patch = auth.UserPatch(role=_role(role))
    except MadadError as exc:
        return await _users_page(request, session, who, error=exc.detail, status=422)
    return await _change_user(request, session, who, user_id, patch)


@router.post("/admin/users/{user_id}/active", response_class=HTMLResponse)
async def set_active(
    request: Request,
    session: DB,
    who: Admin,
    user_id: RowId,
    active: Annotated[bool, Form()],
) -> Response:
    """Deactivate (signs them out everywhere; their tokens stop working) or reactivate."""
    return await _change_user(request, session, who, user_id, auth.UserPatch(is_active=active))


@router.post("/admin/users/{user_id}/password", response_class=HTMLResponse)
async def set_password(
    request: Request,
    session: DB,
    who: Admin,
    user_id: RowId,
    password: Annotated[SafeStr, Form(max_length=200)] = "",
) -> Response:
    return await _change_user(request, session, who, user_id, auth.UserPatch(password=password))


# --- teams -----------------------------------------------------------------------------------


async def _teams_page(
    request: Request,
    session: AsyncSession,
    who: SignedIn,
    *,
    done: str | None = None,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    users = await auth.list_users(session, include_inactive=True)
    context = {
        "teams": await auth.list_teams(session),
        "users": users,
        "users_by_id": {u.id: u for u in users},
        "form": form or {"name": "", "description": ""},
        "error": error,
        "done": done_message(done),
    }
    return render(request, "admin_teams.html", context, status)


@router.get("/admin/teams", response_class=HTMLResponse)
async def teams_page(request: Request, session: DB, who: Admin, done: Done = None) -> Response:
    return await _teams_page(request, session, who, done=done)


@router.post("/admin/teams", response_class=HTMLResponse)
async def create_team(
    request: Request,
    session: DB,
    who: Admin,
    name: Name = "",
    description: Annotated[SafeStr, Form(max_length=2000)] = "",
) -> Response:
    try:
        await auth.create_team(session, who.actor, name=name, description=description or None)
    except MadadError as exc:
        await session.rollback()
        form = {"name": name, "description": description}
        return await _teams_page(request, session, who, form=form, error=exc.detail, status=422)
    return see_other(request, "/admin/teams?done=team_created")


@router.post("/admin/teams/{team_id}", response_class=HTMLResponse)
async def save_team(
    request: Request,
    session: DB,
    who: Admin,
    team_id: RowId,
    name: Name = "",
    description: Annotated[SafeStr, Form(max_length=2000)] = "",
    member_ids: Annotated[list[int] | None, Form(max_length=10_000)] = None,
) -> Response:
    """Rename a team and set its members (the checked people, and only them)."""
    try:
        await auth.update_team(
            session,
            who.actor,
            team_id,
            name=name,
            description=description,
            member_ids=member_ids or [],
        )
    except MadadError as exc:
        await session.rollback()
        return await _teams_page(request, session, who, error=exc.detail, status=exc.status)
    return see_other(request, f"/admin/teams?done=team_saved#team-{team_id}")


@router.post("/admin/teams/{team_id}/delete")
async def delete_team(request: Request, session: DB, who: Admin, team_id: RowId) -> Response:
    await auth.delete_team(session, who.actor, team_id)
    return see_other(request, "/admin/teams?done=team_deleted")


# --- API tokens ------------------------------------------------------------------------------


async def _tokens_page(
    request: Request,
    session: AsyncSession,
    who: SignedIn,
    *,
    done: str | None = None,
    created: Any = None,
    secret: str | None = None,
    form: dict[str, Any] | None = None,
    error: str | None = None,
    status: int = 200,
) -> Response:
    users = await auth.list_users(session, include_inactive=True)
    context = {
        "tokens": list(reversed(await auth.list_tokens(session))),
        "users": users,
        "users_by_id": {u.id: u for u in users},
        "may_change": lambda u: may_change(who.actor, u),
        "scopes": [s.value for s in Scope],
        "scope_label": scope_label,
        "role_label": role_label,
        "created": created,
        "secret": secret,
        "form": form or {"user_id": who.user.id, "name": "", "scopes": [], "expires": ""},
        "error": error,
        "done": done_message(done),
    }
    return render(request, "admin_tokens.html", context, status)


@router.get("/admin/tokens", response_class=HTMLResponse)
async def tokens_page(request: Request, session: DB, who: Admin, done: Done = None) -> Response:
    return await _tokens_page(request, session, who, done=done)


@router.post("/admin/tokens", response_class=HTMLResponse)
async def create_token(
    request: Request,
    session: DB,
    who: Admin,
    user_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    name: Annotated[SafeStr, Form(max_length=100)] = "",
    scopes: Annotated[list[str] | None, Form(max_length=50)] = None,
    expires_in_days: Annotated[str, Form(max_length=5)] = "",
) -> Response:
    """Create a token and show its secret on this one response; it is never shown again."""
    form = {"user_id": user_id, "name": name, "scopes": scopes or [], "expires": expires_in_days}
    try:
        try:
            chosen = parse_scopes(scopes or [])
        except ValueError as exc:
            raise Invalid("scopes", str(exc)) from exc
        days = expires_in_days.strip()
        if days and not (days.isdigit() and days.isascii() and 1 <= int(days) <= 3650):
            raise Invalid("expires_in_days", i18n.gettext("a number of days from 1 to 3650"))
        token, secret = await auth.create_token(
            session,
            who.actor,
            user_id=user_id,
            name=name,
            scopes=chosen,
            expires_in_days=int(days) if days else None,
        )
    except MadadError as exc:
        await session.rollback()
        return await _tokens_page(request, session, who, form=form, error=exc.detail, status=422)
    return await _tokens_page(request, session, who, created=token, secret=secret)


@router.post("/admin/tokens/{token_id}/revoke")
async def revoke_token(request: Request, session: DB, who: Admin, token_id: RowId) -> Response:
    await auth.revoke_token(session, who.actor, token_id)
    return see_other(request, "/admin/tokens?done=token_revoked")
