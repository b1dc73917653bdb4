"""Message search over 100,000 messages, on PostgreSQL and on SQLite: how long a search takes.

    .venv/bin/python benchmarks/search.py [--messages 100000] [--database flowchat_bench_search]

Each database is made afresh and migrated (PostgreSQL: the named database, dropped first;
SQLite: a temporary file), filled with messages in 50 chats of one reader, and searched for
words that are common, rare and missing, each 30 times after a warm-up, as the results page searches
(with each message's author and chat). It prints p50 and p95
in milliseconds per query and backend; the target is under 50 ms on PostgreSQL.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORDS = [
    *("rope", "climbing", "saturday", "coffee", "meeting", "report", "deadline", "cat", "release", "deploy"),
    *("server", "database", "window", "garden", "train", "ticket", "holiday"),
    *("кошка", "собака", "встреча", "отчёт", "суббота", "кофе", "погода", "поезд", "билет", "отпуск"),
]
QUERIES = {
    "common word": "meeting",
    "rare word": "zebra",
    "Russian form": "кошки",
    "two words": "coffee report",
    "missing": "xylophone",
}
REPEATS = 30


def seed_and_measure(messages: int) -> dict[str, list[float]]:
    """Inside a Django process whose DATABASE_URL is set: fill the database and time the queries."""
    sys.path.insert(0, str(ROOT))
    import django

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowchat.settings")
    django.setup()
    from django.core.management import call_command

    from accounts.models import User
    from conversations import search
    from conversations.models import Chat, Membership, Message

    call_command("migrate", verbosity=0)
    reader = User.objects.create_user("reader", password="x")
    writer = User.objects.create_user("writer", password="x")
    chats = []
    for n in range(50):
        chat = Chat.objects.create(is_group=True, title=f"Chat {n}", created_by=reader)
        Membership.objects.bulk_create([Membership(chat=chat, user=reader), Membership(chat=chat, user=writer)])
        chats.append(chat)
    generator = random.Random(7)  # noqa: S311 - the same messages every run, not a secret
    batch = []
    for n in range(messages):
        words = generator.choices(WORDS, k=generator.randint(3, 14))
        if n % 1000 == 0:
            words.append("zebra")
        batch.append(Message(chat=chats[n % len(chats)], author=writer, text=" ".join(words)))
        if len(batch) == 5000:
            Message.objects.bulk_create(batch)
            batch = []
    Message.objects.bulk_create(batch)
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE conversations_message")
    timings: dict[str, list[float]] = {}
    for label, query in QUERIES.items():
        search.search_messages(reader, query)  # warm-up
        samples = []
        for _ in range(REPEATS):
            started = time.perf_counter()
            found, _more = search.search_messages(reader, query)
            samples.append((time.perf_counter() - started) * 1000)
        timings[label] = samples
        timings[label + " results"] = [len(found)]
    return timings


def run_backend(name: str, database_url: str, messages: int) -> dict[str, list[float]]:
    environment = {**os.environ, "DATABASE_URL": database_url}
    environment.pop("REDIS_URL", None)
    output = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, __file__, "--inner", "--messages", str(messages)],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def postgres(command: str, *args: str) -> None:
    subprocess.run([command, "-h", "127.0.0.1", "-U", "postgres", *args], check=True)  # noqa: S603


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--database", default="flowchat_bench_search", help="the PostgreSQL database to recreate")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    arguments = parser.parse_args()
    if arguments.inner:
        print(json.dumps(seed_and_measure(arguments.messages)))
        return
    postgres("dropdb", "--if-exists", arguments.database)
    postgres("createdb", arguments.database)
    with tempfile.TemporaryDirectory() as directory:
        backends = {
            "PostgreSQL": f"postgres://postgres@127.0.0.1:5432/{arguments.database}",
            "SQLite": f"sqlite:///{directory}/search.sqlite3",
        }
        results = {name: run_backend(name, url, arguments.messages) for name, url in backends.items()}
    postgres("dropdb", "--if-exists", arguments.database)
    print(f"Message search over {arguments.messages:,} messages in 50 chats, one page of 20 results")
    print("| query | " + " | ".join(f"{name} p50 / p95 ms (results)" for name in results) + " |")
    print("|---|" + "---|" * len(results))
    for label, query in QUERIES.items():
        cells = []
        for timings in results.values():
            samples = sorted(timings[label])
            p95 = samples[int(len(samples) * 0.95) - 1]
            cells.append(f"{statistics.median(samples):.1f} / {p95:.1f} ({int(timings[label + ' results'][0])})")
        print(f"| {label} (`{query}`) | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    main()
