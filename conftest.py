"""The shared test cast and service checks.

alice and bob are the people who chat; carol is an outsider who must never see
their things. Every test that needs people takes them from here.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from django.utils import translation

from accounts.models import User


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Under pytest-xdist (`bin/test -n 2`), the fault tests run one after another on one worker:
    each starts private PostgreSQL, Redis and server processes and times their recovery, which
    another fault test's processes beside it would slow past its limits."""
    for item in items:
        if item.get_closest_marker("faults"):
            item.add_marker(pytest.mark.xdist_group("faults"))


IN_CI = os.getenv("CI", "").lower() == "true"
PASSWORD = "correct-horse-battery-staple"


def require(available: bool, reason: str) -> None:
    """Skip on a person's machine when a service is missing; fail in CI, where nothing may be left out."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: a missing service is an error, not a skip)")
    pytest.skip(reason)


@pytest.fixture(autouse=True)
def _isolated_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _language_of_the_settings() -> Iterator[None]:
    """Each test starts in English: a request for a Russian speaker leaves Russian active in the
    thread (as Django's LocaleMiddleware does), which the next test, in whatever order the
    workers run them, must not inherit."""
    translation.deactivate()
    yield
    translation.deactivate()


def make_person(username: str, first_name: str = "", last_name: str = "") -> User:
    return User.objects.create_user(username=username, password=PASSWORD, first_name=first_name, last_name=last_name)


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> Iterator[None]:
    """An empty cache, so that rate limits (logins, sign-ups, each person's sends) start from zero.

    For every test: ids come back after a rollback, so one test's alice would otherwise inherit
    the send rate an earlier alice used up.
    """
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api():
    """A JSON API client that checks every answer against /api/schema/."""
    from flowchat.testing import SchemaCheckingClient

    return SchemaCheckingClient()


@pytest.fixture
def alice(db) -> User:
    return make_person("alice", "Alice", "Archer")


@pytest.fixture
def bob(db) -> User:
    return make_person("bob", "Bob", "Baker")


@pytest.fixture
def carol(db) -> User:
    """The outsider."""
    return make_person("carol", "Carol", "Cole")


@pytest.fixture
def chat(alice, bob):
    """alice and bob's direct chat."""
    from conversations import actions

    return actions.get_or_create_direct_chat(alice, bob)[0]


@pytest.fixture
def group(alice, bob):
    """alice's group "Climbing", with bob in it."""
    from conversations import actions

    return actions.create_group(alice, "Climbing", [bob])
