"""Profile pages, settings, preferences, the files that stand for a person, and allauth's pages."""

import re
import xml.etree.ElementTree as ET
from datetime import timedelta
from html.parser import HTMLParser

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone

from accounts.context_processors import THEME_COOKIE
from accounts.models import User
from conftest import PASSWORD, make_person
from conversations import actions

SETTINGS_URL = reverse("accounts:settings")
PREFERENCES_URL = reverse("accounts:preferences")
LOGIN_URL = reverse("account_login")
NEW_PASSWORD = "a-different-long-passphrase-42"


def html_lang(response):
    return re.search(r'<html lang="([^"]*)"', response.content.decode()).group(1)


def html_theme(response):
    return re.search(r'<html [^>]*data-theme="([^"]*)"', response.content.decode()).group(1)


def is_logged_in(client):
    return "_auth_user_id" in client.session


# Profile page ---------------------------------------------------------------------


@pytest.mark.parametrize("url", ["/", "/settings/", "/people/alice/"])
def test_anonymous_visitor_is_sent_to_login(client, alice, url):
    response = client.get(url)

    assert response.status_code == 302
    assert response["Location"] == f"{LOGIN_URL}?next={url}"


def test_profile_shows_names_username_and_bio(client, alice, bob):
    alice.bio = "Archery and tea.\nLots of tea."
    alice.save()
    client.force_login(bob)

    page = client.get("/people/alice/").content.decode()

    assert "<h1><bdi>Alice Archer</bdi></h1>" in page
    assert "@<bdi>alice</bdi>" in page
    assert "Archery and tea.<br>Lots of tea." in page
    assert "Edit profile" not in page


def test_own_profile_links_to_settings(client, alice):
    client.force_login(alice)

    page = client.get("/people/alice/").content.decode()

    assert f'href="{SETTINGS_URL}"' in page
    assert "Edit profile" in page


