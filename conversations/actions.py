"""Every change to chats, members and messages that other people see.

Pages, the JSON API and the socket consumers call these functions and nothing
else writes chats, memberships, messages or presence. Each one validates, writes in one
transaction, and schedules its broadcasts (conversations.broadcast) with
`transaction.on_commit`, so nobody is told about a change that was rolled back.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import ApiToken, Connection, User

from . import broadcast, limits, previews, push
from .attachments import MAX_ATTACHMENTS, PreparedFile
from .emoji import is_single_emoji
from .formatting import Members, mention_candidates, render
from .models import (
    MESSAGE_MAX_LENGTH,
    TITLE_MAX_LENGTH,
    Attachment,
    Chat,
    LinkPreview,
    Membership,
    Mention,
    Message,
    Notifications,
    Reaction,
    direct_key_for,
    known_attachments,
    no_link_preview,
)


def _later(callback: Callable[..., None], *args, **kwargs) -> None:
    """Tell people once the change is committed (right away outside a transaction)."""
    transaction.on_commit(lambda: callback(*args, **kwargs), robust=True)


def get_or_create_direct_chat(user: User, other: User) -> tuple[Chat, bool]:
    """The one direct chat between two people, created on first use; safe under concurrent requests."""
    if other.pk == user.pk:
        raise ValidationError(_("You cannot start a chat with yourself."), code="self")
    if not other.is_active:
        raise ValidationError(_("This person is not available."), code="inactive")
    key = direct_key_for(user.pk, other.pk)
    if chat := Chat.objects.filter(direct_key=key).first():
        return chat, False
    try:
        with transaction.atomic():
            chat = Chat.objects.create(is_group=False, direct_key=key, created_by=user)
            Membership.objects.bulk_create([Membership(chat=chat, user=user), Membership(chat=chat, user=other)])
    except IntegrityError:
        # Another request created it between our lookup and our insert: theirs is the chat.
        return Chat.objects.get(direct_key=key), False
    _later(broadcast.chat_created, chat.pk)
    _later(push.direct_chat_created, chat.pk, user.pk)
    return chat, True


def _clean_title(title: str) -> str:
    title = " ".join(title.split())
    if not title:
        raise ValidationError(_("A group needs a title."), code="required")
    if len(title) > TITLE_MAX_LENGTH:
        raise ValidationError(
            _("A title can be at most %(limit)d characters.") % {"limit": TITLE_MAX_LENGTH}, code="max_length"
        )
    return title


def _system_line(
    chat: Chat, kind: str, author: User, subject: User | None = None, text: str = "", *, quiet: bool = False
) -> Message:
    message = Message.objects.create(chat=chat, author=author, kind=kind, subject=subject, text=text)
    Chat.objects.filter(pk=chat.pk).update(last_message=message, last_activity_at=message.created_at)
    chat.last_message, chat.last_activity_at = message, message.created_at
    if not quiet:
        _later(broadcast.message_created, message)
    return message


def create_group(creator: User, title: str, members: Iterable[User] = (), photo: ContentFile | None = None) -> Chat:
    """A group owned by its creator, with the people they picked."""
    title = _clean_title(title)
    others = {member.pk: member for member in members if member.pk != creator.pk and member.is_active}
    # "added" lines in the order of their names: a form's choices come in no order of their own.
    others = dict(sorted(others.items(), key=lambda item: (item[1].display_name.casefold(), item[0])))
    with transaction.atomic():
        chat = Chat.objects.create(is_group=True, title=title, created_by=creator)
        if photo is not None:
            chat.photo.save(photo.name, photo)
        Membership.objects.bulk_create(
            [Membership(chat=chat, user=creator, role=Membership.Role.OWNER)]
            + [Membership(chat=chat, user=member) for member in others.values()]
        )
        # The new group arrives whole (one event each), not line by line.
        _system_line(chat, Message.Kind.CREATED, creator, quiet=True)
        for member in others.values():
            _system_line(chat, Message.Kind.ADDED, creator, member, quiet=True)
        _later(broadcast.chat_created, chat.pk, by=creator.pk)
        for member in others.values():
            _later(push.member_added, chat.pk, member.pk, creator.pk)
    return chat


def _membership(chat: Chat, user: User) -> Membership:
    membership = Membership.objects.select_for_update().filter(chat=chat, user=user).first()
    if membership is None:
        raise PermissionDenied(_("You are not a member of this chat."))
    return membership


def _members_changed(chat: Chat) -> None:
    Chat.objects.filter(pk=chat.pk).update(members_version=F("members_version") + 1)


def _require_group(chat: Chat) -> None:
    if not chat.is_group:
        raise ValidationError(_("Only a group can do that."), code="not_group")


def rename_group(chat: Chat, by: User, title: str) -> Chat:
    """Any member may rename a group."""
    _require_group(chat)
    title = _clean_title(title)
    with transaction.atomic():
        _membership(chat, by)
        if title == chat.title:
            return chat
        chat.title = title
        chat.save(update_fields=["title"])
        _system_line(chat, Message.Kind.RENAMED, by, text=title)
        _later(broadcast.chat_updated, chat.pk)
    return chat


def set_group_photo(chat: Chat, by: User, photo: ContentFile | None) -> Chat:
    """Any member may change or remove a group's photo."""
    _require_group(chat)
    with transaction.atomic():
        _membership(chat, by)
        old = chat.photo.name if chat.photo else ""
        if photo is not None:
            chat.photo.save(photo.name, photo, save=False)
        else:
            chat.photo = ""
        chat.save(update_fields=["photo"])
        _system_line(chat, Message.Kind.PHOTO, by)
        _later(broadcast.chat_updated, chat.pk)
        if old:
            storage = chat.photo.storage
            transaction.on_commit(lambda: storage.delete(old))
    return chat


