"""People search, starting direct chats, and the group pages: create, settings, members, leave.

Every page is plain GET forms and POST forms that redirect back (post/redirect/get), so
all of it works with JavaScript off. With htmx the search fields update their results in
place (the view answers with a partial of the same template, picked by `HX-Target`), and
adding or removing a member swaps the member list. Every change goes through
`conversations.actions`; the access rule is `get_chat_for_user` (outsiders get 404).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, IntegerField, QuerySet, Value, When
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect

from accounts.models import User
from accounts.search import search_people

from . import actions, directory
from .forms import GroupForm, GroupPhotoForm, PersonForm, RenameGroupForm
from .models import Chat, Membership, Notifications, default_notifications
from .permissions import get_chat_for_user
from .templatetags.bidi import isolate

PAGE_SIZE = 20
# Deep enough for any real directory; keeps a hand-made ?page= from asking for a huge OFFSET.
MAX_PAGE = 500
# The search text is matched with LIKE; nobody's name is longer than this.
SEARCH_MAX_LENGTH = 100
# How many people a group form carries between searches (and how many it shows as found).
MAX_PICKED = 200
CANDIDATES = 20


# Helpers -----------------------------------------------------------------------------------


def _search_text(data: QueryDict) -> str:
    # PostgreSQL cannot compare NUL characters: stripped here rather than becoming a 500.
    return data.get("q", "").replace("\x00", "").strip()[:SEARCH_MAX_LENGTH]


def _whole_number(value: str) -> int | None:
    # Not str.isdigit(): it accepts "²", which int() refuses.
    try:
        return int(value)
    except ValueError:
        return None


def _page_number(data: QueryDict) -> int:
    number = _whole_number(data.get("page", "")) or 1
    return min(max(number, 1), MAX_PAGE)


def _page_of[T](rows: QuerySet[T], page: int) -> tuple[list[T], bool]:
    """One page of people (or groups), and whether there is another, without a COUNT query."""
    start = (page - 1) * PAGE_SIZE
    found = list(rows[start : start + PAGE_SIZE + 1])
    return found[:PAGE_SIZE], len(found) > PAGE_SIZE


def _fragment(request: HttpRequest, template: str, partials: dict[str, str]) -> str:
    """The partial of `template` that htmx asked for by its target's id, or the whole page.

    A history restore (back button after the cache is gone) needs the whole page.
    """
    if request.htmx and not request.htmx.history_restore_request:
        target = request.htmx.target or ""
        for prefix, partial in partials.items():
            if target.startswith(prefix):
                return f"{template}#{partial}"
    return template


def _render(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context["is_fragment"] = "#" in template
    response = render(request, template, context, status=status)
    # The same URL answers with a page or a fragment: caches must keep them apart.
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response


def _back(request: HttpRequest, default: str) -> str:
    """Where a form came from (its `next` field), if that is a page of this site."""
    url = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(url, {request.get_host()}, require_https=request.is_secure()):
        return url
    return default


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


def _people_by_ids(ids: Iterable[str], *, viewer: User) -> list[User]:
    """The people `viewer` may find among `ids` (as strings from a form), by username; others are dropped."""
    pks = {pk for pk in map(_whole_number, list(ids)[:MAX_PICKED]) if pk is not None and 0 < pk < 2**31}
    if not pks:
        return []
    return list(search_people("", viewer).filter(pk__in=pks).exclude(pk=viewer.pk))


# Find people -----------------------------------------------------------------------------------


@login_required
@require_GET
def people(request: HttpRequest) -> HttpResponse:
    """Search people by username, first or last name; each result can be messaged."""
    query = _search_text(request.GET)
    page = _page_number(request.GET)
    found: list[User] = []
    has_more = False
    if query:
        found, has_more = _page_of(search_people(query, request.user).exclude(pk=request.user.pk), page)
    template = _fragment(request, "conversations/people.html", {"people-results": "results", "people-more": "page"})
    context = {"q": query, "people": found, "page": page, "has_more": has_more, "next_page": page + 1}
    return _render(request, template, context)


@login_required
@require_POST
def start_direct_chat(request: HttpRequest) -> HttpResponse:
    """Open the direct chat with someone, creating it on first use."""
    back = _back(request, reverse("people"))
    form = PersonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That person could not be found."))
        return redirect(back)
    try:
        chat, _created = actions.get_or_create_direct_chat(request.user, form.cleaned_data["user"])
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(back)
    return redirect(chat)


# New group --------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def create_group(request: HttpRequest) -> HttpResponse:
    """A title, people picked from a search, and an optional photo.

    Without JavaScript the search button GETs this page with everything typed and ticked
    so far (`title`, `members`, `q`), so picks survive any number of searches.
    """
    if request.method == "POST":
        data = request.POST
        form = GroupForm(data, request.FILES)
        if form.is_valid():
            try:
                chat = actions.create_group(
                    request.user,
                    form.cleaned_data["title"],
                    form.cleaned_data["members"],
                    photo=form.cleaned_data["photo"],
                )
            except ValidationError as error:
                form.add_error("title", error)
            else:
                messages.success(request, _("The group “%(title)s” is created.") % {"title": isolate(chat.title)})
                return redirect(chat)
    else:
        data = request.GET
        form = GroupForm(initial={"title": data.get("title", "")})

    picked = _people_by_ids(data.getlist("members"), viewer=request.user)
    query = _search_text(data)
    candidates: list[User] = []
    more_candidates = False
    if query:
        found = search_people(query, request.user).exclude(pk__in=[request.user.pk, *(person.pk for person in picked)])
        candidates = list(found[: CANDIDATES + 1])
        more_candidates = len(candidates) > CANDIDATES
        candidates = candidates[:CANDIDATES]
    context = {
        "form": form,
        "picked": picked,
        "q": query,
        "candidates": candidates,
        "more_candidates": more_candidates,
    }
    template = _fragment(request, "conversations/group_new.html", {"candidates": "candidates"})
    return _render(request, template, context, status=400 if form.errors else 200)


# Group settings ---------------------------------------------------------------------------------


def _group_for(request: HttpRequest, pk: int) -> Chat:
    """A group the person is in; 404 for outsiders and for direct chats (which have no settings)."""
    chat = get_chat_for_user(request.user, pk)
    if not chat.is_group:
        raise Http404("Direct chats have no group settings.")
    return chat


def _members_of(chat: Chat) -> list[Membership]:
    owner_first = Case(When(role=Membership.Role.OWNER, then=Value(0)), default=Value(1), output_field=IntegerField())
    return list(chat.memberships.select_related("user").order_by(owner_first, "joined_at", "id"))


def _settings_context(request: HttpRequest, chat: Chat, query: str = "") -> dict[str, Any]:
    memberships = _members_of(chat)
    mine = next((m for m in memberships if m.user_id == request.user.pk), None)
    candidates: list[User] = []
    more_candidates = False
    if query:
        member_ids = [m.user_id for m in memberships]
        found = list(search_people(query, request.user).exclude(pk__in=member_ids)[: CANDIDATES + 1])
        candidates, more_candidates = found[:CANDIDATES], len(found) > CANDIDATES
    return {
        "chat": chat,
        "photo_url": chat.display_photo_for(request.user),
        "memberships": memberships,
        "is_owner": mine is not None and mine.role == Membership.Role.OWNER,
        "q": query,
        "candidates": candidates,
        "more_candidates": more_candidates,
    }


def _settings_page(
    request: HttpRequest,
    chat: Chat,
    *,
    rename_form: RenameGroupForm | None = None,
    photo_form: GroupPhotoForm | None = None,
    status: int = 200,
) -> HttpResponse:
    context = _settings_context(request, chat, _search_text(request.GET))
    context["rename_form"] = rename_form or RenameGroupForm(initial={"title": chat.title})
    context["photo_form"] = photo_form or GroupPhotoForm()
    context |= _notification_context(chat, request.user)
    template = _fragment(
        request, "conversations/group_settings.html", {"add-candidates": "candidates", "members": "members"}
    )
    return _render(request, template, context, status=status)


def _to_settings(request: HttpRequest, chat: Chat, anchor: str = "") -> HttpResponse:
    """After a member change: the member list for htmx, the settings page for everyone else."""
    if request.htmx:
        context = _settings_context(request, chat, _search_text(request.POST))
        context["notices_here"] = True
        return _render(request, "conversations/group_settings.html#members", context)
    return redirect(reverse("group_settings", args=[chat.pk]) + anchor)


@login_required
@require_GET
def group_settings(request: HttpRequest, pk: int) -> HttpResponse:
    """Title, photo, members (with add and, for the owner, remove) and leaving."""
    chat = get_chat_for_user(request.user, pk)
    if not chat.is_group:
        return redirect(chat)
    return _settings_page(request, chat)


@login_required
@require_POST
def rename(request: HttpRequest, pk: int) -> HttpResponse:
    """Any member renames the group; a bad title shows the page again with the error."""
    chat = _group_for(request, pk)
    form = RenameGroupForm(request.POST)
    if form.is_valid():
        try:
            actions.rename_group(chat, request.user, form.cleaned_data["title"])
        except ValidationError as error:
            form.add_error("title", error)
        else:
            messages.success(request, _("The group is now called “%(title)s”.") % {"title": isolate(chat.title)})
            return redirect("group_settings", pk=chat.pk)
    return _settings_page(request, chat, rename_form=form, status=400)


@login_required
@require_POST
def photo(request: HttpRequest, pk: int) -> HttpResponse:
    """Any member changes or removes the group's photo."""
    chat = _group_for(request, pk)
    form = GroupPhotoForm(request.POST, request.FILES)
    if form.is_valid():
        new_photo = form.cleaned_data["photo"]
        if new_photo is None and not chat.photo:
            form.add_error(None, _("This group has no photo to remove."))
        else:
            try:
                actions.set_group_photo(chat, request.user, new_photo)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                if new_photo is None:
                    messages.success(request, _("The group photo is removed."))
                else:
                    messages.success(request, _("The group photo is changed."))
                return redirect("group_settings", pk=chat.pk)
    return _settings_page(request, chat, photo_form=form, status=400)


