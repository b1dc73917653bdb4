"""Finding people, opening direct chats, and the group pages.

alice owns the group and bob is a member; carol is the outsider, who gets a 404 from
every page of it. Data is made through the actions, as the pages make it.
"""

from __future__ import annotations

import io
import re

import pytest
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from PIL import Image

from accounts.models import User
from conftest import make_person
from conversations import actions
from conversations.models import Chat, Membership, Message

PEOPLE_URL = reverse("people")
DIRECT_URL = reverse("start_direct_chat")
NEW_GROUP_URL = reverse("create_group")
HTMX = {"HTTP_HX_REQUEST": "true"}


def htmx(target: str) -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": target}


def page_of(response) -> str:
    return response.content.decode()


def notices(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def found_usernames(response) -> list[str]:
    return re.findall(r'<span class="muted">@<bdi>([^<]+)</bdi></span>', page_of(response))


def lines(chat: Chat) -> list[str]:
    return [message.system_text() for message in chat.messages.with_people() if message.is_system]


def png(size: tuple[int, int] = (40, 30)) -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", size, "#2f5fc4").save(data, "PNG")
    data.seek(0)
    data.name = "photo.png"
    return data


def not_a_picture() -> io.BytesIO:
    data = io.BytesIO(b"just some words, not a picture")
    data.name = "photo.png"
    return data


@pytest.fixture
def as_alice(client, alice) -> Client:
    client.force_login(alice)
    return client


@pytest.fixture
def as_bob(client, bob) -> Client:
    client.force_login(bob)
    return client


def settings_url(chat: Chat) -> str:
    return reverse("group_settings", args=[chat.pk])


# Who may look ------------------------------------------------------------------------------


@pytest.mark.parametrize("url", [PEOPLE_URL, NEW_GROUP_URL])
def test_visitors_are_sent_to_log_in(client, db, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))


# Finding people ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("bo", ["bob"]),  # username
        ("CAROL", ["carol"]),  # first name, any case
        ("baker", ["bob"]),  # last name
        ("a", ["bob", "carol"]),  # in order of username
        ("carol cole", ["carol"]),  # every word must match
        ("carol baker", []),
    ],
)
def test_search_matches_username_first_and_last_name(as_alice, bob, carol, query, expected):
    response = as_alice.get(PEOPLE_URL, {"q": query})

    assert response.status_code == 200
    assert found_usernames(response) == expected


def test_search_leaves_out_yourself_and_inactive_people(as_alice, bob, carol):
    User.objects.filter(pk=carol.pk).update(is_active=False)

    response = as_alice.get(PEOPLE_URL, {"q": "a"})

    assert found_usernames(response) == ["bob"]


def test_an_empty_search_shows_a_hint_and_nobody(as_alice, bob):
    response = as_alice.get(PEOPLE_URL)

    assert found_usernames(response) == []
    assert "Type part of a name or username to find people." in page_of(response)


def test_a_search_without_results_says_so(as_alice, bob):
    response = as_alice.get(PEOPLE_URL, {"q": "nobody"})

    assert found_usernames(response) == []
    assert "No one matches “<bdi>nobody</bdi>”." in page_of(response)


def test_each_result_links_to_the_profile_and_has_a_message_button(as_alice, bob):
    page = page_of(as_alice.get(PEOPLE_URL, {"q": "bob"}))

    assert f'href="{bob.get_absolute_url()}"' in page
    assert "Bob Baker" in page
    assert f'<form method="post" action="{DIRECT_URL}"' in page
    assert f'name="user" value="{bob.pk}"' in page


def test_an_online_person_is_shown_online(as_alice, bob):
    actions.sockets_changed({"bob-tab": bob.pk})

    page = page_of(as_alice.get(PEOPLE_URL, {"q": "bob"}))

    assert f'<span class="presence" data-presence-dot="{bob.pk}"><span class="presence-dot"></span></span>' in page
    assert f'<span data-presence-label="{bob.pk}"><span class="online-label">online</span></span>' in page


