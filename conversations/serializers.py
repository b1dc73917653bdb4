"""Chats, members and messages as the JSON API and the script events show them (DESIGN.md section 4).

Below the API views and the broadcasts that use it, so a script reads the same Message from
`GET /api/chats/{pk}/get_messages/` as from a `message.created` event.
"""

from __future__ import annotations

from typing import Any

from django.urls import reverse

from accounts.models import User
from accounts.serializers import iso, user_summary

from .models import Chat, Membership, Message, notifications_for, reaction_groups
from .receipts import ReadPositions


def message_to_dict(
    message: Message, positions: ReadPositions, viewer: int | None = None, *, base_url: str = ""
) -> dict[str, Any]:
    """The contract's Message, plus html, mentions, kind, system_text, thumbnail, deleted_at, version,
    reactions, attachments and link_preview (needs author, subject, reactions, attachments and link
    preview: `Message.objects.with_people()`); `mine` is for `viewer`. `base_url`
    ("https://chat.example.org") makes the attachments' urls absolute."""
    return {
        "id": message.pk,
        "author": user_summary(message.author) if message.author else None,
        "chat": message.chat_id,
        "text": message.text,
        "html": message.html,
        "mentions": message.mentioned_ids,
        "image": message.image.url if message.image else None,
        "thumbnail": message.thumbnail.url if message.thumbnail else None,
        "created_at": iso(message.created_at),
        "edited_at": iso(message.edited_at),
        "deleted_at": iso(message.deleted_at),
        "is_read": positions.is_read(message),
        "kind": message.kind,
        "system_text": message.system_text() if message.is_system else None,
        "version": message.version,
        "reactions": reactions_to_list(message, viewer),
        "reply_to": message.reply_to_id,
        "attachments": attachments_to_list(message, base_url),
        "link_preview": link_preview_to_dict(message),
    }


def link_preview_to_dict(message: Message) -> dict[str, Any] | None:
    """The preview of the message's first link, or None (none fetched, removed, or previews off).

    `image` is FlowChat's own copy of the page's picture, never the page's address for it."""
    preview = message.shown_link_preview
    if preview is None:
        return None
    return {
        "url": preview.url,
        "site_name": preview.site_label,
        "title": preview.title,
        "description": preview.description,
        "image": preview.image.url if preview.image else None,
        "fetched_at": iso(preview.fetched_at),
    }


def attachments_to_list(message: Message, base_url: str = "") -> list[dict[str, Any]]:
    """[{"name", "size", "content_type", "url", "thumbnail", "width", "height"}], in the order sent."""
    if not message.attachment_count:
        return []  # asks nothing of a message without files, prefetched or not
    return [
        {
            "name": attachment.name,
            "size": attachment.size,
            "content_type": attachment.content_type,
            "url": base_url + attachment.url,
            "thumbnail": base_url + attachment.thumbnail_url if attachment.thumbnail else None,
            "width": attachment.width,
            "height": attachment.height,
        }
        for attachment in message.attachments.all()
    ]


def reactions_to_list(message: Message, viewer: int | None) -> list[dict[str, Any]]:
    """[{"emoji", "count", "mine"}], the first added first; `mine`: whether `viewer` is among them."""
    return [
        {"emoji": group.emoji, "count": group.count, "mine": group.has(viewer)} for group in reaction_groups(message)
    ]


def reaction_people(message: Message) -> list[list[int]]:
    """Who reacted with each emoji, in the order of reactions_to_list: what an event carries so that
    each socket sets `mine` (and aria-pressed) for its own person."""
    return [[person.pk for person in group.people] for group in reaction_groups(message)]


def chat_to_dict(chat: Chat, viewer: User) -> dict[str, Any]:
    """The contract's Chat, as `viewer` sees it; `chat` comes from `Chat.objects.with_list_details(viewer)`."""
    last = chat.last_message
    return {
        "id": chat.pk,
        # The original API has no title for a direct chat: its name is the other person's.
        "title": chat.title if chat.is_group else None,
        "is_group": chat.is_group,
        "is_open": chat.is_open,
        "members": [membership.user_id for membership in chat.memberships.all()],
        # As the original API: a direct chat is named by the other person's username (pages show full names).
        "display_name": chat.title if chat.is_group else _other(chat, viewer).username,
        "display_photo": chat.display_photo_for(viewer),
        "created_at": iso(chat.created_at),
        "display_time": iso(last.created_at if last else chat.created_at),
        "last_message": last.preview() if last else None,
        "unread_count": chat.unread_count,
        "notifications": _notifications(chat, viewer),
    }


def directory_entry_to_dict(group: Chat) -> dict[str, Any]:
    """An open group as anyone signed in sees it; `group` comes from `conversations.directory`."""
    return {
        "id": group.pk,
        "title": group.title,
        "display_photo": group.photo.url if group.photo else reverse("chat_initials", args=[group.pk]),
        "member_count": group.member_count,
        "is_member": group.is_member,
        "display_time": iso(group.last_activity_at),
        "recent_messages": [
            {
                "id": message.pk,
                "author": user_summary(message.author) if message.author else None,
                "text": message.text,
                "created_at": iso(message.created_at),
            }
            for message in group.recent
        ],
    }


def member_to_dict(membership: Membership) -> dict[str, Any]:
    return {
        **user_summary(membership.user),
        "role": membership.role,
        "last_read_message_id": membership.last_read_message_id,
    }


def _other(chat: Chat, viewer: User) -> User:
    return chat.other_member(viewer) or viewer


def _notifications(chat: Chat, viewer: User) -> str:
    memberships = chat.memberships.all()
    mine = next((membership for membership in memberships if membership.user_id == viewer.pk), None)
    return notifications_for(mine, chat, len(memberships)) if mine else "all"
