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

Schema = dict[str, Any]


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
    statuses = set(errors) | {500}
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
        "Too many attempts from this address or for this username.",
        {"Retry-After": header("Seconds to wait before trying again.")},
    ),
    500: ("ServerError", "Something broke on the server; it is logged.", {}),
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
            "bio": {"type": "string"},
            "avatar": {
                "type": "string",
                "format": "uri-reference",
                "description": "A URL relative to the site: the uploaded picture or a generated initials image.",
            },
            "is_online": {"type": "boolean"},
            "last_active": {"type": ["string", "null"], "format": "date-time"},
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
                "description": "Checked by the server's password rules: long enough, not common, "
                "not all digits, not like the username.",
            },
        },
    },
    "Credentials": {
        "type": "object",
        "required": ["username", "password"],
        "additionalProperties": False,
        "properties": {
            "username": {"type": "string", "description": "The username (any case) or the email address."},
            "password": {"type": "string"},
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
        "description": "Any other field is refused with 400 and nothing changes: `password` (use the "
        "password change page), and read-only ones such as `username`, `id` or `is_staff`.",
        "additionalProperties": False,
        "properties": {
            "first_name": {"type": "string", "maxLength": 150},
            "last_name": {"type": "string", "maxLength": 150},
            "bio": {"type": "string", "maxLength": 500},
            "avatar": {"type": "null", "description": "null removes the avatar (back to initials)."},
        },
    },
    "ProfileChangesUpload": {
        "type": "object",
        "description": "The same fields as ProfileChanges, with a new avatar picture.",
        "additionalProperties": False,
        "properties": {
            "first_name": {"type": "string", "maxLength": 150},
            "last_name": {"type": "string", "maxLength": 150},
            "bio": {"type": "string", "maxLength": 500},
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
        "schema": {"type": "integer", "minimum": 0, "default": 0},
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
            description=RATE_LIMITED,
            tag=PEOPLE,
            auth=False,
            body=json_content(ref("Registration")),
            responses={201: answer("The new person.", ref("User"))},
            errors=[429],
        ),
    },
    "/api/login/": {
        "post": operation(
            operation_id="login",
            summary="Get a new token",
            description="Every login issues a new token, named after the User-Agent. " + RATE_LIMITED,
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
            tag=PEOPLE,
            responses={200: answer("That person.", ref("User"))},
            errors=[404],
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
                "method a path does not list answers 405 with an Allow header."
            ),
        },
        "tags": [{"name": PEOPLE}, {"name": "Meta"}],
        "security": [{"token": []}],
        "paths": PATHS,
        "components": {
            "securitySchemes": {
                "token": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "Authorization",
                    "description": "`Token <key>`",
                },
            },
            "schemas": SCHEMAS,
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
