"""The message search page: the person's own chats, or one of them; as-you-type with htmx.

A plain GET form without JavaScript; with htmx the results follow the typing (the view answers
with the results partial when htmx asks for it) and the URL stays shareable.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET

from .permissions import get_chat_for_user
from .search import clean_query, search_messages


def _id(value: str | None) -> int | None:
    if value is None or not value.isascii() or not value.isdigit() or len(value) > 18:
        return None
    return int(value) or None


@login_required
@require_GET
def search(request: HttpRequest) -> HttpResponse:
    """Messages matching `q`, best first; `chat` searches one chat, `before` pages on."""
    query = clean_query(request.GET.get("q", ""))
    chat_id = _id(request.GET.get("chat"))
    chat = get_chat_for_user(request.user, chat_id) if chat_id is not None else None
    before = _id(request.GET.get("before"))
    found, more = search_messages(request.user, query, chat=chat, before=before)
    partial = request.htmx and not request.htmx.history_restore_request and request.htmx.target
    template = "conversations/search.html"
    if partial == "search-results":
        template += "#results"
    elif partial and partial.startswith("search-more"):
        template += "#page"
    context = {
        "q": query,
        "scope": chat,
        "found": found,
        "more": more,
        "next_before": found[-1].message.pk if more else None,
        "paged": before is not None,
        "is_fragment": "#" in template,
    }
    response = render(request, template, context)
    patch_vary_headers(response, ["HX-Request", "HX-Target"])
    return response
