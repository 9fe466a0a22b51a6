"""HTTP plumbing of the live queues' public endpoints (status, callback requests): readable from
any website — a widget on a customer's site calls them across origins — with no credentials.

`PublicRoute` adds the CORS headers to every answer of its routes, problem documents included
(an error the widget cannot read is no help to the visitor); cookies are never allowed, so no
signed-in session can be used from another site.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Response
from fastapi.routing import APIRoute

# Retry-After is exposed so that a widget can say how long to wait after a 429.
CORS = {"Access-Control-Allow-Origin": "*", "Access-Control-Expose-Headers": "Retry-After"}
PREFLIGHT = {
    **CORS,
    "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Idempotency-Key",
    "Access-Control-Max-Age": "600",
}


def _handler(request: Request, exc: Exception) -> Callable[..., Awaitable[Response]] | None:
    """The app's own handler for this error (problem documents), short of the catch-all."""
    handlers = request.app.exception_handlers
    for cls in type(exc).__mro__:
        if cls is Exception:
            return None
        if cls in handlers:
            return handlers[cls]
    return None


class PublicRoute(APIRoute):
    def get_route_handler(self) -> Callable[[Request], Awaitable[Response]]:
        route_handler = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                response = await route_handler(request)
            except Exception as exc:
                found = _handler(request, exc)
                if found is None:
                    raise
                response = await found(request, exc)
            response.headers.update(CORS)
            return response

        return handler


def preflight() -> Response:
    return Response(status_code=204, headers=PREFLIGHT)
