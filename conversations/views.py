"""Chat pages: the chat list, a chat, sending, editing, deleting, reading, and the chat's pictures.

Every view serves a full page, and with htmx (HX-Request) only the partial of what changed,
from the same template ("conversations/chat.html#message", "#composer", ...): one partial
per thing, also what the real-time issue pushes over the socket. Writes go through
`conversations.actions`; access through `conversations.permissions`, so a non-member gets
a 404 from every page, fragment and file of a chat.
"""

from __future__ import annotations

import mimetypes
import re
import uuid
from datetime import timedelta
from urllib.parse import quote

from django.contrib import messages as notices
from django.contrib.auth.decorators import login_required
from django.core.exceptions import BadRequest, PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import Prefetch, Q, prefetch_related_objects
from django.db.models.functions import Lower
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from accounts.views import initials_svg

from . import actions
from .forms import EditMessageForm, MessageForm
from .limits import ReactingTooFast, SendingTooFast
from .models import Attachment, Chat, LinkPreview, Membership, Message
from .permissions import get_chat_for_user, get_message_for_user
from .receipts import ReadPositions
from .rendering import items_for

# Messages per page of history; older ones come by `?before=<id>` (keyset, never OFFSET).
PAGE_SIZE = 50
# A backlog of unread messages up to this size opens in one window, so that the "new
# messages" divider is on the page; the messages before it give it some context.
MAX_WINDOW = 200
UNREAD_CONTEXT = 5
SYNC_SLACK = timedelta(seconds=10)

# Stored names are random and never reused, so the browser may keep a file for good;
# `private` because only members may see it, so no shared cache may keep it.
MEDIA_CACHE_CONTROL = "private, max-age=31536000, immutable"
# A group's initials change when it is renamed, under the same URL.
INITIALS_CACHE_CONTROL = "private, max-age=60"
# What RFC 5987 lets `filename*` carry unescaped besides letters, digits and "-._~".
RFC5987_SAFE = "!#$&+^`|"
STORED_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}\.[a-z0-9]{1,10}")


def _message_id(value: str | None) -> int | None:
    if value in (None, ""):
        return None
    if not value.isdigit() or len(value) > 18:
        raise BadRequest("A message id is a positive number.")
    return int(value)


def _with_members(chat: Chat) -> Chat:
    """Load the members once: the header, display_name_for and the read position all use them."""
    prefetch_related_objects(
        [chat], Prefetch("memberships", queryset=Membership.objects.select_related("user").order_by("joined_at", "id"))
    )
    return chat


def _membership_of(chat: Chat, user) -> Membership:
    return next(m for m in chat.memberships.all() if m.user_id == user.pk)


def _people(chat: Chat, viewer) -> dict:
    """Who is in the chat, for its header and its receipts (from the members _with_members loaded)."""
    memberships = chat.memberships.all()
    return {
        "members": [membership.user for membership in memberships],
        "other": None if chat.is_group else chat.other_member(viewer),
        "receipts": ReadPositions.from_memberships(memberships),
    }


def _composer(
    chat: Chat, form: MessageForm | None = None, *, focus: bool = False, reply_to: Message | None = None
) -> dict:
    form = form or MessageForm()
    # A fresh id for each new message; a form sent back with errors keeps its id, so that
    # sending it again after a fix still counts as the same message.
    client_id = (form.is_bound and form["client_id"].value()) or uuid.uuid4()
    if reply_to is None and form.is_bound and not form.has_error(None, "reply_to"):
        # A refused send keeps what it answered, while that is still a message one may answer.
        reply_to = _replied(chat, form.cleaned_data.get("reply_to") if hasattr(form, "cleaned_data") else None)
    return {"chat": chat, "form": form, "client_id": client_id, "focus": focus, "reply_to": reply_to}


def _replied(chat: Chat, message_id: int | None) -> Message | None:
    """The message a composer answers, or None for one it may not (another chat's, a notice, deleted)."""
    if message_id is None:
        return None
    try:
        return actions.replied_message(chat, message_id)
    except ValidationError:
        return None


