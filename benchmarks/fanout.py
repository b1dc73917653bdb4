"""Time one event's fan-out to many sockets in one process, for each channel layer, in one run.

    REDIS_URL=redis://127.0.0.1:6379/9 .venv/bin/python benchmarks/fanout.py [members ...]

For each layer (in-memory, channels-redis's list-based RedisChannelLayer, and its
publish/subscribe RedisPubSubChannelLayer, which FlowChat uses with REDIS_URL), every member
has one socket (a channel in the chat's group `chat.<id>`, as conversations.consumers joins
it). One event is published to the group, as conversations.broadcast does for every change,
and the benchmark waits until every socket has it. It prints the median time over several
rounds and the ratio to the publish/subscribe layer, measured in the same run.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowchat.settings")

import django

django.setup()

from channels.layers import InMemoryChannelLayer
from channels_redis.core import RedisChannelLayer
from channels_redis.pubsub import RedisPubSubChannelLayer

from conversations.broadcast import chat_group

ROUNDS = 5
EVENT = {"type": "chat.event", "event": "message.created", "chat": 1, "data": {}, "html": {"en": {"open": "x" * 1000}}}


async def one_round(layer, channels: list[str]) -> float:
    started = time.perf_counter()
    await layer.group_send(chat_group(1), EVENT)  # what conversations.broadcast publishes
    await asyncio.gather(*(layer.receive(channel) for channel in channels))
    return time.perf_counter() - started


async def measure(layer, members: int) -> float:
    channels = [await layer.new_channel() for _ in range(members)]
    for channel in channels:
        await layer.group_add(chat_group(1), channel)
    await one_round(layer, channels)  # warm up: connections, subscriptions
    times = [await one_round(layer, channels) for _ in range(ROUNDS)]
    for channel in channels:
        await layer.group_discard(chat_group(1), channel)
    return statistics.median(times)


async def main(sizes: list[int]) -> None:
    redis_url = os.getenv("REDIS_URL")
    if not redis_url:
        sys.exit("Set REDIS_URL (a Redis the benchmark may write to) to compare the Redis layers.")
    layers = {
        "RedisPubSubChannelLayer": lambda: RedisPubSubChannelLayer(hosts=[redis_url]),
        "RedisChannelLayer": lambda: RedisChannelLayer(hosts=[redis_url]),
        "InMemoryChannelLayer": lambda: InMemoryChannelLayer(),
    }
    print(f"{'members':>8}  {'layer':<24} {'median':>10}  vs pub/sub")
    for size in sizes:
        baseline = None
        for name, make in layers.items():
            layer = make()
            try:
                seconds = await asyncio.wait_for(measure(layer, size), timeout=120)
            except Exception as error:  # a layer that cannot keep up is a result too
                print(f"{size:>8}  {name:<24} failed: {type(error).__name__}: {error}")
                continue
            finally:
                if hasattr(layer, "flush"):
                    await layer.flush()
            baseline = baseline or seconds
            print(f"{size:>8}  {name:<24} {seconds * 1000:>8.1f} ms  {seconds / baseline:>6.2f}×")


if __name__ == "__main__":
    asyncio.run(main([int(arg) for arg in sys.argv[1:]] or [10, 100, 1000]))
