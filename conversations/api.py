"""The chats and messages part of the JSON API: chats, members, history, sending, editing, reading.

Paths, fields and statuses are the contract in DESIGN.md section 4, extended in the same
style for groups, members and read markers, and described in flowchat/openapi.py; the
shared plumbing (auth, parsing, errors) is flowchat/api.py. Reads go through the access
rule (`Chat.objects.for_user`), so someone outside a chat gets the same 404 as for a
chat that does not exist; every change goes through conversations.actions.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.http import Http404, HttpResponse
from django.urls import path

from accounts.models import User
from flowchat.api import (
    JSON_OR_MULTIPART,
    ApiError,
    ApiRequest,
    api_view,
    form_errors,
    int_param,
    json_response,
    parse_json,
)

from . import actions
from .directory import attach_previews, open_groups
from .forms import EditMessageForm, GroupForm, GroupPhotoForm, MessageForm, RenameGroupForm
from .limits import ReactingTooFast, SendingTooFast
from .models import Chat, Membership, Message, Notifications, no_reactions_yet
from .permissions import get_chat_for_user, get_message_for_user
from .receipts import ReadPositions
from .search import MAX_QUERY_LENGTH, search_messages
from .serializers import chat_to_dict, directory_entry_to_dict, member_to_dict, message_to_dict

INVALID = "Some fields are not valid."
INVALID_QUERY = "Some query parameters are not valid."
NOT_ACCEPTED = "This field is not accepted here."
NOT_A_STRING = "Must be a string."
NOT_AN_ID = "Must be an id: a positive whole number, or a string of its digits."
REQUIRED = "This field is required."
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
# A group title is matched with LIKE; no title is longer than this.
SEARCH_MAX_LENGTH = 100
MAX_DIRECTORY_OFFSET = 1_000_000_000  # as the OpenAPI document's Offset
SEARCH_PAGE_SIZE = 20
MAX_SEARCH_PAGE_SIZE = 100
# Ids are PostgreSQL bigints; a larger number can name nothing and must not reach the database.
MAX_ID = 2**63 - 1
# int_param reads at most 12 digits: a trillion messages is beyond any FlowChat.
MAX_CURSOR = 999_999_999_999
ID_DIGITS = re.compile(r"[0-9]{1,19}")
SEND_FIELDS = ("chat", "text", "client_id", "reply_to")
# What a client may see but never set on a message.
MESSAGE_READ_ONLY = (
    "id",
    "author",
    "image",
    "thumbnail",
    "created_at",
    "edited_at",
    "deleted_at",
    "is_read",
    "kind",
    "version",
    "reactions",
    "reply_to",
    "attachments",
    "link_preview",
)


# Answers --------------------------------------------------------------------------------


def origin(request: ApiRequest) -> str:
    """This server as the client reached it ("https://chat.example.org"): what makes urls absolute."""
    return request.build_absolute_uri("/").rstrip("/")


def no_content() -> HttpResponse:
    response = HttpResponse(status=204)
    del response["Content-Type"]
    return response


def chat_answer(user: User, pk: int, status: int = 200) -> HttpResponse:
    chat = Chat.objects.with_list_details(user).filter(pk=pk).first()
    if chat is None:
        raise Http404("No such chat.")
    return json_response(chat_to_dict(chat, user), status=status)


# Reading requests ----------------------------------------------------------------------


def parse_id(value: Any) -> int | None:
    """An id sent as a JSON number or a string of digits (as the original API took it); None if it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and ID_DIGITS.fullmatch(value):
        number = int(value)
    else:
        return None
    return number if 1 <= number <= MAX_ID else None


def refuse_unknown(
    data: Mapping[str, Any], accepted: tuple[str, ...], rejected: Mapping[str, str] | None = None
) -> dict[str, list[str]]:
    rejected = rejected or {}
    errors: dict[str, list[str]] = {}
    for field in data:
        if field in rejected:
            errors[field] = [rejected[field]]
        elif field not in accepted:
            errors[field] = [NOT_ACCEPTED]
    return errors


