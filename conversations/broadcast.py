"""What each change tells whom: the only module that sends to the channel layer.

Every person's open sockets — browser tabs at /ws/, scripts at /ws/api/ — listen on the group
`user.<id>` (conversations.consumers). The action functions schedule the functions here with
`transaction.on_commit`, so nobody hears of a change that was rolled back. Each function
renders its HTML once per language, not once per recipient (a message looks the same to every
member; "mine" is CSS keyed on data-author), adds the few pieces that differ per person (the
unread badge, the chat row of a direct chat, which names the other person), and sends each
recipient one event:

    {"type": "deliver", "event": "message.created", "chat": 5, "data": {...},
     "html": {"en": {"open": ..., "elsewhere": ..., "list": ..., "any": ...}, "ru": {...}}}

A tab takes, in its own language, the "open" part if it shows that chat, the "elsewhere" part
if it does not, and the "list" and "any" parts always; a script takes "event", "chat" and
"data". The HTML parts are htmx out-of-band swaps aimed at stable ids (message-<id>,
chat-<id>, ...), so a repeated delivery replaces instead of adding; a piece whose target is not
on the page is dropped by the page (static/js/flowchat.js, the "live" extension).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Prefetch, Subquery, Value
from django.db.models.functions import Coalesce
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.html import format_html

from accounts.api import user_summary
from accounts.models import User

from .models import Chat, Membership, Message
from .receipts import ReadPositions
from .templatetags.chat_tags import unread_badge

LANGUAGES = [code for code, _name in settings.LANGUAGES]
PARTS = ("open", "elsewhere", "list", "any")
# A read position that jumps far ahead updates the receipts of this many messages at most;
# older ones are right after a reload.
MAX_RECEIPTS = 100
# channels-redis's connection pools refuse (not queue) requests beyond their size.
MAX_CONCURRENT_SENDS = 50

Html = dict[str, str]  # language -> HTML


def group_for(user_id: int) -> str:
    """The channel layer group of one person's sockets."""
    return f"user.{user_id}"


# Rendering --------------------------------------------------------------------------------


def in_each_language(render: Callable[[], str]) -> Html:
    rendered = {}
    for code in LANGUAGES:
        with translation.override(code):
            rendered[code] = render()
    return rendered


def render(template: str, context: dict[str, Any]) -> Html:
    return in_each_language(lambda: render_to_string(template, context))


def oob(swap: str, html: Html) -> Html:
    """Wrap pieces for an out-of-band swap of their content (`beforeend:#messages`, `innerHTML:#typing`)."""
    return {code: format_html('<div hx-swap-oob="{}">{}</div>', swap, piece) for code, piece in html.items()}


def same(html: str) -> Html:
    return dict.fromkeys(LANGUAGES, html)


class Event:
    """One event for several people: shared parts, plus parts for some of them only."""

    def __init__(self, name: str, chat_id: int | None = None) -> None:
        self.name = name
        self.chat_id = chat_id
        self.shared: dict[str, dict[str, list[str]]] = {code: {part: [] for part in PARTS} for code in LANGUAGES}
        self.extra: dict[int, dict[str, dict[str, list[str]]]] = {}
        self.data: dict[int, Any] = {}
        self.shared_data: Any = None

    def add(self, part: str, html: Html, *, to: int | None = None) -> None:
        """Add a piece for everyone, or `to` one person."""
        if to is None:
            target = self.shared
        else:
            target = self.extra.setdefault(to, {code: {p: [] for p in PARTS} for code in LANGUAGES})
        for code, piece in html.items():
            target[code][part].append(piece)

    def message(self, user_id: int, shared: dict[str, dict[str, str]]) -> dict[str, Any]:
        html = shared
        if user_id in self.extra:
            html = {
                code: {part: shared[code][part] + "".join(self.extra[user_id][code][part]) for part in PARTS}
                for code in LANGUAGES
            }
        return {
            "type": "deliver",
            "event": self.name,
            "chat": self.chat_id,
            "data": self.data.get(user_id, self.shared_data),
            "html": html,
        }

    def send(self, user_ids: Iterable[int]) -> None:
        shared = {
            code: {part: "".join(pieces) for part, pieces in parts.items()} for code, parts in self.shared.items()
        }
        deliveries = [(user_id, self.message(user_id, shared)) for user_id in user_ids]
        if deliveries:
            fan_out(deliveries)


