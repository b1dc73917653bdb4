"""Test helpers shared by the API tests: a client that holds every answer to the OpenAPI document.

`SchemaCheckingClient` checks every /api/ answer it receives against flowchat/openapi.py:
the path, method and status must be documented, the body must match the schema (or be
empty when the answer documents no content, as a 204) and the required headers must be
there. It also records what it saw, so a tour test can prove every documented answer is real.
"""

from __future__ import annotations

import io
import json
import re
from typing import Any

from django.test import Client
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart
from jsonschema import Draft202012Validator
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from accounts.models import ApiToken, User
from flowchat import openapi

DOCUMENT = openapi.document()
DOCUMENT_URI = "urn:flowchat:openapi"
REGISTRY = Registry().with_resource(DOCUMENT_URI, Resource.from_contents(DOCUMENT, default_specification=DRAFT202012))
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _pointer(*parts: str) -> str:
    return "".join("/" + part.replace("~", "~0").replace("/", "~1") for part in parts)


def _lookup(pointer: str) -> Any:
    node: Any = DOCUMENT
    for part in pointer.split("/")[1:]:
        node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def _follow(pointer: str) -> tuple[str, dict[str, Any]]:
    node = _lookup(pointer)
    while "$ref" in node:
        pointer = node["$ref"].removeprefix("#")
        node = _lookup(pointer)
    return pointer, node


def template_for(path: str) -> str | None:
    """The documented path template for a request path; literal paths win over templated ones."""
    if path in DOCUMENT["paths"]:
        return path
    for template, item in DOCUMENT["paths"].items():
        pattern = re.escape(template)
        for parameter in item.get("parameters", []):
            parameter = _follow(parameter["$ref"].removeprefix("#"))[1] if "$ref" in parameter else parameter
            value = "[0-9]+" if parameter["schema"].get("type") == "integer" else "[^/]+"
            pattern = pattern.replace(re.escape("{" + parameter["name"] + "}"), value)
        if re.fullmatch(pattern, path):
            return template
    return None


def check_response(method: str, path: str, response: Any) -> None:
    """Fail unless `response` is what the document says `method path` may answer."""
    template = template_for(path)
    method = method.lower()
    if template is None:
        # Outside the document every path is a JSON 404 (see the document's description).
        assert response.status_code == 404, f"{method} {path} is undocumented but answered {response.status_code}"
        response_pointer = "/components/responses/NotFound"
    elif method not in DOCUMENT["paths"][template]:
        assert response.status_code == 405, f"{method} {template} is undocumented but answered {response.status_code}"
        response_pointer = "/components/responses/MethodNotAllowed"
    else:
        responses = DOCUMENT["paths"][template][method]["responses"]
        status = str(response.status_code)
        assert status in responses, f"{method.upper()} {template} answered {status}, documented: {sorted(responses)}"
        response_pointer = _pointer("paths", template, method, "responses", status)
    response_pointer, documented = _follow(response_pointer)
    for name in documented.get("headers", {}):
        if _follow(response_pointer + _pointer("headers", name))[1].get("required"):
            assert response.has_header(name), f"{method.upper()} {path} {response.status_code} lacks {name}"
    if "content" not in documented:
        assert response.content == b"", f"{method.upper()} {path} {response.status_code} should have no body"
        assert not response.has_header("Content-Type"), f"{method.upper()} {path} has a Content-Type but no body"
        return
    assert response["Content-Type"] == "application/json", response["Content-Type"]
    assert set(documented["content"]) == {"application/json"}
    body = json.loads(response.content)
    schema_pointer = response_pointer + _pointer("content", "application/json", "schema")
    validator = Draft202012Validator(
        {"$ref": f"{DOCUMENT_URI}#{schema_pointer}"},
        registry=REGISTRY,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
    assert not problems, f"{method.upper()} {path} {response.status_code} does not match the document: {problems}"


def documented_answers(tags: set[str] | None = None) -> set[tuple[str, str, str]]:
    """Every (path template, method, status) the document promises but 500 and 503, for operations with `tags`.

    500 and 503 are the server's failures, not answers to what was sent: flowchat/tests/test_unavailable.py
    checks the 503 against the document."""
    return {
        (template, method, status)
        for template, item in DOCUMENT["paths"].items()
        for method in METHODS
        if method in item and (tags is None or tags & set(item[method].get("tags", [])))
        for status in item[method]["responses"]
        if status not in {"500", "503"}
    }


class SchemaCheckingClient(Client):
    """A test Client that checks every /api/ answer against the OpenAPI document."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: set[tuple[str, str, str]] = set()

    def request(self, **request: Any) -> Any:
        response = super().request(**request)
        method, path = request["REQUEST_METHOD"], request["PATH_INFO"]
        if path.startswith("/api/"):
            check_response(method, path, response)
            self.seen.add((template_for(path) or "", method.lower(), str(response.status_code)))
        return response


# Requests a script would make --------------------------------------------------------------


def token_for(user: User) -> str:
    _, key = ApiToken.objects.issue(user)
    return key


def auth(user_or_key: User | str) -> dict[str, str]:
    """The `Authorization: Token <key>` header for a person (a fresh token) or a given key."""
    key = token_for(user_or_key) if isinstance(user_or_key, User) else user_or_key
    return {"HTTP_AUTHORIZATION": f"Token {key}"}


def picture(format: str = "PNG", size: tuple[int, int] = (40, 20), name: str = "picture.png") -> io.BytesIO:
    """A small valid picture, as an uploaded file."""
    data = io.BytesIO()
    Image.new("RGB", size, "red").save(data, format=format)
    data.seek(0)
    data.name = name
    return data


def upload(name: str, content: bytes) -> io.BytesIO:
    data = io.BytesIO(content)
    data.name = name
    return data


def multipart(fields: dict[str, Any]) -> dict[str, Any]:
    """Keyword arguments for a multipart PATCH or PUT with Django's test client."""
    return {"data": encode_multipart(BOUNDARY, fields), "content_type": MULTIPART_CONTENT}


def check_event(event: dict[str, Any]) -> dict[str, Any]:
    """A /ws/api/ event, checked against the document's SocketEvent schema."""
    schema = {"$ref": f"{DOCUMENT_URI}#/components/schemas/SocketEvent"}
    Draft202012Validator(schema, registry=REGISTRY).validate(event)
    return event


def post_scope(path: str, headers: dict[str, str]) -> dict:
    """The ASGI scope of a POST to `path` from a client on loopback, with `headers` (names in any case)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1")] + [(k.lower().encode(), v.encode()) for k, v in headers.items()],
    }
