"""People search: any case in any alphabet, and only the people the server lets you find.

alice and bob chat; carol is the outsider, whom a DIRECTORY=shared server does not show alice.
Run on SQLite and on PostgreSQL (DATABASE_URL): both must find the same people.
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse

from accounts.folding import fold
from accounts.models import User
from conftest import make_person
from conversations import actions
from flowchat.testing import auth

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true", "HX-Target": "people-results"}


@pytest.fixture
def browser(alice) -> Client:
    client = Client()
    client.force_login(alice)
    return client


@pytest.fixture
def ivan(db) -> User:
    return make_person("vanya", "Пётр", "Иванов")


def page_finds(browser: Client, query: str) -> list[str]:
    response = browser.get(reverse("people"), {"q": query})
    assert response.status_code == 200
    return [person.username for person in response.context["people"]]


def api_finds(user: User, query: str) -> list[str]:
    response = Client().get("/api/users/all/", {"q": query}, **auth(user))
    assert response.status_code == 200
    return [person["username"] for person in response.json()]


def test_folding_is_case_free_in_every_alphabet_and_takes_ё_as_е():
    assert fold("ИВАНОВ") == fold("иванов") == "иванов"
    assert fold("Пётр") == fold("ПЕТР") == "петр"
    assert fold("Straße") == fold("STRASSE")
    assert fold("ΣΊΣΥΦΟΣ") == fold("σίσυφος")


@pytest.mark.parametrize("query", ["иванов", "ИВАНОВ", "ИвАнОв", "петр", "пётр", "ПЁТР", "пётр иванов", "Vanya"])
def test_a_cyrillic_name_is_found_in_any_case_and_with_ё_or_е(browser, alice, ivan, query):
    assert page_finds(browser, query) == ["vanya"]
    assert api_finds(alice, query) == ["vanya"]


def test_the_htmx_results_and_the_group_pickers_fold_the_same_way(browser, alice, bob, ivan):
    fragment = browser.get(reverse("people"), {"q": "ИВАН"}, headers=HTMX)
    assert "<html" not in fragment.content.decode() and "@<bdi>vanya</bdi>" in fragment.content.decode()
    picker = browser.get(reverse("create_group"), {"q": "петр"})
    assert [person.username for person in picker.context["candidates"]] == ["vanya"]
    group = actions.create_group(alice, "Climbing", [bob])
    adding = browser.get(reverse("group_settings", args=[group.pk]), {"q": "ИВАНОВ"})
    assert [person.username for person in adding.context["candidates"]] == ["vanya"]


def test_a_word_does_not_match_across_two_fields(browser, ivan):
    # username "vanya" then first name "пётр": "vanyaпетр" is in neither.
    assert page_finds(browser, "aпетр") == []


def test_a_changed_name_is_found_by_its_new_spelling(browser, alice, bob):
    bob.first_name = "Алёна"
    bob.save(update_fields=["first_name"])
    assert page_finds(browser, "алена") == ["bob"]
    assert page_finds(browser, "bob") == ["bob"]


def test_the_migration_fills_the_names_of_people_who_were_there_before(browser, bob, ivan):
    User.objects.update(search_name="")
    fill = __import__("accounts.migrations.0004_search_name", fromlist=["fill_search_names"]).fill_search_names
    fill(apps, None)
    assert page_finds(browser, "иванов") == ["vanya"]
    assert User.objects.get(pk=bob.pk).search_name == "bob\nbob\nbaker"


# Who can be found -----------------------------------------------------------------------------


def test_by_default_everyone_active_can_be_found(browser, alice, bob, carol):
    assert page_finds(browser, "c") == ["carol"]
    assert api_finds(alice, "") == ["alice", "bob", "carol"]


def test_a_shared_directory_shows_only_people_you_share_a_chat_with(settings, browser, alice, bob, carol):
    settings.DIRECTORY = "shared"
    actions.get_or_create_direct_chat(alice, bob)
    actions.create_group(bob, "Bob and carol", [carol])  # carol shares a chat with bob, not with alice

    assert page_finds(browser, "a") == ["bob"]
    fragment = browser.get(reverse("people"), {"q": "caro"}, headers=HTMX).content.decode()
    assert "<html" not in fragment and "@<bdi>carol</bdi>" not in fragment
    assert api_finds(alice, "") == ["alice", "bob"]
    assert api_finds(bob, "") == ["alice", "bob", "carol"]
    assert api_finds(carol, "") == ["bob", "carol"]
    picker = browser.get(reverse("create_group"), {"q": "c", "members": [carol.pk]})
    assert picker.context["candidates"] == [] and picker.context["picked"] == []


def test_a_shared_directory_lets_group_members_find_each_other(settings, browser, alice, bob, carol):
    settings.DIRECTORY = "shared"
    group = actions.create_group(bob, "Climbing", [alice, carol])
    actions.remove_member(group, bob, carol)
    actions.leave_chat(group, bob)

    assert page_finds(browser, "") == []  # an empty search shows nobody, as ever
    assert page_finds(browser, "a") == []  # carol left; bob too
    settings.DIRECTORY = "all"
    assert page_finds(browser, "a") == ["bob", "carol"]


@pytest.mark.parametrize("people", [1, 20])
def test_a_shared_directory_takes_the_same_queries_for_few_and_many(settings, alice, people, django_assert_num_queries):
    settings.DIRECTORY = "shared"
    for number in range(people):
        actions.get_or_create_direct_chat(alice, make_person(f"person{number:02}"))
    headers = auth(alice)
    client = Client()
    client.get("/api/users/me/", **headers)

    with django_assert_num_queries(2):  # the token, the page
        response = client.get("/api/users/all/", **headers)

    assert len(response.json()) == people + 1


def test_a_shared_directory_finds_a_stranger_by_their_whole_username_only(settings, browser, alice, bob, carol):
    settings.DIRECTORY = "shared"

    assert page_finds(browser, "CAROL") == ["carol"]  # told her name: any case
    assert api_finds(alice, "carol") == ["carol"]
    assert page_finds(browser, "caro") == []
    assert page_finds(browser, "cole") == []  # her last name is not her username
    picker = browser.get(reverse("create_group"), {"q": "carol"})
    assert [person.username for person in picker.context["candidates"]] == ["carol"]


def test_a_shared_directory_keeps_strangers_profiles_out_of_the_api(settings, alice, bob, carol):
    settings.DIRECTORY = "shared"
    actions.get_or_create_direct_chat(alice, bob)
    headers = auth(alice)

    assert Client().get(f"/api/users/{bob.pk}/profile/", **headers).status_code == 200
    assert Client().get(f"/api/users/{alice.pk}/profile/", **headers).status_code == 200
    stranger = Client().get(f"/api/users/{carol.pk}/profile/", **headers)
    assert stranger.status_code == 404 and stranger.json() == {"detail": "No such user."}
    settings.DIRECTORY = "all"
    assert Client().get(f"/api/users/{carol.pk}/profile/", **headers).status_code == 200
