"""Per-person language, time zone and "last seen", applied on every request."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from django.http import HttpRequest, HttpResponse
from django.utils import timezone, translation

from .models import User
from .timezones import zone_for

# Writing last_active on every request would make each page a database write.
LAST_ACTIVE_RESOLUTION = timedelta(seconds=60)


class PreferencesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        zone = None
        if user.is_authenticated:
            if user.language and user.language != translation.get_language():
                translation.activate(user.language)
                request.LANGUAGE_CODE = user.language
            zone = zone_for(user.timezone)
            touch_last_active(user)
        # Pages, htmx answers and their day lines show times in the person's zone. The active
        # zone lives in the worker thread, which serves other people next: always set, always reset.
        if zone is not None:
            timezone.activate(zone)
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


def touch_last_active(user: User) -> None:
    now = timezone.now()
    if user.last_active is None or now - user.last_active > LAST_ACTIVE_RESOLUTION:
        User.objects.filter(pk=user.pk).update(last_active=now)
        user.last_active = now
