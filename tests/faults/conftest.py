"""The fault harness: a FlowChat of the suite's own, to break on purpose.

For the whole session, started the first time a fault test asks for it:
- a private PostgreSQL: `initdb` into a temporary directory, on a free port (as root it runs as
  the `postgres` user, because initdb refuses root), which a test may stop and start again;
- a private Redis on a free port, which a test may kill and start again on the same port;
- two FlowChat processes as bin/serve starts them in production (uvicorn, DEBUG off), each on
  its own port, sharing that PostgreSQL (migrated first) and that Redis.
Nothing here touches the shared PostgreSQL and Redis or the other tests' database: a test talks
to the servers over HTTP and WebSockets, as a script would, and counts what is stored with
psycopg. A test that kills something checks the recovery itself; the `stack` fixture brings
back whatever an earlier (failed) test left down, so that each test starts from a whole stack.

Every wait is a bounded poll on a condition, every request and socket has a client timeout,
so a hang fails the test instead of stalling the run. Without initdb or redis-server the tests
skip on a person's machine and fail under CI=true (conftest.require).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from http.client import HTTPException
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from websockets.sync.client import ClientConnection, connect

from conftest import PASSWORD, require

BASE_DIR = Path(__file__).resolve().parent.parent.parent
DATABASE = "flowchat"
# The servers' pool, and so the bound on their PostgreSQL connections (two processes), and how
# long a request waits for a connection: the defaults, as in production.
POOL_SIZE = 10
POOL_TIMEOUT_SECONDS = 10
# Quick heartbeats, so that a killed process's people go offline within a test.
HEARTBEAT_SECONDS = 1
TTL_SECONDS = 3
# No request may take longer than this: past it, it hung.
CLIENT_TIMEOUT_SECONDS = 20
START_SECONDS = 30
CROWD = 10
SECRET_KEY = "fault-suite-" + "k" * 50


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(condition: Callable[[], Any], seconds: float, what: str, interval: float = 0.05) -> Any:
    """Poll `condition` until it returns something true; fail saying `what` did not happen in time."""
    deadline = time.monotonic() + seconds
    while True:
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"Within {seconds} s: {what}")
        time.sleep(interval)


# PostgreSQL -----------------------------------------------------------------------------


def postgres_bin() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


@dataclass
class Postgres:
    bin: Path
    root: Path
    port: int
    user: str | None  # the system user it runs as, when the suite runs as root

    @property
    def data(self) -> Path:
        return self.root / "data"

    def _run(self, *command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        prefix = ["runuser", "-u", self.user, "--"] if self.user else []
        return subprocess.run(
            [*prefix, *command], capture_output=True, text=True, timeout=timeout, check=True, cwd=self.root
        )

    def create(self) -> None:
        self._run(str(self.bin / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")

    def pg_ctl(self, *arguments: str) -> None:
        options = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "log"), "-o", options, *arguments
        )

    def url(self, database: str = DATABASE) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def connect(self, database: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(self.url(database), autocommit=True, connect_timeout=2)

    def is_up(self) -> bool:
        try:
            with self.connect("postgres") as connection:
                connection.execute("SELECT 1")
            return True
        except psycopg.OperationalError:
            return False

    def start_server(self) -> None:
        self.pg_ctl("-w", "-t", "30", "start")
        wait_for(self.is_up, START_SECONDS, "the private PostgreSQL did not accept connections")

    def stop_server(self, mode: str = "fast") -> None:
        self.pg_ctl("-w", "-t", "30", "-m", mode, "stop")

    def backends(self, connection: psycopg.Connection | None = None) -> int:
        """Client connections to FlowChat's database, but the one asking."""
        with contextlib.ExitStack() as stack:
            if connection is None:
                connection = stack.enter_context(self.connect("postgres"))
            return connection.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend'"
                " AND pid <> pg_backend_pid()",
                [DATABASE],
            ).fetchone()[0]

    def stored(self, client_ids: list[str]) -> dict[str, int]:
        """How many messages are stored with each client_id (absent: none)."""
        with self.connect() as connection:
            rows = connection.execute(
                "SELECT client_id::text, count(*) FROM conversations_message"
                " WHERE client_id = ANY(%s::uuid[]) GROUP BY client_id",
                [client_ids],
            ).fetchall()
        return dict(rows)


