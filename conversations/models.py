"""Chats, their members and their messages.

Writes go through `conversations.actions`; this module holds the data and the
read-side querysets (the access rule is `Chat.objects.for_user`).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.db import models
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from flowchat.images import random_name

from .formatting import is_emoji_only

MESSAGE_MAX_LENGTH = 10_000
TITLE_MAX_LENGTH = 100
_MENTIONED = re.compile(r'<a class="mention" [^>]*data-user="(\d+)"')
# A reply quotes this many characters of the first line of the message it answers.
QUOTE_LENGTH = 80


def chat_photo_path(instance: Chat, filename: str) -> str:
    return random_name("chat-photos", filename)


def message_image_path(instance: Message, filename: str) -> str:
    return random_name("pictures", filename)


def attachment_path(instance: Attachment, filename: str) -> str:
    """files/<chat id>/<random>.<webp|bin>: nothing of the uploader's name, not even its extension."""
    extension = "webp" if filename.endswith(".webp") and instance.is_image else "bin"
    return f"files/{instance.message.chat_id}/{uuid.uuid4().hex}.{extension}"


def link_preview_image_path(instance: LinkPreview, filename: str) -> str:
    # With the messages' pictures: the same members-only view serves both.
    return random_name("pictures", filename)


def direct_key_for(first_id: int, second_id: int) -> str:
    """The one key a pair of people's direct chat has, whichever of them starts it."""
    low, high = sorted((first_id, second_id))
    return f"{low}:{high}"