def test_names_and_the_search_are_escaped(as_alice):
    make_person("mallory", "<script>alert(1)</script>", "<b>Bold</b>")

    found = page_of(as_alice.get(PEOPLE_URL, {"q": "mallory"}))
    missing = page_of(as_alice.get(PEOPLE_URL, {"q": "<img src=x>"}))

    assert "<script>alert(1)" not in found and "&lt;script&gt;alert(1)&lt;/script&gt;" in found
    assert "<b>Bold</b>" not in found
    assert "<img src=x>" not in missing and "&lt;img src=x&gt;" in missing


@pytest.mark.parametrize("query", ["%", "_", "\\"])
def test_like_wildcards_are_matched_literally(as_alice, bob, carol, query):
    assert found_usernames(as_alice.get(PEOPLE_URL, {"q": query})) == []


def test_a_nul_character_in_the_search_is_no_error(as_alice, bob):
    response = as_alice.get(PEOPLE_URL, {"q": "bo\x00b"})

    assert response.status_code == 200
    assert found_usernames(response) == ["bob"]


def test_results_come_20_a_page_with_a_more_link(as_alice):
    for number in range(25):
        make_person(f"person{number:02}")

    first = as_alice.get(PEOPLE_URL, {"q": "person"})
    second = as_alice.get(PEOPLE_URL, {"q": "person", "page": "2"})

    assert found_usernames(first) == [f"person{number:02}" for number in range(20)]
    assert 'href="/people/?q=person&amp;page=2"' in page_of(first)
    assert found_usernames(second) == [f"person{number:02}" for number in range(20, 25)]
    assert "page=3" not in page_of(second)
    assert 'href="/people/?q=person&amp;page=1"' in page_of(second)


@pytest.mark.parametrize("page", ["0", "-1", "two", "1.5", "²", ""])
def test_a_bad_page_number_shows_the_first_page(as_alice, bob, page):
    response = as_alice.get(PEOPLE_URL, {"q": "bob", "page": page})

    assert response.status_code == 200
    assert found_usernames(response) == ["bob"]


def test_a_page_far_past_the_end_is_empty_not_an_error(as_alice, bob):
    response = as_alice.get(PEOPLE_URL, {"q": "bob", "page": "9" * 30})

    assert response.status_code == 200
    assert found_usernames(response) == []


def test_htmx_search_answers_with_the_results_only(as_alice, bob):
    response = as_alice.get(PEOPLE_URL, {"q": "bob"}, **htmx("people-results"))

    page = page_of(response)
    assert "<html" not in page and '<form method="get"' not in page
    assert found_usernames(response) == ["bob"]
    # The status line is a live region outside the results, updated out of band.
    assert '<p id="people-status" hx-swap-oob="innerHTML">' in page
    assert "HX-Request" in response["Vary"]


def test_htmx_more_answers_with_the_next_rows_only(as_alice):
    for number in range(45):
        make_person(f"person{number:02}")

    response = as_alice.get(PEOPLE_URL, {"q": "person", "page": "2"}, **htmx("people-more-2"))

    page = page_of(response)
    assert page.lstrip().startswith('<li class="person"')
    assert "<ul" not in page and "people-status" not in page
    assert found_usernames(response) == [f"person{number:02}" for number in range(20, 40)]
    assert 'id="people-more-3"' in page


def test_an_htmx_history_restore_gets_the_whole_page(as_alice, bob):
    response = as_alice.get(PEOPLE_URL, {"q": "bob"}, **htmx("people-results"), HTTP_HX_HISTORY_RESTORE_REQUEST="true")

    assert "<html" in page_of(response)


@pytest.mark.parametrize("request_headers", [{}, htmx("people-results")], ids=["page", "htmx"])
def test_search_takes_the_same_queries_for_1_and_30_results(as_alice, django_assert_num_queries, request_headers):
    make_person("match0")
    as_alice.get(PEOPLE_URL)  # the session is read, and so on: only the search is measured below
    # session, user, one page of people
    with django_assert_num_queries(3):
        one = as_alice.get(PEOPLE_URL, {"q": "match"}, **request_headers)
    for number in range(1, 30):
        make_person(f"match{number}")
    with django_assert_num_queries(3):
        many = as_alice.get(PEOPLE_URL, {"q": "match"}, **request_headers)

    assert len(found_usernames(one)) == 1
    assert len(found_usernames(many)) == 20


# Opening a direct chat -----------------------------------------------------------------------


