"""Who a new message notifies by Web Push, by each member's notification level.

Deciding is kept apart from sending so that what counts as "mentions and replies to me"
lives in one small function (`concerns`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Count, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import Connection, PushSubscription, User

from .models import Chat, Membership, Message, Notifications, notifications_for
from .webpush import sender


def concerns(message: Message, user_id: int) -> bool:
    """Whether `message` is addressed to this person: a direct chat, a reply to them, a mention of them.

    Needs `reply_to` loaded; the mentions are read from the stored html (Message.mentioned_ids).
    """
    if not message.chat.is_group:
        return True
    if message.reply_to is not None and message.reply_to.author_id == user_id:
        return True
    return user_id in message.mentioned_ids


def recipients(message: Message) -> list[int]:
    """The members a new message may notify: never its author, never a system line, by each one's level.

    Whether they have a visible tab open is judged when sending, not here.
    """
    if message.kind != Message.Kind.TEXT or message.is_deleted:
        return []
    memberships = list(Membership.objects.filter(chat_id=message.chat_id).only("user_id", "notifications"))
    count = len(memberships)
    chosen = []
    for membership in memberships:
        if membership.user_id == message.author_id:
            continue
        level = notifications_for(membership, message.chat, count)
        if level == Notifications.ALL or (level == Notifications.MENTIONS and concerns(message, membership.user_id)):
            chosen.append(membership.user_id)
    return chosen


# Sending: scheduled by the actions on commit, run by conversations.webpush's workers --------------

# What of a message's text a notification shows (the encrypted payload must stay under 3 KB).
PREVIEW_LENGTH = 160
TITLE_LENGTH = 80


def message_created(message_id: int) -> None:
    """A new message: its members' devices may be told (actions.send_message, on commit)."""
    sender.enqueue({"kind": "message", "message": message_id})


def member_added(chat_id: int, user_id: int, by_id: int) -> None:
    """Someone was added to a group (or made one with them in it)."""
    if user_id != by_id:
        sender.enqueue({"kind": "added", "chat": chat_id, "user": user_id, "by": by_id})


def direct_chat_created(chat_id: int, by_id: int) -> None:
    """Someone started a direct chat: the other person is told."""
    sender.enqueue({"kind": "direct", "chat": chat_id, "by": by_id})


def unseen(people: Iterable[int], since: datetime | None = None) -> list[int]:
    """Those of `people` with no shown tab open: a hidden tab does not count (Connection.visible).

    A tab hidden after `since` (when the message came) was shown then, and showed it: a push
    judged a moment later, by a worker, must not tell of what the person already saw.
    """
    people = list(people)
    if not people:
        return []
    shown = Q(visible=True)
    if since is not None:
        shown |= Q(hidden_at__gte=since)
    seen = set(
        Connection.objects.filter(shown, user_id__in=people, expires_at__gt=timezone.now()).values_list(
            "user_id", flat=True
        )
    )
    return [person for person in people if person not in seen]


def unread_counts(people: Iterable[int]) -> dict[int, dict[int, int]]:
    """person -> chat -> unread messages, for every chat of each of `people`: one query."""
    unread = (
        Message.objects.filter(chat=OuterRef("chat"))
        .unread_by(OuterRef("user"), Coalesce(OuterRef("last_read_message_id"), Value(0)))
        .order_by()
        .values("chat")
        .annotate(n=Count("id"))
        .values("n")
    )
    rows = (
        Membership.objects.filter(user_id__in=list(people))
        .annotate(unread=Coalesce(Subquery(unread[:1], output_field=IntegerField()), 0))
        .values_list("user_id", "chat_id", "unread")
    )
    counts: dict[int, dict[int, int]] = {}
    for user_id, chat_id, count in rows:
        counts.setdefault(user_id, {})[chat_id] = count
    return counts


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def preview(message: Message) -> str:
    """What a notification says of a message: its text, else what it carries."""
    if message.text:
        return _short(message.text, PREVIEW_LENGTH)
    if message.image:
        return _("Photo")
    if message.attachment_count:
        # Pictures only: "Photo"; any other file among them: "File".
        return _("Photo") if all(file.is_image for file in message.attachments.all()) else _("File")
    return _("New message")


