"""A deleted message stays deleted in an open tab, whatever arrives late.

Two server processes can publish an edit after the delete that followed it (the edit's event
was read on the slower process before the delete committed). Here the server edits and deletes
for real; the late frames, made as the slower process made them, are then handed to the page's
own socket, so they go through the ws extension and htmx's out-of-band swaps like any push.
"""

from __future__ import annotations

import json
import urllib.request
from unittest import mock

import pytest
from playwright.sync_api import expect

from conversations import actions, broadcast, rendering
from conversations.models import Message
from flowchat.testing import token_for

from .conftest import Tab, outside_the_browser_loop
from .test_live import KEEP_SOCKETS, open_chat

pytestmark = pytest.mark.browser

# The frame arrives on the page's socket as a push would (window.sockets: KEEP_SOCKETS).
PUSH = """(frame) => {
  window.sockets.at(-1).dispatchEvent(new MessageEvent("message", { data: frame }));
}"""
# In the same frame, after the late pieces: when it is on the page, they were all handled.
HANDLED = '<div hx-swap-oob="innerHTML:#typing"><span id="late-frame-handled"></span></div>'


def api(tab: Tab, method: str, path: str, key: str, body: dict | None = None) -> int:
    """Alice's script, on the same server as the page."""
    request = urllib.request.Request(  # noqa: S310 - the test server's own URL
        tab.url(path),
        method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return response.status


def as_published_now(message: Message) -> str:
    """What a tab showing the chat would be sent for an edit of `message`, read as it is now."""
    with mock.patch.object(broadcast.outbox, "put") as publishing:
        broadcast.message_changed(message.pk, "message.edited")
    ((_group, event),) = [call.args for call in publishing.call_args_list]
    return event["html"]["en"]["open"] + event["html"]["en"]["mine"]


def test_an_edit_that_arrives_after_the_delete_does_not_bring_the_text_back(desktop, alice, bob):
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    message = outside_the_browser_loop(actions.send_message, chat, alice, "the secret")[0]
    as_sent = rendering.new_message(Message.objects.with_people().get(pk=message.pk), chat)["en"]
    key = token_for(alice)
    desktop.log_in(bob)
    desktop.context.add_init_script(KEEP_SOCKETS)
    open_chat(desktop, chat)
    shown = desktop.page.locator(f"#message-{message.pk}")

    assert api(desktop, "PATCH", f"/api/messages/{message.pk}/", key, {"text": "the secret, again"}) == 200
    expect(shown).to_have_attribute("data-version", "2")
    edited_late = as_published_now(message)  # read before the delete, published after it
    assert api(desktop, "DELETE", f"/api/messages/{message.pk}/", key) == 204
    expect(shown).to_have_attribute("data-version", "3")
    expect(shown).to_contain_text("Message deleted")

    # The late edit (v2, with Edit and Delete for its author), and the message as first sent (v1).
    desktop.page.evaluate(PUSH, edited_late + as_sent + HANDLED)

    expect(desktop.page.locator("#late-frame-handled")).to_have_count(1)
    expect(shown).to_have_count(1)
    expect(shown).to_have_attribute("data-version", "3")
    expect(shown).to_have_class("message message-deleted")
    expect(shown).to_contain_text("Message deleted")
    expect(desktop.page.locator("#messages")).not_to_contain_text("the secret")
    expect(shown.locator(".message-menu")).to_have_count(0)
