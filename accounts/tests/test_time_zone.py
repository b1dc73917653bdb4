"""A person's time zone: chosen in settings (without JavaScript), filled in once from the
browser, and the zone every page of theirs is shown in (PreferencesMiddleware)."""

from __future__ import annotations

import zoneinfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.middleware import PreferencesMiddleware
from accounts.models import User

SETTINGS = reverse("accounts:settings")
TIME_ZONE = reverse("accounts:time_zone")
DETECTED = reverse("accounts:detect_time_zone")


@pytest.fixture
def as_alice(client, alice):
    client.force_login(alice)
    return client


def zone_of(user: User) -> str:
    return User.objects.get(pk=user.pk).timezone


# The preference --------------------------------------------------------------------------------


def test_a_new_person_has_no_time_zone_yet(alice):
    assert alice.timezone == ""


def test_the_settings_page_has_a_time_zone_form_that_posts_without_javascript(as_alice):
    html = as_alice.get(SETTINGS).content.decode()

    assert f'action="{TIME_ZONE}"' in html
    assert 'name="timezone"' in html
    assert '<option value="Asia/Tokyo">' in html  # the list the field suggests from


def test_choosing_a_time_zone_saves_it_and_says_so(as_alice, alice):
    response = as_alice.post(TIME_ZONE, {"timezone": "Asia/Tokyo"}, follow=True)

    assert response.redirect_chain == [(SETTINGS, 302)]
    assert "Your time zone is saved." in response.content.decode()
    assert zone_of(alice) == "Asia/Tokyo"


def test_a_name_that_is_not_a_time_zone_is_a_form_error(as_alice, alice):
    User.objects.filter(pk=alice.pk).update(timezone="Europe/Moscow")

    response = as_alice.post(TIME_ZONE, {"timezone": "Mars/Olympus_Mons"})

    assert response.status_code == 400
    html = response.content.decode()
    assert "“Mars/Olympus_Mons” is not a time zone. Use a name like Europe/Moscow or Asia/Tokyo." in html
    assert zone_of(alice) == "Europe/Moscow"


@pytest.mark.parametrize("name", ["../../etc/passwd", "/usr/share/zoneinfo/UTC", "asia/tokyo", "x" * 500])
def test_paths_and_misspelt_names_are_refused(as_alice, alice, name):
    assert as_alice.post(TIME_ZONE, {"timezone": name}).status_code == 400
    assert zone_of(alice) == ""


def test_the_error_is_in_russian_for_a_russian_speaker(as_alice, alice):
    User.objects.filter(pk=alice.pk).update(language="ru")

    html = as_alice.post(TIME_ZONE, {"timezone": "Nowhere"}).content.decode()

    assert "«Nowhere» — не часовой пояс." in html


def test_an_empty_time_zone_goes_back_to_the_browsers(as_alice, alice):
    User.objects.filter(pk=alice.pk).update(timezone="Asia/Tokyo")

    as_alice.post(TIME_ZONE, {"timezone": ""})

    assert zone_of(alice) == ""


def test_only_people_signed_in_have_a_time_zone(client):
    assert client.post(TIME_ZONE, {"timezone": "Asia/Tokyo"}).status_code == 302
    assert client.post(DETECTED, {"timezone": "Asia/Tokyo"}).status_code == 302


# Filled in from the browser --------------------------------------------------------------------


def test_the_browsers_zone_fills_in_a_missing_preference(as_alice, alice):
    response = as_alice.post(DETECTED, {"timezone": "Asia/Tokyo"})

    assert response.status_code == 204
    assert zone_of(alice) == "Asia/Tokyo"


def test_the_browsers_zone_never_replaces_a_chosen_one(as_alice, alice):
    User.objects.filter(pk=alice.pk).update(timezone="Europe/Moscow")

    assert as_alice.post(DETECTED, {"timezone": "Asia/Tokyo"}).status_code == 204
    assert zone_of(alice) == "Europe/Moscow"


@pytest.mark.parametrize("name", ["", "Not/A_Zone"])
def test_a_browser_zone_that_is_not_one_is_refused(as_alice, alice, name):
    response = as_alice.post(DETECTED, {"timezone": name})

    assert response.status_code == 400
    assert response.content.decode() == "That is not a time zone."
    assert zone_of(alice) == ""


def test_filling_in_the_zone_needs_the_pages_csrf_token(alice):
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(alice)

    assert browser.post(DETECTED, {"timezone": "Asia/Tokyo"}).status_code == 403
    assert zone_of(alice) == ""


def test_a_page_asks_the_browser_for_its_zone_only_while_the_person_has_none(as_alice, alice):
    assert f'data-timezone-url="{DETECTED}"' in as_alice.get(SETTINGS).content.decode()

    User.objects.filter(pk=alice.pk).update(timezone="Asia/Tokyo")
    html = as_alice.get(SETTINGS).content.decode()

    assert "data-timezone-url" not in html
    assert 'data-timezone="Asia/Tokyo" data-shown-zone="Asia/Tokyo"' in html


# Applied per request ---------------------------------------------------------------------------


class Seen:
    """A view that records the zone it ran in."""

    zone: str | None = None

    def __call__(self, request):
        self.zone = timezone.get_current_timezone_name()
        from django.http import HttpResponse

        return HttpResponse()


def run(user, seen: Seen, rf) -> None:
    request = rf.get("/")
    request.user = user
    PreferencesMiddleware(seen)(request)


def test_each_request_runs_in_its_persons_zone_and_the_next_one_does_not_inherit_it(alice, bob, rf):
    User.objects.filter(pk=alice.pk).update(timezone="Asia/Tokyo")
    alice.refresh_from_db()
    seen = Seen()

    run(alice, seen, rf)
    assert seen.zone == "Asia/Tokyo"
    # The same worker thread serves bob next: he has no zone, so the server's.
    assert timezone.get_current_timezone_name() == "UTC"
    run(bob, seen, rf)
    assert seen.zone == "UTC"


def test_a_stored_zone_this_machine_does_not_know_falls_back_to_the_servers(alice, rf):
    alice.timezone = "Atlantis/Capital"  # e.g. removed from a later tzdata
    seen = Seen()

    run(alice, seen, rf)

    assert seen.zone == "UTC"


def test_someone_signed_out_sees_the_servers_zone(rf):
    from django.contrib.auth.models import AnonymousUser

    seen = Seen()
    timezone.activate(zoneinfo.ZoneInfo("Asia/Tokyo"))  # left over from an earlier request
    try:
        run(AnonymousUser(), seen, rf)
    finally:
        timezone.deactivate()

    assert seen.zone == "UTC"
