"""What each change tells whom: the only module that publishes to the channel layer.

Every socket of every member of a chat listens on the chat's group `chat.<id>`
(conversations.consumers joins one per chat at connect and follows membership changes live),
and on its person's group `user.<id>` for what concerns them alone. The action functions
schedule the functions here with `transaction.on_commit`, so nobody hears of a change that
was rolled back; each renders its event once per language and hands it to the process's
outbox (conversations.outbox), which publishes it once — not once per member — while the
request that made the change answers.

A chat event carries what every member sees alike; the consumer adds what differs per person
(the unread badge, "You: ..." in the list, Edit and Delete on one's own message) from the
state it keeps, so a delivery costs no database work:

    {"type": "chat.event", "event": "message.created", "chat": 5, "version": 2,
     "message": {"id": 42, "author": 7, "counts": true, "deleted": false, "mentions": [3], "version": 1},
     "data": {...the API's Message...},
     "html": {"en": {"open": ..., "elsewhere": ..., "list": ..., "preview": {"author": ..., "others": ...},
                     "mine": ...}, "ru": {...}}}

A tab takes, in its own language, "open" if it shows that chat, "elsewhere" if it does not,
"list" always, the "preview" for its person, "mine" on its author's tabs, and "typed" where it
shows someone typing in that chat; a script takes "event", "chat" and "data". `version` is
the chat's membership version when the event was made: a socket that sees a newer one than
it knows checks its membership before it listens on. `message.version` is the message's own:
it goes up with each edit and the deletion, and a tab or script drops an event older than the
version it shows.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.conf import settings
from django.db.models import Count, OuterRef, Prefetch, Q, Subquery

from accounts.models import User
from accounts.serializers import iso, user_summary

from . import rendering
from .models import Chat, Membership, Mention, Message, no_reactions_yet
from .outbox import outbox
from .receipts import ReadPositions
from .serializers import chat_to_dict, link_preview_to_dict, message_to_dict, reaction_people, reactions_to_list

# A read position that jumps far ahead updates the receipts of this many messages at most;
# older ones are right after a reload.
MAX_RECEIPTS = 100


def chat_group(chat_id: int) -> str:
    """The channel layer group of every socket of a chat's members."""
    return f"chat.{chat_id}"


def person_group(user_id: int) -> str:
    """The channel layer group of one person's sockets."""
    return f"user.{user_id}"


def _by_language(**parts: rendering.Html | dict[str, rendering.Html]) -> dict[str, dict[str, Any]]:
    """{"open": {"en": ..}, "preview": {"author": {"en": ..}}} -> {"en": {"open": .., "preview": {"author": ..}}}."""
    html: dict[str, dict[str, Any]] = {code: {} for code in rendering.LANGUAGES}
    for name, piece in parts.items():
        for code in rendering.LANGUAGES:
            if code in piece:
                html[code][name] = piece[code]
            else:
                html[code][name] = {variant: pieces[code] for variant, pieces in piece.items()}
    return html


def _to_chat(chat: Chat, name: str, *, data: Any, html: dict[str, dict[str, Any]], **extra: Any) -> None:
    event = {"type": "chat.event", "event": name, "chat": chat.pk, "version": chat.members_version}
    outbox.put(chat_group(chat.pk), {**event, **extra, "data": data, "html": html})


def _to_person(user_id: int, name: str, chat_id: int | None, *, data: Any, html: dict[str, dict[str, Any]]) -> None:
    event = {"type": "person.event", "event": name, "chat": chat_id, "data": data, "html": html}
    outbox.put(person_group(user_id), event)


# Loading ------------------------------------------------------------------------------------------

_MEMBERS = Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("joined_at", "id"))


def _chat(chat_id: int, *, members: bool) -> Chat | None:
    """The chat with its last message; with its members and their people when `members`."""
    chats = Chat.objects.select_related("last_message__author", "last_message__subject").filter(pk=chat_id)
    if members:
        chats = chats.prefetch_related(_MEMBERS)
    return chats.first()


def _message(message_id: int) -> tuple[Message, Chat] | None:
    """A message with its people and its chat: one query."""
    message = Message.objects.with_people().select_related("chat").filter(pk=message_id).first()
    if message is None:
        return None
    chat = message.chat
    if chat.last_message_id == message.pk:
        chat.last_message = message  # the usual case: no second copy of it to load
    return message, chat