def add_member(chat: Chat, by: User, user: User) -> Membership:
    """Any member may add people to a group."""
    _require_group(chat)
    if not user.is_active:
        raise ValidationError(_("This person is not available."), code="inactive")
    with transaction.atomic():
        _membership(chat, by)
        membership, created = Membership.objects.get_or_create(chat=chat, user=user)
        if not created:
            raise ValidationError(
                _("%(name)s is already a member.") % {"name": user.display_name}, code="already_member"
            )
        _members_changed(chat)
        _later(broadcast.member_added, chat.pk, user.pk, by=by.pk)
        _later(push.member_added, chat.pk, user.pk, by.pk)
        line = _system_line(chat, Message.Kind.ADDED, by, user)
        # They start with the history already read: only what comes next is new to them.
        membership.last_read_message_id = line.pk
        membership.save(update_fields=["last_read_message_id"])
    return membership


def remove_member(chat: Chat, by: User, user: User) -> None:
    """The owner removes someone from a group."""
    _require_group(chat)
    if user.pk == by.pk:
        raise ValidationError(_("To leave the group, use Leave."), code="self")
    with transaction.atomic():
        if _membership(chat, by).role != Membership.Role.OWNER:
            raise PermissionDenied(_("Only the owner can remove members."))
        deleted, _rows = Membership.objects.filter(chat=chat, user=user).delete()
        if not deleted:
            raise ValidationError(_("%(name)s is not a member.") % {"name": user.display_name}, code="not_member")
        _members_changed(chat)
        _later(broadcast.member_removed, chat.pk, user.pk)
        _system_line(chat, Message.Kind.REMOVED, by, user)


def set_group_open(chat: Chat, by: User, is_open: bool) -> Chat:
    """The owner opens a group (listed in the directory, anyone signed in may join) or closes it."""
    _require_group(chat)
    with transaction.atomic():
        if _membership(chat, by).role != Membership.Role.OWNER:
            raise PermissionDenied(_("Only the owner can open or close the group."))
        # Locked, so that a join racing this change sees the group as it is once both are done.
        chat = Chat.objects.select_for_update().get(pk=chat.pk)
        if chat.is_open == is_open:
            return chat
        chat.is_open = is_open
        chat.save(update_fields=["is_open"])
        _system_line(chat, Message.Kind.OPENED if is_open else Message.Kind.CLOSED, by)
        _later(broadcast.chat_updated, chat.pk)
    return chat


