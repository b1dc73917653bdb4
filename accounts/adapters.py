"""allauth's hooks: whether sign-up is open (SIGNUP), and the login page counting wrong passwords
by FlowChat's one policy (accounts.login_throttle)."""

from __future__ import annotations

from typing import Any

from allauth.account.adapter import DefaultAccountAdapter
from django.conf import settings
from django.core.exceptions import ValidationError
from django.http import HttpRequest

from . import login_throttle


def _login_name(credentials: dict[str, Any]) -> str:
    # What was typed in the login field: a username or an email address (as allauth keys it).
    return str(credentials.get("email") or credentials.get("username") or "")


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request: HttpRequest) -> bool:
        return settings.SIGNUP != "closed"

    def pre_authenticate(self, request: HttpRequest, **credentials: Any) -> None:
        # Instead of allauth's own login_failed limit (ACCOUNT_RATE_LIMITS turns it off).
        try:
            login_throttle.check(request, _login_name(credentials))
        except login_throttle.TooManyFailures as refusal:
            raise ValidationError(str(refusal), code="too_many_login_attempts") from refusal

    def authenticate(self, request: HttpRequest, **credentials: Any):
        user = super().authenticate(request, **credentials)
        if user is not None:
            login_throttle.succeeded(request, _login_name(credentials))
        return user

    def authentication_failed(self, request: HttpRequest, **credentials: Any) -> None:
        login_throttle.failed(request, _login_name(credentials))
