"""Plumbing for the JSON API under /api/: one decorator, `error()`, and JSON responses.

Views stay thin (healthchecks style): `@api_view(...)` checks the method, authenticates
the `Authorization: Token <key>` header, parses the body, and turns every failure,
expected or not, into a JSON answer, so a script never receives an HTML page.
The contract is in DESIGN.md section 4 and the OpenAPI document in flowchat/openapi.py.
"""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Collection, Iterable, Mapping
from datetime import timedelta
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signals
from django.core.exceptions import BadRequest, PermissionDenied, RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse, UnreadablePostError
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.log import log_response
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from django_ratelimit.core import get_usage

from accounts.models import ApiToken, User
from flowchat import unavailable
from flowchat.addresses import client_address

logger = logging.getLogger(__name__)

JSON = frozenset({"application/json"})
JSON_OR_MULTIPART = frozenset({"application/json", "multipart/form-data"})
BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})

# Writing last_used_at on every call would make each read a database write.
TOKEN_TOUCH_INTERVAL = timedelta(seconds=60)
TOKEN_KEY = re.compile(r"[A-Za-z0-9_-]{1,128}")

View = Callable[..., HttpResponse]


class ApiRequest(HttpRequest):
    """The request an `api_view` hands to its view (for type checkers)."""

    user: User
    api_token: ApiToken | None
    data: dict[str, Any]
    files: MultiValueDict