@login_required
@require_POST
def add_member(request: HttpRequest, pk: int) -> HttpResponse:
    """Any member adds someone found by the settings page's search."""
    chat = _group_for(request, pk)
    form = PersonForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("That person could not be found."))
        return _to_settings(request, chat, "#members")
    person = form.cleaned_data["user"]
    try:
        actions.add_member(chat, request.user, person)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("%(name)s is added to the group.") % {"name": isolate(person.display_name)})
    return _to_settings(request, chat, "#members")


def _member_to_remove(chat: Chat, user_pk: int) -> User:
    person = User.objects.filter(pk=user_pk, memberships__chat=chat).first()
    if person is None:
        raise Http404("Not a member of this group.")
    return person


@login_required
@require_http_methods(["GET", "POST"])
def remove_member(request: HttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """GET asks "are you sure?" (the no-JavaScript confirmation); POST removes. Owner only."""
    chat = _group_for(request, pk)
    if request.method == "GET":
        mine = chat.memberships.filter(user=request.user).values_list("role", flat=True).first()
        if mine != Membership.Role.OWNER:
            raise PermissionDenied(_("Only the owner can remove members."))
        person = _member_to_remove(chat, user_pk)
        if person.pk == request.user.pk:
            return redirect("leave_chat", pk=chat.pk)
        return render(request, "conversations/group_confirm_remove.html", {"chat": chat, "person": person})

    person = User.objects.filter(pk=user_pk).first()
    if person is None:
        messages.error(request, _("That person could not be found."))
        return _to_settings(request, chat, "#members")
    try:
        actions.remove_member(chat, request.user, person)  # PermissionDenied for non-owners: a 403
    except ValidationError as error:
        messages.error(request, _error_text(error))
    else:
        messages.success(request, _("%(name)s is removed from the group.") % {"name": isolate(person.display_name)})
    return _to_settings(request, chat, "#members")


@login_required
@require_http_methods(["GET", "POST"])
def leave(request: HttpRequest, pk: int) -> HttpResponse:
    """GET asks "are you sure?"; POST leaves. An owner who leaves hands the group on; the last one out deletes it."""
    chat = _group_for(request, pk)
    if request.method == "GET":
        roles = dict(chat.memberships.values_list("user_id", "role"))
        context = {
            "chat": chat,
            "others": len(roles) - 1,
            "is_owner": roles.get(request.user.pk) == Membership.Role.OWNER,
        }
        return render(request, "conversations/group_confirm_leave.html", context)
    title = chat.title
    actions.leave_chat(chat, request.user)
    messages.success(request, _("You left “%(title)s”.") % {"title": isolate(title)})
    home = reverse("home")
    return HttpResponseClientRedirect(home) if request.htmx else redirect(home)


# Open groups ---------------------------------------------------------------------------------


@login_required
@require_POST
def set_open(request: HttpRequest, pk: int) -> HttpResponse:
    """The owner opens the group to the directory or closes it again."""
    chat = _group_for(request, pk)
    is_open = request.POST.get("is_open") == "on"
    actions.set_group_open(chat, request.user, is_open)  # PermissionDenied for non-owners: a 403
    if is_open:
        messages.success(request, _("The group is open: anyone signed in can find it and join."))
    else:
        messages.success(request, _("The group is closed: new members join by invitation only."))
    return redirect(reverse("group_settings", args=[chat.pk]) + "#openness")


@login_required
@require_GET
def group_directory(request: HttpRequest) -> HttpResponse:
    """The open groups anyone signed in may browse and join, searchable by title."""
    query = _search_text(request.GET)
    page = _page_number(request.GET)
    found, has_more = _page_of(directory.open_groups(request.user, query), page)
    groups = directory.attach_previews(found)
    template = _fragment(request, "conversations/directory.html", {"groups-results": "results", "groups-more": "page"})
    context = {"q": query, "groups": groups, "page": page, "has_more": has_more, "next_page": page + 1}
    return _render(request, template, context)


@login_required
@require_POST
def join(request: HttpRequest, pk: int) -> HttpResponse:
    """Join an open group with one click; its chat opens at the newest message."""
    chat = Chat.objects.seen_from_outside(request.user).filter(pk=pk, is_group=True).first()
    if chat is None:
        raise Http404("No such open group.")  # as for any chat one may not see
    try:
        actions.join_group(chat, request.user)
    except ValidationError as error:
        if error.code != "already_member":
            messages.error(request, _error_text(error))
            return redirect(_back(request, reverse("group_directory")))
    else:
        messages.success(request, _("You joined “%(title)s”.") % {"title": isolate(chat.title)})
    return HttpResponseClientRedirect(chat.get_absolute_url()) if request.htmx else redirect(chat)


def _notification_context(chat: Chat, user: User) -> dict[str, Any]:
    memberships = list(chat.memberships.all())
    mine = next(m for m in memberships if m.user_id == user.pk)
    return {
        "notification_levels": Notifications.choices,
        "notification_choice": mine.notifications or "",
        "notification_default": Notifications(default_notifications(chat, len(memberships))).label,
    }


@login_required
@require_http_methods(["GET", "POST"])
def notifications(request: HttpRequest, pk: int) -> HttpResponse:
    """A member picks which new messages of the chat notify them ("" is the chat's default).

    GET: a direct chat's page with the form (a group's is on its settings page)."""
    chat = get_chat_for_user(request.user, pk)
    if request.method == "GET":
        if chat.is_group:
            return redirect(reverse("group_settings", args=[chat.pk]) + "#notifications")
        context = {"chat": chat, "chat_name": chat.display_name_for(request.user)}
        context |= _notification_context(chat, request.user)
        return render(request, "conversations/chat_notifications.html", context)
    level = request.POST.get("notifications", "")
    if level and level not in Notifications.values:
        messages.error(request, _("That notification level is not available."))
    else:
        actions.set_notifications(chat, request.user, level or None)
        messages.success(request, _("Your notification level for this chat is saved."))
    if chat.is_group:
        return redirect(reverse("group_settings", args=[chat.pk]) + "#notifications")
    return redirect(reverse("chat_notifications", args=[chat.pk]))
