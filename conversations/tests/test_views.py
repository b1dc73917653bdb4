"""Chat pages and their htmx fragments. alice and bob chat; carol is an outsider who gets 404s.

Data is made through the actions, as the app makes it. "With htmx" means the request carries
HX-Request, as htmx sends it; without it, the view answers as to a browser without JavaScript.
"""

from __future__ import annotations

import io
import re
import uuid
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from accounts.tests.test_views import InlineCodeFinder
from conftest import make_person
from conversations import actions, previews
from conversations.forms import MessageForm
from conversations.models import Chat, Membership, Message
from conversations.views import PAGE_SIZE
from flowchat.images import CHAT_PHOTO, PICTURE, THUMBNAIL, clean_image, clean_images
from flowchat.testing import auth

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


@pytest.fixture
def as_bob(client, bob):
    client.force_login(bob)
    return client


@pytest.fixture
def as_carol(client, carol):
    client.force_login(carol)
    return client


def png(name: str = "picture.png", size: tuple[int, int] = (64, 48)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#c0392b").save(buffer, format="PNG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/png")


def picture_pair():
    return tuple(clean_images(png(), [PICTURE, THUMBNAIL]))


def chat_url(chat: Chat, **query: object) -> str:
    url = reverse("chat", args=[chat.pk])
    return url + ("?" + "&".join(f"{key}={value}" for key, value in query.items()) if query else "")


def send_url(chat: Chat) -> str:
    return reverse("send_message", args=[chat.pk])


def composer_url(chat: Chat, headers: dict) -> str:
    """Where the composer posts: with htmx its hx-post, without JavaScript the chat itself."""
    return send_url(chat) if headers else chat_url(chat)


def edit_url(message: Message) -> str:
    return reverse("edit_message", args=[message.chat_id, message.pk])


def delete_url(message: Message) -> str:
    return reverse("delete_message", args=[message.chat_id, message.pk])


def page(response) -> str:
    return response.content.decode()


def ids(html: str, prefix: str = "message-") -> list[int]:
    return [int(found) for found in re.findall(rf'<article[^>]* id="{prefix}(\d+)"', html)]


def texts(html: str) -> list[str]:
    """Each message's text as shown (its formatting's elements left out)."""
    found = re.findall(r'<(p|div) class="message-text[^"]*"(?: dir="auto")?>(.*?)</\1>', html, flags=re.S)
    return [re.sub(r"<[^>]+>", "", inner) for _tag, inner in found]


class Elements(HTMLParser):
    """Every element's attributes, to find one by id."""

    def __init__(self, html: str):
        super().__init__()
        self.by_id: dict[str, dict[str, str]] = {}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        attributes = {name: value or "" for name, value in attrs}
        if "id" in attributes:
            self.by_id[attributes["id"]] = {"tag": tag, **attributes}


def element(html: str, element_id: str) -> dict[str, str]:
    return Elements(html).by_id[element_id]


def queries_for(client, url: str, **headers: str) -> int:
    # last_active is written at most once a minute: a warm-up request takes that write.
    client.get(reverse("accounts:settings"))
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url, **headers)
    assert response.status_code == 200
    return len(queries)


# The chat list -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["home", "chat"])
def test_anonymous_visitor_is_sent_to_login(client, chat, name):
    url = reverse(name, args=[chat.pk] if name == "chat" else [])

    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


def test_the_chat_list_shows_my_chats_newest_first_with_name_photo_preview_and_unread(as_alice, alice, bob, chat):
    dave = make_person("dave", "Dave", "Dunn")
    quiet, _ = actions.get_or_create_direct_chat(alice, dave)
    group = actions.create_group(alice, "Climbing club", [bob, dave])
    actions.send_message(chat, bob, "Are you coming on Saturday?")
    actions.send_message(chat, bob, "Bring the rope")
    actions.send_message(group, dave, "Who is driving?")

    html = page(as_alice.get(reverse("home")))

    rows = re.findall(r'<li id="chat-(\d+)"', html)
    assert rows == [str(group.pk), str(chat.pk), str(quiet.pk)]  # most recent activity first
    bob_row = html[html.index(f'id="chat-{chat.pk}"') : html.index(f'id="chat-{quiet.pk}"')]
    assert "Bob Baker" in bob_row
    assert bob.avatar_url in bob_row
    assert "Bring the rope" in bob_row
    badge = '<span class="badge" aria-hidden="true">2</span><span class="visually-hidden">2 unread messages</span>'
    assert badge in bob_row
    # Links open the chat at its first unread message, or at the bottom.
    assert f'href="{chat_url(chat)}#unread"' in bob_row
    assert f'href="{chat_url(quiet)}#bottom"' in html
    group_row = html[html.index(f'id="chat-{group.pk}"') : html.index(f'id="chat-{chat.pk}"')]
    assert "Climbing club" in group_row
    assert reverse("chat_initials", args=[group.pk]) in group_row
    assert "No messages yet" in html  # the chat with dave


