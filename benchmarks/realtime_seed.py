"""The data of benchmarks/realtime.py, made through FlowChat's own code in its own database.

People are bulk-created (thousands of `create_user` calls would spend the run hashing the same
password); chats come from `conversations.actions.create_group`, so their memberships,
owners and system lines are exactly what the app makes; API tokens from
`ApiToken.objects.issue`; browser sessions are what `django.contrib.auth.login` leaves in a
`SessionStore` (`_auth_user_id`, `_auth_user_backend`, `_auth_user_hash`), bulk-saved.

    fan-out chats   one group per size (10, 100, 500, 1,000 members); member k of a smaller
                    group is member k of the larger ones too (people are in several chats)
    mixed chats     100 groups of 10 other people (the mixed load adds the 500-member group)
    idle chats      2,000 more people in groups of 10, whose tabs only stay open

Call `setup(database_url, redis_url)` first; it sets the environment and Django up.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import psycopg
from psycopg import sql

BACKEND = "django.contrib.auth.backends.ModelBackend"


@dataclass(frozen=True)
class SeedPlan:
    fan_sizes: tuple[int, ...] = (10, 100, 500, 1000)
    mixed_chats: int = 100
    mixed_size: int = 10
    idle_people: int = 2000
    idle_size: int = 10
    senders: int = 10  # people of the fan-out chats with an API token


@dataclass
class SeedChat:
    id: int
    member_ids: list[int]
    sessions: list[str]  # the session key of each member, in member_ids order
    tokens: list[str] = field(default_factory=list)  # API token keys of members who send


@dataclass
class Seeded:
    fan: dict[int, SeedChat]  # by size
    mixed: list[SeedChat]
    idle: list[SeedChat]
    seconds: float


def recreate_database(admin_url: str, name: str, connection_limit: int) -> None:
    """Drop (closing its connections) and create the benchmark's own database, owned by a role of
    the same name that may hold at most `connection_limit` connections.

    The PostgreSQL server is shared (tests run beside the benchmark), and a superuser is not
    held to any limit; FlowChat opens a connection per HTTP request under ASGI, so without the
    limit a benchmark could take every connection the server has.
    """
    role = sql.Identifier(name)
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(role))
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(role))
        connection.execute(
            sql.SQL("CREATE ROLE {} LOGIN NOSUPERUSER CONNECTION LIMIT {}").format(role, sql.Literal(connection_limit))
        )
        connection.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(role, role))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as connection:
        connection.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        connection.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(name)))


def open_connections(admin_url: str, name: str) -> int:
    """Connections to the benchmark's database right now."""
    with psycopg.connect(admin_url) as connection:
        row = connection.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s", [name]).fetchone()
        return int(row[0]) if row else 0