# The app shell -------------------------------------------------------------------------


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The chat list beside an empty chat window (on a phone: the chat list alone)."""
    return render(request, "conversations/home.html", {"chats": Chat.objects.with_list_details(request.user)})


@login_required
@require_GET
def chat_list(request: HttpRequest) -> HttpResponse:
    """The chat list alone: what a tab fetches after its socket reconnects, to catch up."""
    if not request.htmx:
        return redirect("home")
    chats = Chat.objects.with_list_details(request.user)
    return render(request, "conversations/shell.html#chat_list", {"chats": chats})


@login_required
@require_http_methods(["GET", "POST"])
def chat(request: HttpRequest, pk: int) -> HttpResponse:
    """A chat: the newest messages, or with `?before=<id>` / `?after=<id>` a window of its history.

    Without JavaScript the composer posts here (to `#bottom`), so that a refused send comes
    back at the chat's own address, at its newest message, with the reason at the composer.
    """
    if request.method == "POST":
        return send(request, pk)
    chat = get_chat_for_user(request.user, pk)
    before = _message_id(request.GET.get("before"))
    after = _message_id(request.GET.get("after"))
    around = _message_id(request.GET.get("around"))
    reply_to = _replied(chat, _message_id(request.GET.get("reply_to")))
    if request.htmx and "reply_to" in request.GET:
        # Reply (or Cancel) with JavaScript: only the composer's reply slot changes, what is typed stays.
        return render(request, "conversations/chat.html#composer_reply", {"chat": chat, "reply_to": reply_to})
    if before is not None and request.htmx:
        return _older_messages(request, chat, before)
    if before is not None:
        after = around = None
    elif around is not None:
        after = None
    return _chat_page(request, chat, before=before, after=after, around=around, reply_to=reply_to)


@login_required
@require_GET
def permalink(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    """A message's own address: the chat's history around it, scrolled to it (deleted ones keep their place)."""
    chat = get_chat_for_user(request.user, pk)
    if not chat.messages.filter(pk=message_pk).exists():
        raise Http404("No such message.")
    return redirect(f"{chat.get_absolute_url()}?around={message_pk}#message-{message_pk}")


def _chat_page(
    request: HttpRequest,
    chat: Chat,
    *,
    form: MessageForm | None = None,
    before: int | None = None,
    after: int | None = None,
    around: int | None = None,
    reply_to: Message | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    _with_members(chat)
    history = chat.messages.with_people()
    unread_from = None
    read_up_to = None  # how far opening this page read the chat: the tab reports only what it sees beyond it
    if before is not None:
        newest_first = list(history.filter(id__lt=before).order_by("-id")[: PAGE_SIZE + 1])
        has_older, has_newer = len(newest_first) > PAGE_SIZE, True
        window = newest_first[:PAGE_SIZE][::-1]
    elif around is not None:
        # A permalink: half a page before the message, the message and what follows it.
        half = PAGE_SIZE // 2
        older = list(history.filter(id__lt=around).order_by("-id")[: half + 1])
        newer = list(history.filter(id__gte=around).order_by("id")[: half + 1])
        has_older, has_newer = len(older) > half, len(newer) > half
        window = older[:half][::-1] + newer[:half]
    elif after is not None:
        oldest_first = list(history.filter(id__gt=after).order_by("id")[: PAGE_SIZE + 1])
        if not oldest_first:
            return redirect(f"{chat.get_absolute_url()}#bottom")  # nothing newer: the latest page it is
        has_older, has_newer = True, len(oldest_first) > PAGE_SIZE
        window = oldest_first[:PAGE_SIZE]
    else:
        # The newest messages, reaching back to the first one that was new to me before this visit.
        read_position = _membership_of(chat, user).last_read_message_id or 0
        unread_from = history.unread_by(user, read_position).order_by("id").values_list("id", flat=True).first()
        size = PAGE_SIZE
        if unread_from is not None:
            backlog = chat.messages.filter(id__gte=unread_from).count()
            size = min(max(PAGE_SIZE, backlog + UNREAD_CONTEXT), MAX_WINDOW)
        newest_first = list(history.order_by("-id")[: size + 1])
        has_older, has_newer = len(newest_first) > size, False
        window = newest_first[:size][::-1]
        if window and unread_from is not None and unread_from < window[0].pk:
            unread_from = None  # further back than a window reaches: the page opens at the bottom
        if window:
            # Opening the chat at its newest message reads it, with JavaScript or without; what
            # arrives later is read only once it is on screen in a visible tab (flowchat.js).
            actions.mark_read(chat, user, window[-1].pk)
            read_up_to = window[-1].pk
    context = {
        "chat": chat,
        "chats": Chat.objects.with_list_details(user),
        "items": items_for(window, unread_from=unread_from),
        "has_older": has_older,
        "has_newer": has_newer,
        "oldest_id": window[0].pk if window else None,
        "newest_id": window[-1].pk if window else None,
        "synced_at": _sync_stamp(),
        "read_up_to": read_up_to,
        **_people(chat, user),
        **_composer(chat, form, reply_to=reply_to),
    }
    return render(request, "conversations/chat.html", context, status=status)


def _sync_stamp() -> str:
    """When a page (or a catch-up) saw the chat: edits after it are fetched after a reconnect.

    A little earlier than now, so an edit whose transaction was still committing is not missed
    (fetching one twice only replaces it with itself).
    """
    return (timezone.now() - SYNC_SLACK).isoformat()


MENTION_CHOICES = 8


@login_required
@require_GET
def mention_candidates(request: HttpRequest, pk: int) -> JsonResponse:
    """The other members whose username or name starts with `?q=`, for the composer's list of
    people to mention (static/js/mentions.js): members only, like the chat; JSON, no htmx."""
    chat = get_chat_for_user(request.user, pk)
    query = request.GET.get("q", "").strip().removeprefix("@")[:150]
    people = User.objects.filter(memberships__chat=chat, is_active=True).exclude(pk=request.user.pk)
    if query:
        people = people.filter(
            Q(username__istartswith=query) | Q(first_name__istartswith=query) | Q(last_name__istartswith=query)
        )
    found = people.order_by(Lower("username"))[:MENTION_CHOICES]
    return JsonResponse(
        [{"id": p.pk, "username": p.username, "name": p.display_name, "avatar": p.avatar_url} for p in found],
        safe=False,
    )


@login_required
@require_GET
def updates(request: HttpRequest, pk: int) -> HttpResponse:
    """What a tab missed while its socket was down (htmx): messages after `after`, changes since `since`.

    Everything comes as out-of-band swaps to stable ids, so what the tab already has is
    replaced, never doubled; the tab asks for this every time its socket (re)connects.
    """
    chat = get_chat_for_user(request.user, pk)
    if not request.htmx:
        return redirect(f"{chat.get_absolute_url()}#bottom")
    after = _message_id(request.GET.get("after")) or 0
    try:
        since = parse_datetime(request.GET.get("since", ""))
    except ValueError:
        since = None
    if since is None or timezone.is_naive(since):
        raise BadRequest("since is an ISO 8601 time with a zone.")
    stamp = _sync_stamp()
    _with_members(chat)
    history = chat.messages.with_people()
    new = list(history.filter(id__gt=after).order_by("id")[: MAX_WINDOW + 1])
    previous = chat.messages.filter(id__lte=after).order_by("-id").values_list("created_at", flat=True).first()
    # A link preview that arrived or was removed meanwhile comes with its message.
    changed_since = Q(edited_at__gte=since) | Q(deleted_at__gte=since) | Q(link_preview__changed_at__gte=since)
    changed = list(history.filter(changed_since, id__lte=after).order_by("id")[:MAX_WINDOW])
    # Receipts of the last messages: read positions moved while the socket was down.
    recent = list(history.filter(id__lte=after, author=request.user).order_by("-id")[:PAGE_SIZE])
    context = {
        "chat": chat,
        "items": items_for(new[:MAX_WINDOW], previous_day=timezone.localdate(previous) if previous else None),
        "too_many": len(new) > MAX_WINDOW,
        "changed": changed,
        "recent": recent,
        "synced_at": stamp,
        **_people(chat, request.user),
    }
    return render(request, "conversations/chat.html#updates", context)


def _older_messages(request: HttpRequest, chat: Chat, before: int) -> HttpResponse:
    """The page of history before a message, to put above it (htmx, when the reader scrolls up)."""
    newest_first = list(chat.messages.with_people().filter(id__lt=before).order_by("-id")[: PAGE_SIZE + 1])
    window = newest_first[:PAGE_SIZE][::-1]
    # The message this page goes above was the first on screen, so it has a date line;
    # if this page ends on the same day, that line moves up to this page's first message of the day.
    repeated_day = None
    if window:
        before_sent = chat.messages.filter(pk=before).values_list("created_at", flat=True).first()
        if before_sent and timezone.localdate(before_sent) == timezone.localdate(window[-1].created_at):
            repeated_day = before
    context = {
        "chat": chat,
        "items": items_for(window),
        "has_older": len(newest_first) > PAGE_SIZE,
        "oldest_id": window[0].pk if window else None,
        "repeated_day": repeated_day,
        "receipts": ReadPositions.of(chat.pk),
    }
    return render(request, "conversations/chat.html#older_page", context)


# Sending, editing, deleting, reading -------------------------------------------------------


@login_required
@require_POST
def send(request: HttpRequest, pk: int) -> HttpResponse:
    """Send a message; a repeated client_id (double click, retried request) gives back the first one."""
    chat = get_chat_for_user(request.user, pk)
    form = MessageForm(request.POST, request.FILES)
    status, retry_after = 400, None
    if form.is_valid():
        try:
            message, _created = actions.send_message(
                chat,
                request.user,
                form.cleaned_data["text"],
                picture=form.cleaned_data["image"],
                client_id=form.cleaned_data["client_id"],
                rate_limited=True,
                reply_to=form.cleaned_data["reply_to"],
                files=form.cleaned_data["files"],
            )
        except ValidationError as error:
            form.add_error(None, error)
        except SendingTooFast as refusal:
            # Shown at the composer like any other reason it was not sent, the text kept.
            form.add_error(None, str(refusal))
            status, retry_after = 429, refusal.retry_after
        else:
            if request.htmx:
                return _sent(request, chat, message)
            return redirect(f"{chat.get_absolute_url()}#bottom")
    if request.htmx:
        response = render(request, "conversations/chat.html#composer", _composer(chat, form, focus=True), status=status)
    else:
        response = _chat_page(request, chat, form=form, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


def _sent(request: HttpRequest, chat: Chat, message: Message) -> HttpResponse:
    """A fresh composer, plus the message for the end of the list and the chat's row for the top of the list.

    When the real-time issue delivers the sender's own message over the socket, the message
    part can go: both carry id="message-<id>", so a second delivery replaces the first.
    """
    message = Message.objects.with_people().get(pk=message.pk)
    previous_sent = chat.messages.filter(id__lt=message.pk).order_by("-id").values_list("created_at", flat=True).first()
    previous_day = timezone.localdate(previous_sent) if previous_sent else None
    context = {
        **_composer(chat, focus=True),
        "items": items_for([message], previous_day=previous_day),
        "row": Chat.objects.with_list_details(request.user).get(pk=chat.pk),
    }
    return render(request, "conversations/chat.html#sent", context)


def _own_message(request: HttpRequest, pk: int, message_pk: int) -> tuple[Chat, Message]:
    """A message of this chat that the person may change: 404 for outsiders, 403 for other members."""
    chat = get_chat_for_user(request.user, pk)
    message = get_message_for_user(request.user, message_pk, chat=chat)
    if message.author_id != request.user.pk or message.is_system:
        raise PermissionDenied(_("You can only change your own messages."))
    return chat, message


def _show_message(request: HttpRequest, chat: Chat, message: Message) -> HttpResponse:
    if request.htmx:
        context = {"message": message, "chat": chat, "receipts": ReadPositions.of(chat.pk)}
        return render(request, "conversations/chat.html#message", context)
    return redirect(f"{chat.get_absolute_url()}#message-{message.pk}")


@login_required
@require_http_methods(["GET", "POST"])
def edit(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    """Edit my message: in place with htmx (the message swaps to a form and back), else on its own page."""
    chat, message = _own_message(request, pk, message_pk)
    if message.is_deleted:
        if not request.htmx:
            notices.error(request, _("This message was deleted."))
        return _show_message(request, chat, message)
    if request.method == "GET" and "cancel" in request.GET:
        return _show_message(request, chat, message)
    if request.method == "POST":
        form = EditMessageForm(request.POST)
        if form.is_valid():
            try:
                message = actions.edit_message(message, request.user, form.cleaned_data["text"])
            except ValidationError as error:
                form.add_error("text", error)
            else:
                return _show_message(request, chat, message)
    else:
        form = EditMessageForm(initial={"text": message.text})
    context = {"chat": chat, "message": message, "form": form}
    status = 400 if form.errors else 200
    if request.htmx:
        return render(request, "conversations/chat.html#editing", context, status=status)
    return render(request, "conversations/edit_message.html", context, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def delete(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    """Delete my message: a "message deleted" line stays. GET is the confirmation page (htmx asks in place)."""
    chat, message = _own_message(request, pk, message_pk)
    if request.method == "POST":
        if not message.is_deleted:
            message = actions.delete_message(message, request.user)
        return _show_message(request, chat, message)
    if message.is_deleted:
        return _show_message(request, chat, message)
    return render(request, "conversations/delete_message.html", {"chat": chat, "message": message})


def _in_context(chat: Chat, message: Message) -> str:
    """The address of a message on a page of its chat: the latest page if it is there, else the page ending with it."""
    newer = chat.messages.filter(id__gt=message.pk).order_by("id").values_list("id", flat=True)[:PAGE_SIZE]
    if len(newer) < PAGE_SIZE:
        return f"{chat.get_absolute_url()}#message-{message.pk}"
    return f"{chat.get_absolute_url()}?before={newer[0]}#message-{message.pk}"


@login_required
@require_http_methods(["GET", "POST"])
def reactions(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    """A message's reactions. GET: who reacted with what (a page, for anyone without a pointer to hover).

    POST `emoji`: toggle my reaction with it (the buttons of the bar and the picker); POST
    `custom`: add the emoji I typed. With htmx the answer is the bar; without, back to the message.
    """
    chat = get_chat_for_user(request.user, pk)
    message = get_message_for_user(request.user, message_pk, chat=chat)
    if request.method == "GET":
        if request.htmx and "picker" in request.GET:
            return render(request, "conversations/_reactions.html#picker", {"message": message})
        context = {"chat": chat, "message": message, "back_url": _in_context(chat, message)}
        return render(request, "conversations/reactions.html", context)
    error, status, retry_after = None, 200, None
    try:
        if "custom" in request.POST:
            actions.add_reaction(message, request.user, request.POST["custom"])
        else:
            actions.toggle_reaction(message, request.user, request.POST.get("emoji", ""))
    except ValidationError as refusal:
        error, status = " ".join(refusal.messages), 400
    except PermissionDenied as refusal:
        error, status = str(refusal), 403
    except ReactingTooFast as refusal:
        error, status, retry_after = str(refusal), 429, refusal.retry_after
    if request.htmx:
        message = get_message_for_user(request.user, message_pk, chat=chat)  # its reactions as they are now
        if message.is_deleted or message.is_system:
            response = render(
                request, "conversations/_reactions.html#gone", {"message": message, "error": error}, status=status
            )
        else:
            context = {"message": message, "chat": chat, "error": error}
            response = render(request, "conversations/_reactions.html#reactions", context, status=status)
    else:
        if error:
            notices.error(request, error)
        response = redirect(_in_context(chat, message))
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


@login_required
@require_POST
def remove_link_preview(request: HttpRequest, pk: int, message_pk: int) -> HttpResponse:
    """Remove the preview of my message's link: with htmx the answer is its empty place; else back to the message."""
    chat, message = _own_message(request, pk, message_pk)
    if not message.is_deleted:
        actions.remove_link_preview(message, request.user)
    if request.htmx:
        message = get_message_for_user(request.user, message_pk, chat=chat)
        return render(request, "conversations/_link_preview.html#link_preview", {"message": message})
    return redirect(_in_context(chat, message))