def refuse_files(request: ApiRequest, accepted: tuple[str, ...] = ()) -> dict[str, list[str]]:
    return {name: ["This file is not accepted here."] for name in request.files if name not in accepted}


def raise_if(errors: Mapping[str, list[str]]) -> None:
    if errors:
        raise ApiError(400, INVALID, errors)


def id_field(data: Mapping[str, Any], field: str, errors: dict[str, list[str]]) -> int | None:
    """The id in `data[field]`, or None with the reason added to `errors`."""
    if field not in data or data[field] is None or data[field] == "":
        errors.setdefault(field, [REQUIRED])
        return None
    number = parse_id(data[field])
    if number is None:
        errors.setdefault(field, [NOT_AN_ID])
    return number


def string_field(data: Mapping[str, Any], field: str, errors: dict[str, list[str]]) -> None:
    if field in data and not isinstance(data[field], str):
        errors.setdefault(field, [NOT_A_STRING])


def is_multipart(request: ApiRequest) -> bool:
    return (request.content_type or "").lower() == "multipart/form-data"


def optional_json_body(request: ApiRequest) -> dict[str, Any]:
    """A JSON object body that may also be left out entirely (`curl -X POST` with no data)."""
    body = request.body
    if not body.strip():
        return {}
    if (request.content_type or "").lower() != "application/json":
        raise ApiError(415, "Send the body as application/json.")
    data = parse_json(body)
    if not isinstance(data, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return data


def cursor_param(request: ApiRequest, name: str) -> int | None:
    if request.GET.get(name, "") == "":
        return None
    return int_param(request, name, default=0, minimum=0, maximum=MAX_CURSOR)


def person_or_404(user_id: int, *, active_only: bool = True) -> User:
    people = User.objects.filter(pk=user_id)
    if active_only:
        people = people.filter(is_active=True)
    person = people.first()
    if person is None:
        raise ApiError(404, "No such user.")
    return person


@contextmanager
def refusals(field: str | None = None, **fields_by_code: str | None) -> Iterator[None]:
    """An action's refusal as an answer: ValidationError is a 400 naming `field` (or the field for
    its code in `fields_by_code`; None for none), PermissionDenied a 403 with the action's reason."""
    try:
        yield
    except ValidationError as exc:
        blamed = fields_by_code.get(exc.code, field) if hasattr(exc, "code") else field
        if blamed is None:
            raise ApiError(400, " ".join(exc.messages)) from exc
        raise ApiError(400, INVALID, {blamed: exc.messages}) from exc
    except PermissionDenied as exc:
        raise ApiError(403, str(exc) or "You do not have permission to do this.") from exc


# Chats ---------------------------------------------------------------------------------


@api_view(["GET", "POST"])
def chats(request: ApiRequest) -> HttpResponse:
    """GET: my chats, most recent activity first. POST: a new group with me as its owner."""
    user = request.user
    if request.method == "GET":
        chats = Chat.objects.with_list_details(user)
        return json_response([chat_to_dict(chat, user) for chat in chats])

    data = request.data
    errors = refuse_unknown(
        data, ("title", "members"), rejected={"photo": "Set the photo afterwards with PATCH, as multipart/form-data."}
    )
    string_field(data, "title", errors)
    members = data.get("members", [])
    if not isinstance(members, list) or any(parse_id(member) is None for member in members):
        errors.setdefault("members", ["Must be a list of user ids."])
    raise_if(errors)
    form = GroupForm({"title": data.get("title", ""), "members": [str(parse_id(member)) for member in members]})
    if not form.is_valid():
        raise_if(form_errors(form))
    with refusals("title"):
        chat = actions.create_group(user, form.cleaned_data["title"], form.cleaned_data["members"])
    return chat_answer(user, chat.pk, status=201)


@api_view(["POST"])
def get_or_create(request: ApiRequest) -> HttpResponse:
    """The direct chat with `user_id`: the same one for both people, created on first use."""
    data = request.data
    errors = refuse_unknown(data, ("user_id",))
    user_id = id_field(data, "user_id", errors)
    raise_if(errors)
    other = person_or_404(user_id)
    with refusals("user_id"):
        chat, created = actions.get_or_create_direct_chat(request.user, other)
    return chat_answer(request.user, chat.pk, status=201 if created else 200)


@api_view(["GET", "PATCH"], accepts=JSON_OR_MULTIPART)
def chat(request: ApiRequest, pk: int) -> HttpResponse:
    """GET: one of my chats. PATCH: rename a group, or set or remove its photo."""
    if request.method == "GET":
        return chat_answer(request.user, pk)

    chat = get_chat_for_user(request.user, pk)
    data = request.data
    remove_photo = False
    is_open = notifications = None
    if is_multipart(request):
        errors = refuse_unknown(data, ("title",), rejected={"photo": "Must be a file.", "is_open": "Send it as JSON."})
        errors |= refuse_files(request, ("photo",))
    else:
        errors = refuse_unknown(data, ("title", "photo", "is_open", "notifications"))
        if "photo" in data:
            if data["photo"] is not None:
                errors["photo"] = ["Send null to remove the photo; upload a new one as multipart/form-data."]
            remove_photo = True
        if "notifications" in data:
            if data["notifications"] not in Notifications.values:
                errors["notifications"] = ['Must be "all", "mentions" or "none".']
            notifications = data["notifications"]
        if "is_open" in data:
            if not isinstance(data["is_open"], bool):
                errors["is_open"] = ["Must be true or false."]
            is_open = data["is_open"]
    string_field(data, "title", errors)
    raise_if(errors)
    new_title = data.get("title")
    change_photo = remove_photo or "photo" in request.files
    if new_title is None and not change_photo and is_open is None and notifications is None:
        raise ApiError(400, 'Send a new title, a photo, "photo": null to remove it, is_open or notifications.')

    title = photo = None
    if new_title is not None:
        form = RenameGroupForm({"title": new_title})
        if not form.is_valid():
            raise_if(form_errors(form))
        title = form.cleaned_data["title"]
    if change_photo:
        form = GroupPhotoForm({"remove_photo": remove_photo}, request.files)
        if not form.is_valid():
            raise_if(form_errors(form))
        photo = form.cleaned_data["photo"]
    # Every change or none.
    with refusals("title", not_group=None), transaction.atomic():
        if title is not None:
            actions.rename_group(chat, request.user, title)
        if change_photo:
            actions.set_group_photo(chat, request.user, photo)
        if is_open is not None:
            actions.set_group_open(chat, request.user, is_open)
        if notifications is not None:
            actions.set_notifications(chat, request.user, notifications)
    return chat_answer(request.user, chat.pk)


@api_view(["GET"])
def directory(request: ApiRequest) -> HttpResponse:
    """The open groups anyone signed in may join, most recently active first; `q` searches titles."""
    query = request.GET.get("q", "").replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]
    limit = int_param(request, "limit", default=PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    offset = int_param(request, "offset", default=0, minimum=0, maximum=MAX_DIRECTORY_OFFSET)
    found = list(open_groups(request.user, query)[offset : offset + limit + 1])
    page = attach_previews(found[:limit])
    headers = {}
    if len(found) > limit:
        params = request.GET.copy()
        params["offset"], params["limit"] = str(offset + limit), str(limit)
        headers["Link"] = f'<{request.build_absolute_uri(request.path)}?{params.urlencode()}>; rel="next"'
    return json_response([directory_entry_to_dict(group) for group in page], headers=headers)


@api_view(["GET"])
def search(request: ApiRequest) -> HttpResponse:
    """My messages matching `q`, best first (`chat` narrows to one chat); `before` pages on."""
    errors: dict[str, list[str]] = {}
    query = request.GET.get("q", "")
    if not query.strip():
        errors["q"] = ["Send the words to search for."]
    elif len(query) > MAX_QUERY_LENGTH:
        errors["q"] = [f"At most {MAX_QUERY_LENGTH} characters."]
    chat_id, before = cursor_param(request, "chat"), cursor_param(request, "before")
    limit = int_param(request, "limit", default=SEARCH_PAGE_SIZE, minimum=1, maximum=MAX_SEARCH_PAGE_SIZE)
    if errors:
        raise ApiError(400, INVALID_QUERY, errors)
    chat = get_chat_for_user(request.user, chat_id) if chat_id is not None else None
    found, more = search_messages(request.user, query, chat=chat, before=before, limit=limit, whole=True)
    # From the memberships the search loaded with each result's chat: no query per chat.
    chats = {result.message.chat_id: result.message.chat for result in found}
    positions = {pk: ReadPositions.from_memberships(chat.memberships.all()) for pk, chat in chats.items()}
    headers = {}
    if more:
        params = request.GET.copy()
        params["before"], params["limit"] = str(found[-1].message.pk), str(limit)
        headers["Link"] = f'<{request.build_absolute_uri(request.path)}?{params.urlencode()}>; rel="next"'
    answer = [
        {
            "message": message_to_dict(
                result.message, positions[result.message.chat_id], request.user.pk, base_url=origin(request)
            ),
            "snippet": result.snippet,
        }
        for result in found
    ]
    return json_response(answer, headers=headers)


@api_view(["POST"], accepts=frozenset())
def join(request: ApiRequest, pk: int) -> HttpResponse:
    """Join an open group (201); its history starts read. A member already gets the chat (200);
    a closed group is a 404, as for any outsider."""
    chat = Chat.objects.seen_from_outside(request.user).filter(pk=pk, is_group=True).first()
    if chat is None:
        raise Http404("No such open group.")  # as for any chat one may not see
    try:
        with refusals(None):
            actions.join_group(chat, request.user)
    except ApiError:
        if not chat.memberships.filter(user=request.user).exists():
            raise
        return chat_answer(request.user, chat.pk)  # a member already: joining again changes nothing
    return chat_answer(request.user, chat.pk, status=201)


@api_view(["GET"])
def chat_messages(request: ApiRequest, pk: int) -> HttpResponse:
    """A page of a chat's messages, oldest first.

    Without a cursor, the newest `limit`; with `before`, the newest `limit` older than it
    (scrolling back); with `after`, the oldest `limit` newer than it (catching up). Keyset
    paging on the (chat, id) index: page 100 costs what page 1 does.
    """
    chat = get_chat_for_user(request.user, pk)
    before, after = cursor_param(request, "before"), cursor_param(request, "after")
    limit = int_param(request, "limit", default=PAGE_SIZE, minimum=1, maximum=MAX_PAGE_SIZE)
    if before is not None and after is not None:
        raise ApiError(400, INVALID_QUERY, {"after": ["Send before or after, not both."]})
    messages = Message.objects.with_people().filter(chat=chat)
    # One row more than asked tells whether there is a next page without a COUNT query.
    if after is not None:
        page = list(messages.filter(id__gt=after).order_by("id")[: limit + 1])
        more = len(page) > limit
        page = page[:limit]
        cursor = ("after", page[-1].pk) if more else None
    else:
        if before is not None:
            messages = messages.filter(id__lt=before)
        page = list(messages.order_by("-id")[: limit + 1])
        more = len(page) > limit
        page = page[:limit][::-1]
        cursor = ("before", page[0].pk) if more else None
    headers = {}
    if cursor is not None:
        params = request.GET.copy()
        params.pop("before", None)
        params.pop("after", None)
        params[cursor[0]], params["limit"] = str(cursor[1]), str(limit)
        headers["Link"] = f'<{request.build_absolute_uri(request.path)}?{params.urlencode()}>; rel="next"'
    positions = ReadPositions.of(chat.pk)
    viewer = request.user.pk
    return json_response(
        [message_to_dict(message, positions, viewer, base_url=origin(request)) for message in page], headers=headers
    )


# Members -------------------------------------------------------------------------------


@api_view(["GET", "POST"])
def members(request: ApiRequest, pk: int) -> HttpResponse:
    """GET: the members in the order they joined. POST: add someone to a group (any member may)."""
    chat = get_chat_for_user(request.user, pk)
    if request.method == "GET":
        memberships = Membership.objects.filter(chat=chat).select_related("user").order_by("joined_at", "id")
        return json_response([member_to_dict(membership) for membership in memberships])

    errors = refuse_unknown(request.data, ("user_id",))
    user_id = id_field(request.data, "user_id", errors)
    raise_if(errors)
    person = person_or_404(user_id)
    with refusals("user_id", not_group=None):
        membership = actions.add_member(chat, request.user, person)
    return json_response(member_to_dict(membership), status=201)


@api_view(["DELETE"])
def member(request: ApiRequest, pk: int, user_id: int) -> HttpResponse:
    """The owner removes someone from a group."""
    chat = get_chat_for_user(request.user, pk)
    # Not only active people: the owner may remove someone whose account was closed.
    person = User.objects.filter(pk=user_id, memberships__chat=chat).first()
    if person is None:
        raise ApiError(404, "No such member.")
    with refusals(None):
        actions.remove_member(chat, request.user, person)
    return no_content()


@api_view(["POST"], accepts=frozenset())
def leave(request: ApiRequest, pk: int) -> HttpResponse:
    """Leave a group; when the owner leaves, the longest-standing member becomes the owner."""
    chat = get_chat_for_user(request.user, pk)
    with refusals(None):
        actions.leave_chat(chat, request.user)
    return no_content()


@api_view(["POST"], accepts=frozenset())
def read(request: ApiRequest, pk: int) -> HttpResponse:
    """Move my read position forward to `up_to` (or the newest message); it never moves back."""
    chat = get_chat_for_user(request.user, pk)
    data = optional_json_body(request)
    errors = refuse_unknown(data, ("up_to",))
    up_to = None
    if data.get("up_to") is not None:
        up_to = id_field(data, "up_to", errors)
    raise_if(errors)
    actions.mark_read(chat, request.user, up_to)
    position = (
        Membership.objects.filter(chat=chat, user=request.user).values_list("last_read_message_id", flat=True).first()
    )
    return json_response({"last_read_message_id": position})


# Messages ------------------------------------------------------------------------------


@api_view(["POST"], accepts=JSON_OR_MULTIPART, upload_limit="MESSAGE_UPLOAD_MAX_BYTES")
def send(request: ApiRequest) -> HttpResponse:
    """Post a message to a chat: text, a picture and files (multipart, `files` repeated), or any of them;
    a repeated client_id returns the original."""
    data = request.data
    if is_multipart(request):
        errors = refuse_unknown(data, SEND_FIELDS, rejected={"image": "Must be a file.", "files": "Must be files."})
        errors |= refuse_files(request, ("image", "files"))
    else:
        rejected = {
            "image": "Upload a picture as multipart/form-data.",
            "files": "Upload files as multipart/form-data.",
        }
        errors = refuse_unknown(data, SEND_FIELDS, rejected=rejected)
        string_field(data, "text", errors)
        if data.get("client_id") is not None:
            string_field(data, "client_id", errors)
    chat_id = id_field(data, "chat", errors)
    reply_to = None
    if data.get("reply_to") not in (None, ""):
        reply_to = id_field(data, "reply_to", errors)
    raise_if(errors)
    # Before the body is judged, so an outsider's upload is never even decoded.
    chat = get_chat_for_user(request.user, chat_id)
    form = MessageForm({"text": data.get("text", ""), "client_id": data.get("client_id") or ""}, request.files)
    if not form.is_valid():
        errors = form_errors(form)
        # "Write something or attach a file" is about the text.
        if "__all__" in errors:
            errors["text"] = errors.pop("__all__")
        raise_if(errors)
    with refusals("text", client_id="client_id", reply_to="reply_to"):
        try:
            message, created = actions.send_message(
                chat,
                request.user,
                form.cleaned_data["text"],
                picture=form.cleaned_data["image"],
                client_id=form.cleaned_data["client_id"],
                rate_limited=True,
                reply_to=reply_to,
                files=form.cleaned_data["files"],
            )
        except SendingTooFast as refusal:
            raise ApiError(429, str(refusal), headers={"Retry-After": str(refusal.retry_after)}) from refusal
    # Nobody else has read a message that was just sent; a repeated one may have been read since.
    positions = ReadPositions({}) if created else ReadPositions.of(chat.pk)
    if created:
        no_reactions_yet(message)
    return json_response(
        message_to_dict(message, positions, request.user.pk, base_url=origin(request)), status=201 if created else 200
    )


@api_view(["GET", "PATCH", "DELETE"])
def message(request: ApiRequest, pk: int) -> HttpResponse:
    """GET: one message. PATCH: the author changes its text. DELETE: the author deletes it."""
    message = get_message_for_user(request.user, pk)
    if request.method == "DELETE":
        # A retried DELETE gets the same answer as the first.
        if not (message.is_deleted and message.author_id == request.user.pk):
            with refusals(None):
                actions.delete_message(message, request.user)
        return no_content()

    if request.method == "PATCH":
        data = request.data
        rejected = {field: "This field cannot be changed." for field in MESSAGE_READ_ONLY}
        rejected["chat"] = "The chat of a message cannot be changed."
        errors = refuse_unknown(data, ("text",), rejected=rejected)
        if "text" not in data:
            errors["text"] = [REQUIRED]
        string_field(data, "text", errors)
        raise_if(errors)
        form = EditMessageForm(data)
        if not form.is_valid():
            raise_if(form_errors(form))
        with refusals("text", deleted=None):
            message = actions.edit_message(message, request.user, form.cleaned_data["text"])
    return json_response(
        message_to_dict(message, ReadPositions.of(message.chat_id), request.user.pk, base_url=origin(request))
    )


@api_view(["POST", "DELETE"])
def reactions(request: ApiRequest, pk: int) -> HttpResponse:
    """POST `{"emoji"}`: react (201 with the Message; 200 if I had already). DELETE `{"emoji"}` (or
    `?emoji=`): take my reaction back (204, also when I had none: a retry gets the same answer)."""
    message = get_message_for_user(request.user, pk)
    if request.method == "DELETE":
        data = optional_json_body(request) if request.body.strip() else dict(request.GET.items())
    else:
        data = request.data
    errors = refuse_unknown(data, ("emoji",))
    if "emoji" not in data:
        errors["emoji"] = [REQUIRED]
    string_field(data, "emoji", errors)
    raise_if(errors)
    with refusals("emoji", deleted=None, system=None):
        try:
            if request.method == "DELETE":
                actions.remove_reaction(message, request.user, data["emoji"])
                return no_content()
            _reaction, created = actions.add_reaction(message, request.user, data["emoji"])
        except ReactingTooFast as refusal:
            raise ApiError(429, str(refusal), headers={"Retry-After": str(refusal.retry_after)}) from refusal
    message = get_message_for_user(request.user, pk)
    answer = message_to_dict(message, ReadPositions.of(message.chat_id), request.user.pk, base_url=origin(request))
    return json_response(answer, status=201 if created else 200)


@api_view(["DELETE"])
def link_preview(request: ApiRequest, pk: int) -> HttpResponse:
    """DELETE: the author removes the preview of their message's link (204, also when it had none:
    a retry gets the same answer)."""
    message = get_message_for_user(request.user, pk)
    with refusals(None, deleted=None):
        actions.remove_link_preview(message, request.user)
    return no_content()


urlpatterns = [
    path("chats/", chats, name="api-chats"),
    path("chats/get_or_create/", get_or_create, name="api-direct-chat"),
    path("chats/directory/", directory, name="api-chat-directory"),
    path("chats/<int:pk>/", chat, name="api-chat"),
    path("chats/<int:pk>/get_messages/", chat_messages, name="api-chat-messages"),
    path("chats/<int:pk>/members/", members, name="api-chat-members"),
    path("chats/<int:pk>/members/<int:user_id>/", member, name="api-chat-member"),
    path("chats/<int:pk>/leave/", leave, name="api-leave-chat"),
    path("chats/<int:pk>/join/", join, name="api-join-chat"),
    path("chats/<int:pk>/read/", read, name="api-mark-read"),
    path("messages/", send, name="api-messages"),
    path("search/", search, name="api-search"),
    path("messages/<int:pk>/", message, name="api-message"),
    path("messages/<int:pk>/reactions/", reactions, name="api-message-reactions"),
    path("messages/<int:pk>/link_preview/", link_preview, name="api-message-link-preview"),
]