def setup(database_url: str, redis_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["REDIS_URL"] = redis_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.flowchat_settings")
    import django

    django.setup()


def _people(prefix: str, count: int, password: str) -> list[Any]:
    from accounts.models import User

    people = [User(username=f"{prefix}{n}", password=password, language="en") for n in range(count)]
    return User.objects.bulk_create(people, batch_size=1000)


def _sessions(people: list[Any]) -> dict[int, str]:
    """One signed-in browser session per person, as django.contrib.auth.login stores it."""
    from django.conf import settings
    from django.contrib.sessions.backends.base import VALID_KEY_CHARS
    from django.contrib.sessions.backends.db import SessionStore
    from django.contrib.sessions.models import Session
    from django.utils import timezone
    from django.utils.crypto import get_random_string

    assert BACKEND in settings.AUTHENTICATION_BACKENDS, settings.AUTHENTICATION_BACKENDS
    store = SessionStore()
    expires = timezone.now() + timedelta(days=1)
    keys = {person.pk: get_random_string(32, VALID_KEY_CHARS) for person in people}
    rows = [
        Session(
            session_key=keys[person.pk],
            session_data=store.encode(
                {
                    "_auth_user_id": str(person.pk),
                    "_auth_user_backend": BACKEND,
                    "_auth_user_hash": person.get_session_auth_hash(),
                }
            ),
            expire_date=expires,
        )
        for person in people
    ]
    Session.objects.bulk_create(rows, batch_size=1000)
    return keys


def _group(title: str, members: list[Any], sessions: dict[int, str]) -> SeedChat:
    from conversations import actions

    chat = actions.create_group(members[0], title, members[1:])
    ids = [member.pk for member in members]
    return SeedChat(chat.pk, ids, [sessions[pk] for pk in ids])


def _token(person: Any) -> str:
    from accounts.models import ApiToken

    _token, key = ApiToken.objects.issue(person, name="benchmarks/realtime.py")
    return key


def seed(plan: SeedPlan) -> Seeded:
    from django.contrib.auth.hashers import make_password

    started = time.perf_counter()
    password = make_password("benchmark-password-123")
    fan_people = _people("fan", max(plan.fan_sizes), password)
    mixed_people = _people("mixed", plan.mixed_chats * plan.mixed_size, password)
    idle_people = _people("idle", plan.idle_people, password)
    sessions = _sessions(fan_people + mixed_people + idle_people)

    tokens = [_token(person) for person in fan_people[: plan.senders]]
    fan = {}
    for size in plan.fan_sizes:
        fan[size] = _group(f"Fan-out {size}", fan_people[:size], sessions)
        fan[size].tokens = tokens[: min(size, plan.senders)]
    mixed = []
    for n in range(plan.mixed_chats):
        chat = _group(f"Mixed {n}", mixed_people[n * plan.mixed_size : (n + 1) * plan.mixed_size], sessions)
        chat.tokens = [_token(mixed_people[n * plan.mixed_size])]
        mixed.append(chat)
    idle = [
        _group(f"Idle {n // plan.idle_size}", idle_people[n : n + plan.idle_size], sessions)
        for n in range(0, plan.idle_people, plan.idle_size)
    ]
    return Seeded(fan, mixed, idle, time.perf_counter() - started)


def prepare_presence(online: list[int]) -> None:
    """Before a point: no socket is open (the last server was killed); `online` people count as
    online already (another tab), everyone else is offline, with nothing left to expire.

    A person who comes online or goes offline tells everyone who shares a chat with them
    (presence), so opening N sockets of an N-member group of offline people sends N×N events;
    the latency points mark their people online first so that they measure messages only.
    Everyone else must be offline *with no expiry pending*: a killed server leaves its people
    online until PRESENCE_TTL_SECONDS, and the next server's heartbeat then sends all their
    "offline" events at once, from the thread that every socket handshake also waits for.
    """
    from django.db import connections
    from django.utils import timezone

    from accounts.models import Connection, User

    now = timezone.now()
    Connection.objects.all().delete()
    User.objects.exclude(pk__in=online).update(online_until=None)
    User.objects.filter(pk__in=online).update(online_until=now + timedelta(hours=2), last_active=now)
    connections.close_all()  # this thread's: the next point may run in another


def presence_state(people: list[int]) -> dict[str, Any]:
    """What the database says of presence, against `people` (those with a socket open now).

    Exact means: those people and nobody else are online, and there is one connection row per
    open socket, each of one of them.
    """
    from django.db import connections
    from django.utils import timezone

    from accounts.models import Connection, User

    now = timezone.now()
    expected = set(people)
    online = set(User.objects.filter(online_until__gt=now).values_list("pk", flat=True))
    rows = list(Connection.objects.filter(expires_at__gt=now).values_list("user_id", flat=True))
    connections.close_all()
    return {
        "online": len(online),
        "expected_online": len(expected),
        "wrongly_online": len(online - expected),
        "wrongly_offline": len(expected - online),
        "connection_rows": len(rows),
        "rows_of_others": sum(1 for user in rows if user not in expected),
    }


def finish() -> None:
    from django.db import connections

    connections.close_all()
