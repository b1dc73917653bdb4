"""What the day lines and a time's full form say, in the active language and time zone.

The time zone is the person's (accounts.middleware activates it for each request), so
"Today" is their today. static/js/local-time.js says the same in the browser for what the
sockets push: both fill the same translated pattern (`moment_pattern`).
"""

from __future__ import annotations

from datetime import date, datetime

from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

# Day lines name the weekday for this many days back (after "Yesterday"); older ones show the date.
WEEKDAY_DAYS = 6


def now() -> datetime:
    """The clock the day lines read (tests set it)."""
    return timezone.now()


def today() -> date:
    """Today in the active time zone."""
    return timezone.localdate(now())


def day_label(day: date) -> str:
    """Today, Yesterday, a weekday within the last week, else the full date."""
    ago = (today() - day).days
    if ago == 0:
        return _("Today")
    if ago == 1:
        return _("Yesterday")
    if 1 < ago <= WEEKDAY_DAYS:
        return date_format(day, "l")
    # Translators: a day line's full date, in Django's date format (E: the month as in "2 December").
    return date_format(day, pgettext("day line", "F j, Y"))


def moment_pattern() -> str:
    # Translators: a time's full form, shown when it is hovered or long-pressed; keep the {names}.
    return _("{weekday}, {month} {day}, {year}, {time}")


def full_moment(moment: datetime) -> str:
    """The weekday, date and time of `moment` in the active zone: a <time>'s title."""
    local = timezone.localtime(moment)
    names = {
        "weekday": date_format(local, "l"),
        "month": date_format(local, "E"),
        "day": date_format(local, "j"),
        "year": date_format(local, "Y"),
        "time": date_format(local, "H:i"),
    }
    return moment_pattern().format(**names)
