"""Wrong passwords: one policy for the login page and /api/login/ (accounts/login_throttle.py).

An office behind one address: alice keeps mistyping and must wait, and is told how long; bob,
at the next desk, still logs in with his right password. The throttle's clock stands still
unless a test moves it, so "after the wait" is one step of the clock, never a sleep.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import translation

from accounts import login_throttle
from accounts.login_throttle import TooManyFailures
from accounts.models import ApiToken
from conftest import PASSWORD

JSON = "application/json"
OFFICE = "203.0.113.7"
WAIT_3_MINUTES = "Too many failed login attempts. Try again in 3 minutes."

pytestmark = pytest.mark.usefixtures("fresh_rate_limits")


class Clock:
    def __init__(self) -> None:
        self.now = 1_700_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch, settings) -> Clock:
    # The defaults, whatever the environment says: 5 per name and address refill one every 3 minutes.
    settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = 5
    settings.LOGIN_FAILURES_PER_ACCOUNT = 20
    settings.LOGIN_FAILURES_PER_ADDRESS = 200
    settings.LOGIN_FAILURE_WINDOW_MINUTES = 15
    clock = Clock()
    monkeypatch.setattr(login_throttle, "clock", clock)
    return clock


def web_login(client, login: str, password: str, address: str = OFFICE, **headers: str):
    return client.post(reverse("account_login"), {"login": login, "password": password}, REMOTE_ADDR=address, **headers)


def api_login(client, username: str, password: str, address: str = OFFICE, **headers: str):
    body = {"username": username, "password": password}
    return client.post("/api/login/", body, content_type=JSON, REMOTE_ADDR=address, **headers)


def logged_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_after_five_wrong_passwords_the_login_page_says_how_long_to_wait(client, alice):
    for _ in range(5):
        page = web_login(client, "alice", "wrong-password").content.decode()
        assert "Too many failed login attempts" not in page

    refused = web_login(client, "alice", PASSWORD)  # even the right one: the password is not checked

    assert WAIT_3_MINUTES in refused.content.decode()
    assert not logged_in(client)


def test_someone_else_on_the_same_address_still_logs_in(client, alice, bob):
    for _ in range(6):
        web_login(client, "alice", "wrong-password")
        api_login(client, "alice", "wrong-password")

    assert web_login(client, "bob", PASSWORD).status_code == 302
    assert logged_in(client)
    assert api_login(client, "bob", PASSWORD).status_code == 200


def test_the_api_refuses_with_429_how_long_to_wait_and_retry_after(api, alice):
    assert [api_login(api, "alice", "wrong-password").status_code for _ in range(5)] == [401] * 5

    refused = api_login(api, "alice", PASSWORD)

    assert refused.status_code == 429
    assert refused.json() == {"detail": WAIT_3_MINUTES}
    assert refused["Retry-After"] == "180"
    assert not ApiToken.objects.exists()


def test_the_login_page_and_the_api_count_in_the_same_place(client, alice):
    for _ in range(3):
        web_login(client, "alice", "wrong-password")
    for _ in range(2):
        api_login(client, "Alice", "wrong-password")  # names in any case are one name

    assert api_login(client, "alice", PASSWORD).status_code == 429
    assert WAIT_3_MINUTES in web_login(client, "ALICE", PASSWORD).content.decode()


def test_the_same_person_at_another_address_is_not_held_back_by_the_first(client, alice):
    for _ in range(5):
        web_login(client, "alice", "wrong-password")

    assert web_login(client, "alice", PASSWORD, address="198.51.100.1").status_code == 302


def test_one_name_guessed_from_many_addresses_is_refused_everywhere(client, alice, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT = 8
    for n in range(8):
        api_login(client, "alice", "wrong-password", address=f"198.51.100.{n}")

    assert api_login(client, "alice", PASSWORD, address="192.0.2.1").status_code == 429


def test_one_address_trying_many_names_meets_the_much_higher_address_ceiling(client, alice, bob, settings):
    settings.LOGIN_FAILURES_PER_ADDRESS = 12
    for n in range(12):
        web_login(client, f"nobody{n}", "wrong-password")

    assert api_login(client, "bob", PASSWORD).status_code == 429
    assert api_login(client, "bob", PASSWORD, address="198.51.100.1").status_code == 200


def test_the_address_ceiling_is_far_above_one_persons(settings):
    from flowchat import settings as defaults

    assert defaults.LOGIN_FAILURES_PER_ADDRESS >= 10 * defaults.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS


def test_after_the_wait_one_more_try_counts_and_the_right_password_forgets_the_mistakes(client, alice, clock):
    for _ in range(5):
        web_login(client, "alice", "wrong-password")
    clock.now += 170
    assert "Try again in 1 minute." in web_login(client, "alice", PASSWORD).content.decode()

    clock.now += 10
    assert web_login(client, "alice", PASSWORD).status_code == 302

    client.logout()
    # Her failures at this address are forgotten: five more mistakes before she must wait again.
    for _ in range(5):
        assert api_login(client, "alice", "wrong-password").status_code == 401
    assert api_login(client, "alice", PASSWORD).status_code == 429


def test_the_wait_is_told_in_russian_with_its_plural(client, alice):
    for _ in range(5):
        web_login(client, "alice", "wrong-password")

    page = web_login(client, "alice", PASSWORD, HTTP_ACCEPT_LANGUAGE="ru").content.decode()

    assert "Слишком много неудачных попыток входа. Попробуйте снова через 3 минуты." in page
    with translation.override("ru"):
        assert str(TooManyFailures(60)).endswith("через 1 минуту.")
        assert str(TooManyFailures(299)).endswith("через 5 минут.")
        assert str(TooManyFailures(21 * 60)).endswith("через 21 минуту.")


def test_a_zero_turns_a_count_off(client, alice, settings):
    settings.LOGIN_FAILURES_PER_ACCOUNT_AND_ADDRESS = 0
    settings.LOGIN_FAILURES_PER_ACCOUNT = 0
    for _ in range(30):
        web_login(client, "alice", "wrong-password")

    assert web_login(client, "alice", PASSWORD).status_code == 302
