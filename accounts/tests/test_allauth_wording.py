"""allauth's pages in FlowChat's words, in English and Russian: one verb for logging in
("Log in" / "Войти"), labels without stray colons, no "signed in" flash, nobody to "contact".

The templates are in templates/account/, the labels in accounts/allauth_forms.py.
"""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.conf import settings
from django.core import mail
from django.urls import reverse

from accounts.models import User
from conftest import PASSWORD

LOGIN_URL = reverse("account_login")
SIGNUP_URL = reverse("account_signup")

VISITOR_PAGES = ["account_login", "account_signup", "account_reset_password", "account_reset_password_done"]
PERSON_PAGES = ["account_logout", "account_change_password", "account_set_password"]

# allauth's own words for what FlowChat calls logging in and out, and its capitalised titles.
OTHER_VERBS = re.compile(r"(?i:\bsign(ed)?[ -]?(in|out)\b|\bsignup\b)|Sign Up|Remember Me|Change Password")
# Russian: the noun "Вход" beside the verb "Войти", and allauth's "Успешный вход".
OTHER_RUSSIAN = re.compile(r"Вход\b|Успешный вход|Запомнить меня:")
CONTACT_US = re.compile(r"contact us|свяжитесь с нами", re.IGNORECASE)


def speak(client, language: str) -> None:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


def main_text(response) -> str:
    """What the page says in <main> (the header has its own, tested elsewhere), tags stripped."""
    html = response.content.decode()
    main = re.search(r"<main\b.*?</main>", html, re.DOTALL).group(0)
    return unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main)))


def page(client, name: str):
    response = client.get(reverse(name))
    assert response.status_code == 200, name
    return response


@pytest.mark.parametrize("name", VISITOR_PAGES)
def test_visitor_pages_say_log_in_and_never_sign_in(client, db, name):
    text = main_text(page(client, name))

    assert not OTHER_VERBS.search(text), text
    assert not CONTACT_US.search(text), text


@pytest.mark.parametrize("name", PERSON_PAGES)
def test_pages_of_a_person_say_log_out_and_never_sign_out(client, alice, name):
    client.force_login(alice)
    if name == "account_set_password":
        alice.set_unusable_password()
        alice.save()
        client.force_login(alice)

    text = main_text(page(client, name))

    assert not OTHER_VERBS.search(text), text


@pytest.mark.parametrize("name", VISITOR_PAGES)
def test_in_russian_the_visitor_pages_say_voiti_and_name_nobody_to_contact(client, db, name):
    speak(client, "ru")

    text = main_text(page(client, name))

    assert not OTHER_RUSSIAN.search(text), text
    assert not CONTACT_US.search(text), text
    # Nothing left in English: these are all FlowChat's or allauth's translated words.
    assert not re.search(r"\b(the|your|and|password|email)\b", text, re.IGNORECASE), text


@pytest.mark.parametrize(
    ("language", "heading", "button", "to_signup"),
    [("en", "Log in", "Log in", "Sign up"), ("ru", "Войти", "Войти", "Зарегистрируйтесь")],
)
def test_the_login_page_has_one_verb_for_its_heading_and_button(client, db, language, heading, button, to_signup):
    speak(client, language)
    html = page(client, "account_login").content.decode()

    assert re.search(rf"<h1>\s*{heading}\s*</h1>", html)
    assert re.search(rf'<button type="submit">\s*{button}\s*</button>', html)
    assert re.search(rf'<a href="{SIGNUP_URL}">{to_signup}</a>', html)


@pytest.mark.parametrize(
    ("language", "login_label", "remember"),
    [("en", "Username or email:", "Remember me"), ("ru", "Имя пользователя или эл. почта:", "Запомнить меня")],
)
def test_the_login_fields_say_what_to_type_and_remember_me_is_a_checkbox_without_a_colon(
    client, db, language, login_label, remember
):
    speak(client, language)
    html = page(client, "account_login").content.decode()

    assert f'<label for="id_login">{login_label}</label>' in html
    assert f'<label for="id_remember">{remember}</label>' in html
    assert '<input type="checkbox" name="remember" id="id_remember">' in html


@pytest.mark.parametrize(
    ("language", "heading", "button", "to_login"),
    [("en", "Sign up", "Sign up", "Log in"), ("ru", "Регистрация", "Зарегистрироваться", "Войдите")],
)
def test_the_signup_page_links_to_logging_in_with_the_same_verb(client, db, language, heading, button, to_login):
    speak(client, language)
    html = page(client, "account_signup").content.decode()

    assert re.search(rf"<h1>\s*{heading}\s*</h1>", html)
    assert re.search(rf'<button type="submit">\s*{button}\s*</button>', html)
    assert re.search(rf'<a href="{LOGIN_URL}">{to_login}</a>', html)


