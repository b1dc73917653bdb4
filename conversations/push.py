"""Who a new message notifies by Web Push, by each member's notification level.

Deciding is kept apart from sending so that what counts as "mentions and replies to me"
lives in one small function (`concerns`): it grows with the mentions and replies of messages
when those land, and everything else follows.
"""

from __future__ import annotations

from .models import Membership, Message, Notifications, notifications_for


def concerns(message: Message, user_id: int) -> bool:
    """Whether `message` is addressed to this person: a direct chat, a reply to them, a mention of them."""
    if not message.chat.is_group:
        return True
    # Replies and mentions are optional until those features land on Message.
    replied = getattr(message, "reply_to", None)
    if replied is not None and getattr(replied, "author_id", None) == user_id:
        return True
    mentions = getattr(message, "mentions", None)
    if mentions is not None:
        mentioned = mentions.all() if hasattr(mentions, "all") else mentions
        return any(getattr(person, "pk", person) == user_id for person in mentioned)
    return False


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