def test_profile_escapes_the_bio_and_names(client, alice, bob):
    alice.bio = "<script>alert('bio')</script>"
    alice.first_name = "<b>Al</b>"
    alice.save()
    client.force_login(bob)

    page = client.get("/people/alice/").content.decode()

    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(&#x27;bio&#x27;)&lt;/script&gt;" in page
    assert "<b>Al</b>" not in page
    assert "&lt;b&gt;Al&lt;/b&gt;" in page


def test_profile_says_online_while_a_socket_is_open(client, alice, bob):
    actions.sockets_changed({"alice-tab": alice.pk})
    client.force_login(bob)

    page = client.get("/people/alice/").content.decode()

    assert "Online" in page
    assert "Last seen" not in page


def test_profile_says_when_last_seen_after_the_online_window(client, alice, bob):
    User.objects.filter(pk=alice.pk).update(last_active=timezone.now() - timedelta(hours=2, minutes=5))
    client.force_login(bob)

    page = client.get("/people/alice/").content.decode()

    assert "Last seen 2\xa0hours" in page
    assert "Online" not in page


def test_profile_of_someone_never_seen_says_so(client, alice, bob):
    client.force_login(bob)

    assert "Not seen yet" in client.get("/people/alice/").content.decode()


def test_unknown_username_is_404(client, alice):
    client.force_login(alice)

    assert client.get("/people/nobody/").status_code == 404


def test_deactivated_person_is_404(client, alice, bob):
    User.objects.filter(pk=bob.pk).update(is_active=False)
    client.force_login(alice)

    assert client.get("/people/bob/").status_code == 404


def test_profile_url_in_other_case_redirects_to_the_person(client, alice, bob):
    client.force_login(bob)

    response = client.get("/people/ALICE/")

    assert response.status_code == 301
    assert response["Location"] == "/people/alice/"


# Settings page --------------------------------------------------------------------


def test_settings_page_shows_the_current_profile(client, alice):
    alice.bio = "Hello there"
    alice.save()
    client.force_login(alice)

    response = client.get(SETTINGS_URL)

    page = response.content.decode()
    assert response.status_code == 200
    assert 'value="Alice"' in page
    assert 'value="Archer"' in page
    assert "Hello there</textarea>" in page


def test_settings_saves_names_and_bio(client, alice):
    client.force_login(alice)

    response = client.post(SETTINGS_URL, {"first_name": "Alicia", "last_name": "Arrow", "bio": "New bio"}, follow=True)

    assert response.redirect_chain == [(SETTINGS_URL, 302)]
    assert "Your profile is saved." in response.content.decode()
    alice.refresh_from_db()
    assert (alice.first_name, alice.last_name, alice.bio) == ("Alicia", "Arrow", "New bio")


def test_settings_refuses_a_bio_over_500_characters(client, alice):
    client.force_login(alice)

    response = client.post(SETTINGS_URL, {"first_name": "Alice", "last_name": "Archer", "bio": "x" * 501})

    assert response.status_code == 400
    assert "Ensure this value has at most 500 characters (it has 501)." in response.content.decode()
    alice.refresh_from_db()
    assert alice.bio is None


def test_settings_accepts_a_bio_of_exactly_500_characters(client, alice):
    client.force_login(alice)

    response = client.post(SETTINGS_URL, {"first_name": "Alice", "last_name": "Archer", "bio": "x" * 500})

    assert response.status_code == 302
    alice.refresh_from_db()
    assert len(alice.bio) == 500


def test_a_refused_save_does_not_show_the_unsaved_name_in_the_header(client, alice):
    client.force_login(alice)

    response = client.post(SETTINGS_URL, {"first_name": "Mallory", "last_name": "Archer", "bio": "x" * 501})

    page = response.content.decode()
    menu_name = re.search(r'<span class="menu-name"><bdi>([^<]*)</bdi></span>', page).group(1)
    assert menu_name == "Alice Archer"
    # The form itself keeps what was typed so it can be corrected.
    assert 'value="Mallory"' in page


# Preferences --------------------------------------------------------------------------


def test_preferences_are_saved_on_the_person_and_in_cookies(client, alice):
    client.force_login(alice)

    response = client.post(PREFERENCES_URL, {"theme": "dark", "language": "ru", "next": SETTINGS_URL})

    assert response.status_code == 302
    assert response["Location"] == SETTINGS_URL
    alice.refresh_from_db()
    assert (alice.theme, alice.language) == ("dark", "ru")
    assert response.cookies[THEME_COOKIE].value == "dark"
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "ru"
    assert response.cookies[THEME_COOKIE]["samesite"] == "Lax"


def test_choosing_only_a_theme_keeps_the_language(client, alice):
    User.objects.filter(pk=alice.pk).update(language="ru")
    client.force_login(alice)

    response = client.post(PREFERENCES_URL, {"theme": "light", "next": "/"})

    alice.refresh_from_db()
    assert (alice.theme, alice.language) == ("light", "ru")
    assert settings.LANGUAGE_COOKIE_NAME not in response.cookies


def test_anonymous_preferences_live_in_cookies_and_apply_to_the_next_page(client, alice):
    response = client.post(PREFERENCES_URL, {"theme": "dark", "language": "ru", "next": LOGIN_URL})

    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    login_page = client.get(LOGIN_URL)
    assert html_theme(login_page) == "dark"
    assert html_lang(login_page) == "ru"
    assert login_page["Content-Language"] == "ru"
    alice.refresh_from_db()
    assert (alice.theme, alice.language) == ("system", "")


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/",
        "/\\evil.example/",
        "http://testserver.evil.example/",
        "javascript:alert(1)",
        "",
    ],
)
def test_preferences_never_redirect_off_site(client, alice, next_url):
    client.force_login(alice)

    response = client.post(PREFERENCES_URL, {"theme": "dark", "next": next_url})

    assert response.status_code == 302
    assert response["Location"] == "/"


@pytest.mark.parametrize("choice", [{"theme": "neon"}, {"language": "xx"}, {"theme": "dark", "language": "klingon"}])
def test_an_unknown_preference_is_refused_with_a_message(client, alice, choice):
    client.force_login(alice)

    response = client.post(PREFERENCES_URL, {**choice, "next": SETTINGS_URL}, follow=True)

    assert response.redirect_chain == [(SETTINGS_URL, 302)]
    assert "That choice is not available." in response.content.decode()
    alice.refresh_from_db()
    assert (alice.theme, alice.language) == ("system", "")
    assert THEME_COOKIE not in client.cookies
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies


def test_an_empty_preferences_form_asks_for_a_choice(client):
    response = client.post(PREFERENCES_URL, {"next": LOGIN_URL}, follow=True)

    assert response.redirect_chain == [(LOGIN_URL, 302)]
    assert "Choose a theme or a language." in response.content.decode()


def test_a_next_url_with_a_line_break_cannot_add_headers(client, alice):
    client.force_login(alice)

    response = client.post(PREFERENCES_URL, {"theme": "dark", "next": "/settings/\r\nSet-Cookie: sessionid=evil"})

    assert response.status_code == 302
    assert "\n" not in response["Location"]
    assert "sessionid" not in response.cookies


def test_preferences_over_htmx_answer_204_and_ask_for_a_refresh(client, alice):
    client.force_login(alice)

    response = client.post(PREFERENCES_URL, {"theme": "dark", "next": "/"}, headers={"HX-Request": "true"})

    assert response.status_code == 204
    assert response["HX-Refresh"] == "true"
    assert response.cookies[THEME_COOKIE].value == "dark"
    alice.refresh_from_db()
    assert alice.theme == "dark"


def test_preferences_refuse_get(client, alice):
    client.force_login(alice)

    assert client.get(PREFERENCES_URL).status_code == 405


def test_saved_language_applies_on_a_new_browser_without_the_cookie(client, alice):
    User.objects.filter(pk=alice.pk).update(language="ru")
    client.force_login(alice)
    assert settings.LANGUAGE_COOKIE_NAME not in client.cookies

    response = client.get("/", headers={"Accept-Language": "en"})

    assert response["Content-Language"] == "ru"
    assert html_lang(response) == "ru"


def test_saved_theme_renders_on_the_html_element(client, alice):
    User.objects.filter(pk=alice.pk).update(theme="dark")
    client.force_login(alice)

    assert html_theme(client.get("/")) == "dark"
    assert html_theme(client.get(SETTINGS_URL)) == "dark"


def test_a_theme_chosen_before_logging_in_is_kept_after_logging_in(client, alice):
    client.post(PREFERENCES_URL, {"theme": "dark", "language": "ru", "next": LOGIN_URL})
    client.post(LOGIN_URL, {"login": "alice", "password": PASSWORD})

    home = client.get("/")

    assert html_theme(home) == "dark"
    assert html_lang(home) == "ru"


def test_a_saved_theme_wins_over_this_browsers_cookie(client, alice):
    User.objects.filter(pk=alice.pk).update(theme="light")
    client.cookies[THEME_COOKIE] = "dark"
    client.force_login(alice)

    assert html_theme(client.get("/")) == "light"


def test_a_forged_theme_cookie_falls_back_to_the_system_theme(client):
    client.cookies[THEME_COOKIE] = '"><script>alert(1)</script>'

    assert html_theme(client.get(LOGIN_URL)) == "system"


# Initials avatar -------------------------------------------------------------------------


