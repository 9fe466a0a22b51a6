"""Every error leaves as an RFC 9457 problem document (`application/problem+json`)."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError, WebSocketRequestValidationError
from fastapi.responses import JSONResponse, Response
from sqlalchemy.exc import IntegrityError
from starlette.exceptions import HTTPException as StarletteHTTPException

from madad.errors import FieldError, MadadError, Problem, TooManyRequests, problem_of
from madad.web.templating import render

log = logging.getLogger("madad.http")

PROBLEM = "application/problem+json"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(
        problem.to_dict(), status_code=problem.status, media_type=PROBLEM, headers=headers
    )


def _location(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def wants_page(request: Request) -> bool:
    """A browser navigating to a console page (not the API, not an htmx fragment request)."""
    return (
        not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
        and "hx-request" not in request.headers
    )


def error_page(request: Request, status: int, title: str, detail: str) -> Response:
    return render(request, "error.html", {"title": title, "detail": detail}, status=status)


def install(app: FastAPI) -> None:
    @app.exception_handler(MadadError)
    async def _domain(request: Request, exc: MadadError) -> Response:
        if wants_page(request):
            return error_page(request, exc.status, exc.title, exc.detail)
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        if isinstance(exc, TooManyRequests) and exc.retry_after is not None:
            headers = {"Retry-After": str(exc.retry_after)}
        return problem_response(problem_of(exc), headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = exc.errors()
        if any(e.get("type") == "json_invalid" for e in errors):
            detail = next(e for e in errors if e.get("type") == "json_invalid")
            ctx = detail.get("ctx") or {}
            return problem_response(
                Problem(
                    400,
                    "Malformed JSON",
                    f"the request body is not valid JSON: {ctx.get('error', 'parse error')}",
                )
            )
        fields = [FieldError(_location(e.get("loc", ())), e.get("msg", "invalid")) for e in errors]
        summary = "; ".join(f"{f.field}: {f.message}" for f in fields[:5])
        return problem_response(Problem(422, "Invalid input", summary, fields))

    @app.exception_handler(WebSocketRequestValidationError)
    async def _ws_invalid(_: Request, exc: WebSocketRequestValidationError) -> JSONResponse:
        return problem_response(Problem(422, "Invalid input", str(exc.errors())))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not found", 405: "Method not allowed", 413: "Payload too large"}
        detail = exc.detail if isinstance(exc.detail, str) else "request failed"
        if wants_page(request):
            return error_page(
                request, exc.status_code, titles.get(exc.status_code, "Error"), detail
            )
        return problem_response(
            Problem(exc.status_code, titles.get(exc.status_code, "Error"), detail),
            dict(exc.headers) if exc.headers else None,
        )

    @app.exception_handler(IntegrityError)
    async def _integrity(_: Request, exc: IntegrityError) -> JSONResponse:
        log.info("integrity error: %s", exc.orig)
        return problem_response(
            Problem(409, "Conflict", "the change conflicts with data stored meanwhile; retry")
        )

    @app.exception_handler(Exception)
    async def _crash(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return problem_response(Problem(500, "Internal error", "something went wrong on our side"))
