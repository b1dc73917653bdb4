"""Reactions: the validator, the actions, the pages (with and without htmx), the API, the sockets."""

from __future__ import annotations

import json

import pytest
from asgiref.sync import sync_to_async
from django.core.exceptions import PermissionDenied, ValidationError
from django.urls import reverse

from conversations import actions, limits
from conversations.emoji import DEFAULT_REACTIONS, is_single_emoji
from conversations.models import Message, Reaction
from conversations.tests.test_consumers import _clean_slate, events, open_tab, pushed, script  # noqa: F401
from flowchat.testing import token_for

JSON = "application/json"


@pytest.fixture
def message(chat, alice):
    return actions.send_message(chat, alice, "Rope at 9?")[0]


def react_url(message: Message) -> str:
    return reverse("message_reactions", args=[message.chat_id, message.pk])


def auth(user) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Token {token_for(user)}"}


# The validator --------------------------------------------------------------------------------

SINGLE = ["👍", "❤️", "❤", "😂", "🎉", "👍🏽", "👩‍👩‍👧‍👦", "🏳️‍🌈", "🇺🇦", "1️⃣", "#⃣", "🏴󠁧󠁢󠁳󠁣󠁴󠁿", "🧑🏿‍🚀", "©️", "⚽", "🫠"]
NOT_ONE = [
    "ab",
    "a",
    "1",
    "👍👍",
    "",
    " ",
    "a" * 200,
    "👍" * 200,
    "\x00",
    "\x07👍",
    "\u200d",
    "🏽",
    "👍\u200d",
    "\u202e👍",
    "🇺",
    "🇺🇦🇺🇦",
    "a👍",
]


@pytest.mark.parametrize("text", SINGLE)
def test_one_emoji_of_every_shape_is_one(text):
    assert is_single_emoji(text)


@pytest.mark.parametrize("text", NOT_ONE)
def test_text_several_emoji_and_control_characters_are_not_one(text):
    assert not is_single_emoji(text)


def test_the_default_set_is_valid():
    assert all(is_single_emoji(emoji) for emoji in DEFAULT_REACTIONS)


# Actions ----------------------------------------------------------------------------------------


