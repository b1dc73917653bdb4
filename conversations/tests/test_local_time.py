"""Times and days as a person in another time zone sees them: on the page, and pushed.

alice and bob chat; bob lives in Tokyo (UTC+9), the server keeps UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from asgiref.sync import sync_to_async
from django.db import connections
from django.urls import reverse

from accounts.models import User
from conversations import actions, days
from conversations.models import Message
from conversations.tests.test_consumers import open_tab, pushed

# 20:20 on Tuesday 1 December in UTC is 05:20 on Wednesday 2 December in Tokyo.
SENT = datetime(2026, 12, 1, 20, 20, tzinfo=UTC)
EARLIER = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # 19:00 on 1 December in Tokyo too


def sent_at(message: Message, moment: datetime) -> None:
    Message.objects.filter(pk=message.pk).update(created_at=moment)


def day_lines(html: str) -> list[str]:
    return re.findall(r'<div class="day-line" id="day-\d+"><time datetime="[\d-]+">([^<]+)</time></div>', html)


@pytest.fixture
def bob_in_tokyo(bob):
    User.objects.filter(pk=bob.pk).update(timezone="Asia/Tokyo")
    bob.refresh_from_db()
    return bob


@pytest.mark.django_db
def test_someone_in_tokyo_sees_the_time_and_day_of_tokyo(client, monkeypatch, alice, bob_in_tokyo, chat):
    monkeypatch.setattr(days, "now", lambda: datetime(2026, 12, 1, 20, 25, tzinfo=UTC))
    earlier, _ = actions.send_message(chat, alice, "Dinner?")
    sent, _ = actions.send_message(chat, bob_in_tokyo, "Just woke up")
    sent_at(earlier, EARLIER)
    sent_at(sent, SENT)
    client.force_login(bob_in_tokyo)

    html = client.get(reverse("chat", args=[chat.pk])).content.decode()

    assert day_lines(html) == ["Yesterday", "Today"]
    assert '<time datetime="2026-12-01T20:20:00Z" title="Wednesday, December 2, 2026, 05:20">05:20</time>' in html
    assert '<time datetime="2026-12-01T10:00:00Z" title="Tuesday, December 1, 2026, 19:00">19:00</time>' in html


@pytest.mark.django_db
def test_the_same_page_in_the_servers_zone_for_someone_without_one(client, monkeypatch, alice, bob_in_tokyo, chat):
    monkeypatch.setattr(days, "now", lambda: datetime(2026, 12, 1, 20, 25, tzinfo=UTC))
    earlier, _ = actions.send_message(chat, alice, "Dinner?")
    sent, _ = actions.send_message(chat, bob_in_tokyo, "Just woke up")
    sent_at(earlier, EARLIER)
    sent_at(sent, SENT)
    client.force_login(alice)

    html = client.get(reverse("chat", args=[chat.pk])).content.decode()

    assert day_lines(html) == ["Today"]  # both on 1 December in UTC
    assert ">20:20</time>" in html


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_pushed_message_carries_its_moment_for_a_tab_in_another_zone(alice, bob_in_tokyo, chat):
    """Pushed frames are rendered once for every zone: they carry the moment (the tab writes
    it in its person's zone, static/js/local-time.js) and no day line that is only the server's."""
    earlier, _ = await sync_to_async(actions.send_message)(chat, alice, "Dinner?")
    # Yesterday in UTC, so UTC would start a new day here; in another zone it may not.
    await sync_to_async(sent_at)(earlier, EARLIER.replace(year=2020))
    bob_tab = await open_tab(bob_in_tokyo, chat)
    alice_tab = await open_tab(alice, chat)
    await pushed(bob_tab), await pushed(alice_tab)

    message, _ = await sync_to_async(actions.send_message)(chat, alice, "Good morning, Tokyo")

    frame = await pushed(bob_tab)
    created = message.created_at.replace(microsecond=0).isoformat().replace("+00:00", "Z")
    assert f'<time datetime="{created}">' in frame  # its title too is the tab's
    assert "Good morning, Tokyo" in frame
    assert "day-line" not in frame
    assert "day-line" not in await pushed(alice_tab)
    await bob_tab.disconnect()
    await alice_tab.disconnect()
    # The worker thread's connection must not outlive the test database (PostgreSQL).
    await sync_to_async(connections.close_all)()


@pytest.mark.django_db
def test_an_htmx_catch_up_is_in_the_persons_zone_too(client, alice, bob_in_tokyo, chat):
    earlier, _ = actions.send_message(chat, alice, "Dinner?")
    sent, _ = actions.send_message(chat, alice, "Or breakfast?")
    sent_at(earlier, EARLIER)
    sent_at(sent, SENT)
    client.force_login(bob_in_tokyo)

    url = reverse("chat_updates", args=[chat.pk])
    html = client.get(url, {"after": earlier.pk, "since": EARLIER.isoformat()}, headers={"HX-Request": "true"})

    assert html.status_code == 200
    text = html.content.decode()
    assert '<time datetime="2026-12-01T20:20:00Z" title="Wednesday, December 2, 2026, 05:20">05:20</time>' in text
    assert len(day_lines(text)) == 1  # 2 December in Tokyo, after a message of 1 December
