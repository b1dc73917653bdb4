"""Hostile text through every text field is shown as text: in pages, htmx fragments and pushed frames.

For each string of the corpus (tests/security/corpus.py), alice puts it in her first name,
last name and bio, makes a group titled with it, and bob sends it as a message (through the
API and through the page) and edits a message to it; someone tries it as a username. Every
page and fragment that shows those is then compared with the same page made from plain
words: the same elements with the same attributes, so no tag, attribute, htmx swap or id came
from the text, and the text itself is there, as text. Lone surrogates, which are no text,
are refused as invalid JSON by every endpoint that takes text.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from html.parser import HTMLParser

import pytest
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from django.db import connections, transaction
from django.test import Client

from accounts.models import User
from conftest import PASSWORD, make_person
from conversations import actions
from conversations.formatting import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, LINK_REL, ONLY_VALUES
from conversations.models import Chat, Message
from conversations.tests.test_consumers import open_tab, pushed
from flowchat.testing import auth

from .corpus import MARKUP, MESSAGE_CORPUS, PAGE_IDS
from .corpus import shown as formatted

JSON = "application/json"
HTMX = {"HTTP_HX_REQUEST": "true"}
PLAIN = "Plain words"
TITLE_MAX = 100
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "hx-get", "hx-post", "ws-connect", "srcset"}
SINCE = "2000-01-01T00:00:00%2B00:00"


def formatting_allows(tag: str, attributes: dict[str, str | None]) -> bool:
    """Whether an element is one that message formatting makes (conversations.formatting): on its
    allow-list, with only its attributes, and a link only to http(s) or mailto, in a new tab."""
    if tag not in ALLOWED_TAGS:
        return False
    allowed = ALLOWED_ATTRIBUTES.get(tag, frozenset())
    if tag != "a":
        fixed = ONLY_VALUES.get(tag, {})
        return set(attributes) <= allowed and all(
            attributes[name] in fixed[name] for name in fixed if name in attributes
        )
    href = (attributes.get("href") or "").lower()
    if attributes.get("class") == "mention":  # @username of a member: their profile, here
        return (
            set(attributes) == {"class", "href", "data-user", "rel"}
            and href.startswith("/people/")
            and (attributes["data-user"] or "").isdigit()
        )
    return (
        set(attributes) == {"href", "rel", "target"}
        and attributes["rel"] == LINK_REL
        and attributes["target"] == "_blank"
        and href.startswith(("http://", "https://", "mailto:"))
    )


class Parsed(HTMLParser):
    """The elements of some HTML (tag and attribute names, no values), its text and its attribute values.

    Inside a message's text (`.message-text`), the elements that formatting makes of Markdown
    are the text shown formatted, not markup that came from it: they are checked against the
    allow-list and then left out of the comparison (`formatted` counts them).
    """

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: Counter[tuple[str, tuple[str, ...]]] = Counter()
        self.ids: Counter[str] = Counter()
        self.text: list[str] = []
        self.values: list[str] = []
        self.links: list[str] = []
        self.in_message_text = False
        self.formatted = 0
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        # A bare <br> is a newline typed, shown as one (linebreaksbr, in bios too).
        if (self.in_message_text and formatting_allows(tag, attributes)) or (tag == "br" and not attributes):
            self.formatted += 1
            return
        if tag == "div" and "message-text" in (attributes.get("class") or "").split():
            self.in_message_text = True  # formatting makes no <div>: the next </div> closes it
        self.elements[(tag, tuple(sorted(attributes)))] += 1
        if "id" in attributes:
            self.ids[attributes["id"] or ""] += 1
        self.values += [value for value in attributes.values() if value]
        self.links += [value or "" for name, value in attributes.items() if name in URL_ATTRIBUTES]

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag == "div":
            self.in_message_text = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def shows(self, text: str) -> bool:
        return text in "".join(self.text) or any(text in value for value in self.values)


def assert_shown_as_text(where: str, html: str, plain_html: str, text: str, *, shown: bool = True) -> None:
    page, plain = Parsed(html), Parsed(plain_html)
    for markup in MARKUP:
        assert markup not in html, f"{where}: {markup!r} came through unescaped"
    added = page.elements - plain.elements
    missing = plain.elements - page.elements
    assert not added and not missing, f"{where}: the text changed the markup: added {added}, missing {missing}"
    for name in PAGE_IDS:
        assert page.ids[name] == plain.ids[name], f"{where}: #{name} appears {page.ids[name]} times"
    assert not [(t, a) for t, attributes in page.elements for a in attributes if a.startswith("on")]
    assert not [link for link in page.links if link.strip().lower().startswith("javascript:")]
    if shown:
        # A chat list preview shows the start of a long message; a message shows formatted.
        assert (
            page.shows(text)
            or page.shows(formatted(text))
            or (len(text) > TITLE_MAX and (page.shows(text[:40]) or page.shows(formatted(text)[:40])))
        ), f"{where}: the text is not shown"


# Putting the text everywhere, through the real API and pages ------------------------------------


def fits(text: str, limit: int) -> str:
    return text if len(text) <= limit else PLAIN


def pages_with(text: str) -> dict[str, tuple[str, bool]]:
    """Every page and fragment that shows text people typed, made with `text` in every field.

    Made in a transaction that is rolled back, so that the same can be made with plain words.
    Each answer is paired with whether `text` must be visible in it.
    """
    with transaction.atomic():
        alice, bob = make_person("alice"), make_person("bob")
        name = fits(text, TITLE_MAX)
        alices_key, bobs_key = auth(alice), auth(bob)
        api = Client()
        profile = {"first_name": name, "last_name": name, "bio": name}
        assert api.patch(f"/api/users/{alice.pk}/", profile, content_type=JSON, **alices_key).status_code == 200
        made = api.post("/api/chats/", {"title": name, "members": [bob.pk]}, content_type=JSON, **alices_key)
        assert made.status_code == 201, made.content
        group = Chat.objects.get(pk=made.json()["id"])
        sent = api.post("/api/messages/", {"chat": group.pk, "text": text}, content_type=JSON, **bobs_key)
        assert sent.status_code == 201, sent.content
        assert sent.json()["text"] == text.strip()
        draft = api.post("/api/messages/", {"chat": group.pk, "text": "draft"}, content_type=JSON, **bobs_key)
        edited = api.patch(f"/api/messages/{draft.json()['id']}/", {"text": text}, content_type=JSON, **bobs_key)
        assert edited.status_code == 200, edited.content
        # The username, where the rules allow it: most of the corpus is refused.
        joined = api.post("/api/users/", {"username": name, "password": PASSWORD}, content_type=JSON)
        assert joined.status_code in (201, 400), joined.content
        if joined.status_code == 201:
            actions.add_member(group, alice, User.objects.get(pk=joined.json()["id"]))

        as_alice, as_bob = Client(), Client()
        as_alice.force_login(alice)
        as_bob.force_login(bob)
        chat = f"/chats/{group.pk}"
        message = Message.objects.get(pk=sent.json()["id"])
        newest = group.messages.order_by("-id").values_list("id", flat=True).first()
        answers = {
            "the chat list": (as_alice.get("/"), True),
            "the chat list fragment": (as_alice.get("/chats/", **HTMX), True),
            "the chat page": (as_alice.get(f"{chat}/"), True),
            "older messages (htmx)": (as_alice.get(f"{chat}/?before={newest + 1}", **HTMX), True),
            "catching up (htmx)": (as_alice.get(f"{chat}/updates/?after=0&since={SINCE}", **HTMX), True),
            "the page send (htmx)": (as_bob.post(f"{chat}/messages/", {"text": text}, **HTMX), True),
            "the edit form": (as_bob.get(f"{chat}/messages/{message.pk}/edit/"), True),
            "the edit form (htmx)": (as_bob.get(f"{chat}/messages/{message.pk}/edit/", **HTMX), True),
            "the edit answer (htmx)": (
                as_bob.post(f"{chat}/messages/{message.pk}/edit/", {"text": text}, **HTMX),
                True,
            ),
            "the delete confirmation": (as_bob.get(f"{chat}/messages/{message.pk}/delete/"), True),
            "the group settings": (as_alice.get(f"{chat}/settings/"), name != PLAIN),
            "alice's profile": (as_bob.get(f"/people/{alice.username}/"), name != PLAIN),
            "the people search": (as_bob.get("/people/?q=alice"), name != PLAIN),
            "alice's settings": (as_alice.get("/settings/"), name != PLAIN),
        }
        pages = {}
        for where, (response, shown) in answers.items():
            assert response.status_code == 200, f"{where}: {response.status_code}"
            pages[where] = (response.content.decode(), shown)
        transaction.set_rollback(True)
    return pages


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_rate_limits")
@pytest.mark.parametrize("name", MESSAGE_CORPUS)
def test_hostile_text_in_every_field_is_shown_as_text(name):
    text = MESSAGE_CORPUS[name]
    plain = pages_with(PLAIN)

    hostile = pages_with(text)

    for where, (html, shown) in hostile.items():
        assert_shown_as_text(where, html, plain[where][0], text.strip(), shown=shown)


@pytest.mark.django_db
@pytest.mark.usefixtures("fresh_rate_limits")
@pytest.mark.parametrize(
    ("method", "path", "field"),
    [
        ("post", "/api/chats/", "title"),
        ("patch", "/api/chats/{group}/", "title"),
        ("patch", "/api/messages/{message}/", "text"),
        ("put", "/api/users/{alice}/", "first_name"),
    ],
)
def test_a_lone_surrogate_in_any_other_text_field_is_a_400(alice, bob, group, method, path, field):
    message, _ = actions.send_message(group, alice, "Rope at nine?")
    body = json.dumps({field: "LONE"}).replace('"LONE"', '"x\\ud800y"')
    url = path.format(group=group.pk, message=message.pk, alice=alice.pk)

    response = getattr(Client(), method)(url, body, content_type=JSON, **auth(alice))

    assert response.status_code == 400
    assert response.json()["detail"] == "The body is not valid JSON."
    group.refresh_from_db()
    message.refresh_from_db()
    assert (group.title, message.text, User.objects.get(pk=alice.pk).first_name) == (
        "Climbing",
        "Rope at nine?",
        "Alice",
    )


# Pushed frames ------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_hostile_text_pushed_over_the_socket_is_shown_as_text():
    """What a tab is pushed when someone sends, edits, renames and names themselves with the corpus."""
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    alice, bob = await sync_to_async(make_person)("alice"), await sync_to_async(make_person)("bob")
    group = await sync_to_async(actions.create_group)(alice, PLAIN, [bob])
    for _ in range(2):  # past the first message of the day, which brings a date line
        await sync_to_async(actions.send_message)(group, bob, PLAIN)
    in_chat, elsewhere = await open_tab(alice, group), await open_tab(alice)
    await pushed(in_chat), await pushed(elsewhere)

    async def frames(change, *args) -> tuple[str, str]:
        await sync_to_async(change)(*args)
        return await asyncio.gather(pushed(in_chat), pushed(elsewhere))

    send = actions.send_message

    draft = await group.messages.filter(author=bob).afirst()  # edited to each text in turn

    plain = {
        "message": await frames(send, group, bob, PLAIN),
        "edit": await frames(actions.edit_message, draft, bob, PLAIN + ", edited"),
        "rename": await frames(actions.rename_group, group, alice, PLAIN + " again"),
    }
    try:
        for name, text in MESSAGE_CORPUS.items():
            title = fits(text, TITLE_MAX)
            hostile = {
                "message": await frames(send, group, bob, text),
                "edit": await frames(actions.edit_message, draft, bob, text),
                "rename": await frames(actions.rename_group, group, alice, title),
            }
            for change, (open_frames, other_frames) in hostile.items():
                expected = text if change != "rename" else " ".join(title.split())  # a title is one line
                shown = change != "rename" or title != PLAIN
                assert_shown_as_text(
                    f"{name}: {change}, chat open", open_frames, plain[change][0], expected, shown=shown
                )
                assert_shown_as_text(
                    f"{name}: {change}, elsewhere", other_frames, plain[change][1], expected, shown=False
                )
    finally:
        await in_chat.disconnect()
        await elsewhere.disconnect()
        await sync_to_async(connections.close_all)()
