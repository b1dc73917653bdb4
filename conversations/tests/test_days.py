"""What day lines and a time's full form say, by the person's zone and language, with a clock the tests set."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime

import pytest
from django.utils import timezone, translation

from conversations import days

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")
# Wednesday 2 December 2026, 05:20 in Tokyo; still Tuesday 1 December in UTC.
NOW = datetime(2026, 12, 1, 20, 20, tzinfo=UTC)


@pytest.fixture
def clock(monkeypatch):
    """Now is NOW, in Tokyo, in English, unless a test says otherwise."""
    monkeypatch.setattr(days, "now", lambda: NOW)
    with timezone.override(TOKYO), translation.override("en"):
        yield


@pytest.mark.parametrize(
    ("day", "english", "russian"),
    [
        (date(2026, 12, 2), "Today", "Сегодня"),
        (date(2026, 12, 1), "Yesterday", "Вчера"),
        (date(2026, 11, 30), "Monday", "Понедельник"),
        (date(2026, 11, 26), "Thursday", "Четверг"),  # six days ago: still this week
        (date(2026, 11, 25), "November 25, 2026", "25 ноября 2026 г."),  # a week ago: the date
        (date(2025, 12, 31), "December 31, 2025", "31 декабря 2025 г."),
    ],
)
def test_day_lines_name_today_yesterday_the_weekday_then_the_date(clock, day, english, russian):
    assert days.day_label(day) == english
    with translation.override("ru"):
        assert days.day_label(day) == russian


def test_today_is_the_persons_today_not_the_servers(clock):
    assert days.today() == date(2026, 12, 2)
    with timezone.override(UTC):
        assert days.today() == date(2026, 12, 1)
        assert days.day_label(date(2026, 12, 2)) == "December 2, 2026"  # tomorrow, in UTC


def test_a_times_full_form_is_its_weekday_date_and_time_in_the_persons_zone(clock):
    assert days.full_moment(NOW) == "Wednesday, December 2, 2026, 05:20"
    with translation.override("ru"):
        assert days.full_moment(NOW) == "Среда, 2 декабря 2026 г., 05:20"
    with timezone.override(UTC):
        assert days.full_moment(NOW) == "Tuesday, December 1, 2026, 20:20"
