"""A client that hangs up right after sending its request: a quiet outcome, never a 500 in the logs."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
import time

import pytest
from asgiref.sync import sync_to_async
from django.db import connections

from accounts.models import ApiToken
from conversations.models import Message
from flowchat import api
from flowchat.asgi import application
from flowchat.testing import post_scope

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.asyncio]


async def test_a_send_whose_client_hangs_up_is_stored_published_and_logs_no_error(alice, chat, caplog, monkeypatch):
    _, key = await sync_to_async(ApiToken.objects.issue)(alice)
    body = json.dumps({"chat": chat.pk, "text": "sent, then the laptop lid closed"}).encode()
    headers = {"authorization": f"Token {key}", "content-type": "application/json", "content-length": str(len(body))}
    scope = post_scope("/api/messages/", headers)
    started = threading.Event()
    authenticate = api.authenticate_token

    def hold_until_the_server_has_seen_the_hang_up(request):
        # The view's thread reaches the body only after the server has handled the disconnect:
        # the order that, with a real client, happens whenever the thread is a little slow.
        started.set()
        deadline = time.monotonic() + 1
        while not request._stream.closed and time.monotonic() < deadline:
            time.sleep(0.01)
        return authenticate(request)

    monkeypatch.setattr(api, "authenticate_token", hold_until_the_server_has_seen_the_hang_up)
    messages = iter([{"type": "http.request", "body": body, "more_body": False}])

    async def receive():
        try:
            return next(messages)
        except StopIteration:
            await asyncio.get_running_loop().run_in_executor(None, started.wait)
            return {"type": "http.disconnect"}

    sent = []

    async def send(message):
        sent.append(message)

    published = []
    monkeypatch.setattr("conversations.outbox.publish", lambda group, event: _record(published, group, event))

    with caplog.at_level(logging.INFO):
        await asyncio.wait_for(application(scope, receive, send), 10)

    assert not [record for record in caplog.records if record.levelno >= logging.ERROR], caplog.text
    assert "Traceback" not in caplog.text
    assert sent == []  # nobody to answer
    # The send went through (a retry with its client_id would get it back), and the others hear of it.
    assert await Message.objects.filter(chat=chat, text="sent, then the laptop lid closed").aexists()
    assert any(event.get("event") == "message.created" for _, event in published), published
    await sync_to_async(connections.close_all)()


async def _record(published: list, group: str, event: dict) -> None:
    published.append((group, event))
