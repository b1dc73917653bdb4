"""People as the JSON API and the socket events show them (the contract in DESIGN.md section 4).

Below the API views and the broadcasts that use it, so both read the same shapes.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from .models import User


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 in UTC with a Z, as every API time is."""
    return moment.isoformat().replace("+00:00", "Z") if moment else None


def user_to_dict(user: User) -> dict[str, Any]:
    return {
        "id": user.pk,
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "bio": user.bio,
        "avatar": user.avatar_url,
        "is_online": user.is_online,
        "last_active": iso(user.last_active),
    }


def user_summary(user: User) -> dict[str, Any]:
    """The short form, for lists and for a message's author."""
    return {"id": user.pk, "username": user.username, "avatar": user.avatar_url}
