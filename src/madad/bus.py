"""Realtime publish/subscribe: in-process by default, Redis pub/sub when MADAD_REDIS_URL is set.

The bus carries announcements of what was committed; it is not the record. A subscriber that
falls behind or reconnects catches up from the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from typing import Any, Protocol

import orjson
from redis import asyncio as aioredis

log = logging.getLogger("madad.bus")

QUEUE_SIZE = 1000


class Subscription:
    """Messages for a set of topics, in publish order, until closed.

    A subscriber that lets QUEUE_SIZE messages pile up is marked `overflowed` and closed: it must
    resynchronise from the database rather than silently miss messages.
    """

    def __init__(self, bus: Bus, topics: Iterable[str]) -> None:
        self._bus = bus
        self.topics: set[str] = set(topics)
        self.queue: asyncio.Queue[tuple[str, dict[str, Any]] | None] = asyncio.Queue(QUEUE_SIZE)
        self.overflowed = False
        self.closed = False

    def deliver(self, topic: str, message: dict[str, Any]) -> None:
        if self.closed:
            return
        try:
            self.queue.put_nowait((topic, message))
        except asyncio.QueueFull:
            self.overflowed = True
            self.closed = True
            self._bus._detach(self)
            # Wake the reader so it notices the overflow.
            with contextlib.suppress(asyncio.QueueEmpty):
                self.queue.get_nowait()
            self.queue.put_nowait(None)

    async def add(self, *topics: str) -> None:
        new = set(topics) - self.topics
        self.topics |= new
        await self._bus._attach(self, new)

    async def get(self) -> tuple[str, dict[str, Any]] | None:
        """The next message, or None once closed."""
        if self.closed and self.queue.empty():
            return None
        return await self.queue.get()

    def __aiter__(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[tuple[str, dict[str, Any]]]:
        while True:
            item = await self.queue.get()
            if item is None:
                return
            yield item

    async def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._bus._detach(self)
        with contextlib.suppress(asyncio.QueueFull):
            self.queue.put_nowait(None)

    async def __aenter__(self) -> Subscription:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()


class Bus(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...
    async def publish(self, topic: str, message: dict[str, Any]) -> None: ...
    async def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> None: ...
    async def subscribe(self, *topics: str) -> Subscription: ...
    async def _attach(self, sub: Subscription, topics: set[str]) -> None: ...
    def _detach(self, sub: Subscription) -> None: ...


class _LocalFanout:
    """Topic → local subscriptions, shared by both bus kinds."""

    def __init__(self) -> None:
        self.by_topic: dict[str, set[Subscription]] = defaultdict(set)

    def add(self, sub: Subscription, topics: Iterable[str]) -> list[str]:
        """Attach; return the topics that had no local subscriber before."""
        fresh = []
        for topic in topics:
            if not self.by_topic.get(topic):
                fresh.append(topic)
            self.by_topic[topic].add(sub)
        return fresh

    def remove(self, sub: Subscription) -> list[str]:
        """Detach; return the topics that now have no local subscriber."""
        emptied = []
        for topic in sub.topics:
            subs = self.by_topic.get(topic)
            if subs is None:
                continue
            subs.discard(sub)
            if not subs:
                del self.by_topic[topic]
                emptied.append(topic)
        return emptied

    def deliver(self, topic: str, message: dict[str, Any]) -> None:
        for sub in list(self.by_topic.get(topic, ())):
            sub.deliver(topic, message)


class MemoryBus:
    """One process: publish delivers straight to local subscribers."""

    def __init__(self) -> None:
        self._fanout = _LocalFanout()

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        for subs in list(self._fanout.by_topic.values()):
            for sub in list(subs):
                await sub.close()

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        self._fanout.deliver(topic, message)

    async def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        for topic, message in items:
            self._fanout.deliver(topic, message)

    async def subscribe(self, *topics: str) -> Subscription:
        sub = Subscription(self, topics)
        self._fanout.add(sub, topics)
        return sub

    async def _attach(self, sub: Subscription, topics: set[str]) -> None:
        self._fanout.add(sub, topics)

    def _detach(self, sub: Subscription) -> None:
        self._fanout.remove(sub)


class RedisBus:
    """Many processes: publish goes through Redis; one pub/sub connection per process fans out."""

    def __init__(self, url: str, *, prefix: str = "madad:") -> None:
        self._redis = aioredis.from_url(url)
        self._pubsub = self._redis.pubsub()
        self._prefix = prefix
        self._fanout = _LocalFanout()
        self._reader: asyncio.Task[None] | None = None
        self._lock = asyncio.Lock()
        self._subscribed = asyncio.Event()
        self._confirming: dict[str, asyncio.Event] = {}

    async def start(self) -> None:
        await self._redis.ping()
        self._reader = asyncio.create_task(self._read(), name="madad-bus-reader")

    async def stop(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._reader
        for subs in list(self._fanout.by_topic.values()):
            for sub in list(subs):
                await sub.close()
        with contextlib.suppress(Exception):
            await self._pubsub.aclose()
        with contextlib.suppress(Exception):
            await self._redis.aclose()

    async def ping(self) -> bool:
        return bool(await self._redis.ping())

    async def publish(self, topic: str, message: dict[str, Any]) -> None:
        await self._redis.publish(self._prefix + topic, orjson.dumps(message))

    async def publish_many(self, items: list[tuple[str, dict[str, Any]]]) -> None:
        if not items:
            return
        async with self._redis.pipeline(transaction=False) as pipe:
            for topic, message in items:
                pipe.publish(self._prefix + topic, orjson.dumps(message))
            await pipe.execute()

    async def subscribe(self, *topics: str) -> Subscription:
        sub = Subscription(self, topics)
        await self._attach(sub, set(topics))
        return sub

    async def _attach(self, sub: Subscription, topics: set[str]) -> None:
        fresh = self._fanout.add(sub, topics)
        channels = [self._prefix + t for t in fresh]
        created = [self._confirming.setdefault(c, asyncio.Event()) for c in channels]
        # Topics another subscriber is still waiting on count as unconfirmed for us too.
        waits = [
            self._confirming[self._prefix + t]
            for t in topics
            if self._prefix + t in self._confirming
        ]
        if channels:
            async with self._lock:
                await self._pubsub.subscribe(*channels)
                self._subscribed.set()
        if not waits:
            return
        # Return only once Redis has confirmed: a message published after this call returns
        # is then guaranteed to reach the subscriber.
        try:
            await asyncio.wait_for(asyncio.gather(*(w.wait() for w in waits)), 10)
        finally:
            for channel, confirmed in zip(channels, created, strict=True):
                if self._confirming.get(channel) is confirmed:
                    del self._confirming[channel]

    def _detach(self, sub: Subscription) -> None:
        emptied = self._fanout.remove(sub)
        if emptied:
            task = asyncio.get_running_loop().create_task(self._unsubscribe(emptied))
            task.add_done_callback(lambda t: t.exception() if not t.cancelled() else None)

    async def _unsubscribe(self, topics: list[str]) -> None:
        async with self._lock:
            still_empty = [t for t in topics if not self._fanout.by_topic.get(t)]
            if still_empty:
                await self._pubsub.unsubscribe(*[self._prefix + t for t in still_empty])

    async def _read(self) -> None:
        backoff = 0.1
        while True:
            await self._subscribed.wait()
            try:
                message = await self._pubsub.get_message(timeout=1.0)
                backoff = 0.1
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("redis bus read failed; retrying")
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if message is None:
                continue
            channel = message["channel"]
            if isinstance(channel, bytes):
                channel = channel.decode()
            if message.get("type") == "subscribe":
                confirmed = self._confirming.get(channel)
                if confirmed is not None:
                    confirmed.set()
                continue
            if message.get("type") != "message":
                continue
            topic = channel[len(self._prefix) :]
            try:
                payload = orjson.loads(message["data"])
            except orjson.JSONDecodeError:
                log.warning("bus: undecodable message on %s", topic)
                continue
            self._fanout.deliver(topic, payload)


def make_bus(redis_url: str | None) -> MemoryBus | RedisBus:
    return RedisBus(redis_url) if redis_url else MemoryBus()
