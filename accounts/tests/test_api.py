"""The people part of the JSON API (DESIGN.md section 4).

Every answer here also goes through SchemaCheckingClient, so it must match the
OpenAPI document too. alice is the one calling; carol is the outsider.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.test import Client
from django.utils import timezone
from PIL import Image

from accounts.models import ApiToken, User
from conftest import PASSWORD, make_person
from conversations import actions
from flowchat.testing import SchemaCheckingClient, auth, multipart, picture, token_for, upload

JSON = "application/json"
NOT_AUTHENTICATED = {"detail": "Authentication credentials were not provided or are not valid."}
INVALID = "Some fields are not valid."


# Rate limits counted by earlier tests must not refuse this one's logins and sign-ups.
pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


def user_json(user: User, **changes: Any) -> dict[str, Any]:
    user.refresh_from_db()
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "bio": user.bio,
        "avatar": user.avatar_url,
        "is_online": user.is_online,
        "last_active": None,
        **changes,
    }


def own_json(user: User, **changes: Any) -> dict[str, Any]:
    """The User as its owner reads it: with their notification setting."""
    return {**user_json(user, **changes), "push_previews": user.push_previews}


def stored_avatars() -> list[str]:
    return default_storage.listdir("avatars")[1] if default_storage.exists("avatars") else []


# Registration ----------------------------------------------------------------------


def test_registering_creates_a_person_and_answers_with_them(api, db):
    response = api.post("/api/users/", {"username": "dave", "password": PASSWORD}, content_type=JSON)

    dave = User.objects.get(username="dave")
    assert response.status_code == 201
    assert response.json() == {
        "id": dave.pk,
        "username": "dave",
        "first_name": "",
        "last_name": "",
        "bio": None,  # as the original API: nothing written yet
        "avatar": f"/people/{dave.pk}/initials.svg",
        "is_online": False,
        "last_active": None,
    }
    assert dave.check_password(PASSWORD)
    assert dave.is_active and not dave.is_staff


def test_registering_needs_no_token_and_no_csrf_token(db):
    strict = SchemaCheckingClient(enforce_csrf_checks=True)

    response = strict.post("/api/users/", {"username": "dave", "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 201


def test_a_new_person_can_log_in(api, db):
    api.post("/api/users/", {"username": "dave", "password": PASSWORD}, content_type=JSON)

    response = api.post("/api/login/", {"username": "dave", "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 200


def test_a_username_taken_in_any_case_is_refused(api, alice):
    response = api.post("/api/users/", {"username": "ALICE", "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"username": ["A user with that username already exists."]}}
    assert User.objects.count() == 1


def test_two_sign_ups_racing_for_one_name_leave_one_person(api, alice, monkeypatch):
    # The check passed for both; the database's case-insensitive unique index decides.
    monkeypatch.setattr("allauth.account.adapter.DefaultAccountAdapter.clean_username", lambda self, name: name)

    response = api.post("/api/users/", {"username": "Alice", "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"username": ["A user with that username already exists."]}}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("username", "message"),
    [
        ("d", "Ensure this value has at least 2 characters (it has 1)."),
        (
            "dave smith",
            "Enter a valid username. This value may contain only letters, numbers, and @/./+/-/_ characters.",
        ),
        ("d" * 151, "Ensure this value has at most 150 characters (it has 151)."),
        ("da\x00ve", "Null characters are not allowed."),
    ],
)
def test_a_username_the_signup_page_would_refuse_is_refused(api, db, username, message):
    response = api.post("/api/users/", {"username": username, "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"username": [message]}}
    assert not User.objects.exists()


def test_a_weak_password_is_refused(api, db):
    response = api.post("/api/users/", {"username": "dave", "password": "1234"}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {
            "password": [
                "This password is too short. It must contain at least 8 characters.",
                "This password is too common.",
                "This password is entirely numeric.",
            ]
        },
    }
    assert not User.objects.exists()


def test_a_password_like_the_username_is_refused(api, db):
    response = api.post("/api/users/", {"username": "davidovich", "password": "davidovich1"}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {"password": ["The password is too similar to the username."]},
    }


def test_registration_needs_both_fields(api, db):
    response = api.post("/api/users/", {}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {"username": ["This field is required."], "password": ["This field is required."]},
    }


def test_registration_refuses_other_fields_and_non_strings(api, db):
    response = api.post("/api/users/", {"username": 42, "password": PASSWORD, "is_staff": True}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {"username": ["Must be a string."], "is_staff": ["This field is not accepted here."]},
    }
    assert not User.objects.exists()


# Login and logout ------------------------------------------------------------------


def test_logging_in_gives_a_new_working_token(api, alice):
    response = api.post(
        "/api/login/",
        {"username": "alice", "password": PASSWORD},
        content_type=JSON,
        HTTP_USER_AGENT="alice-bot/1.0",
    )

    body = response.json()
    assert response.status_code == 200
    assert body == {"id": alice.pk, "username": "alice", "token": body["token"], "detail": "Login successful"}
    assert response["Cache-Control"] == "no-store"
    token = ApiToken.objects.get(user=alice)
    assert token.name == "alice-bot/1.0"
    assert body["token"] not in token.key_hash
    assert api.get("/api/users/me/", **auth(body["token"])).json()["id"] == alice.pk
    alice.refresh_from_db()
    assert alice.last_login is not None


def test_each_login_issues_its_own_token(api, alice):
    keys = [
        api.post("/api/login/", {"username": "alice", "password": PASSWORD}, content_type=JSON).json()["token"]
        for _ in range(2)
    ]

    assert keys[0] != keys[1]
    assert ApiToken.objects.filter(user=alice).count() == 2
    assert ApiToken.objects.get(user=alice, pk=ApiToken.objects.order_by("pk").first().pk).name == "API client"
    for key in keys:
        assert api.get("/api/users/me/", **auth(key)).status_code == 200


def test_usernames_are_not_case_sensitive_at_login(api, alice):
    response = api.post("/api/login/", {"username": "ALICE", "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 200
    assert response.json()["username"] == "alice"


@pytest.mark.parametrize(
    "credentials",
    [
        {"username": "alice", "password": "not-her-password"},
        {"username": "nobody", "password": PASSWORD},
        {"username": "alice@example.com", "password": PASSWORD},
    ],
)
def test_wrong_credentials_get_401_and_no_token(api, alice, credentials):
    response = api.post("/api/login/", credentials, content_type=JSON)

    assert response.status_code == 401
    assert response.json() == {"detail": "Unable to log in with these credentials."}
    assert response["WWW-Authenticate"] == "Token"
    assert not ApiToken.objects.exists()


def test_a_deactivated_person_cannot_log_in(api, alice):
    User.objects.filter(pk=alice.pk).update(is_active=False)

    response = api.post("/api/login/", {"username": "alice", "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 401
    assert not ApiToken.objects.exists()


def test_a_nul_character_in_a_login_is_a_400_not_a_database_error(api, alice):
    response = api.post("/api/login/", {"username": "ali\x00ce", "password": PASSWORD}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"username": ["Null characters are not allowed."]}}


def test_login_needs_both_fields(api, alice):
    response = api.post("/api/login/", {"username": "alice"}, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"password": ["This field is required."]}}


def test_logging_out_revokes_only_the_token_used(api, alice):
    used, other = token_for(alice), token_for(alice)

    response = api.post("/api/logout/", **auth(used))

    assert response.status_code == 200
    assert response.json() == {"detail": "Logged out successfully"}
    assert api.get("/api/users/me/", **auth(used)).status_code == 401
    assert api.post("/api/logout/", **auth(used)).status_code == 401
    assert api.get("/api/users/me/", **auth(other)).status_code == 200


def test_logging_out_works_without_a_csrf_token(alice):
    strict = SchemaCheckingClient(enforce_csrf_checks=True)

    response = strict.post("/api/logout/", **auth(alice))

    assert response.status_code == 200


# Tokens ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "header",
    [None, "", "Token", "Token ", "Token not-a-real-key", "Bearer {key}", "Basic YWxpY2U6cHc=", "Token {key} extra"],
)
def test_calls_without_a_valid_token_get_401(api, alice, header):
    key = token_for(alice)
    extra = {} if header is None else {"HTTP_AUTHORIZATION": header.format(key=key)}

    response = api.get("/api/users/me/", **extra)

    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED
    assert response["WWW-Authenticate"] == "Token"


def test_the_token_scheme_is_case_insensitive(api, alice):
    response = api.get("/api/users/me/", HTTP_AUTHORIZATION=f"token {token_for(alice)}")

    assert response.status_code == 200


def test_a_browser_session_is_not_an_api_login(api, alice):
    api.force_login(alice)

    response = api.get("/api/users/me/")

    assert response.status_code == 401
    assert response.json() == NOT_AUTHENTICATED


def test_the_token_decides_who_you_are_even_with_someone_elses_session(api, alice, bob):
    api.force_login(bob)

    response = api.get("/api/users/me/", **auth(alice))

    assert response.json()["username"] == "alice"


def test_a_deactivated_persons_token_stops_working(api, alice):
    headers = auth(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert api.get("/api/users/me/", **headers).status_code == 401


def test_token_use_is_recorded_at_most_once_a_minute(api, alice, django_assert_num_queries):
    headers = auth(alice)
    token = ApiToken.objects.get()

    api.get("/api/users/me/", **headers)
    token.refresh_from_db()
    first_use = token.last_used_at
    with django_assert_num_queries(1):
        api.get("/api/users/me/", **headers)
    token.refresh_from_db()
    assert first_use is not None and token.last_used_at == first_use

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=timezone.now() - timedelta(seconds=61))
    api.get("/api/users/me/", **headers)
    token.refresh_from_db()
    assert token.last_used_at > first_use


# Reading profiles ------------------------------------------------------------------


def test_me_is_the_tokens_owner(api, alice):
    response = api.get("/api/users/me/", **auth(alice))

    assert response.status_code == 200
    assert response.json() == {
        "id": alice.pk,
        "username": "alice",
        "first_name": "Alice",
        "last_name": "Archer",
        "bio": None,
        "avatar": f"/people/{alice.pk}/initials.svg",
        "is_online": False,
        "last_active": None,
        "push_previews": True,
    }


def test_last_active_is_iso_8601_utc(api, alice):
    seen = timezone.now().replace(microsecond=123456) - timedelta(seconds=30)
    User.objects.filter(pk=alice.pk).update(last_active=seen)

    body = api.get("/api/users/me/", **auth(alice)).json()

    assert body["last_active"] == seen.strftime("%Y-%m-%dT%H:%M:%S.123456Z")
    assert body["is_online"] is False


def test_is_online_while_a_socket_is_open(api, alice):
    actions.sockets_changed({"alice-script": alice.pk})

    assert api.get("/api/users/me/", **auth(alice)).json()["is_online"] is True


def test_anyone_with_a_token_can_read_a_profile(api, alice, bob):
    User.objects.filter(pk=bob.pk).update(bio="Builds things")

    response = api.get(f"/api/users/{bob.pk}/profile/", **auth(alice))

    assert response.status_code == 200
    assert response.json() == user_json(bob, bio="Builds things")


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_an_unknown_profile_is_404(api, alice, pk):
    response = api.get(f"/api/users/{pk}/profile/", **auth(alice))

    assert response.status_code == 404
    assert response.json() == {"detail": "No such user."}


def test_a_deactivated_persons_profile_is_404(api, alice, bob):
    User.objects.filter(pk=bob.pk).update(is_active=False)

    response = api.get(f"/api/users/{bob.pk}/profile/", **auth(alice))

    assert response.status_code == 404


# The directory ---------------------------------------------------------------------


def test_the_directory_lists_active_people_by_username(api, alice, bob, carol):
    User.objects.filter(pk=carol.pk).update(is_active=False)
    zed = make_person("Zed")
    adam = make_person("adam")

    response = api.get("/api/users/all/", **auth(alice))

    assert response.status_code == 200
    assert response.json() == [
        {"id": person.pk, "username": person.username, "avatar": f"/people/{person.pk}/initials.svg"}
        for person in (adam, alice, bob, zed)
    ]
    assert not response.has_header("Link")


@pytest.mark.parametrize(
    ("query", "expected"),
    [("ali", ["alice"]), ("BAKER", ["bob"]), ("alice archer", ["alice"]), ("c", ["alice", "carol"]), ("zz", [])],
)
def test_the_directory_searches_usernames_and_names(api, alice, bob, carol, query, expected):
    response = api.get("/api/users/all/", {"q": query}, **auth(alice))

    assert [person["username"] for person in response.json()] == expected


def test_the_directory_pages_with_a_link_to_the_next_page(api, alice, bob, carol):
    headers = auth(alice)

    first = api.get("/api/users/all/", {"limit": 2}, **headers)
    assert [person["username"] for person in first.json()] == ["alice", "bob"]
    assert first["Link"] == '<http://testserver/api/users/all/?limit=2&offset=2>; rel="next"'

    second = api.get("/api/users/all/?limit=2&offset=2", **headers)
    assert [person["username"] for person in second.json()] == ["carol"]
    assert not second.has_header("Link")


def test_the_next_page_link_keeps_the_search(api, alice, bob, carol):
    response = api.get("/api/users/all/", {"q": "c", "limit": 1}, **auth(alice))

    assert response["Link"] == '<http://testserver/api/users/all/?q=c&limit=1&offset=1>; rel="next"'


def test_the_directory_pages_default_to_50(api, alice):
    for number in range(55):
        make_person(f"person{number:02}")

    response = api.get("/api/users/all/", **auth(alice))

    assert len(response.json()) == 50
    assert response["Link"] == '<http://testserver/api/users/all/?limit=50&offset=50>; rel="next"'


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"limit": "0"}, "limit", "Must be a whole number from 1 to 200."),
        ({"limit": "201"}, "limit", "Must be a whole number from 1 to 200."),
        ({"limit": "ten"}, "limit", "Must be a whole number from 1 to 200."),
        ({"limit": "-1"}, "limit", "Must be a whole number from 1 to 200."),
        ({"limit": "1.5"}, "limit", "Must be a whole number from 1 to 200."),
        ({"offset": "-1"}, "offset", "Must be a whole number from 0 to 1000000000."),
        ({"offset": "9" * 30}, "offset", "Must be a whole number from 0 to 1000000000."),
        ({"q": "a\x00"}, "q", "Must be at most 200 characters, without NUL characters."),
        ({"q": "a" * 201}, "q", "Must be at most 200 characters, without NUL characters."),
    ],
)
def test_bad_paging_or_search_is_400(api, alice, params, field, message):
    response = api.get("/api/users/all/", params, **auth(alice))

    assert response.status_code == 400
    assert response.json() == {"detail": "Some query parameters are not valid.", "errors": {field: [message]}}


@pytest.mark.parametrize("people", [1, 30])
def test_the_directory_takes_the_same_queries_for_few_and_many(api, alice, people, django_assert_num_queries):
    for number in range(people - 1):
        make_person(f"person{number:02}")
    headers = auth(alice)
    api.get("/api/users/me/", **headers)  # records the token's first use

    with django_assert_num_queries(2):  # the token, the page
        response = api.get("/api/users/all/", **headers)

    assert len(response.json()) == people


# Changing a profile ----------------------------------------------------------------


def test_patch_changes_only_the_fields_sent(api, alice):
    User.objects.filter(pk=alice.pk).update(bio="Old bio")

    response = api.patch(f"/api/users/{alice.pk}/", {"first_name": "Ally"}, content_type=JSON, **auth(alice))

    assert response.status_code == 200
    assert response.json() == own_json(alice, first_name="Ally", last_name="Archer", bio="Old bio")
    assert (alice.first_name, alice.last_name, alice.bio) == ("Ally", "Archer", "Old bio")


def test_put_changes_the_fields_it_names_and_no_others(api, alice):
    User.objects.filter(pk=alice.pk).update(bio="Old bio")

    response = api.put(f"/api/users/{alice.pk}/", {"bio": "New bio"}, content_type=JSON, **auth(alice))

    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name, alice.bio) == ("Alice", "Archer", "New bio")
    assert response.json() == own_json(alice)


def test_put_of_the_whole_user_as_the_original_api_sends_it_succeeds(api, alice):
    whole = api.get("/api/users/me/", **auth(alice)).json()

    response = api.put(
        f"/api/users/{alice.pk}/", {**whole, "bio": "Climbs on Sundays"}, content_type=JSON, **auth(alice)
    )

    assert response.status_code == 200
    assert response.json() == {**whole, "bio": "Climbs on Sundays", "last_active": response.json()["last_active"]}


def test_put_with_a_changed_username_is_refused_and_changes_nothing(api, alice):
    whole = api.get("/api/users/me/", **auth(alice)).json()

    response = api.put(
        f"/api/users/{alice.pk}/", {**whole, "username": "mallory", "bio": "x"}, content_type=JSON, **auth(alice)
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {"username": ["This field cannot be changed here."]}
    alice.refresh_from_db()
    assert (alice.username, alice.bio) == ("alice", None)


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("multipart/form-data; boundary=BoUnDaRy", b"first_name=&last_name=&bio="),  # a form body, not multipart
        ("multipart/form-data", b"--x\r\nContent-Disposition: form-data; name=bio\r\n\r\n\r\n--x--\r\n"),  # no boundary
    ],
)
def test_a_malformed_multipart_put_is_a_400_and_changes_nothing(api, alice, content_type, body):
    response = api.generic("PUT", f"/api/users/{alice.pk}/", body, content_type=content_type, **auth(alice))

    assert response.status_code == 400
    assert response.json()["detail"] in ("The body is not valid multipart/form-data.", "The request could not be read.")
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name, alice.bio) == ("Alice", "Archer", None)


@pytest.mark.parametrize("method", ["patch", "put"])
def test_a_password_is_never_taken_by_the_profile_endpoint(api, alice, method):
    response = getattr(api, method)(
        f"/api/users/{alice.pk}/", {"password": "new-secret-12345", "bio": "x"}, content_type=JSON, **auth(alice)
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {"password": ["Passwords are not changed through this endpoint: use the password change page."]},
    }
    assert b"new-secret-12345" not in response.content
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)
    assert alice.bio is None


@pytest.mark.parametrize(
    "field", [("username", "mallory"), ("id", 99), ("is_staff", True), ("is_superuser", True), ("email", "a@b.c")]
)
def test_read_only_and_unknown_fields_are_refused(api, alice, field):
    name, value = field

    response = api.patch(f"/api/users/{alice.pk}/", {name: value, "bio": "x"}, content_type=JSON, **auth(alice))

    assert response.status_code == 400
    said = "This field cannot be changed here." if name in ("username", "id") else "This field is not accepted here."
    assert response.json() == {"detail": INVALID, "errors": {name: [said]}}
    refreshed = User.objects.get(pk=alice.pk)
    assert (refreshed.username, refreshed.is_staff, refreshed.is_superuser, refreshed.bio) == (
        "alice",
        False,
        False,
        None,
    )


def test_outsider_cannot_edit_alice(api, alice, carol):
    response = api.patch(f"/api/users/{alice.pk}/", {"bio": "pwned"}, content_type=JSON, **auth(carol))

    assert response.status_code == 403
    assert response.json() == {"detail": "You can only change your own profile."}
    alice.refresh_from_db()
    assert alice.bio is None


def test_outsider_cannot_upload_alices_avatar(api, alice, carol):
    response = api.put(f"/api/users/{alice.pk}/", **multipart({"avatar": picture()}), **auth(carol))

    assert response.status_code == 403
    assert stored_avatars() == []


@pytest.mark.parametrize("pk", ["999999", "99999999999999999999999"])
def test_changing_an_unknown_person_is_404(api, alice, pk):
    response = api.patch(f"/api/users/{pk}/", {"bio": "x"}, content_type=JSON, **auth(alice))

    assert response.status_code == 404
    assert response.json() == {"detail": "No such user."}


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        ({"bio": "x" * 501}, {"bio": ["Ensure this value has at most 500 characters (it has 501)."]}),
        ({"first_name": "x" * 151}, {"first_name": ["Ensure this value has at most 150 characters (it has 151)."]}),
        ({"bio": None}, {"bio": ["Must be a string."]}),
        ({"last_name": ["Archer"]}, {"last_name": ["Must be a string."]}),
        ({"bio": "nul\x00"}, {"bio": ["Null characters are not allowed."]}),
    ],
)
def test_invalid_profile_changes_are_refused_and_nothing_changes(api, alice, changes, errors):
    response = api.patch(f"/api/users/{alice.pk}/", {"first_name": "Ally", **changes}, content_type=JSON, **auth(alice))

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": errors}
    alice.refresh_from_db()
    assert alice.first_name == "Alice"


# Avatars -----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["patch", "put"])
def test_an_avatar_is_uploaded_as_multipart(api, alice, method):
    response = getattr(api, method)(
        f"/api/users/{alice.pk}/", **multipart({"avatar": picture(), "bio": "With a face"}), **auth(alice)
    )

    assert response.status_code == 200
    alice.refresh_from_db()
    assert response.json() == own_json(alice)
    assert response.json()["avatar"].startswith("/media/avatars/")
    assert alice.bio == "With a face"
    with default_storage.open(alice.avatar.name) as stored, Image.open(stored) as image:
        assert (image.format, image.size) == ("WEBP", (256, 256))


def test_patching_only_an_avatar_keeps_the_other_fields(api, alice):
    response = api.patch(f"/api/users/{alice.pk}/", **multipart({"avatar": picture()}), **auth(alice))

    assert response.status_code == 200
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name) == ("Alice", "Archer")


def test_a_new_avatar_replaces_the_old_file(api, alice, django_capture_on_commit_callbacks):
    headers = auth(alice)
    api.patch(f"/api/users/{alice.pk}/", **multipart({"avatar": picture()}), **headers)

    with django_capture_on_commit_callbacks(execute=True):
        api.patch(f"/api/users/{alice.pk}/", **multipart({"avatar": picture("JPEG", name="b.jpg")}), **headers)

    alice.refresh_from_db()
    assert stored_avatars() == [alice.avatar.name.removeprefix("avatars/")]


def test_a_json_null_avatar_removes_it(api, alice, django_capture_on_commit_callbacks):
    headers = auth(alice)
    api.patch(f"/api/users/{alice.pk}/", **multipart({"avatar": picture()}), **headers)

    with django_capture_on_commit_callbacks(execute=True):
        response = api.patch(f"/api/users/{alice.pk}/", {"avatar": None}, content_type=JSON, **headers)

    assert response.status_code == 200
    assert response.json()["avatar"] == f"/people/{alice.pk}/initials.svg"
    assert stored_avatars() == []


def test_an_avatar_cannot_be_sent_as_json_text(api, alice):
    response = api.patch(
        f"/api/users/{alice.pk}/", {"avatar": "https://example.com/me.png"}, content_type=JSON, **auth(alice)
    )

    assert response.status_code == 400
    assert response.json() == {
        "detail": INVALID,
        "errors": {"avatar": ["Send null to remove the avatar; upload a new one as multipart/form-data."]},
    }


def _png_bytes() -> bytes:
    return picture().getvalue()


NOT_A_PICTURE = "Upload a JPEG, PNG, GIF or WebP picture. This file is not one, or it is damaged."


@pytest.mark.parametrize(
    "avatar",
    [
        upload("notes.png", b"just some text, not a picture"),
        upload("cut.png", _png_bytes()[:-30]),
        upload("face.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'),
        upload("empty.png", b""),
    ],
    ids=["text", "truncated", "svg", "empty"],
)
def test_a_file_that_is_not_a_picture_is_refused_and_nothing_stored(api, alice, avatar):
    response = api.patch(f"/api/users/{alice.pk}/", **multipart({"avatar": avatar, "bio": "x"}), **auth(alice))

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"avatar"}
    alice.refresh_from_db()
    assert (alice.avatar.name, alice.bio) == ("", None)
    assert stored_avatars() == []


def test_a_non_picture_gets_the_profile_forms_message(api, alice):
    response = api.patch(f"/api/users/{alice.pk}/", **multipart({"avatar": upload("a.png", b"nope")}), **auth(alice))

    assert response.json() == {"detail": INVALID, "errors": {"avatar": [NOT_A_PICTURE]}}


def test_an_oversized_file_is_refused(api, alice, settings):
    settings.UPLOAD_MAX_BYTES = 100

    response = api.patch(f"/api/users/{alice.pk}/", **multipart({"avatar": picture(size=(64, 64))}), **auth(alice))

    assert response.status_code == 400
    assert "too large" in response.json()["errors"]["avatar"][0]
    assert stored_avatars() == []


def test_an_upload_far_over_the_limit_is_refused_before_it_is_read(api, alice, settings):
    settings.UPLOAD_MAX_BYTES = 1000
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api.put(
        f"/api/users/{alice.pk}/", **multipart({"avatar": upload("big.png", b"x" * 3000)}), **auth(alice)
    )

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}
    assert stored_avatars() == []


def test_a_pixel_bomb_is_refused(api, alice, settings):
    settings.UPLOAD_MAX_PIXELS = 10_000
    bomb = picture(size=(1000, 1000))

    response = api.patch(f"/api/users/{alice.pk}/", **multipart({"avatar": bomb}), **auth(alice))

    assert response.status_code == 400
    assert set(response.json()["errors"]) == {"avatar"}
    assert stored_avatars() == []


def test_multipart_refuses_a_password_text_avatar_and_other_files(api, alice):
    response = api.patch(
        f"/api/users/{alice.pk}/",
        **multipart({"password": "new-secret-12345", "avatar": "not a file", "cv": upload("cv.pdf", b"%PDF")}),
        **auth(alice),
    )

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "password": ["Passwords are not changed through this endpoint: use the password change page."],
        "avatar": ["Must be a file."],
    }
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_multipart_refuses_unexpected_files(api, alice):
    response = api.patch(f"/api/users/{alice.pk}/", **multipart({"cv": upload("cv.pdf", b"%PDF")}), **auth(alice))

    assert response.status_code == 400
    assert response.json() == {"detail": INVALID, "errors": {"cv": ["This file is not accepted here."]}}


def test_a_broken_multipart_body_is_400(api, alice):
    response = api.patch(
        f"/api/users/{alice.pk}/",
        data=b"--nope\r\ngarbage",
        content_type="multipart/form-data",  # no boundary
        **auth(alice),
    )

    assert response.status_code == 400
    assert response.json() == {"detail": "The request could not be read."}


# Robustness ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b"{not json", "The body is not valid JSON."),
        (b'{"username": NaN}', "The body is not valid JSON."),
        (b"\xff\xfe{}", "The body is not valid JSON."),
        (b"[" * 100_000 + b"]" * 100_000, "The body is not valid JSON."),
        (b'["alice", "pw"]', "The body must be a JSON object."),
        (b'"alice"', "The body must be a JSON object."),
        (b"null", "The body must be a JSON object."),
    ],
    ids=["broken", "nan", "not-utf8", "deep", "array", "string", "null"],
)
def test_a_body_that_is_not_a_json_object_is_400(api, db, body, detail):
    response = api.post("/api/login/", data=body, content_type=JSON)

    assert response.status_code == 400
    assert response.json() == {"detail": detail}


def test_an_empty_json_body_is_400(api, db):
    response = api.post("/api/login/", data=b"", content_type=JSON, CONTENT_TYPE=JSON)

    assert response.status_code == 400
    assert response.json() == {"detail": "The body is not valid JSON."}


@pytest.mark.parametrize("content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml", ""])
def test_a_json_endpoint_refuses_other_content_types_with_415(api, db, content_type):
    response = api.post("/api/login/", data=b'{"username": "a", "password": "b"}', content_type=content_type)

    assert response.status_code == 415
    assert response.json() == {"detail": "Send the body as application/json."}


def test_json_with_a_charset_is_fine(api, alice):
    response = api.post(
        "/api/login/",
        data=b'{"username": "alice", "password": "%s"}' % PASSWORD.encode(),
        content_type="application/json; charset=utf-8",
    )

    assert response.status_code == 200


def test_the_profile_endpoint_names_both_content_types_it_reads(api, alice):
    response = api.patch(f"/api/users/{alice.pk}/", data=b"bio=x", content_type="text/plain", **auth(alice))

    assert response.status_code == 415
    assert response.json() == {"detail": "Send the body as application/json or multipart/form-data."}


def test_a_too_large_body_is_413(api, db, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000

    response = api.post("/api/users/", {"username": "dave", "password": "x" * 2000}, content_type=JSON)

    assert response.status_code == 413
    assert response.json() == {"detail": "The request body is too large."}


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("get", "/api/users/", "POST"),
        ("delete", "/api/users/me/", "GET"),
        ("get", "/api/logout/", "POST"),
        ("post", "/api/users/1/", "PATCH, PUT"),
        ("put", "/api/schema/", "GET"),
    ],
)
def test_a_wrong_method_is_405_with_allow(api, alice, method, path, allow):
    response = getattr(api, method)(path, **auth(alice))

    assert response.status_code == 405
    assert response.json() == {"detail": f"Method {method.upper()} is not allowed."}
    assert response["Allow"] == allow


@pytest.mark.parametrize("path", ["/api/nothing/", "/api/users/me/extra/", "/api/users/-1/", "/api", "/api/"])
def test_an_unknown_api_path_is_a_json_404(api, alice, path):
    response = api.get(path, **auth(alice))

    assert response.status_code == 404
    assert response.json() == {"detail": "No API endpoint here."}


def test_a_missing_slash_gets_a_hint_not_a_redirect(api, alice):
    response = api.post("/api/logout", **auth(alice))

    assert response.status_code == 404
    assert response.json() == {"detail": "No API endpoint here. Did you mean /api/logout/ ?"}


def test_unknown_api_paths_are_json_even_with_debug_on_and_without_csrf(alice, settings):
    settings.DEBUG = True
    strict = SchemaCheckingClient(enforce_csrf_checks=True)

    response = strict.post("/api/chats/nope/", {"a": 1}, content_type=JSON)

    assert response.status_code == 404
    assert response.json() == {"detail": "No API endpoint here."}


def test_an_unexpected_error_is_json_even_with_debug_on(alice, settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setattr("accounts.api.user_summary", lambda user: 1 / 0)
    quiet = SchemaCheckingClient(raise_request_exception=False)

    response = quiet.get("/api/users/all/", **auth(alice))

    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}


def test_an_unexpected_error_still_reaches_the_test_client(api, alice, monkeypatch):
    monkeypatch.setattr("accounts.api.user_summary", lambda user: 1 / 0)

    with pytest.raises(ZeroDivisionError):
        api.get("/api/users/all/", **auth(alice))


def test_pages_outside_the_api_keep_their_html_404(client, settings):
    settings.DEBUG = False

    response = client.get("/no/such/page/")

    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


# Rate limits -------------------------------------------------------------------------


def register_as(api: Client, username: str, ip: str = "10.0.0.1") -> Any:
    return api.post("/api/users/", {"username": username, "password": PASSWORD}, content_type=JSON, REMOTE_ADDR=ip)


def login_as(api: Client, username: str, password: str = PASSWORD, ip: str = "10.0.0.1") -> Any:
    return api.post("/api/login/", {"username": username, "password": password}, content_type=JSON, REMOTE_ADDR=ip)


def assert_rate_limited(response: Any) -> None:
    assert response.status_code == 429
    assert response.json() == {"detail": "Too many attempts. Try again later."}
    assert 1 <= int(response["Retry-After"]) <= 3600


def test_registrations_from_one_address_are_limited(api, db, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "register": "2/h"}

    assert [register_as(api, name).status_code for name in ("dave", "erin")] == [201, 201]
    response = register_as(api, "frank")

    assert_rate_limited(response)
    assert not User.objects.filter(username="frank").exists()
    assert register_as(api, "frank", ip="10.0.0.2").status_code == 201


def test_registrations_for_one_username_are_limited_across_addresses(api, alice, settings):
    settings.API_RATE_LIMITS = {**settings.API_RATE_LIMITS, "register": "2/h"}

    register_as(api, "alice", ip="10.0.0.1")
    register_as(api, "ALICE", ip="10.0.0.2")

    assert_rate_limited(register_as(api, "Alice", ip="10.0.0.3"))


def test_wrong_passwords_for_one_username_are_limited_across_addresses_in_any_case(api, alice, bob, settings):
    # The whole policy is accounts/tests/test_login_throttle.py; here, that the API keeps to it.
    settings.LOGIN_FAILURES_PER_ACCOUNT = 3

    for number, name in enumerate(["alice", "ALICE", "Alice"]):
        login_as(api, name, "wrong-password", ip=f"10.0.1.{number}")

    refused = login_as(api, "alice", ip="10.0.2.1")
    assert refused.status_code == 429
    assert refused.json()["detail"].startswith("Too many failed login attempts. Try again in ")
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert login_as(api, "bob", ip="10.0.2.1").status_code == 200


def test_a_request_without_a_client_address_is_counted_not_a_500(api, alice):
    # A server on a unix socket gives no client address.
    body = {"username": "alice", "password": PASSWORD}
    response = api.post("/api/login/", body, content_type="application/json", REMOTE_ADDR=None)

    assert response.status_code == 200


def test_the_default_limits_leave_room_for_normal_use(api, alice):
    assert all(login_as(api, "alice").status_code == 200 for _ in range(5))