@login_required
@require_POST
def read(request: HttpRequest, pk: int) -> HttpResponse:
    """Move my read position in this chat forward to `up_to` (or to the newest message)."""
    chat = get_chat_for_user(request.user, pk)
    actions.mark_read(chat, request.user, _message_id(request.POST.get("up_to")))
    if request.htmx:
        return HttpResponse(status=204)
    return redirect(f"{chat.get_absolute_url()}#bottom")


# Files ---------------------------------------------------------------------------------------


@require_GET
def viewer_css(request: HttpRequest, pk: int) -> HttpResponse:
    """The one rule that tells a person's own messages apart.

    Every member gets the same HTML for a message (the socket pushes one rendering to all),
    so "mine" cannot be in the markup; it is this rule matching the message's data-author
    to the list's data-viewer. A stylesheet, not a <style> element, for the strict CSP.
    It holds nothing but the id, so it is the same for anyone who asks.
    """
    css = render_to_string("conversations/viewer.css", {"pk": pk})
    response = HttpResponse(css, content_type="text/css; charset=utf-8")
    response["Cache-Control"] = "public, max-age=86400"
    return response


@require_GET
def chat_initials(request: HttpRequest, pk: int) -> HttpResponse:
    """The picture of a group without a photo: its initials. Members only, and anyone for an open group."""
    chat = Chat.objects.seen_from_outside(request.user).filter(pk=pk).first()
    if chat is None or not chat.is_group:
        raise Http404("A direct chat shows the other person's picture.")
    words = chat.title.split() or ["#"]
    response = initials_svg("".join(word[0] for word in words[:2]).upper(), f"chat:{chat.pk}")
    response["Cache-Control"] = INITIALS_CACHE_CONTROL
    return response