def private_postgres() -> Iterator[Postgres]:
    binaries = postgres_bin()
    require(binaries is not None, "The fault tests need PostgreSQL's initdb (apt-get install postgresql)")
    user = None
    if os.geteuid() == 0:
        # initdb refuses to run as root.
        try:
            user = pwd.getpwnam("postgres")
        except KeyError:
            require(False, "The fault tests run as root and need a `postgres` system user for initdb")
    root = Path(tempfile.mkdtemp(prefix="flowchat-faults-pg-"))
    if user is not None:
        os.chown(root, user.pw_uid, user.pw_gid)
    postgres = Postgres(bin=binaries, root=root, port=free_port(), user=user.pw_name if user else None)
    try:
        postgres.create()
        postgres.start_server()
        with postgres.connect("postgres") as connection:
            connection.execute(f"CREATE DATABASE {DATABASE}")
        yield postgres
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            postgres.stop_server("immediate")
        shutil.rmtree(root, ignore_errors=True)


# Redis ------------------------------------------------------------------------------------


@dataclass
class Redis:
    binary: str
    root: Path
    port: int
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def is_up(self) -> bool:
        try:
            return bool(redis.Redis(port=self.port, socket_connect_timeout=1, socket_timeout=1).ping())
        except redis.RedisError:
            return False

    def start(self) -> None:
        command = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--daemonize", "no", "--dir", str(self.root)]
        with (self.root / "log").open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        wait_for(self.is_up, START_SECONDS, "the private Redis did not answer PING")

    def kill(self) -> None:
        """As a crash: SIGKILL, no goodbye to its clients."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)


def private_redis() -> Iterator[Redis]:
    binary = shutil.which("redis-server")
    require(binary is not None, "The fault tests need redis-server (apt-get install redis-server)")
    root = Path(tempfile.mkdtemp(prefix="flowchat-faults-redis-"))
    server = Redis(binary=binary, root=root, port=free_port())
    try:
        server.start()
        yield server
    finally:
        server.kill()
        shutil.rmtree(root, ignore_errors=True)


# FlowChat ------------------------------------------------------------------------------------


def flowchat_environment(postgres: Postgres, redis_server: Redis, media: Path) -> dict[str, str]:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "flowchat.settings",
        "DATABASE_URL": postgres.url(),
        "DATABASE_POOL_SIZE": str(POOL_SIZE),
        "DATABASE_POOL_TIMEOUT": str(POOL_TIMEOUT_SECONDS),
        "REDIS_URL": redis_server.url,
        "DEBUG": "false",
        "SECRET_KEY": SECRET_KEY,
        "HTTPS": "false",  # plain HTTP on localhost
        "MEDIA_ROOT": str(media),
        "PRESENCE_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "PRESENCE_TTL_SECONDS": str(TTL_SECONDS),
        # The send limits stay on (so a send counts in the cache, Redis or not) but never bite here.
        "SEND_RATE_BURST": "100000",
        "SEND_RATE_PER_MINUTE": "100000",
        "LOG_LEVEL": "INFO",
        "PYTHONUNBUFFERED": "1",
    }
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    return environment


@dataclass
class FlowChat:
    """One server process as bin/serve starts it, on a port it keeps across restarts."""

    name: str
    port: int
    environment: dict[str, str]
    log: Path
    process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        environment = {**self.environment, "HOST": "127.0.0.1", "PORT": str(self.port)}
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(BASE_DIR / "bin" / "serve")], cwd=BASE_DIR, env=environment, stdout=log, stderr=subprocess.STDOUT
            )

        def answering() -> bool:
            if self.process.poll() is not None:
                pytest.fail(f"FlowChat {self.name} exited with {self.process.returncode}:\n{self.log_text()}")
            return call(self, "GET", "/api/schema/", timeout=2).status == 200

        wait_for(answering, START_SECONDS, f"FlowChat {self.name} did not answer")

    def kill(self) -> None:
        """kill -9: its sockets are never closed, its people never written offline."""
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if not self.is_running():
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


@dataclass
class Person:
    username: str
    id: int
    token: str
    cookie: str  # a signed-in session's cookie, as a tab sends it


@dataclass
class Stack:
    postgres: Postgres
    redis: Redis
    a: FlowChat
    b: FlowChat
    people: dict[str, Person]
    direct: int  # alice and bob's chat
    group: int  # "Load": alice, bob and the crowd

    @property
    def servers(self) -> tuple[FlowChat, FlowChat]:
        return self.a, self.b

    @property
    def crowd(self) -> list[Person]:
        return [person for name, person in self.people.items() if name.startswith("sender")]

    def bring_back(self) -> None:
        """Start whatever an earlier test left down."""
        if not self.postgres.is_up():
            self.postgres.start_server()
        if not self.redis.is_up():
            self.redis.start()
        for server in self.servers:
            if not server.is_running():
                server.start()

    def logs(self) -> str:
        return "\n".join(f"--- FlowChat {server.name}\n{server.log_text()[-20_000:]}" for server in self.servers)


def seed(environment: dict[str, str]) -> dict[str, Any]:
    done = subprocess.run(
        [sys.executable, "-m", "tests.faults.seed", str(CROWD), PASSWORD],
        cwd=BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode:
        pytest.fail(f"Seeding the fault database failed:\n{done.stderr}")
    return json.loads(done.stdout)


@pytest.fixture(scope="session")
def fault_stack(tmp_path_factory) -> Iterator[Stack]:
    root = tmp_path_factory.mktemp("faults")
    postgres_fixture, redis_fixture = private_postgres(), private_redis()
    postgres = next(postgres_fixture)
    try:
        redis_server = next(redis_fixture)
        try:
            environment = flowchat_environment(postgres, redis_server, root / "media")
            migrate = subprocess.run(
                [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
                cwd=BASE_DIR,
                env=environment,
                capture_output=True,
                text=True,
                timeout=180,
            )
            if migrate.returncode:
                pytest.fail(f"migrate failed:\n{migrate.stderr}")
            cast = seed(environment)
            a = FlowChat("A", free_port(), environment, root / "a.log")
            b = FlowChat("B", free_port(), environment, root / "b.log")
            stack = Stack(
                postgres=postgres,
                redis=redis_server,
                a=a,
                b=b,
                people={name: Person(name, **person) for name, person in cast["people"].items()},
                direct=cast["direct"],
                group=cast["group"],
            )
            try:
                with ThreadPoolExecutor(2) as starting:
                    list(starting.map(FlowChat.start, stack.servers))
                yield stack
            finally:
                for server in stack.servers:
                    server.stop()
        finally:
            redis_fixture.close()
    finally:
        postgres_fixture.close()


@pytest.fixture
def stack(request, fault_stack: Stack) -> Stack:
    fault_stack.bring_back()
    request.node.fault_stack = fault_stack
    return fault_stack


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and report.when == "call" and hasattr(item, "fault_stack"):
        report.sections.append(("FlowChat logs", item.fault_stack.logs()))
    return report


# Requests, as a script makes them ---------------------------------------------------------


@dataclass
class Answer:
    status: int | None  # None: no answer at all (refused, reset, or timed out)
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: str = ""
    hung: bool = False
    seconds: float = 0.0

    @property
    def refusal_problem(self) -> str | None:
        """Why this is not a clear refusal (429 or 503, Retry-After, JSON {"detail"}); None if it is."""
        if self.hung:
            return f"hung for {self.seconds:.1f} s"
        if self.status is None:
            return f"no answer: {self.error}"
        if self.status not in (429, 503):
            return f"{self.status} {str(self.body)[:200]}"
        if not (isinstance(self.body, dict) and self.body.get("detail")):
            return f"{self.status} without a JSON detail: {str(self.body)[:200]}"
        if "retry-after" not in self.headers:
            return f"{self.status} without Retry-After"
        return None


def call(
    server: FlowChat,
    method: str,
    path: str,
    token: str | None = None,
    body: dict | None = None,
    timeout: float = CLIENT_TIMEOUT_SECONDS,
) -> Answer:
    headers = {"Accept": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(f"{server.url}{path}", data=data, headers=headers, method=method)  # noqa: S310
    started = time.monotonic()

    def answer(status: int | None, raw: bytes = b"", response_headers=None, **kwargs: Any) -> Answer:
        try:
            parsed = json.loads(raw) if raw else None
        except ValueError:
            parsed = raw.decode(errors="replace")
        headers = {k.lower(): v for k, v in (response_headers or {}).items()}
        return Answer(status, parsed, headers, seconds=time.monotonic() - started, **kwargs)

    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 — our own server
            return answer(response.status, response.read(), response.headers)
    except urllib.error.HTTPError as error:
        return answer(error.code, error.read(), error.headers)
    except TimeoutError as error:
        return answer(None, error=repr(error), hung=True)
    except urllib.error.URLError as error:
        hung = isinstance(error.reason, TimeoutError)
        return answer(None, error=repr(error.reason), hung=hung)
    except (OSError, HTTPException) as error:
        return answer(None, error=repr(error))


@dataclass
class Sent:
    """One send and what it was answered."""

    client_id: str
    person: Person
    server: FlowChat
    answer: Answer
    started: float

    @property
    def acknowledged(self) -> bool:
        return self.answer.status in (200, 201)


def send(stack: Stack, server: FlowChat, person: Person, text: str, client_id: str | None = None) -> Sent:
    client_id = client_id or str(uuid.uuid4())
    started = time.monotonic()
    body = {"chat": stack.group, "text": text, "client_id": client_id}
    return Sent(client_id, person, server, call(server, "POST", "/api/messages/", person.token, body), started)


def check_stored_exactly_once(stack: Stack, sends: list[Sent]) -> None:
    """Every acknowledged send is stored once; nothing is stored twice (an unanswered one may be stored)."""
    stored = stack.postgres.stored([sent.client_id for sent in sends])
    lost = [sent.client_id for sent in sends if sent.acknowledged and stored.get(sent.client_id, 0) == 0]
    doubled = {client_id: count for client_id, count in stored.items() if count > 1}
    assert not lost, f"{len(lost)} acknowledged sends are not stored: {lost[:5]}"
    assert not doubled, f"stored more than once: {doubled}"


def retry_unacknowledged(stack: Stack, server: FlowChat, sends: list[Sent]) -> list[Sent]:
    """Send again, with the same client_id, what was not acknowledged: as the API docs tell a script."""
    retried = [send(stack, server, sent.person, "retried", sent.client_id) for sent in sends if not sent.acknowledged]
    problems = [
        f"{sent.client_id}: {sent.answer.status} {sent.answer.body}" for sent in retried if not sent.acknowledged
    ]
    assert not problems, f"retries not acknowledged: {problems[:5]}"
    return retried


class Traffic:
    """Sends from the crowd through the given servers, a few at a time, until stopped; keeps every answer."""

    def __init__(self, stack: Stack, servers: tuple[FlowChat, ...], workers: int = 6) -> None:
        self.stack = stack
        self.servers = servers
        self.workers = workers
        self.sends: list[Sent] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.threads: list[threading.Thread] = []

    def __enter__(self) -> Traffic:
        for n in range(self.workers):
            thread = threading.Thread(target=self._run, args=(n,), daemon=True)
            thread.start()
            self.threads.append(thread)
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _run(self, worker: int) -> None:
        crowd = self.stack.crowd
        n = 0
        while not self.stopping.is_set():
            server = self.servers[(worker + n) % len(self.servers)]
            person = crowd[(worker * 7 + n) % len(crowd)]
            sent = send(self.stack, server, person, f"burst {worker}.{n}")
            with self.lock:
                self.sends.append(sent)
            n += 1
            if sent.answer.status is None and not sent.answer.hung:
                # Refused at once (a dead process): do not spin.
                self.stopping.wait(0.05)

    def stop(self) -> list[Sent]:
        self.stopping.set()
        for thread in self.threads:
            thread.join(timeout=CLIENT_TIMEOUT_SECONDS + 5)
        assert not any(thread.is_alive() for thread in self.threads), "a sender never returned"
        return self.sends

    def since(self, moment: float) -> list[Sent]:
        with self.lock:
            return [sent for sent in self.sends if sent.started >= moment]

    def wait_until(self, condition: Callable[[list[Sent]], bool], seconds: float, what: str) -> None:
        def met() -> bool:
            with self.lock:
                sends = list(self.sends)
            return condition(sends)

        wait_for(met, seconds, what)


# Sockets, as a script opens them -----------------------------------------------------------


def open_socket(server: FlowChat, person: Person, query: str = "") -> ClientConnection:
    return connect(
        server.url.replace("http://", "ws://") + f"/ws/api/{query}",
        additional_headers={"Authorization": f"Token {person.token}", "Origin": server.url},
        open_timeout=5,
        close_timeout=2,
    )


def open_tab_socket(server: FlowChat, person: Person) -> ClientConnection:
    """The socket a tab's htmx opens: the session cookie, from a page of the site."""
    return connect(
        server.url.replace("http://", "ws://") + "/ws/",
        additional_headers={"Cookie": person.cookie, "Origin": server.url},
        open_timeout=5,
        close_timeout=2,
    )


