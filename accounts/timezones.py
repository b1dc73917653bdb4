"""Time zones: the IANA names a person may choose, and the one each request is shown in.

Every time is stored in UTC and the JSON API speaks UTC (ISO 8601). Pages show times in
the person's zone: PreferencesMiddleware activates it for each request, and flowchat's
static/js/local-time.js formats what the sockets push, rendered once for everyone (see
docs/performance-notes.md, "Times in pushed frames").
"""

from __future__ import annotations

import functools
import zoneinfo

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

# The longest IANA name is 32 characters (America/Argentina/ComodRivadavia); room to spare.
MAX_LENGTH = 64


@functools.cache
def zone_names() -> frozenset[str]:
    """Every IANA zone this machine knows (tzdata): a fixed list, read once."""
    return frozenset(zoneinfo.available_timezones())


def zone_for(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of that name, or None for an empty, unknown or malformed one (never a path)."""
    if name not in zone_names():
        return None
    return zoneinfo.ZoneInfo(name)


def validate_zone(name: str) -> None:
    if name and zone_for(name) is None:
        raise ValidationError(
            _("“%(name)s” is not a time zone. Use a name like Europe/Moscow or Asia/Tokyo."),
            code="invalid_zone",
            params={"name": name[:MAX_LENGTH]},
        )