def _stored_file(path: str) -> FileResponse:
    if not default_storage.exists(path):
        raise Http404
    name = path.rsplit("/", 1)[-1]
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    response = FileResponse(default_storage.open(path, "rb"), content_type=content_type, filename=name)
    response["Content-Disposition"] = f'inline; filename="{name}"'
    response["Cache-Control"] = MEDIA_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_GET
def picture_file(request: HttpRequest, name: str) -> FileResponse:
    """A picture or thumbnail of a message, or the picture of its link preview, for the members of its
    chat only (404 for anyone else)."""
    if not STORED_NAME.fullmatch(name):
        raise Http404
    path = f"pictures/{name}"
    theirs = Chat.objects.for_user(request.user)
    visible = Message.objects.filter(Q(image=path) | Q(thumbnail=path), chat__in=theirs)
    if not visible.exists() and not LinkPreview.objects.filter(image=path, message__chat__in=theirs).exists():
        raise Http404
    return _stored_file(path)


@require_GET
def chat_photo_file(request: HttpRequest, name: str) -> FileResponse:
    """A group's photo, for its members only, and for anyone signed in when the group is open."""
    if not STORED_NAME.fullmatch(name):
        raise Http404
    path = f"chat-photos/{name}"
    if not Chat.objects.seen_from_outside(request.user).filter(photo=path).exists():
        raise Http404
    return _stored_file(path)


