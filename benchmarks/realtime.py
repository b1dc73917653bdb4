"""FlowChat's real-time benchmark: send → pushed frame latency, throughput, CPU, memory, in one run.

    .venv/bin/python benchmarks/realtime.py                 # full run, ~25 min: docs/performance.md + .png
    .venv/bin/python benchmarks/realtime.py --smoke         # ~1 min, daphne only; exit 1 on any loss
    .venv/bin/python benchmarks/realtime.py --servers daphne,uvicorn --out /tmp/perf.md
    .venv/bin/python benchmarks/realtime.py --stacks flowchat --points fan-out,sweep   # a part of it
    .venv/bin/python benchmarks/realtime.py --report-from /tmp/.../results.json       # the report again

Everything runs on this machine's loopback. The run makes its own PostgreSQL database and
role (`flowchat_bench`, dropped and made again; `manage.py migrate`; the role may hold 40
connections, since the server is shared), uses Redis database 15 (channel-layer prefixes of
its own: pub/sub channels ignore the database number), and seeds people, chats, sessions
and API tokens through FlowChat's own code (benchmarks/realtime_seed.py). Three stacks are
measured in the same run:

- **FlowChat**: real browser sockets at `/ws/?lang=en&chat=<id>` (session cookie, Origin),
  sends through `POST /api/messages/` with an API token; what arrives is the pushed HTML;
- **minimal**: a Channels app on the same ASGI server and the same Redis pub/sub layer,
  one group_send per POST, forwarded as text (benchmarks/minimal_app.py);
- **raw**: a `websockets` server that broadcasts in-process (benchmarks/raw_server.py).

FlowChat is measured on each ASGI server of `--servers`; minimal on the first of them.

Every measurement point starts a fresh server process pinned to core 0 (`taskset -c 0`);
the load generator (benchmarks/loadgen.py) runs in this process on core 1. A point opens its
sockets (at most 100 handshakes at a time), sends warm-up messages until every socket has
received one (so every socket has joined its groups), then sends marked messages open-loop
at a fixed rate and waits until every observer has every message, or the drain time ends.
About 50 sockets per point are timing observers: latency is receive time − send time, the
send time being carried in the message text (one clock: same process). The other sockets
are raw sinks that only count frames. Lost = a sent message an observer never got (or
fewer frames with markers than messages); duplicated = more such frames than messages.

The points: fan-out to 100, 500 and 1,000 sockets of one chat at 1 msg/s (FlowChat also
10, for the send request time); 100 sockets at rising rates until p99 passes 300 ms (then
one step between the last good rate and the first bad one); FlowChat's mixed load (100
chats of 10 and one of 500, 50 sends/s over them); opening 2,000 sockets and the idle
memory per socket at 2,000 and 10,000 (with permessage-deflate offered: at 2,000);
FlowChat's presence flood (on the first server); SIGTERM with 100 sockets open.

People are marked online before the latency points (as if another tab were open), so that
opening the sockets does not set off presence events (N×N for an N-member group); the
socket, memory and presence points let presence run as it does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import json
import math
import os
import platform
import resource
import secrets
import shlex
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import realtime_seed as seeding
from benchmarks.loadgen import (
    HttpPool,
    Opened,
    Sender,
    SeqCounter,
    SocketSpec,
    Tally,
    WebSocket,
    close_all,
    open_sockets,
    percentile,
    send_at_rate,
    send_one,
)
from benchmarks.report import markdown, plot, summary_text
from benchmarks.servers import FLOWCHAT, MINIMAL, RAW, SERVERS, Server, Stack

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/15"
P99_LIMIT_MS = 300.0
PG_CONNECTION_LIMIT = 40  # of the benchmark's database role (the PostgreSQL server is shared)

STACKS = {"flowchat": FLOWCHAT, "minimal": MINIMAL, "raw": RAW}
KINDS = ("fan-out", "sweep", "mixed", "presence", "waves", "sockets")

Result = dict[str, Any]


@dataclass(frozen=True)
class Config:
    """What a run measures; `smoke()` is a tiny version of every kind of point."""

    fan_sizes: tuple[int, ...] = (100, 500, 1000)  # every stack
    send_latency_sizes: tuple[int, ...] = (10,)  # FlowChat only, besides fan_sizes
    fan_sends: int = 6  # at 1 msg/s
    graceful_size: int = 100
    sweep_members: int = 100
    sweep_rates: tuple[int, ...] = (1, 5, 10, 20, 50, 100, 200, 400, 800, 1600, 3200)
    sweep_seconds: float = 4.0
    sweep_refine: int = 1  # steps between the last good rate and the first bad one
    cpu_rate: int = 10
    mixed_chats: int = 100
    mixed_size: int = 10
    mixed_big: int = 500
    mixed_rate: int = 50
    mixed_seconds: float = 6.0
    presence_size: int = 100
    wave_size: int = 1000  # the people of the fan-out chat of this size reconnect at once
    storm_sockets: int = 2000  # idle people's tabs arriving at storm_rate
    storm_rate: float = 200.0
    socket_counts: tuple[int, ...] = (2000, 10000)
    deflate_counts: tuple[int, ...] = (2000,)  # with permessage-deflate offered (10,000 more would take minutes)
    idle_people: int = 2000
    open_limit_seconds: float = 150.0  # per batch of sockets opened
    quiet_seconds: float = 1.5  # no frame for this long: presence has settled
    observers: int = 50  # timing observers per point; the other sockets are sinks
    drain_seconds: float = 8.0
    deadline_minutes: float = 40.0

    @classmethod
    def smoke(cls) -> Config:
        return cls(
            fan_sizes=(20,),
            send_latency_sizes=(),
            fan_sends=2,
            graceful_size=20,
            sweep_members=20,
            sweep_rates=(2, 10),
            sweep_seconds=1.5,
            sweep_refine=0,
            cpu_rate=10,
            mixed_chats=5,
            mixed_big=20,
            mixed_rate=10,
            mixed_seconds=1.5,
            presence_size=10,
            wave_size=20,
            storm_sockets=100,
            storm_rate=100.0,
            socket_counts=(200,),
            deflate_counts=(200,),
            idle_people=100,
            observers=10,
            quiet_seconds=0.5,
            drain_seconds=5.0,
            deadline_minutes=5.0,
        )

    def seed_plan(self) -> seeding.SeedPlan:
        sizes = {*self.fan_sizes, *self.send_latency_sizes, self.sweep_members, self.mixed_big, self.presence_size}
        return seeding.SeedPlan(
            fan_sizes=tuple(sorted(sizes)),
            mixed_chats=self.mixed_chats,
            mixed_size=self.mixed_size,
            idle_people=self.idle_people,
            idle_size=10,
        )


@dataclass
class ChatLoad:
    """One chat of a point: its sockets (the first `observers` time frames), and who sends to it."""

    chat: int
    sockets: list[SocketSpec]
    observers: int
    senders: list[Sender]
    member_ids: list[int] = field(default_factory=list)


# The stacks' sockets and senders -------------------------------------------------------------------


def flowchat_chat(chat: seeding.SeedChat, observers: int) -> ChatLoad:
    sockets = [
        SocketSpec(chat.id, f"/ws/?lang=en&chat={chat.id}", (f"Cookie: sessionid={session}",))
        for session in chat.sessions
    ]
    senders = [Sender("/api/messages/", (f"Authorization: Token {key}",)) for key in chat.tokens]
    return ChatLoad(chat.id, sockets, observers, senders, list(chat.member_ids))


def plain_chat(chat: int, members: int, observers: int) -> ChatLoad:
    """A chat of the minimal and raw stacks: anonymous sockets in group `chat`."""
    return ChatLoad(chat, [SocketSpec(chat, f"/ws/?chat={chat}")] * members, observers, [Sender("/send")])


def idle_specs(stack: Stack, seeded: seeding.Seeded, count: int, people: int) -> list[SocketSpec]:
    """`count` idle tabs: one per person of the idle groups (of 10), then a second tab each, and so on."""
    specs: list[SocketSpec] = []
    while len(specs) < count:
        before = len(specs)
        if stack is FLOWCHAT:
            for group in seeded.idle:
                specs += [
                    SocketSpec(group.id, f"/ws/?lang=en&chat={group.id}", (f"Cookie: sessionid={session}",))
                    for session in group.sessions
                ]
        else:
            specs += [SocketSpec(100_000 + n // 10, f"/ws/?chat={100_000 + n // 10}") for n in range(people)]
        if len(specs) == before:
            break  # nobody to open tabs for
    return specs[:count]


# Running points ------------------------------------------------------------------------------------


class Run:
    """One benchmark run: its settings, environment, seeded data and results."""

    def __init__(self, config: Config, servers: list[str], seeded: seeding.Seeded, env: dict[str, str], logs: Path):
        self.config = config
        self.servers = servers
        self.seeded = seeded
        self.env = env
        self.logs = logs
        self.results: list[Result] = []
        self.seqs = SeqCounter()
        self.deadline = time.monotonic() + config.deadline_minutes * 60
        self.points = 0
        self.point_started = time.monotonic()
        self.stacks: list[Stack] = list(STACKS.values())
        self.kinds: tuple[str, ...] = KINDS
        self.database = ""  # FlowChat's, to count its connections

    def out_of_time(self) -> bool:
        return time.monotonic() > self.deadline

    def label(self, stack: Stack, server: str, name: str) -> str:
        self.points += 1
        self.point_started = time.monotonic()
        return f"{self.points:03d}-{stack.name}-{server}-{name}".replace(" ", "_")

    def record(self, result: Result) -> None:
        result["wall_seconds"] = time.monotonic() - self.point_started
        self.results.append(result)
        print(summary_text(result), flush=True)

    # Message points

    async def message_point(
        self,
        stack: Stack,
        server: str,
        kind: str,
        chats: list[ChatLoad],
        rate: float,
        sends: int,
        *,
        graceful: bool = False,
        warm: bool = True,
    ) -> Result:
        members = sum(len(c.sockets) for c in chats)
        result: Result = {"stack": stack.name, "server": server if stack is not RAW else "websockets"}
        result |= {"kind": kind, "members": members, "chats": len(chats), "rate": rate}
        if stack is FLOWCHAT:
            online = sorted({pk for c in chats for pk in c.member_ids})
            await asyncio.to_thread(seeding.prepare_presence, online)
        label = self.label(stack, server, f"{kind}-{members}-{rate:g}")
        server_process = Server(stack, server, self.env, self.logs, label)
        try:
            async with server_process as srv:
                await self.measure_messages(srv, chats, rate, sends, result, graceful=graceful, warm=warm)
            result["log_errors"] = server_process.log_errors()
        except (RuntimeError, OSError) as error:
            result["error"] = str(error)
        result["log"] = str(server_process.log_path)
        self.record(result)
        return result

    async def measure_messages(
        self, srv: Server, chats: list[ChatLoad], rate: float, sends: int, result: Result, *, graceful: bool, warm: bool
    ) -> None:
        specs: list[SocketSpec] = []
        observer_indexes: set[int] = set()
        for chat in chats:
            observer_indexes.update(range(len(specs), len(specs) + chat.observers))
            specs.extend(chat.sockets)
        opened = await open_sockets(specs, srv.port, observers=observer_indexes)
        sockets = opened.sockets
        result |= {"open_seconds": opened.seconds, "open_failures": opened.failures}
        result["listen_overflows"] = srv.listen_overflows()
        if opened.errors:
            result["open_errors"] = dict(opened.errors)
        pool = HttpPool(srv.http_port, 16)
        try:
            by_chat: dict[int, list[WebSocket]] = {}
            for socket in sockets:
                by_chat.setdefault(socket.spec.chat, []).append(socket)
            tally = Tally()
            for socket in sockets:
                socket.tally = tally
            senders = {chat.chat: chat.senders for chat in chats}
            if warm:
                result["not_joined"] = await self.warm_up(pool, senders, by_chat, tally)
            await asyncio.sleep(0.2)
            sink_base = {id(s): s.frames for s in sockets}
            for socket in sockets:
                socket.seen.clear()
                socket.marked_frames = socket.got_own = 0
            tally = Tally()
            for socket in sockets:
                socket.tally = tally
            plan = []
            for n in range(sends):
                chat = chats[n % len(chats)]
                plan.append((chat.senders[(n // len(chats)) % len(chat.senders)], chat.chat))
            cpu_before, gen_before, wall_before = srv.cpu_seconds(), time.process_time(), time.perf_counter()
            watch = asyncio.create_task(self.watch_connections(result)) if srv.stack is FLOWCHAT else None
            seconds = await send_at_rate(pool, plan, rate, self.seqs, tally)
            drained = await self.drain(tally, by_chat, sink_base)
            cpu_after, gen_after, wall_after = srv.cpu_seconds(), time.process_time(), time.perf_counter()
            if watch is not None:
                watch.cancel()
            result |= self.message_stats(tally, by_chat, sink_base, seconds, rate)
            result["drain_seconds"] = drained
            result["server_cpu_seconds"] = cpu_after - cpu_before
            delivered = result["delivered"]  # that arrived (as many as planned unless some were lost)
            result["cpu_ms_per_1000"] = (cpu_after - cpu_before) / delivered * 1e6 if delivered else None
            result["generator_cpu"] = (gen_after - gen_before) / (wall_after - wall_before)
            if graceful:
                result["shutdown"] = await srv.terminate(sockets, wait=10.0)
        finally:
            pool.close()
            close_all(sockets)

    async def watch_connections(self, result: Result) -> None:
        """The most PostgreSQL connections FlowChat held during the point, sampled twice a second."""
        result["pg_connections"] = 0
        while self.database:
            count = await asyncio.to_thread(seeding.open_connections, ADMIN_URL, self.database)
            result["pg_connections"] = max(result["pg_connections"], count)
            await asyncio.sleep(0.5)

    async def warm_up(
        self, pool: HttpPool, senders: dict[int, list[Sender]], by_chat: dict[int, list[WebSocket]], tally: Tally
    ) -> int:
        """Send one message per chat until every socket has had one; returns the sockets that never did."""

        def waiting(chat: int) -> list[WebSocket]:
            return [s for s in by_chat[chat] if not (s.seen if s.observe else s.frames)]

        slots = asyncio.Semaphore(4)  # a burst of warm-ups must not run the server out of database connections

        async def warm(chat: int) -> None:
            for _attempt in range(3):
                async with slots:
                    if await send_one(pool, senders[chat][0], chat, self.seqs.next(), tally, warm=True):
                        return
                await asyncio.sleep(0.5)

        missing = list(by_chat)
        for _round in range(3):
            await asyncio.gather(*(warm(chat) for chat in missing))
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                missing = [chat for chat in missing if waiting(chat)]
                if not missing:
                    return 0
                await asyncio.sleep(0.05)
        return sum(len(waiting(chat)) for chat in missing)

    async def drain(self, tally: Tally, by_chat: dict[int, list[WebSocket]], sink_base: dict[int, int]) -> float:
        """Wait until every observer has every sent message and every sink as many frames; returns seconds waited."""
        started = time.monotonic()
        expected = Counter(tally.sent.values())
        while time.monotonic() - started < self.config.drain_seconds:
            observed = all(
                s.marked_frames >= expected[chat] and s.got_own >= expected[chat]
                for chat, sockets in by_chat.items()
                for s in sockets
                if s.observe
            )
            sunk = all(
                s.frames - sink_base[id(s)] >= expected[chat]
                for chat, sockets in by_chat.items()
                for s in sockets
                if not s.observe
            )
            if observed and sunk:
                break
            await asyncio.sleep(0.02)
        return time.monotonic() - started

    def message_stats(
        self, tally: Tally, by_chat: dict[int, list[WebSocket]], sink_base: dict[int, int], seconds: float, rate: float
    ) -> Result:
        observers = {chat: sum(1 for s in sockets if s.observe) for chat, sockets in by_chat.items()}
        members = {chat: len(sockets) for chat, sockets in by_chat.items()}
        sent_per_chat = Counter(tally.sent.values())
        lost = duplicates = 0
        for chat, sockets in by_chat.items():
            for s in sockets:
                if s.observe:
                    missing = sum(1 for seq, c in tally.sent.items() if c == chat and seq not in s.seen)
                    lost += max(missing, sent_per_chat[chat] - s.marked_frames)
                    duplicates += max(0, s.marked_frames - sent_per_chat[chat])
        sink_expected = sum((members.get(chat, 0) - observers.get(chat, 0)) * n for chat, n in sent_per_chat.items())
        sink_got = sum(s.frames - sink_base[id(s)] for sockets in by_chat.values() for s in sockets if not s.observe)
        latencies = [ns / 1e6 for ns in tally.latencies_ns]
        http = [ns / 1e6 for ns in tally.http_ns]
        sent = len(tally.sent)
        # The load's span: from the first planned send to the last one written, plus one interval.
        span = max(0, tally.last_written_ns - tally.first_send_ns) / 1e9 + 1 / rate
        deliveries = sum(members.get(chat, 0) * n for chat, n in sent_per_chat.items())
        frames = tally.frame_bytes
        return {
            "sent": sent,
            "send_seconds": seconds,
            "http_errors": dict(tally.http_errors),
            "achieved_rate": min(rate, sent / span),
            "deliveries": deliveries,
            "deliveries_per_s": deliveries / span if sent else 0.0,
            "samples": len(latencies),
            "p50_ms": percentile(latencies, 0.50),
            "p99_ms": percentile(latencies, 0.99),
            "max_ms": max(latencies) if latencies else None,
            "http_p50_ms": percentile(http, 0.50),
            "http_p99_ms": percentile(http, 0.99),
            "lag_p99_ms": percentile([ns / 1e6 for ns in tally.lag_ns], 0.99),
            "lost": lost,
            "duplicates": duplicates,
            "preview_repeats": tally.repeats,
            "delivered": sum(tally.got[seq] for seq in tally.sent) + min(sink_got, sink_expected),
            "sink_frames": sink_got,
            "sink_expected": sink_expected,
            "bytes_per_frame": sum(frames) / len(frames) if frames else None,
            "observers": sum(observers.values()),
        }

    # Socket points

    async def sockets_point(self, stack: Stack, server: str, *, deflate: bool) -> Result:
        counts = self.config.deflate_counts if deflate else self.config.socket_counts
        specs = idle_specs(stack, self.seeded, max(counts), self.config.idle_people)
        result: Result = {"stack": stack.name, "server": server if stack is not RAW else "websockets"}
        result |= {"kind": "sockets", "deflate": deflate, "members": max(counts)}
        if stack is FLOWCHAT:
            await asyncio.to_thread(seeding.prepare_presence, [])
        label = self.label(stack, server, f"sockets-{'deflate' if deflate else 'plain'}")
        server_process = Server(stack, server, self.env, self.logs, label)
        sockets: list[WebSocket] = []
        try:
            async with server_process as srv:
                await asyncio.sleep(0.5)
                before = srv.rss()
                result["rss_before_mib"] = before / 2**20
                memory = {}
                for count in counts:
                    opened = await open_sockets(
                        specs[len(sockets) : count],
                        srv.port,
                        deflate=deflate,
                        time_limit=self.config.open_limit_seconds,
                    )
                    sockets.extend(opened.sockets)
                    if count == counts[0]:
                        result |= {
                            "open_count": count,
                            "open_seconds": opened.seconds,
                            "open_failures": opened.failures,
                            "listen_overflows": srv.listen_overflows(),
                        }
                    else:
                        result["open_failures_more"] = opened.failures
                    if opened.errors:
                        result.setdefault("open_errors", {}).update(opened.errors)
                    quiet = await self.quiet(sockets, still=self.config.quiet_seconds)
                    rss = srv.rss()
                    memory[str(count)] = {
                        "open": len(sockets),
                        "rss_mib": rss / 2**20,
                        "kib_per_socket": (rss - before) / max(1, len(sockets)) / 1024,
                        "settle_seconds": quiet,
                        "frames": sum(s.frames for s in sockets),
                    }
                result["memory"] = memory
                result["deflate_negotiated"] = sum(1 for s in sockets if s.deflated)
                result["open_failures_total"] = sum(
                    v for k, v in result.items() if k in ("open_failures", "open_failures_more")
                )
            result["log_errors"] = server_process.log_errors()
        except (RuntimeError, OSError) as error:
            result["error"] = str(error)
        finally:
            close_all(sockets)
        result["log"] = str(server_process.log_path)
        self.record(result)
        return result

    async def quiet(self, sockets: list[WebSocket], still: float = 1.5, limit: float = 60.0) -> float:
        """Wait until no socket has had a frame for `still` seconds (presence has settled); returns seconds."""
        started = time.monotonic()
        last, last_change = -1, started
        while time.monotonic() - started < limit:
            frames = sum(s.frames for s in sockets)
            now = time.monotonic()
            if frames != last:
                last, last_change = frames, now
            elif now - last_change >= still:
                break
            await asyncio.sleep(0.1)
        return last_change - started

    async def presence_point(self, server: str) -> Result:
        """Open every tab of one group of offline people: every arrival tells everyone who shares a chat."""
        chat = self.seeded.fan[self.config.presence_size]
        load = flowchat_chat(chat, 0)
        result: Result = {"stack": FLOWCHAT.name, "server": server, "kind": "presence", "members": len(load.sockets)}
        await asyncio.to_thread(seeding.prepare_presence, [])
        label = self.label(FLOWCHAT, server, f"presence-{len(load.sockets)}")
        server_process = Server(FLOWCHAT, server, self.env, self.logs, label)
        sockets: list[WebSocket] = []
        try:
            async with server_process as srv:
                cpu_before = srv.cpu_seconds()
                opened = await open_sockets(load.sockets, srv.port)
                sockets = opened.sockets
                result |= {"open_seconds": opened.seconds, "open_failures": opened.failures}
                settle = await self.quiet(sockets, still=self.config.quiet_seconds, limit=90.0)
                result |= {
                    "settle_seconds": settle,
                    "presence_frames": sum(s.frames for s in sockets),
                    "server_cpu_seconds": srv.cpu_seconds() - cpu_before,
                }
            result["log_errors"] = server_process.log_errors()
        except (RuntimeError, OSError) as error:
            result["error"] = str(error)
        finally:
            close_all(sockets)
        result["log"] = str(server_process.log_path)
        self.record(result)
        return result

    async def exact_presence(self, people: list[int], sockets: int, limit: float = 30.0) -> tuple[Result, float]:
        """Poll the database until presence is exactly `people` online with `sockets` rows (or `limit` s)."""
        started = time.monotonic()
        while True:
            state = await asyncio.to_thread(seeding.presence_state, people)
            exact = not (state["wrongly_online"] or state["wrongly_offline"] or state["rows_of_others"])
            if (exact and state["connection_rows"] == sockets) or time.monotonic() - started > limit:
                return state | {"exact": exact and state["connection_rows"] == sockets}, time.monotonic() - started
            await asyncio.sleep(0.2)

    async def arrived(self, opened: Opened, people: list[int], cpu_before: float, srv: Any) -> Result:
        """How a batch of sockets opened, whether presence is then exact, and exact again once they all closed."""
        state, settle = await self.exact_presence(people, len(people))
        done = {
            "sockets": len(people),
            "seconds": opened.seconds,
            "failures": opened.failures,
            "errors": dict(opened.errors),
            **handshake_times(opened),
            "presence": state,
            "exact_after_seconds": settle,
            "server_cpu_seconds": srv.cpu_seconds() - cpu_before,
        }
        await self.quiet(opened.sockets, still=self.config.quiet_seconds)
        close_all(opened.sockets)
        # Longer than a heartbeat and a TTL: a socket left behind would expire and still show.
        state, settle = await self.exact_presence([], 0, limit=90.0)
        return done | {"offline_after": state, "offline_after_seconds": settle}

    async def waves_point(self, server: str) -> Result:
        """A reconnect wave (every tab of a big group drops and comes back at once) and a storm of
        arrivals at a steady rate; after each, presence must be exactly who has a socket open."""
        config = self.config
        wave_chat = self.seeded.fan[config.wave_size]
        wave = flowchat_chat(wave_chat, 0).sockets
        storm_people = [person for chat in self.seeded.idle for person in chat.member_ids][: config.storm_sockets]
        storm = idle_specs(FLOWCHAT, self.seeded, len(storm_people), config.idle_people)
        result: Result = {"stack": FLOWCHAT.name, "server": server, "kind": "waves", "members": len(wave)}
        await asyncio.to_thread(seeding.prepare_presence, [])
        label = self.label(FLOWCHAT, server, f"waves-{len(wave)}-{len(storm)}")
        server_process = Server(FLOWCHAT, server, self.env, self.logs, label)
        sockets: list[WebSocket] = []
        try:
            async with server_process as srv:
                # Every tab open (all at once), then every one drops and reconnects at once.
                first = await open_sockets(wave, srv.port, concurrency=len(wave), attempts=1)
                sockets = first.sockets
                await self.quiet(sockets, still=config.quiet_seconds)
                close_all(sockets)
                cpu_before = srv.cpu_seconds()
                again = await open_sockets(wave, srv.port, concurrency=len(wave), attempts=1)
                sockets = again.sockets
                result["wave"] = await self.arrived(again, list(wave_chat.member_ids), cpu_before, srv)
                result["wave"]["first_failures"] = first.failures
                # The storm: new tabs arriving at a steady rate, each with its own person.
                cpu_before = srv.cpu_seconds()
                storm_open = await open_sockets(
                    storm, srv.port, concurrency=len(storm), attempts=1, rate=config.storm_rate
                )
                result["storm"] = await self.arrived(storm_open, storm_people, cpu_before, srv)
                result["storm"]["rate"] = config.storm_rate
            result["log_errors"] = server_process.log_errors()
        except (RuntimeError, OSError) as error:
            result["error"] = str(error)
        finally:
            close_all(sockets)
        result["log"] = str(server_process.log_path)
        self.record(result)
        return result

    # Series

    def fan_load(self, stack: Stack, size: int) -> list[ChatLoad]:
        if stack is FLOWCHAT:
            return [flowchat_chat(self.seeded.fan[size], self.config.observers)]
        return [plain_chat(size, size, self.config.observers)]

    async def fan_out(self, stack: Stack, server: str) -> None:
        sizes = sorted({*self.config.fan_sizes, *(self.config.send_latency_sizes if stack is FLOWCHAT else ())})
        for size in sizes:
            if self.out_of_time():
                return
            graceful = size == self.config.graceful_size
            await self.message_point(
                stack, server, "fan-out", self.fan_load(stack, size), 1, self.config.fan_sends, graceful=graceful
            )

    async def sweep(self, stack: Stack, server: str) -> None:
        """Rates up the list until a step fails (always up to the CPU point), then `sweep_refine` steps between."""
        load = self.fan_load(stack, self.config.sweep_members)

        async def step(rate: int) -> bool:
            sends = max(5, math.ceil(rate * self.config.sweep_seconds))
            result = await self.message_point(stack, server, "sweep", load, rate, sends)
            result["within_limit"] = within_limit(result)
            return result["within_limit"]

        good, bad = 0, 0
        for rate in self.config.sweep_rates:
            if self.out_of_time():
                return
            if await step(rate):
                good = rate
            elif not bad:
                bad = rate
            if bad and rate >= self.config.cpu_rate:
                break
        for _ in range(self.config.sweep_refine):
            between = round(math.sqrt(good * bad), 2 - len(str(round(math.sqrt(good * bad))))) if good and bad else 0
            if not good < between < bad or self.out_of_time():
                return
            if await step(between):
                good = between
            else:
                bad = between

    async def mixed(self, server: str) -> None:
        if self.out_of_time():
            return
        config = self.config
        big = flowchat_chat(self.seeded.fan[config.mixed_big], self.config.observers // 2)
        small = [
            flowchat_chat(chat, 1 if n < self.config.observers // 2 else 0) for n, chat in enumerate(self.seeded.mixed)
        ]
        sends = math.ceil(config.mixed_rate * config.mixed_seconds)
        await self.message_point(FLOWCHAT, server, "mixed", [big, *small], config.mixed_rate, sends)

    async def stack_series(self, stack: Stack, server: str) -> None:
        if "fan-out" in self.kinds:
            await self.fan_out(stack, server)
        if "sweep" in self.kinds:
            await self.sweep(stack, server)
        if stack is FLOWCHAT and "mixed" in self.kinds:
            await self.mixed(server)
        # Presence is the app's, not the server's: measured on the first server only.
        if stack is FLOWCHAT and "presence" in self.kinds and server == self.servers[0] and not self.out_of_time():
            await self.presence_point(server)
        # Waves and storms meet the handshake limits of the production server: on it (else the first).
        waves_server = "uvicorn" if "uvicorn" in self.servers else self.servers[0]
        if stack is FLOWCHAT and "waves" in self.kinds and server == waves_server and not self.out_of_time():
            await self.waves_point(server)
        for deflate in (False, True):
            if "sockets" in self.kinds and not self.out_of_time():
                await self.sockets_point(stack, server, deflate=deflate)

    async def run(self) -> None:
        if FLOWCHAT in self.stacks:
            for server in self.servers:
                await self.stack_series(FLOWCHAT, server)
        if MINIMAL in self.stacks:
            await self.stack_series(MINIMAL, self.servers[0])
        if RAW in self.stacks:
            await self.stack_series(RAW, "websockets")


def handshake_times(opened: Opened) -> Result:
    times = sorted(opened.handshakes)
    return {f"handshake_{name}_s": percentile(times, q) for name, q in (("p50", 0.5), ("p99", 0.99), ("max", 1.0))}


def within_limit(result: Result) -> bool:
    """Below saturation: nothing lost, p99 within the limit, the planned rate reached, no refused sends."""
    p99 = result.get("p99_ms")
    return (
        "error" not in result
        and p99 is not None
        and p99 <= P99_LIMIT_MS
        and result.get("lost", 1) == 0
        and result.get("duplicates", 1) == 0
        and not result.get("http_errors")
        and result.get("achieved_rate", 0) >= 0.9 * result["rate"]
    )


def problems(results: list[Result]) -> list[str]:
    """Losses, duplicates and failed sockets anywhere but in the saturated sweep steps."""
    found = []
    for r in results:
        name = f"{r['stack']}/{r['server']} {r['kind']} {r.get('members')}"
        if "error" in r:
            found.append(f"{name}: {r['error']}")
        if r["kind"] == "sweep" and not r.get("within_limit", True):
            continue
        failures = ("open_failures_total",) if r["kind"] == "sockets" else ("open_failures",)
        for key in ("lost", "duplicates", *failures, "not_joined"):
            if r.get(key):
                found.append(f"{name}: {key} = {r[key]}")
        if r.get("http_errors"):
            found.append(f"{name}: refused sends {r['http_errors']}")
        for part in ("wave", "storm"):
            if part in r:
                done = r[part]
                if done["failures"] or done.get("first_failures"):
                    found.append(f"{name}: {part} failures = {done['failures']} {done['errors']}")
                if not done["presence"]["exact"] or not done["offline_after"]["exact"]:
                    found.append(f"{name}: {part} presence not exact: {done['presence']} then {done['offline_after']}")
    return found


# Set-up ----------------------------------------------------------------------------------------------


def one_run_at_a_time() -> Any:
    """Hold a lock for the whole run: two runs would share the cores, the database and Redis database 15."""
    lock = (Path(tempfile.gettempdir()) / "flowchat-realtime-benchmark.lock").open("w")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        sys.exit("another benchmarks/realtime.py is running on this machine; wait for it to finish")
    return lock


def raise_open_files() -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else 65_536
    if soft < wanted:
        resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
    if wanted < 12_000:
        print(f"warning: only {wanted} open files allowed; 10,000 sockets need more", file=sys.stderr)


def cpu_ticks() -> tuple[int, int]:
    """(all, stolen) CPU ticks of the machine so far: steal is time the VM's host ran something else."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    except (OSError, ValueError, IndexError):
        return 0, 0
    return sum(fields[:8]), fields[7] if len(fields) > 7 else 0