def test_message_opens_the_direct_chat_the_same_from_both_sides(client, alice, bob):
    client.force_login(alice)
    response = client.post(DIRECT_URL, {"user": bob.pk})

    chat = Chat.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{chat.pk}/"
    assert set(chat.members.all()) == {alice, bob}

    client.force_login(bob)
    again = client.post(DIRECT_URL, {"user": alice.pk})

    assert again["Location"] == f"/chats/{chat.pk}/"
    assert Chat.objects.count() == 1


@pytest.mark.parametrize(
    ("who", "message"),
    [
        ("nobody", "That person could not be found."),
        ("letters", "That person could not be found."),
        ("unknown", "That person could not be found."),
        ("inactive", "That person could not be found."),
        ("self", "You cannot start a chat with yourself."),
    ],
)
def test_a_bad_person_is_an_error_message_and_back_to_the_search(as_alice, alice, bob, who, message):
    User.objects.filter(pk=bob.pk).update(is_active=False)
    value = {"nobody": "", "letters": "bob", "unknown": "999999", "inactive": bob.pk, "self": alice.pk}[who]

    response = as_alice.post(DIRECT_URL, {"user": value, "next": "/people/?q=bo"})

    assert response.status_code == 302
    assert response["Location"] == "/people/?q=bo"
    assert notices(response) == [message]
    assert not Chat.objects.exists()


def test_going_back_stays_on_this_site(as_alice):
    response = as_alice.post(DIRECT_URL, {"user": "", "next": "https://evil.example/"})

    assert response["Location"] == PEOPLE_URL


def test_opening_a_chat_needs_a_post(as_alice, bob):
    assert as_alice.get(DIRECT_URL, {"user": bob.pk}).status_code == 405


# Creating a group ----------------------------------------------------------------------------


def test_the_new_group_page_has_title_members_and_photo(as_alice):
    page = page_of(as_alice.get(NEW_GROUP_URL))

    assert '<label for="id_title">' in page
    assert "<legend>Members</legend>" in page
    assert '<label for="member-q">' in page
    assert 'type="file" name="photo"' in page


def test_creating_a_group_makes_the_creator_owner_and_opens_it(as_alice, alice, bob, carol):
    response = as_alice.post(NEW_GROUP_URL, {"title": "  Climbing   club ", "members": [bob.pk, carol.pk]})

    chat = Chat.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/chats/{chat.pk}/"
    assert chat.is_group and chat.title == "Climbing club"
    roles = dict(chat.memberships.values_list("user__username", "role"))
    assert roles == {"alice": "owner", "bob": "member", "carol": "member"}
    assert lines(chat) == [
        "Alice Archer created the group",
        "Alice Archer added Bob Baker",
        "Alice Archer added Carol Cole",
    ]


def test_a_group_can_start_with_only_its_creator_and_a_photo(as_alice, alice):
    response = as_alice.post(NEW_GROUP_URL, {"title": "Notes", "photo": png()})

    chat = Chat.objects.get()
    assert response.status_code == 302
    assert list(chat.members.all()) == [alice]
    assert chat.photo.name.startswith("chat-photos/") and chat.photo.name.endswith(".webp")


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({"title": ""}, "This field is required."),
        ({"title": "   "}, "This field is required."),
        ({"title": "x" * 101}, "Ensure this value has at most 100 characters (it has 101)."),
        ({"title": "Climbing", "photo": "bad"}, "Upload a JPEG, PNG, GIF or WebP picture."),
        ({"title": "Climbing", "members": ["999999"]}, "Select a valid choice. 999999 is not one of the available"),
    ],
)
def test_a_bad_group_is_shown_again_with_errors_and_the_picks_kept(as_alice, bob, carol, fields, error):
    data = {"members": [bob.pk, carol.pk], **fields}
    if data.get("photo") == "bad":
        data["photo"] = not_a_picture()
    if fields.get("members"):
        data["members"] = [bob.pk, *fields["members"]]

    response = as_alice.post(NEW_GROUP_URL, data)

    page = page_of(response)
    assert response.status_code == 400
    assert error in page
    assert not Chat.objects.exists()
    assert f'value="{bob.pk}" id="member-{bob.pk}" checked' in page
    if "members" not in fields:
        assert f'value="{carol.pk}" id="member-{carol.pk}" checked' in page


