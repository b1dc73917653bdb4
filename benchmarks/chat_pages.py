"""Time the chat list and chat history, small against large, in one run.

    .venv/bin/python benchmarks/chat_pages.py            # SQLite
    DATABASE_URL=postgres://... .venv/bin/python benchmarks/chat_pages.py

Builds a throw-away test database through the real actions, then prints, for each
page, the median time over repeated requests, the SQL query count, and the ratio of
the large case to the small one (the baseline measured in the same run). A list
that stays fast has a ratio near 1 and the same number of queries.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowchat.settings")
os.environ.setdefault("SECURE_SSL_REDIRECT", "false")  # the test client speaks plain http

import django

django.setup()

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext, setup_test_environment

REPEATS = int(os.getenv("BENCH_REPEATS", "30"))
HISTORY = int(os.getenv("BENCH_HISTORY", "5000"))


def measure(client: Client, url: str, **headers: str) -> tuple[float, int]:
    client.get(url, **headers)  # warm caches and connections
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        response = client.get(url, **headers)
        times.append(time.perf_counter() - start)
        assert response.status_code == 200, (url, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(url, **headers)
    return statistics.median(times) * 1000, len(queries)


def report(name: str, small: tuple[float, int], large: tuple[float, int], labels: tuple[str, str]) -> None:
    print(
        f"{name:<28} {labels[0]:>12}: {small[0]:7.2f} ms {small[1]:3d} queries | "
        f"{labels[1]:>12}: {large[0]:7.2f} ms {large[1]:3d} queries | ratio {large[0] / small[0]:.2f}"
    )


def rich_chat(alice, person, count: int):
    """Messages as a team writes them: each a reply with two reactions and an @mention, every other
    with a PDF and a picture, every third with its link's preview (stored, nothing fetched)."""
    import io

    from django.core.files.uploadedfile import SimpleUploadedFile
    from PIL import Image

    from conversations import actions, previews
    from conversations.forms import MessageForm

    chat, _ = actions.get_or_create_direct_chat(alice, person)
    buffer = io.BytesIO()
    Image.new("RGB", (640, 480), "#2e86c1").save(buffer, format="PNG")
    previous = None
    for n in range(count):
        author, other = (person, alice) if n % 2 else (alice, person)
        text = f"@{other.username} the route: https://example.com/{n}" if n % 3 == 0 else f"@{other.username} {n}"
        files = []
        if n % 2:
            uploads = [
                SimpleUploadedFile("topo.pdf", b"%PDF-1.4 topo", "application/pdf"),
                SimpleUploadedFile("crag.png", buffer.getvalue(), "image/png"),
            ]
            form = MessageForm({"text": text}, {"files": uploads})
            assert form.is_valid(), form.errors
            files = form.cleaned_data["files"]
        message, _ = actions.send_message(chat, author, text, files=files, reply_to=previous)
        actions.add_reaction(message, alice, "👍")
        actions.add_reaction(message, person, "🎉")
        if n % 3 == 0:
            link = f"https://example.com/{n}"
            actions.set_link_preview(message.pk, previews.Preview(link, "Example", f"Route {n}", "The topo", None))
        previous = message.pk
    return chat


def main() -> None:
    from django.conf import settings

    from accounts.models import ApiToken, User
    from conversations import actions, previews

    # One person builds everything: no rate limits; previews shown, none fetched (rich_chat stores them).
    settings.SEND_RATE_BURST = settings.REACTION_RATE_BURST = 0
    settings.LINK_PREVIEWS = True
    previews.schedule = lambda message_id, link: None

    setup_test_environment()
    old_name = connection.creation.create_test_db(verbosity=0, keepdb=False)
    try:
        alice = User.objects.create_user("alice", password="benchmark-password")
        client = Client()
        client.force_login(alice)
        _, key = ApiToken.objects.issue(alice)
        api = {"HTTP_AUTHORIZATION": f"Token {key}"}

        first = User.objects.create_user("person0", password="benchmark-password")
        chat, _ = actions.get_or_create_direct_chat(alice, first)
        actions.send_message(chat, first, "hello")
        one_chat = measure(client, "/"), measure(client, "/api/chats/", **api)
        for n in range(1, 50):
            person = User.objects.create_user(f"person{n}", password="benchmark-password")
            other, _ = actions.get_or_create_direct_chat(alice, person)
            actions.send_message(other, person, f"hello {n}")
        fifty_chats = measure(client, "/"), measure(client, "/api/chats/", **api)

        for n in range(HISTORY):
            actions.send_message(chat, alice if n % 2 else first, f"message number {n}")
        ids = list(chat.messages.order_by("id").values_list("id", flat=True))
        page_100_before = ids[len(ids) - 50 * 99]
        page_1 = (
            measure(client, f"/chats/{chat.pk}/"),
            measure(client, f"/api/chats/{chat.pk}/get_messages/", **api),
        )
        page_100 = (
            measure(client, f"/chats/{chat.pk}/?before={page_100_before}"),
            measure(client, f"/api/chats/{chat.pk}/get_messages/?before={page_100_before}", **api),
        )

        second = User.objects.create_user("rich", password="benchmark-password")
        plain, _ = actions.get_or_create_direct_chat(alice, second)
        for n in range(60):
            actions.send_message(plain, second if n % 2 else alice, f"@{alice.username} message number {n}")
        rich = rich_chat(alice, User.objects.create_user("richer", password="benchmark-password"), 60)
        plain_page = (
            measure(client, f"/chats/{plain.pk}/"),
            measure(client, f"/api/chats/{plain.pk}/get_messages/", **api),
        )
        rich_page = measure(client, f"/chats/{rich.pk}/"), measure(client, f"/api/chats/{rich.pk}/get_messages/", **api)

        print(f"{connection.vendor}, median of {REPEATS} requests, {HISTORY} messages in the long chat")
        report("chat list page /", one_chat[0], fifty_chats[0], ("1 chat", "50 chats"))
        report("chat list API /api/chats/", one_chat[1], fifty_chats[1], ("1 chat", "50 chats"))
        report("chat page", page_1[0], page_100[0], ("page 1", "page 100"))
        report("history API get_messages", page_1[1], page_100[1], ("page 1", "page 100"))
        # Replies, reactions, mentions, files and previews against text alone, 50 messages a page.
        report("chat page, rich history", plain_page[0], rich_page[0], ("text only", "rich"))
        report("history API, rich history", plain_page[1], rich_page[1], ("text only", "rich"))
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()
