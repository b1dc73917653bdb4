"""Replies and the message permalink: through the actions, the pages (without JavaScript and
with htmx), the JSON API and the sockets. alice and bob chat; carol is the outsider."""

from __future__ import annotations

from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conversations import actions, broadcast
from conversations.models import Message
from flowchat.testing import auth

JSON = "application/json"


def send(chat, author, text="hello", **kwargs) -> Message:
    return actions.send_message(chat, author, text, **kwargs)[0]


# The action ----------------------------------------------------------------------------------------


def test_a_reply_answers_a_message_of_the_same_chat(alice, bob, chat):
    question = send(chat, bob, "Rope at 9?")
    answer = send(chat, alice, "Yes", reply_to=question.pk)

    assert Message.objects.get(pk=answer.pk).reply_to == question
    assert list(question.replies.all()) == [answer]


@pytest.mark.parametrize("which", ["other chat", "unknown", "system", "deleted"])
def test_a_reply_to_what_cannot_be_answered_is_refused(alice, bob, carol, chat, group, which):
    if which == "other chat":
        target = send(actions.get_or_create_direct_chat(alice, carol)[0], carol, "Elsewhere").pk
    elif which == "unknown":
        target = 999_999
    elif which == "system":
        target = group.messages.get(kind=Message.Kind.CREATED).pk
        chat = group
    else:
        gone = send(chat, bob, "Oops")
        actions.delete_message(gone, bob)
        target = gone.pk
    before = Message.objects.count()

    with pytest.raises(ValidationError) as refusal:
        send(chat, alice, "Yes", reply_to=target)

    assert refusal.value.code == "reply_to"
    assert Message.objects.count() == before


def test_the_original_deleted_for_good_leaves_the_reply(alice, bob, chat):
    question = send(chat, bob, "Rope at 9?")
    answer = send(chat, alice, "Yes", reply_to=question.pk)
    Message.objects.filter(pk=question.pk).delete()

    assert Message.objects.get(pk=answer.pk).reply_to is None


def test_the_quote_is_the_first_line_shortened_or_photo_or_deleted(alice, bob, chat):
    long = send(chat, bob, "x" * 200 + "\nsecond line")
    assert long.quote_text() == "x" * 79 + "…"
    assert send(chat, bob, "one\ntwo").quote_text() == "one"
    actions.delete_message(long, bob)
    assert Message.objects.get(pk=long.pk).quote_text() == "Deleted message"
    photo = Message()
    photo.image.name = "pictures/a.png"
    assert photo.quote_text() == "Photo"


# The pages ------------------------------------------------------------------------------------------


def test_every_message_has_reply_and_a_link_to_itself(client, alice, bob, chat):
    mine, theirs = send(chat, alice, "Mine"), send(chat, bob, "Theirs")
    client.force_login(alice)

    page = client.get(reverse("chat", args=[chat.pk])).content.decode()

    for message in (mine, theirs):
        assert f'href="/chats/{chat.pk}/?reply_to={message.pk}#composer"' in page
        assert f'href="/chats/{chat.pk}/messages/{message.pk}/"' in page


def test_replying_without_javascript(client, alice, bob, chat):
    question = send(chat, bob, "Rope at 9?\nOr 10?")
    client.force_login(alice)

    page = client.get(f"/chats/{chat.pk}/?reply_to={question.pk}").content.decode()
    assert f'<input type="hidden" name="reply_to" value="{question.pk}">' in page
    assert "Replying to" in page and "Rope at 9?</span>" in page and "Or 10?</span>" not in page
    assert f'class="button button-quiet button-small composer-reply-cancel" href="/chats/{chat.pk}/#composer"' in page

    response = client.post(f"/chats/{chat.pk}/", {"text": "Yes", "reply_to": question.pk})
    assert response.status_code == 302
    answer = chat.messages.last()
    assert (answer.text, answer.reply_to_id) == ("Yes", question.pk)

    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert (
        f'<a class="reply-quote" href="/chats/{chat.pk}/messages/{question.pk}/" data-quote-of="{question.pk}">' in page
    )
    assert 'name="reply_to"' not in page  # Cancel, or a sent reply: the composer answers nothing


def test_a_refused_reply_says_why_and_keeps_the_text(client, alice, carol, chat):
    elsewhere = send(actions.get_or_create_direct_chat(carol, alice)[0], carol, "Secret")
    client.force_login(alice)

    response = client.post(f"/chats/{chat.pk}/", {"text": "Yes", "reply_to": elsewhere.pk})

    assert response.status_code == 400
    page = response.content.decode()
    assert "The message you reply to is not in this chat." in page
    assert 'class="composer-reply-quote"' not in page and 'name="reply_to"' not in page
    assert not chat.messages.filter(text="Yes").exists()