def test_the_chat_list_previews_pictures_deletions_system_lines_and_my_own_messages(as_alice, alice, bob, chat):
    dave, erin, fred = make_person("dave", "Dave"), make_person("erin", "Erin"), make_person("fred", "Fred")
    with_dave = actions.get_or_create_direct_chat(alice, dave)[0]
    actions.send_message(with_dave, dave, picture=picture_pair())
    with_erin = actions.get_or_create_direct_chat(alice, erin)[0]
    gone, _ = actions.send_message(with_erin, erin, "oops")
    actions.delete_message(gone, erin)
    actions.create_group(fred, "Book club", [alice])
    actions.send_message(chat, alice, "See you there")

    html = page(as_alice.get(reverse("home")))

    assert re.search(r'class="chat-preview" id="chat-\d+-preview">\s*Photo\s*<', html)
    assert re.search(r'class="chat-preview is-quiet" id="chat-\d+-preview">\s*Message deleted\s*<', html)
    system_line = r"\s*<bdi>Fred</bdi> added <bdi>Alice Archer</bdi>\s*<"
    assert re.search(r'class="chat-preview is-quiet" id="chat-\d+-preview">' + system_line, html)
    assert re.search(r'class="chat-preview" id="chat-\d+-preview">\s*You: <bdi>See you there</bdi>\s*<', html)


def test_the_chat_list_has_a_new_group_link_and_a_people_search(as_alice):
    html = page(as_alice.get(reverse("home")))

    assert f'href="{reverse("create_group")}"' in html
    form = element(html, "people-search")
    assert form["name"] == "q" and form["type"] == "search"
    assert f'action="{reverse("people")}"' in html
    assert '<label class="visually-hidden" for="people-search">Find people</label>' in html


def test_a_new_person_sees_an_empty_list_and_a_welcome(as_alice):
    html = page(as_alice.get(reverse("home")))

    assert "No chats yet." in html
    assert "Welcome, <bdi>Alice Archer</bdi>" in html


def test_the_chat_list_takes_the_same_number_of_queries_for_1_chat_and_for_50(as_alice, alice):
    first = make_person("person0")
    chat, _ = actions.get_or_create_direct_chat(alice, first)
    actions.send_message(chat, first, "hello")
    one_chat = queries_for(as_alice, reverse("home"))
    for n in range(1, 50):
        person = make_person(f"person{n}")
        if n % 10 == 0:
            other = actions.create_group(alice, f"Group {n}", [person])
        else:
            other, _ = actions.get_or_create_direct_chat(alice, person)
        actions.send_message(other, person, f"hello {n}", picture=picture_pair() if n % 7 == 0 else None)

    fifty_chats = queries_for(as_alice, reverse("home"))

    assert Chat.objects.for_user(alice).count() == 50
    assert one_chat == fifty_chats, (one_chat, fifty_chats)
    print(f"\nchat list: {one_chat} queries for 1 chat, {fifty_chats} for 50")


# The chat page -------------------------------------------------------------------------------------


def test_the_chat_page_shows_the_messages_oldest_first_with_author_time_and_marks(as_alice, alice, bob, chat):
    first, _ = actions.send_message(chat, bob, "Hi Alice")
    edited, _ = actions.send_message(chat, alice, "Hello Bob")
    actions.edit_message(edited, alice, "Hello, Bob!")
    gone, _ = actions.send_message(chat, alice, "Wrong chat")
    actions.delete_message(gone, alice)

    html = page(as_alice.get(chat_url(chat)))

    assert ids(html) == [first.pk, edited.pk, gone.pk]
    assert texts(html) == ["Hi Alice", "Hello, Bob!", "Message deleted"]
    hello = html[html.index(f'id="message-{edited.pk}"') : html.index(f'id="message-{gone.pk}"')]
    assert f'data-author="{alice.pk}"' in hello
    assert '<span class="edited">edited</span>' in hello
    assert (
        f'<time datetime="{edited.created_at.replace(microsecond=0).isoformat().replace("+00:00", "Z")}" title="'
        in hello
    )
    deleted = html[html.index(f'id="message-{gone.pk}"') :]
    assert "Wrong chat" not in html
    assert "message-menu" not in deleted.split("</article>")[0]  # nothing left to edit or delete
    messages = element(html, "messages")
    assert messages["role"] == "log" and messages["aria-live"] == "polite"
    assert messages["data-viewer"] == str(alice.pk)
    assert '<h1><a href="/people/bob/"><bdi>Bob Baker</bdi></a></h1>' in html
    assert 'id="bottom"' in html


def test_every_member_gets_the_same_html_for_a_message_but_for_the_authors_menu(client, alice, bob, chat):
    message, _ = actions.send_message(chat, alice, "Same for all")

    def article(user):
        client.force_login(user)
        html = page(client.get(chat_url(chat)))
        return re.search(rf'<article[^>]* id="message-{message.pk}".*?</article>', html, flags=re.S).group(0)

    menu = re.compile(r'\s*<details class="menu message-menu">.*?</details>', flags=re.S)
    assert menu.search(article(alice)) and not menu.search(article(bob))

    def words(html: str) -> str:
        # The forms' CSRF tokens are each session's own (a pushed message carries none: htmx sends the header).
        html = re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)
        return re.sub(r"\s+", " ", html)

    assert words(menu.sub("", article(alice))) == words(article(bob))


def test_mine_are_told_apart_by_a_stylesheet_that_matches_author_and_viewer(as_alice, alice, chat):
    html = page(as_alice.get(chat_url(chat)))
    stylesheet = reverse("viewer_css", args=[alice.pk])
    assert f'<link rel="stylesheet" href="{stylesheet}">' in html

    response = as_alice.get(stylesheet)

    assert response["Content-Type"] == "text/css; charset=utf-8"
    assert f'[data-viewer="{alice.pk}"] .message[data-author="{alice.pk}"]' in page(response)
    assert "--own-only: block" in page(response)


