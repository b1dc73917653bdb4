"""The outbox: events leave in the order they were handed in, a full queue makes the sender wait
(never drops), and a thread that hands one in does not wait for the channel layer."""

from __future__ import annotations

import asyncio
import time
from unittest import mock

import pytest

from conversations import outbox as outbox_module
from conversations.outbox import Outbox


class SlowLayer:
    """A channel layer whose every publish takes `delay` seconds, recording what it published."""

    def __init__(self, delay: float = 0.0) -> None:
        self.delay = delay
        self.sent: list[int] = []

    async def group_send(self, group: str, event: dict) -> None:
        await asyncio.sleep(self.delay)
        self.sent.append(event["n"])


def hand_in(box: Outbox, numbers: range) -> float:
    """Hand events to the outbox from another thread (as a request does); how long it took."""
    started = time.perf_counter()
    for n in numbers:
        box.put("chat.1", {"type": "chat.event", "n": n})
    return time.perf_counter() - started


@pytest.mark.asyncio
async def test_a_thread_hands_events_in_without_waiting_for_them_to_be_published():
    layer = SlowLayer(delay=0.05)
    box = Outbox()
    with mock.patch.object(outbox_module, "get_channel_layer", return_value=layer):
        box.start()
        took = await asyncio.to_thread(hand_in, box, range(10))
        assert took < 0.05 * 10 / 2  # far less than publishing them takes
        await box.drain()
    assert layer.sent == list(range(10))


@pytest.mark.asyncio
async def test_a_full_outbox_makes_the_sender_wait_and_loses_nothing():
    layer = SlowLayer(delay=0.01)
    box = Outbox(size=2)
    with mock.patch.object(outbox_module, "get_channel_layer", return_value=layer):
        box.start()
        took = await asyncio.to_thread(hand_in, box, range(8))
        assert took >= 0.01 * 4  # it waited for room at least for the publishes beyond the first few
        await box.drain()
    assert layer.sent == list(range(8))


@pytest.mark.asyncio
async def test_events_handed_in_on_the_loop_itself_keep_their_order_too():
    layer = SlowLayer()
    box = Outbox(size=2)
    with mock.patch.object(outbox_module, "get_channel_layer", return_value=layer):
        box.start()
        hand_in(box, range(5))  # from the loop's own thread, as a consumer would
        while len(layer.sent) < 5:
            await box.drain()
            await asyncio.sleep(0)
    assert layer.sent == list(range(5))


@pytest.mark.asyncio
async def test_a_failed_publish_is_logged_and_the_next_one_still_goes(caplog):
    layer = SlowLayer()
    calls = 0

    async def flaky(group: str, event: dict) -> None:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise ConnectionError("Redis is down")
        await SlowLayer.group_send(layer, group, event)

    box = Outbox()
    with mock.patch.object(outbox_module, "get_channel_layer", return_value=mock.Mock(group_send=flaky)):
        box.start()
        await asyncio.to_thread(hand_in, box, range(2))
        await box.drain()
    assert layer.sent == [1]
    assert "Could not publish" in caplog.text


def test_outside_a_server_an_event_is_published_at_once():
    layer = SlowLayer()
    box = Outbox()
    with mock.patch.object(outbox_module, "get_channel_layer", return_value=layer):
        hand_in(box, range(3))
    assert layer.sent == [0, 1, 2]


def test_a_requests_events_leave_once_its_answer_has_been_sent():
    from django.http import HttpResponse

    from conversations.outbox import AfterTheAnswer, outbox

    handed_in: list[int] = []

    def view(request):
        outbox.put("chat.1", {"type": "chat.event", "n": 1})  # as an action's on_commit does
        outbox.put("chat.1", {"type": "chat.event", "n": 2})
        return HttpResponse("sent")

    with mock.patch.object(outbox, "_hand_in", side_effect=lambda group, event: handed_in.append(event["n"])):
        response = AfterTheAnswer(view)(object())
        assert handed_in == []  # the answer is still on its way
        response.close()  # what the server does once it is sent
    assert handed_in == [1, 2]


def test_outside_a_request_events_are_not_held():
    from conversations.outbox import outbox

    handed_in: list[int] = []
    with mock.patch.object(outbox, "_hand_in", side_effect=lambda group, event: handed_in.append(event["n"])):
        outbox.put("chat.1", {"type": "chat.event", "n": 7})  # a socket's typing, a management command
    assert handed_in == [7]
