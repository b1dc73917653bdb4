"""What happens on every request: the person's language, and "last seen"."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from accounts.models import User


def last_active_writes(queries):
    return [q["sql"] for q in queries if q["sql"].startswith("UPDATE") and "last_active" in q["sql"]]


def set_last_active(user, seconds_ago):
    moment = timezone.now() - timedelta(seconds=seconds_ago)
    User.objects.filter(pk=user.pk).update(last_active=moment)
    return moment


@pytest.fixture
def alice_client(client, alice):
    client.force_login(alice)
    return client


def test_a_request_records_when_someone_was_last_active(alice_client, alice):
    before = timezone.now()

    alice_client.get("/")

    alice.refresh_from_db()
    assert before <= alice.last_active <= timezone.now()


def test_last_active_is_written_at_most_once_a_minute(alice_client, alice):
    with CaptureQueriesContext(connection) as queries:
        for _ in range(5):
            alice_client.get("/")

    assert len(last_active_writes(queries.captured_queries)) == 1


def test_last_active_within_the_minute_is_left_alone(alice_client, alice):
    moment = set_last_active(alice, seconds_ago=30)

    with CaptureQueriesContext(connection) as queries:
        alice_client.get("/")

    assert last_active_writes(queries.captured_queries) == []
    alice.refresh_from_db()
    assert alice.last_active == moment


def test_last_active_older_than_a_minute_is_refreshed(alice_client, alice):
    moment = set_last_active(alice, seconds_ago=61)

    alice_client.get("/")

    alice.refresh_from_db()
    assert alice.last_active > moment + timedelta(seconds=60)


def test_anonymous_requests_write_nothing(client, alice):
    with CaptureQueriesContext(connection) as queries:
        client.get("/accounts/login/")

    assert [q["sql"] for q in queries.captured_queries if not q["sql"].startswith("SELECT")] == []


def test_browsing_without_a_socket_shows_last_seen_not_online(client, alice, bob):
    client.force_login(bob)

    set_last_active(alice, seconds_ago=130)
    page = client.get("/people/alice/").content.decode()
    assert "Online" not in page
    assert "Last seen 2\xa0minutes ago" in page


def test_the_saved_language_beats_the_browsers_accept_language(alice_client, alice):
    User.objects.filter(pk=alice.pk).update(language="ru")

    response = alice_client.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})

    assert response["Content-Language"] == "ru"


def test_without_a_saved_language_the_browser_decides(alice_client):
    response = alice_client.get("/", headers={"Accept-Language": "ru-RU,ru;q=0.9"})

    assert response["Content-Language"] == "ru"


def test_one_persons_language_does_not_leak_into_the_next_request(client, alice, bob):
    User.objects.filter(pk=alice.pk).update(language="ru")
    client.force_login(alice)
    assert client.get("/")["Content-Language"] == "ru"

    client.force_login(bob)
    assert client.get("/")["Content-Language"] == "en"
    client.logout()
    assert client.get("/accounts/login/")["Content-Language"] == "en"
