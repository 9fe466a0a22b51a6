"""Keyset pagination: opaque cursors over a list's sort key, and the `Page` a list returns."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson

from madad.errors import Invalid

T = TypeVar("T")


@dataclass
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def encode_cursor(values: list[Any]) -> str:
    def plain(v: Any) -> Any:
        return {"t": v.isoformat()} if isinstance(v, datetime) else v

    return base64.urlsafe_b64encode(orjson.dumps([plain(v) for v in values])).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list[Any]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        raw = orjson.loads(base64.urlsafe_b64decode(padded.encode()))
        if not isinstance(raw, list) or len(raw) != size:
            raise ValueError("wrong shape")
        return [
            datetime.fromisoformat(v["t"]) if isinstance(v, dict) and set(v) == {"t"} else v
            for v in raw
        ]
    except (ValueError, TypeError, orjson.JSONDecodeError) as exc:
        raise Invalid("cursor", "not a cursor this list handed out") from exc


def clamp_limit(limit: int, *, maximum: int = 200) -> int:
    if limit < 1:
        raise Invalid("limit", "must be at least 1")
    return min(limit, maximum)
