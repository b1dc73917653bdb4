"""A right-to-left override (U+202E) in a name, a title or a message reorders nothing around it.

mallory's first name and her group's title hold one; every place they appear — pages,
htmx fragments, pushed frames — isolates them: in <bdi>, or between Unicode isolates where no
markup can go (<title>, attributes). Message bodies and bios take their own direction.
"""

from __future__ import annotations

from unittest import mock

import pytest
from django.urls import reverse

from conftest import make_person
from conversations import actions, broadcast

OVERRIDE = "\u202e"
NAME = f"Mal{OVERRIDE}lory Evil"  # her display name
TITLE = f"Tit{OVERRIDE}le"
TEXT = f"hello {OVERRIDE}dlrow"
HTMX = {"HTTP_HX_REQUEST": "true"}


def assert_isolated(html: str, text: str) -> None:
    """`text` is on the page, and everywhere it is, it is isolated: in <bdi>, between isolates,
    as the whole of a block that takes its own direction (a message body), or a field's value."""
    shown = html.count(text)
    isolated = sum(
        html.count(form)
        for form in (
            f"<bdi>{text}</bdi>",
            f"\u2068{text}\u2069",
            f'dir="auto">{text}</p>',
            f'dir="auto"><p>{text}</p>',
            f'value="{text}"',
        )
    )
    assert shown > 0, f"{text!r} is not on the page"
    assert isolated == shown, f"{shown - isolated} of {shown} times {text!r} is not isolated"


@pytest.fixture
def mallory(db):
    return make_person("mallory", f"Mal{OVERRIDE}lory", "Evil")


@pytest.fixture
def mallorys_group(mallory, alice):
    return actions.create_group(mallory, TITLE, [alice])


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def test_the_chat_page_isolates_names_titles_previews_and_system_lines(as_alice, alice, mallory, mallorys_group):
    direct = actions.get_or_create_direct_chat(alice, mallory)[0]
    actions.send_message(direct, mallory, TEXT)

    direct_page = as_alice.get(reverse("chat", args=[direct.pk])).content.decode()
    group_page = as_alice.get(reverse("chat", args=[mallorys_group.pk])).content.decode()

    assert_isolated(direct_page, NAME)  # the title, the header, the author, the chat list
    assert f"<title>\u2068{NAME}\u2069" in direct_page
    assert_isolated(direct_page, TEXT)  # the list's preview
    assert f'<div class="message-text" dir="auto"><p>{TEXT}</p></div>' in direct_page
    assert_isolated(group_page, TITLE)
    assert f"<bdi>{NAME}</bdi> created the group" in group_page


def test_the_profile_people_and_member_lists_isolate_names(as_alice, alice, mallory, mallorys_group):
    mallory.bio = f"about {OVERRIDE}me"
    mallory.save()

    profile = as_alice.get(reverse("accounts:profile", args=[mallory.username])).content.decode()
    people = as_alice.get(reverse("people"), {"q": "mallory"}).content.decode()
    settings = as_alice.get(reverse("group_settings", args=[mallorys_group.pk])).content.decode()

    assert_isolated(profile, NAME)
    assert f'<p class="bio" dir="auto">about {OVERRIDE}me</p>' in profile
    assert_isolated(people, NAME)
    assert_isolated(settings, NAME)
    assert_isolated(settings, TITLE)


def test_the_notes_after_changing_a_group_isolate_its_title_and_names(as_alice, alice, bob, mallory):
    group = actions.create_group(alice, "Climbing", [bob])

    renamed = as_alice.post(reverse("rename_group", args=[group.pk]), {"title": TITLE}, follow=True)
    added = as_alice.post(reverse("add_member", args=[group.pk]), {"user": mallory.pk}, follow=True)

    assert f"The group is now called “\u2068{TITLE}\u2069”." in renamed.content.decode()
    assert f"\u2068{NAME}\u2069 is added to the group." in added.content.decode()


def test_a_fragment_isolates_the_name_and_the_body(as_alice, alice, mallory):
    direct = actions.get_or_create_direct_chat(alice, mallory)[0]
    message, _ = actions.send_message(direct, mallory, TEXT)

    fragment = as_alice.get(reverse("chat", args=[direct.pk]), {"before": message.pk + 1}, **HTMX)

    html = fragment.content.decode()
    assert "<html" not in html
    assert_isolated(html, NAME)
    assert f'dir="auto"><p>{TEXT}</p>' in html


def test_pushed_frames_isolate_names_titles_and_previews(
    alice, mallory, mallorys_group, django_capture_on_commit_callbacks
):
    with (
        mock.patch.object(broadcast.outbox, "put") as publishing,
        django_capture_on_commit_callbacks(execute=True),
    ):
        actions.send_message(mallorys_group, mallory, TEXT)
        broadcast.typing(mallorys_group.pk, mallory)
        actions.rename_group(mallorys_group, mallory, f"{TITLE} 2")
    frames = "".join(
        piece
        for _group, event in (call.args for call in publishing.call_args_list)
        for piece in _pieces(event.get("html", {}).get("en", {}))
    )

    assert_isolated(frames, NAME)  # the author, the notice, "is typing", the system line
    assert_isolated(frames, TEXT)  # the notice and the list's preview
    assert_isolated(frames, f"{TITLE} 2")  # the header, the row, the system line
    assert f'dir="auto"><p>{TEXT}</p>' in frames


def _pieces(html) -> list[str]:
    if isinstance(html, str):
        return [html]
    return [piece for value in html.values() for piece in _pieces(value)]


def test_the_api_keeps_the_text_as_it_is(alice, mallory, mallorys_group):
    from conversations.receipts import ReadPositions
    from conversations.serializers import message_to_dict

    line = mallorys_group.messages.with_people().first()

    data = message_to_dict(line, ReadPositions.of(mallorys_group.pk))

    assert data["system_text"] == f"{NAME} created the group"
