"""The realtime bus: in-process, and Redis pub/sub between processes."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from madad.bus import QUEUE_SIZE, MemoryBus, RedisBus


async def next_message(sub, timeout: float = 5.0):
    async with asyncio.timeout(timeout):
        return await sub.get()


async def test_memory_bus_delivers_in_order_to_each_subscriber() -> None:
    bus = MemoryBus()
    a = await bus.subscribe("tickets")
    b = await bus.subscribe("tickets", "ticket:1")
    for i in range(3):
        await bus.publish("tickets", {"id": i})
    await bus.publish("ticket:1", {"id": 99})
    assert [(await next_message(a))[1]["id"] for _ in range(3)] == [0, 1, 2]
    got = [(await next_message(b)) for _ in range(4)]
    assert [m["id"] for _, m in got] == [0, 1, 2, 99]
    await a.close()
    await bus.publish("tickets", {"id": 3})
    assert await next_message(a) is None  # closed: nothing more


async def test_a_subscriber_that_falls_behind_is_told_to_resync() -> None:
    bus = MemoryBus()
    slow = await bus.subscribe("tickets")
    for i in range(QUEUE_SIZE + 5):
        await bus.publish("tickets", {"id": i})
    assert slow.overflowed and slow.closed
    seen = [m async for _, m in slow]
    assert len(seen) < QUEUE_SIZE + 5  # it did not get everything — and it knows


async def test_redis_bus_carries_messages_between_processes(redis_url: str) -> None:
    prefix = f"madad-test-{uuid.uuid4().hex}:"
    one, two = RedisBus(redis_url, prefix=prefix), RedisBus(redis_url, prefix=prefix)
    await one.start()
    await two.start()
    try:
        sub = await two.subscribe("tickets")
        # subscribe() returns once Redis confirmed: a message published now is not lost.
        await one.publish("tickets", {"id": 1, "text": "سلام"})
        await one.publish_many([("tickets", {"id": 2}), ("ticket:7", {"id": 3})])
        assert (await next_message(sub)) == ("tickets", {"id": 1, "text": "سلام"})
        assert (await next_message(sub))[1] == {"id": 2}
        await sub.add("ticket:7")
        await one.publish("ticket:7", {"id": 4})
        assert (await next_message(sub)) == ("ticket:7", {"id": 4})
        await sub.close()
        assert await one.ping()
    finally:
        await one.stop()
        await two.stop()


async def test_redis_bus_shares_one_connection_among_local_subscribers(redis_url: str) -> None:
    bus = RedisBus(redis_url, prefix=f"madad-test-{uuid.uuid4().hex}:")
    await bus.start()
    try:
        subs = await asyncio.gather(*(bus.subscribe("tickets") for _ in range(50)))
        await bus.publish("tickets", {"id": 1})
        for sub in subs:
            assert (await next_message(sub))[1] == {"id": 1}
    finally:
        await bus.stop()


@pytest.mark.parametrize("n", [200])
async def test_redis_bus_keeps_order_under_load(redis_url: str, n: int) -> None:
    bus = RedisBus(redis_url, prefix=f"madad-test-{uuid.uuid4().hex}:")
    await bus.start()
    try:
        sub = await bus.subscribe("t")
        await bus.publish_many([("t", {"id": i}) for i in range(n)])
        assert [(await next_message(sub))[1]["id"] for _ in range(n)] == list(range(n))
    finally:
        await bus.stop()
