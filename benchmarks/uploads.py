"""Memory of one FlowChat process while three anonymous 50 MB bodies arrive at once.

Starts FlowChat with bin/serve (uvicorn, production settings, SQLite in a temporary
directory) on a free port, then for each target sends three concurrent 50 MB POSTs from
raw sockets, without a session or a token, and samples the server's resident memory
(psutil, every 10 ms) before and while they run. It prints, per target: the memory before,
the peak, the growth, the answers and how much of each body the server read before it
answered.

    .venv/bin/python benchmarks/uploads.py                    # this checkout
    .venv/bin/python benchmarks/uploads.py --root /tmp/before # another checkout (same .venv)
    MAX_REQUEST_BYTES=0 .venv/bin/python benchmarks/uploads.py # the guard turned off

docs/hardening.md ("Request bodies") has the figures.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import psutil

HOST = "127.0.0.1"
MB = 1024 * 1024
BODY_BYTES = 50 * MB
CONCURRENT = 3
CHUNK = 256 * 1024
SERVERS = ("uvicorn", "daphne")
BOUNDARY = "flowchat-benchmark-boundary"
TARGETS = {
    "API /api/messages/ (multipart)": "/api/messages/",
    "page /accounts/login/ (multipart)": "/accounts/login/",
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def multipart_body(size: int) -> bytes:
    head = (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    tail = f"\r\n--{BOUNDARY}--\r\n".encode()
    return head + b"\x00" * (size - len(head) - len(tail)) + tail


class Sampler:
    """Resident memory of one process, sampled in a thread until stopped."""

    def __init__(self, pid: int, every: float = 0.01) -> None:
        self.process = psutil.Process(pid)
        self.every = every
        self.samples: list[int] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.NoSuchProcess):
                self.samples.append(self.process.memory_info().rss)
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


async def post(port: int, path: str, body: bytes) -> tuple[str, int]:
    """POST `body` in chunks while listening for the answer: its status line and the bytes sent before it."""
    reader, writer = await asyncio.open_connection(HOST, port)
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nContent-Length: {len(body)}\r\n"
        f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\n\r\n"
    ).encode()
    sent = 0

    async def send_body() -> None:
        nonlocal sent
        writer.write(head)
        view = memoryview(body)
        for start in range(0, len(body), CHUNK):
            writer.write(view[start : start + CHUNK])
            await writer.drain()
            sent = start + CHUNK

    sending = asyncio.create_task(send_body())
    try:
        status = (await asyncio.wait_for(reader.readline(), 120)).decode(errors="replace").strip()
    except (ConnectionError, TimeoutError) as exc:
        status = f"no answer ({type(exc).__name__})"
    sent_before_answer = min(sent, len(body))
    sending.cancel()
    with contextlib.suppress(asyncio.CancelledError, ConnectionError):
        await sending
    writer.close()
    with contextlib.suppress(ConnectionError):
        await writer.wait_closed()
    return status or "connection closed", sent_before_answer


async def wait_ready(port: int, process: subprocess.Popen[bytes], timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"bin/serve exited with {process.returncode}")
        try:
            reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(f"GET /api/schema/ HTTP/1.1\r\nHost: {HOST}\r\nConnection: close\r\n\r\n".encode())
            line = await reader.readline()
            writer.close()
            if b" 200 " in line:
                return
        except OSError:
            pass
        await asyncio.sleep(0.1)
    raise RuntimeError("FlowChat did not answer in time")


def server_command(root: Path, server: str, port: int) -> list[str]:
    if server == "uvicorn":
        return [str(root / "bin/serve")]
    return [str(root / ".venv/bin/daphne"), "-b", HOST, "-p", str(port), "-v", "0", "flowchat.asgi:application"]


async def measure(root: Path, server: str, env: dict[str, str]) -> list[dict[str, object]]:
    port = free_port()
    env = env | {"PORT": str(port), "HOST": HOST}
    subprocess.run(  # noqa: S603 - our own command line
        [str(root / ".venv/bin/python"), "manage.py", "migrate", "--noinput", "-v", "0"], cwd=root, env=env, check=True
    )
    log = Path(env["MEDIA_ROOT"]).parent / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(  # noqa: S603 - our own command line
            server_command(root, server, port),
            cwd=root,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        await wait_ready(port, process)
        body = multipart_body(BODY_BYTES)
        results = []
        for label, path in TARGETS.items():
            await asyncio.sleep(1)  # let the previous round's memory settle
            with Sampler(process.pid) as idle:
                await asyncio.sleep(0.5)
            with Sampler(process.pid) as busy:
                started = time.perf_counter()
                answers = await asyncio.gather(*(post(port, path, body) for _ in range(CONCURRENT)))
                seconds = time.perf_counter() - started
            before = statistics.median(idle.samples)
            peak = max(busy.samples)
            results.append(
                {
                    "target": label,
                    "before_mb": before / MB,
                    "peak_mb": peak / MB,
                    "growth_mb": (peak - before) / MB,
                    "answers": sorted({status for status, _ in answers}),
                    "read_mb": max(sent for _, sent in answers) / MB,
                    "seconds": seconds,
                }
            )
        return results
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        errors = [line for line in log.read_text(errors="replace").splitlines() if "Traceback" in line]
        if errors:
            print(f"  ({len(errors)} tracebacks in {log})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--root", type=Path, default=Path(__file__).resolve().parent.parent, help="FlowChat checkout")
    parser.add_argument("--server", choices=SERVERS, default="uvicorn", help="uvicorn: bin/serve; daphne: runserver's")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="flowchat-uploads-") as tmp:
        env = {key: value for key, value in os.environ.items() if key not in {"DATABASE_URL", "REDIS_URL", "DEBUG"}} | {
            "DATABASE_URL": f"sqlite:///{tmp}/flowchat.sqlite3",
            "MEDIA_ROOT": f"{tmp}/media",
            "TMPDIR": tmp,
            "DEBUG": "false",
            "SECRET_KEY": "benchmark-uploads-not-a-secret",
            "HTTPS": "false",
            "ALLOWED_HOSTS": HOST,
            "LOG_LEVEL": "WARNING",
        }
        results = asyncio.run(measure(args.root.resolve(), args.server, env))
    limit = os.environ.get("MAX_REQUEST_BYTES", "default")
    print(
        f"{CONCURRENT} concurrent anonymous {BODY_BYTES // MB} MB POSTs on {args.server}, "
        f"MAX_REQUEST_BYTES={limit}, {args.root}"
    )
    print("| target | RSS before | peak RSS | growth | answers | body sent before the answer | seconds |")
    print("|---|---|---|---|---|---|---|")
    for row in results:
        print(
            f"| {row['target']} | {row['before_mb']:.1f} MB | {row['peak_mb']:.1f} MB | {row['growth_mb']:+.1f} MB "
            f"| {', '.join(row['answers'])} | {row['read_mb']:.1f} MB | {row['seconds']:.2f} |"
        )
    sys.stdout.flush()


if __name__ == "__main__":
    main()
