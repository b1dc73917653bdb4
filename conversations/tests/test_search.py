"""Message search: alice and bob chat and share a group; carol, the outsider, has chats of her own.

Runs on both databases: CI runs it on PostgreSQL (full-text search with stemming) and again on
SQLite, the embedded default (FTS5, each word a prefix).
"""

from __future__ import annotations

from importlib import import_module

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from conftest import make_person
from conversations import actions, search
from conversations.tests.test_api import INVALID_QUERY, auth

pytestmark = pytest.mark.django_db

POSTGRESQL = pytest.mark.skipif(connection.vendor != "postgresql", reason="stemming is PostgreSQL's (CI runs it there)")
SQLITE = pytest.mark.skipif(connection.vendor != "sqlite", reason="prefixes are SQLite's FTS5 (CI runs it there too)")


def texts(found) -> list[str]:
    return [result.message.text for result in found[0]]


def test_only_ones_own_chats_are_searched_never_deleted_text(alice, bob, carol, chat, group):
    actions.send_message(chat, bob, "The climbing rope is in the car")
    actions.send_message(group, alice, "Rope at nine?")
    with_carol = actions.get_or_create_direct_chat(carol, make_person("dave"))[0]
    actions.send_message(with_carol, carol, "my own rope story")
    gone = actions.send_message(group, bob, "a rope I regret")[0]
    actions.delete_message(gone, bob)

    assert sorted(texts(search.search_messages(alice, "rope"))) == ["Rope at nine?", "The climbing rope is in the car"]
    assert texts(search.search_messages(carol, "rope")) == ["my own rope story"]
    assert texts(search.search_messages(alice, "rope", chat=group)) == ["Rope at nine?"]
    assert texts(search.search_messages(alice, "regret")) == []


def test_system_lines_and_empty_queries_find_nothing(alice, bob, group):
    actions.rename_group(group, alice, "Bouldering")
    assert texts(search.search_messages(alice, "Bouldering")) == []
    assert search.search_messages(alice, "   ") == ([], False)
    assert search.search_messages(alice, '"*()^:') == ([], False)


def test_any_case_of_any_alphabet_matches(alice, bob, chat):
    actions.send_message(chat, bob, "Иванов придёт в СУББОТУ")
    assert texts(search.search_messages(alice, "иванов")) == ["Иванов придёт в СУББОТУ"]
    assert texts(search.search_messages(alice, "субботу")) == ["Иванов придёт в СУББОТУ"]


@POSTGRESQL
def test_postgresql_finds_other_forms_of_a_word_in_english_and_russian(alice, bob, chat):
    actions.send_message(chat, bob, "Моя кошка спит")
    actions.send_message(chat, bob, "I run every morning")
    assert texts(search.search_messages(alice, "кошки")) == ["Моя кошка спит"]
    assert texts(search.search_messages(alice, "running")) == ["I run every morning"]


@SQLITE
def test_sqlite_finds_a_word_by_its_start(alice, bob, chat):
    actions.send_message(chat, bob, "Моя Кошка спит")
    actions.send_message(chat, bob, "climbing today")
    assert texts(search.search_messages(alice, "кош")) == ["Моя Кошка спит"]
    assert texts(search.search_messages(alice, "CLIMB tod")) == ["climbing today"]


def test_the_best_match_comes_first_then_the_newest(alice, bob, chat):
    actions.send_message(chat, bob, "rope")
    actions.send_message(chat, bob, "rope rope rope, bring the rope")
    actions.send_message(chat, bob, "rope")
    found = texts(search.search_messages(alice, "rope"))
    assert found[0] == "rope rope rope, bring the rope"
    newer, older = (result.message.pk for result in search.search_messages(alice, "rope")[0][1:])
    assert newer > older


def test_pages_follow_on_without_repeats_or_gaps(alice, bob, chat):
    sent = {actions.send_message(chat, bob, f"rope number {n}" + " rope" * (n % 3))[0].pk for n in range(25)}
    seen: list[int] = []
    before = None
    while True:
        page, more = search.search_messages(alice, "rope", before=before, limit=7)
        seen += [result.message.pk for result in page]
        if not more:
            break
        before = page[-1].message.pk
    assert len(seen) == len(set(seen)) == 25
    assert set(seen) == sent