class ApiError(Exception):
    """Raise from a view or helper to answer with `error(status, detail, errors)`."""

    def __init__(
        self,
        status: int,
        detail: str,
        errors: Mapping[str, Iterable[str]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status, self.detail, self.errors, self.headers = status, detail, errors, headers

    def response(self) -> JsonResponse:
        return error(self.status, self.detail, self.errors, headers=self.headers)


def json_response(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> JsonResponse:
    return JsonResponse(data, status=status, safe=False, headers=headers, json_dumps_params={"ensure_ascii": False})


def error(
    status: int,
    detail: str,
    errors: Mapping[str, Iterable[str]] | None = None,
    *,
    headers: Mapping[str, str] | None = None,
) -> JsonResponse:
    """`{"detail": ..., "errors": {"field": [...]}}`; `errors` only when some field is to blame."""
    body: dict[str, Any] = {"detail": str(detail)}
    if errors:
        body["errors"] = {field: [str(message) for message in messages] for field, messages in errors.items()}
    return json_response(body, status, headers)


def form_errors(form: Any) -> dict[str, list[str]]:
    return {field: [item["message"] for item in items] for field, items in form.errors.get_json_data().items()}


def validation_error(form: Any) -> JsonResponse:
    return error(400, "Some fields are not valid.", form_errors(form))


def check_fields(
    data: Mapping[str, Any],
    allowed: Collection[str],
    *,
    rejected: Mapping[str, str] | None = None,
) -> None:
    """Refuse fields the endpoint does not take and values that are not strings.

    Django forms would quietly turn `123` into "123" and drop unknown keys; a script
    that sends the wrong thing is better told so than half-obeyed.
    """
    rejected = rejected or {}
    errors: dict[str, list[str]] = {}
    for field, value in data.items():
        if field in rejected:
            errors[field] = [rejected[field]]
        elif field not in allowed:
            errors[field] = ["This field is not accepted here."]
        elif not isinstance(value, str):
            errors[field] = ["Must be a string."]
    if errors:
        raise ApiError(400, "Some fields are not valid.", errors)


def int_param(request: HttpRequest, name: str, *, default: int, minimum: int, maximum: int) -> int:
    """A whole number from the query string, or a 400 saying what is allowed."""
    raw = request.GET.get(name)
    if raw is None or raw == "":
        return default
    if not re.fullmatch(r"[0-9]{1,12}", raw) or not minimum <= int(raw) <= maximum:
        raise ApiError(
            400,
            "Some query parameters are not valid.",
            {name: [f"Must be a whole number from {minimum} to {maximum}."]},
        )
    return int(raw)


def text_param(request: HttpRequest, name: str, *, max_length: int = 200) -> str:
    value = request.GET.get(name, "").strip()
    # PostgreSQL cannot store or compare NUL characters: it would be a 500, not an empty result.
    if "\x00" in value or len(value) > max_length:
        raise ApiError(
            400,
            "Some query parameters are not valid.",
            {name: [f"Must be at most {max_length} characters, without NUL characters."]},
        )
    return value


def _client_address(_group: str, request: HttpRequest) -> str:
    return client_address(request)


def limit_rate(request: HttpRequest, scope: str, **keys: str) -> None:
    """Count one attempt against `settings.API_RATE_LIMITS[scope]` per client IP and per each of `keys`.

    Raises a 429 ApiError with Retry-After once any counter is over the limit. Counters
    live in the default cache, shared by every process when it is Redis.
    """
    rate = settings.API_RATE_LIMITS[scope]
    counters: dict[str, Any] = {"ip": _client_address}
    for name, value in keys.items():
        counters[name] = lambda _group, _request, value=value: value
    retry_after = 0
    for name, key in counters.items():
        usage = get_usage(request, group=f"flowchat.api.{scope}.{name}", key=key, rate=rate, increment=True)
        if usage and usage["should_limit"]:
            retry_after = max(retry_after, usage["time_left"], 1)
    if retry_after:
        raise ApiError(429, "Too many attempts. Try again later.", headers={"Retry-After": str(retry_after)})


def authenticate_token(request: HttpRequest) -> ApiToken | None:
    return token_from_header(request.headers.get("Authorization", ""))


def token_from_header(authorization: str) -> ApiToken | None:
    """The token of an `Authorization: Token <key>` header (of a request or a socket handshake)."""
    scheme, _, key = authorization.strip().partition(" ")
    key = key.strip()
    if scheme.lower() != "token" or not TOKEN_KEY.fullmatch(key):
        return None
    token = ApiToken.objects.authenticate(key)
    if token is not None:
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at >= TOKEN_TOUCH_INTERVAL:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
            token.last_used_at = now
    return token


def parse_json(body: bytes) -> Any:
    def reject_constant(name: str) -> None:
        raise ValueError(f"{name} is not JSON")

    try:
        data = json.loads(body, parse_constant=reject_constant)
        _refuse_lone_surrogates(data)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError, undecodable bytes and lone surrogates;
        # RecursionError very deep nesting.
        raise ApiError(400, "The body is not valid JSON.") from exc
    return data


def _refuse_lone_surrogates(value: Any) -> None:
    """ "\ud800" is valid JSON syntax but no text: nothing can store or show it (UTF-8 has no such character)."""
    if isinstance(value, str):
        value.encode("utf-8")  # UnicodeEncodeError is a ValueError
    elif isinstance(value, dict):
        for key, item in value.items():
            _refuse_lone_surrogates(key)
            _refuse_lone_surrogates(item)
    elif isinstance(value, list):
        for item in value:
            _refuse_lone_surrogates(item)


def _content_length(request: HttpRequest) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def _parse_body(request: HttpRequest, accepts: frozenset[str], upload_limit: str = "UPLOAD_MAX_BYTES") -> None:
    request.data, request.files = {}, MultiValueDict()
    if request.method not in BODY_METHODS or not accepts:
        return
    content_type = (request.content_type or "").lower()
    if content_type not in accepts:
        raise ApiError(415, f"Send the body as {' or '.join(sorted(accepts))}.")
    if content_type == "multipart/form-data":
        # Files are not held to DATA_UPLOAD_MAX_MEMORY_SIZE: refuse a body that cannot pass
        # the endpoint's own check (clean_image; a message's files together) before it is spooled to disk.
        limit = getattr(settings, upload_limit) + (settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)
        if _content_length(request) > limit:
            raise RequestDataTooBig(f"The upload is over {upload_limit}.")
        # Django parses multipart bodies only for POST; PATCH and PUT carry uploads too.
        post, files = request.parse_file_upload(request.META, request)
        # Kept where Django looks, so the request's close() closes temporary upload files.
        request._files = files
        request.data, request.files = {key: post[key] for key in post}, files
        return
    data = parse_json(request.body)
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    request.data = data


def api_view(
    methods: Iterable[str], *, auth: bool = True, accepts: frozenset[str] = JSON, upload_limit: str = "UPLOAD_MAX_BYTES"
) -> Callable[[View], View]:
    """Make `view` a JSON API endpoint.

    `methods`: what it answers (others get 405 with Allow); `auth`: require a token
    (`request.user` is then the token's owner; a session cookie never counts, as a
    cookie-authenticated script would be open to CSRF); `accepts`: content types of a
    POST/PUT/PATCH body, parsed into `request.data` (and `request.files`); `upload_limit`: the
    setting that bounds the files of a multipart body (one picture, or a message's files).
    """
    allowed = tuple(method.upper() for method in methods)

    def decorator(view: View) -> View:
        @csrf_exempt
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            try:
                if request.method not in allowed:
                    raise ApiError(
                        405, f"Method {request.method} is not allowed.", headers={"Allow": ", ".join(allowed)}
                    )
                request.api_token = None
                if auth:
                    token = authenticate_token(request)
                    if token is None:
                        raise ApiError(
                            401,
                            "Authentication credentials were not provided or are not valid.",
                            headers={"WWW-Authenticate": "Token"},
                        )
                    request.api_token, request.user = token, token.user
                else:
                    request.user = AnonymousUser()
                _parse_body(request, accepts, upload_limit)
                return view(request, *args, **kwargs)
            except ApiError as exc:
                return exc.response()
            except Http404:
                return error(404, "Not found.")
            except PermissionDenied:
                return error(403, "You do not have permission to do this.")
            except RequestDataTooBig:
                return error(413, "The request body is too large.")
            except (BadRequest, SuspiciousOperation, MultiPartParserError, UnreadablePostError) as exc:
                response = error(400, "The request could not be read.")
                log_response("Bad API request: %s", exc, response=response, request=request, exception=exc)
                return response
            except Exception as exc:
                if settings.DEBUG_PROPAGATE_EXCEPTIONS:
                    raise
                if unavailable.is_database_unavailable(exc):
                    return unavailable.answer_unavailable(request, exc)
                # Django would answer with an HTML page when DEBUG is on; scripts get JSON,
                # and the traceback still reaches the logs and got_request_exception listeners.
                signals.got_request_exception.send(sender=None, request=request)
                response = error(500, "Server error.")
                log_response(
                    "Internal Server Error: %s", request.path, response=response, request=request, exception=exc
                )
                return response

        return wrapper

    return decorator


def _is_api(request: HttpRequest) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


@csrf_exempt
def not_found(request: HttpRequest) -> JsonResponse:
    """Anything under /api/ that no endpoint matched: a JSON 404 even with DEBUG on."""
    detail = "No API endpoint here."
    if not request.path.endswith("/"):
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not not_found:
            detail += f" Did you mean {request.path}/ ?"
    return error(404, detail)


def bad_request(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """What Django answers, DEBUG off, when a request fails before any view, as a Host not in ALLOWED_HOSTS."""
    if _is_api(request):
        return error(400, "The request could not be read.")
    return defaults.bad_request(request, exception)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    if _is_api(request):
        return error(404, "Not found.")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    # Called while the exception is handled: one raised by a middleware (the session) is here.
    if unavailable.is_database_unavailable(sys.exc_info()[1]):
        return unavailable.unavailable_response(request)
    if _is_api(request):
        return error(500, "Server error.")
    return defaults.server_error(request)