def test_a_direct_chat_header_says_when_the_other_person_was_last_seen(as_alice, bob, chat):
    bob.last_active = timezone.now() - timedelta(hours=3)
    bob.save()

    html = page(as_alice.get(chat_url(chat)))

    assert re.search(r"Last seen 3\xa0hours ago", html)
    assert "is-direct" in element(html, "messages")["class"]


def test_a_group_header_counts_the_members_and_links_to_the_group_settings(as_alice, alice, group):
    html = page(as_alice.get(chat_url(group)))

    assert "<h1><bdi>Climbing</bdi></h1>" in html
    assert "2 members" in html
    assert f'href="{reverse("group_settings", args=[group.pk])}"' in html
    assert "is-direct" not in element(html, "messages")["class"]
    assert "<p><bdi>Alice Archer</bdi> created the group <time" in html
    assert "message-system" in html


def test_message_text_is_escaped_everywhere(as_alice, alice, bob, chat):
    attack = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    message, _ = actions.send_message(chat, bob, attack)
    mine, _ = actions.send_message(chat, alice, attack)

    full = as_alice.get(chat_url(chat))
    fragment = as_alice.get(chat_url(chat, before=mine.pk + 1), **HTMX)
    sent = as_alice.post(send_url(chat), {"text": attack, "client_id": uuid.uuid4()}, **HTMX)
    editing = as_alice.get(edit_url(mine), **HTMX)
    listed = as_alice.get(reverse("home"))

    for response in (full, fragment, sent, editing, listed):
        html = page(response)
        assert "<script>alert" not in html and "<img src=x" not in html
        finder = InlineCodeFinder()
        finder.feed(html)
        assert finder.problems == []
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page(full)
    assert message.pk in ids(page(full))


def test_opening_a_chat_marks_it_read_and_shows_the_new_messages_divider_once(as_alice, alice, bob, chat):
    actions.send_message(chat, bob, "Old news")
    actions.mark_read(chat, alice)
    first_new, _ = actions.send_message(chat, bob, "Fresh 1")
    newest, _ = actions.send_message(chat, bob, "Fresh 2")
    assert Chat.objects.with_list_details(alice).get(pk=chat.pk).unread_count == 2

    html = page(as_alice.get(chat_url(chat)))

    assert html.count('id="unread"') == 1
    divider = html.index('id="unread"')
    assert html.index("Old news") < divider < html.index(f'id="message-{first_new.pk}"')
    assert Membership.objects.get(chat=chat, user=alice).last_read_message_id == newest.pk
    assert Chat.objects.with_list_details(alice).get(pk=chat.pk).unread_count == 0
    assert 'class="badge"' not in html  # the list beside it already counts it read
    again = page(as_alice.get(chat_url(chat)))
    assert 'id="unread"' not in again


def test_my_own_new_messages_are_not_new_to_me(as_alice, alice, bob, chat):
    actions.send_message(chat, alice, "I said this")

    assert 'id="unread"' not in page(as_alice.get(chat_url(chat)))


def test_a_long_unread_backlog_opens_with_the_divider_on_the_page(as_alice, alice, bob, chat):
    for n in range(10):
        actions.send_message(chat, bob, f"read {n}")
    actions.mark_read(chat, alice)
    unread = [actions.send_message(chat, bob, f"unread {n}")[0] for n in range(PAGE_SIZE + 30)]

    html = page(as_alice.get(chat_url(chat)))

    assert html.index('id="unread"') < html.index(f'id="message-{unread[0].pk}"')
    assert len(ids(html)) == PAGE_SIZE + 30 + 5  # the backlog and a few before it
    assert 'id="older"' in html and "Older messages" in html


def test_messages_of_different_days_have_a_date_line_between_them(as_alice, alice, bob, chat):
    yesterday, _ = actions.send_message(chat, bob, "Yesterday")
    also_yesterday, _ = actions.send_message(chat, bob, "Still yesterday")
    today, _ = actions.send_message(chat, alice, "Today")
    Message.objects.filter(pk__in=[yesterday.pk, also_yesterday.pk]).update(
        created_at=timezone.now() - timedelta(days=1)
    )

    html = page(as_alice.get(chat_url(chat)))

    lines = re.findall(r'<div class="day-line" id="day-(\d+)">', html)
    assert lines == [str(yesterday.pk), str(today.pk)]


def test_a_picture_shows_as_a_thumbnail_linking_to_the_full_picture(as_alice, alice, bob, chat):
    message, _ = actions.send_message(chat, bob, "The view", picture=picture_pair())

    html = page(as_alice.get(chat_url(chat)))

    assert f'<a class="picture" href="{message.image.url}" target="_blank" rel="noopener" data-picture>' in html
    assert f'src="{message.thumbnail.url}" width="64" height="48"' in html
    assert 'alt="Picture from \u2068Bob Baker\u2069"' in html


def test_a_link_in_a_message_opens_in_a_new_tab_and_the_text_around_it_stays_escaped(as_alice, bob, chat):
    actions.send_message(chat, bob, "<b>see</b> https://example.com/a?b=1&c=2")

    html = page(as_alice.get(chat_url(chat)))

    assert (
        '&lt;b&gt;see&lt;/b&gt; <a href="https://example.com/a?b=1&amp;c=2" target="_blank" '
        'rel="nofollow noopener noreferrer">https://example.com/a?b=1&amp;c=2</a>'
    ) in html


