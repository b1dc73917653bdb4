"""The database unreachable: pages, the API and logging in answer 503 with Retry-After, never a bare 500."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.db import InterfaceError, OperationalError, connection
from django.test import Client

from conftest import PASSWORD
from flowchat.testing import token_for

pytestmark = pytest.mark.django_db


@contextmanager
def database_down(error: type[Exception] = OperationalError):
    """Every query fails as it does when PostgreSQL is stopped, restarting or out of pooled connections."""

    def refuse(execute, sql, params, many, context):
        raise error('connection to server at "127.0.0.1", port 5432 failed: Connection refused')

    with connection.execute_wrapper(refuse):
        yield


@pytest.fixture
def client() -> Client:
    # A real server answers whatever got_request_exception hears; the test client would re-raise it.
    return Client(raise_request_exception=False)


def assert_api_unavailable(response) -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "The service is unavailable for a moment. Try again in a few seconds."}


def assert_page_unavailable(response, language: str = "en") -> None:
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert f'<html lang="{language}"' in page
    assert "<script" not in page  # it works without JavaScript
    return page


def test_a_signed_in_page_whose_session_cannot_be_read_says_try_again(client, alice):
    client.force_login(alice)
    with database_down():
        response = client.get("/")
    page = assert_page_unavailable(response)
    assert "Please try again in a moment." in page


def test_the_page_is_in_the_browsers_language(client, alice):
    client.force_login(alice)
    with database_down(InterfaceError):
        response = client.get("/", headers={"accept-language": "ru"})
    page = assert_page_unavailable(response, "ru")
    assert "Попробуйте ещё раз через минуту." in page


def test_logging_in_on_the_page_says_try_again(client, alice):
    client.get("/accounts/login/")  # the CSRF cookie
    with database_down():
        response = client.post(
            "/accounts/login/",
            {"login": "alice", "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"].value},
        )
    page = assert_page_unavailable(response)
    assert "FlowChat is unavailable for a moment" in page


def test_logging_in_through_the_api_answers_json(api, alice, fresh_rate_limits):
    with database_down():
        response = api.post("/api/login/", {"username": "alice", "password": PASSWORD}, content_type="application/json")
    assert_api_unavailable(response)


def test_an_api_endpoint_answers_json_as_the_document_says(api, alice, chat):
    token = token_for(alice)
    with database_down():
        response = api.post(
            "/api/messages/",
            {"chat": chat.pk, "text": "hello?"},
            content_type="application/json",
            headers={"authorization": f"Token {token}"},
        )
    assert_api_unavailable(response)


def test_a_pool_that_has_no_connection_to_give_is_the_same_503(client, alice):
    psycopg_pool = pytest.importorskip("psycopg_pool")
    token = token_for(alice)

    def pool_exhausted(execute, sql, params, many, context):
        # What Django raises when psycopg's pool waited DATABASE_POOL_TIMEOUT in vain.
        raise OperationalError("couldn't get a connection after 10.00 sec") from psycopg_pool.PoolTimeout()

    with connection.execute_wrapper(pool_exhausted):
        response = client.get("/api/chats/", headers={"authorization": f"Token {token}"})
    assert_api_unavailable(response)


def test_other_failures_stay_500(client, alice):
    token = token_for(alice)

    def bug(execute, sql, params, many, context):
        raise ValueError("a bug, which no retry fixes")

    with connection.execute_wrapper(bug):
        response = client.get("/api/chats/", headers={"authorization": f"Token {token}"})
    assert response.status_code == 500
    assert "Retry-After" not in response
