"""Response headers every answer carries: nothing private cached, no browser feature granted.

- `Cache-Control: private, no-store` on whatever is answered to a signed-in person (a session
  or an API token): pages, htmx fragments and API answers hold their chats, and must not stay
  in a shared proxy or in a browser's cache on a shared computer. Answers that chose their own
  caching keep it (pictures and stylesheets, served to members only and cached privately);
  static files never come here (WhiteNoise answers them first); public pages are left alone.
- `Permissions-Policy` denying the powerful browser features FlowChat does not use, so a
  script that slipped in could not ask for the camera or the location. (static/js uses none;
  notifications and push are not governed by Permissions-Policy.)
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse

PRIVATE = "private, no-store"
# Only features Chromium knows: an unknown one is a console error on every page.
DENIED_FEATURES = (
    "accelerometer",
    "bluetooth",
    "camera",
    "display-capture",
    "geolocation",
    "gyroscope",
    "hid",
    "idle-detection",
    "magnetometer",
    "microphone",
    "midi",
    "payment",
    "publickey-credentials-get",
    "screen-wake-lock",
    "serial",
    "usb",
    "xr-spatial-tracking",
)
PERMISSIONS_POLICY = ", ".join(f"{feature}=()" for feature in DENIED_FEATURES)


def is_signed_in(request: HttpRequest) -> bool:
    if getattr(request, "api_token", None) is not None:
        return True
    user = getattr(request, "user", None)
    try:
        return bool(user is not None and user.is_authenticated)
    except DatabaseError:  # the session could not be read: the 503 page says no-store itself
        return False


class ResponseHeaders:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Cache-Control" not in response and is_signed_in(request):
            response["Cache-Control"] = PRIVATE
        response.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response