# History: keyset pages --------------------------------------------------------------------------------


@pytest.fixture
def long_chat(alice, bob, chat) -> list[Message]:
    messages = [actions.send_message(chat, bob if n % 2 else alice, f"Message {n}")[0] for n in range(120)]
    actions.mark_read(chat, alice)
    return messages


def test_the_newest_page_has_fifty_messages_and_a_link_to_older_ones(as_alice, chat, long_chat):
    html = page(as_alice.get(chat_url(chat)))

    assert ids(html) == [m.pk for m in long_chat[-PAGE_SIZE:]]
    older = element(html, "older")
    assert older["class"] == "history-link"
    link = f"{chat_url(chat)}?before={long_chat[-PAGE_SIZE].pk}"
    assert f'href="{link}#bottom"' in html  # without JavaScript: a link to the older window
    assert f'hx-get="{link}" hx-trigger="intersect once, click"' in html  # with htmx: loaded on scroll
    assert "Newer messages" not in html


def test_with_htmx_an_older_page_is_a_fragment_with_the_next_sentinel(as_alice, chat, long_chat):
    before = long_chat[-PAGE_SIZE].pk

    response = as_alice.get(chat_url(chat, before=before), **HTMX)

    html = page(response)
    assert "<html" not in html and 'id="composer"' not in html
    assert ids(html) == [m.pk for m in long_chat[-2 * PAGE_SIZE : -PAGE_SIZE]]
    sentinel = element(html, "older")
    assert sentinel["hx-swap-oob"] == "true"
    assert f"before={long_chat[-2 * PAGE_SIZE].pk}" in html
    # All on one day: the date line above the page that was on screen moves up to this one.
    assert f'hx-swap-oob="delete:#day-{before}"' in html


def test_the_oldest_page_says_it_is_the_beginning(as_alice, chat, long_chat):
    before = long_chat[-2 * PAGE_SIZE].pk

    html = page(as_alice.get(chat_url(chat, before=before), **HTMX))

    assert ids(html) == [m.pk for m in long_chat[: -2 * PAGE_SIZE]]
    assert element(html, "older")["class"] == "history-start"
    assert "This is the beginning of the chat." in html
    assert "Older messages" not in html


def test_an_older_page_from_another_day_keeps_both_date_lines(as_alice, chat, long_chat):
    Message.objects.filter(pk__lt=long_chat[-PAGE_SIZE].pk).update(created_at=timezone.now() - timedelta(days=2))

    html = page(as_alice.get(chat_url(chat, before=long_chat[-PAGE_SIZE].pk), **HTMX))

    assert "delete:#day-" not in html


def test_without_javascript_an_older_window_is_a_whole_page_with_links_both_ways(as_alice, chat, long_chat):
    before = long_chat[-PAGE_SIZE].pk

    response = as_alice.get(chat_url(chat, before=before))

    html = page(response)
    assert "<html" in html and 'id="composer"' in html
    assert ids(html) == [m.pk for m in long_chat[-2 * PAGE_SIZE : -PAGE_SIZE]]
    assert "Older messages" in html
    assert f'href="{chat_url(chat)}?after={long_chat[-PAGE_SIZE - 1].pk}#older">Newer messages' in html
    assert f'href="{chat_url(chat)}#bottom">Latest messages' in html

    newer = page(as_alice.get(chat_url(chat, after=long_chat[-PAGE_SIZE - 1].pk)))
    assert ids(newer) == [m.pk for m in long_chat[-PAGE_SIZE:]]
    assert "Newer messages" not in newer


def test_nothing_newer_than_the_newest_message_is_the_latest_page(as_alice, chat, long_chat):
    response = as_alice.get(chat_url(chat, after=long_chat[-1].pk))

    assert response["Location"] == f"{chat_url(chat)}#bottom"


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "9" * 30])
def test_a_malformed_message_id_is_a_bad_request(as_alice, chat, value):
    assert as_alice.get(f"{chat_url(chat)}?before={value}").status_code == 400


def test_the_chat_page_takes_the_same_number_of_queries_for_a_few_messages_and_for_fifty(as_alice, alice, bob):
    def chat_with(person, count):
        chat, _ = actions.get_or_create_direct_chat(alice, person)
        for n in range(count):
            author = person if n % 2 else alice
            actions.send_message(chat, author, f"Message {n}", picture=picture_pair() if n % 10 == 3 else None)
        actions.send_message(chat, person, "Unread")  # so both open at the "new messages" divider
        return chat

    few = queries_for(as_alice, chat_url(chat_with(bob, 1)))
    fifty = queries_for(as_alice, chat_url(chat_with(make_person("dave", "Dave"), PAGE_SIZE)))
    hundreds = chat_with(make_person("erin", "Erin"), 3 * PAGE_SIZE)
    history = queries_for(as_alice, chat_url(hundreds, before=hundreds.messages.order_by("-id")[PAGE_SIZE].pk))
    fragment = queries_for(as_alice, chat_url(hundreds, before=hundreds.messages.order_by("-id")[PAGE_SIZE].pk), **HTMX)

    assert few == fifty, (few, fifty)
    print(f"\nchat page: {few} queries with 2 messages, {fifty} with 51; older window {history}, htmx page {fragment}")