def _facts(message: Message) -> dict[str, Any]:
    """What a consumer needs to keep its person's unread count."""
    return {
        "id": message.pk,
        "author": message.author_id,
        "counts": message.kind == Message.Kind.TEXT,
        "deleted": message.is_deleted,
        # Whom it mentions, for their "@" in the chat list; a deleted message's html is gone, its
        # mentions stay (Mention) for this.
        "mentions": (
            list(Mention.objects.filter(message_id=message.pk).values_list("user_id", flat=True))
            if message.is_deleted
            else message.mentioned_ids
        ),
        # The version of what the event shows: a socket drops an older one that arrives late.
        "version": message.version,
    }


def _previews(chat: Chat) -> dict[str, rendering.Html]:
    return {
        "author": rendering.chat_preview(chat, by_author=True),
        "others": rendering.chat_preview(chat, by_author=False),
    }


# Messages -----------------------------------------------------------------------------------------


def message_created(message: Message) -> None:
    """A new message (or system line): in the open chat, at the top of the list, as a notice elsewhere.

    The message, its author and subject are the ones the action just committed; what the chat
    is now (its membership version) comes in one query. Whether a day line goes before it
    depends on each reader's time zone: their tab adds it (static/js/local-time.js).
    """
    chat = Chat.objects.filter(pk=message.chat_id).first()
    if chat is None:
        return
    message.chat = chat
    if chat.last_message_id == message.pk:
        chat.last_message = message
    # Nobody has reacted to a message this new: no query to find that out.
    no_reactions_yet(message)
    parts: dict[str, Any] = {
        "open": rendering.new_message(message, chat),
        # The row's new time; the tabs move the row to the top as it arrives (flowchat.js).
        "list": rendering.chat_time(chat),
        "preview": _previews(chat),
        # For a tab that shows someone typing in this chat: the message has come.
        "typed": {"open": rendering.typing_ended("#typing"), "list": rendering.typing_ended(f"#chat-{chat.pk}-typing")},
    }
    if not message.is_system:
        parts["elsewhere"] = rendering.message_notice(chat, message)
        parts["mine"] = rendering.message_menu(message)
    # Nobody but the author has read a message this new, so is_read is false.
    data = message_to_dict(message, ReadPositions({}))
    _to_chat(chat, "message.created", data=data, html=_by_language(**parts), message=_facts(message))


def message_changed(message_id: int, name: str, version: int | None = None) -> None:
    """An edit or a deletion: the message in place; the list's preview if it was the last message.

    The message is read again here, so the event shows it as it is now, with the version of
    that state (never the one the action made: text and version come from the same row). An
    edit whose message has changed again since (`version`: the one the edit made) is not told
    at all: the later change's own event shows it, and an edit's event read after a delete
    would only repeat the deletion under the wrong name. What is read before a later change
    and published after it (another process was quicker) carries the older version, which
    the tabs (static/js/flowchat.js) and scripts (consumers.ApiSocket) drop.
    """
    loaded = _message(message_id)
    if not loaded:
        return
    message, chat = loaded
    if version is not None and message.version > version:
        return
    receipts = ReadPositions.of(chat.pk)
    opened = rendering.changed_message(message, chat, receipts)
    if message.replies.exists():
        # The replies' quotes follow what they quote (one piece for all of them, by data-quote-of).
        opened = rendering.join(opened, rendering.quotes_of(message))
    parts: dict[str, Any] = {"open": opened}
    if chat.last_message_id == message.pk:
        parts["preview"] = _previews(chat)
    if not message.is_deleted:
        parts["mine"] = rendering.message_menu(message)
    data = message_to_dict(message, receipts)
    _to_chat(chat, name, data=data, html=_by_language(**parts), message=_facts(message), reactions=_reactors(message))


def _reactors(message: Message) -> dict[str, Any]:
    """Who reacted with what, for each socket to set its person's `mine` and aria-pressed."""
    return {"message": message.pk, "people": reaction_people(message)}