def join_group(chat: Chat, user: User) -> Membership:
    """Anyone signed in joins an open group, with its history already read."""
    if not user.is_active:
        raise ValidationError(_("This person is not available."), code="inactive")
    with transaction.atomic():
        chat = Chat.objects.select_for_update().filter(pk=chat.pk).first()
        if chat is not None and Membership.objects.filter(chat=chat, user=user).exists():
            raise ValidationError(_("You are already a member of this group."), code="already_member")
        if chat is None or not chat.is_group or not chat.is_open:
            raise ValidationError(_("This group is not open: ask a member to add you."), code="not_open")
        membership = Membership.objects.create(chat=chat, user=user)
        _members_changed(chat)
        _later(broadcast.member_added, chat.pk, user.pk, by=user.pk)
        line = _system_line(chat, Message.Kind.JOINED, user)
        membership.last_read_message_id = line.pk
        membership.save(update_fields=["last_read_message_id"])
    return membership


def leave_chat(chat: Chat, user: User) -> None:
    """Leave a group; if the owner leaves, the longest-standing member becomes the owner."""
    _require_group(chat)
    with transaction.atomic():
        membership = _membership(chat, user)
        membership.delete()
        _members_changed(chat)
        _later(broadcast.member_removed, chat.pk, user.pk)
        remaining = Membership.objects.filter(chat=chat).order_by("joined_at", "id")
        if not remaining.exists():
            chat.delete()
            return
        _system_line(chat, Message.Kind.LEFT, user)
        if membership.role == Membership.Role.OWNER and not remaining.filter(role=Membership.Role.OWNER).exists():
            heir = remaining.select_related("user").first()
            heir.role = Membership.Role.OWNER
            heir.save(update_fields=["role"])
            _system_line(chat, Message.Kind.OWNER, user, heir.user)


def set_notifications(chat: Chat, user: User, level: str | None) -> Membership:
    """A member chooses which new messages of the chat notify them (None: the chat's default)."""
    if level is not None and level not in Notifications.values:
        raise ValidationError(_("That notification level is not available."), code="invalid")
    with transaction.atomic():
        membership = _membership(chat, user)
        membership.notifications = level
        membership.save(update_fields=["notifications"])
    return membership


