"""Who may touch a chat: every page, fragment, API endpoint, file and socket, for two people who may not.

alice owns the group "Climbing" with bob and dave in it; alice removed bob through the real
action, so bob is the just-removed member; carol, signed in, was never in it (the outsider).
alice and dave also have a direct chat that neither bob nor carol is in. The access rule
(conversations/permissions.py) is "members only, else 404": the same answer as for a chat
that does not exist, so nobody learns a chat is there. A socket gives such a person nothing
more of the chat.

The matrix is checked against the URLconf and the socket routes: a new route that is neither
probed here nor listed as not about a chat fails `test_every_route_is_in_the_matrix`.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from channels.layers import get_channel_layer
from channels.testing import WebsocketCommunicator
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve

from accounts.models import User
from conftest import make_person
from conversations import actions, previews
from conversations.attachments import prepare
from conversations.forms import MessageForm
from conversations.models import Chat, LinkPreview, Membership, Message
from conversations.routing import websocket_urlpatterns
from conversations.tests.test_consumers import events, open_tab, pushed, script
from flowchat.asgi import application
from flowchat.images import CHAT_PHOTO, PICTURE, THUMBNAIL, clean_image, clean_images
from flowchat.testing import auth, picture

HTMX = {"HTTP_HX_REQUEST": "true"}


# The world ----------------------------------------------------------------------------------


@dataclass
class World:
    alice: User
    bob: User
    carol: User
    dave: User
    group: Chat
    direct: Chat
    # What a path may name, by chat: {"message": alice's message, "their_message": one by bob
    # (dave in the direct chat), "picture" / "thumbnail" / "photo": stored file names}.
    names: dict[int, dict[str, Any]] = field(default_factory=dict)


def _upload() -> SimpleUploadedFile:
    return SimpleUploadedFile("picture.png", picture().getvalue(), content_type="image/png")


def _document() -> SimpleUploadedFile:
    return SimpleUploadedFile("topo.pdf", b"%PDF-1.4 the route", content_type="application/pdf")


def _picture_pair():
    return tuple(clean_images(_upload(), [PICTURE, THUMBNAIL]))


def build_world(*, remove_bob: bool = True) -> World:
    alice, bob = make_person("alice", "Alice", "Archer"), make_person("bob", "Bob", "Baker")
    carol, dave = make_person("carol", "Carol", "Cole"), make_person("dave", "Dave", "Dale")
    group = actions.create_group(alice, "Climbing", [bob, dave])
    actions.set_group_photo(group, alice, clean_image(_upload(), CHAT_PHOTO))
    direct = actions.get_or_create_direct_chat(alice, dave)[0]
    world = World(alice, bob, carol, dave, group, direct)
    for chat, other in ((group, bob), (direct, dave)):
        theirs, _ = actions.send_message(chat, other, "Rope at nine?")
        mine, _ = actions.send_message(chat, alice, "Yes, and the photos", picture=_picture_pair())
        form = MessageForm({"text": "The topo"}, {"files": [_upload(), _document()]})
        assert form.is_valid(), form.errors
        with_files, _ = actions.send_message(chat, alice, "The topo", files=form.cleaned_data["files"])
        picture_file, document = with_files.attachments.all()
        # A link with its preview, stored as the preview job stores one (nothing is fetched here).
        linked, _ = actions.send_message(chat, alice, "The route: https://example.com/route")
        preview = actions.set_link_preview(
            linked.pk,
            previews.Preview(
                "https://example.com/route", "Topo", "The route", "", clean_image(_upload(), previews.PREVIEW_IMAGE)
            ),
        )
        world.names[chat.pk] = {
            "message": mine.pk,
            "their_message": theirs.pk,
            "linked": linked.pk,
            "picture": mine.image.name.rsplit("/", 1)[-1],
            "thumbnail": mine.thumbnail.name.rsplit("/", 1)[-1],
            "file": document.file.name.rsplit("/", 1)[-1],
            "picture_file": picture_file.file.name.rsplit("/", 1)[-1],
            "file_thumbnail": picture_file.thumbnail.name.rsplit("/", 1)[-1],
            "preview_picture": preview.image.name.rsplit("/", 1)[-1],
        }
    group.refresh_from_db()
    world.names[group.pk]["photo"] = group.photo.name.rsplit("/", 1)[-1]
    if remove_bob:
        actions.remove_member(group, alice, bob)
    return world


def snapshot(chat: Chat) -> tuple:
    """Everything about a chat that a refused request must leave as it was."""
    chat = Chat.objects.get(pk=chat.pk)
    messages = list(
        Message.objects.filter(chat=chat).order_by("id").values_list("id", "text", "edited_at", "deleted_at", "image")
    )
    members = list(
        Membership.objects.filter(chat=chat)
        .order_by("user_id")
        .values_list("user_id", "role", "last_read_message_id", "notifications")
    )
    shown = list(LinkPreview.objects.filter(message__chat=chat).order_by("id").values_list("id", "removed", "image"))
    return (chat.title, chat.photo.name, chat.members_version, messages, members, shown)


# The probes -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Probe:
    """One request that concerns a chat. `path` is formatted with the chat, its names and the viewer."""

    method: str
    path: str
    data: dict[str, Any] | None = None
    htmx: dict[str, str] | None = None
    api: bool = False
    group_only: bool = False  # names the group's photo, which a direct chat has not

    @property
    def id(self) -> str:
        how = "api" if self.api else "htmx" if self.htmx is not None else "page"
        body = f" {json.dumps(self.data, sort_keys=True)}" if self.data else ""
        return f"{self.method} {self.path}{body} [{how}]"

    @staticmethod
    def names(world: World, chat: Chat, viewer: User) -> dict[str, Any]:
        return {"chat": chat.pk, "viewer": viewer.pk, "dave": world.dave.pk, **world.names[chat.pk]}

    def url(self, world: World, chat: Chat, viewer: User) -> str:
        return self.path.format(**self.names(world, chat, viewer))

    def body(self, world: World, chat: Chat, viewer: User) -> dict[str, Any] | None:
        """The data, with each value "{name}" replaced by what it names (a number: an id)."""
        if self.data is None:
            return None
        names = self.names(world, chat, viewer)
        return {
            key: names[value[1:-1]] if isinstance(value, str) and value[:1] == "{" and value[-1:] == "}" else value
            for key, value in self.data.items()
        }

    def send(self, world: World, chat: Chat, viewer: User):
        url, body = self.url(world, chat, viewer), self.body(world, chat, viewer)
        client = Client()
        if self.api:
            headers = auth(viewer)
            kwargs = {"content_type": "application/json"} if body is not None else {}
            return client.generic(self.method, url, json.dumps(body) if body is not None else "", **kwargs, **headers)
        client.force_login(viewer)
        call = getattr(client, self.method.lower())
        return call(url, body or {}, **(self.htmx or {}))


def target(name: str) -> dict[str, str]:
    return {**HTMX, "HTTP_HX_TARGET": name}


CHAT = "/chats/{chat}"
SINCE = "2000-01-01T00:00:00%2B00:00"

PROBES = [
    # The chat page and its fragments.
    Probe("GET", CHAT + "/"),
    Probe("GET", CHAT + "/", htmx=HTMX),
    Probe("GET", CHAT + "/?before={their_message}", htmx=HTMX),
    Probe("GET", CHAT + "/?after=1"),
    Probe("GET", CHAT + "/updates/?after=0&since=" + SINCE, htmx=HTMX),
    Probe("GET", CHAT + "/mentions/?q=a"),
    # Sending, editing, deleting, reading.
    Probe("POST", CHAT + "/messages/", {"text": "let me in"}),
    Probe("POST", CHAT + "/messages/", {"text": "let me in"}, htmx=HTMX),
    Probe("GET", CHAT + "/messages/{their_message}/edit/"),
    Probe("GET", CHAT + "/messages/{their_message}/edit/?cancel=1", htmx=HTMX),
    Probe("POST", CHAT + "/messages/{their_message}/edit/", {"text": "changed"}),
    Probe("POST", CHAT + "/messages/{message}/edit/", {"text": "changed"}, htmx=HTMX),
    Probe("GET", CHAT + "/messages/{their_message}/delete/"),
    Probe("POST", CHAT + "/messages/{their_message}/delete/"),
    Probe("POST", CHAT + "/messages/{message}/delete/", htmx=HTMX),
    Probe("POST", CHAT + "/read/"),
    Probe("POST", CHAT + "/read/", {"up_to": "{message}"}, htmx=HTMX),
    # A message's link, its reactions and the picker.
    Probe("GET", CHAT + "/messages/{their_message}/"),
    Probe("GET", CHAT + "/messages/{their_message}/reactions/"),
    Probe("GET", CHAT + "/messages/{their_message}/reactions/?picker", htmx=HTMX),
    Probe("POST", CHAT + "/messages/{their_message}/reactions/", {"emoji": "👍"}),
    Probe("POST", CHAT + "/messages/{their_message}/reactions/", {"custom": "👍"}, htmx=HTMX),
    Probe("GET", CHAT + "/?reply_to={their_message}", htmx=HTMX),
    # Removing a link's preview.
    Probe("POST", CHAT + "/messages/{linked}/link-preview/remove/"),
    Probe("POST", CHAT + "/messages/{linked}/link-preview/remove/", htmx=HTMX),
    # Files.
    Probe("GET", CHAT + "/initials.svg"),
    Probe("GET", "/media/pictures/{picture}"),
    Probe("GET", "/media/pictures/{thumbnail}"),
    Probe("GET", "/media/files/{chat}/{file}"),
    Probe("GET", "/media/files/{chat}/{picture_file}"),
    Probe("GET", "/media/files/{chat}/{picture_file}?download"),
    Probe("GET", "/media/files/{chat}/{file_thumbnail}"),
    Probe("GET", "/media/pictures/{preview_picture}"),
    Probe("GET", "/media/chat-photos/{photo}", group_only=True),
    # The group pages.
    Probe("GET", CHAT + "/settings/"),
    Probe("GET", CHAT + "/settings/?q=car", htmx=target("add-candidates")),
    Probe("POST", CHAT + "/rename/", {"title": "Mine now"}),
    Probe("POST", CHAT + "/photo/", {"remove_photo": "on"}),
    Probe("POST", CHAT + "/members/", {"user": "{viewer}"}),
    Probe("POST", CHAT + "/members/", {"user": "{viewer}"}, htmx=target("members")),
    Probe("GET", CHAT + "/members/{dave}/remove/"),
    Probe("POST", CHAT + "/members/{dave}/remove/"),
    Probe("GET", CHAT + "/leave/"),
    Probe("POST", CHAT + "/leave/"),
    Probe("POST", CHAT + "/open/", {"is_open": "on"}),
    Probe("POST", CHAT + "/notifications/", {"notifications": "none"}),
    Probe("GET", CHAT + "/notifications/"),
    Probe("GET", "/search/?q=Rope&chat={chat}"),
    # Joining is for open groups only: a closed one is not there for an outsider.
    Probe("POST", CHAT + "/join/"),
    # The API.
    Probe("GET", "/api/chats/{chat}/", api=True),
    Probe("PATCH", "/api/chats/{chat}/", {"title": "Mine now"}, api=True),
    Probe("PATCH", "/api/chats/{chat}/", {"photo": None}, api=True),
    Probe("GET", "/api/chats/{chat}/get_messages/", api=True),
    Probe("GET", "/api/chats/{chat}/get_messages/?after=0&limit=5", api=True),
    Probe("GET", "/api/chats/{chat}/members/", api=True),
    Probe("POST", "/api/chats/{chat}/members/", {"user_id": "{viewer}"}, api=True),
    Probe("DELETE", "/api/chats/{chat}/members/{dave}/", api=True),
    Probe("POST", "/api/chats/{chat}/leave/", api=True),
    Probe("POST", "/api/chats/{chat}/join/", api=True),
    Probe("GET", "/api/search/?q=Rope&chat={chat}", api=True),
    Probe("PATCH", "/api/chats/{chat}/", {"is_open": True}, api=True),
    Probe("PATCH", "/api/chats/{chat}/", {"notifications": "none"}, api=True),
    Probe("POST", "/api/chats/{chat}/read/", api=True),
    Probe("POST", "/api/chats/{chat}/read/", {"up_to": "{message}"}, api=True),
    Probe("POST", "/api/messages/", {"chat": "{chat}", "text": "let me in"}, api=True),
    Probe("GET", "/api/messages/{their_message}/", api=True),
    Probe("GET", "/api/messages/{message}/", api=True),
    Probe("PATCH", "/api/messages/{their_message}/", {"text": "changed"}, api=True),
    Probe("DELETE", "/api/messages/{their_message}/", api=True),
    Probe("DELETE", "/api/messages/{message}/", api=True),
    Probe("POST", "/api/messages/{their_message}/reactions/", {"emoji": "👍"}, api=True),
    Probe("DELETE", "/api/messages/{their_message}/reactions/", {"emoji": "👍"}, api=True),
    Probe("DELETE", "/api/messages/{linked}/link_preview/", api=True),
]
# Pages and endpoints that list one's chats: a chat one is not in is simply not there.
LISTS = [
    Probe("GET", "/"),
    Probe("GET", "/chats/", htmx=HTMX),
    Probe("GET", "/api/chats/", api=True),
    Probe("GET", "/search/?q=Rope"),
    Probe("GET", "/search/?q=Rope", htmx=target("search-results")),
]

# Routes that are not about a chat, and why nobody's chat can leak through them.
NOT_ABOUT_A_CHAT = {
    "people/<str:username>/": "a profile: any signed-in person may see it (SECURITY.md)",
    "people/<int:pk>/initials.svg": "a person's initials: for signed-in people",
    "settings/": "one's own profile",
    "settings/preferences/": "one's own theme and language",
    "settings/time-zone/": "one's own time zone",
    "settings/time-zone/detected/": "one's own time zone, as the browser tells it",
    "settings/notifications/": "one's own notification previews setting",
    "settings/devices/": "registers a push device for oneself",
    "settings/devices/<int:pk>/remove/": "removes one of one's own push devices (404 for anyone else's)",
    "media/avatars/<str:name>": "a person's avatar, beside their name wherever it shows",
    "chats/viewer-<int:pk>.css": "holds nothing but the id it is asked for",
    "people/": "the directory of people",
    "groups/": "the directory of open groups: closed ones are never listed (test_open_groups.py)",
    "api/chats/directory/": "the directory of open groups: closed ones are never listed (test_open_groups.py)",
    "chats/direct/": "opens one's own direct chat with someone",
    "chats/new-group/": "creates one's own group",
    "api/schema/": "the OpenAPI document",
    "sw.js": "the service worker: the same script for everyone",
    "manifest.webmanifest": "the web app manifest: the same for everyone",
    "api/users/": "registration",
    "api/login/": "login",
    "api/logout/": "ends one's own token",
    "api/users/me/": "one's own user",
    "api/users/all/": "the directory of people",
    "api/users/<int:pk>/": "changes one's own profile only (403 for anyone else's)",
    "api/users/<int:pk>/profile/": "a profile: any signed-in person may see it",
    "api/push/": "the server's VAPID public key",
    "api/push/subscriptions/": "one's own push devices",
    "api/push/subscriptions/<int:pk>/": "removes one of one's own push devices (404 for anyone else's)",
    "api/chats/get_or_create/": "opens one's own direct chat with someone",
    "^api(?:/[\\s\\S]*)?$": "the JSON 404 for everything else under /api/",
    "invites/": "one's own invite links (an operator's: all of them); 404 unless SIGNUP=invite",
    "invites/<int:pk>/revoke/": "revokes one of one's own invite links (404 for anyone else's)",
    "join/<str:token>/": "an invite link: sends its token to the sign-up page",
}
# Whole includes that are not about chats: django-allauth's account pages (one's own
# account) and the admin (staff only).
NOT_ABOUT_A_CHAT_PREFIXES = {"accounts/": "django-allauth: one's own account", "admin/": "the admin: staff only"}
# The catch-all socket route refuses every handshake.
SOCKETS_PROBED = {"ws/": "BrowserSocket", "ws/api/": "ApiSocket", "": "NoSuchSocket (refuses all)"}


def all_routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    routes = []
    for pattern in (resolver or get_resolver()).url_patterns:
        if isinstance(pattern, URLResolver):
            routes += all_routes(pattern, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            routes.append(prefix + str(pattern.pattern))
    return routes


def route_of(path: str) -> str:
    return resolve(path.split("?", 1)[0]).route


VIEWERS = {
    "outsider": lambda world: (world.carol, world.group),
    "removed member": lambda world: (world.bob, world.group),
    "outsider of a direct chat": lambda world: (world.carol, world.direct),
    "removed member, of a direct chat": lambda world: (world.bob, world.direct),
}


@pytest.fixture
def world(db) -> World:
    return build_world()


@pytest.fixture(autouse=True)
def _fresh_rate_limits(fresh_rate_limits):
    """Many logins and tokens in one test: no rate limit counted by another test may refuse them."""


# The matrix ---------------------------------------------------------------------------------------


def test_every_route_is_in_the_matrix(db):
    """A new URL that concerns a chat must get a probe here (or a reason it does not concern one)."""
    world = build_world()
    probed = {route_of(probe.url(world, world.group, world.carol)) for probe in PROBES + LISTS}
    unaccounted = [
        route
        for route in all_routes()
        if route not in probed
        and route not in NOT_ABOUT_A_CHAT
        and not any(route.startswith(prefix) for prefix in NOT_ABOUT_A_CHAT_PREFIXES)
    ]
    assert unaccounted == [], "Routes neither probed by the access matrix nor listed as not about a chat"
    assert not probed & set(NOT_ABOUT_A_CHAT), "A route is both probed and listed as not about a chat"
    assert set(NOT_ABOUT_A_CHAT) <= set(all_routes()), "NOT_ABOUT_A_CHAT names a route that is gone"
    sockets = [str(pattern.pattern) for pattern in websocket_urlpatterns]
    assert sorted(sockets) == sorted(SOCKETS_PROBED), "A socket route without a test below"


@pytest.mark.parametrize("viewer", VIEWERS)
@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.id)
def test_someone_not_in_the_chat_gets_a_404_and_changes_nothing(world, viewer, probe):
    person, chat = VIEWERS[viewer](world)
    if probe.group_only and not chat.is_group:
        pytest.skip("a direct chat has no photo")
    before = {chat.pk: snapshot(chat) for chat in (world.group, world.direct)}

    response = probe.send(world, chat, person)

    assert response.status_code == 404, response.content[:300]
    if probe.api:
        assert response.json() == {"detail": "Not found."}
    text = b"".join(response) if getattr(response, "streaming", False) else response.content
    assert b"Rope at nine?" not in text and b"Climbing" not in text
    assert {chat.pk: snapshot(chat) for chat in (world.group, world.direct)} == before


@pytest.mark.parametrize("probe", PROBES, ids=lambda probe: probe.id)
def test_a_member_gets_past_the_access_rule(world, probe):
    """The control: each probe is a real request, which the owner of the chat is not refused as a stranger."""
    response = probe.send(world, world.group, world.alice)

    assert response.status_code != 404, response.content[:300]


@pytest.mark.parametrize("viewer", ["outsider", "removed member"])
@pytest.mark.parametrize("probe", LISTS, ids=lambda probe: probe.id)
def test_a_chat_one_is_not_in_is_not_in_ones_list(world, viewer, probe):
    person, chat = VIEWERS[viewer](world)
    in_alices = probe.send(world, chat, world.alice).content.decode()
    assert "Climbing" in in_alices  # the control: the list does show the group to a member

    listed = probe.send(world, chat, person)

    assert listed.status_code == 200
    text = listed.content.decode()
    assert "Climbing" not in text and "Rope at nine?" not in text and "Yes, and the photos" not in text
    if probe.api:
        assert {row["id"] for row in listed.json()}.isdisjoint({world.group.pk, world.direct.pk})
    else:
        assert f'id="chat-{world.group.pk}"' not in text and f'id="chat-{world.direct.pk}"' not in text


def without_tokens(response) -> str:
    """A page without its per-response secrets (CSRF token, CSP nonce)."""
    return re.sub(r'(nonce="|csrfmiddlewaretoken" value="|"x-csrftoken": ")[^"]+', r"\1", response.content.decode())


def test_a_removed_member_is_refused_the_chat_as_a_stranger_is(world):
    """Not a 403 that says "it is there, but not for you": exactly a stranger's answer."""
    strangers = Probe("GET", CHAT + "/").send(world, world.group, world.carol)
    removed = Probe("GET", CHAT + "/").send(world, world.group, world.bob)
    missing = Client()
    missing.force_login(world.bob)

    nowhere = missing.get("/chats/999999/")

    assert removed.status_code == strangers.status_code == nowhere.status_code == 404
    assert without_tokens(removed) == without_tokens(nowhere)


