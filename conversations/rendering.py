"""The HTML pieces of chats and messages, for the pages and for what the sockets push.

Below the views and the broadcasts that use it. The templates hold one partial per thing
(`conversations/chat.html#message`, `conversations/shell.html#chat_row`, ...); this module
puts them together as htmx out-of-band swaps aimed at stable ids, and renders a piece once
per language where everyone sees it alike (`Html`: language -> HTML).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe

from accounts.models import User

from .models import Chat, Message
from .receipts import ReadPositions
from .templatetags.chat_tags import unread_badge

LANGUAGES = [code for code, _name in settings.LANGUAGES]

Html = dict[str, str]  # language -> HTML


@dataclass(frozen=True)
class Item:
    """One message as the list shows it: with a date line before it, and the unread divider."""

    message: Message
    day: date | None = None
    first_unread: bool = False


def items_for(
    messages: list[Message], *, previous_day: date | None = None, unread_from: int | None = None
) -> list[Item]:
    """Messages with a date line wherever the day changes (after `previous_day`, the day before the first)."""
    items = []
    for message in messages:
        day = timezone.localdate(message.created_at)
        items.append(Item(message, day if day != previous_day else None, message.pk == unread_from))
        previous_day = day
    return items


# In every language ------------------------------------------------------------------------


def in_each_language(render: Callable[[], str]) -> Html:
    rendered = {}
    for code in LANGUAGES:
        with translation.override(code):
            rendered[code] = render()
    return rendered


# Whitespace in <pre> and <textarea> is shown as it is; everywhere else a run of it is one space.
KEEPS_WHITESPACE = re.compile(r"(<(pre|textarea)\b.*?</\2>)", re.DOTALL | re.IGNORECASE)
LINE_BREAKS = re.compile(r"\s*\n\s*")


def compact(html: SafeString) -> SafeString:
    """The same HTML without the templates' indentation: a pushed frame is sent to every tab."""
    parts = KEEPS_WHITESPACE.split(html)
    # split() gives [outside, match, tag name, outside, match, tag name, ...].
    kept = (LINE_BREAKS.sub("\n", part) if n % 3 == 0 else part for n, part in enumerate(parts) if n % 3 != 2)
    return mark_safe("".join(kept))  # noqa: S308 - the same safe HTML, less indentation


def render(template: str, context: dict[str, Any]) -> Html:
    return in_each_language(lambda: compact(render_to_string(template, context)))


def oob(swap: str, html: Html) -> Html:
    """Wrap pieces for an out-of-band swap of their content (`beforeend:#messages`, `innerHTML:#typing`)."""
    return {code: format_html('<div hx-swap-oob="{}">{}</div>', swap, piece) for code, piece in html.items()}


def same(html: str) -> Html:
    return dict.fromkeys(LANGUAGES, html)


def join(*pieces: Html) -> Html:
    return {code: "".join(piece[code] for piece in pieces) for code in LANGUAGES}


# Messages -----------------------------------------------------------------------------------


def new_message(message: Message, chat: Chat) -> Html:
    """A new message for the end of the open chat's list.

    Rendered once for everyone, in no one's time zone (`pushed`: without the time's title): the
    tabs show its time, its full form and a day line before it where it starts a day, in their
    person's zone (static/js/local-time.js; why: docs/performance-notes.md, "Times in pushed
    frames"). Nobody has read or reacted to a new message yet: it comes without the empty places
    of its receipt and reactions (`fresh`), which the tabs add (static/js/flowchat.js), so that
    a short message reaches a tab in under a kilobyte.
    """
    context = {"items": [Item(message)], "chat": chat, "receipts": None, "pushed": True, "fresh": True}
    return oob("beforeend:#messages", render("conversations/chat.html#message_list", context))


def changed_message(message: Message, chat: Chat, receipts: ReadPositions) -> Html:
    """An edited or deleted message, in place."""
    context = {"message": message, "chat": chat, "receipts": receipts, "oob": True, "pushed": True}
    return render("conversations/chat.html#message", context)


def reactions(message: Message, chat: Chat) -> Html:
    """A message's reactions bar, in place; nobody's buttons pressed (the consumers press their person's)."""
    context = {"message": message, "chat": chat, "oob": True, "pushed": True}
    return render("conversations/_reactions.html#reactions", context)


def link_preview(message: Message) -> Html:
    """A message's link preview (or the empty place of one removed), in place."""
    return render("conversations/_link_preview.html#link_preview", {"message": message, "oob": True})


def pressed(html: str, message_id: int, people: list[list[int]], viewer: int) -> str:
    """Pushed HTML with `viewer`'s own reaction buttons of a message marked aria-pressed="true".

    The buttons are rendered once for every member (unpressed); the event lists who reacted with
    each, in the bar's order, so a socket marks its person's without rendering anything.
    """
    for index, reactors in enumerate(people):
        if viewer in reactors:
            button = f'id="message-{message_id}-reaction-{index}"'
            html = html.replace(f'{button} aria-pressed="false"', f'{button} aria-pressed="true"')
    return html