class ChatQuerySet(models.QuerySet["Chat"]):
    def for_user(self, user) -> ChatQuerySet:
        """The access rule: the chats this person is a member of. Everything else is a 404."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(memberships__user=user)

    def seen_from_outside(self, user) -> ChatQuerySet:
        """The chats whose face (title, photo) this person may see: their own, and every open group."""
        if not user.is_authenticated:
            return self.none()
        return self.filter(Q(memberships__user=user) | Q(is_group=True, is_open=True)).distinct()

    def with_list_details(self, user) -> ChatQuerySet:
        """Everything the chat list shows, in a fixed number of queries whatever the number of chats."""
        my_read_position = Membership.objects.filter(chat=OuterRef("pk"), user=user).values("last_read_message_id")
        unread = (
            Message.objects.filter(chat=OuterRef("pk"))
            .unread_by(user, OuterRef("read_position"))
            .order_by()
            .values("chat")
            .annotate(n=Count("id"))
            .values("n")
        )
        mentions = (
            Message.objects.filter(chat=OuterRef("pk"), mentions__user=user)
            .unread_by(user, OuterRef("read_position"))
            .order_by()
            .values("chat")
            .annotate(n=Count("id"))
            .values("n")
        )
        return (
            self.for_user(user)
            .annotate(read_position=Coalesce(Subquery(my_read_position[:1]), 0))
            .annotate(unread_count=Coalesce(Subquery(unread[:1]), 0))
            .annotate(mention_count=Coalesce(Subquery(mentions[:1]), 0))
            .select_related("last_message", "last_message__author", "last_message__subject")
            .prefetch_related(
                models.Prefetch(
                    "memberships",
                    queryset=Membership.objects.select_related("user").order_by("joined_at", "id"),
                )
            )
            .order_by("-last_activity_at", "-id")
        )


class Chat(models.Model):
    is_group = models.BooleanField(_("group"), default=False)
    title = models.CharField(_("title"), max_length=TITLE_MAX_LENGTH, blank=True)
    photo = models.ImageField(_("photo"), upload_to=chat_photo_path, blank=True)
    # An open group is listed in the directory of groups and anyone signed in may join it;
    # a closed one (the default) takes its members by invitation only.
    is_open = models.BooleanField(_("open"), default=False)
    # "<low id>:<high id>" for a direct chat, unique, so two racing requests cannot make two.
    direct_key = models.CharField(max_length=41, unique=True, null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Denormalised so the chat list needs no per-chat query.
    last_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+", editable=False
    )
    last_activity_at = models.DateTimeField(default=timezone.now, editable=False)
    # Goes up with every member added or removed; the sockets compare it with the one they
    # know (conversations.consumers) to stop listening the moment someone is removed.
    members_version = models.PositiveIntegerField(default=0, editable=False)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, through="Membership", related_name="chats")

    objects = ChatQuerySet.as_manager()

    class Meta:
        verbose_name = _("chat")
        verbose_name_plural = _("chats")
        indexes = [models.Index(fields=["-last_activity_at", "-id"], name="chat_activity_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_group=True, direct_key__isnull=True) | Q(is_group=False, direct_key__isnull=False),
                name="chat_direct_key_iff_direct",
            ),
            models.CheckConstraint(condition=Q(is_open=False) | Q(is_group=True), name="chat_open_only_if_group"),
        ]

    def __str__(self) -> str:
        return self.title or f"#{self.pk}"

    def get_absolute_url(self) -> str:
        return reverse("chat", args=[self.pk])

    def other_member(self, viewer) -> settings.AUTH_USER_MODEL | None:
        """The person on the other side of a direct chat (from prefetched memberships when present)."""
        for membership in self.memberships.all():
            if membership.user_id != viewer.pk:
                return membership.user
        return None

    def display_name_for(self, viewer) -> str:
        if self.is_group:
            return self.title
        other = self.other_member(viewer)
        return other.display_name if other else viewer.display_name

    def display_photo_for(self, viewer) -> str:
        if self.is_group:
            return self.photo.url if self.photo else reverse("chat_initials", args=[self.pk])
        other = self.other_member(viewer)
        return (other or viewer).avatar_url


class Notifications(models.TextChoices):
    ALL = "all", _("All messages")
    MENTIONS = "mentions", _("Mentions and replies to me only")
    NONE = "none", _("Nothing")


# Groups bigger than this notify only of mentions and replies unless a member chooses otherwise.
BIG_GROUP = 20


def default_notifications(chat: Chat, member_count: int) -> str:
    """All for direct chats and groups of up to BIG_GROUP members, mentions for bigger ones."""
    if not chat.is_group or member_count <= BIG_GROUP:
        return Notifications.ALL
    return Notifications.MENTIONS


class Membership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.MEMBER)
    joined_at = models.DateTimeField(_("joined"), default=timezone.now)
    # Messages up to this id are read; it gives unread counts and read receipts.
    last_read_message_id = models.BigIntegerField(null=True, blank=True)
    muted = models.BooleanField(_("muted"), default=False)
    # Which new messages notify this member by push; None follows the default (default_notifications).
    notifications = models.CharField(
        _("notifications"), max_length=10, choices=Notifications, null=True, blank=True, default=None
    )

    class Meta:
        verbose_name = _("member")
        verbose_name_plural = _("members")
        constraints = [models.UniqueConstraint(fields=["chat", "user"], name="membership_unique")]
        indexes = [models.Index(fields=["user", "chat"], name="membership_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} in {self.chat}"


class MessageQuerySet(models.QuerySet["Message"]):
    def with_people(self) -> MessageQuerySet:
        """With author, subject, the message replied to and its author (the quote every reply shows),
        reactions with their people: one query more for any number of messages; and the attachments of
        those that have any (attachment_count): one more, only when some have."""
        reactions = models.Prefetch("reactions", queryset=Reaction.objects.select_related("user"))
        # The link preview comes in the same query (a LEFT JOIN): no query per message for it.
        messages = self.select_related("author", "subject", "reply_to__author", "link_preview").prefetch_related(
            reactions
        )
        messages._with_attachments = True
        return messages

    def _clone(self) -> MessageQuerySet:
        clone = super()._clone()
        clone._with_attachments = getattr(self, "_with_attachments", False)
        return clone

    def _prefetch_related_objects(self) -> None:
        super()._prefetch_related_objects()
        if getattr(self, "_with_attachments", False):
            # (Rows of values() or values_list() have no attachments to load.)
            with_files = [row for row in self._result_cache if isinstance(row, Message) and row.attachment_count]
            if with_files:
                models.prefetch_related_objects(with_files, "attachments")

    def unread_by(self, reader, after) -> MessageQuerySet:
        """What counts as unread for `reader` past read position `after`: others' messages, not system
        lines, not deleted. `reader` and `after` may be OuterRef expressions, for a subquery."""
        return self.filter(kind=Message.Kind.TEXT, deleted_at__isnull=True, id__gt=after).exclude(author=reader)


class Message(models.Model):
    class Kind(models.TextChoices):
        TEXT = "text", _("Message")
        # System lines: what happened to the group, rendered in the reader's language.
        CREATED = "created", _("Group created")
        ADDED = "added", _("Member added")
        REMOVED = "removed", _("Member removed")
        LEFT = "left", _("Member left")
        RENAMED = "renamed", _("Group renamed")
        PHOTO = "photo", _("Group photo changed")
        OWNER = "owner", _("Owner changed")
        JOINED = "joined", _("Member joined")
        OPENED = "opened", _("Group opened")
        CLOSED = "closed", _("Group closed")

    chat = models.ForeignKey(Chat, on_delete=models.CASCADE, related_name="messages")
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="messages")
    kind = models.CharField(max_length=10, choices=Kind, default=Kind.TEXT)
    # The person a system line is about ("Alice added *Bob*").
    subject = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    text = models.TextField(_("text"), max_length=MESSAGE_MAX_LENGTH, blank=True)
    # The text rendered (conversations.formatting) when it is saved or edited, safe as it is; the
    # text stays the source of truth. Empty for system lines (system_html) and deleted messages.
    html = models.TextField(blank=True, editable=False)
    image = models.ImageField(
        _("picture"),
        upload_to=message_image_path,
        blank=True,
        width_field="image_width",
        height_field="image_height",
        db_index=True,  # the members-only picture view finds its message by file name
    )
    thumbnail = models.ImageField(upload_to=message_image_path, blank=True, editable=False, db_index=True)
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("sent"), default=timezone.now)
    edited_at = models.DateTimeField(_("edited"), null=True, blank=True)
    deleted_at = models.DateTimeField(_("deleted"), null=True, blank=True)
    # The message this one answers (same chat); its quote follows it as it is edited or deleted.
    reply_to = models.ForeignKey(
        "self", on_delete=models.SET_NULL, null=True, blank=True, related_name="replies", editable=False
    )
    # How many files it has (Attachment): the chat list and quotes say "2 files" without loading them.
    attachment_count = models.PositiveSmallIntegerField(default=0, editable=False)
    # A retried send carries the same client_id and gets the original message back.
    client_id = models.UUIDField(null=True, blank=True, editable=False)
    # Goes up with every edit and the deletion, in the database (F("version") + 1), so changes
    # racing on two server processes get distinct, ordered numbers: a tab or script that is
    # shown version n drops anything older that arrives late.
    version = models.PositiveIntegerField(default=1, editable=False)

    objects = MessageQuerySet.as_manager()

    class Meta:
        verbose_name = _("message")
        verbose_name_plural = _("messages")
        ordering = ["id"]
        indexes = [models.Index(fields=["chat", "id"], name="message_chat_id_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=["author", "client_id"], condition=Q(client_id__isnull=False), name="message_client_id_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.author}: {self.text[:40]}"

    def get_absolute_url(self) -> str:
        """The permalink: the chat's history around this message."""
        return reverse("message_permalink", args=[self.chat_id, self.pk])

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def is_system(self) -> bool:
        return self.kind != self.Kind.TEXT

    @property
    def mentioned_ids(self) -> list[int]:
        """Whom the text mentions, each once: read from the stored html (no query), whose mention
        links carry data-user and which nothing else can (conversations.formatting)."""
        return list(dict.fromkeys(int(pk) for pk in _MENTIONED.findall(self.html)))

    @property
    def is_emoji_only(self) -> bool:
        """A message of a few emoji and nothing else, which shows large."""
        return bool(self.text) and not self.is_deleted and is_emoji_only(self.text)

    def _system_sentence(self) -> tuple[str, dict[str, str]]:
        """The sentence of a system line in the reader's language, and the names that go in it."""
        names = {
            "actor": self.author.display_name if self.author else gettext("Someone"),
            "subject": self.subject.display_name if self.subject else gettext("someone"),
            "title": self.text,
        }
        templates = {
            self.Kind.CREATED: gettext("%(actor)s created the group"),
            self.Kind.ADDED: gettext("%(actor)s added %(subject)s"),
            self.Kind.REMOVED: gettext("%(actor)s removed %(subject)s"),
            self.Kind.LEFT: gettext("%(actor)s left"),
            self.Kind.RENAMED: gettext("%(actor)s renamed the group to “%(title)s”"),
            self.Kind.PHOTO: gettext("%(actor)s changed the group photo"),
            self.Kind.OWNER: gettext("%(subject)s is now the owner"),
            self.Kind.JOINED: gettext("%(actor)s joined"),
            self.Kind.OPENED: gettext("%(actor)s opened the group: anyone can find and join it"),
            self.Kind.CLOSED: gettext("%(actor)s closed the group: new members by invitation only"),
        }
        return templates.get(self.kind, self.text), names

    def system_text(self) -> str:
        """A system line in the reader's language ("Alice added Bob"); needs author and subject loaded."""
        sentence, names = self._system_sentence()
        return sentence % names

    def system_html(self) -> SafeString:
        """The system line for a page: each name and title in <bdi>, so that a right-to-left
        override in one (U+202E) cannot reorder the sentence around it."""
        sentence, names = self._system_sentence()
        isolated = {key: format_html("<bdi>{}</bdi>", value) for key, value in names.items()}
        return mark_safe(escape(sentence) % isolated)  # noqa: S308 - the sentence escaped, the names escaped

    def quote_text(self) -> str:
        """What a reply's quote shows of this message: the first line of its text, or "Photo"."""
        if self.is_deleted:
            return gettext("Deleted message")
        first_line = self.text.strip().split("\n", 1)[0]
        if first_line:
            return first_line if len(first_line) <= QUOTE_LENGTH else first_line[: QUOTE_LENGTH - 1] + "…"
        if self.image:
            return gettext("Photo")
        return self.files_text()

    def files_text(self) -> str:
        """ "3 files", for a message of files only (from attachment_count: no query)."""
        if not self.attachment_count:
            return ""
        return ngettext("%(count)d file", "%(count)d files", self.attachment_count) % {"count": self.attachment_count}

    @property
    def shown_link_preview(self) -> LinkPreview | None:
        """The preview of the message's first link, if there is one to show (previews on, not removed).

        Loaded with the message by `with_people()`; a message just sent has none yet (no_reactions_yet).
        """
        if not settings.LINK_PREVIEWS or self.is_deleted or self.is_system:
            return None
        try:
            preview = self.link_preview
        except LinkPreview.DoesNotExist:
            return None
        return None if preview.removed else preview

    @property
    def has_link_preview_slot(self) -> bool:
        """Whether the message's page carries the place its link preview shows in (or would, once
        fetched): only for a text that may hold a link, so that other messages carry nothing more."""
        return settings.LINK_PREVIEWS and not self.is_deleted and not self.is_system and "://" in self.text

    def preview(self) -> str:
        """What the chat list shows for this message."""
        if self.is_system:
            return self.system_text()
        if self.is_deleted:
            return gettext("Message deleted")
        if self.text:
            return self.text[:200]
        if self.image:
            return gettext("Photo")
        return self.files_text()