def reactions_changed(message_id: int) -> None:
    """Someone added or took back a reaction: the message's reactions bar, in place, for everyone.

    One event per change; the bar is the same for every member, and each socket marks its
    person's own buttons pressed, and sets `mine` in a script's data, from `reactions`.
    """
    loaded = _message(message_id)
    if not loaded:
        return
    message, chat = loaded
    if message.is_deleted or message.is_system:
        return  # its reactions are gone with it
    data = {"message": message.pk, "chat": chat.pk, "reactions": reactions_to_list(message, None)}
    html = _by_language(open=rendering.reactions(message, chat))
    _to_chat(chat, "message.reactions", data=data, html=html, reactions=_reactors(message))


def link_preview_changed(message_id: int) -> None:
    """A message's link preview arrived, or its author removed it: the preview, in place, for everyone.

    The same for every member (its Remove button shows on the author's tabs only, viewer_css);
    a script gets the preview as the API's Message carries it (null once removed).
    """
    loaded = _message(message_id)
    if not loaded:
        return
    message, chat = loaded
    if message.is_deleted or message.is_system:
        return  # its preview is gone with it
    data = {"message": message.pk, "chat": chat.pk, "link_preview": link_preview_to_dict(message)}
    html = _by_language(open=rendering.link_preview(message))
    _to_chat(chat, "message.link_preview", data=data, html=html)


def read(chat_id: int, reader_id: int, after: int, up_to: int) -> None:
    """A member read up to `up_to`: their badge clears in every tab; the authors' receipts update."""
    chat = _chat(chat_id, members=False)
    if chat is None:
        return
    receipts = ReadPositions.of(chat_id)
    newly_read = list(
        chat.messages.filter(id__gt=after, id__lte=up_to, kind=Message.Kind.TEXT, deleted_at__isnull=True)
        .exclude(author_id=reader_id)
        .order_by("-id")[:MAX_RECEIPTS]
    )
    unread_messages = chat.messages.unread_by(reader_id, receipts.positions.get(reader_id, 0))
    unread = unread_messages.count()
    mentions = unread_messages.filter(mentions__user=reader_id).count() if unread else 0
    receipt_pieces = [rendering.receipt(message, chat, receipts) for message in newly_read]
    _to_chat(
        chat,
        "read",
        data={"chat": chat_id, "user": reader_id, "message": up_to},
        html=_by_language(open=rendering.join(*receipt_pieces)),
        reader={
            "id": reader_id,
            "position": receipts.positions.get(reader_id, up_to),
            "unread": unread,
            "mentions": mentions,
        },
        # Receipts show on their authors' own messages only: other tabs need no frame.
        authors=sorted({message.author_id for message in newly_read if message.author_id}),
    )


def typing(chat_id: int, person: User) -> None:
    """`person` is typing: a note in the chat and in its row, for the other members."""
    note = rendering.typing_note(person)
    html = _by_language(
        open=rendering.oob("innerHTML:#typing", note), list=rendering.oob(f"innerHTML:#chat-{chat_id}-typing", note)
    )
    event = {"type": "chat.event", "event": "typing", "chat": chat_id, "version": None, "person": person.pk}
    outbox.put(chat_group(chat_id), {**event, "data": {"chat": chat_id, "user": user_summary(person)}, "html": html})


# Chats and members -----------------------------------------------------------------------------------


def chat_created(chat_id: int, user_ids: Iterable[int] | None = None, *, by: int | None = None) -> None:
    """A chat appears in its members' lists (or in `user_ids`' only: people just added to a group)."""
    chat = _chat(chat_id, members=True)
    if chat is None:
        return
    members = list(chat.memberships.all())
    wanted = None if user_ids is None else set(user_ids)
    adder = next((m.user for m in members if m.user_id == by), None)
    chat.unread_count = chat.mention_count = 0  # each socket puts in its own (conversations.consumers)
    shared: dict[str, rendering.Html] = {}
    for membership in members:
        if wanted is not None and membership.user_id not in wanted:
            continue
        person = membership.user
        # A group's row is the same for everyone it is new to; a direct chat's names the other person.
        key = "group" if chat.is_group else person.pk
        if key not in shared:
            shared[key] = rendering.new_row(chat, person)
        parts: dict[str, rendering.Html] = {"list": shared[key]}
        if chat.is_group and by is not None and person.pk != by:
            parts["any"] = rendering.added_notice(chat, adder)
        _to_person(person.pk, "chat.created", chat.pk, data=chat_to_dict(chat, person), html=_by_language(**parts))


