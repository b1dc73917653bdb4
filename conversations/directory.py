"""The directory of open groups: what anyone signed in may see of a group before joining it.

Its title, photo, member count and a preview of its most recent messages, never its whole
history or its members' names beyond those messages' authors: the group's page stays
members-only (conversations.permissions). Three queries for a page, whatever its length.
"""

from __future__ import annotations

from collections import defaultdict

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Window
from django.db.models.functions import RowNumber

from accounts.models import User

from .models import Chat, Membership, Message

# How many of a group's latest messages its directory entry shows.
PREVIEW_MESSAGES = 3


def open_groups(viewer: User, query: str = "") -> QuerySet[Chat]:
    """The open groups matching `query` in their title, most recently active first."""
    groups = Chat.objects.filter(is_group=True, is_open=True)
    if query:
        groups = groups.filter(title__icontains=query)
    return groups.annotate(
        member_count=Count("memberships", distinct=True),
        is_member=Exists(Membership.objects.filter(chat=OuterRef("pk"), user=viewer)),
    ).order_by("-last_activity_at", "-id")


def attach_previews(groups: list[Chat]) -> list[Chat]:
    """Give each group `recent`: its latest text messages, oldest first (one query for all)."""
    ranked = (
        Message.objects.with_people()
        .filter(Q(chat__in=[group.pk for group in groups]), kind=Message.Kind.TEXT, deleted_at__isnull=True)
        .annotate(rank=Window(RowNumber(), partition_by=[F("chat_id")], order_by=[F("id").desc()]))
        .filter(rank__lte=PREVIEW_MESSAGES)
        .order_by("chat_id", "id")
    )
    recent: dict[int, list[Message]] = defaultdict(list)
    if groups:
        for message in ranked:
            recent[message.chat_id].append(message)
    for group in groups:
        group.recent = recent[group.pk]
    return groups