def rich_chat(alice, person, count: int) -> Chat:
    """`count` messages, each a reply to the one before with two reactions and a mention, every
    other with two files (one a picture), every third with its link's preview."""
    chat, _ = actions.get_or_create_direct_chat(alice, person)
    previous = None
    for n in range(count):
        author, other = (person, alice) if n % 2 else (alice, person)
        text = f"@{other.username} see https://example.com/{n}" if n % 3 == 0 else f"@{other.username} message {n}"
        files = []
        if n % 2:
            pdf = SimpleUploadedFile("topo.pdf", b"%PDF-1.4 topo", "application/pdf")
            form = MessageForm({"text": text}, {"files": [pdf, png()]})
            assert form.is_valid(), form.errors
            files = form.cleaned_data["files"]
        message, _ = actions.send_message(chat, author, text, files=files, reply_to=previous)
        actions.add_reaction(message, alice, "👍")
        actions.add_reaction(message, person, "🎉")
        if n % 3 == 0:
            actions.set_link_preview(
                message.pk, previews.Preview(f"https://example.com/{n}", "Example", f"Route {n}", "Topo", None)
            )
        previous = message.pk
    actions.send_message(chat, person, "Unread")
    return chat


def test_the_history_with_replies_reactions_files_mentions_and_previews_takes_constant_queries(
    as_alice, alice, bob, settings
):
    settings.LINK_PREVIEWS = True
    settings.REACTION_RATE_BURST = settings.SEND_RATE_BURST = 0  # no limit: one person builds it all
    few_chat = rich_chat(alice, bob, 2)
    many_chat = rich_chat(alice, make_person("dave", "Dave"), PAGE_SIZE)
    erin = make_person("erin", "Erin")
    plain, _ = actions.get_or_create_direct_chat(alice, erin)
    for n in range(PAGE_SIZE):
        actions.send_message(plain, alice, f"Message {n}")
    actions.send_message(plain, erin, "Unread")  # each opens at its "new messages" divider

    page = [queries_for(as_alice, chat_url(chat)) for chat in (few_chat, many_chat, plain)]
    api = [
        queries_for(as_alice, f"/api/chats/{chat.pk}/get_messages/?limit=200", **auth(alice))
        for chat in (few_chat, many_chat)
    ]

    html = as_alice.get(chat_url(many_chat)).content.decode()  # the newest PAGE_SIZE: all but one rich
    assert html.count('class="reply-quote"') == html.count('class="mention"') == PAGE_SIZE - 1
    assert html.count('class="link-preview"') >= PAGE_SIZE // 3 - 1
    assert html.count('class="attachment attachment-') >= PAGE_SIZE - 2  # two files on every other message
    assert page[0] == page[1], page
    assert api[0] == api[1], api
    # The rich page costs one query for the files beyond the plain one (reactions are asked for anyway).
    assert page[1] == page[2] + 1, page
    print(f"\nchat page: {page[1]} queries for {PAGE_SIZE} rich messages, {page[2]} for plain ones; API {api[1]}")


# Sending ------------------------------------------------------------------------------------------


def test_each_composer_carries_a_fresh_client_id(as_alice, chat):
    first = element(page(as_alice.get(chat_url(chat))), "composer")
    html = [page(as_alice.get(chat_url(chat))) for _ in range(2)]
    client_ids = {re.search(r'name="client_id" value="([0-9a-f-]{36})"', h).group(1) for h in html}

    assert first["enctype"] == "multipart/form-data"
    assert first["action"] == f"{chat_url(chat)}#bottom"
    assert first["hx-post"] == send_url(chat)
    assert len(client_ids) == 2


@pytest.mark.parametrize("url", [chat_url, send_url], ids=["the-chat", "its-messages"])
def test_sending_without_javascript_redirects_to_the_bottom_of_the_chat(as_alice, alice, chat, url):
    response = as_alice.post(url(chat), {"text": "  Hello Bob  ", "client_id": uuid.uuid4()})

    assert response.status_code == 302
    assert response["Location"] == f"{chat_url(chat)}#bottom"
    message = chat.messages.get()
    assert (message.text, message.author) == ("Hello Bob", alice)
    assert "Hello Bob" in page(as_alice.get(response["Location"]))


def test_sending_with_htmx_answers_the_message_a_fresh_composer_and_the_chat_row(as_alice, alice, chat):
    client_id = uuid.uuid4()

    response = as_alice.post(send_url(chat), {"text": "Hello Bob", "client_id": client_id}, **HTMX)

    html = page(response)
    assert response.status_code == 200
    message = chat.messages.get()
    assert html.lstrip().startswith('<form id="composer"')
    assert str(client_id) not in html  # the next message gets a new id
    assert "autofocus" in element(html, "composer-text")
    assert '<div hx-swap-oob="beforeend:#messages">' in html
    assert ids(html) == [message.pk]
    assert f'id="day-{message.pk}"' in html  # the first message of the day brings its date line
    assert '<div hx-swap-oob="afterbegin:#chats">' in html
    assert re.search(r'class="chat-preview" id="chat-\d+-preview">\s*You: <bdi>Hello Bob</bdi>\s*<', html)


