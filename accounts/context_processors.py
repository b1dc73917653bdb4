from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from .models import User

THEME_COOKIE = "theme"


def theme_for(request: HttpRequest) -> str:
    """The theme the person saved, else the one chosen in this browser, else the system's."""
    chosen_here = request.COOKIES.get(THEME_COOKIE, User.Theme.SYSTEM)
    if chosen_here not in User.Theme.values:
        chosen_here = User.Theme.SYSTEM
    # Like the language, a theme picked on the login page before signing in carries on
    # until the person saves one of their own.
    if request.user.is_authenticated and request.user.theme != User.Theme.SYSTEM:
        return request.user.theme
    return chosen_here


def preferences(request: HttpRequest) -> dict[str, object]:
    # signup_closed: the header offers no sign-up a visitor cannot make (SIGNUP=closed).
    return {"theme": theme_for(request), "themes": User.Theme.choices, "signup_closed": settings.SIGNUP == "closed"}