def test_the_search_keeps_the_title_and_the_picks(as_alice, alice, bob, carol):
    make_person("carla", "Carla", "Cruz")

    response = as_alice.get(NEW_GROUP_URL, {"title": "Climbing", "members": [bob.pk, "junk", alice.pk], "q": "car"})

    page = page_of(response)
    assert response.status_code == 200
    assert 'value="Climbing"' in page
    picked, found = page.split('id="member-q"')
    assert f'value="{bob.pk}" id="member-{bob.pk}" checked' in picked
    assert f'id="member-{alice.pk}"' not in page  # yourself: always a member, never a pick
    assert f'value="{carol.pk}" id="member-{carol.pk}">' in found
    assert "2 people match “<bdi>car</bdi>”" in found


def test_people_already_picked_are_not_found_again(as_alice, bob):
    page = page_of(as_alice.get(NEW_GROUP_URL, {"members": [bob.pk], "q": "bob"}))

    assert page.count(f'id="member-{bob.pk}"') == 1
    assert "No one else matches “<bdi>bob</bdi>”." in page


def test_htmx_search_answers_with_candidates_and_the_picked_list_out_of_band(as_alice, bob, carol):
    response = as_alice.get(NEW_GROUP_URL, {"members": [bob.pk], "q": "carol"}, **htmx("candidates"))

    page = page_of(response)
    assert "<html" not in page and "<fieldset" not in page
    assert f'value="{carol.pk}" id="member-{carol.pk}">' in page
    assert '<div id="picked-members" class="picked" hx-swap-oob="true">' in page
    assert f'value="{bob.pk}" id="member-{bob.pk}" checked' in page
    assert '<p id="candidates-status" hx-swap-oob="innerHTML">' in page


@pytest.mark.parametrize("request_headers", [{}, htmx("candidates")], ids=["page", "htmx"])
def test_the_new_group_page_takes_the_same_queries_for_1_and_30_picks(
    as_alice, django_assert_num_queries, request_headers
):
    people = [make_person(f"climber{number:02}") for number in range(60)]
    as_alice.get(NEW_GROUP_URL)
    # session, user, the picked people, one search
    with django_assert_num_queries(4):
        one = as_alice.get(NEW_GROUP_URL, {"members": [people[0].pk], "q": "climber"}, **request_headers)
    with django_assert_num_queries(4):
        many = as_alice.get(
            NEW_GROUP_URL, {"members": [person.pk for person in people[:30]], "q": "climber"}, **request_headers
        )

    assert page_of(one).count(" checked>") == 1
    assert page_of(many).count(" checked>") == 30
    assert page_of(many).count('name="members"') == 30 + 20


def test_the_search_button_never_puts_the_csrf_token_in_a_url(as_alice):
    page = page_of(as_alice.get(NEW_GROUP_URL))

    form = page[page.index('<form id="group-form"') : page.index("</form>", page.index('<form id="group-form"'))]
    assert 'type="hidden" name="csrfmiddlewaretoken"' not in form
    assert re.search(r'<button type="submit" name="csrfmiddlewaretoken" value="[^"]+">Create group</button>', form)


