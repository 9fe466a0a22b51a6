"""A closed-loop HTTP load generator: N connections, each sending its next request as soon as
the previous answer arrives, for a bounded time and count. Prints requests/s and latency
percentiles, and the command that reproduces them.

  python bench/load.py --url http://127.0.0.1:8000/api/v1/inbound --method POST \
      --header "Authorization: Bearer $TOKEN" \
      --body '{"external_id": "load-{run}-{n}", "contact": {"email": "c{n%5000}@load.example"},
               "text": "message {n}"}' --concurrency 32 --duration 30

Body templates are JSON text with `{n}` (the request's sequence number), `{run}` (a random id
of this run), `{uuid}` and `{n%K}` (n modulo K) placeholders. It speaks plain HTTP/1.1 with
keep-alive on raw sockets so that its own cost stays small next to the server's.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shlex
import statistics
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import uvloop

_PLACEHOLDER = re.compile(r"\{(n|run|uuid|n%(\d+))\}")


def render(template: str, n: int, run: str) -> str:
    def sub(m: re.Match[str]) -> str:
        if m.group(1) == "n":
            return str(n)
        if m.group(1) == "run":
            return run
        if m.group(1) == "uuid":
            return uuid.uuid4().hex
        return str(n % int(m.group(2)))

    return _PLACEHOLDER.sub(sub, template)


@dataclass
class Result:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    started: float = 0.0
    finished: float = 0.0
    cpu_before: dict[str, float] = field(default_factory=dict)
    cpu_after: dict[str, float] = field(default_factory=dict)

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    def percentile(self, p: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        k = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))
        return ordered[k]


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def open(self) -> None:
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)

    async def request(self, raw: bytes) -> int:
        if self.writer is None:
            await self.open()
        assert self.reader is not None and self.writer is not None
        self.writer.write(raw)
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        chunked = False
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            lname = name.strip().lower()
            if lname == b"content-length":
                length = int(value.strip())
            elif lname == b"transfer-encoding" and b"chunked" in value.lower():
                chunked = True
        if chunked:
            while True:
                size = int((await self.reader.readuntil(b"\r\n")).strip().split(b";")[0], 16)
                await self.reader.readexactly(size + 2)
                if size == 0:
                    break
        elif length:
            await self.reader.readexactly(length)
        if b"connection: close" in head.lower():
            self.close()
        return status

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None


def build_request(
    method: str, path: str, host: str, headers: list[str], body: bytes | None
) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}", "Connection: keep-alive"]
    lines += headers
    if body is not None:
        if not any(h.lower().startswith("content-type:") for h in headers):
            lines.append("Content-Type: application/json")
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def run_load(
    url: str,
    *,
    method: str = "GET",
    headers: list[str] | None = None,
    body: str | None = None,
    concurrency: int = 32,
    duration: float = 10.0,
    max_requests: int = 1_000_000,
    warmup: float = 0.0,
    on_measure: Callable[[], dict[str, float]] | None = None,
) -> Result:
    parts = urlsplit(url)
    host = parts.hostname or "127.0.0.1"
    port = parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    headers = headers or []
    run = uuid.uuid4().hex[:8]
    counter = iter(range(max_requests))
    result = Result()
    static = build_request(method, path, host, headers, None) if body is None else None
    stop_at = 0.0
    measuring = False

    async def one_client() -> None:
        conn = Connection(host, port)
        try:
            while time.perf_counter() < stop_at:
                n = next(counter, None)
                if n is None:
                    return
                raw = static or build_request(
                    method, path, host, headers, render(body or "", n, run).encode()
                )
                t0 = time.perf_counter()
                try:
                    status = await conn.request(raw)
                except (OSError, asyncio.IncompleteReadError, ValueError) as exc:
                    conn.close()
                    if measuring:
                        result.errors[type(exc).__name__] += 1
                    continue
                if measuring:
                    result.latencies.append(time.perf_counter() - t0)
                    result.statuses[status] += 1
        finally:
            conn.close()

    if warmup > 0:
        stop_at = time.perf_counter() + warmup
        await asyncio.gather(*(one_client() for _ in range(concurrency)))
    measuring = True
    if on_measure:
        result.cpu_before = on_measure()
    result.started = time.perf_counter()
    stop_at = result.started + duration
    await asyncio.gather(*(one_client() for _ in range(concurrency)))
    result.finished = time.perf_counter()
    if on_measure:
        result.cpu_after = on_measure()
    return result


def report(result: Result, *, label: str, command: str) -> dict[str, object]:
    n = len(result.latencies)
    figures: dict[str, object] = {
        "label": label,
        "requests": n,
        "seconds": round(result.seconds, 2),
        "requests_per_second": round(n / result.seconds, 1) if result.seconds else 0,
        "p50_ms": round(result.percentile(50) * 1000, 2),
        "p95_ms": round(result.percentile(95) * 1000, 2),
        "p99_ms": round(result.percentile(99) * 1000, 2),
        "max_ms": round(max(result.latencies) * 1000, 2) if n else None,
        "mean_ms": round(statistics.fmean(result.latencies) * 1000, 2) if n else None,
        "statuses": dict(result.statuses),
        "errors": dict(result.errors),
    }
    print(f"== {label}")
    print(f"   {n} requests in {figures['seconds']} s: {figures['requests_per_second']} req/s")
    print(
        f"   latency p50 {figures['p50_ms']} ms, p95 {figures['p95_ms']} ms, "
        f"p99 {figures['p99_ms']} ms, max {figures['max_ms']} ms"
    )
    print(
        f"   statuses {figures['statuses']}"
        + (f", errors {figures['errors']}" if result.errors else "")
    )
    print(f"   reproduce: {command}")
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True)
    parser.add_argument("--method", default="GET")
    parser.add_argument("--header", action="append", default=[], help='"Name: value"')
    parser.add_argument("--body", help="JSON body template (see the module docstring)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds (bounded)")
    parser.add_argument("--max-requests", type=int, default=1_000_000)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--json", action="store_true", help="also print the figures as JSON")
    args = parser.parse_args(argv)
    if args.body:
        try:
            json.loads(render(args.body, 0, "check"))
        except json.JSONDecodeError as exc:
            parser.error(f"--body is not JSON once rendered: {exc}")
    result = uvloop.run(
        run_load(
            args.url,
            method=args.method.upper(),
            headers=args.header,
            body=args.body,
            concurrency=args.concurrency,
            duration=min(args.duration, 600),
            max_requests=args.max_requests,
            warmup=args.warmup,
        )
    )
    figures = report(
        result,
        label=f"{args.method.upper()} {args.url}",
        command=" ".join(shlex.quote(a) for a in ["python", *sys.argv]),
    )
    if args.json:
        print(json.dumps(figures))


if __name__ == "__main__":
    main()