# Sockets ---------------------------------------------------------------------------------------------

# What members do in the group after bob's removal, through the real actions; each reaches
# alice's own socket (the control) and must reach neither bob's nor carol's.
SOCKET_EVENTS: dict[str, Callable[[World], Any]] = {
    "message.created": lambda w: actions.send_message(w.group, w.dave, "After bob left"),
    "message.created with a picture": lambda w: actions.send_message(w.group, w.dave, picture=_picture_pair()),
    "message.created with files": lambda w: actions.send_message(
        w.group, w.dave, files=[prepare(_document()), prepare(_upload())]
    ),
    "message.edited": lambda w: actions.edit_message(
        Message.objects.get(pk=w.names[w.group.pk]["message"]), w.alice, "Edited after bob left"
    ),
    "message.deleted": lambda w: actions.delete_message(
        Message.objects.get(pk=w.names[w.group.pk]["message"]), w.alice
    ),
    "read (receipts)": lambda w: actions.mark_read(w.group, w.dave),
    "typing": lambda w: actions.typing(w.group.pk, w.dave),
    "chat.updated (rename)": lambda w: actions.rename_group(w.group, w.alice, "Bouldering"),
    "chat.updated (photo)": lambda w: actions.set_group_photo(w.group, w.alice, None),
    "member.added": lambda w: actions.add_member(w.group, w.alice, make_person("erin", "Erin", "Eve")),
    "member.removed": lambda w: actions.remove_member(w.group, w.alice, w.dave),
    "member left": lambda w: actions.leave_chat(w.group, w.dave),
    "message.link_preview": lambda w: actions.remove_link_preview(
        Message.objects.get(pk=w.names[w.group.pk]["linked"]), w.alice
    ),
}