def _devices(people: Iterable[int]) -> dict[int, list[PushSubscription]]:
    devices: dict[int, list[PushSubscription]] = {}
    for subscription in PushSubscription.objects.filter(user_id__in=list(people)).select_related("user"):
        devices.setdefault(subscription.user_id, []).append(subscription)
    return devices


def _language(user: User) -> str:
    return user.language or settings.LANGUAGE_CODE


def deliveries(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The pushes a job makes: one per device of each person it notifies, with that person's text."""
    if job["kind"] == "message":
        yield from _message_deliveries(job["message"])
    elif job["kind"] in ("added", "direct"):
        yield from _chat_deliveries(job)


def _delivery(subscription: PushSubscription, payload: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "delivery", "subscription": subscription.pk, "payload": payload, "topic": payload["tag"]}


def _message_deliveries(message_id: int) -> Iterator[dict[str, Any]]:
    message = Message.objects.select_related("chat", "author", "reply_to").filter(pk=message_id).first()
    if message is None or message.author is None:
        return
    devices = _devices(unseen(recipients(message), since=message.created_at))
    if not devices:
        return
    counts = unread_counts(devices)
    chat, author = message.chat, message.author
    for user_id, subscriptions in devices.items():
        person = subscriptions[0].user
        mine = counts.get(user_id, {})
        count = mine.get(chat.pk, 0)
        if count == 0:
            continue  # read meanwhile (or deleted): nothing new to tell
        with translation.override(_language(person)):
            title = chat.title if chat.is_group else author.display_name
            if person.push_previews:
                said = preview(message)
                body = _("%(name)s: %(text)s") % {"name": author.display_name, "text": said} if chat.is_group else said
                if count > 1:
                    body = f"{_new_messages(count)} · {body}"
            elif chat.is_group:
                body = _("%(count)s from %(name)s") % {"count": _new_messages(count), "name": author.display_name}
            else:
                body = _new_messages(count)
        payload = {
            "title": _short(title, TITLE_LENGTH),
            "body": body,
            "url": chat.get_absolute_url(),
            "tag": f"chat-{chat.pk}",
            "chat": chat.pk,
            "message": message.pk,
            "unread": sum(mine.values()),
        }
        for subscription in subscriptions:
            yield _delivery(subscription, payload)


def _new_messages(count: int) -> str:
    return ngettext("%(count)d new message", "%(count)d new messages", count) % {"count": count}


def _chat_deliveries(job: dict[str, Any]) -> Iterator[dict[str, Any]]:
    chat = Chat.objects.filter(pk=job["chat"]).first()
    by = User.objects.filter(pk=job["by"]).first()
    if chat is None or by is None:
        return
    if job["kind"] == "added":
        people = [job["user"]]
    else:
        people = list(Membership.objects.filter(chat=chat).exclude(user=by).values_list("user_id", flat=True))
    people = list(Membership.objects.filter(chat=chat, user_id__in=people).values_list("user_id", flat=True))
    devices = _devices(unseen(people))
    counts = unread_counts(devices) if devices else {}
    for user_id, subscriptions in devices.items():
        person = subscriptions[0].user
        with translation.override(_language(person)):
            if chat.is_group:
                title = chat.title
                body = _("%(name)s added you to the group.") % {"name": by.display_name}
            else:
                title = by.display_name
                body = _("%(name)s started a chat with you.") % {"name": by.display_name}
        payload = {
            "title": _short(title, TITLE_LENGTH),
            "body": body,
            "url": chat.get_absolute_url(),
            "tag": f"chat-{chat.pk}",
            "chat": chat.pk,
            "message": None,
            "unread": sum(counts.get(user_id, {}).values()),
        }
        for subscription in subscriptions:
            yield _delivery(subscription, payload)
