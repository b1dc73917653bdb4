"""People: names, initials, avatars, presence and API tokens."""

from datetime import timedelta

import pytest
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiToken, User, hash_token
from conftest import make_person


def test_display_name_is_the_full_name(alice):
    assert alice.display_name == "Alice Archer"


def test_display_name_falls_back_to_the_username(db):
    assert make_person("dave").display_name == "dave"


@pytest.mark.parametrize(
    ("first_name", "last_name", "initials"),
    [("Alice", "Archer", "AA"), ("alice", "", "A"), ("", "archer", "A"), ("  ", " ", "D"), ("Élodie", "Ünal", "ÉÜ")],
)
def test_initials_come_from_the_names_or_else_the_username(db, first_name, last_name, initials):
    assert make_person("dave", first_name, last_name).initials == initials


def test_profile_url_uses_the_username(alice):
    assert alice.get_absolute_url() == "/people/alice/"


def test_without_an_avatar_the_initials_picture_stands_in(alice):
    assert alice.avatar_url == reverse("accounts:initials", args=[alice.pk])


def test_with_an_avatar_its_media_url_is_used(alice):
    alice.avatar = "avatars/0123456789abcdef0123456789abcdef.webp"

    assert alice.avatar_url == "/media/avatars/0123456789abcdef0123456789abcdef.webp"


def test_someone_never_seen_is_not_online(alice):
    assert alice.last_active is None
    assert not alice.is_online


def test_online_until_the_last_heartbeat_expires(alice):
    now = timezone.now()

    alice.online_until = now + timedelta(seconds=5)
    assert alice.is_online
    alice.online_until = now - timedelta(seconds=1)
    assert not alice.is_online


def test_usernames_differing_only_in_case_cannot_both_exist(alice):
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="ALICE", password="x")

    assert User.objects.filter(username__iexact="alice").count() == 1


def test_an_issued_token_key_is_not_stored(alice):
    token, key = ApiToken.objects.issue(alice, name="my script")

    token.refresh_from_db()
    assert token.key_hash == hash_token(key)
    assert key not in token.key_hash
    assert len(key) >= 40
    assert token.name == "my script"


def test_a_token_authenticates_its_person_and_nothing_else(alice, bob):
    _, alice_key = ApiToken.objects.issue(alice)
    _, bob_key = ApiToken.objects.issue(bob)

    assert alice_key != bob_key
    assert ApiToken.objects.authenticate(alice_key).user == alice
    assert ApiToken.objects.authenticate(bob_key).user == bob
    assert ApiToken.objects.authenticate(alice_key + "x") is None
    assert ApiToken.objects.authenticate("") is None


def test_a_deactivated_persons_token_stops_working(alice):
    _, key = ApiToken.objects.issue(alice)
    User.objects.filter(pk=alice.pk).update(is_active=False)

    assert ApiToken.objects.authenticate(key) is None


def test_a_long_client_name_is_cut_to_fit(alice):
    token, _ = ApiToken.objects.issue(alice, name="x" * 500)

    token.refresh_from_db()
    assert token.name == "x" * 200