def test_the_second_message_of_a_day_comes_without_a_date_line(as_alice, alice, chat):
    actions.send_message(chat, alice, "First")

    html = page(as_alice.post(send_url(chat), {"text": "Second", "client_id": uuid.uuid4()}, **HTMX))

    assert "day-line" not in html


def test_sending_a_picture_alone(as_alice, chat):
    response = as_alice.post(send_url(chat), {"text": "", "image": png(), "client_id": uuid.uuid4()})

    assert response.status_code == 302
    message = chat.messages.get()
    assert message.text == ""
    assert message.image.name.startswith("pictures/") and message.image.name.endswith(".webp")
    assert message.thumbnail and (message.image_width, message.image_height) == (64, 48)


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_double_submit_with_the_same_client_id_makes_one_message(as_alice, chat, headers):
    form = {"text": "Only once", "client_id": str(uuid.uuid4())}

    first = as_alice.post(send_url(chat), form, **headers)
    second = as_alice.post(send_url(chat), form, **headers)

    assert first.status_code == second.status_code == (200 if headers else 302)
    message = chat.messages.get()
    assert message.text == "Only once"
    if headers:
        assert ids(page(first)) == ids(page(second)) == [message.pk]


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"text": "   "}, "Write something or attach a file."),
        ({"text": "x" * 10_001}, "Ensure this value has at most 10000 characters (it has 10001)."),
        (
            {"text": "Look", "image": b"not a picture"},
            "Upload a JPEG, PNG, GIF or WebP picture.",
        ),
    ],
    ids=["empty", "too-long", "not-a-picture"],
)
@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_a_refused_message_comes_back_with_the_error_and_the_text_kept(as_alice, chat, form, error, headers):
    client_id = str(uuid.uuid4())

    if "image" in form:
        form = {**form, "image": SimpleUploadedFile("notes.png", form["image"], content_type="image/png")}

    response = as_alice.post(composer_url(chat, headers), {**form, "client_id": client_id}, **headers)

    html = page(response)
    assert response.status_code == 400
    assert error in html
    assert 'role="alert"' in html
    invalid = "composer-picture" if "image" in form else "composer-text"
    assert element(html, invalid)["aria-invalid"] == "true"
    assert f">\n{form['text']}</textarea>" in html
    assert f'name="client_id" value="{client_id}"' in html  # a fixed retry is still the same message
    assert ("<html" in html) is not bool(headers)  # the whole chat page without JavaScript
    assert not chat.messages.exists()


def test_a_picture_that_fails_with_other_errors_must_be_chosen_again(as_alice, chat):
    response = as_alice.post(chat_url(chat), {"text": "x" * 10_001, "image": png(), "client_id": uuid.uuid4()})

    assert "Please choose the picture again." in page(response)


def test_a_refused_send_without_javascript_is_the_chat_at_its_newest_message(as_alice, alice, bob, chat):
    history = [actions.send_message(chat, bob if n % 2 else alice, f"Line {n}")[0] for n in range(PAGE_SIZE + 10)]
    action = element(page(as_alice.get(chat_url(chat))), "composer")["action"]
    path, _, fragment = action.partition("#")

    response = as_alice.post(path, {"text": "   ", "client_id": uuid.uuid4()})

    html = page(response)
    assert (path, fragment) == (chat_url(chat), "bottom")  # the chat's own address, scrolled to its end
    assert response.status_code == 400
    assert 'id="bottom"' in html
    assert re.search(r'id="composer-errors" role="alert">\s*<p>Write something or attach a file.</p>', html)
    assert ids(html) == [message.pk for message in history[-PAGE_SIZE:]]  # the newest page, not the oldest
    assert chat.messages.count() == PAGE_SIZE + 10


# Editing and deleting -------------------------------------------------------------------------------


@pytest.fixture
def hello(alice, chat) -> Message:
    return actions.send_message(chat, alice, "Hello Bob")[0]


def test_without_javascript_editing_is_a_page_that_saves_and_goes_back_to_the_message(as_alice, chat, hello):
    form_page = page(as_alice.get(edit_url(hello)))
    assert "<h1>Edit message</h1>" in form_page
    assert ">\nHello Bob</textarea>" in form_page
    assert "hx-post" not in form_page.split('class="edit-form"')[1].split(">")[0]

    response = as_alice.post(edit_url(hello), {"text": "Hello, Bob!"})

    assert response.status_code == 302
    assert response["Location"] == f"{chat_url(chat)}#message-{hello.pk}"
    hello.refresh_from_db()
    assert hello.text == "Hello, Bob!" and hello.edited_at is not None


def test_with_htmx_the_message_turns_into_a_form_and_back(as_alice, alice, chat, hello):
    editing = page(as_alice.get(edit_url(hello), **HTMX))
    assert editing.lstrip().startswith(f'<article class="message message-editing" id="message-{hello.pk}"')
    assert f'hx-post="{edit_url(hello)}" hx-target="closest article" hx-swap="outerHTML"' in editing
    assert "autofocus" in editing

    saved = as_alice.post(edit_url(hello), {"text": "Hello, Bob!"}, **HTMX)

    html = page(saved)
    assert saved.status_code == 200
    assert html.lstrip().startswith(f'<article class="message" id="message-{hello.pk}" data-author="{alice.pk}"')
    assert texts(html) == ["Hello, Bob!"]
    assert '<span class="edited">edited</span>' in html


