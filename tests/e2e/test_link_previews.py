"""Link previews in a real browser: fetched by the server from a local site, pushed live to the
other tab, its picture served by FlowChat, and removed by its author (with JavaScript and without)."""

from __future__ import annotations

import contextlib
import http.server
import threading
import time
from collections.abc import Iterator

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from flowchat.testing import picture

from .conftest import Server, Tab, start_server, stop_server, wait_for_server_connections_to_close
from .test_chat import direct_chat
from .test_live import open_chat, send

pytestmark = pytest.mark.browser

PAGE = (
    b"<!doctype html><html><head>"
    b'<meta property="og:site_name" content="Climbing Club">'
    b'<meta property="og:title" content="Rope at nine">'
    b'<meta property="og:description" content="Where we meet, and when.">'
    b'<meta property="og:image" content="/image.png">'
    b"</head><body>Hello</body></html>"
)


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    """The site a message links to: a page and its picture, on loopback."""
    image = picture("PNG", (120, 60)).getvalue()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            routes = {"/page": (PAGE, "text/html; charset=utf-8"), "/image.png": (image, "image/png")}
            body, kind = routes.get(self.path, (b"no", "text/plain"))
            self.send_response(200 if self.path in routes else 404)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    local = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    local.daemon_threads = True
    threading.Thread(target=local.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{local.server_address[1]}"
    local.shutdown()
    local.server_close()


@pytest.fixture(scope="module")
def server(django_db_setup, django_db_blocker, tmp_path_factory, site) -> Iterator[Server]:
    """FlowChat with previews on, allowed to reach the local site (and nothing else inside)."""
    running = start_server(
        tmp_path_factory.mktemp("link-previews"), LINK_PREVIEWS="true", LINK_PREVIEW_TEST_ORIGINS=site
    )
    try:
        yield running
    finally:
        stop_server(running)
        wait_for_server_connections_to_close(django_db_blocker)


def test_a_preview_arrives_live_with_flowchats_copy_of_the_picture_and_its_author_removes_it(
    open_tab, alice, bob, site
):
    chat = direct_chat(alice, bob)
    alices, bobs = open_tab("desktop"), open_tab("desktop")
    alices.log_in(alice)
    bobs.log_in(bob)
    open_chat(alices, chat)
    open_chat(bobs, chat)

    send(alices, f"Tonight: {site}/page")

    preview = bobs.page.locator(".link-preview")
    expect(preview.locator(".link-preview-title")).to_have_text("Rope at nine")
    expect(preview.locator(".link-preview-site")).to_have_text("Climbing Club")
    expect(preview.locator("a.link-preview-link")).to_have_attribute("rel", "nofollow noopener noreferrer")
    image = preview.locator("img.link-preview-image")
    src = image.get_attribute("src")
    assert src.startswith("/media/pictures/") and src.endswith(".webp")
    bobs.page.wait_for_function("img => img.complete && img.naturalWidth === 120", arg=image.element_handle())
    expect(preview.get_by_role("button", name="Remove preview")).to_be_hidden()  # not his message
    bobs.audit()

    mine = alices.page.locator(".link-preview")
    expect(mine.locator(".link-preview-title")).to_have_text("Rope at nine")
    mine.get_by_role("button", name="Remove preview").click()

    expect(alices.page.locator(".link-preview")).to_have_count(0)
    expect(bobs.page.locator(".link-preview")).to_have_count(0)  # live, for the other tab too
    alices.audit()


def reload_until(tab: Tab, selector: str, path: str, seconds: float = 10) -> None:
    """Without JavaScript nothing is pushed: the page shows the preview once it is there."""
    deadline = time.monotonic() + seconds
    while tab.page.locator(selector).count() == 0:
        assert time.monotonic() < deadline, f"{selector} never appeared"
        time.sleep(0.2)
        tab.goto(path)


def test_without_javascript_the_author_removes_the_preview_with_a_form(open_tab, alice, bob, site):
    chat = direct_chat(alice, bob)
    tab = open_tab("no_js")
    tab.log_in(alice)
    path = reverse("chat", args=[chat.pk])
    tab.goto(path)
    tab.page.locator("#composer-text").fill(f"{site}/page")
    tab.submit(tab.page.locator("#composer button[type=submit]").last)

    reload_until(tab, ".link-preview", path)
    expect(tab.page.locator(".link-preview-title")).to_have_text("Rope at nine")
    tab.submit(tab.page.get_by_role("button", name="Remove preview"))

    expect(tab.page.locator(".link-preview")).to_have_count(0)
    expect(tab.page.locator(".message-text a")).to_have_text(f"{site}/page")  # the link itself stays
