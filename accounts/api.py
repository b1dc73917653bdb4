"""The people part of the JSON API: registration, tokens, profiles and the directory.

Paths, fields and statuses are the contract in DESIGN.md section 4, described in
flowchat/openapi.py; the shared plumbing (auth, parsing, errors) is flowchat/api.py.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from allauth.account import app_settings as allauth_settings
from allauth.account.adapter import get_adapter
from django import forms
from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import update_last_login
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import HttpResponse
from django.urls import path

from flowchat.api import (
    JSON_OR_MULTIPART,
    ApiError,
    ApiRequest,
    api_view,
    check_fields,
    int_param,
    json_response,
    limit_rate,
    text_param,
    validation_error,
)

from . import login_throttle
from .forms import ProfileForm
from .invites import use_invite
from .models import ApiToken, PushSubscription, User
from .push_endpoints import endpoint_problem
from .search import findable_by, search_people
from .serializers import iso, user_summary, user_to_dict

USERNAME_TAKEN = "A user with that username already exists."
SIGNUP_CLOSED = "Sign-up is closed on this server: accounts are made by its operators."
INVITE_NEEDED = "Sign-up on this server is by invitation: send the token of your invite link as `invite`."
PASSWORD_NOT_HERE = "Passwords are not changed through this endpoint: use the password change page."  # noqa: S105 (a message, not a secret)
EDITABLE_FIELDS = ("first_name", "last_name", "bio")
# What a whole User carries beside them: taken back unchanged, never changed here.
READ_ONLY_FIELDS = ("id", "username", "avatar", "is_online", "last_active")
SERVER_FIELDS = ("is_online", "last_active")
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# Far beyond any real directory, and well inside every database's integer range.
MAX_OFFSET = 1_000_000_000


class RegistrationForm(forms.Form):
    # The same rules as the browser signup: allauth's length, validators and blacklist,
    # a case-insensitive uniqueness check, and Django's password validators.
    username = forms.CharField(min_length=allauth_settings.USERNAME_MIN_LENGTH, max_length=150)
    password = forms.CharField(strip=False)

    def clean_username(self) -> str:
        return get_adapter().clean_username(self.cleaned_data["username"])

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        username, password = cleaned.get("username"), cleaned.get("password")
        if password:
            try:
                get_adapter().clean_password(password, user=User(username=username or ""))
            except ValidationError as exc:
                self.add_error("password", exc)
        return cleaned


class CredentialsForm(forms.Form):
    username = forms.CharField(max_length=254)
    password = forms.CharField(strip=False)


def _username_key(data: dict[str, Any]) -> dict[str, str]:
    # Usernames are case-insensitive, so are their counters.
    username = data.get("username")
    return {"username": username.lower()} if username else {}


@api_view(["POST"], auth=False)
def register(request: ApiRequest) -> HttpResponse:
    """A new account, under the server's SIGNUP mode: open, by invite (`invite`), or closed (403)."""
    if settings.SIGNUP == "closed":
        raise ApiError(403, SIGNUP_CLOSED)
    # `invite` is taken in every mode, so a script written for an invite-only server runs anywhere.
    check_fields(request.data, ("username", "password", "invite"))
    limit_rate(request, "register", **_username_key(request.data))
    invite = request.data.get("invite", "").strip()
    if settings.SIGNUP == "invite" and not invite:
        raise ApiError(400, "Some fields are not valid.", {"invite": [INVITE_NEEDED]})
    form = RegistrationForm(request.data)
    if not form.is_valid():
        return validation_error(form)
    try:
        with transaction.atomic():
            if settings.SIGNUP == "invite":
                # Used in the account's transaction: a failed sign-up gives the use back.
                use_invite(invite)
            user = User.objects.create_user(
                username=form.cleaned_data["username"], password=form.cleaned_data["password"]
            )
    except ValidationError as exc:
        reason = " ".join(exc.messages)
        raise ApiError(403, reason, {"invite": [reason]}) from exc
    except IntegrityError as exc:
        # Two sign-ups for the same name in the same instant: the database decides.
        raise ApiError(400, "Some fields are not valid.", {"username": [USERNAME_TAKEN]}) from exc
    return json_response(user_to_dict(user), status=201)


@api_view(["POST"], auth=False)
def login(request: ApiRequest) -> HttpResponse:
    check_fields(request.data, ("username", "password"))
    form = CredentialsForm(request.data)
    if not form.is_valid():
        return validation_error(form)
    username = form.cleaned_data["username"]
    try:
        login_throttle.check(request, username)
    except login_throttle.TooManyFailures as refusal:
        raise ApiError(429, str(refusal), headers={"Retry-After": str(refusal.retry_after)}) from refusal
    user = authenticate(request, username=username, password=form.cleaned_data["password"])
    if user is None:
        login_throttle.failed(request, username)
        raise ApiError(401, "Unable to log in with these credentials.", headers={"WWW-Authenticate": "Token"})
    login_throttle.succeeded(request, username)
    client = "".join(ch for ch in request.headers.get("User-Agent", "") if ch.isprintable()).strip()
    _, key = ApiToken.objects.issue(user, name=client or "API client")
    update_last_login(None, user)
    return json_response(
        {"id": user.pk, "username": user.username, "token": key, "detail": "Login successful"},
        # The key is shown once and must not be kept by any cache on the way.
        headers={"Cache-Control": "no-store"},
    )