@pytest.mark.parametrize("language", ["en", "ru"])
def test_signing_up_greets_by_name_without_a_signed_in_flash(client, db, language):
    speak(client, language)

    response = client.post(SIGNUP_URL, {"username": "dave", "password1": PASSWORD, "password2": PASSWORD}, follow=True)

    html = response.content.decode()
    assert response.redirect_chain[-1][0] == "/"
    assert 'class="notice notice' not in html
    assert "<bdi>dave</bdi>" in html  # "Welcome, dave" / "Добро пожаловать, dave"
    assert User.objects.filter(username="dave").exists()


@pytest.mark.parametrize("language", ["en", "ru"])
def test_logging_in_shows_no_flash_either(client, alice, language):
    speak(client, language)

    response = client.post(LOGIN_URL, {"login": "alice", "password": PASSWORD}, follow=True)

    assert response.redirect_chain[-1][0] == "/"
    assert 'class="notice notice' not in response.content.decode()


@pytest.mark.parametrize(("language", "notice"), [("en", "You have logged out."), ("ru", "Вы вышли из FlowChat.")])
def test_logging_out_says_you_logged_out(client, alice, language, notice):
    alice.language = language
    alice.save()
    speak(client, language)
    client.force_login(alice)

    response = client.post(reverse("account_logout"), follow=True)

    assert f'<p class="notice notice-success">{notice}</p>' in response.content.decode()


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("en", "ask whoever runs this FlowChat to set a new password"),
        ("ru", "попросите того, кто обслуживает этот FlowChat, задать вам новый пароль"),
    ],
)
def test_password_reset_says_what_to_do_without_an_email_instead_of_contact_us(client, db, language, words):
    speak(client, language)

    for name in ["account_reset_password", "account_reset_password_done"]:
        text = main_text(page(client, name))
        assert words in text
        assert not CONTACT_US.search(text)


@pytest.mark.parametrize(("language", "heading"), [("en", "This link does not work"), ("ru", "Ссылка не работает")])
def test_a_used_or_broken_reset_link_says_so_and_offers_a_new_one(client, alice, language, heading):
    speak(client, language)

    response = client.get(reverse("account_reset_password_from_key", kwargs={"uidb36": "zz", "key": "set-password"}))

    html = response.content.decode()
    assert re.search(rf"<h1>\s*{heading}\s*</h1>", html)
    assert f'href="{reverse("account_reset_password")}"' in html


@pytest.mark.parametrize(
    ("language", "labels"),
    [
        ("en", ["Current password:", "New password:", "New password (again):"]),
        ("ru", ["Текущий пароль:", "Новый пароль:", "Новый пароль (ещё раз):"]),
    ],
)
def test_the_password_change_page_is_in_sentence_case_like_the_menu(client, alice, language, labels):
    alice.language = language
    alice.save()
    client.force_login(alice)

    html = page(client, "account_change_password").content.decode()

    for label in labels:
        assert f"{label}</label>" in html
    menu_item = "Change password" if language == "en" else "Сменить пароль"
    assert re.search(rf"<h1>\s*{menu_item}\s*</h1>", html)


@pytest.mark.parametrize(
    ("language", "subject", "words"),
    [
        ("en", "Choose a new FlowChat password", "Your username is alice."),
        ("ru", "Новый пароль для FlowChat", "Ваше имя пользователя: alice."),
    ],
)
def test_the_reset_email_speaks_flowchats_words_in_the_visitors_language(client, alice, language, subject, words):
    alice.email = "alice@example.com"
    alice.save()
    speak(client, language)

    client.post(reverse("account_reset_password"), {"email": "alice@example.com"})

    (message,) = mail.outbox
    assert message.subject.endswith(subject)
    assert words in message.body
    assert "/accounts/password/reset/key/" in message.body
    assert "Hello from" not in message.body and "Thank you for using" not in message.body


@pytest.mark.parametrize(
    ("language", "subject"),
    [("en", "No FlowChat account has this address"), ("ru", "Нет аккаунта FlowChat с этим адресом")],
)
def test_a_reset_for_an_unknown_address_says_so_and_links_to_signing_up(client, alice, language, subject):
    speak(client, language)

    client.post(reverse("account_reset_password"), {"email": "mallory@example.com"})

    (message,) = mail.outbox
    assert message.to == ["mallory@example.com"]
    assert message.subject.endswith(subject)
    assert f"http://testserver{SIGNUP_URL}" in message.body
    assert "alice" not in message.body