def known_attachments(message: Message, attachments: list[Attachment]) -> Message:
    """Give a message just sent the attachments it was sent with, so that showing it asks nothing."""
    loaded = Attachment.objects.filter(message=message)
    loaded._result_cache = list(attachments)
    loaded._prefetch_done = True
    cache = getattr(message, "_prefetched_objects_cache", {})
    message._prefetched_objects_cache = {**cache, "attachments": loaded}
    return message


class Attachment(models.Model):
    """A file sent with a message (conversations.attachments): served to the chat's members only.

    `name` is the uploader's name cleaned for display, never a path; the file is stored under a
    random one in its chat's folder. A file that verified as a picture is re-encoded (WebP) and
    has a thumbnail and its size in pixels; only those are ever shown inline.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=200, db_index=True)
    thumbnail = models.FileField(upload_to=attachment_path, max_length=200, blank=True, db_index=True)
    name = models.CharField(_("name"), max_length=200)
    size = models.PositiveBigIntegerField(_("size"))
    content_type = models.CharField(_("type"), max_length=127)
    is_image = models.BooleanField(default=False)
    width = models.PositiveIntegerField(null=True, blank=True)
    height = models.PositiveIntegerField(null=True, blank=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["id"]

    def __str__(self) -> str:
        return self.name

    @property
    def url(self) -> str:
        """The file (views.attachment_file, members only): a picture shown inline, anything else downloaded."""
        return self.file.url

    @property
    def download_url(self) -> str:
        """Always a download, pictures too."""
        return self.url if not self.is_image else self.url + "?download"

    @property
    def thumbnail_url(self) -> str | None:
        return self.thumbnail.url if self.thumbnail else None

    @property
    def kind(self) -> str:
        from .attachments import kind_of

        return kind_of(self.content_type, self.is_image)


class Mention(models.Model):
    """A member named as @username in a message (conversations.formatting finds them, actions write them).

    Kept when the message is deleted (the unread counts leave deleted messages out anyway), so
    that a socket told of the deletion knows whose mention went with it.
    """

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="mentions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="mentions")

    class Meta:
        verbose_name = _("mention")
        verbose_name_plural = _("mentions")
        # Leading with the person: "my unread mentions in this chat" is what the chat list asks.
        constraints = [models.UniqueConstraint(fields=["user", "message"], name="mention_unique")]

    def __str__(self) -> str:
        return f"@{self.user} in {self.message_id}"


REACTION_MAX_LENGTH = 64  # characters: longer than any single emoji (conversations.emoji)


class Reaction(models.Model):
    """One person's emoji on a message; at most one of each emoji per person per message."""

    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="reactions")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="reactions")
    emoji = models.CharField(_("emoji"), max_length=REACTION_MAX_LENGTH)
    created_at = models.DateTimeField(_("added"), default=timezone.now)

    class Meta:
        verbose_name = _("reaction")
        verbose_name_plural = _("reactions")
        ordering = ["created_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["message", "user", "emoji"], name="reaction_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user} {self.emoji} on {self.message_id}"


