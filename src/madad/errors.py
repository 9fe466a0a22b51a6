"""Domain errors: services raise these; the HTTP layer and the CLI each map them once.

A service never returns None to mean "failed".
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str


class MadadError(Exception):
    status: int = 400
    title: str = "Bad request"

    def __init__(self, detail: str, *, errors: list[FieldError] | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []


class NotFound(MadadError):
    status = 404
    title = "Not found"


class Unauthorized(MadadError):
    status = 401
    title = "Unauthorized"


class Forbidden(MadadError):
    status = 403
    title = "Forbidden"


class Conflict(MadadError):
    status = 409
    title = "Conflict"


class TooLarge(MadadError):
    status = 413
    title = "Payload too large"


class TooManyRequests(MadadError):
    """`retry_after`: seconds until a new attempt can succeed (the HTTP layer sends it as the
    `Retry-After` header)."""

    status = 429
    title = "Too many requests"

    def __init__(self, detail: str, *, retry_after: int | None = None) -> None:
        super().__init__(detail)
        self.retry_after = None if retry_after is None else max(1, int(retry_after))


class Invalid(MadadError):
    status = 422
    title = "Invalid input"

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}", errors=[FieldError(field_name, message)])
        self.field = field_name


@dataclass
class Problem:
    """An RFC 9457 problem document."""

    status: int
    title: str
    detail: str
    errors: list[FieldError] = field(default_factory=list)

    def to_dict(self) -> dict:
        body: dict = {
            "type": "about:blank",
            "title": self.title,
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors:
            body["errors"] = [{"field": e.field, "message": e.message} for e in self.errors]
        return body


def problem_of(exc: MadadError) -> Problem:
    return Problem(exc.status, exc.title, exc.detail, exc.errors)
