"""What an event costs: rendered once per language and loaded in a fixed number of queries,
however many members a chat has (what each one receives is in test_consumers.py)."""

from __future__ import annotations

from unittest import mock

import pytest
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext

from conftest import make_person
from conversations import actions, broadcast


def cost_of_a_message(group_size: int) -> tuple[int, int]:
    """(templates rendered, queries) for one new message in a group of this many people."""
    owner = make_person(f"owner{group_size}")
    others = [make_person(f"member{group_size}x{n}") for n in range(group_size - 1)]
    group = actions.create_group(owner, f"Group of {group_size}", others)
    message, _ = actions.send_message(group, others[0], "Hello")
    with (
        mock.patch.object(broadcast, "render_to_string", wraps=render_to_string) as rendering,
        mock.patch.object(broadcast, "fan_out") as sending,
        CaptureQueriesContext(connection) as queries,
    ):
        broadcast.message_created(message.pk)
    assert len(sending.call_args.args[0]) == group_size  # one delivery per member
    return rendering.call_count, len(queries.captured_queries)


@pytest.mark.django_db
def test_a_new_message_costs_the_same_for_3_members_and_for_30():
    assert cost_of_a_message(3) == cost_of_a_message(30)
