"""What an event costs: published once, rendered once per language and loaded in a fixed number
of queries, however many members a chat has (what each one receives is in test_consumers.py)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from conftest import make_person
from conversations import actions, broadcast, rendering


def cost_of_a_message(group_size: int) -> tuple[int, int, list[str]]:
    """(templates rendered, queries, groups published to) for one new message in a group of this many people."""
    owner = make_person(f"owner{group_size}")
    others = [make_person(f"member{group_size}x{n}") for n in range(group_size - 1)]
    group = actions.create_group(owner, f"Group of {group_size}", others)
    message, _ = actions.send_message(group, others[0], "Hello")
    with (
        mock.patch.object(rendering, "render_to_string", wraps=render_to_string) as rendering_calls,
        mock.patch.object(broadcast.outbox, "put") as publishing,
        CaptureQueriesContext(connection) as queries,
    ):
        broadcast.message_created(message)
    groups = [call.args[0] for call in publishing.call_args_list]
    return rendering_calls.call_count, len(queries.captured_queries), groups


@pytest.mark.django_db
def test_a_new_message_is_published_once_to_its_chat_whatever_its_size():
    renders, queries, groups = cost_of_a_message(3)
    assert (renders, queries) == cost_of_a_message(30)[:2]
    assert len(groups) == 1 and groups[0].startswith("chat.")


@pytest.mark.django_db
def test_a_new_messages_event_costs_one_query(alice, bob, chat):
    message, _ = actions.send_message(chat, bob, "Hello")
    with CaptureQueriesContext(connection) as queries, mock.patch.object(broadcast.outbox, "put") as publishing:
        broadcast.message_created(message)
    # The chat as it is now, with the time of the message before (the message itself is the action's).
    assert len(queries.captured_queries) == 1
    assert publishing.call_count == 1
