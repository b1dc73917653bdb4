"""Sends per person: a burst of SEND_RATE_BURST, then SEND_RATE_PER_MINUTE, in the API and the pages alike.

The limiter's clock stands still unless a test moves it, so "a burst" is any number of sends
and "after the wait" is one step of the clock, never a sleep.
"""

from __future__ import annotations

import uuid

import pytest
from django.urls import reverse

from conversations import actions, limits
from conversations.models import Message
from flowchat.testing import auth

HTMX = {"HTTP_HX_REQUEST": "true"}
JSON = "application/json"
BURST = 30
TOO_FAST = "You are sending messages too fast. Wait 1 second and send again."

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch, settings) -> Clock:
    settings.SEND_RATE_BURST, settings.SEND_RATE_PER_MINUTE = BURST, 60
    clock = Clock()
    monkeypatch.setattr(limits, "clock", clock)
    return clock


_tokens: dict[int, dict[str, str]] = {}


@pytest.fixture(autouse=True)
def _fresh_tokens():
    _tokens.clear()


def api_send(api, chat, person, text: str = "hello", **fields):
    headers = _tokens.setdefault(person.pk, auth(person))
    return api.post("/api/messages/", {"chat": chat.pk, "text": text, **fields}, content_type=JSON, **headers)


def page_send(client, chat, text: str = "hello", **headers):
    return client.post(reverse("send_message", args=[chat.pk]), {"text": text}, **headers)


def texts_of(chat) -> list[str]:
    return list(chat.messages.order_by("id").values_list("text", flat=True))


def test_the_api_refuses_the_send_after_the_burst_with_429_and_how_long_to_wait(api, alice, chat):
    assert [api_send(api, chat, alice, f"line {n}").status_code for n in range(BURST)] == [201] * BURST

    refused = api_send(api, chat, alice, "one too many")

    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert refused.json() == {"detail": TOO_FAST}
    assert texts_of(chat) == [f"line {n}" for n in range(BURST)]


def test_after_the_wait_the_next_send_goes_and_one_more_each_second(api, alice, chat, clock):
    for n in range(BURST):
        api_send(api, chat, alice, f"line {n}")
    assert api_send(api, chat, alice).status_code == 429

    clock.now += 1
    assert api_send(api, chat, alice, "after a second").status_code == 201
    assert api_send(api, chat, alice, "too soon").status_code == 429
    clock.now += 10
    assert [api_send(api, chat, alice, f"later {n}").status_code for n in range(11)] == [201] * 10 + [429]


def test_another_person_is_not_slowed_by_someone_elses_burst(api, alice, bob, chat):
    for n in range(BURST):
        api_send(api, chat, alice, f"line {n}")
    assert api_send(api, chat, alice).status_code == 429

    assert api_send(api, chat, bob, "my turn").status_code == 201


def test_a_retry_of_a_stored_send_gets_its_message_even_past_the_rate(api, alice, chat):
    client_id = str(uuid.uuid4())
    first = api_send(api, chat, alice, "maybe lost", client_id=client_id)
    for n in range(BURST - 1):
        api_send(api, chat, alice, f"line {n}")

    retry = api_send(api, chat, alice, "maybe lost", client_id=client_id)

    assert retry.status_code == 200
    assert retry.json()["id"] == first.json()["id"]
    assert api_send(api, chat, alice, "new", client_id=str(uuid.uuid4())).status_code == 429


def test_the_chat_page_with_htmx_shows_the_refusal_at_the_composer_and_keeps_the_text(client, alice, chat):
    client.force_login(alice)
    assert [page_send(client, chat, f"line {n}", **HTMX).status_code for n in range(BURST)] == [200] * BURST

    refused = page_send(client, chat, "my unsent words", **HTMX)

    html = refused.content.decode()
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert html.lstrip().startswith('<form id="composer"')
    assert TOO_FAST in html
    assert "my unsent words</textarea>" in html
    assert "my unsent words" not in texts_of(chat)
    assert chat.messages.count() == BURST


def test_the_chat_page_without_javascript_comes_back_with_the_refusal_and_the_text(client, alice, chat):
    client.force_login(alice)
    assert [page_send(client, chat, f"line {n}").status_code for n in range(BURST)] == [302] * BURST

    refused = page_send(client, chat, "my unsent words")

    html = refused.content.decode()
    assert refused.status_code == 429
    assert refused["Retry-After"] == "1"
    assert "<html" in html and 'id="composer"' in html
    assert TOO_FAST in html
    assert "my unsent words</textarea>" in html
    assert chat.messages.count() == BURST


def test_the_pages_and_the_api_share_one_rate(api, client, alice, chat, clock):
    for n in range(BURST):
        api_send(api, chat, alice, f"line {n}")
    client.force_login(alice)

    assert page_send(client, chat, "from the page", **HTMX).status_code == 429
    clock.now += 1
    assert page_send(client, chat, "from the page", **HTMX).status_code == 200
    assert api_send(api, chat, alice).status_code == 429


def test_the_refusal_is_in_russian_for_a_russian_reader(client, alice, chat):
    client.force_login(alice)
    for n in range(BURST):
        page_send(client, chat, f"line {n}", **HTMX)

    refused = page_send(client, chat, "ещё", HTTP_ACCEPT_LANGUAGE="ru", **HTMX)

    assert refused.status_code == 429
    assert "Вы отправляете сообщения слишком часто" in refused.content.decode()


def test_edits_do_not_count_as_sends(api, alice, chat):
    """Editing changes no unread count and notifies nobody anew: fixing a typo right after a burst must work."""
    sent = [api_send(api, chat, alice, f"line {n}").json()["id"] for n in range(BURST)]
    assert api_send(api, chat, alice).status_code == 429

    edited = api.patch(f"/api/messages/{sent[-1]}/", {"text": "line fixed"}, content_type=JSON, **auth(alice))

    assert edited.status_code == 200
    assert Message.objects.get(pk=sent[-1]).text == "line fixed"


def test_a_burst_of_zero_turns_the_limit_off(api, alice, chat, settings):
    settings.SEND_RATE_BURST = 0

    assert {api_send(api, chat, alice, f"line {n}").status_code for n in range(BURST + 5)} == {201}


def test_operator_tools_that_build_history_are_not_limited(alice, chat):
    for n in range(BURST + 5):
        actions.send_message(chat, alice, f"seeded {n}")

    assert chat.messages.count() == BURST + 5