def test_the_create_button_carries_a_working_csrf_token(alice, bob):
    client = Client(enforce_csrf_checks=True)
    client.force_login(alice)
    page = page_of(client.get(NEW_GROUP_URL))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)">Create group', page).group(1)

    refused = client.post(NEW_GROUP_URL, {"title": "Climbing", "members": [bob.pk]})
    created = client.post(NEW_GROUP_URL, {"title": "Climbing", "members": [bob.pk], "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert created.status_code == 302
    assert Chat.objects.get().title == "Climbing"


# Group settings: who sees what ---------------------------------------------------------------


def test_the_owner_sees_members_with_roles_and_remove_buttons(as_alice, alice, bob, group):
    page = page_of(as_alice.get(settings_url(group)))

    assert "<h1><bdi>Climbing</bdi></h1>" in page
    assert "2 members" in page
    members = page[page.index('id="members"') :]
    assert members.index("Alice Archer") < members.index("Bob Baker")
    assert '<span class="role-badge">Owner</span>' in members
    assert f'action="/chats/{group.pk}/members/{bob.pk}/remove/"' in page
    assert f"/members/{alice.pk}/remove/" not in page  # leaving is a button of its own
    assert 'hx-confirm="Remove \u2068Bob Baker\u2069 from the group?"' in page
    assert f'action="/chats/{group.pk}/rename/"' in page
    assert f'action="/chats/{group.pk}/photo/"' in page
    assert f'action="/chats/{group.pk}/leave/"' in page


def test_a_member_sees_no_remove_buttons(as_bob, group):
    page = page_of(as_bob.get(settings_url(group)))

    assert "/remove/" not in page
    assert f'action="/chats/{group.pk}/rename/"' in page


def test_a_direct_chat_has_no_settings_page(as_alice, alice, bob):
    chat, _ = actions.get_or_create_direct_chat(alice, bob)

    response = as_alice.get(settings_url(chat))

    assert response.status_code == 302
    assert response["Location"] == f"/chats/{chat.pk}/"


GROUP_PAGES = [
    ("get", "group_settings", False),
    ("post", "rename_group", False),
    ("post", "group_photo", False),
    ("post", "add_member", False),
    ("get", "remove_member", True),
    ("post", "remove_member", True),
    ("get", "leave_chat", False),
    ("post", "leave_chat", False),
]


@pytest.mark.parametrize(("method", "name", "with_person"), GROUP_PAGES)
def test_the_outsider_gets_404_from_every_group_page(client, bob, carol, group, method, name, with_person):
    client.force_login(carol)
    args = [group.pk, bob.pk] if with_person else [group.pk]

    response = getattr(client, method)(reverse(name, args=args), {"title": "Mine", "user": carol.pk})

    assert response.status_code == 404
    group.refresh_from_db()
    assert group.title == "Climbing"
    assert set(group.members.values_list("username", flat=True)) == {"alice", "bob"}


@pytest.mark.parametrize(("method", "name", "with_person"), GROUP_PAGES[1:])
def test_group_pages_of_a_direct_chat_are_404(as_alice, alice, bob, method, name, with_person):
    chat, _ = actions.get_or_create_direct_chat(alice, bob)
    args = [chat.pk, bob.pk] if with_person else [chat.pk]

    assert getattr(as_alice, method)(reverse(name, args=args)).status_code == 404


def test_the_settings_page_takes_the_same_queries_for_2_and_20_members(
    as_alice, alice, bob, group, django_assert_num_queries
):
    url = settings_url(group)
    as_alice.get(url)
    # session, user, chat, members, one search, the memberships for my notification level
    with django_assert_num_queries(6):
        few = as_alice.get(url, {"q": "zz"})
    for number in range(18):
        actions.add_member(group, alice, make_person(f"member{number:02}"))
    with django_assert_num_queries(6):
        many = as_alice.get(url, {"q": "zz"})

    assert "2 members" in page_of(few)
    assert "20 members" in page_of(many)


# Renaming and the photo ----------------------------------------------------------------------


@pytest.mark.parametrize("who", ["alice", "bob"])
def test_any_member_can_rename_the_group(client, alice, bob, group, who):
    person = {"alice": alice, "bob": bob}[who]
    client.force_login(person)

    response = client.post(reverse("rename_group", args=[group.pk]), {"title": "Bouldering"})

    assert response.status_code == 302
    assert response["Location"] == settings_url(group)
    assert notices(response) == ["The group is now called “\u2068Bouldering\u2069”."]
    group.refresh_from_db()
    assert group.title == "Bouldering"
    assert lines(group)[-1] == f"{person.display_name} renamed the group to “Bouldering”"


@pytest.mark.parametrize(
    ("title", "error"),
    [("", "This field is required."), ("x" * 101, "Ensure this value has at most 100 characters")],
)
def test_a_bad_title_is_shown_with_its_error(as_alice, group, title, error):
    response = as_alice.post(reverse("rename_group", args=[group.pk]), {"title": title})

    assert response.status_code == 400
    assert error in page_of(response)
    group.refresh_from_db()
    assert group.title == "Climbing"


def test_a_member_can_set_and_remove_the_photo(as_bob, group):
    url = reverse("group_photo", args=[group.pk])

    changed = as_bob.post(url, {"photo": png()})
    group.refresh_from_db()
    assert changed["Location"] == settings_url(group)
    assert notices(changed) == ["The group photo is changed."]
    assert group.photo.name.endswith(".webp")
    assert 'id="id_remove_photo"' in page_of(as_bob.get(settings_url(group)))

    removed = as_bob.post(url, {"remove_photo": "on"})
    group.refresh_from_db()
    assert notices(removed) == ["The group photo is removed."]
    assert not group.photo
    assert lines(group)[-2:] == ["Bob Baker changed the group photo"] * 2


@pytest.mark.parametrize(
    ("fields", "error"),
    [
        ({}, "Choose a photo, or remove the current one."),
        ({"photo": "bad"}, "Upload a JPEG, PNG, GIF or WebP picture."),
        ({"remove_photo": "on"}, "This group has no photo to remove."),
    ],
)
def test_a_bad_photo_change_is_shown_with_its_error(as_alice, group, fields, error):
    if fields.get("photo") == "bad":
        fields = {"photo": not_a_picture()}

    response = as_alice.post(reverse("group_photo", args=[group.pk]), fields)

    assert response.status_code == 400
    assert error in page_of(response)
    assert not group.messages.filter(kind=Message.Kind.PHOTO).exists()


# Members -----------------------------------------------------------------------------------


def test_the_settings_search_finds_people_outside_the_group(as_alice, group, carol):
    make_person("bobby", "Bobby", "Cole")

    page = page_of(as_alice.get(settings_url(group), {"q": "co"}))

    found = page[page.index('id="add-candidates"') :]
    assert found_usernames_in(found) == ["bobby", "carol"]
    assert f'action="/chats/{group.pk}/members/"' in found


def found_usernames_in(html: str) -> list[str]:
    return re.findall(r'<span class="muted">@<bdi>([^<]+)</bdi></span>', html)


def test_htmx_settings_search_answers_with_the_candidates_only(as_alice, group, carol):
    response = as_alice.get(settings_url(group), {"q": "carol"}, **htmx("add-candidates"))

    page = page_of(response)
    assert "<html" not in page and 'id="members"' not in page
    assert found_usernames(response) == ["carol"]


def test_a_member_can_add_people(as_bob, group, carol):
    response = as_bob.post(reverse("add_member", args=[group.pk]), {"user": carol.pk})

    assert response.status_code == 302
    assert response["Location"] == settings_url(group) + "#members"
    assert notices(response) == ["\u2068Carol Cole\u2069 is added to the group."]
    assert group.memberships.get(user=carol).role == Membership.Role.MEMBER
    assert lines(group)[-1] == "Bob Baker added Carol Cole"


@pytest.mark.parametrize(
    ("who", "message"),
    [("member", "Bob Baker is already a member."), ("unknown", "That person could not be found.")],
)
def test_adding_a_member_or_nobody_is_an_error_message(as_alice, bob, group, who, message):
    response = as_alice.post(reverse("add_member", args=[group.pk]), {"user": bob.pk if who == "member" else "x"})

    assert response.status_code == 302
    assert notices(response) == [message]
    assert group.memberships.count() == 2


def test_htmx_add_swaps_the_member_list_with_the_notice(as_alice, group, carol):
    response = as_alice.post(reverse("add_member", args=[group.pk]), {"user": carol.pk, "q": "carol"}, **HTMX)

    page = page_of(response)
    assert response.status_code == 200
    assert page.lstrip().startswith('<section class="card" id="members"')
    assert "3 members" in page
    assert "\u2068Carol Cole\u2069 is added to the group." in page
    assert "No one outside the group matches “<bdi>carol</bdi>”." in page


def test_the_owner_removes_a_member(as_alice, group, bob):
    response = as_alice.post(reverse("remove_member", args=[group.pk, bob.pk]))

    assert response.status_code == 302
    assert response["Location"] == settings_url(group) + "#members"
    assert notices(response) == ["\u2068Bob Baker\u2069 is removed from the group."]
    assert not group.memberships.filter(user=bob).exists()
    assert lines(group)[-1] == "Alice Archer removed Bob Baker"


def test_htmx_remove_swaps_the_member_list(as_alice, group, bob):
    response = as_alice.post(reverse("remove_member", args=[group.pk, bob.pk]), **HTMX)

    page = page_of(response)
    assert "1 member" in page
    assert f'id="member-{bob.pk}"' not in page
    assert "\u2068Bob Baker\u2069 is removed from the group." in page


def test_a_member_who_is_not_the_owner_cannot_remove_anyone(client, alice, bob, carol, group):
    actions.add_member(group, alice, carol)
    client.force_login(bob)
    url = reverse("remove_member", args=[group.pk, carol.pk])

    assert client.get(url).status_code == 403
    assert client.post(url).status_code == 403
    assert group.memberships.filter(user=carol).exists()


@pytest.mark.parametrize(
    ("who", "message"),
    [("self", "To leave the group, use Leave."), ("outsider", "Carol Cole is not a member.")],
)
def test_removing_yourself_or_a_non_member_is_an_error_message(as_alice, alice, carol, group, who, message):
    person = alice if who == "self" else carol

    response = as_alice.post(reverse("remove_member", args=[group.pk, person.pk]))

    assert response.status_code == 302
    assert notices(response) == [message]
    assert group.memberships.count() == 2


def test_removing_an_unknown_person_is_an_error_message(as_alice, group):
    response = as_alice.post(reverse("remove_member", args=[group.pk, 999999]))

    assert notices(response) == ["That person could not be found."]


def test_without_javascript_removing_asks_first(as_alice, group, bob):
    response = as_alice.get(reverse("remove_member", args=[group.pk, bob.pk]))

    page = page_of(response)
    assert response.status_code == 200
    assert "Remove <bdi>Bob Baker</bdi> from “<bdi>Climbing</bdi>”?" in page
    assert f'<form method="post" action="/chats/{group.pk}/members/{bob.pk}/remove/"' in page
    assert group.memberships.filter(user=bob).exists()


def test_the_remove_question_is_404_for_someone_not_in_the_group(as_alice, group, carol):
    assert as_alice.get(reverse("remove_member", args=[group.pk, carol.pk])).status_code == 404


def test_asking_to_remove_yourself_leads_to_leaving(as_alice, alice, group):
    response = as_alice.get(reverse("remove_member", args=[group.pk, alice.pk]))

    assert response["Location"] == reverse("leave_chat", args=[group.pk])


# Leaving -------------------------------------------------------------------------------------


def test_without_javascript_leaving_asks_first(as_bob, group, bob):
    page = page_of(as_bob.get(reverse("leave_chat", args=[group.pk])))

    assert "Leave “<bdi>Climbing</bdi>”?" in page
    assert "A member can add you back." in page
    assert group.memberships.filter(user=bob).exists()


def test_a_member_leaves_and_goes_home(as_bob, bob, group):
    response = as_bob.post(reverse("leave_chat", args=[group.pk]))

    assert response.status_code == 302
    assert response["Location"] == reverse("home")
    assert notices(response) == ["You left “\u2068Climbing\u2069”."]
    assert not group.memberships.filter(user=bob).exists()
    assert lines(group)[-1] == "Bob Baker left"
    assert as_bob.get(settings_url(group)).status_code == 404


def test_when_the_owner_leaves_the_longest_standing_member_owns_the_group(as_alice, alice, bob, carol, group):
    actions.add_member(group, bob, carol)
    assert "if you leave, the longest-standing member becomes the owner" in page_of(
        as_alice.get(reverse("leave_chat", args=[group.pk]))
    )

    as_alice.post(reverse("leave_chat", args=[group.pk]))

    assert dict(group.memberships.values_list("user__username", "role")) == {"bob": "owner", "carol": "member"}
    assert lines(group)[-2:] == ["Alice Archer left", "Bob Baker is now the owner"]


def test_the_last_one_out_deletes_the_group(as_alice, alice):
    group = actions.create_group(alice, "Solo")
    assert "leaving deletes the group" in page_of(as_alice.get(reverse("leave_chat", args=[group.pk])))

    as_alice.post(reverse("leave_chat", args=[group.pk]))

    assert not Chat.objects.filter(pk=group.pk).exists()


def test_htmx_leaving_redirects_the_whole_page_home(as_bob, group):
    response = as_bob.post(reverse("leave_chat", args=[group.pk]), **HTMX)

    assert response.status_code == 200
    assert response["HX-Redirect"] == reverse("home")