@pytest_asyncio.fixture
async def _clean_layer():
    layer = get_channel_layer()
    if hasattr(layer, "flush"):
        await layer.flush()
    yield
    await sync_to_async(connections.close_all)()


async def _connect(kind: str, user: User, chat: Chat | None) -> WebsocketCommunicator:
    if kind == "tab":
        return await open_tab(user, chat)
    socket = await script(user)
    assert (await socket.connect())[0]
    return socket


async def _drain(kind: str, socket: WebsocketCommunicator) -> Any:
    return await (pushed(socket) if kind == "tab" else events(socket))


async def _sockets_after_removal(kind: str) -> tuple[World, WebsocketCommunicator, dict[str, WebsocketCommunicator]]:
    """The world, alice's socket (the control) and one socket per viewer, all drained, bob removed."""
    world = await sync_to_async(build_world)(remove_bob=False)
    control = await _connect(kind, world.alice, world.group)
    theirs = {
        "outsider": await _connect(kind, world.carol, world.group),
        "removed member, socket open through the removal": await _connect(kind, world.bob, world.group),
    }
    await sync_to_async(actions.remove_member)(world.group, world.alice, world.bob)
    theirs["removed member, new socket"] = await _connect(kind, world.bob, world.group)
    await asyncio.gather(*(_drain(kind, socket) for socket in [control, *theirs.values()]))
    return world, control, theirs