def fan_out(deliveries: list[tuple[int, dict[str, Any]]]) -> None:
    """Send each person their event, in one hop to the event loop."""
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(send_each)(layer, deliveries)


async def send_each(layer: Any, deliveries: list[tuple[int, dict[str, Any]]]) -> None:
    """Concurrently, but no more sends at once than a Redis connection pool holds."""
    slots = asyncio.Semaphore(MAX_CONCURRENT_SENDS)

    async def send(user_id: int, event: dict[str, Any]) -> None:
        async with slots:
            await layer.group_send(group_for(user_id), event)

    await asyncio.gather(*(send(user_id, event) for user_id, event in deliveries))


# What the events carry -----------------------------------------------------------------------


def _load_chat(chat_id: int) -> tuple[Chat, list[Membership]] | None:
    """The chat with its last message, and its members with their people and unread counts: two queries."""
    unread = (
        Message.objects.filter(chat=OuterRef("chat"), kind=Message.Kind.TEXT, deleted_at__isnull=True)
        .exclude(author=OuterRef("user"))
        .filter(id__gt=Coalesce(OuterRef("last_read_message_id"), Value(0)))
        .order_by()
        .values("chat")
        .annotate(n=Count("id"))
        .values("n")
    )
    members = (
        Membership.objects.select_related("user")
        .annotate(unread=Coalesce(Subquery(unread[:1], output_field=IntegerField()), 0))
        .order_by("joined_at", "id")
    )
    chat = (
        Chat.objects.select_related("last_message__author", "last_message__subject")
        .prefetch_related(Prefetch("memberships", queryset=members))
        .filter(pk=chat_id)
        .first()
    )
    if chat is None:
        return None
    return chat, list(chat.memberships.all())


def _load_message(message_id: int) -> tuple[Message, Chat, list[Membership], ReadPositions] | None:
    """A message with its people, its chat and members (as _load_chat), and their read positions."""
    message = Message.objects.with_people().filter(pk=message_id).first()
    loaded = message and _load_chat(message.chat_id)
    if not loaded:
        return None
    chat, members = loaded
    return message, chat, members, ReadPositions.from_memberships(members)


def _row(chat: Chat, viewer: User, *, swap: str) -> Html:
    """The chat's row in `viewer`'s list; its unread badge comes separately (_badge), per person."""
    chat.unread_count = 0
    return render("conversations/shell.html#chat_row", {"row": chat, "user": viewer, "oob": swap})


def _rows(chat: Chat, members: list[Membership], event: Event, *, move_to_top: bool) -> None:
    """The chat's row for each member's list, rendered as few times as the rows differ.

    A group's row is the same for everyone but the last message's author ("You: ..."); a
    direct chat's row names the other person.
    """
    author_id = chat.last_message.author_id if chat.last_message else None
    variants: dict[Any, Html] = {}
    for membership in members:
        key: Any = membership.user_id
        if chat.is_group:
            key = "author" if membership.user_id == author_id else "others"
        if key not in variants:
            row = _row(chat, membership.user, swap="true" if not move_to_top else "")
            if move_to_top:
                # Out of its old place (if it is in the list) and in at the top.
                delete = same(format_html('<li id="chat-{}" hx-swap-oob="delete"></li>', chat.pk))
                row = {code: delete[code] + oob("afterbegin:#chats", {code: row[code]})[code] for code in row}
            variants[key] = row
        event.add("list", variants[key], to=membership.user_id)
        event.add("list", _badge(chat.pk, membership.unread), to=membership.user_id)


def _badge(chat_id: int, count: int) -> Html:
    return in_each_language(
        lambda: format_html('<div hx-swap-oob="innerHTML:#chat-{}-unread">{}</div>', chat_id, unread_badge(count))
    )


def _message_html(message: Message, chat: Chat, receipts: ReadPositions | None, *, new: bool) -> Html:
    """A new message (after a date line if it starts a day) for the end of the list, or a changed one in place."""
    from .views import items_for

    if new:
        previous = chat.messages.filter(id__lt=message.pk).order_by("-id").values_list("created_at", flat=True).first()
        previous_day = timezone.localdate(previous) if previous else None
        context = {"items": items_for([message], previous_day=previous_day), "chat": chat, "receipts": receipts}
        return oob("beforeend:#messages", render("conversations/chat.html#message_list", context))
    return render(
        "conversations/chat.html#message", {"message": message, "chat": chat, "receipts": receipts, "oob": True}
    )