def next_event(socket: ClientConnection, matches: Callable[[dict], bool], seconds: float = 10) -> dict:
    """The first event that `matches` within `seconds` (others are skipped)."""
    deadline = time.monotonic() + seconds
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            pytest.fail(f"No matching event within {seconds} s")
        try:
            event = json.loads(socket.recv(timeout=left))
        except TimeoutError:
            pytest.fail(f"No matching event within {seconds} s")
        if matches(event):
            return event


def message_created(message_id: int) -> Callable[[dict], bool]:
    return lambda event: event["event"] == "message.created" and event["data"]["id"] == message_id


def presence_of(person: Person, online: bool) -> Callable[[dict], bool]:
    return lambda event: (
        event["event"] == "presence"
        and event["data"]["user"]["id"] == person.id
        and event["data"]["is_online"] is online
    )


def check_live_delivery(stack: Stack) -> None:
    """Fresh sockets on both processes; a message sent through each reaches a socket on the other."""
    alice, bob = stack.people["alice"], stack.people["bob"]
    with open_socket(stack.a, alice) as on_a, open_socket(stack.b, bob) as on_b:
        for sender, server, listener in ((alice, stack.a, on_b), (bob, stack.b, on_a)):
            sent = send(stack, server, sender, f"live through {server.name}")
            assert sent.answer.status == 201, sent.answer
            next_event(listener, message_created(sent.answer.body["id"]))
