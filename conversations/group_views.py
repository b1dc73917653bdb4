"""People search, starting direct chats, and group management pages."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse


# Scaffolding: the views below are being written; each answers 404 until it lands.
def _not_yet(request: HttpRequest, *args, **kwargs) -> HttpResponse:
    raise Http404


people = start_direct_chat = create_group = group_settings = rename = photo = add_member = remove_member = leave = (
    _not_yet
)
