"""`manage.py createuser`: how an operator makes accounts on a server closed to sign-up."""

from __future__ import annotations

import io

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from conftest import PASSWORD

pytestmark = pytest.mark.django_db


def create(monkeypatch, *args: str, password: str = PASSWORD) -> str:
    monkeypatch.setattr("sys.stdin", io.StringIO(password + "\n"))
    out = io.StringIO()
    call_command("createuser", *args, stdout=out)
    return out.getvalue()


def test_an_operator_creates_an_ordinary_account_that_can_log_in(settings, monkeypatch, client):
    settings.SIGNUP = "closed"
    assert "Created dora." in create(monkeypatch, "dora", "--first-name", "Дора")

    dora = User.objects.get(username="dora")
    assert not dora.is_staff and dora.first_name == "Дора" and dora.search_name == "dora\nдора\n"
    assert client.post("/accounts/login/", {"login": "dora", "password": PASSWORD}).status_code == 302


def test_a_taken_name_or_a_weak_password_is_refused(monkeypatch, alice):
    with pytest.raises(CommandError, match="username"):
        create(monkeypatch, "ALICE")
    with pytest.raises(CommandError, match="too common"):
        create(monkeypatch, "dora", password="password")
    assert not User.objects.filter(username="dora").exists()
