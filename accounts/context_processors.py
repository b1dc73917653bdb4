from __future__ import annotations

from django.http import HttpRequest

from .models import User

THEME_COOKIE = "theme"


def theme_for(request: HttpRequest) -> str:
    """The saved theme of the person, or of this browser when nobody is logged in."""
    if request.user.is_authenticated:
        return request.user.theme
    theme = request.COOKIES.get(THEME_COOKIE, User.Theme.SYSTEM)
    return theme if theme in User.Theme.values else User.Theme.SYSTEM


def preferences(request: HttpRequest) -> dict[str, object]:
    return {"theme": theme_for(request), "themes": User.Theme.choices}
