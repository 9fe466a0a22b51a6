"""Shapes shared by the API schemas of every domain: safe text and pages of results."""

from __future__ import annotations

from typing import Annotated, Generic, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict

T = TypeVar("T")


def _storable(value: str) -> str:
    """Text any database can store exactly: no NUL character, no lone surrogate."""
    if "\x00" in value:
        raise ValueError("text must not contain the NUL character")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("text must be valid Unicode (no lone surrogates)") from exc
    return value


SafeStr = Annotated[str, AfterValidator(_storable)]


class Strict(BaseModel):
    """Request bodies reject fields they do not know: a typo is an error, not a no-op."""

    model_config = ConfigDict(extra="forbid")


class PageOut(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None = None