@api_view(["POST"], accepts=frozenset())
def logout(request: ApiRequest) -> HttpResponse:
    request.api_token.delete()
    return json_response({"detail": "Logged out successfully"})


def own_user_to_dict(user: User) -> dict[str, Any]:
    """The User, plus what only its owner sees: their notification setting."""
    return {**user_to_dict(user), "push_previews": user.push_previews}


@api_view(["GET"])
def me(request: ApiRequest) -> HttpResponse:
    return json_response(own_user_to_dict(request.user))


@api_view(["GET"])
def profile(request: ApiRequest, pk: int) -> HttpResponse:
    # With DIRECTORY=shared, walking the ids must not list every account: a stranger is "none".
    person = findable_by(request.user).filter(pk=pk).first()
    if person is None:
        raise ApiError(404, "No such user.")
    return json_response(user_to_dict(person))


@api_view(["GET"])
def directory(request: ApiRequest) -> HttpResponse:
    """Active people by username; every word of `q` must be in a username, first or last name.

    With DIRECTORY=shared, only the people who share a chat with the caller (accounts.search)."""
    query = text_param(request, "q")
    limit = int_param(request, "limit", default=PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    offset = int_param(request, "offset", default=0, minimum=0, maximum=MAX_OFFSET)
    people = search_people(query, request.user).only("id", "username", "avatar")
    # One row more than asked tells whether there is a next page without a COUNT query.
    page = list(people[offset : offset + limit + 1])
    headers = {}
    if len(page) > limit:
        page = page[:limit]
        params = request.GET.copy()
        params["limit"], params["offset"] = str(limit), str(offset + limit)
        headers["Link"] = f'<{request.build_absolute_uri(request.path)}?{params.urlencode()}>; rel="next"'
    return json_response([user_summary(person) for person in page], headers=headers)


@api_view(["PATCH", "PUT"], accepts=JSON_OR_MULTIPART)
def update(request: ApiRequest, pk: int) -> HttpResponse:
    """Change the fields sent (PATCH and PUT alike: the original API's PUT sends the whole user back).

    The read-only fields of that whole user are taken when they are unchanged (`id`,
    `username`, `avatar`) or are the server's to say (`is_online`, `last_active`). The avatar
    changes only when sent: a file in a multipart body, or `"avatar": null` in a JSON body to
    go back to the initials.
    """
    if pk != request.user.pk:
        if User.objects.filter(pk=pk, is_active=True).exists():
            raise ApiError(403, "You can only change your own profile.")
        raise ApiError(404, "No such user.")
    user = request.user
    data, files = dict(request.data), request.files
    multipart = (request.content_type or "").lower() == "multipart/form-data"
    if multipart and not data and not files and int(request.META.get("CONTENT_LENGTH") or 0) > 0:
        # A body with no part in it: its boundary or framing is broken, and nothing it meant is known.
        raise ApiError(400, "The body is not valid multipart/form-data.")
    _drop_unchanged(data, user_to_dict(user))
    push_previews = None
    if "push_previews" in data:
        push_previews = data.pop("push_previews")
        if multipart:
            push_previews = {"true": True, "false": False}.get(str(push_previews).lower(), push_previews)
        if not isinstance(push_previews, bool):
            raise ApiError(400, "Some fields are not valid.", {"push_previews": ["Must be true or false."]})
    remove_avatar = False
    if multipart:
        check_fields(data, EDITABLE_FIELDS, rejected={"password": PASSWORD_NOT_HERE, "avatar": "Must be a file."})
    else:
        if "avatar" in data:
            if data["avatar"] is not None:
                raise ApiError(
                    400,
                    "Some fields are not valid.",
                    {"avatar": ["Send null to remove the avatar; upload a new one as multipart/form-data."]},
                )
            remove_avatar = True
            del data["avatar"]
        check_fields(data, EDITABLE_FIELDS, rejected={"password": PASSWORD_NOT_HERE})
    unknown_files = [name for name in files if name != "avatar"]
    if unknown_files:
        raise ApiError(
            400, "Some fields are not valid.", {name: ["This file is not accepted here."] for name in unknown_files}
        )
    current = {field: getattr(user, field) for field in EDITABLE_FIELDS}
    form = ProfileForm({**current, **data, "remove_avatar": remove_avatar}, files, instance=user)
    if not form.is_valid():
        return validation_error(form)
    with transaction.atomic():
        form.save()
        if push_previews is not None:
            user.push_previews = push_previews
            User.objects.filter(pk=user.pk).update(push_previews=push_previews)
    return json_response(own_user_to_dict(user))


def _drop_unchanged(data: dict[str, Any], current: dict[str, Any]) -> None:
    """Take out the read-only fields of a whole user sent back; refuse one that was changed."""
    errors = {}
    for field in READ_ONLY_FIELDS:
        if field not in data:
            continue
        value = data[field]
        if field in SERVER_FIELDS or str(value) == str(current[field]):
            del data[field]
        elif field != "avatar":  # a new avatar is a file, or null: judged below
            errors[field] = ["This field cannot be changed here."]
    if errors:
        raise ApiError(400, "Some fields are not valid.", errors)


# Web Push devices -----------------------------------------------------------------------


def subscription_to_dict(subscription: PushSubscription) -> dict[str, Any]:
    return {
        "id": subscription.pk,
        "endpoint": subscription.endpoint,
        "user_agent": subscription.user_agent,
        "created_at": iso(subscription.created_at),
        "last_success_at": iso(subscription.last_success_at),
    }


@api_view(["GET"])
def push_info(request: ApiRequest) -> HttpResponse:
    """The server's VAPID public key (null while push is off), for PushManager.subscribe."""
    return json_response({"public_key": settings.VAPID_PUBLIC_KEY or None})


@api_view(["GET", "POST"])
def push_subscriptions(request: ApiRequest) -> HttpResponse:
    """GET: my devices. POST: register this device (a repeated endpoint returns the one already registered)."""
    if request.method == "GET":
        return json_response([subscription_to_dict(s) for s in request.user.push_subscriptions.all()])
    subscription, created = register_subscription(
        request.user, request.data, user_agent=request.META.get("HTTP_USER_AGENT", "")
    )
    return json_response(subscription_to_dict(subscription), status=201 if created else 200)


def register_subscription(
    user: User, data: Any, *, user_agent: str = "", session_key: str = ""
) -> tuple[PushSubscription, bool]:
    """Check a browser's PushSubscription JSON and keep it; raises ApiError (400) for a bad one."""
    if not isinstance(data, dict):
        raise ApiError(400, "Send a JSON object.")
    errors: dict[str, list[str]] = {
        field: ["This field is not accepted here."]
        for field in data
        if field not in ("endpoint", "keys", "expirationTime")
    }
    endpoint = data.get("endpoint")
    keys = data.get("keys")
    if "endpoint" not in data:
        errors["endpoint"] = ["This field is required."]
    elif problem := endpoint_problem(endpoint):
        errors["endpoint"] = [problem]
    if not isinstance(keys, dict):
        errors["keys"] = ["Must be an object with p256dh and auth."]
    else:
        for name, size in (("p256dh", 65), ("auth", 16)):
            if not _is_key(keys.get(name), size):
                errors[f"keys.{name}"] = [f"Must be {size} bytes in base64url."]
    if errors:
        raise ApiError(400, "Some fields are not valid.", errors)
    existing = PushSubscription.objects.filter(endpoint=endpoint).first()
    if existing is not None and existing.user_id == user.pk:
        return existing, False
    with transaction.atomic():
        # The same browser, signed in as someone else now: the device is theirs.
        PushSubscription.objects.filter(endpoint=endpoint).delete()
        subscription = PushSubscription.objects.create(
            user=user,
            endpoint=endpoint,
            p256dh=keys["p256dh"],
            auth=keys["auth"],
            user_agent=user_agent[:500],
            session_key=session_key or "",
        )
    return subscription, True


def _is_key(value: Any, size: int) -> bool:
    if not isinstance(value, str) or len(value) > 200:
        return False
    try:
        return len(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))) == size
    except (binascii.Error, ValueError):
        return False


@api_view(["DELETE"])
def push_subscription(request: ApiRequest, pk: int) -> HttpResponse:
    deleted, _rows = request.user.push_subscriptions.filter(pk=pk).delete()
    if not deleted:
        raise ApiError(404, "No such device.")
    response = HttpResponse(status=204)
    del response["Content-Type"]
    return response


urlpatterns = [
    path("push/", push_info, name="api-push"),
    path("push/subscriptions/", push_subscriptions, name="api-push-subscriptions"),
    path("push/subscriptions/<int:pk>/", push_subscription, name="api-push-subscription"),
    path("users/", register, name="api-register"),
    path("login/", login, name="api-login"),
    path("logout/", logout, name="api-logout"),
    path("users/me/", me, name="api-me"),
    path("users/all/", directory, name="api-users"),
    path("users/<int:pk>/", update, name="api-user"),
    path("users/<int:pk>/profile/", profile, name="api-profile"),
]