def test_a_snippet_marks_the_match_and_escapes_everything_else(alice, bob, chat):
    actions.send_message(chat, bob, '<img src=x onerror="alert(1)"> Tom & Jerry bring the rope')
    (result,), _ = search.search_messages(alice, "rope")
    assert "<mark>rope</mark>" in result.snippet
    assert "Tom &amp; Jerry" in result.snippet
    # PostgreSQL's headline leaves out what looks like a tag; SQLite's snippet keeps it, escaped.
    assert "<img" not in result.snippet


def test_the_postgresql_index_is_the_expression_searched():
    migration = import_module("conversations.migrations.0006_message_search")
    assert migration.PG_DOCUMENT == search.PG_DOCUMENT


# The page ---------------------------------------------------------------------------------------


def test_the_search_page_works_without_javascript_and_links_to_the_message(client, alice, bob, chat, group):
    message = actions.send_message(group, bob, "Who brings the rope?")[0]
    client.force_login(alice)
    page = client.get(reverse("search"), {"q": "rope"}).content.decode()
    assert "<mark>rope</mark>" in page
    assert f"/chats/{group.pk}/messages/{message.pk}/" in page
    assert "1 message matches" in page

    scoped = client.get(reverse("search"), {"q": "rope", "chat": chat.pk}).content.decode()
    assert "No message matches" in scoped


def test_as_you_type_in_a_chat_the_link_to_search_everywhere_keeps_the_words(client, alice, bob, group):
    actions.send_message(group, bob, "Who brings the rope?")
    client.force_login(alice)
    htmx = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "search-results"}

    fragment = client.get(reverse("search"), {"q": "rope", "chat": group.pk}, **htmx).content.decode()

    assert "<mark>rope</mark>" in fragment
    assert '<p id="search-everywhere" hx-swap-oob="innerHTML"><a href="/search/?q=rope">' in fragment
    unscoped = client.get(reverse("search"), {"q": "rope"}, **htmx).content.decode()
    assert "search-everywhere" not in unscoped


def test_the_search_page_of_a_chat_one_is_not_in_is_a_404(client, carol, group):
    client.force_login(carol)
    assert client.get(reverse("search"), {"q": "rope", "chat": group.pk}).status_code == 404


def test_the_search_page_takes_the_same_queries_for_one_result_and_twenty(client, alice, bob, chat):
    client.force_login(alice)
    others = [make_person(f"person{n}") for n in range(3)]
    actions.send_message(chat, bob, "rope 0")
    client.get(reverse("search"), {"q": "rope"})

    def count() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert client.get(reverse("search"), {"q": "rope"}).status_code == 200
        return len(captured)

    one = count()
    for n in range(19):
        person = others[n % 3]
        direct = actions.get_or_create_direct_chat(alice, person)[0]
        actions.send_message(direct, person, f"rope {n + 1}")
    assert count() == one


# The API ------------------------------------------------------------------------------------------


def test_the_api_answers_messages_with_snippets_and_a_next_link(api, alice, bob, chat):
    for n in range(3):
        actions.send_message(chat, bob, f"rope {n}")
    first = api.get("/api/search/", {"q": "rope", "limit": 2}, **auth(alice))
    assert first.status_code == 200
    assert [row["message"]["chat"] for row in first.json()] == [chat.pk, chat.pk]
    assert all("<mark>rope</mark>" in row["snippet"] for row in first.json())
    assert "before=" in first["Link"]
    rest = api.get(
        "/api/search/", {"q": "rope", "limit": 2, "before": first.json()[-1]["message"]["id"]}, **auth(alice)
    )
    assert len(rest.json()) == 1
    assert "Link" not in rest


def test_the_api_refuses_an_empty_query_and_hides_other_chats(api, alice, carol, chat):
    empty = api.get("/api/search/", {"q": " "}, **auth(alice))
    assert empty.status_code == 400
    assert empty.json() == {"detail": INVALID_QUERY, "errors": {"q": ["Send the words to search for."]}}
    assert api.get("/api/search/", {"q": "rope", "chat": chat.pk}, **auth(carol)).status_code == 404
    assert api.get("/api/search/", {"q": "rope"}).status_code == 401