def _message_data(message: Message, receipts: ReadPositions) -> dict[str, Any]:
    from .api import message_to_dict

    return message_to_dict(message, receipts)


def _chat_data(chat: Chat, members: list[Membership]) -> dict[int, dict[str, Any]]:
    from .api import chat_to_dict

    data = {}
    for membership in members:
        chat.unread_count = membership.unread
        data[membership.user_id] = chat_to_dict(chat, membership.user)
    return data


def _typing_ended(target: str) -> Html:
    """Empty the typing note at `target`: the author's message has arrived."""
    return same(format_html('<div hx-swap-oob="innerHTML:{}"></div>', target))


# Events ----------------------------------------------------------------------------------------


def message_created(message_id: int) -> None:
    """A new message (or system line): in the open chat, at the top of the list, as a notice elsewhere."""
    loaded = _load_message(message_id)
    if not loaded:
        return
    message, chat, members, receipts = loaded
    event = Event("message.created", chat.pk)
    event.add("open", _message_html(message, chat, receipts, new=True))
    event.add("open", _typing_ended("#typing"))
    event.add("list", _typing_ended(f"#chat-{chat.pk}-typing"))
    _rows(chat, members, event, move_to_top=True)
    if not message.is_system:
        notices: dict[int | None, Html] = {}  # a group's notice is the same for everyone
        for membership in members:
            if membership.user_id != message.author_id and not membership.muted:
                key = None if chat.is_group else membership.user_id
                if key not in notices:
                    notices[key] = _notice(chat, message, membership.user)
                event.add("elsewhere", notices[key], to=membership.user_id)
    event.shared_data = _message_data(message, receipts)
    event.send(m.user_id for m in members)


def _notice(chat: Chat, message: Message, viewer: User) -> Html:
    context = {"chat": chat, "message": message, "user": viewer}
    return oob("afterbegin:#live-notices", render("conversations/_live.html#notice", context))


def message_changed(message_id: int, name: str) -> None:
    """An edit or a deletion: the message in place; the list's preview and badges if it changes them."""
    loaded = _load_message(message_id)
    if not loaded:
        return
    message, chat, members, receipts = loaded
    event = Event(name, chat.pk)
    event.add("open", _message_html(message, chat, receipts, new=False))
    if chat.last_message_id == message.pk or name == "message.deleted":
        _rows(chat, members, event, move_to_top=False)
    event.shared_data = _message_data(message, receipts)
    event.send(m.user_id for m in members)


def chat_created(chat_id: int, user_ids: Iterable[int] | None = None, *, by: int | None = None) -> None:
    """A chat appears in its members' lists (or in `user_ids`' only: people just added to a group)."""
    loaded = _load_chat(chat_id)
    if not loaded:
        return
    chat, members = loaded
    wanted = None if user_ids is None else set(user_ids)
    recipients = [m for m in members if wanted is None or m.user_id in wanted]
    event = Event("chat.created", chat.pk)
    _rows(chat, recipients, event, move_to_top=True)
    if chat.is_group and by is not None:
        adder = next((m.user for m in members if m.user_id == by), None)
        for membership in recipients:
            if membership.user_id != by:
                context = {"chat": chat, "adder": adder, "user": membership.user}
                event.add(
                    "any",
                    oob("afterbegin:#live-notices", render("conversations/_live.html#added", context)),
                    to=membership.user_id,
                )
    event.data = _chat_data(chat, recipients)
    event.send(m.user_id for m in recipients)


def chat_updated(chat_id: int) -> None:
    """A group's title, photo or members changed: its header and its row, in place."""
    loaded = _load_chat(chat_id)
    if not loaded:
        return
    chat, members = loaded
    event = Event("chat.updated", chat.pk)
    event.add("open", _header(chat, members))
    _rows(chat, members, event, move_to_top=False)
    event.data = _chat_data(chat, members)
    event.send(m.user_id for m in members)


