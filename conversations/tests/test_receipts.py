"""Read receipts in a group: "Seen by N" opens to list who, with Russian plurals, in flat queries.

alice writes in her group; bob and others read. Data is made through the actions.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from conftest import make_person
from conversations import actions, rendering
from conversations.receipts import NAMES_SHOWN, ReadPositions

RIGHT_TO_LEFT_OVERRIDE = "\u202e"


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def readers(group, alice, count: int, *, first: int = 0) -> list:
    """`count` new members of alice's group who have read everything so far."""
    people = []
    for n in range(first, first + count):
        person = make_person(f"reader{n:02d}", "Reader", f"{n:02d}")
        actions.add_member(group, alice, person)
        people.append(person)
    return people


def read_all(group, people) -> None:
    for person in people:
        actions.mark_read(group, person)


def receipt_html(html: str, message) -> str:
    pattern = rf'<(details|span) class="receipt[^"]*" id="message-{message.pk}-receipt".*?</\1>'
    found = re.search(pattern, html, re.DOTALL)
    assert found, f"no receipt for message {message.pk}"
    return found.group(0)


def chat_page(client, chat, language: str = "en") -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    response = client.get(reverse("chat", args=[chat.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_group_message_lists_who_has_seen_it_in_alphabetical_order(as_alice, alice, bob, group):
    dave = make_person("dave", "dave", "Dunn")  # lower case: sorted as people read it, not by code point
    erin = make_person("erin", "Erin", "Evans")
    for person in (dave, erin):
        actions.add_member(group, alice, person)
    message = actions.send_message(group, alice, "Who is driving?")[0]
    read_all(group, [dave, bob])

    receipt = receipt_html(chat_page(as_alice, group), message)

    assert receipt.startswith("<details")
    assert re.search(r'<summary title="[^"]*">Seen by 2</summary>', receipt)
    assert re.findall(r"<li><bdi>(.*?)</bdi></li>", receipt) == ["Bob Baker", "dave Dunn"]
    assert "Erin" not in receipt and "Alice" not in receipt  # not read yet; the author herself


def test_the_tooltip_names_the_same_people_each_isolated(as_alice, alice, bob, group):
    bob.first_name = f"Bob{RIGHT_TO_LEFT_OVERRIDE}"
    bob.save()
    carl = make_person("carl", "Carl", "Cruz")
    actions.add_member(group, alice, carl)
    message = actions.send_message(group, alice, "Who is driving?")[0]
    read_all(group, [bob, carl])

    receipt = receipt_html(chat_page(as_alice, group), message)

    title = re.search(r'<summary title="([^"]*)"', receipt).group(1)
    assert title == f"\u2068Bob{RIGHT_TO_LEFT_OVERRIDE} Baker\u2069, \u2068Carl Cruz\u2069"
    assert f"<li><bdi>Bob{RIGHT_TO_LEFT_OVERRIDE} Baker</bdi></li>" in receipt


def test_a_big_group_names_the_first_ten_and_counts_the_rest(as_alice, alice, group):
    people = readers(group, alice, NAMES_SHOWN + 2)
    message = actions.send_message(group, alice, "Who is driving?")[0]
    read_all(group, people)

    receipt = receipt_html(chat_page(as_alice, group), message)

    assert len(re.findall(r"<li><bdi>", receipt)) == NAMES_SHOWN
    assert "<li>and 2 more</li>" in receipt
    assert "Seen by 12</summary>" in receipt


def test_nobody_has_seen_it_yet_leaves_an_empty_receipt(as_alice, alice, group):
    message = actions.send_message(group, alice, "Who is driving?")[0]

    receipt = receipt_html(chat_page(as_alice, group), message)

    assert receipt == f'<span class="receipt" id="message-{message.pk}-receipt"></span>'


def test_a_direct_chat_still_just_says_seen(as_alice, alice, bob, chat):
    message = actions.send_message(chat, alice, "Climbing?")[0]
    actions.mark_read(chat, bob)

    assert receipt_html(chat_page(as_alice, chat), message) == (
        f'<span class="receipt" id="message-{message.pk}-receipt">Seen</span>'
    )


@pytest.mark.parametrize(
    ("count", "words"),
    [
        (1, "Просмотрено 1 участником"),
        (2, "Просмотрено 2 участниками"),
        (5, "Просмотрено 5 участниками"),
        (11, "Просмотрено 11 участниками"),
        (21, "Просмотрено 21 участником"),
    ],
)
def test_in_russian_the_count_has_the_right_plural_form(as_alice, alice, group, count, words):
    alice.language = "ru"
    alice.save()
    # bob is in the group already and has not read it: the count is of those who have.
    people = readers(group, alice, count)
    message = actions.send_message(group, alice, "Кто за рулём?")[0]
    read_all(group, people)

    receipt = receipt_html(chat_page(as_alice, group, "ru"), message)

    assert f">{words}</summary>" in receipt


def test_in_russian_the_rest_are_counted_too(as_alice, alice, group):
    alice.language = "ru"
    alice.save()
    people = readers(group, alice, NAMES_SHOWN + 3)
    message = actions.send_message(group, alice, "Кто за рулём?")[0]
    read_all(group, people)

    assert "<li>и ещё 3</li>" in receipt_html(chat_page(as_alice, group, "ru"), message)


def test_the_pushed_receipt_lists_the_readers_too(alice, bob, group):
    """What the socket pushes to alice's tabs when bob reads (conversations.broadcast.read)."""
    message = actions.send_message(group, alice, "Who is driving?")[0]
    actions.mark_read(group, bob)

    html = rendering.receipt(message, group, ReadPositions.of(group.pk))

    assert re.search(r"<summary[^>]*>Seen by 1</summary>", html["en"])
    assert "<li><bdi>Bob Baker</bdi></li>" in html["en"]
    assert re.search(r"<summary[^>]*>Просмотрено 1 участником</summary>", html["ru"])
    assert 'hx-swap-oob="true"' in html["en"]


def test_read_positions_from_the_page_and_from_one_query_name_the_same_readers(alice, bob, group):
    carl = make_person("carl", "Carl", "Cruz")
    actions.add_member(group, alice, carl)
    first = actions.send_message(group, alice, "One")[0]
    actions.mark_read(group, bob)
    second = actions.send_message(group, alice, "Two")[0]
    actions.mark_read(group, carl)

    from_query = ReadPositions.of(group.pk)
    from_page = ReadPositions.from_memberships(group.memberships.select_related("user"))

    for positions in (from_query, from_page):
        assert positions.seen(first).names == ("Bob Baker", "Carl Cruz")
        assert positions.seen(second).names == ("Carl Cruz",)
        assert positions.seen(second).count == positions.seen_by(second) == 1


def queries_for(client, url: str, **headers: str) -> int:
    client.get(reverse("accounts:settings"))  # takes the once-a-minute last_active write
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(queries)


def test_the_chat_page_and_its_updates_take_the_same_queries_for_two_readers_and_for_twelve(as_alice, alice, group):
    def receipts_read_by(count: int, first: int):
        people = readers(group, alice, count, first=first)
        for n in range(3):
            actions.send_message(group, alice, f"Message {n}")
        read_all(group, people)

    since = (timezone.now() - timedelta(minutes=5)).isoformat()
    updates = f"{reverse('chat_updates', args=[group.pk])}?{urlencode({'after': 10**9, 'since': since})}"
    htmx = {"HTTP_HX_REQUEST": "true"}

    page = reverse("chat", args=[group.pk])

    receipts_read_by(2, first=0)
    few_page, few_updates = queries_for(as_alice, page), queries_for(as_alice, updates, **htmx)
    receipts_read_by(10, first=2)
    many_page, many_updates = queries_for(as_alice, page), queries_for(as_alice, updates, **htmx)

    assert "Seen by 12" in chat_page(as_alice, group)
    assert "Seen by 12" in as_alice.get(updates, **htmx).content.decode()  # the receipts it sends again
    assert (many_page, many_updates) == (few_page, few_updates)
    print(f"\nchat page with receipts: {few_page} queries for 2 readers, {many_page} for 12; updates {many_updates}")
