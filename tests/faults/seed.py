"""The fault suite's cast, made through the real actions in the suite's own database.

Run by tests/faults/conftest.py as `python -m tests.faults.seed <crowd>` with the servers'
environment (DATABASE_URL and REDIS_URL of the private PostgreSQL and Redis); prints the cast
as JSON: alice and bob (who chat, directly and in the group), a crowd of senders, everyone in
the group "Load", and an API token and a session cookie for each.
"""

from __future__ import annotations

import json
import sys

import django

# Cheap to check, so that a login in a test costs the server no second of hashing.
PASSWORD_ITERATIONS = 1_000


def main(crowd: int, password: str) -> dict:
    django.setup()
    from django.conf import settings
    from django.contrib.auth.hashers import PBKDF2PasswordHasher
    from django.test import Client

    from accounts.models import ApiToken, User
    from conversations import actions

    hasher = PBKDF2PasswordHasher()
    names = [("alice", "Alice"), ("bob", "Bob")] + [(f"sender{n}", f"Sender {n}") for n in range(crowd)]
    people = []
    for username, first_name in names:
        person = User.objects.create_user(username=username, first_name=first_name)
        person.password = hasher.encode(password, hasher.salt(), iterations=PASSWORD_ITERATIONS)
        person.save(update_fields=["password"])
        people.append(person)
    alice, bob, *senders = people
    direct, _ = actions.get_or_create_direct_chat(alice, bob)
    group = actions.create_group(alice, "Load", [bob, *senders])

    def session(person: User) -> str:
        """A signed-in session, as a tab holds it (for the /ws/ socket)."""
        client = Client()
        client.force_login(person)
        return f"{settings.SESSION_COOKIE_NAME}={client.cookies[settings.SESSION_COOKIE_NAME].value}"

    return {
        "people": {
            person.username: {"id": person.pk, "token": ApiToken.objects.issue(person)[1], "cookie": session(person)}
            for person in people
        },
        "direct": direct.pk,
        "group": group.pk,
    }


if __name__ == "__main__":
    print(json.dumps(main(int(sys.argv[1]), sys.argv[2])))