def test_a_reply_to_another_chats_message_is_not_shown_in_the_composer(client, alice, carol, chat):
    elsewhere = send(actions.get_or_create_direct_chat(carol, alice)[0], carol, "Secret")
    client.force_login(alice)

    page = client.get(f"/chats/{chat.pk}/?reply_to={elsewhere.pk}").content.decode()

    assert 'name="reply_to"' not in page and 'class="composer-reply-quote"' not in page


def test_replying_with_htmx_swaps_only_the_reply_slot(client, alice, bob, chat):
    question = send(chat, bob, "Rope at 9?")
    client.force_login(alice)

    slot = client.get(f"/chats/{chat.pk}/?reply_to={question.pk}", HTTP_HX_REQUEST="true").content.decode()
    assert slot.strip().startswith('<div class="composer-reply" id="composer-reply">')
    assert f'value="{question.pk}"' in slot and "Rope at 9?" in slot and "<textarea" not in slot

    cancelled = client.get(f"/chats/{chat.pk}/?reply_to=", HTTP_HX_REQUEST="true").content.decode()
    assert 'id="composer-reply"' in cancelled and "reply_to" not in cancelled

    response = client.post(
        reverse("send_message", args=[chat.pk]), {"text": "Yes", "reply_to": question.pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-quote-of="{question.pk}"' in html  # the sent message shows its quote
    assert 'name="reply_to"' not in html  # the fresh composer answers nothing


def test_the_quote_follows_an_edit_and_a_deletion(client, alice, bob, chat):
    question = send(chat, bob, "Rope at 9?")
    send(chat, alice, "Yes", reply_to=question.pk)
    client.force_login(alice)

    actions.edit_message(question, bob, "Rope at 10?")
    assert "Rope at 10?</span>" in client.get(f"/chats/{chat.pk}/").content.decode()
    actions.delete_message(question, bob)
    page = client.get(f"/chats/{chat.pk}/").content.decode()
    assert '<span class="reply-quote-text" dir="auto">Deleted message</span>' in page
    # The deleted message has no Reply of its own.
    assert f"?reply_to={question.pk}#" not in page


def queries_for(client, url: str) -> int:
    client.get(reverse("accounts:settings"))  # the once-a-minute last_active write
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_history_loads_quotes_in_a_fixed_number_of_queries(client, alice, bob, chat):
    client.force_login(alice)
    first = send(chat, bob, "first")
    send(chat, alice, "a", reply_to=first.pk)
    few = queries_for(client, f"/chats/{chat.pk}/")
    for n in range(10):
        question = send(chat, bob, f"q{n}")
        send(chat, alice, f"a{n}", reply_to=question.pk)

    assert queries_for(client, f"/chats/{chat.pk}/") == few
    assert queries_for(client, f"/chats/{chat.pk}/?around={first.pk}") <= few


# The permalink -----------------------------------------------------------------------------------------


def test_a_permalink_opens_the_history_around_a_message_far_back(client, alice, bob, chat):
    old = send(chat, bob, "The very old one")
    for n in range(500):
        send(chat, alice if n % 2 else bob, f"filler {n}")
    client.force_login(alice)

    response = client.get(f"/chats/{chat.pk}/messages/{old.pk}/")
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{chat.pk}/?around={old.pk}#message-{old.pk}"
    page = client.get(response["Location"]).content.decode()
    assert f'id="message-{old.pk}"' in page and "The very old one" in page
    assert "Newer messages" in page and "Latest messages" in page
    assert 'id="message-' + str(old.pk + 500) + '"' not in page


def test_a_permalink_is_404_for_an_outsider_and_an_unknown_message(client, alice, bob, carol, chat):
    message = send(chat, bob, "Hi")
    other = send(actions.get_or_create_direct_chat(carol, alice)[0], carol, "Elsewhere")
    client.force_login(carol)
    assert client.get(f"/chats/{chat.pk}/messages/{message.pk}/").status_code == 404
    assert client.get(f"/chats/{chat.pk}/").status_code == 404
    client.force_login(bob)
    assert client.get(f"/chats/{chat.pk}/messages/999999/").status_code == 404
    # Alice's message in another chat is not reached through this one.
    assert client.get(f"/chats/{chat.pk}/messages/{other.pk}/").status_code == 404


def test_a_deleted_messages_permalink_still_shows_its_place(client, alice, bob, chat):
    message = send(chat, bob, "Oops")
    actions.delete_message(message, bob)
    client.force_login(alice)

    page = client.get(f"/chats/{chat.pk}/messages/{message.pk}/", follow=True).content.decode()

    assert f'id="message-{message.pk}"' in page and "Message deleted" in page


def test_search_results_link_to_the_permalink(client, alice, bob, chat):
    message = send(chat, bob, "Rope at nine")
    client.force_login(alice)

    page = client.get(reverse("search"), {"q": "rope"}).content.decode()

    assert f'href="/chats/{chat.pk}/messages/{message.pk}/"' in page


# The API --------------------------------------------------------------------------------------------------


def test_the_api_sends_a_reply_and_shows_reply_to(api, alice, bob, chat):
    question = send(chat, bob, "Rope at 9?")

    response = api.post(
        "/api/messages/", {"chat": chat.pk, "text": "Yes", "reply_to": question.pk}, content_type=JSON, **auth(alice)
    )

    assert response.status_code == 201
    assert response.json()["reply_to"] == question.pk
    history = api.get(f"/api/chats/{chat.pk}/get_messages/", **auth(alice)).json()
    assert [m["reply_to"] for m in history] == [None, question.pk]


def test_the_api_sends_a_reply_with_a_picture(api, alice, bob, chat):
    from flowchat.testing import picture

    question = send(chat, bob, "Rope at 9?")
    response = api.post(
        "/api/messages/", {"chat": str(chat.pk), "reply_to": str(question.pk), "image": picture()}, **auth(alice)
    )

    assert response.status_code == 201, response.content
    assert response.json()["reply_to"] == question.pk


@pytest.mark.parametrize("value", ["abc", 0, True, 999_999, "system"])
def test_the_api_refuses_a_bad_reply_to(api, alice, bob, group, value):
    if value == "system":
        value = group.messages.get(kind=Message.Kind.CREATED).pk

    response = api.post(
        "/api/messages/", {"chat": group.pk, "text": "Yes", "reply_to": value}, content_type=JSON, **auth(alice)
    )

    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["reply_to"]
    assert not group.messages.filter(text="Yes").exists()


def test_reply_to_cannot_be_changed_by_an_edit(api, alice, bob, chat):
    message = send(chat, alice, "Hi")

    response = api.patch(
        f"/api/messages/{message.pk}/", {"text": "Hi!", "reply_to": 1}, content_type=JSON, **auth(alice)
    )

    assert response.status_code == 400


# The broadcasts ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_pushed_reply_carries_its_quote_and_reply_to(alice, bob, chat):
    question = send(chat, bob, "Rope at 9?")
    with mock.patch.object(broadcast.outbox, "put") as publishing:
        answer = send(chat, alice, "Yes", reply_to=question.pk)
    event = publishing.call_args.args[1]
    assert event["data"]["reply_to"] == question.pk
    html = event["html"]["en"]["open"]
    assert f'data-quote-of="{question.pk}"' in html and "Rope at 9?" in html
    assert f'id="message-{answer.pk}"' in html


@pytest.mark.django_db(transaction=True)
def test_an_edit_or_delete_updates_every_quote_in_one_piece(alice, bob, chat):
    question = send(chat, bob, "Rope at 9?")
    for n in range(3):
        send(chat, alice, f"Yes {n}", reply_to=question.pk)

    with mock.patch.object(broadcast.outbox, "put") as publishing:
        actions.edit_message(question, bob, "Rope at 10?")
        actions.delete_message(question, bob)

    edited, deleted = (call.args[1]["html"] for call in publishing.call_args_list)
    swap = f'<div hx-swap-oob="innerHTML:[data-quote-of=&quot;{question.pk}&quot;]">'
    assert edited["en"]["open"].count(swap) == 1 and "Rope at 10?" in edited["en"]["open"]
    assert deleted["en"]["open"].count(swap) == 1 and "Deleted message" in deleted["en"]["open"]
    assert "Удалённое сообщение" in deleted["ru"]["open"] or deleted["ru"]["open"].count(swap) == 1


@pytest.mark.django_db(transaction=True)
def test_a_message_without_replies_pushes_no_quote(alice, bob, chat):
    message = send(chat, bob, "Rope at 9?")
    with mock.patch.object(broadcast.outbox, "put") as publishing:
        actions.edit_message(message, bob, "Rope at 10?")
    assert "data-quote-of" not in publishing.call_args.args[1]["html"]["en"]["open"]