@dataclass(frozen=True)
class ReactionGroup:
    """Everyone who reacted to a message with one emoji, in the order they did."""

    emoji: str
    people: tuple  # of User, first reactor first

    @property
    def count(self) -> int:
        return len(self.people)

    @property
    def ids(self) -> str:
        """The reactors' ids, space separated, for data-people~="<id>" selectors."""
        return " ".join(str(person.pk) for person in self.people)

    def has(self, user_id: int | None) -> bool:
        return any(person.pk == user_id for person in self.people)


def no_reactions_yet(message: Message) -> Message:
    """Mark a message just sent as having no reactions and no link preview (that is fetched after it
    is committed), so that showing it asks the database nothing."""
    cache = getattr(message, "_prefetched_objects_cache", {})
    message._prefetched_objects_cache = {**cache, "reactions": Reaction.objects.none()}
    no_link_preview(message)
    return message


def no_link_preview(message: Message) -> Message:
    """Mark a message as having no link preview (just sent, or its preview just deleted): no query to find out."""
    Message.link_preview.related.set_cached_value(message, None)
    return message


def reaction_groups(message: Message) -> list[ReactionGroup]:
    """A message's reactions by emoji, the first added first (none on a deleted or system message).

    Reads `message.reactions.all()`: prefetched by `Message.objects.with_people()`, so a page of
    history costs one query for all its reactions.
    """
    if message.is_deleted or message.is_system:
        return []
    people: dict[str, list] = {}
    for reaction in message.reactions.all():
        people.setdefault(reaction.emoji, []).append(reaction.user)
    return [ReactionGroup(emoji, tuple(reactors)) for emoji, reactors in people.items()]