async def _close(*sockets: WebsocketCommunicator) -> None:
    for socket in sockets:
        await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("_clean_layer")
@pytest.mark.parametrize("event", SOCKET_EVENTS)
@pytest.mark.parametrize("kind", ["tab", "script"])
async def test_a_socket_hears_nothing_more_of_a_chat_it_is_not_in(kind, event):
    world, control, theirs = await _sockets_after_removal(kind)

    await sync_to_async(SOCKET_EVENTS[event])(world)

    # The control hears it, so the event was published; by then it is in every listener's queue.
    assert await control.receive_from(timeout=2)
    heard = {}
    for viewer, socket in theirs.items():
        if not await socket.receive_nothing(timeout=0.1):
            heard[viewer] = await socket.receive_from()
    assert heard == {}
    await _close(control, *theirs.values())


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("_clean_layer")
@pytest.mark.parametrize("kind", ["tab", "script"])
async def test_typing_into_a_chat_one_is_not_in_reaches_nobody(kind):
    world, control, theirs = await _sockets_after_removal(kind)

    for socket in theirs.values():
        await socket.send_json_to({"type": "typing", "chat": world.group.pk})

    if kind == "script":
        refused = [{"event": "error", "chat": None, "data": {"detail": "No such chat."}}]
        assert {viewer: await events(socket) for viewer, socket in theirs.items()} == dict.fromkeys(theirs, refused)
    assert await control.receive_nothing(timeout=0.3)
    await _close(control, *theirs.values())


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
@pytest.mark.usefixtures("_clean_layer")
@pytest.mark.parametrize("viewer", ["outsider", "removed member"])
async def test_a_script_catching_up_gets_no_message_of_a_chat_it_is_not_in(viewer):
    world = await sync_to_async(build_world)()
    person = world.carol if viewer == "outsider" else world.bob
    controls = await script(world.alice, "?after=0")
    assert (await controls.connect())[0]
    socket = await script(person, "?after=0")
    assert (await socket.connect())[0]

    theirs = [event for event in await events(socket) if event["event"] != "presence"]

    alices = [event["data"]["id"] for event in await events(controls) if event["event"] == "message.created"]
    assert set(world.names[world.group.pk].values()) & set(alices)  # the control: there is history to replay
    assert theirs == [{"event": "caught_up", "chat": None, "data": {"more": False}}]
    await controls.disconnect()
    await socket.disconnect()


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_the_unknown_socket_route_refuses_everyone(alice):
    connected, _ = await WebsocketCommunicator(application, "/ws/chat/1/").connect()
    assert not connected