def clean_text(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\x00", "").strip()
    if len(text) > MESSAGE_MAX_LENGTH:
        raise ValidationError(
            _("A message can be at most %(limit)d characters (this one has %(count)d).")
            % {"limit": MESSAGE_MAX_LENGTH, "count": len(text)},
            code="max_length",
        )
    return text


def _sent_before(author: User, client_id: uuid.UUID) -> Message | None:
    return Message.objects.filter(author=author, client_id=client_id).first()


def _repeated(existing: Message, chat: Chat) -> tuple[Message, bool]:
    if existing.chat_id != chat.pk:
        raise ValidationError(_("This message id was already used in another chat."), code="client_id")
    return existing, False


def _members_by_name(chat: Chat, text: str) -> Members | None:
    """Who may be mentioned in `text`: those of the chat's members named after an "@" in it, by
    lowercase username (no query without one; a group of thousands is not read whole)."""
    names = mention_candidates(text)
    if not names:
        return None
    people = (
        Membership.objects.filter(chat=chat)
        .annotate(name=Lower("user__username"))
        .filter(name__in=names)
        .values_list("user_id", "user__username")
    )
    return {username.lower(): (pk, username) for pk, username in people}


def send_message(
    chat: Chat,
    author: User,
    text: str = "",
    picture: tuple[ContentFile, ContentFile] | None = None,
    client_id: uuid.UUID | None = None,
    *,
    rate_limited: bool = False,
    reply_to: int | None = None,
    files: Sequence[PreparedFile] = (),
) -> tuple[Message, bool]:
    """Post a message (text, a picture, files, or any of them together); a repeated client_id returns the original.

    `picture` is the (full size, thumbnail) pair made by `flowchat.images.clean_images`; `files`,
    at most MAX_ATTACHMENTS, are made by `conversations.attachments.prepare` (MessageForm does both).
    `rate_limited`: the send counts against the author's send rate (conversations.limits) and
    raises SendingTooFast past it. Every send a person makes (pages, API) passes True; seeding
    and other operator tools that build history do not.
    `reply_to`: the id of the message this one answers, in the same chat.
    """
    text = clean_text(text)
    if not text and picture is None and not files:
        raise ValidationError(_("Write something or attach a file."), code="empty")
    if len(files) > MAX_ATTACHMENTS:
        raise ValidationError(
            _("A message can carry at most %(limit)d files.") % {"limit": MAX_ATTACHMENTS}, code="too_many_files"
        )
    original = None if reply_to is None else replied_message(chat, reply_to)
    # A retried upload must not store its files again only to roll them back.
    if (picture is not None or files) and client_id is not None and (existing := _sent_before(author, client_id)):
        return _repeated(existing, chat)
    if rate_limited:
        try:
            limits.count_send(author)
        except limits.SendingTooFast:
            # The retry of a send that was stored (its answer lost) gets its message, not a refusal;
            # looked up only here, so that a send within the rate costs no extra query.
            if client_id is not None and (existing := _sent_before(author, client_id)):
                return _repeated(existing, chat)
            raise
    stored: list[str] = []
    try:
        with transaction.atomic():
            rendered = render(text, _members_by_name(chat, text))
            message = Message(
                chat=chat,
                author=author,
                text=text,
                html=rendered.html,
                client_id=client_id,
                reply_to=original,
                attachment_count=len(files),
            )
            if picture is not None:
                full, thumbnail = picture
                message.image.save(full.name, full, save=False)
                message.thumbnail.save(thumbnail.name, thumbnail, save=False)
            message.save()
            if files:
                known_attachments(message, _attach(message, files, stored))
            # Your own message is read by you. No row: the author is no longer a member, and the
            # message goes with the rollback. (The membership row is locked before the chat's, as
            # in every action that changes members.)
            if not Membership.objects.filter(chat=chat, user=author).update(last_read_message_id=message.pk):
                raise PermissionDenied(_("You are not a member of this chat."))
            Chat.objects.filter(pk=chat.pk).update(last_message=message, last_activity_at=message.created_at)
            if rendered.mentions:
                Mention.objects.bulk_create(Mention(message=message, user_id=pk) for pk in rendered.mentions)
            _later(broadcast.message_created, message)
            # Web Push for members with no shown tab: queued, sent by conversations.webpush's workers.
            _later(push.message_created, message.pk)
            if settings.LINK_PREVIEWS and (link := previews.first_link(text)):
                # After the message's own event: its preview comes when it is ready, if ever.
                _later(previews.schedule, message.pk, link)
    except BaseException as failure:
        # Rolled back: the files stored for it belong to no message.
        for name in stored:
            default_storage.delete(name)
        if not isinstance(failure, IntegrityError):
            raise
        # The client_id was used before (a retry, or a concurrent one that won the race).
        existing = None if client_id is None else _sent_before(author, client_id)
        if existing is None:
            raise
        return _repeated(existing, chat)
    return message, True


def _attach(message: Message, files: Sequence[PreparedFile], stored: list[str]) -> list[Attachment]:
    """Store a message's files under random names in its chat's folder (models.attachment_path)."""
    attachments = []
    for prepared in files:
        attachment = Attachment(
            message=message,
            name=prepared.name,
            size=prepared.size,
            content_type=prepared.content_type,
            is_image=prepared.is_image,
            width=prepared.width,
            height=prepared.height,
        )
        extension = "webp" if prepared.is_image else "bin"
        attachment.file.save(f"file.{extension}", prepared.content, save=False)
        stored.append(attachment.file.name)
        if prepared.thumbnail is not None:
            attachment.thumbnail.save("thumbnail.webp", prepared.thumbnail, save=False)
            stored.append(attachment.thumbnail.name)
        attachments.append(attachment)
    return Attachment.objects.bulk_create(attachments)


def replied_message(chat: Chat, message_id: int) -> Message:
    """The message a reply answers, with its author for the quote: in this chat, a person's, not deleted."""
    original = Message.objects.select_related("author").filter(pk=message_id, chat=chat).first()
    if original is None:
        raise ValidationError(_("The message you reply to is not in this chat."), code="reply_to")
    if original.is_system:
        raise ValidationError(_("You cannot reply to a notice about the group."), code="reply_to")
    if original.is_deleted:
        raise ValidationError(_("The message you reply to was deleted."), code="reply_to")
    return original


def _own_message(message: Message, by: User) -> None:
    if message.author_id != by.pk or message.kind != Message.Kind.TEXT:
        raise PermissionDenied(_("You can only change your own messages."))
    if message.is_deleted:
        raise ValidationError(_("This message was deleted."), code="deleted")


def edit_message(message: Message, by: User, text: str) -> Message:
    """The author changes the text; the message is marked edited and its version goes up."""
    _own_message(message, by)
    text = clean_text(text)
    # A message of files (or a picture) may lose all its text; one of text alone may not.
    if not text and not message.image and not message.attachment_count:
        raise ValidationError(_("A message cannot be empty. Delete it instead."), code="empty")
    link_before = previews.first_link(message.text)
    with transaction.atomic():
        _membership(message.chat, by)
        # Only a message that is not deleted is changed, in the UPDATE itself: a delete that
        # committed since `message` was loaded, or one racing this edit (PostgreSQL re-checks
        # the condition once the delete's row lock is released), always wins.
        edited_at = timezone.now()
        rendered = render(text, _members_by_name(message.chat, text))
        changed = (
            Message.objects.filter(pk=message.pk, deleted_at__isnull=True)
            .exclude(text=text)
            .update(text=text, html=rendered.html, edited_at=edited_at, version=F("version") + 1)
        )
        if changed:
            # Whom it mentions now: members named since are added, those no longer named dropped.
            Mention.objects.filter(message_id=message.pk).exclude(user_id__in=rendered.mentions).delete()
            Mention.objects.bulk_create(
                (Mention(message_id=message.pk, user_id=pk) for pk in rendered.mentions), ignore_conflicts=True
            )
        # Read back under this transaction's write: the version this edit made, exactly.
        current = Message.objects.values("text", "html", "edited_at", "deleted_at", "version").get(pk=message.pk)
        if current["deleted_at"] is not None:
            raise ValidationError(_("This message was deleted."), code="deleted")
        message.text, message.html = current["text"], current["html"]
        message.edited_at, message.version = current["edited_at"], current["version"]
        if changed and (link := previews.first_link(message.text)) != link_before:
            # Another first link: the old preview goes (the edit's event shows the message
            # without it), and the new link's comes when it is ready.
            _drop_link_preview(message)
            if settings.LINK_PREVIEWS and link:
                _later(previews.schedule, message.pk, link)
        if changed:
            _later(broadcast.message_changed, message.pk, "message.edited", message.version)
    return message


def _drop_link_preview(message: Message) -> None:
    """Delete a message's preview and, once committed, its picture (inside the caller's transaction)."""
    names = list(LinkPreview.objects.filter(message_id=message.pk).exclude(image="").values_list("image", flat=True))
    LinkPreview.objects.filter(message_id=message.pk).delete()
    no_link_preview(message)
    if names:
        storage = LinkPreview._meta.get_field("image").storage
        transaction.on_commit(lambda: [storage.delete(name) for name in names])


def delete_message(message: Message, by: User) -> Message:
    """The author deletes a message: its text and picture are gone; a "message deleted" line stays."""
    _own_message(message, by)
    with transaction.atomic():
        _membership(message.chat, by)
        files = [field.name for field in (message.image, message.thumbnail) if field]
        deleted_at = timezone.now()
        # Conditional like edit_message's UPDATE, so an edit and a delete cannot interleave and
        # a second delete (another tab, a retry) changes nothing.
        deleted = Message.objects.filter(pk=message.pk, deleted_at__isnull=True).update(
            text="",
            html="",
            image="",
            thumbnail="",
            image_width=None,
            image_height=None,
            attachment_count=0,
            deleted_at=deleted_at,
            version=F("version") + 1,
        )
        current = Message.objects.values("deleted_at", "version").get(pk=message.pk)
        message.text = message.html = ""
        message.image = message.thumbnail = ""
        message.image_width = message.image_height = None
        message.deleted_at, message.version = current["deleted_at"], current["version"]
        if not deleted:
            return message  # it was deleted already: nothing new to tell
        # Its reactions and link preview go with its text: nobody can see or change them any more.
        Reaction.objects.filter(message_id=message.pk).delete()
        # And its files: their rows now, what is stored once this commits (signals.forget_files).
        if message.attachment_count:
            Attachment.objects.filter(message_id=message.pk).delete()
        known_attachments(message, [])
        message.attachment_count = 0
        _drop_link_preview(message)
        _later(broadcast.message_changed, message.pk, "message.deleted", message.version)
        if files:
            storage = message.image.storage
            transaction.on_commit(lambda: [storage.delete(name) for name in files])
    return message


def set_link_preview(message_id: int, preview: previews.Preview) -> LinkPreview | None:
    """Store the preview fetched for a message's first link and show it live; None if it came too late.

    Called by the preview job (conversations.previews), not by a person. Nothing is stored for a
    message deleted since, or whose first link is no longer `preview.url` (an edit changed it:
    that edit scheduled its own fetch), or that has a preview already (one removed by its author
    included).
    """
    with transaction.atomic():
        # The message row locked: an edit or a delete racing this finishes first, or waits.
        message = Message.objects.select_for_update().filter(pk=message_id).first()
        if (
            message is None
            or message.is_deleted
            or previews.first_link(message.text) != preview.url
            or LinkPreview.objects.filter(message_id=message_id).exists()
        ):
            return None
        stored = LinkPreview(
            message=message,
            url=preview.url,
            site_name=preview.site_name,
            title=preview.title,
            description=preview.description,
        )
        if preview.image is not None:
            stored.image.save(preview.image.name, preview.image, save=False)
        stored.save()
        _later(broadcast.link_preview_changed, message_id)
    return stored


def remove_link_preview(message: Message, by: User) -> bool:
    """The author removes the preview of their message's link; False if it had none to remove.

    The row stays, marked removed, so that the link is not fetched again; its picture goes.
    """
    _own_message(message, by)
    with transaction.atomic():
        preview = LinkPreview.objects.select_for_update().filter(message_id=message.pk, removed=False).first()
        if preview is None:
            return False
        name = preview.image.name if preview.image else ""
        preview.removed = True
        preview.image = ""
        preview.changed_at = timezone.now()
        preview.save(update_fields=["removed", "image", "image_width", "image_height", "changed_at"])
        Message.link_preview.related.set_cached_value(message, preview)
        _later(broadcast.link_preview_changed, message.pk)
        if name:
            storage = preview.image.storage
            transaction.on_commit(lambda: storage.delete(name))
    return True


def clean_emoji(emoji: str) -> str:
    """`emoji` without surrounding spaces, if it is exactly one emoji (conversations.emoji)."""
    emoji = emoji.strip() if isinstance(emoji, str) else ""
    if not emoji:
        raise ValidationError(_("Choose an emoji."), code="emoji")
    if not is_single_emoji(emoji):
        raise ValidationError(_("A reaction is a single emoji."), code="emoji")
    return emoji


def _reactable(message: Message, by: User) -> None:
    """Refuse a reaction that cannot be: not a member, a system line, a deleted message."""
    if not Membership.objects.filter(chat_id=message.chat_id, user=by).exists():
        raise PermissionDenied(_("You are not a member of this chat."))
    if message.is_system:
        raise ValidationError(_("System lines take no reactions."), code="system")
    if message.is_deleted:
        raise ValidationError(_("This message was deleted."), code="deleted")


def add_reaction(message: Message, by: User, emoji: str, *, rate_limited: bool = True) -> tuple[Reaction, bool]:
    """`by` reacts to a message with one emoji; a second time with the same emoji changes nothing.

    Returns the reaction and whether it is new. At most MAX_REACTIONS_PER_MESSAGE distinct emoji
    on a message (a new one past that is refused; one already there may still be added).
    """
    emoji = clean_emoji(emoji)
    _reactable(message, by)
    if existing := Reaction.objects.filter(message=message, user=by, emoji=emoji).first():
        return existing, False
    if rate_limited:
        limits.count_reaction(by)
    try:
        with transaction.atomic():
            # The message row locked: a delete racing this reaction finishes first or waits, and
            # the distinct-emoji count is exact under concurrent reactions.
            current = Message.objects.select_for_update().filter(pk=message.pk).values("deleted_at").first()
            if current is None or current["deleted_at"] is not None:
                raise ValidationError(_("This message was deleted."), code="deleted")
            there = set(Reaction.objects.filter(message=message).values_list("emoji", flat=True).distinct())
            if emoji not in there and len(there) >= limits.MAX_REACTIONS_PER_MESSAGE:
                raise ValidationError(
                    _("A message can have at most %(limit)d different reactions.")
                    % {"limit": limits.MAX_REACTIONS_PER_MESSAGE},
                    code="too_many",
                )
            reaction = Reaction.objects.create(message=message, user=by, emoji=emoji)
            _later(broadcast.reactions_changed, message.pk)
    except IntegrityError:
        # The same reaction from another tab, committed between our look-up and our insert.
        return Reaction.objects.get(message=message, user=by, emoji=emoji), False
    return reaction, True


def remove_reaction(message: Message, by: User, emoji: str, *, rate_limited: bool = True) -> bool:
    """`by` takes back their emoji from a message; False if they had not reacted with it."""
    emoji = clean_emoji(emoji)
    _reactable(message, by)
    if rate_limited and Reaction.objects.filter(message=message, user=by, emoji=emoji).exists():
        limits.count_reaction(by)
    with transaction.atomic():
        removed, _rows = Reaction.objects.filter(message=message, user=by, emoji=emoji).delete()
        if removed:
            _later(broadcast.reactions_changed, message.pk)
    return bool(removed)


def toggle_reaction(message: Message, by: User, emoji: str) -> bool:
    """Add the emoji if `by` has not reacted with it, else take it back; True if it is now there."""
    emoji = clean_emoji(emoji)
    if Reaction.objects.filter(message=message, user=by, emoji=emoji).exists():
        remove_reaction(message, by, emoji)
        return False
    add_reaction(message, by, emoji)
    return True


def mark_read(chat: Chat, user: User, up_to: int | None = None) -> int | None:
    """Move the reader's position forward to `up_to` (or the newest message); it never moves back."""
    messages = Message.objects.filter(chat=chat)
    if up_to is not None:
        messages = messages.filter(id__lte=up_to)
    newest = messages.order_by("-id").values_list("id", flat=True).first()
    if newest is None:
        return None
    with transaction.atomic():
        membership = Membership.objects.select_for_update().filter(chat=chat, user=user).first()
        if membership is None or (membership.last_read_message_id or 0) >= newest:
            return None
        before = membership.last_read_message_id or 0
        membership.last_read_message_id = newest
        membership.save(update_fields=["last_read_message_id"])
        _later(broadcast.read, chat.pk, user.pk, before, newest)
    return newest


def typing(chat_id: int, user: User) -> None:
    """Tell the other members of a chat that `user` is typing (nothing is stored).

    Only a socket calls it, and it knows its person's chats: it checks membership itself.
    """
    _later(broadcast.typing, chat_id, user)


# Presence: online while any socket of the person is open and its server process alive ------------


def _presence_ttl() -> timedelta:
    return timedelta(seconds=settings.PRESENCE_TTL_SECONDS)


def close_sockets(
    user_id: int, *, session: str | None = None, all_sessions: bool = False, token: int | None = None
) -> None:
    """A session ended (logout), the password changed (every tab must log in again), or an API
    token was revoked: the sockets they opened close."""
    _later(broadcast.close_sockets, user_id, session=session, all_sessions=all_sessions, token=token)


def deactivate_person(user: User) -> None:
    """An operator closes an account: its sessions, API tokens and open sockets end at once.

    Their messages stay, under their name. Sessions need no sweep: Django's auth backends
    refuse an inactive person on the next request and socket handshake (user_can_authenticate).
    Tokens are deleted, so reactivating the account does not revive keys handed out before.
    """
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        # Each deleted token also closes the script sockets it opened (conversations.signals).
        ApiToken.objects.filter(user=user).delete()
        # Their sockets closing takes them offline, as any last tab closing does.
        _later(broadcast.close_sockets, user.pk, person=True)


def socket_visibility(channel_name: str, visible: bool) -> None:
    """A socket's page was shown or hidden (conversations.consumers): who sees new messages, for push."""
    connection = Connection.objects.filter(channel_name=channel_name)
    if visible:
        connection.update(visible=True)
    else:
        connection.update(visible=False, hidden_at=timezone.now())


def sockets_changed(
    opened: Mapping[str, int],
    closed: Mapping[str, int] | None = None,
    alive: Iterable[str] | None = None,
    *,
    hidden: Iterable[str] = (),
) -> None:
    """What a server process's sockets did since it last said (conversations.presence), in one go.

    `opened` and `closed` map channel names to people; `hidden` names the opened ones that do
    not count as someone looking (a script's: conversations.push sends to its person). `alive`,
    every PRESENCE_HEARTBEAT_SECONDS, lists all the process's open sockets: they are renewed,
    and the sockets of a process that died (not renewed for PRESENCE_TTL_SECONDS) end, their
    people going offline. The number of queries is the same for one socket and for ten thousand.
    """
    now = timezone.now()
    until = now + _presence_ttl()
    closed = closed or {}
    hidden = set(hidden)
    concerned = set(opened.values()) | set(closed.values())
    with transaction.atomic():
        if closed:
            Connection.objects.filter(channel_name__in=list(closed)).delete()
        if opened:
            Connection.objects.bulk_create(
                [
                    Connection(channel_name=name, user_id=user_id, expires_at=until, visible=name not in hidden)
                    for name, user_id in opened.items()
                ],
                ignore_conflicts=True,
            )
        expired: set[int] = set()
        if alive is not None:
            alive = list(alive)
            Connection.objects.filter(channel_name__in=alive).update(expires_at=until)
            concerned |= set(Connection.objects.filter(channel_name__in=alive).values_list("user_id", flat=True))
            Connection.objects.filter(expires_at__lte=now).delete()
            expired = set(User.objects.filter(online_until__lte=now).values_list("pk", flat=True))
            concerned |= expired
        if not concerned:
            return
        connected = Connection.objects.filter(user_id__in=concerned, expires_at__gt=now)
        live = set(connected.values_list("user_id", flat=True))
        was_online = set(User.objects.filter(pk__in=concerned, online_until__gt=now).values_list("pk", flat=True))
        User.objects.filter(pk__in=live).update(online_until=until, last_active=now)
        went = (concerned - live) & was_online
        User.objects.filter(pk__in=went).update(online_until=None, last_active=now)
        # Their process died: they were last active at its last heartbeat.
        User.objects.filter(pk__in=expired - live).update(online_until=None)
        changed = (live - was_online) | went | (expired - live)
        if changed:
            _later(broadcast.presence, sorted(changed))