def test_cancelling_an_edit_brings_the_message_back(as_alice, chat, hello):
    html = page(as_alice.get(f"{edit_url(hello)}?cancel", **HTMX))
    assert texts(html) == ["Hello Bob"]

    response = as_alice.get(f"{edit_url(hello)}?cancel")
    assert response["Location"] == f"{chat_url(chat)}#message-{hello.pk}"


@pytest.mark.parametrize("headers", [{}, HTMX], ids=["plain", "htmx"])
def test_an_edit_to_nothing_is_refused(as_alice, hello, headers):
    response = as_alice.post(edit_url(hello), {"text": "   "}, **headers)

    assert response.status_code == 400
    assert "errorlist" in page(response)
    hello.refresh_from_db()
    assert hello.text == "Hello Bob"


def test_without_javascript_deleting_asks_first_then_leaves_a_line(as_alice, chat, hello):
    confirmation = page(as_alice.get(delete_url(hello)))
    assert "<h1>Delete this message?</h1>" in confirmation
    assert "Hello Bob" in confirmation

    response = as_alice.post(delete_url(hello))

    assert response["Location"] == f"{chat_url(chat)}#message-{hello.pk}"
    hello.refresh_from_db()
    assert hello.is_deleted and hello.text == ""
    assert texts(page(as_alice.get(chat_url(chat)))) == ["Message deleted"]


def test_with_htmx_deleting_swaps_in_the_deleted_line_and_removes_the_picture(
    as_alice, alice, chat, django_capture_on_commit_callbacks
):
    message, _ = actions.send_message(chat, alice, "With a view", picture=picture_pair())
    files = [message.image.name, message.thumbnail.name]

    with django_capture_on_commit_callbacks(execute=True):
        response = as_alice.post(delete_url(message), **HTMX)

    html = page(response)
    assert html.lstrip().startswith(f'<article class="message message-deleted" id="message-{message.pk}"')
    assert "Message deleted" in html and "picture" not in html
    assert not any(default_storage.exists(name) for name in files)
    assert as_alice.post(delete_url(message), **HTMX).status_code == 200  # twice is harmless


def test_a_deleted_message_cannot_be_edited(as_alice, chat, hello):
    actions.delete_message(hello, hello.author)

    response = as_alice.post(edit_url(hello), {"text": "Back again"})

    assert response.status_code == 302
    hello.refresh_from_db()
    assert hello.text == "" and hello.is_deleted
    assert "Message deleted" in page(as_alice.get(edit_url(hello), **HTMX))


@pytest.mark.parametrize("action", ["edit", "delete"])
@pytest.mark.parametrize("method", ["get", "post"])
def test_a_member_cannot_change_someone_elses_message(as_bob, hello, action, method):
    url = edit_url(hello) if action == "edit" else delete_url(hello)

    response = getattr(as_bob, method)(url, {"text": "Hijacked"} if method == "post" else {})

    assert response.status_code == 403
    assert "You cannot do that" in page(response)
    hello.refresh_from_db()
    assert hello.text == "Hello Bob" and not hello.is_deleted


def test_a_system_line_cannot_be_edited_even_by_its_author(as_alice, group):
    line = group.messages.first()

    assert as_alice.get(edit_url(line)).status_code == 403
    assert as_alice.post(delete_url(line)).status_code == 403


def test_others_messages_come_without_the_menu(as_bob, hello):
    """Only the author's pages (and pushes to the author's tabs) carry Edit and Delete; the views check too."""
    html = page(as_bob.get(chat_url(hello.chat)))
    assert f'id="message-{hello.pk}"' in html
    assert f'hx-get="{edit_url(hello)}"' not in html


# Read position --------------------------------------------------------------------------------------


def test_marking_read_up_to_a_message(as_alice, alice, bob, chat):
    first, _ = actions.send_message(chat, bob, "One")
    actions.send_message(chat, bob, "Two")

    response = as_alice.post(reverse("mark_read", args=[chat.pk]), {"up_to": first.pk}, **HTMX)

    assert response.status_code == 204
    assert Membership.objects.get(chat=chat, user=alice).last_read_message_id == first.pk
    plain = as_alice.post(reverse("mark_read", args=[chat.pk]))
    assert plain["Location"] == f"{chat_url(chat)}#bottom"
    assert Chat.objects.with_list_details(alice).get(pk=chat.pk).unread_count == 0


def test_marking_read_with_a_malformed_id_is_a_bad_request(as_alice, chat):
    assert as_alice.post(reverse("mark_read", args=[chat.pk]), {"up_to": "soon"}).status_code == 400


# Files ----------------------------------------------------------------------------------------------


def test_a_member_gets_the_picture_and_its_thumbnail_privately(as_bob, alice, chat):
    message, _ = actions.send_message(chat, alice, picture=picture_pair())

    for field in (message.image, message.thumbnail):
        response = as_bob.get(field.url)
        assert response.status_code == 200
        assert response["Content-Type"] == "image/webp"
        assert response["X-Content-Type-Options"] == "nosniff"
        assert response["Cache-Control"].startswith("private, max-age=")
        assert "public" not in response["Cache-Control"]
        assert response["Content-Disposition"].startswith("inline")
        assert b"".join(response.streaming_content)[:4] == b"RIFF"


def test_a_deleted_messages_picture_is_gone(as_bob, alice, chat):
    message, _ = actions.send_message(chat, alice, picture=picture_pair())
    url = message.image.url
    actions.delete_message(message, alice)

    assert as_bob.get(url).status_code == 404


