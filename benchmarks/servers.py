"""Server processes for benchmarks/realtime.py: one fresh process per measurement, on core 0.

A `Stack` is what is served (FlowChat, the minimal Channels app, the raw websockets server)
and a server name how (daphne, uvicorn, granian). `Server` starts the process with
`taskset -c 0`, waits until an HTTP URL answers, reads its CPU time and memory from /proc
(the whole process tree: granian serves from a child process), and ends it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import psutil

from benchmarks.loadgen import HOST, HttpPool, WebSocket

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
# "uvicorn" runs the socket protocol bin/serve does (websockets-sansio); the others are uvicorn's alternatives.
SERVERS = ("daphne", "uvicorn", "uvicorn-websockets", "uvicorn-wsproto", "granian")
READY_TIMEOUT = 60.0


@dataclass(frozen=True)
class Stack:
    name: str  # "FlowChat", "minimal", "raw"
    app: str  # the ASGI application, or "" for the raw server
    settings: str  # DJANGO_SETTINGS_MODULE
    ready_path: str


FLOWCHAT = Stack("FlowChat", "flowchat.asgi:application", "benchmarks.flowchat_settings", "/api/schema/")
MINIMAL = Stack("minimal", "benchmarks.minimal_app:application", "benchmarks.minimal_settings", "/ready")
RAW = Stack("raw", "", "", "/ready")


def listen_overflows() -> int:
    """The kernel's count of connections dropped because a listen queue was full (all sockets)."""
    try:
        lines = Path("/proc/net/netstat").read_text().splitlines()
    except OSError:
        return 0
    for names, values in zip(lines[::2], lines[1::2], strict=False):
        if names.startswith("TcpExt:"):
            row = dict(zip(names.split()[1:], values.split()[1:], strict=False))
            return int(row.get("ListenOverflows", 0))
    return 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def command(stack: Stack, server: str, port: int, http_port: int) -> list[str]:
    if stack is RAW:
        return [
            sys.executable,
            str(ROOT / "benchmarks" / "raw_server.py"),
            "--port",
            str(port),
            "--http-port",
            str(http_port),
        ]
    if server == "daphne":
        return [str(BIN / "daphne"), "-b", HOST, "-p", str(port), "-v", "0", stack.app]
    if server.startswith("uvicorn"):
        ws = {"uvicorn": "websockets-sansio", "uvicorn-websockets": "websockets", "uvicorn-wsproto": "wsproto"}[server]
        return [
            *(str(BIN / "uvicorn"), stack.app, "--host", HOST, "--port", str(port)),
            *("--loop", "uvloop", "--ws", ws, "--lifespan", "off", "--no-access-log", "--log-level", "warning"),
        ]
    if server == "granian":
        return [
            *(str(BIN / "granian"), "--interface", "asgi", "--host", HOST, "--port", str(port)),
            *("--workers", "1", "--loop", "uvloop", "--log-level", "warning", stack.app),
        ]
    raise ValueError(f"unknown server {server!r}")


class Server:
    """`async with Server(...) as server:` a ready process; it is killed (its whole group) on the way out."""

    def __init__(self, stack: Stack, server: str, env: dict[str, str], log_dir: Path, label: str) -> None:
        self.stack = stack
        self.server = server if stack is not RAW else "websockets"
        self.port = free_port()
        self.http_port = free_port() if stack is RAW else self.port
        self.env = env | ({"DJANGO_SETTINGS_MODULE": stack.settings} if stack.settings else {})
        self.log_path = log_dir / f"{label}.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.started = 0.0
        self.overflows_at_start = 0

    async def __aenter__(self) -> Server:
        log = self.log_path.open("wb")
        self.started = time.perf_counter()
        self.process = subprocess.Popen(  # noqa: S603 - our own command line
            ["taskset", "-c", "0", *command(self.stack, self.server, self.port, self.http_port)],  # noqa: S607
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        await self.wait_ready()
        self.overflows_at_start = listen_overflows()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.kill()

    async def wait_ready(self) -> None:
        deadline = time.monotonic() + READY_TIMEOUT
        pool = HttpPool(self.http_port, 1)
        try:
            while time.monotonic() < deadline:
                if self.process is not None and self.process.poll() is not None:
                    raise RuntimeError(f"{self.server} exited with {self.process.returncode}; see {self.log_path}")
                try:
                    if await asyncio.wait_for(pool.get(self.stack.ready_path), 5) == 200:
                        return
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError):
                    pass
                await asyncio.sleep(0.1)
        finally:
            pool.close()
        self.kill()
        raise RuntimeError(
            f"{self.server} serving {self.stack.name} not ready in {READY_TIMEOUT:.0f} s; see {self.log_path}"
        )

    def listen_overflows(self) -> int:
        """Connections the kernel dropped since the server was ready because its listen queue was full."""
        return listen_overflows() - self.overflows_at_start

    def tree(self) -> list[psutil.Process]:
        assert self.process is not None
        try:
            parent = psutil.Process(self.process.pid)
            return [parent, *parent.children(recursive=True)]
        except psutil.NoSuchProcess:
            return []

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server's processes so far."""
        total = 0.0
        for process in self.tree():
            try:
                times = process.cpu_times()
            except psutil.NoSuchProcess:
                continue
            total += times.user + times.system
        return total

    def rss(self) -> int:
        """Resident memory of the server's processes, in bytes."""
        total = 0
        for process in self.tree():
            try:
                total += process.memory_info().rss
            except psutil.NoSuchProcess:
                continue
        return total

    def log_errors(self) -> int:
        """Lines of the server's log that report an error or a traceback."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return 0
        return sum(1 for line in text.splitlines() if "Traceback" in line or " ERROR" in line or "Error:" in line)

    async def terminate(self, sockets: list[WebSocket], wait: float) -> dict[str, object]:
        """SIGTERM with sockets open: how the sockets were closed, and how long until the process exited."""
        assert self.process is not None
        started = time.monotonic_ns()
        self.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + wait
        while self.process.poll() is None and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        exited = self.process.poll() is not None
        exit_seconds = (time.monotonic_ns() - started) / 1e9 if exited else None
        # Whatever the server did not close by now, it never will.
        remaining = max(0.0, deadline - time.monotonic())
        pending = [s.closed for s in sockets if not s.closed.done()]
        if pending and remaining:
            await asyncio.wait(pending, timeout=remaining)
        codes: dict[str, int] = {}
        close_times = []
        for s in sockets:
            if s.closed.done():
                key = str(s.close_code) if s.close_code is not None else "no close frame"
                if s.closed_ns is not None:
                    close_times.append((s.closed_ns - started) / 1e9)
            else:
                key = "still open"
            codes[key] = codes.get(key, 0) + 1
        return {
            "exited": exited,
            "exit_seconds": exit_seconds,
            "close_codes": codes,
            "last_close_seconds": max(close_times) if close_times else None,
            "returncode": self.process.returncode,
        }

    def kill(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.process.wait(10)
        # Children of a process group that outlived their parent (granian's worker).
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
