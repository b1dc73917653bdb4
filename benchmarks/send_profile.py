"""Where one send's CPU goes: `POST /api/messages/` in-process, profiled.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/flowchat .venv/bin/python benchmarks/send_profile.py
    .venv/bin/python benchmarks/send_profile.py --top     # and the 60 costliest functions, inclusive
    .venv/bin/python benchmarks/send_profile.py --json    # for benchmarks/realtime.py's report

Builds a throw-away test database through the real actions (a group of 100 members), then sends
SENDS short messages through the Django test client with a token, as a script does, running each
send's on-commit work (the broadcast's rendering and its hand-over to the outbox) as the server
does. It prints the CPU time per send (process time, so waiting for PostgreSQL does not count),
the queries per send, and a profile: how much of the send each part of the path takes,
inclusive of what it calls. The server's event loop and the consumers' deliveries are not in it:
benchmarks/realtime.py measures those.
"""

from __future__ import annotations

import asyncio
import cProfile
import inspect
import json
import os
import pkgutil
import pstats
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowchat.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # the test client speaks plain http

import django

django.setup()

from django.db import connection
from django.test import Client

SENDS = int(os.getenv("BENCH_SENDS", "300"))
MEMBERS = 100

# The parts of a send, each a function on its path, measured inclusive of what it calls.
PARTS = [
    ("the whole request (handler, middleware, view)", "django.core.handlers.base.BaseHandler.get_response"),
    ("the token check (authentication)", "flowchat.api.authenticate_token"),
    ("the view (reading the body, the send, the answer's JSON)", "conversations.api.send"),
    ("actions.send_message (the transaction, its writes, the commit)", "conversations.actions.send_message"),
    ("formatting the text (markdown-it-py, nh3)", "conversations.formatting.render"),
    ("the on-commit work", "django.db.backends.base.base.BaseDatabaseWrapper.run_and_clear_commit_hooks"),
    ("broadcast.message_created (its query, the renders)", "conversations.broadcast.message_created"),
    ("its template renders (two languages)", "django.template.backends.django.Template.render"),
    ("the API's Message (serializers.message_to_dict)", "conversations.serializers.message_to_dict"),
    ("the ORM compiling SQL", "django.db.models.sql.compiler.SQLCompiler.as_sql"),
    ("the driver (SQL sent, rows read)", "django.db.backends.utils.CursorWrapper._execute"),
    ("handing the event to the outbox", "conversations.outbox.Outbox._hand_in"),
]


def _code(dotted: str) -> tuple[str, int, str]:
    """The profiler's key of a function named by its dotted path (unwrapping decorators)."""
    code = inspect.unwrap(pkgutil.resolve_name(dotted)).__code__
    return code.co_filename, code.co_firstlineno, code.co_name


def main() -> None:
    from django.conf import settings

    from accounts.models import ApiToken, User
    from conversations import actions
    from conversations.outbox import outbox

    settings.SEND_RATE_BURST = 0  # one script sends them all
    settings.LINK_PREVIEWS = False
    # The outbox hands events to an event loop in another thread, as in the server (not inline).
    loop = asyncio.new_event_loop()
    ready = threading.Event()

    def run_loop() -> None:
        asyncio.set_event_loop(loop)
        loop.call_soon(lambda: (outbox.start(), ready.set()))
        loop.run_forever()

    threading.Thread(target=run_loop, daemon=True).start()
    ready.wait()
    # Not setup_test_environment(): its instrumented template rendering would be profiled too.
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        people = [User.objects.create_user(f"person{n}") for n in range(MEMBERS)]
        chat = actions.create_group(people[0], "Everyone", people[1:])
        _, key = ApiToken.objects.issue(people[0])
        client = Client(HTTP_AUTHORIZATION=f"Token {key}")

        def send(n: int) -> None:
            response = client.post(
                "/api/messages/", {"chat": chat.pk, "text": f"Rope at {n}?"}, content_type="application/json"
            )
            assert response.status_code == 201, response.content

        for n in range(20):  # warm caches, connections, templates
            send(n)
        # Counted by a wrapper: a request's start clears connection.queries (CaptureQueriesContext's).
        queries: list[str] = []
        with connection.execute_wrapper(lambda execute, sql, *args: (queries.append(sql), execute(sql, *args))[1]):
            send(0)
        started, wall = time.process_time(), time.perf_counter()
        for n in range(SENDS):
            send(n)
        cpu = (time.process_time() - started) / SENDS * 1000
        wall = (time.perf_counter() - wall) / SENDS * 1000
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for n in range(SENDS):
            send(n)
        profile.disable()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        connection.creation.destroy_test_db(old_name, verbosity=0)

    stats = pstats.Stats(profile).stats  # type: ignore[attr-defined]
    profiled = sum(tottime for _, _, tottime, _, _ in stats.values()) / SENDS * 1000
    rows = []
    for label, dotted in PARTS:
        entry = stats.get(_code(dotted))
        rows.append((label, 0.0 if entry is None else entry[3] / SENDS * 1000))
    result = {
        "engine": connection.vendor,
        "sends": SENDS,
        "members": MEMBERS,
        "cpu_ms": cpu,
        "wall_ms": wall,
        "queries": len(queries),
        "profiled_ms": profiled,
        "parts": [[label, ms / profiled] for label, ms in rows],
    }
    if "--json" in sys.argv:
        print(json.dumps(result))
        return
    print(
        f"{result['engine']}: {SENDS} sends to {MEMBERS} members, {cpu:.2f} ms CPU per send ({wall:.2f} ms wall), "
        f"{len(queries)} queries; each part's share of the profiled send, and that share of the unprofiled CPU:"
    )
    for label, share in result["parts"]:
        print(f"  {label:<66} {share:4.0%}  ≈ {share * cpu:5.2f} ms")
    if "--top" in sys.argv:
        pstats.Stats(profile).sort_stats("cumulative").print_stats(60)


if __name__ == "__main__":
    main()