def chat_updated(chat_id: int) -> None:
    """A group's title or photo changed: its header and its row, in place."""
    chat = _chat(chat_id, members=True)
    if chat is None:
        return
    members = list(chat.memberships.all())
    author = chat.last_message.author if chat.last_message else None
    chat.unread_count = chat.mention_count = 0
    html = _by_language(
        open=rendering.header(chat, [m.user for m in members]),
        row={"author": rendering.chat_row(chat, author), "others": rendering.chat_row(chat, None)},
    )
    data = chat_to_dict(chat, members[0].user)
    _to_chat(chat, "chat.updated", data=data, html=html, last_author=author.pk if author else None)


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
    # Their sockets hear it in the chat's group; this reaches one that was still joining it.
    _to_person(user_id, "member.removed", chat_id, data={"chat": chat_id, "user": user_summary(person)}, html={})
    _member_event("member.removed", chat_id, person)


def _member_event(name: str, chat_id: int, person: User) -> None:
    chat = _chat(chat_id, members=True)
    if chat is None:
        return
    members = [m.user for m in chat.memberships.all()]
    html = _by_language(open=rendering.header(chat, members)) if members else {}
    _to_chat(chat, name, data={"chat": chat.pk, "user": user_summary(person)}, html=html, person=person.pk)


# Presence and sessions --------------------------------------------------------------------------------


def presence(user_ids: list[int]) -> None:
    """People came online or went offline: every place they appear, for everyone in a chat with them.

    One event per chat any of them is in, carrying all of them that are in it; the consumers
    render the pieces (once per change and language in a process, rendering.presence), and a
    socket that shares several chats with someone forwards their change from one of them only.
    """
    people = {person.pk: person for person in User.objects.filter(pk__in=user_ids)}
    chats_of: dict[int, list[int]] = {}
    for user_id, chat_id in _live_presence_chats(people):
        chats_of.setdefault(user_id, []).append(chat_id)
    by_chat: dict[int, list[dict[str, Any]]] = {}
    for user_id, chat_ids in chats_of.items():
        person = people[user_id]
        change = {
            "id": user_id,
            "is_online": person.is_online,
            "online_until": iso(person.online_until),
            "last_active": iso(person.last_active),
            "chats": sorted(chat_ids),
            "user": user_summary(person),
        }
        for chat_id in chat_ids:
            by_chat.setdefault(chat_id, []).append(change)
    for chat_id, changes in by_chat.items():
        outbox.put(chat_group(chat_id), {"type": "presence", "event": "presence", "chat": chat_id, "people": changes})


def _live_presence_chats(user_ids: Iterable[int]) -> list[tuple[int, int]]:
    """(person, chat) for each chat of theirs that shows their presence live: direct chats and
    groups of up to PRESENCE_GROUP_LIMIT members.

    A bigger group's pages show presence as it was when they loaded: N people reconnecting at
    once in an N-member group would otherwise push N² changes (a 1,000-member group's reconnect
    wave: about 200 MB of frames), and nobody reads a thousand dots.
    """
    size = Membership.objects.filter(chat=OuterRef("chat")).order_by().values("chat").annotate(n=Count("id"))
    memberships = Membership.objects.filter(user_id__in=list(user_ids)).annotate(size=Subquery(size.values("n")))
    shown = memberships.filter(Q(chat__is_group=False) | Q(size__lte=settings.PRESENCE_GROUP_LIMIT))
    return list(shown.values_list("user_id", "chat_id"))


def close_sockets(
    user_id: int,
    *,
    session: str | None = None,
    all_sessions: bool = False,
    token: int | None = None,
    person: bool = False,
) -> None:
    """The sockets of ended sessions, a revoked token or a closed account close themselves (conversations.consumers)."""
    ended = {"type": "close_sockets", "session": session, "all_sessions": all_sessions, "token": token}
    if person:
        ended["person"] = True
    outbox.put(person_group(user_id), ended)
