"""The OpenAPI document is valid, and the real endpoints answer exactly as it says.

`SchemaCheckingClient` checks every answer it receives against the document: the
path, method and status must be documented, the body must match the schema and the
required headers must be there. The API tests in accounts/ use it too.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from PIL import Image
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from accounts.models import ApiToken
from conftest import PASSWORD
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


def _template(path: str) -> str | None:
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
    template = _template(path)
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
            self.seen.add((_template(path) or "", method.lower(), str(response.status_code)))
        return response


def tiny_png() -> io.BytesIO:
    data = io.BytesIO()
    Image.new("RGB", (8, 8), "red").save(data, format="PNG")
    data.seek(0)
    data.name = "me.png"
    return data


@pytest.fixture(autouse=True)
def _fresh_rate_limits() -> Iterator[None]:
    cache.clear()
    yield
    cache.clear()


def test_the_document_is_valid_openapi_3_1():
    validate(DOCUMENT)
    assert DOCUMENT["openapi"].startswith("3.1")


def test_the_document_is_served_without_a_token(client):
    response = client.get("/api/schema/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == json.loads(json.dumps(DOCUMENT))


def test_every_path_in_the_urlconf_is_documented():
    from django.urls import get_resolver

    api_routes = set()
    for pattern in get_resolver().url_patterns:
        prefix = str(pattern.pattern)
        for inner in getattr(pattern, "url_patterns", [pattern]):
            route = prefix + (str(inner.pattern) if inner is not pattern else "")
            if route.startswith("api/"):
                api_routes.add("/" + re.sub(r"<int:(\w+)>", r"{\1}", route))
    assert api_routes == set(DOCUMENT["paths"])


def test_every_documented_answer_is_what_the_endpoints_really_send(alice, bob, carol, settings):
    """A tour of every documented operation and status (but 500), each answer checked against the schema."""
    settings.API_RATE_LIMITS = {"register": "1000/h", "login": "1000/h"}
    api = SchemaCheckingClient()
    as_json = {"content_type": "application/json"}

    # Registration
    api.post("/api/users/", {"username": "dave", "password": PASSWORD}, **as_json)
    api.post("/api/users/", {"username": "ALICE", "password": "123"}, **as_json)
    api.post("/api/users/", "not json", **as_json)
    api.post("/api/users/", "username=dave", content_type="application/x-www-form-urlencoded")

    # Login and tokens
    key = api.post("/api/login/", {"username": "alice", "password": PASSWORD}, **as_json).json()["token"]
    auth = {"HTTP_AUTHORIZATION": f"Token {key}"}
    api.post("/api/login/", {"username": "alice", "password": "wrong"}, **as_json)
    api.post("/api/login/", {"username": 5}, **as_json)
    api.post("/api/login/", [], content_type="text/plain")
    api.get("/api/login/")

    # Reading people
    api.get("/api/users/me/", **auth)
    api.get("/api/users/me/")
    api.get(f"/api/users/{bob.pk}/profile/", **auth)
    api.get("/api/users/999999/profile/", **auth)
    api.get(f"/api/users/{bob.pk}/profile/")
    api.get("/api/users/all/", {"limit": 1}, **auth)
    api.get("/api/users/all/", {"q": "ali"}, **auth)
    api.get("/api/users/all/", {"limit": "many"}, **auth)
    api.get("/api/users/all/")

    # Changing a profile
    for method in (api.patch, api.put):
        method(f"/api/users/{alice.pk}/", {"bio": "Hi"}, **as_json, **auth)
        method(f"/api/users/{alice.pk}/", {"password": "x"}, **as_json, **auth)
        method(f"/api/users/{bob.pk}/", {"bio": "Hi"}, **as_json, **auth)
        method("/api/users/999999/", {"bio": "Hi"}, **as_json, **auth)
        method(f"/api/users/{alice.pk}/", {"bio": "Hi"}, **as_json)
        method(f"/api/users/{alice.pk}/", "bio=Hi", content_type="text/plain", **auth)
    multipart = Client()._encode_data({"avatar": tiny_png()}, "multipart/form-data; boundary=BoUnDaRy")
    api.patch(f"/api/users/{alice.pk}/", multipart, content_type="multipart/form-data; boundary=BoUnDaRy", **auth)
    api.delete(f"/api/users/{alice.pk}/", **auth)

    # Off the map
    api.get("/api/nothing/here/", **auth)
    api.get("/api/users/me", **auth)
    api.get("/api/schema/")

    # Too large and too many
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    for path, method in [
        ("/api/users/", api.post),
        ("/api/login/", api.post),
        (f"/api/users/{alice.pk}/", api.patch),
        (f"/api/users/{alice.pk}/", api.put),
    ]:
        method(path, {"bio": "x" * 200}, **as_json, **auth)
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
    settings.API_RATE_LIMITS = {"register": "1/h", "login": "1/h"}
    for _ in range(2):
        api.post("/api/users/", {"username": "erin", "password": PASSWORD}, **as_json)
        api.post("/api/login/", {"username": "bob", "password": PASSWORD}, **as_json)

    # Logout last: it revokes the token.
    api.post("/api/logout/", **auth)
    api.post("/api/logout/", **auth)

    documented = {
        (template, method, status)
        for template, item in DOCUMENT["paths"].items()
        for method in METHODS
        if method in item
        for status in item[method]["responses"]
        if status != "500"
    }
    assert documented - api.seen == set()


def test_an_unexpected_error_is_a_documented_json_500(alice, monkeypatch):
    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr("accounts.api.user_to_dict", broken)
    _, key = ApiToken.objects.issue(alice)
    api = SchemaCheckingClient(raise_request_exception=False)

    response = api.get("/api/users/me/", HTTP_AUTHORIZATION=f"Token {key}")

    assert response.status_code == 500
    assert response.json() == {"detail": "Server error."}


def test_the_html_500_page_is_unchanged_outside_the_api(rf):
    from flowchat.api import server_error

    response = server_error(rf.get("/people/alice/"))

    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")


def test_an_api_500_outside_any_endpoint_is_still_json(rf):
    from flowchat.api import page_not_found, server_error

    response = server_error(rf.get("/api/users/me/"))
    not_found = page_not_found(rf.get("/api/users/me/"), None)

    assert (response.status_code, json.loads(response.content)) == (500, {"detail": "Server error."})
    assert (not_found.status_code, json.loads(not_found.content)) == (404, {"detail": "Not found."})