@pytest.mark.parametrize("name", ["nothing.webp", "..webp", ".hidden", "a b.webp"])
def test_unknown_or_odd_picture_names_are_404(as_alice, name):
    assert as_alice.get(f"/media/pictures/{name}").status_code == 404


def test_a_group_photo_is_served_to_its_members(as_bob, alice, bob):
    group = actions.create_group(alice, "With photo", [bob], photo=clean_image(png(), CHAT_PHOTO))

    response = as_bob.get(group.photo.url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["Cache-Control"].startswith("private")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_a_group_without_a_photo_shows_its_initials(as_bob, group):
    response = as_bob.get(reverse("chat_initials", args=[group.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert response["Cache-Control"].startswith("private")
    assert ">C</text>" in page(response)


def test_a_direct_chat_has_no_initials_of_its_own(as_alice, chat):
    assert as_alice.get(reverse("chat_initials", args=[chat.pk])).status_code == 404


# Carol, the outsider -------------------------------------------------------------------------------

OUTSIDER_REQUESTS = [
    ("chat page", "get", lambda s: chat_url(s.chat), {}),
    ("group page", "get", lambda s: chat_url(s.group), {}),
    ("older window", "get", lambda s: chat_url(s.chat, before=s.message.pk + 1), {}),
    ("older fragment", "get", lambda s: chat_url(s.chat, before=s.message.pk + 1), HTMX),
    ("newer window", "get", lambda s: chat_url(s.chat, after=0), {}),
    ("send", "post", lambda s: send_url(s.chat), {}),
    ("send with htmx", "post", lambda s: send_url(s.chat), HTMX),
    ("edit page", "get", lambda s: edit_url(s.message), {}),
    ("edit fragment", "get", lambda s: edit_url(s.message), HTMX),
    ("edit", "post", lambda s: edit_url(s.message), {}),
    ("edit with htmx", "post", lambda s: edit_url(s.message), HTMX),
    ("delete page", "get", lambda s: delete_url(s.message), {}),
    ("delete", "post", lambda s: delete_url(s.message), {}),
    ("delete with htmx", "post", lambda s: delete_url(s.message), HTMX),
    ("mark read", "post", lambda s: reverse("mark_read", args=[s.chat.pk]), {}),
    ("mark read with htmx", "post", lambda s: reverse("mark_read", args=[s.chat.pk]), HTMX),
    ("group initials", "get", lambda s: reverse("chat_initials", args=[s.group.pk]), {}),
    ("picture", "get", lambda s: s.message.image.url, {}),
    ("thumbnail", "get", lambda s: s.message.thumbnail.url, {}),
    ("group photo", "get", lambda s: s.group.photo.url, {}),
]


class Scene:
    """alice and bob's direct chat with a picture message, and their group with a photo."""

    def __init__(self, alice, bob):
        self.chat = actions.get_or_create_direct_chat(alice, bob)[0]
        self.message = actions.send_message(self.chat, alice, "Private", picture=picture_pair())[0]
        self.group = actions.create_group(alice, "Private group", [bob], photo=clean_image(png(), CHAT_PHOTO))


@pytest.mark.parametrize(("what", "method", "url", "headers"), OUTSIDER_REQUESTS, ids=[r[0] for r in OUTSIDER_REQUESTS])
def test_carol_gets_404_from_every_page_fragment_and_file_of_their_chats(
    as_carol, alice, bob, method, url, headers, what
):
    scene = Scene(alice, bob)

    response = getattr(as_carol, method)(url(scene), {"text": "Hi", "up_to": scene.message.pk}, **headers)

    assert response.status_code == 404
    assert b"Private" not in response.content
    scene.message.refresh_from_db()
    assert scene.message.text == "Private" and not scene.message.is_deleted
    assert not scene.chat.messages.filter(author__username="carol").exists()


@pytest.mark.parametrize("what", ["picture", "thumbnail", "group photo", "group initials"])
def test_a_visitor_who_is_not_logged_in_gets_404_for_chat_files(client, alice, bob, what):
    scene = Scene(alice, bob)
    url = dict((r[0], r[2]) for r in OUTSIDER_REQUESTS)[what](scene)

    assert client.get(url).status_code == 404


def test_carols_chat_list_shows_none_of_theirs(as_carol, alice, bob):
    Scene(alice, bob)

    html = page(as_carol.get(reverse("home")))

    assert "Private" not in html and "Alice" not in html and "No chats yet." in html


@pytest.mark.django_db
def test_edit_with_a_stale_copy_does_not_bring_back_a_deleted_message(client, alice, chat):
    message, _created = actions.send_message(chat, alice, "secret")
    stale = Message.objects.get(pk=message.pk)
    actions.delete_message(Message.objects.get(pk=message.pk), alice)
    with pytest.raises(ValidationError):
        actions.edit_message(stale, alice, "back again")
    message.refresh_from_db()
    assert message.text == "" and message.deleted_at is not None


def test_a_direct_chats_row_shows_whether_the_other_person_is_online(as_alice, bob, chat):
    actions.sockets_changed({"bob-tab": bob.pk})

    html = page(as_alice.get(reverse("home")))

    row = html[html.index(f'id="chat-{chat.pk}"') :]
    assert f'data-presence-dot="{bob.pk}"><span class="presence-dot"></span>' in row
