"""The README's screenshots, taken from the real app with the demo data `manage.py seed_demo` makes.

Not a test of behaviour but a document generator: skipped unless FLOWCHAT_SCREENSHOTS=1, which
`bin/screenshots` sets. Each run seeds the demo cast into the test database, logs in as alice
and saves docs/screenshots/<screen>-<desktop|phone>-<light|dark>.png. The pages are still
checked like every browser test (console errors, CSP, axe-core), so a broken screen fails
instead of ending up in the README.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import Browser, expect

from accounts.models import User
from conversations.management.commands.seed_demo import Demo, seed

from .conftest import TAB_OPTIONS, Server, Tab, outside_the_browser_loop

pytestmark = [
    pytest.mark.browser,
    pytest.mark.screenshots,
    pytest.mark.skipif(
        os.getenv("FLOWCHAT_SCREENSHOTS") != "1",
        reason="generates docs/screenshots for the README; run bin/screenshots (FLOWCHAT_SCREENSHOTS=1)",
    ),
]

DOCS = Path(settings.BASE_DIR) / "docs" / "screenshots"
# At 1× so the PNGs stay small enough for a repository; the harness's phone is 2×.
SCALE = 1

# Every image on screen has loaded (images further down are lazy and never load).
IMAGES_ON_SCREEN_LOADED = """() => [...document.images]
  .filter((img) => {
    const box = img.getBoundingClientRect();
    return box.width > 0 && box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth;
  })
  .every((img) => img.complete && img.naturalWidth > 0)"""


@pytest.fixture
def screen(request, browser: Browser, server: Server, django_db_reset_sequences) -> Iterator[Tab]:
    """A desktop or phone tab in the parametrized theme, at 1× pixels, reported like the harness's tabs.

    Ids start from 1 every time, so everyone's initials avatar has the same colour in every picture.
    """
    kind, theme = request.param
    options = {**TAB_OPTIONS[kind], "device_scale_factor": SCALE, "color_scheme": theme}
    context = browser.new_context(base_url=server.url, locale="en-US", **options)
    context.set_default_timeout(10_000)
    tab = Tab(kind, context, server.url)
    tab.theme = theme
    request.node.browser_tabs = [tab]
    request.node.server_log = (server, server.log_size())
    yield tab
    tab.close()


def take(tab: Tab, name: str, path: str, shows: str) -> Path:
    """Open `path`, wait until `shows` is visible and the page has settled, and save it in docs/screenshots."""
    page = tab.page
    tab.goto(path)
    expect(page.locator("html")).to_have_attribute("data-theme", tab.theme)
    expect(page.locator(shows).first).to_be_visible()
    page.wait_for_load_state("networkidle")
    page.wait_for_function(IMAGES_ON_SCREEN_LOADED)
    page.evaluate("document.fonts.ready.then(() => true)")
    if tab.kind == "phone":
        tab.assert_fits_the_screen()
    DOCS.mkdir(parents=True, exist_ok=True)
    target = DOCS / f"{name}-{tab.kind}-{tab.theme}.png"
    page.screenshot(path=target, animations="disabled", caret="hide")
    return target


@pytest.mark.parametrize(
    "screen",
    [(kind, theme) for kind in ("desktop", "phone") for theme in ("light", "dark")],
    ids=lambda value: "-".join(value),
    indirect=True,
)
def test_the_readme_screenshots(screen, settings, server):
    settings.MEDIA_ROOT = server.media_root  # the seeded pictures are served by the server
    demo: Demo = outside_the_browser_loop(seed)
    alice = demo.people["alice"]
    User.objects.filter(pk=alice.pk).update(theme=screen.theme)
    screen.log_in(alice)
    with_bob, climbing = demo.direct["bob"], demo.groups["Climbing"]

    if screen.kind == "phone":
        # On a phone the chat list is a screen of its own; on a desktop it is beside every chat.
        take(screen, "chats", "/", shows="#chats .badge")
    take(screen, "chat", with_bob.get_absolute_url(), shows="#messages .picture img")
    take(screen, "group", climbing.get_absolute_url(), shows="#messages .picture img")
    take(screen, "group-settings", f"/chats/{climbing.pk}/settings/", shows="#main")
    take(screen, "people", "/people/?q=ar", shows=".people-list .person")
    take(screen, "profile", demo.people["carol"].get_absolute_url(), shows=".profile .bio")
