"""The pages reached from the account menu lead back to the chats, in English and Russian."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse


@pytest.mark.parametrize(("language", "words"), [("en", "Back to chats"), ("ru", "К чатам")])
@pytest.mark.parametrize("page", ["settings", "my profile", "someone's profile"])
def test_settings_and_profiles_have_a_visible_link_back_to_the_chats(client, alice, bob, language, words, page):
    alice.language = language
    alice.save()
    client.force_login(alice)
    url = {
        "settings": reverse("accounts:settings"),
        "my profile": alice.get_absolute_url(),
        "someone's profile": bob.get_absolute_url(),
    }[page]

    html = client.get(url).content.decode()

    main = re.search(r"<main\b.*?</main>", html, re.DOTALL).group(0)
    link = re.search(r'<p class="back-link"><a href="(?P<href>[^"]+)">(?P<inside>.*?)</a></p>', main, re.DOTALL)
    assert link, main
    assert link["href"] == reverse("home")
    # Words on the screen, not only an icon with a hidden label.
    assert re.sub(r"<svg.*?</svg>", "", link["inside"], flags=re.DOTALL).strip() == words