def test_initials_avatar_is_an_svg_of_the_initials(client, alice, bob):
    client.force_login(bob)
    response = client.get(reverse("accounts:initials", args=[alice.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    svg = ET.fromstring(response.content)  # noqa: S314 (our own response, not untrusted input)
    assert svg.find("{http://www.w3.org/2000/svg}text").text == "AA"


@pytest.mark.parametrize(
    ("username", "first_name", "initials"), [("<x>", "", "<"), ("andrew", "&rew", "&"), ('"q', "", '"')]
)
def test_initials_avatar_escapes_what_people_typed(client, alice, username, first_name, initials):
    person = make_person(username, first_name)
    client.force_login(alice)

    response = client.get(reverse("accounts:initials", args=[person.pk]))

    # Well-formed XML whose text is exactly the initial: nothing leaked into the markup.
    svg = ET.fromstring(response.content)  # noqa: S314 (our own response, not untrusted input)
    assert svg.find("{http://www.w3.org/2000/svg}text").text == initials
    assert len(svg) == 2


def test_a_deactivated_person_keeps_an_initials_picture(client, alice, bob):
    # Their old messages still show a picture beside the name, never a broken image.
    User.objects.filter(pk=bob.pk).update(is_active=False)
    client.force_login(alice)

    response = client.get(reverse("accounts:initials", args=[bob.pk]))

    assert response.status_code == 200
    assert b">BB</text>" in response.content


def test_initials_avatar_of_an_unknown_person_is_404(client, alice):
    client.force_login(alice)
    assert client.get(reverse("accounts:initials", args=[999_999])).status_code == 404


def test_nobody_signed_out_can_walk_the_ids_for_initials(client, alice):
    response = client.get(reverse("accounts:initials", args=[alice.pk]))

    assert response.status_code == 404
    assert not response["Content-Type"].startswith("image/svg+xml") and b"<svg" not in response.content


def test_a_script_with_a_token_gets_the_avatar_url_it_was_given(client, alice, bob):
    from flowchat.testing import token_for

    key = token_for(bob)
    response = client.get(alice.avatar_url, headers={"Authorization": f"Token {key}"})

    assert response.status_code == 200
    assert set(response["Cache-Control"].split(", ")) == {"private", "max-age=3600"}


# Stored avatar files -------------------------------------------------------------------------


def test_avatar_file_is_served_with_nosniff(client, alice, bob):
    alice.avatar.save("x.webp", ContentFile(b"RIFF\x00\x00\x00\x00WEBPVP8 "), save=True)
    client.force_login(bob)

    response = client.get(alice.avatar.url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/webp"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content).startswith(b"RIFF")


def test_a_stored_avatar_is_for_people_signed_in(client, alice):
    alice.avatar.save("x.webp", ContentFile(b"RIFF\x00\x00\x00\x00WEBPVP8 "), save=True)

    assert client.get(alice.avatar.url).status_code == 404
    client.force_login(alice)
    response = client.get(alice.avatar.url)
    assert response.status_code == 200
    assert "private" in response["Cache-Control"].split(", ")


@pytest.mark.parametrize(
    "path",
    [
        "/media/avatars/missing.webp",
        "/media/avatars/..",
        "/media/avatars/..%2Fsecret.txt",
        "/media/avatars/%2e%2e%2fsecret.txt",
        "/media/avatars/.hidden",
        "/media/secret.txt",
    ],
)
def test_avatar_file_is_404_for_missing_or_escaping_names(client, alice, settings, path):
    client.force_login(alice)
    (settings.MEDIA_ROOT / "avatars").mkdir(parents=True)
    (settings.MEDIA_ROOT / "secret.txt").write_text("do not serve")
    (settings.MEDIA_ROOT / "avatars" / ".hidden").write_text("do not serve")

    assert client.get(path).status_code == 404


# allauth: sign up, log in, log out, passwords ------------------------------------------------


def test_signup_with_username_and_password_creates_the_person_and_logs_in(client, db):
    response = client.post(
        reverse("account_signup"), {"username": "dave", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 302
    assert response["Location"] == "/"
    dave = User.objects.get(username="dave")
    assert dave.email == ""
    assert client.session["_auth_user_id"] == str(dave.pk)
    assert "Welcome, <bdi>dave</bdi>" in client.get("/").content.decode()


def test_signup_with_a_username_differing_only_in_case_is_refused(client, alice):
    response = client.post(
        reverse("account_signup"), {"username": "ALICE", "password1": PASSWORD, "password2": PASSWORD}
    )

    assert response.status_code == 200
    assert "A user with that username already exists." in response.content.decode()
    assert User.objects.filter(username__iexact="alice").count() == 1
    assert not is_logged_in(client)


def test_login_with_username(client, alice):
    response = client.post(LOGIN_URL, {"login": "alice", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"
    assert client.session["_auth_user_id"] == str(alice.pk)


def test_login_with_a_wrong_password_is_refused(client, alice):
    response = client.post(LOGIN_URL, {"login": "alice", "password": "wrong"})

    assert response.status_code == 200
    assert "username and/or password you specified are not correct" in response.content.decode()
    assert not is_logged_in(client)


def test_logout_needs_a_post(client, alice):
    client.force_login(alice)

    confirm = client.get(reverse("account_logout"))
    assert confirm.status_code == 200
    assert is_logged_in(client)

    response = client.post(reverse("account_logout"))
    assert response.status_code == 302
    assert response["Location"] == LOGIN_URL
    assert not is_logged_in(client)


def test_password_change(client, alice):
    client.force_login(alice)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": PASSWORD, "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)
    assert is_logged_in(client)


def test_password_change_needs_the_old_password(client, alice):
    client.force_login(alice)

    response = client.post(
        reverse("account_change_password"),
        {"oldpassword": "wrong", "password1": NEW_PASSWORD, "password2": NEW_PASSWORD},
    )

    assert response.status_code == 200
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)


def test_password_reset_mails_a_link_that_sets_a_new_password(client, alice):
    alice.email = "alice@example.com"
    alice.save()

    response = client.post(reverse("account_reset_password"), {"email": "alice@example.com"})

    assert response.status_code == 302
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == ["alice@example.com"]
    link = re.search(r"http://testserver(/accounts/password/reset/key/\S+/)", message.body).group(1)
    form_url = client.get(link)["Location"]
    response = client.post(form_url, {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert response.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(NEW_PASSWORD)


def test_password_reset_for_an_unknown_address_sends_nothing_about_anyone(client, alice):
    alice.email = "alice@example.com"
    alice.save()

    client.post(reverse("account_reset_password"), {"email": "mallory@example.com"})

    assert all("alice" not in message.body for message in mail.outbox)


# Content Security Policy and inline code ------------------------------------------------------


class InlineCodeFinder(HTMLParser):
    """Collects everything a strict CSP would block: inline scripts, styles and handlers."""

    def __init__(self):
        super().__init__()
        self.problems = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        # A JSON data block (allauth's email page has one) is never executed, so a
        # strict CSP has nothing to block there; any other script needs a src.
        is_data_block = attributes.get("type") == "application/json"
        if tag == "script" and not attributes.get("src") and not is_data_block:
            self.problems.append(f"inline <script> at line {self.getpos()[0]}")
        if tag == "style":
            self.problems.append(f"<style> element at line {self.getpos()[0]}")
        for name, value in attrs:
            if name == "style":
                self.problems.append(f'style="{value}" on <{tag}> at line {self.getpos()[0]}')
            if name.startswith("on"):
                self.problems.append(f"{name} handler on <{tag}> at line {self.getpos()[0]}")
            if (value or "").strip().lower().startswith("javascript:"):
                self.problems.append(f"javascript: URL on <{tag}> at line {self.getpos()[0]}")


ANONYMOUS_PAGES = ["account_login", "account_signup", "account_reset_password", "account_reset_password_done"]
LOGGED_IN_PAGES = ["home", "accounts:settings", "account_change_password", "account_logout", "account_email"]


@pytest.fixture
def pages(client, alice):
    def render(name, logged_in):
        if logged_in:
            client.force_login(alice)
        return client.get(reverse(name))

    return render


@pytest.mark.parametrize(
    ("name", "logged_in"), [(n, False) for n in ANONYMOUS_PAGES] + [(n, True) for n in LOGGED_IN_PAGES]
)
def test_every_page_has_a_strict_csp_and_no_inline_code(pages, name, logged_in):
    response = pages(name, logged_in)

    assert response.status_code == 200
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "style-src 'self'" in policy
    assert "'unsafe-inline'" not in policy
    assert "'unsafe-eval'" not in policy
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    assert finder.problems == []


def test_profile_page_has_a_strict_csp_and_no_inline_code(client, alice, bob):
    alice.bio = "<script>alert(1)</script>"
    alice.save()
    client.force_login(bob)

    response = client.get(alice.get_absolute_url())

    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    assert finder.problems == []


def test_refused_settings_form_has_no_inline_code(client, alice):
    client.force_login(alice)

    response = client.post(SETTINGS_URL, {"bio": "x" * 501})

    finder = InlineCodeFinder()
    finder.feed(response.content.decode())
    assert finder.problems == []


def test_the_finder_catches_inline_code():
    # The scan above must be able to fail.
    finder = InlineCodeFinder()
    finder.feed(
        '<script>x()</script><script type="module">m()</script><p style="color:red" onclick="y()">hi</p>'
        '<a href="javascript:z()">z</a><script type="application/json">{"data": 1}</script>'
    )
    assert len(finder.problems) == 5