def quotes_of(message: Message) -> Html:
    """The quote of `message` in every reply to it on the page, as it is now: one piece whatever
    the number of replies (the tabs swap it into each `[data-quote-of]`)."""
    body = render("conversations/chat.html#quote_body", {"quoted": message})
    return oob(f'innerHTML:[data-quote-of="{message.pk}"]', body)


def message_menu(message: Message) -> Html:
    """Edit and Delete, added to a pushed message on its author's tabs only."""
    menu = render("conversations/chat.html#message_menu", {"message": message})
    return oob(f"beforeend:#message-{message.pk}", menu)


def receipt(message: Message, chat: Chat, receipts: ReadPositions) -> Html:
    context = {"message": message, "chat": chat, "seen": receipts.seen(message), "oob": True}
    return render("conversations/chat.html#receipt", context)


def typing_note(person: User) -> Html:
    return render("conversations/chat.html#typing", {"person": person})


def typing_ended(target: str) -> Html:
    """Empty the typing note at `target`: the author's message has arrived."""
    return same(format_html('<div hx-swap-oob="innerHTML:{}"></div>', target))


# A chat's row in the list, and its header ------------------------------------------------------


def chat_row(chat: Chat, viewer: User, *, swap: str = "true") -> Html:
    """The whole row, as `viewer` sees it (a direct chat's names the other person); the badge comes apart."""
    chat.unread_count = chat.mention_count = 0
    return render("conversations/shell.html#chat_row", {"row": chat, "user": viewer, "oob": swap})


def new_row(chat: Chat, viewer: User) -> Html:
    """A chat that just appeared for `viewer`: its row at the top of the list."""
    return oob("afterbegin:#chats", chat_row(chat, viewer, swap=""))


def chat_time(chat: Chat) -> Html:
    """The time of the chat's last message in its row; a new one moves the row to the top (flowchat.js)."""
    return render("conversations/shell.html#chat_time", {"row": chat, "oob": True})


def chat_preview(chat: Chat, *, by_author: bool) -> Html:
    """The last message's line in the list: "You: ..." for its author, the text for everyone else."""
    viewer = chat.last_message.author if by_author and chat.last_message else None
    return render("conversations/shell.html#chat_preview", {"row": chat, "user": viewer, "oob": True})


def gone_row(chat_id: int) -> Html:
    return same(format_html('<li id="chat-{}" hx-swap-oob="delete"></li>', chat_id))


@functools.lru_cache(maxsize=4096)
def badge(chat_id: int, count: int, language: str, mentions: int = 0) -> str:
    """A chat's unread count (and "@" for mentions) in one person's list, in their language (the
    consumers keep the counts)."""
    with translation.override(language):
        return format_html(
            '<div hx-swap-oob="innerHTML:#chat-{}-unread">{}</div>', chat_id, unread_badge(count, mentions)
        )


def header(chat: Chat, members: list[User]) -> Html:
    """A group's header (the same for every member: title, photo, number of members)."""
    context = {"chat": chat, "user": members[0], "members": members, "oob": True}
    return render("conversations/chat.html#header", context)


# Notices ------------------------------------------------------------------------------------------


def message_notice(chat: Chat, message: Message) -> Html:
    """A new message in a chat the tab does not show, as its readers see it (never its author).

    A group's names the author and the group; a direct chat's, the other person: its author.
    """
    context = {"chat": chat, "message": message}
    return oob("afterbegin:#live-notices", render("conversations/_live.html#notice", context))


def added_notice(chat: Chat, adder: User | None) -> Html:
    context = {"chat": chat, "adder": adder}
    return oob("afterbegin:#live-notices", render("conversations/_live.html#added", context))


def removed() -> Html:
    return render("conversations/_live.html#removed", {})


# Presence -------------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=4096)
def presence(language: str, user_id: int, online_until: str | None, last_active: str | None) -> str:
    """Every place a person appears (their dot, "online" label, "last seen" line), by selector.

    Rendered by the consumers, once per change and language in a process however many tabs get it.
    """
    person = User(pk=user_id, online_until=_moment(online_until), last_active=_moment(last_active))
    pieces = []
    with translation.override(language):
        for kind in ("dot", "label", "text"):
            html = compact(render_to_string(f"accounts/_presence.html#{kind}", {"person": person}))
            pieces.append(
                format_html(
                    '<div hx-swap-oob="innerHTML:[data-presence-{}=&quot;{}&quot;]">{}</div>', kind, user_id, html
                )
            )
    return "".join(pieces)


def _moment(value: str | None) -> datetime | None:
    return parse_datetime(value) if value else None