def version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = "unknown"
    with contextlib.suppress(OSError, ValueError, IndexError):
        kib = int(Path("/proc/meminfo").read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 2**20:.1f} GiB"
    return {"cpu": cpu, "cores": str(os.cpu_count()), "memory": memory, "kernel": platform.release()}


def versions(database_url: str) -> dict[str, str]:
    import psycopg
    import redis

    found = {"Python": platform.python_version()}
    for package in ("Django", "channels", "channels-redis", "daphne", "uvicorn", "granian", "websockets", "uvloop"):
        found[package] = version(package)
    with contextlib.suppress(Exception):
        found["Redis"] = redis.Redis.from_url(REDIS_URL).info("server")["redis_version"]
    with contextlib.suppress(Exception), psycopg.connect(database_url) as connection:
        row = connection.execute("SHOW server_version").fetchone()
        found["PostgreSQL"] = row[0].split(" ")[0] if row else "unknown"
    return found


def server_env(database_url: str, secret_key: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "GRANIAN_", "UVICORN_"))}
    return env | {
        "DEBUG": "false",
        "SECRET_KEY": secret_key,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "HTTPS": "false",
        "DATABASE_URL": database_url,
        "REDIS_URL": REDIS_URL,
        "LOG_LEVEL": "WARNING",
        # Ten senders make thousands of sends a second here: the per-person send rate is off.
        "SEND_RATE_BURST": "0",
        "PYTHONPATH": str(ROOT),
    }