def member_added(chat_id: int, user_id: int, by: int) -> None:
    person = User.objects.filter(pk=user_id).first()
    if person is None:
        return
    chat_created(chat_id, [user_id], by=by)
    _member_event("member.added", chat_id, person)


def member_removed(chat_id: int, user_id: int) -> None:
    """Someone left or was removed: the others see the group change; the chat leaves the person's lists and tabs."""
    person = User.objects.filter(pk=user_id).first()
    if person is None:
        return
    gone = Event("member.removed", chat_id)
    gone.add("list", same(format_html('<li id="chat-{}" hx-swap-oob="delete"></li>', chat_id)))
    gone.add("open", render("conversations/_live.html#removed", {"chat_id": chat_id}))
    gone.shared_data = {"chat": chat_id, "user": user_summary(person)}
    gone.send([user_id])
    _member_event("member.removed", chat_id, person)


def _member_event(name: str, chat_id: int, person: User) -> None:
    loaded = _load_chat(chat_id)
    if not loaded:
        return
    chat, members = loaded
    event = Event(name, chat.pk)
    event.add("open", _header(chat, members))
    event.shared_data = {"chat": chat.pk, "user": user_summary(person)}
    event.send(m.user_id for m in members)


def _header(chat: Chat, members: list[Membership]) -> Html:
    """A group's header (the same for every member: title, photo, number of members)."""
    context = {"chat": chat, "user": members[0].user, "members": [m.user for m in members], "oob": True}
    return render("conversations/chat.html#header", context)


def typing(chat: Chat, person: User, member_ids: Iterable[int]) -> None:
    """`person` is typing: a note in the chat and in its row, for the other members."""
    event = Event("typing", chat.pk)
    note = render("conversations/chat.html#typing", {"person": person})
    event.add("open", oob("innerHTML:#typing", note))
    event.add("list", oob(f"innerHTML:#chat-{chat.pk}-typing", note))
    event.shared_data = {"chat": chat.pk, "user": user_summary(person)}
    event.send(user_id for user_id in member_ids if user_id != person.pk)


def read(chat_id: int, reader_id: int, after: int, up_to: int) -> None:
    """A member read up to `up_to`: their badge clears in every tab; the authors' receipts update."""
    loaded = _load_chat(chat_id)
    if not loaded:
        return
    chat, members = loaded
    receipts = ReadPositions.from_memberships(members)
    newly_read = list(
        chat.messages.filter(id__gt=after, id__lte=up_to, kind=Message.Kind.TEXT, deleted_at__isnull=True)
        .exclude(author_id=reader_id)
        .order_by("-id")[:MAX_RECEIPTS]
    )
    event = Event("read", chat.pk)
    for membership in members:
        if membership.user_id == reader_id:
            event.add("list", _badge(chat.pk, membership.unread), to=reader_id)
    for message in newly_read:
        context = {"message": message, "chat": chat, "seen": receipts.seen_by(message), "oob": True}
        event.add("open", render("conversations/chat.html#receipt", context))
    event.shared_data = {"chat": chat.pk, "user": reader_id, "message": up_to}
    event.send(m.user_id for m in members)


def presence(user_id: int) -> None:
    """Someone came online or went offline: every place they appear, for everyone who shares a chat with them."""
    person = User.objects.filter(pk=user_id).first()
    if person is None:
        return
    contacts = set(
        Membership.objects.filter(chat__memberships__user_id=user_id).values_list("user_id", flat=True).distinct()
    )
    contacts.add(user_id)
    event = Event("presence")
    for kind in ("dot", "label", "text"):
        html = render(f"accounts/_presence.html#{kind}", {"person": person})
        event.add("any", oob(f'innerHTML:[data-presence-{kind}="{user_id}"]', html))
    last_active = person.last_active.isoformat().replace("+00:00", "Z") if person.last_active else None
    event.shared_data = {"user": user_summary(person), "is_online": person.is_online, "last_active": last_active}
    event.send(contacts)


def close_sockets(
    user_id: int, *, session: str | None = None, all_sessions: bool = False, token: int | None = None
) -> None:
    """The sockets of ended sessions or a revoked token close themselves (conversations.consumers)."""
    ended = {"type": "close_sockets", "session": session, "all_sessions": all_sessions, "token": token}
    fan_out([(user_id, ended)])