def test_a_member_adds_and_removes_a_reaction(message, bob, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as told:
        reaction, created = actions.add_reaction(message, bob, " 👍 ")
    assert created and reaction.emoji == "👍" and len(told) == 1

    with django_capture_on_commit_callbacks() as told:
        assert actions.remove_reaction(message, bob, "👍")
    assert not Reaction.objects.exists() and len(told) == 1


def test_the_same_emoji_twice_is_one_reaction_and_tells_nobody(message, bob, django_capture_on_commit_callbacks):
    actions.add_reaction(message, bob, "🎉")
    with django_capture_on_commit_callbacks() as told:
        _reaction, created = actions.add_reaction(message, bob, "🎉")
    assert not created and told == [] and Reaction.objects.count() == 1
    with django_capture_on_commit_callbacks() as told:
        assert not actions.remove_reaction(message, bob, "😮")
    assert told == []


def test_two_people_and_two_emoji(message, alice, bob):
    actions.add_reaction(message, alice, "👍")
    actions.add_reaction(message, bob, "👍")
    actions.add_reaction(message, bob, "😂")
    assert Reaction.objects.filter(message=message).count() == 3


def test_the_database_refuses_a_second_copy(message, bob):
    from django.db import IntegrityError, transaction

    Reaction.objects.create(message=message, user=bob, emoji="👍")
    with pytest.raises(IntegrityError), transaction.atomic():
        Reaction.objects.create(message=message, user=bob, emoji="👍")


@pytest.mark.parametrize("emoji", ["ab", "👍👍", "", "x" * 200, "\x00", "😂\x07"])
def test_anything_but_one_emoji_is_refused(message, bob, emoji):
    with pytest.raises(ValidationError) as refusal:
        actions.add_reaction(message, bob, emoji)
    assert refusal.value.code == "emoji"
    assert not Reaction.objects.exists()


def test_an_outsider_cannot_react(message, carol):
    with pytest.raises(PermissionDenied):
        actions.add_reaction(message, carol, "👍")


def test_a_system_line_takes_no_reactions(group, bob):
    line = group.messages.filter(kind=Message.Kind.CREATED).get()
    with pytest.raises(ValidationError) as refusal:
        actions.add_reaction(line, bob, "👍")
    assert refusal.value.code == "system"


def test_a_deleted_message_takes_none_and_loses_its_own(message, alice, bob):
    actions.add_reaction(message, bob, "👍")
    actions.delete_message(message, alice)
    assert not Reaction.objects.exists()
    with pytest.raises(ValidationError) as refusal:
        actions.add_reaction(message, bob, "👍")
    assert refusal.value.code == "deleted"


def test_at_most_so_many_different_emoji_on_a_message(message, alice, bob, monkeypatch):
    monkeypatch.setattr(limits, "MAX_REACTIONS_PER_MESSAGE", 2)
    actions.add_reaction(message, alice, "👍")
    actions.add_reaction(message, alice, "😂")
    with pytest.raises(ValidationError) as refusal:
        actions.add_reaction(message, bob, "🎉")
    assert refusal.value.code == "too_many"
    actions.add_reaction(message, bob, "👍")  # one already there is fine


def test_reacting_too_fast_is_refused(message, bob, settings):
    settings.REACTION_RATE_BURST, settings.REACTION_RATE_PER_MINUTE = 2, 1
    actions.add_reaction(message, bob, "👍")
    actions.add_reaction(message, bob, "😂")
    with pytest.raises(limits.ReactingTooFast) as refusal:
        actions.add_reaction(message, bob, "🎉")
    assert refusal.value.retry_after >= 1 and "too fast" in str(refusal.value)


# Pages ------------------------------------------------------------------------------------------


def test_without_javascript_a_button_toggles_and_comes_back_to_the_message(client, message, bob):
    client.force_login(bob)
    response = client.post(react_url(message), {"emoji": "👍"})
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{message.chat_id}/#message-{message.pk}"
    assert Reaction.objects.filter(user=bob, emoji="👍").exists()

    page = client.get(f"/chats/{message.chat_id}/").content.decode()
    assert f'id="message-{message.pk}-reaction-0" aria-pressed="true"' in page
    assert 'title="Bob Builder"' in page or "title=" in page

    client.post(react_url(message), {"emoji": "👍"})
    assert not Reaction.objects.exists()


def test_without_javascript_a_typed_emoji_is_added_and_a_bad_one_explained(client, message, bob):
    client.force_login(bob)
    client.post(react_url(message), {"custom": "🦖"})
    client.post(react_url(message), {"custom": "🦖"})  # adds, never takes back
    assert Reaction.objects.filter(user=bob, emoji="🦖").count() == 1

    response = client.post(react_url(message), {"custom": "ab"}, follow=True)
    assert "A reaction is a single emoji." in response.content.decode()


def test_with_htmx_the_answer_is_the_bar_pressed_for_me(client, message, alice, bob):
    actions.add_reaction(message, alice, "😂")
    client.force_login(bob)
    response = client.post(react_url(message), {"emoji": "👍"}, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.strip().startswith(f'<div class="reactions" id="message-{message.pk}-reactions"')
    assert f'id="message-{message.pk}-reaction-0" aria-pressed="false"' in html  # alice's 😂
    assert f'id="message-{message.pk}-reaction-1" aria-pressed="true"' in html  # my 👍
    assert f'data-people="{bob.pk}"' in html


def test_the_picker_comes_when_opened_and_the_page_has_it_without_javascript(client, message, bob):
    client.force_login(bob)
    chat_page = client.get(f"/chats/{message.chat_id}/").content.decode()
    assert 'class="reaction-choice"' not in chat_page  # each message carries only the picker's link
    assert f'<div><a href="{react_url(message)}">Choose an emoji</a></div>' in chat_page  # flowchat.js asks ?picker

    picker = client.get(react_url(message) + "?picker", HTTP_HX_REQUEST="true").content.decode()
    assert picker.count('class="reaction-choice"') == 6 and 'name="custom"' in picker
    assert f'hx-target="#message-{message.pk}-reactions"' in picker

    page = client.get(react_url(message)).content.decode()  # without JavaScript: the reactions page
    assert page.count('class="reaction-choice"') == 6 and "hx-post" not in page.split("<main")[1]


def test_with_htmx_a_refusal_comes_in_the_bar(client, message, bob):
    client.force_login(bob)
    response = client.post(react_url(message), {"custom": "👍👍"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert 'role="alert">A reaction is a single emoji.' in response.content.decode()


def test_reacting_to_a_deleted_message_is_refused_in_place(client, message, alice, bob):
    actions.delete_message(message, alice)
    client.force_login(bob)
    response = client.post(react_url(message), {"emoji": "👍"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 400
    assert "This message was deleted." in response.content.decode()


def test_an_outsider_gets_404(client, message, carol):
    client.force_login(carol)
    assert client.post(react_url(message), {"emoji": "👍"}).status_code == 404
    assert client.get(react_url(message)).status_code == 404


def test_the_reactions_page_lists_who_reacted_with_what(client, message, alice, bob):
    actions.add_reaction(message, alice, "👍")
    actions.add_reaction(message, bob, "👍")
    actions.add_reaction(message, bob, "🎉")
    client.force_login(alice)
    html = client.get(react_url(message)).content.decode()
    assert "2 people" in html and alice.display_name in html and bob.display_name in html and "🎉" in html


def test_the_chat_page_takes_the_same_queries_for_few_and_many_reacted_messages(
    client, chat, alice, bob, django_assert_max_num_queries
):
    client.force_login(alice)
    counts = []
    for n in range(11):
        extra = actions.send_message(chat, bob, f"message {n}")[0]
        actions.add_reaction(extra, alice, "👍")
        actions.add_reaction(extra, bob, "😂")
        if n in (0, 10):
            client.get(f"/chats/{chat.pk}/")  # read up to the newest: the next visit reads nothing new
            with django_assert_max_num_queries(100) as queries:
                client.get(f"/chats/{chat.pk}/")
            counts.append(len(queries))
    assert counts[0] == counts[1]


# API ---------------------------------------------------------------------------------------------


def test_the_api_adds_201_then_200_and_removes_204(api, message, alice, bob):
    url = f"/api/messages/{message.pk}/reactions/"
    first = api.post(url, {"emoji": "👍"}, content_type=JSON, **auth(bob))
    assert first.status_code == 201
    assert first.json()["reactions"] == [{"emoji": "👍", "count": 1, "mine": True}]
    assert api.post(url, {"emoji": "👍"}, content_type=JSON, **auth(bob)).status_code == 200
    assert api.delete(url, {"emoji": "👍"}, content_type=JSON, **auth(bob)).status_code == 204
    assert api.delete(f"{url}?emoji=👍", **auth(bob)).status_code == 204  # again: the same answer
    assert not Reaction.objects.exists()


def test_the_api_says_what_is_wrong(api, message, alice, bob, carol):
    url = f"/api/messages/{message.pk}/reactions/"
    bad = api.post(url, {"emoji": "ab"}, content_type=JSON, **auth(bob))
    assert bad.status_code == 400 and bad.json()["errors"] == {"emoji": ["A reaction is a single emoji."]}
    assert api.post(url, {}, content_type=JSON, **auth(bob)).json()["errors"] == {"emoji": ["This field is required."]}
    assert api.post(url, {"emoji": 5}, content_type=JSON, **auth(bob)).status_code == 400
    assert api.post(url, {"emoji": "👍", "x": 1}, content_type=JSON, **auth(bob)).status_code == 400
    assert api.post(url, {"emoji": "👍"}, content_type=JSON, **auth(carol)).status_code == 404
    actions.delete_message(message, alice)
    gone = api.post(url, {"emoji": "👍"}, content_type=JSON, **auth(bob))
    assert gone.status_code == 400 and gone.json()["detail"] == "This message was deleted."


def test_a_message_shows_mine_for_whoever_asks(api, message, alice, bob):
    actions.add_reaction(message, alice, "👍")
    actions.add_reaction(message, bob, "👍")
    actions.add_reaction(message, bob, "🎉")
    alices = api.get(f"/api/messages/{message.pk}/", **auth(alice)).json()["reactions"]
    bobs = api.get(f"/api/chats/{message.chat_id}/get_messages/", **auth(bob)).json()[0]["reactions"]
    assert alices == [{"emoji": "👍", "count": 2, "mine": True}, {"emoji": "🎉", "count": 1, "mine": False}]
    assert bobs == [{"emoji": "👍", "count": 2, "mine": True}, {"emoji": "🎉", "count": 1, "mine": True}]


def test_the_history_takes_the_same_queries_with_reactions_on_every_message(
    api, chat, alice, bob, django_assert_num_queries
):
    for n in range(30):
        reacted = actions.send_message(chat, bob, str(n))[0]
        actions.add_reaction(reacted, alice, "👍")
        actions.add_reaction(reacted, bob, "❤️")
    headers = auth(alice)
    api.get("/api/users/me/", **headers)
    with django_assert_num_queries(5):  # the token, the chat, the messages, their reactions, read positions
        response = api.get(f"/api/chats/{chat.pk}/get_messages/", **headers)
    assert len(response.json()) == 30


# Sockets -----------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_one_event_per_change_reaches_both_members_with_mine_per_person(alice, bob, chat):
    message = (await sync_to_async(actions.send_message)(chat, alice, "Rope at 9?"))[0]
    alice_script, bob_script = await script(alice), await script(bob)
    assert (await alice_script.connect())[0] and (await bob_script.connect())[0]
    alice_tab, bob_tab = await open_tab(alice, chat), await open_tab(bob, chat)
    await pushed(alice_tab), await pushed(bob_tab), await events(alice_script), await events(bob_script)

    await sync_to_async(actions.add_reaction)(message, bob, "👍")

    alices, bobs = await events(alice_script), await events(bob_script)
    assert [event["event"] for event in alices] == ["message.reactions"] == [event["event"] for event in bobs]
    assert alices[0]["data"] == {
        "message": message.pk,
        "chat": chat.pk,
        "reactions": [{"emoji": "👍", "count": 1, "mine": False}],
    }
    assert bobs[0]["data"]["reactions"] == [{"emoji": "👍", "count": 1, "mine": True}]
    in_alices_tab, in_bobs_tab = await pushed(alice_tab), await pushed(bob_tab)
    button = f'id="message-{message.pk}-reaction-0"'
    assert f'id="message-{message.pk}-reactions" hx-swap-oob="true"' in in_alices_tab
    assert f'{button} aria-pressed="false"' in in_alices_tab
    assert f'{button} aria-pressed="true"' in in_bobs_tab

    await sync_to_async(actions.remove_reaction)(message, bob, "👍")
    assert (await events(alice_script))[0]["data"]["reactions"] == []
    assert button not in await pushed(alice_tab)
    for socket in (alice_script, bob_script, alice_tab, bob_tab):
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_an_edit_keeps_the_reactions_mine_per_person(alice, bob, chat):
    message = (await sync_to_async(actions.send_message)(chat, alice, "Rope at 9?"))[0]
    await sync_to_async(actions.add_reaction)(message, alice, "🎉")
    alice_script = await script(alice)
    assert (await alice_script.connect())[0]
    alice_tab = await open_tab(alice, chat)
    await pushed(alice_tab), await events(alice_script)

    await sync_to_async(actions.edit_message)(message, alice, "Rope at 10?")

    (edited,) = await events(alice_script)
    assert edited["event"] == "message.edited"
    assert edited["data"]["reactions"] == [{"emoji": "🎉", "count": 1, "mine": True}]
    assert f'id="message-{message.pk}-reaction-0" aria-pressed="true"' in await pushed(alice_tab)
    await alice_script.disconnect()
    await alice_tab.disconnect()


def test_reactions_json_event_is_documented():
    from flowchat.testing import check_event

    check_event(
        json.loads('{"event": "message.reactions", "chat": 1, "data": {"message": 2, "chat": 1, "reactions": []}}')
    )