def flush_redis() -> None:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="a tiny version of every point (daphne only)")
    parser.add_argument("--servers", help=f"comma-separated, of {', '.join(SERVERS)} (default daphne,uvicorn,granian)")
    parser.add_argument(
        "--out", type=Path, help="the Markdown report (default docs/performance.md; --smoke: a temp file)"
    )
    parser.add_argument("--stacks", default="flowchat,minimal,raw", help="comma-separated, of flowchat, minimal, raw")
    parser.add_argument("--points", default=",".join(KINDS), help=f"comma-separated kinds, of {', '.join(KINDS)}")
    parser.add_argument("--database", default="flowchat_bench", help="the PostgreSQL database to drop and recreate")
    parser.add_argument("--keep-database", action="store_true", help="leave the database after the run")
    parser.add_argument("--report-from", type=Path, help="only write the report again from a run's results.json")
    args = parser.parse_args()
    if args.report_from:
        saved = json.loads(args.report_from.read_text())
        saved["meta"]["problems"] = problems(saved["results"])
        saved["meta"]["rewritten"] = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        write_report(saved["results"], saved["meta"], args.out or ROOT / "docs" / "performance.md")
        return 0
    if "bench" not in args.database:
        parser.error("the database is dropped and made again: its name must contain 'bench'")
    servers = (args.servers or ("daphne" if args.smoke else "daphne,uvicorn,granian")).split(",")
    if unknown := [s for s in servers if s not in SERVERS]:
        parser.error(f"unknown servers {unknown}; choose from {', '.join(SERVERS)}")
    stacks = [STACKS[name] for name in args.stacks.split(",") if name in STACKS]
    kinds = tuple(kind for kind in args.points.split(",") if kind in KINDS)
    if not stacks or not kinds:
        parser.error("choose at least one known stack and one known kind of point")
    out = args.out or (
        Path(tempfile.mkdtemp(prefix="flowchat-perf-")) / "performance.md"
        if args.smoke
        else ROOT / "docs" / "performance.md"
    )
    config = Config.smoke() if args.smoke else Config()

    _lock = one_run_at_a_time()  # held until the run ends
    started = time.perf_counter()
    ticks_before = cpu_ticks()
    raise_open_files()
    os.sched_setaffinity(0, {1} if os.cpu_count() and os.cpu_count() > 1 else {0})
    logs = Path(tempfile.mkdtemp(prefix="flowchat-bench-logs-"))
    database_url = f"postgresql://{args.database}@127.0.0.1:5432/{args.database}"
    secret_key = secrets.token_urlsafe(50)
    env = server_env(database_url, secret_key)
    # The seeding runs with the servers' settings: the same SECRET_KEY signs the sessions.
    os.environ.update({k: env[k] for k in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "HTTPS", "LOG_LEVEL")})

    seeded = seeding.Seeded({}, [], [], 0.0)
    if FLOWCHAT in stacks:
        print(f"database {args.database}, Redis {REDIS_URL}, logs in {logs}", flush=True)
        seeding.recreate_database(ADMIN_URL, args.database, PG_CONNECTION_LIMIT)
        flush_redis()
        migrate_env = env | {"DJANGO_SETTINGS_MODULE": "benchmarks.flowchat_settings"}
        subprocess.run(  # noqa: S603
            [sys.executable, str(ROOT / "manage.py"), "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=migrate_env,
            check=True,
        )
        seeding.setup(database_url, REDIS_URL)
        seeded = seeding.seed(config.seed_plan())
        print(f"seeded in {seeded.seconds:.1f} s ({time.perf_counter() - started:.1f} s with migrate)", flush=True)
    else:
        print(f"Redis {REDIS_URL}, logs in {logs}", flush=True)
        flush_redis()

    bench = Run(config, servers, seeded, env, logs)
    bench.stacks, bench.kinds = stacks, kinds
    bench.database = args.database if FLOWCHAT in stacks else ""
    send_cost = None
    try:
        run_loop(bench.run())
        if FLOWCHAT in stacks:
            send_cost = profile_a_send(smoke=args.smoke)
    finally:
        if FLOWCHAT in stacks:
            seeding.finish()
            if not args.keep_database:
                seeding.drop_database(ADMIN_URL, args.database)
    elapsed = time.perf_counter() - started

    command = " ".join(["benchmarks/realtime.py", *(shlex.quote(arg) for arg in sys.argv[1:])])
    meta = {
        "machine": machine(),
        "versions": versions(ADMIN_URL),
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "command": f".venv/bin/python {command}",
        "commit": git_commit(),
        "seconds": elapsed,
        "servers": servers,
        "smoke": args.smoke,
        "p99_limit_ms": P99_LIMIT_MS,
        "cpu_steal": steal(ticks_before, cpu_ticks()),
        "config": {k: v for k, v in vars(config).items()},
    }
    meta["send_profile"] = send_cost
    meta["problems"] = problems(bench.results)
    results_path = logs / "results.json"
    results_path.write_text(json.dumps({"meta": meta, "results": bench.results}, indent=1, default=str))
    write_report(bench.results, meta, out)
    print(f"raw results in {results_path}; {elapsed:.0f} s in all")
    if meta["problems"]:
        print("PROBLEMS:\n  " + "\n  ".join(meta["problems"]), file=sys.stderr)
    # A smoke run is a check (CI); in a full run, losses past saturation are results.
    return 1 if meta["problems"] and args.smoke else 0


def profile_a_send(*, smoke: bool) -> dict[str, Any] | None:
    """Where one send's CPU goes (benchmarks/send_profile.py, on the server's core, its own database)."""
    env = os.environ | {
        "DATABASE_URL": ADMIN_URL.rsplit("/", 1)[0] + "/flowchat_bench_profile",
        "BENCH_SENDS": "30" if smoke else "300",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("REDIS_URL", None)
    print("profiling a send (benchmarks/send_profile.py)", flush=True)
    done = subprocess.run(  # noqa: S603
        ["taskset", "-c", "0", sys.executable, str(ROOT / "benchmarks" / "send_profile.py"), "--json"],  # noqa: S607
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    if done.returncode != 0:
        print(f"the send profile failed:\n{done.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(done.stdout.strip().splitlines()[-1])


def git_commit() -> str:
    """The commit the benchmark ran at (with `+changes` when the work tree differed from it)."""
    try:
        commit = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(  # noqa: S603
            ["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no"],  # noqa: S607
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return commit + ("+changes" if dirty else "")


def steal(before: tuple[int, int], after: tuple[int, int]) -> float | None:
    total, stolen = after[0] - before[0], after[1] - before[1]
    return stolen / total if total > 0 else None


def write_report(results: list[Result], meta: dict[str, Any], out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    picture = out.with_suffix(".png")
    plot(results, picture, meta["p99_limit_ms"])
    text = markdown(results, meta, picture.name)
    out.write_text(text)
    print(text)
    print(f"wrote {out} and {picture}")


def run_loop(coroutine: Any) -> None:
    try:
        import uvloop
    except ImportError:
        asyncio.run(coroutine)
    else:
        uvloop.run(coroutine)


if __name__ == "__main__":
    sys.exit(main())
