"""Chat pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """The chat list beside an empty chat window."""
    return render(request, "conversations/home.html")


# Scaffolding: the views below are being written; each answers 404 until it lands.
def _not_yet(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


chat = send = edit = delete = read = chat_initials = picture_file = chat_photo_file = _not_yet
