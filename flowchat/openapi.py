"""The OpenAPI 3.1 description of FlowChat's JSON API, served at GET /api/schema/.

A plain dict, built here. To describe more endpoints (chats, messages), add their
component schemas to `SCHEMAS` and their paths to `PATHS` in a new section below,
building each operation with `operation()`: it adds the error answers that
flowchat/api.py gives on every endpoint (401 without a token; 400, 413 and 415 for
a body; 500), so the document stays true to the code. flowchat/tests/test_openapi.py
drives the real endpoints and checks every answer against this document.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.http import HttpResponse

from .api import ApiRequest, api_view, json_response
from .socket_events import EVENT_SCHEMAS, WEBSOCKET

Schema = dict[str, Any]
# Text fields refuse NUL (PostgreSQL cannot store it); a title is also more than spaces.
NO_NUL = "^[^\\x00]*$"
NOT_BLANK = "^[^\\x00]*[^\\s\\x00][^\\x00]*$"


def ref(name: str) -> Schema:
    return {"$ref": f"#/components/schemas/{name}"}


def json_content(schema: Schema) -> Schema:
    return {"application/json": {"schema": schema}}


def answer(description: str, schema: Schema, headers: Mapping[str, Any] | None = None) -> Schema:
    response: Schema = {"description": description, "content": json_content(schema)}
    if headers:
        response["headers"] = dict(headers)
    return response


def header(description: str, *, required: bool = True) -> Schema:
    return {"description": description, "required": required, "schema": {"type": "string"}}


def operation(
    *,
    operation_id: str,
    summary: str,
    tag: str,
    responses: Mapping[int, Schema],
    errors: Iterable[int] = (),
    description: str = "",
    body: Schema | None = None,
    parameters: Iterable[Schema] = (),
    auth: bool = True,
) -> Schema:
    """One operation; `errors` are the statuses it answers besides those every endpoint shares."""
    statuses = set(errors) | {500, 503}
    if auth:
        statuses.add(401)
    if body is not None:
        statuses |= {400, 413, 415}
    all_responses = {str(status): response for status, response in responses.items()}
    for status in sorted(statuses):
        all_responses[str(status)] = {"$ref": f"#/components/responses/{ERROR_RESPONSES[status][0]}"}
    result: Schema = {"operationId": operation_id, "summary": summary, "tags": [tag], "responses": all_responses}
    if description:
        result["description"] = description
    if parameters:
        result["parameters"] = list(parameters)
    if body is not None:
        result["requestBody"] = {"required": True, "content": body}
    if not auth:
        result["security"] = []
    return result


# The same error answers everywhere, from flowchat/api.py ----------------------------

ERROR_RESPONSES: dict[int, tuple[str, str, dict[str, Any]]] = {
    400: ("BadRequest", "The body or the query is not valid; `errors` names the fields to blame.", {}),
    401: (
        "Unauthorized",
        "No valid token (or, at login, wrong credentials).",
        {"WWW-Authenticate": header("Always `Token`.")},
    ),
    403: ("Forbidden", "The token's owner may not do this.", {}),
    404: ("NotFound", "No such thing (or no endpoint at this path).", {}),
    405: ("MethodNotAllowed", "The path does not answer this method.", {"Allow": header("The methods it answers.")}),
    413: ("PayloadTooLarge", "The request body is over the server's limit.", {}),
    415: ("UnsupportedMediaType", "The body is not in a content type this endpoint reads.", {}),
    429: (
        "TooManyRequests",
        "Too many attempts (from this address, for this username, or sends by this person); "
        "`detail` says how long to wait.",
        {"Retry-After": header("Seconds to wait before trying again.")},
    ),
    500: ("ServerError", "Something broke on the server; it is logged.", {}),
    503: (
        "ServiceUnavailable",
        "The database cannot be reached just now. Try again after Retry-After seconds; a send answered "
        "5xx may have been stored, so retry it with the same client_id.",
        {"Retry-After": header("Seconds to wait before trying again.")},
    ),
}

SCHEMAS: dict[str, Schema] = {
    "Error": {
        "type": "object",
        "description": "Every error answer.",
        "required": ["detail"],
        "additionalProperties": False,
        "properties": {
            "detail": {"type": "string"},
            "errors": {
                "type": "object",
                "description": "Messages per field, when some fields are to blame.",
                "additionalProperties": {"type": "array", "items": {"type": "string"}},
            },
        },
    },
    "Detail": {
        "type": "object",
        "required": ["detail"],
        "additionalProperties": False,
        "properties": {"detail": {"type": "string"}},
    },
}

PARAMETERS: dict[str, Schema] = {}
PATHS: dict[str, Schema] = {}


# People: accounts/api.py -----------------------------------------------------------

PEOPLE = "People"
USERNAME_RULES = (
    "2 to 150 characters: letters, digits and @ . + - _. Unique regardless of case, "
    "so `Alice` and `alice` are the same name."
)

SCHEMAS |= {
    "User": {
        "type": "object",
        "required": ["id", "username", "first_name", "last_name", "bio", "avatar", "is_online", "last_active"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "first_name": {"type": "string"},
            "last_name": {"type": "string"},
            "bio": {"type": ["string", "null"], "description": "null until the person writes one."},
            "avatar": {
                "type": "string",
                "format": "uri-reference",
                "description": "A URL relative to the site: the uploaded picture or a generated initials image.",
            },
            "is_online": {"type": "boolean"},
            "last_active": {"type": ["string", "null"], "format": "date-time"},
            "push_previews": {
                "type": "boolean",
                "description": "Only on your own User: whether push notifications show the message text.",
            },
        },
    },
    "UserListItem": {
        "type": "object",
        "required": ["id", "username", "avatar"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "avatar": {"type": "string", "format": "uri-reference"},
        },
    },
    "Registration": {
        "type": "object",
        "required": ["username", "password"],
        "additionalProperties": False,
        "properties": {
            "username": {"type": "string", "minLength": 2, "maxLength": 150, "description": USERNAME_RULES},
            "password": {
                "type": "string",
                "minLength": 8,
                "description": "Checked by the server's password rules: at least 8 characters, not common, "
                "not all digits, not like the username.",
            },
            "invite": {
                "type": "string",
                "maxLength": 100,
                "description": "The token of an invite link (the last part of `/join/<token>/`). Required when the "
                "server's sign-up is by invitation (`SIGNUP=invite`); taken and ignored when it is open.",
            },
        },
    },
    "Credentials": {
        "type": "object",
        "required": ["username", "password"],
        "additionalProperties": False,
        "properties": {
            "username": {
                "type": "string",
                "minLength": 1,
                "pattern": "\\S",
                "description": "The username (any case) or the email address (not only spaces).",
            },
            "password": {"type": "string", "minLength": 1},
        },
    },
    "Login": {
        "type": "object",
        "required": ["id", "username", "token", "detail"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "token": {
                "type": "string",
                "description": "Send as `Authorization: Token <token>`. Shown only now; logout revokes it.",
            },
            "detail": {"const": "Login successful"},
        },
    },
    "ProfileChanges": {
        "type": "object",
        "description": "PATCH and PUT both change the fields sent. A whole User may be sent back (as the "
        "original API's PUT does): `id`, `username` and `avatar` are taken when unchanged and refused with "
        "400 when changed; `is_online` and `last_active` are the server's and ignored. Any other field is "
        "refused with 400 and nothing changes: `password` (use the password change page) and fields such "
        "as `is_staff`.",
        "additionalProperties": False,
        "properties": {
            "first_name": {"type": "string", "maxLength": 150, "pattern": NO_NUL},
            "last_name": {"type": "string", "maxLength": 150, "pattern": NO_NUL},
            "bio": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
            "push_previews": {"type": "boolean", "description": "Show message text in push notifications."},
            "avatar": {
                "type": ["null", "string"],
                "description": "null removes the avatar (back to initials); the current avatar URL keeps it.",
            },
            "id": {"type": "integer", "description": "Must be this user's id."},
            "username": {"type": "string", "description": "Must be this user's username: it is not changed here."},
            "is_online": {"type": "boolean", "description": "Ignored."},
            "last_active": {"type": ["string", "null"], "description": "Ignored."},
        },
    },
    "ProfileChangesUpload": {
        "type": "object",
        "description": "The same fields as ProfileChanges, with a new avatar picture.",
        # A multipart body with no part in it cannot be told from a broken one (accounts.api.update).
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "first_name": {"type": "string", "maxLength": 150, "pattern": NO_NUL},
            "last_name": {"type": "string", "maxLength": 150, "pattern": NO_NUL},
            "bio": {"type": "string", "maxLength": 500, "pattern": NO_NUL},
            "push_previews": {"type": "string", "enum": ["true", "false"]},
            "avatar": {
                "type": "string",
                "contentMediaType": "application/octet-stream",
                "description": "A JPEG, PNG, GIF or WebP picture within the upload limits; "
                "it is cropped to a square and re-encoded.",
            },
        },
    },
}

PARAMETERS |= {
    "UserId": {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}},
    "Search": {
        "name": "q",
        "in": "query",
        "description": "Words that must each appear in the username, first name or last name (any case).",
        "schema": {"type": "string", "maxLength": 200},
    },
    "TitleSearch": {
        "name": "q",
        "in": "query",
        "description": "Part of a group's title (any case); longer than 100 characters is cut to 100.",
        "schema": {"type": "string", "maxLength": 200},
    },
    "Limit": {
        "name": "limit",
        "in": "query",
        "description": "How many to return.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50},
    },
    "Offset": {
        "name": "offset",
        "in": "query",
        "description": "How many to skip.",
        # Kept equal to accounts.api.MAX_OFFSET.
        "schema": {"type": "integer", "minimum": 0, "maximum": 1_000_000_000, "default": 0},
    },
}

PROFILE_BODY = {
    **json_content(ref("ProfileChanges")),
    "multipart/form-data": {
        "schema": ref("ProfileChangesUpload"),
        "encoding": {"avatar": {"contentType": "image/jpeg, image/png, image/gif, image/webp"}},
    },
}
PROFILE_ERRORS = (403, 404)
RATE_LIMITED = (
    "Limited per client address and per username (settings `API_RATE_LIMITS`); "
    "past the limit the answer is 429 with Retry-After."
)


def _param(name: str) -> Schema:
    return {"$ref": f"#/components/parameters/{name}"}


PATHS |= {
    "/api/users/": {
        "post": operation(
            operation_id="register",
            summary="Create an account",
            description="Follows the server's sign-up mode (`SIGNUP`): `open` takes anyone; `invite` needs "
            "`invite`, the token of a usable invite link (400 when it is missing, 403 when it is not valid, "
            "was revoked, has expired or is used up; each use is counted once the account is made); `closed` "
            "answers 403, as accounts are made by the operators. " + RATE_LIMITED,
            tag=PEOPLE,
            auth=False,
            body=json_content(ref("Registration")),
            responses={201: answer("The new person.", ref("User"))},
            errors=[403, 429],
        ),
    },
    "/api/login/": {
        "post": operation(
            operation_id="login",
            summary="Get a new token",
            description="Every login issues a new token, named after the User-Agent. Wrong passwords are "
            "limited as on the login page: per username and client address, per username, and (much higher) "
            "per client address (settings `LOGIN_FAILURES_*`); past a limit the answer is 429 with Retry-After "
            "and a `detail` saying how many minutes to wait, before the password is checked.",
            tag=PEOPLE,
            auth=False,
            body=json_content(ref("Credentials")),
            responses={200: answer("The token, shown once.", ref("Login"))},
            errors=[401, 429],
        ),
    },
    "/api/logout/": {
        "post": operation(
            operation_id="logout",
            summary="Revoke the token of this request",
            tag=PEOPLE,
            responses={200: answer("The token no longer works.", ref("Detail"))},
        ),
    },
    "/api/users/me/": {
        "get": operation(
            operation_id="me",
            summary="The token's owner",
            tag=PEOPLE,
            responses={200: answer("You.", ref("User"))},
        ),
    },
    "/api/users/all/": {
        "get": operation(
            operation_id="listUsers",
            summary="Active people, by username",
            description="Every word of `q` is matched in the username, first or last name, in any case and any "
            "alphabet (ё and е alike). With `DIRECTORY=shared` only the caller, the people who share a chat "
            "with them, and anyone whose whole username is `q` are listed.",
            tag=PEOPLE,
            parameters=[_param("Search"), _param("Limit"), _param("Offset")],
            responses={
                200: answer(
                    "One page of people.",
                    {"type": "array", "items": ref("UserListItem")},
                    headers={
                        "Link": header('`<url>; rel="next"` (RFC 8288) when there are more.', required=False),
                    },
                ),
            },
            errors=[400],
        ),
    },
    "/api/users/{pk}/": {
        "parameters": [_param("UserId")],
        "patch": operation(
            operation_id="updateProfile",
            summary="Change some fields of your profile",
            description="Fields left out keep their values.",
            tag=PEOPLE,
            body=PROFILE_BODY,
            responses={200: answer("Your profile as saved.", ref("User"))},
            errors=PROFILE_ERRORS,
        ),
        "put": operation(
            operation_id="replaceProfile",
            summary="Set all fields of your profile",
            description="first_name, last_name and bio left out become empty; "
            "the avatar changes only when one is sent (or null).",
            tag=PEOPLE,
            body=PROFILE_BODY,
            responses={200: answer("Your profile as saved.", ref("User"))},
            errors=PROFILE_ERRORS,
        ),
    },
    "/api/users/{pk}/profile/": {
        "parameters": [_param("UserId")],
        "get": operation(
            operation_id="profile",
            summary="Someone's profile",
            description="404 for anyone not active, and with `DIRECTORY=shared` for anyone who shares no chat "
            "with the caller.",
            tag=PEOPLE,
            responses={200: answer("That person.", ref("User"))},
            errors=[404],
        ),
    },
}


# Chats and messages: conversations/api.py ------------------------------------------

CHATS = "Chats"
MESSAGES = "Messages"
# Kept equal to conversations.models (checked by conversations/tests/test_api.py).
MESSAGE_MAX_LENGTH = 10_000
# As conversations.models.REACTION_MAX_LENGTH and conversations.limits (flowchat/tests/test_openapi.py checks).
REACTION_MAX_LENGTH = 64
MAX_REACTIONS_PER_MESSAGE = 20
MAX_ATTACHMENTS = 10  # conversations.attachments
ATTACHMENT_NAME_MAX_LENGTH = 120
REACTION_RATE_BURST = 30
REACTION_RATE_PER_MINUTE = 60
TITLE_MAX_LENGTH = 100
MESSAGE_KINDS = [
    "text",
    "created",
    "added",
    "removed",
    "left",
    "renamed",
    "photo",
    "owner",
    "joined",
    "opened",
    "closed",
]
PICTURE_TYPES = "image/jpeg, image/png, image/gif, image/webp"


def no_content(description: str) -> Schema:
    return {"description": description}


def nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


# As conversations.api.parse_id reads it: up to 19 digits, not all zeros (ids start at 1).
ID_STRING: Schema = {"type": "string", "pattern": "^0*[1-9][0-9]*$", "maxLength": 19}
ID_VALUE: Schema = {
    "description": "An id: a JSON number written as a whole number (5; not 5.0, 5e0 or true, which JSON "
    'Schema would call integers too), or a string of its digits ("5", as the original API took it); '
    "from 1 to 9223372036854775807 either way.",
    "oneOf": [{"type": "integer", "minimum": 1, "maximum": 2**63 - 1}, ID_STRING],
}
TIME = {"type": "string", "format": "date-time"}
OPTIONAL_TIME = {"type": ["string", "null"], "format": "date-time"}
PICTURE_URL = {
    "type": ["string", "null"],
    "format": "uri-reference",
    "description": "A URL relative to the site, served only to the chat's members; null when there is none.",
}
CLIENT_ID = {
    "type": ["string", "null"],
    "format": "uuid",
    "description": "Your own id for this message, unique per author: sending again with the same one "
    "returns the original message (200) instead of posting twice. Send one with every message: a send "
    "that timed out or was answered 5xx may have been stored, and retried with the same client_id it is "
    "stored once.",
}
# An empty file is refused (400 "The submitted file is empty."), so an upload has at least one byte.
UPLOAD = {"type": "string", "contentMediaType": "application/octet-stream", "minLength": 1}

SCHEMAS |= {
    "Chat": {
        "type": "object",
        "required": [
            "id",
            "title",
            "is_group",
            "is_open",
            "members",
            "display_name",
            "display_photo",
            "created_at",
            "display_time",
            "last_message",
            "unread_count",
            "notifications",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "title": {
                "type": ["string", "null"],
                "description": "The group's title; null for a direct chat.",
            },
            "is_group": {"type": "boolean"},
            "is_open": {
                "type": "boolean",
                "description": "An open group is listed in the directory (GET /api/chats/directory/) and anyone "
                "signed in may join it; false for a closed group and for every direct chat.",
            },
            "members": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "Member user ids, in the order they joined.",
            },
            "display_name": {
                "type": "string",
                "description": "The other person's username for a direct chat (as the original API), the title "
                "for a group.",
            },
            "display_photo": {
                "type": "string",
                "format": "uri-reference",
                "description": "The other person's avatar for a direct chat; the group's photo, or a generated "
                "initials image, for a group.",
            },
            "created_at": TIME,
            "display_time": {**TIME, "description": "When the last message was sent; created_at when none was."},
            "last_message": {
                "type": ["string", "null"],
                "description": "A preview of the last message in the caller's language: its text (up to 200 "
                "characters), “Photo”, “Message deleted”, or a system line; null when there is none.",
            },
            "unread_count": {
                "type": "integer",
                "minimum": 0,
                "description": "Others' messages after your read position (system lines and deleted messages "
                "do not count).",
            },
            "notifications": {
                "type": "string",
                "enum": ["all", "mentions", "none"],
                "description": "Which new messages notify you by push: the level you chose, or the default "
                "(all for direct chats and groups of up to 20 members, mentions for bigger groups).",
            },
        },
    },
    "Message": {
        "type": "object",
        "required": [
            "id",
            "author",
            "chat",
            "text",
            "html",
            "mentions",
            "image",
            "thumbnail",
            "created_at",
            "edited_at",
            "deleted_at",
            "is_read",
            "kind",
            "system_text",
            "version",
            "reactions",
            "reply_to",
            "attachments",
            "link_preview",
        ],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer", "description": "Grows with time within and across chats."},
            "author": {
                **nullable(ref("UserListItem")),
                "description": "Who wrote it (or did what a system line says); null if their account is gone.",
            },
            "chat": {"type": "integer"},
            "text": {
                "type": "string",
                "description": "Empty for a deleted message and for a picture sent without text. For a "
                "`renamed` system line, the new title; for other system lines, empty.",
            },
            "html": {
                "type": "string",
                "description": "The text as the pages show it, rendered by the server when it was sent or "
                "edited: a safe subset of Markdown (*italic*, **bold**, ~~strike~~, `code`, fenced code "
                'blocks, > quotes, lists, links with rel="nofollow noopener noreferrer" and '
                'target="_blank"), sanitized to those elements only. Empty where `text` is, and for '
                "system lines (see `system_text`). `text` stays the source: edit that.",
            },
            "mentions": {
                "type": "array",
                "items": {"type": "integer"},
                "description": "The ids of the members the text mentions as @username (each once, in "
                'order; in `html` each is a link with class "mention" and data-user). Only people '
                "who were members when it was sent or edited; never inside code. Empty for a deleted message.",
            },
            "image": PICTURE_URL,
            "thumbnail": {**PICTURE_URL, "description": "The picture at most 480 px on its long side."},
            "created_at": TIME,
            "edited_at": {**OPTIONAL_TIME, "description": "Set by the server when the author changes the text."},
            "deleted_at": {
                **OPTIONAL_TIME,
                "description": "Set when the author deleted it; its text and picture are then gone.",
            },
            "is_read": {
                "type": "boolean",
                "description": "Every member but the author has read up to this message; false when nobody "
                "else is in the chat.",
            },
            "reply_to": {
                "type": ["integer", "null"],
                "description": "The id of the message (in the same chat) this one replies to; null when it is "
                "not a reply, or the message it answered is gone. A deleted one keeps its id: its "
                "`deleted_at` says the quote is “Deleted message”.",
            },
            "kind": {
                "enum": MESSAGE_KINDS,
                "description": "`text` for what people write; anything else is a system line about the group.",
            },
            "system_text": {
                "type": ["string", "null"],
                "description": "A system line in the caller's language (“Alice added Bob”); null for `text`.",
            },
            "version": {
                "type": "integer",
                "minimum": 1,
                "description": "1 when sent; goes up by one with each edit and with the deletion. Of two copies "
                "of a message, the one with the higher version is the newer; the event stream drops an edit or "
                "deletion older than one it has already sent.",
            },
            "reactions": {
                "type": "array",
                "items": ref("ReactionSummary"),
                "maxItems": MAX_REACTIONS_PER_MESSAGE,
                "description": "Each emoji people reacted with, the first added first; empty for a deleted "
                "message and a system line. Reactions do not change `version`.",
            },
            "attachments": {
                "type": "array",
                "items": ref("Attachment"),
                "maxItems": MAX_ATTACHMENTS,
                "description": "The files sent with it, in the order they were sent; empty when none, and once "
                "it is deleted (its files are deleted with it).",
            },
            "link_preview": {
                **nullable(ref("LinkPreview")),
                "description": "The preview of the first http(s) link of the text, fetched by the server after "
                "the message was sent (every member then hears `message.link_preview` on the socket); null until "
                "then, when there is none, when its author removed it, or when the site has previews off. "
                "Previews do not change `version`.",
            },
        },
    },
    "Attachment": {
        "type": "object",
        "required": ["name", "size", "content_type", "url", "thumbnail", "width", "height"],
        "additionalProperties": False,
        "description": "A file sent with a message. A file that verified as a JPEG, PNG, GIF or WebP picture "
        "was re-encoded as WebP without its metadata (at most 2048 px on its long side) and has a thumbnail; "
        "anything else is kept as it was sent.",
        "properties": {
            "name": {
                "type": "string",
                "minLength": 1,
                "maxLength": ATTACHMENT_NAME_MAX_LENGTH,
                "description": "The name it was sent with, for display only: without any folder, control or "
                "bidirectional-override characters, at most 120 characters (a picture's ends in .webp).",
            },
            "size": {"type": "integer", "minimum": 0, "description": "In bytes, as stored."},
            "content_type": {
                "type": "string",
                "description": "`image/webp` for a verified picture; otherwise what the name suggests (never an "
                "image type), or `application/octet-stream`. A label only: the file itself is always served as "
                "`application/octet-stream` with `Content-Disposition: attachment`.",
            },
            "url": {
                "type": "string",
                "format": "uri-reference",
                "description": "The file, for the chat's members only (same token or session). Absolute in HTTP "
                "answers; relative to the site in socket events. A picture is served inline (add `?download` to "
                "save it), anything else as a download.",
            },
            "thumbnail": {
                "type": ["string", "null"],
                "format": "uri-reference",
                "description": "A picture's thumbnail, at most 480 px on its long side; null for other files.",
            },
            "width": {"type": ["integer", "null"], "minimum": 1, "description": "A picture's width in pixels."},
            "height": {"type": ["integer", "null"], "minimum": 1, "description": "A picture's height in pixels."},
        },
    },
    "LinkPreview": {
        "type": "object",
        "required": ["url", "site_name", "title", "description", "image", "fetched_at"],
        "additionalProperties": False,
        "properties": {
            "url": {"type": "string", "maxLength": 2000, "description": "The link, as written in the message."},
            "site_name": {
                "type": "string",
                "maxLength": 253,
                "description": "The site's name as its page gives it, else the link's host.",
            },
            "title": {"type": "string", "maxLength": 300, "description": "Plain text from someone else's page."},
            "description": {"type": "string", "maxLength": 500, "description": "Plain text, maybe empty."},
            "image": {
                **PICTURE_URL,
                "description": "FlowChat's own re-encoded copy of the page's picture (never the page's address "
                "for it), served only to the chat's members; null when there is none.",
            },
            "fetched_at": TIME,
        },
    },
    "ReactionSummary": {
        "type": "object",
        "required": ["emoji", "count", "mine"],
        "additionalProperties": False,
        "properties": {
            "emoji": {"type": "string", "minLength": 1, "maxLength": REACTION_MAX_LENGTH},
            "count": {"type": "integer", "minimum": 1, "description": "How many people reacted with it."},
            "mine": {
                "type": "boolean",
                "description": "Whether you (the token's person; on /ws/api/, the socket's) reacted with it.",
            },
        },
    },
    "NewReaction": {
        "type": "object",
        "required": ["emoji"],
        "additionalProperties": False,
        "properties": {
            "emoji": {
                "type": "string",
                "maxLength": REACTION_MAX_LENGTH,
                "description": "Exactly one emoji (a flag, a keycap, a skin tone and ZWJ sequences count as "
                "one); spaces around it are dropped. Anything else is refused with 400.",
            },
        },
    },
    "Member": {
        "type": "object",
        "required": ["id", "username", "avatar", "role", "last_read_message_id"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "username": {"type": "string"},
            "avatar": {"type": "string", "format": "uri-reference"},
            "role": {"enum": ["owner", "member"]},
            "last_read_message_id": {
                "type": ["integer", "null"],
                "description": "They have read every message up to this id (read receipts).",
            },
        },
    },
    "DirectChatRequest": {
        "type": "object",
        "required": ["user_id"],
        "additionalProperties": False,
        "properties": {"user_id": {**ID_VALUE, "description": "The other person. " + ID_VALUE["description"]}},
    },
    "NewGroup": {
        "type": "object",
        "required": ["title"],
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX_LENGTH, "pattern": NOT_BLANK},
            "members": {
                "type": "array",
                "items": ID_VALUE,
                "description": "Active people to add besides you (you are the owner). Unknown or inactive ids "
                "are refused.",
            },
        },
    },
    "ChatChanges": {
        "type": "object",
        "description": "Groups only. Send any of them; a member may change the title and photo, only the "
        "owner whether the group is open (403 otherwise).",
        "minProperties": 1,  # nothing to change is a 400
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX_LENGTH, "pattern": NOT_BLANK},
            "photo": {"type": "null", "description": "null removes the photo (back to initials)."},
            "is_open": {"type": "boolean", "description": "Open the group to the directory, or close it."},
            "notifications": {
                "type": "string",
                "enum": ["all", "mentions", "none"],
                "description": "Any chat, direct ones too: which new messages notify you by push.",
            },
        },
    },
    "SearchResult": {
        "type": "object",
        "required": ["message", "snippet"],
        "additionalProperties": False,
        "properties": {
            "message": ref("Message"),
            "snippet": {
                "type": "string",
                "description": "HTML: the message's text around the matched words, escaped, with each match in <mark>.",
            },
        },
    },
    "DirectoryGroup": {
        "type": "object",
        "description": "An open group as anyone signed in sees it before joining.",
        "required": ["id", "title", "display_photo", "member_count", "is_member", "display_time", "recent_messages"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "title": {"type": "string"},
            "display_photo": {"type": "string", "format": "uri-reference"},
            "member_count": {"type": "integer", "minimum": 1},
            "is_member": {"type": "boolean", "description": "Whether you are a member already."},
            "display_time": {**TIME, "description": "When something last happened in it."},
            "recent_messages": {
                "type": "array",
                "maxItems": 3,
                "description": "Its latest messages (text only, not deleted ones), oldest first.",
                "items": {
                    "type": "object",
                    "required": ["id", "author", "text", "created_at"],
                    "additionalProperties": False,
                    "properties": {
                        "id": {"type": "integer"},
                        "author": nullable(ref("UserListItem")),
                        "text": {"type": "string"},
                        "created_at": TIME,
                    },
                },
            },
        },
    },
    "ChatChangesUpload": {
        "type": "object",
        "description": "The same as ChatChanges, with a new photo.",
        "minProperties": 1,
        "additionalProperties": False,
        "properties": {
            "title": {"type": "string", "minLength": 1, "maxLength": TITLE_MAX_LENGTH, "pattern": NOT_BLANK},
            "photo": {
                **UPLOAD,
                "description": "A JPEG, PNG, GIF or WebP picture within the upload limits; it is cropped to a "
                "square and re-encoded.",
            },
        },
    },
    "NewMessage": {
        "type": "object",
        "required": ["chat", "text"],
        "additionalProperties": False,
        "properties": {
            "chat": {**ID_VALUE, "description": "A chat you are a member of."},
            "text": {
                "type": "string",
                "minLength": 1,
                "maxLength": MESSAGE_MAX_LENGTH,
                "description": "Not empty (leading and trailing blanks are dropped).",
            },
            "client_id": CLIENT_ID,
            "reply_to": {
                **nullable(ID_VALUE),
                "description": "Reply to this message: a message of the same chat, not a system line, not deleted.",
            },
        },
    },
    "NewMessageUpload": {
        "type": "object",
        "required": ["chat"],
        "anyOf": [{"required": ["image"]}, {"required": ["files"]}],
        "additionalProperties": False,
        "description": "A message with a picture and/or files, and text if you like (send text alone as JSON).",
        "properties": {
            "chat": {**ID_STRING, "description": "A chat you are a member of."},
            "text": {"type": "string", "maxLength": MESSAGE_MAX_LENGTH},
            "client_id": {**CLIENT_ID, "type": "string"},
            "reply_to": {**ID_STRING, "description": "Reply to this message of the same chat."},
            "image": {
                **UPLOAD,
                "description": "A JPEG, PNG, GIF or WebP picture within the upload limits; it is re-encoded "
                "without its metadata, at most 2048 px on its long side.",
            },
            "files": {
                "type": "array",
                "items": UPLOAD,
                "maxItems": MAX_ATTACHMENTS,
                "description": "Files of any type: the part repeated, once a file, at most 10. Each at most "
                "`UPLOAD_MAX_BYTES`, all of them (and the picture) at most `MESSAGE_UPLOAD_MAX_BYTES` together; "
                "a larger body is refused with 413 before it is read.",
            },
        },
    },
    "MessageChanges": {
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "description": "Only the text can change; any other field (`chat` included) is refused with 400. "
        "Empty text is refused (400) unless the message has a picture or files.",
        "properties": {"text": {"type": "string", "maxLength": MESSAGE_MAX_LENGTH}},
    },
    "NewMember": {
        "type": "object",
        "required": ["user_id"],
        "additionalProperties": False,
        "properties": {"user_id": {**ID_VALUE, "description": "An active person who is not yet a member."}},
    },
    "ReadMarker": {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "up_to": {
                "anyOf": [ID_VALUE, {"type": "null"}],
                "description": "The last message you have read; left out or null, the newest one.",
            },
        },
    },
    "ReadPosition": {
        "type": "object",
        "required": ["last_read_message_id"],
        "additionalProperties": False,
        "properties": {
            "last_read_message_id": {
                "type": ["integer", "null"],
                "description": "Your read position now (null while the chat has no messages).",
            },
        },
    },
}

PARAMETERS |= {
    "ChatId": {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}},
    "SearchWords": {
        "name": "q",
        "in": "query",
        "required": True,
        "description": 'Words to find. PostgreSQL matches their stemmed English and Russian forms ("кошки" finds '
        '"кошка"; quotes, OR and -word work as in a web search); SQLite matches each word as the start of one.',
        "schema": {"type": "string", "minLength": 1, "maxLength": 200},
    },
    "SearchChat": {
        "name": "chat",
        "in": "query",
        "description": "Search only this chat (one of yours; 404 otherwise).",
        "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999},
    },
    "SearchBefore": {
        "name": "before",
        "in": "query",
        "description": "The last message of the page before: the next page is what ranks below it.",
        "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999},
    },
    "SearchLimit": {
        "name": "limit",
        "in": "query",
        "description": "How many to return.",
        "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
    },
    "MessageId": {"name": "pk", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 0}},
    "MemberId": {
        "name": "user_id",
        "in": "path",
        "required": True,
        "description": "The member's user id.",
        "schema": {"type": "integer", "minimum": 0},
    },
    "Before": {
        "name": "before",
        "in": "query",
        "description": "Only messages older than this message id: the newest `limit` of them (scrolling back).",
        "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999},
    },
    "After": {
        "name": "after",
        "in": "query",
        "description": "Only messages newer than this message id: the oldest `limit` of them (catching up "
        "after a dropped connection). Not with `before`.",
        "schema": {"type": "integer", "minimum": 0, "maximum": 999_999_999_999},
    },
}

NOT_A_MEMBER = "A chat you are not a member of answers 404, exactly like one that does not exist."
MESSAGE_BODY = {
    **json_content(ref("NewMessage")),
    "multipart/form-data": {"schema": ref("NewMessageUpload"), "encoding": {"image": {"contentType": PICTURE_TYPES}}},
}
CHAT_CHANGES_BODY = {
    **json_content(ref("ChatChanges")),
    "multipart/form-data": {"schema": ref("ChatChangesUpload"), "encoding": {"photo": {"contentType": PICTURE_TYPES}}},
}
CHAT_ANSWER = answer("The chat as you see it.", ref("Chat"))
MESSAGE_ANSWER = answer("The message.", ref("Message"))
NEXT_PAGE = header('`<url>; rel="next"` (RFC 8288) when there are more in the direction you page.', required=False)


def _optional_body(operation: Schema) -> Schema:
    operation["requestBody"]["required"] = False
    return operation


PATHS |= {
    "/api/chats/": {
        "get": operation(
            operation_id="listChats",
            summary="Your chats, most recent activity first",
            tag=CHATS,
            responses={200: answer("Every chat you are a member of.", {"type": "array", "items": ref("Chat")})},
        ),
        "post": operation(
            operation_id="createGroup",
            summary="Create a group",
            description="You are its owner. Set its photo afterwards with PATCH /api/chats/{pk}/.",
            tag=CHATS,
            body=json_content(ref("NewGroup")),
            responses={201: answer("The new group.", ref("Chat"))},
        ),
    },
    "/api/chats/get_or_create/": {
        "post": operation(
            operation_id="getOrCreateDirectChat",
            summary="The direct chat with someone",
            description="The same chat every time, whichever of the two asks; created on first use. "
            "Refused (400) for yourself; 404 for an unknown or deactivated person.",
            tag=CHATS,
            body=json_content(ref("DirectChatRequest")),
            responses={
                200: answer("The chat you already had.", ref("Chat")),
                201: answer("The chat, just created.", ref("Chat")),
            },
            errors=[404],
        ),
    },
    "/api/chats/{pk}/": {
        "parameters": [_param("ChatId")],
        "get": operation(
            operation_id="getChat",
            summary="One of your chats",
            description=NOT_A_MEMBER,
            tag=CHATS,
            responses={200: CHAT_ANSWER},
            errors=[404],
        ),
        "patch": operation(
            operation_id="updateChat",
            summary="Rename a group, set or remove its photo, or open or close it",
            description="Any member may rename it or change its photo; only the owner may open or close it "
            "(403). Each change adds a system line to the chat. A direct chat cannot be changed (400). " + NOT_A_MEMBER,
            tag=CHATS,
            body=CHAT_CHANGES_BODY,
            responses={200: CHAT_ANSWER},
            errors=[403, 404],
        ),
    },
    "/api/chats/directory/": {
        "get": operation(
            operation_id="listOpenGroups",
            summary="The directory of open groups",
            description="Groups whose owner opened them, most recently active first, whether or not you are "
            "a member; `q` matches their titles. Join one with POST /api/chats/{pk}/join/.",
            tag=CHATS,
            parameters=[_param("TitleSearch"), _param("Limit"), _param("Offset")],
            responses={
                200: answer(
                    "One page of open groups.",
                    {"type": "array", "items": ref("DirectoryGroup")},
                    headers={"Link": NEXT_PAGE},
                ),
            },
            errors=[400],
        ),
    },
    "/api/chats/{pk}/join/": {
        "parameters": [_param("ChatId")],
        "post": operation(
            operation_id="joinGroup",
            summary="Join an open group",
            description="Its history starts marked read. Joining a group you are in already changes nothing "
            "(200). 404 for a group that is not open (or not there).",
            tag=CHATS,
            responses={
                200: answer("The group: you were a member already.", ref("Chat")),
                201: answer("The group, now yours.", ref("Chat")),
            },
            errors=[404],
        ),
    },
    "/api/chats/{pk}/get_messages/": {
        "parameters": [_param("ChatId")],
        "get": operation(
            operation_id="listMessages",
            summary="A page of a chat's messages, oldest first",
            description="Without a cursor, the newest `limit` messages. Keyset paging: follow the Link "
            "header, or pass the first message's id as `before` to scroll back and the last one's as "
            "`after` to catch up. " + NOT_A_MEMBER,
            tag=MESSAGES,
            parameters=[_param("Before"), _param("After"), _param("Limit")],
            responses={
                200: answer(
                    "Up to `limit` messages, oldest first.",
                    {"type": "array", "items": ref("Message")},
                    headers={"Link": NEXT_PAGE},
                ),
            },
            errors=[400, 404],
        ),
    },
    "/api/chats/{pk}/members/": {
        "parameters": [_param("ChatId")],
        "get": operation(
            operation_id="listMembers",
            summary="A chat's members, in the order they joined",
            description=NOT_A_MEMBER,
            tag=CHATS,
            responses={200: answer("The members.", {"type": "array", "items": ref("Member")})},
            errors=[404],
        ),
        "post": operation(
            operation_id="addMember",
            summary="Add someone to a group",
            description="Any member may. They start with the history marked read. 404 for an unknown or "
            "deactivated person; 400 for a direct chat or someone already in the group.",
            tag=CHATS,
            body=json_content(ref("NewMember")),
            responses={201: answer("The new member.", ref("Member"))},
            errors=[404],
        ),
    },
    "/api/chats/{pk}/members/{user_id}/": {
        "parameters": [_param("ChatId"), _param("MemberId")],
        "delete": operation(
            operation_id="removeMember",
            summary="Remove someone from a group",
            description="Only the owner may (403 otherwise). Removing yourself is refused (400): leave "
            "instead. 404 when that person is not a member.",
            tag=CHATS,
            responses={204: no_content("They are no longer a member.")},
            errors=[400, 403, 404],
        ),
    },
    "/api/chats/{pk}/leave/": {
        "parameters": [_param("ChatId")],
        "post": operation(
            operation_id="leaveChat",
            summary="Leave a group",
            description="When the owner leaves, the longest-standing member becomes the owner; when the "
            "last member leaves, the group is gone. A direct chat cannot be left (400).",
            tag=CHATS,
            responses={204: no_content("You are no longer a member.")},
            errors=[400, 404],
        ),
    },
    "/api/chats/{pk}/read/": {
        "parameters": [_param("ChatId")],
        "post": _optional_body(
            operation(
                operation_id="markRead",
                summary="Mark messages read",
                description="Moves your read position forward to `up_to`, or to the newest message when "
                "the body is left out; it never moves back. " + NOT_A_MEMBER,
                tag=CHATS,
                body=json_content(ref("ReadMarker")),
                responses={200: answer("Your read position.", ref("ReadPosition"))},
                errors=[404],
            )
        ),
    },
    "/api/search/": {
        "get": operation(
            operation_id="searchMessages",
            summary="Search your messages",
            description="Messages of your own chats only, never deleted ones nor system lines, best match first "
            "(then newest). Page on with the Link header, or with the last result's message id as `before`.",
            tag=MESSAGES,
            parameters=[_param("SearchWords"), _param("SearchChat"), _param("SearchBefore"), _param("SearchLimit")],
            responses={
                200: answer(
                    "Up to `limit` results.",
                    {"type": "array", "items": ref("SearchResult")},
                    headers={"Link": NEXT_PAGE},
                ),
            },
            errors=[400, 404],
        ),
    },
    "/api/messages/": {
        "post": operation(
            operation_id="sendMessage",
            summary="Send a message",
            description="Text as JSON, or a picture and/or files (with text if you like) as multipart/form-data. "
            "Members only: " + NOT_A_MEMBER + " "
            "Each person may send a burst of `SEND_RATE_BURST` messages, then `SEND_RATE_PER_MINUTE` "
            "(pages and API together); past that the answer is 429 with Retry-After and nothing is "
            "stored. A retry with the client_id of a stored message still gets that message. "
            "A send answered 5xx (or not answered at all) may have been "
            "stored: retry it with the same client_id, and you get the stored message (200), never a second one.",
            tag=MESSAGES,
            body=MESSAGE_BODY,
            responses={
                201: answer("The message, sent.", ref("Message")),
                200: answer("The message sent earlier with this client_id; nothing new was sent.", ref("Message")),
            },
            errors=[404, 429],
        ),
    },
    "/api/messages/{pk}/": {
        "parameters": [_param("MessageId")],
        "get": operation(
            operation_id="getMessage",
            summary="One message",
            description="A message in a chat you are not a member of answers 404.",
            tag=MESSAGES,
            responses={200: MESSAGE_ANSWER},
            errors=[404],
        ),
        "patch": operation(
            operation_id="editMessage",
            summary="Change the text of your message",
            description="The author only (403 for other members); sets edited_at when the text changes. "
            "A deleted message cannot be changed (400).",
            tag=MESSAGES,
            body=json_content(ref("MessageChanges")),
            responses={200: MESSAGE_ANSWER},
            errors=[403, 404],
        ),
        "delete": operation(
            operation_id="deleteMessage",
            summary="Delete your message",
            description="The author only (403 for other members). Its text and picture are gone; the "
            "message stays as “Message deleted” with deleted_at set. Deleting it again answers 204 too.",
            tag=MESSAGES,
            responses={204: no_content("Deleted.")},
            errors=[403, 404],
        ),
    },
    "/api/messages/{pk}/link_preview/": {
        "parameters": [_param("MessageId")],
        "delete": operation(
            operation_id="removeLinkPreview",
            summary="Remove the preview of your message's link",
            description="The author only (403 for other members; 400 for a deleted message). The preview is "
            "not fetched again; its picture is gone. Answers 204 also when there was none, so a retry gets the "
            "same answer. Every member hears `message.link_preview` with `link_preview: null`.",
            tag=MESSAGES,
            responses={204: no_content("The preview is gone (or was never there).")},
            errors=[400, 403, 404],
        ),
    },
    "/api/messages/{pk}/reactions/": {
        "parameters": [_param("MessageId")],
        "post": operation(
            operation_id="addReaction",
            summary="React to a message with an emoji",
            description="Any member. At most one of each emoji per person per message, and at most "
            f"{MAX_REACTIONS_PER_MESSAGE} different emoji on a message (400 past that). A deleted message "
            "or a system line takes none (400). Reactions count against a rate of their own "
            f"({REACTION_RATE_BURST} at once, then {REACTION_RATE_PER_MINUTE} a minute); past it, 429 with "
            "Retry-After. Every member hears `message.reactions` on the socket.",
            tag=MESSAGES,
            body=json_content(ref("NewReaction")),
            responses={
                201: answer("Your reaction is added; the message with its reactions.", ref("Message")),
                200: answer("You had reacted with this emoji already; nothing changed.", ref("Message")),
            },
            errors=[404, 429],
        ),
        "delete": operation(
            operation_id="removeReaction",
            summary="Take back your reaction",
            description='The emoji as a JSON body `{"emoji"}` or as `?emoji=`. Answers 204 whether or '
            "not you had reacted with it, so a retry gets the same answer.",
            tag=MESSAGES,
            parameters=[
                {
                    "name": "emoji",
                    "in": "query",
                    "required": False,
                    "schema": {"type": "string", "maxLength": REACTION_MAX_LENGTH},
                    "description": "The emoji, when the request has no body.",
                }
            ],
            responses={204: no_content("Your reaction with it is gone (or was never there).")},
            errors=[400, 404, 415, 429],
        ),
    },
}


# Web Push ----------------------------------------------------------------------------

PUSH = "Push"
SCHEMAS |= {
    "PushInfo": {
        "type": "object",
        "required": ["public_key"],
        "additionalProperties": False,
        "properties": {
            "public_key": {
                "type": ["string", "null"],
                "description": "The VAPID public key (base64url) for PushManager.subscribe; null while push is off.",
            }
        },
    },
    "PushSubscription": {
        "type": "object",
        "required": ["id", "endpoint", "created_at"],
        "additionalProperties": False,
        "properties": {
            "id": {"type": "integer"},
            "endpoint": {"type": "string", "format": "uri"},
            "user_agent": {"type": "string"},
            "created_at": TIME,
            "last_success_at": {**TIME, "type": ["string", "null"]},
        },
    },
    "NewPushSubscription": {
        "type": "object",
        "description": "A browser's PushSubscription.toJSON(). The endpoint must be https on a public host.",
        "required": ["endpoint", "keys"],
        "additionalProperties": False,
        "properties": {
            "endpoint": {
                "type": "string",
                "format": "uri",
                "pattern": "^https://",
                "maxLength": 2000,
                "description": "The push service's URL: https, on a host that resolves to public addresses only.",
            },
            "expirationTime": {"type": ["number", "null"]},
            "keys": {
                "type": "object",
                "required": ["p256dh", "auth"],
                "properties": {
                    "p256dh": {
                        "type": "string",
                        "pattern": "^[A-Za-z0-9_-]{87}$",
                        "description": "The device's P-256 public key (65 bytes), base64url.",
                    },
                    "auth": {
                        "type": "string",
                        "pattern": "^[A-Za-z0-9_-]{22}$",
                        "description": "The device's auth secret (16 bytes), base64url.",
                    },
                },
            },
        },
    },
}
PATHS |= {
    "/api/push/": {
        "get": operation(
            operation_id="pushInfo",
            summary="The server's Web Push key",
            tag=PUSH,
            responses={200: answer("The VAPID public key.", ref("PushInfo"))},
        ),
    },
    "/api/push/subscriptions/": {
        "get": operation(
            operation_id="listPushSubscriptions",
            summary="Your devices that receive notifications",
            tag=PUSH,
            responses={200: answer("Newest first.", {"type": "array", "items": ref("PushSubscription")})},
        ),
        "post": operation(
            operation_id="addPushSubscription",
            summary="Register a device for notifications",
            description="A repeated endpoint answers 200 with the device already registered.",
            tag=PUSH,
            body=json_content(ref("NewPushSubscription")),
            responses={
                200: answer("Already registered.", ref("PushSubscription")),
                201: answer("Registered.", ref("PushSubscription")),
            },
        ),
    },
    "/api/push/subscriptions/{pk}/": {
        "parameters": [{"name": "pk", "in": "path", "required": True, "schema": {"type": "integer", "minimum": 1}}],
        "delete": operation(
            operation_id="deletePushSubscription",
            summary="Stop notifying a device",
            tag=PUSH,
            responses={204: no_content("It receives no more notifications.")},
            errors=(404,),
        ),
    },
}


# This document ----------------------------------------------------------------------

PATHS |= {
    "/api/schema/": {
        "get": operation(
            operation_id="schema",
            summary="This OpenAPI document",
            tag="Meta",
            auth=False,
            responses={200: answer("OpenAPI 3.1.", {"type": "object"})},
        ),
    },
}


def document() -> Schema:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "FlowChat API",
            "version": "1.0",
            "description": (
                "JSON in, JSON out. Send `Authorization: Token <key>` (from POST /api/login/) on every "
                "call but registration and login; browser session cookies do not count here. "
                "Every error is an Error object. A path outside this document answers 404, and a "
                "method a path does not list answers 405 with an Allow header. A request for a host "
                "the server does not serve (ALLOWED_HOSTS) answers 400 on any path. What other people "
                "do arrives as events on the WebSocket /ws/api/ (see x-websocket and SocketEvent). "
                "When the database cannot be reached any call may answer 503 with Retry-After: try again "
                "then; a write answered 5xx may have been done, so send messages with a client_id and "
                "retry with the same one."
            ),
        },
        "tags": [{"name": PEOPLE}, {"name": CHATS}, {"name": MESSAGES}, {"name": "Meta"}],
        "security": [{"token": []}],
        "paths": PATHS,
        # Events for scripts over a WebSocket, which OpenAPI cannot describe as an operation.
        "x-websocket": WEBSOCKET,
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <key>`",
                },
            },
            "schemas": SCHEMAS | EVENT_SCHEMAS,
            "parameters": PARAMETERS,
            "responses": {
                name: answer(description, ref("Error"), headers=headers)
                for name, description, headers in ERROR_RESPONSES.values()
            },
        },
    }


@api_view(["GET"], auth=False)
def schema(request: ApiRequest) -> HttpResponse:
    return json_response(document())