def notifications_for(membership: Membership, chat: Chat, member_count: int) -> str:
    """The member's notification level in effect: their choice, or the chat's default."""
    return membership.notifications or default_notifications(chat, member_count)


class LinkPreview(models.Model):
    """What the first http(s) link of a message points at: its site, title, description and picture.

    Fetched after the message is committed (conversations.previews). The picture was downloaded,
    verified and re-encoded like an uploaded one, and is served by FlowChat to the chat's members
    only (conversations.views.picture_file), never hot-linked. Removing it (its author) keeps the
    row, marked removed, so that it is not fetched again; a changed first link replaces it.
    """

    message = models.OneToOneField(Message, on_delete=models.CASCADE, related_name="link_preview")
    url = models.URLField(_("link"), max_length=2000)
    site_name = models.CharField(_("site"), max_length=100, blank=True)
    title = models.CharField(_("title"), max_length=300, blank=True)
    description = models.CharField(_("description"), max_length=500, blank=True)
    image = models.ImageField(
        _("picture"),
        upload_to=link_preview_image_path,
        blank=True,
        width_field="image_width",
        height_field="image_height",
        db_index=True,  # the members-only picture view finds its preview by file name
    )
    image_width = models.PositiveIntegerField(null=True, blank=True, editable=False)
    image_height = models.PositiveIntegerField(null=True, blank=True, editable=False)
    fetched_at = models.DateTimeField(_("fetched"), default=timezone.now)
    removed = models.BooleanField(_("removed"), default=False)
    # When it arrived or was removed: a tab whose socket was down catches up on it (views.updates).
    changed_at = models.DateTimeField(default=timezone.now, editable=False, db_index=True)

    class Meta:
        verbose_name = _("link preview")
        verbose_name_plural = _("link previews")

    def __str__(self) -> str:
        return self.url

    @property
    def host(self) -> str:
        return urlsplit(self.url).hostname or ""

    @property
    def site_label(self) -> str:
        """The site's own name, or its host when it gives none."""
        return self.site_name or self.host
