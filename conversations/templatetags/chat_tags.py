"""What a chat looks like to one viewer, for the templates (which cannot pass a viewer to a method).

{% load chat_tags %}
{{ chat|name_for:user }}  {{ chat|photo_for:user }}  {{ chat.last_message|preview_for:user }}
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from django import template
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import Urlizer, escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.models import User
from conversations import days
from conversations.models import Chat, Message
from conversations.receipts import ReadPositions, Seen

register = template.Library()


@register.filter
def name_for(chat: Chat, viewer: User) -> str:
    return chat.display_name_for(viewer)


@register.filter
def photo_for(chat: Chat, viewer: User) -> str:
    return chat.display_photo_for(viewer)


@register.filter
def other_for(chat: Chat, viewer: User) -> User | None:
    """The other person of a direct chat (None for a group), to show their avatar and presence."""
    return None if chat.is_group else chat.other_member(viewer)


@register.filter
def preview_for(message: Message | None, viewer: User | None) -> str:
    """The chat list's line for the last message; "You: ..." when it is the viewer's own (no viewer: nobody's).

    What people wrote, and the names in a system line, are in <bdi>: a right-to-left override
    in them cannot reorder the line around them.
    """
    if message is None:
        return _("No messages yet")
    if message.is_system:
        return message.system_html()
    if message.is_deleted or not message.text:
        return message.preview()  # our words, not theirs
    preview = format_html("<bdi>{}</bdi>", message.preview())
    if viewer is not None and message.author_id == viewer.pk:
        return mark_safe(escape(_("You: %(message)s")) % {"message": preview})  # noqa: S308 - both escaped
    return preview


@register.filter
def machine_time(moment: datetime | None) -> str:
    """A <time datetime> value, to the second and with Z for UTC: no one reads the microseconds, and
    every pushed frame carries two of these."""
    if not moment:
        return ""
    value = moment.replace(microsecond=0).isoformat()
    return value.removesuffix("+00:00") + "Z" if value.endswith("+00:00") else value


@register.filter
def day_label(day: date) -> str:
    """A day line: Today, Yesterday, Monday, ... or the date (conversations.days)."""
    return days.day_label(day)


@register.filter
def full_time(moment: datetime | None) -> str:
    """A time's full form, for its title: weekday, date and time in the viewer's zone."""
    return days.full_moment(moment) if moment else ""


@register.filter
def list_time(moment: datetime | None) -> str:
    """Short, like a phone's chat list: 14:05 today, Mon this week, 3 Mar this year, else 03.03.2024."""
    if moment is None:
        return ""
    moment, today = timezone.localtime(moment), timezone.localdate()
    if moment.date() == today:
        return date_format(moment, "H:i")
    if today - moment.date() < timedelta(days=7):
        return date_format(moment, "D")
    if moment.year == today.year:
        return date_format(moment, "j M")
    return date_format(moment, "SHORT_DATE_FORMAT")


@register.simple_tag
def controls_stub(chat: Chat) -> Message:
    """A message of `chat` numbered 0 (never saved): the page's one copy of a message's Reply link
    and reaction picker is rendered for it, and flowchat.js puts each pushed message's id in its place."""
    return Message(pk=0, chat=chat)


@register.simple_tag
def unread_badge(count: int, mentions: int = 0) -> str:
    """A chat's unread count in the list, with "@" before it when some of those mention the person;
    also what the socket pushes when either changes (they differ per person)."""
    if not count:
        return ""
    label = ngettext("%(count)d unread message", "%(count)d unread messages", count) % {"count": count}
    badge = format_html(
        '<span class="badge" aria-hidden="true">{}</span><span class="visually-hidden">{}</span>', count, label
    )
    if not mentions:
        return badge
    mentioned = ngettext("%(count)d message mentions you", "%(count)d messages mention you", mentions) % {
        "count": mentions
    }
    return format_html(
        '<span class="badge mention-badge" aria-hidden="true">@</span><span class="visually-hidden">{}</span>{}',
        mentioned,
        badge,
    )


@register.filter
def seen_by(receipts: ReadPositions | str, message: Message) -> Seen:
    """Who else has read `message`: how many, and names (nobody where the page has no read positions)."""
    return receipts.seen(message) if isinstance(receipts, ReadPositions) and message.author_id else Seen(0)


class _NewTabUrlizer(Urlizer):
    # A link in a message leads away from the chat: a new tab keeps the chat open, and the
    # page it opens gets neither this window (noopener) nor where it came from (noreferrer).
    url_template = '<a href="{href}" target="_blank" rel="noopener noreferrer nofollow">{url}</a>'


_urlize_new_tab = _NewTabUrlizer()


@register.filter(is_safe=True, needs_autoescape=True)
def urlize_new_tab(text: str, autoescape: bool = True) -> str:
    """Django's urlize, with links that open in a new tab."""
    return mark_safe(_urlize_new_tab(text, autoescape=autoescape))  # noqa: S308 (urlize escapes the text)