def _ascii_fallback(name: str) -> str:
    """The plain `filename=` of Content-Disposition, for clients that do not read `filename*`:
    printable ASCII without quotes or backslashes, anything else an underscore."""
    fallback = "".join(char if " " <= char <= "~" and char not in '"\\' else "_" for char in name)
    return fallback or "file"


@require_GET
def attachment_file(request: HttpRequest, chat_pk: int, name: str) -> FileResponse:
    """A file sent in a chat, for its members only (404 for anyone else, as for its pictures).

    Always a download (`Content-Disposition: attachment`, application/octet-stream, nosniff), so
    that nothing uploaded is ever run or rendered by the browser as this site's page, whatever
    its bytes. Only a verified picture (re-encoded when it was sent) and its thumbnail are shown
    inline, as image/webp; `?download` makes a picture a download too. The name the browser
    saves it under is the one shown in the chat (RFC 6266: `filename` in ASCII, `filename*` in UTF-8).
    """
    if not STORED_NAME.fullmatch(name):
        raise Http404
    path = f"files/{chat_pk}/{name}"
    attachment = (
        Attachment.objects.filter(
            Q(file=path) | Q(thumbnail=path), message__chat__in=Chat.objects.for_user(request.user)
        )
        .filter(message__chat_id=chat_pk)
        .first()
    )
    if attachment is None or not default_storage.exists(path):
        raise Http404
    is_thumbnail = attachment.thumbnail.name == path
    inline = attachment.is_image and "download" not in request.GET
    content_type = "image/webp" if attachment.is_image else "application/octet-stream"
    response = FileResponse(default_storage.open(path, "rb"), content_type=content_type)
    shown = attachment.name if not is_thumbnail else f"thumbnail-{attachment.name}"
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = (
        f"{disposition}; filename=\"{_ascii_fallback(shown)}\"; filename*=UTF-8''{quote(shown, safe=RFC5987_SAFE)}"
    )
    response["Cache-Control"] = MEDIA_CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    # Even if a browser were to render it, a document from here may run nothing and load nothing.
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
