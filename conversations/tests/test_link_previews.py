"""Link previews: the guarded fetcher, the job, the pages, the API, removal, the setting, the live push.

Everything fetched comes from a local http.server (threads) on loopback, reachable only because
each test names its origin in LINK_PREVIEW_TEST_ORIGINS; without that the guard refuses it as it
refuses every inside address. Nothing here reaches the network.
"""

from __future__ import annotations

import contextlib
import http.server
import io
import logging
import socket
import threading
import time
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from unittest import mock

import pytest
from asgiref.sync import sync_to_async
from django.core.files.storage import default_storage
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from PIL import Image

from conversations import actions, broadcast, previews
from conversations.models import LinkPreview, Message
from conversations.tests.test_consumers import _clean_slate, events, open_tab, pushed, script  # noqa: F401
from flowchat import link_fetch
from flowchat.testing import auth, check_event, picture
from tests.security.corpus import CORPUS, MARKUP

HTMX = {"HTTP_HX_REQUEST": "true"}
REL = 'rel="nofollow noopener noreferrer"'


# The local server --------------------------------------------------------------------------------


def png(size: tuple[int, int] = (60, 30)) -> bytes:
    return picture("PNG", size).getvalue()


def page(title: str = "Rope at nine", image: str = "/image.png", extra: str = "") -> bytes:
    return (
        "<!doctype html><html><head>"
        f'<meta property="og:site_name" content="Climbing Club">'
        f'<meta property="og:title" content="{title}">'
        '<meta property="og:description" content="Where we meet, and when.">'
        f'<meta property="og:image" content="{image}">{extra}'
        "<title>ignored</title></head><body>Hello</body></html>"
    ).encode()


@dataclass
class Site:
    """The local server: its routes ({path: (status, headers, body)}) and what was asked of it."""

    port: int = 0
    routes: dict[str, tuple[int, dict[str, str], bytes]] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)  # (path, Host header)

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.origin + path

    def html(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.routes[path] = (200, {"Content-Type": content_type}, body)

    def redirect(self, path: str, to: str, status: int = 302) -> None:
        self.routes[path] = (status, {"Location": to}, b"")

    def asked(self, path: str) -> int:
        return sum(1 for asked, _host in self.requests if asked == path)


def _handler(site: Site) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            site.requests.append((self.path, self.headers.get("Host", "")))
            if self.path == "/slow":
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.end_headers()
                try:
                    for _ in range(200):  # a byte every 50 ms: ten seconds, past any deadline
                        self.wfile.write(b" ")
                        self.wfile.flush()
                        time.sleep(0.05)
                except OSError:
                    pass
                return
            status, headers, body = site.routes.get(self.path, (404, {"Content-Type": "text/plain"}, b"no"))
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            with contextlib.suppress(OSError):  # the fetcher stopped reading at its cap
                self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def site() -> Iterator[Site]:
    site = Site()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    server.daemon_threads = True
    site.port = server.server_address[1]
    site.html("/page", page())
    site.routes["/image.png"] = (200, {"Content-Type": "image/png"}, png())
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield site
    server.shutdown()
    server.server_close()


@pytest.fixture
def allowed(settings, site) -> Site:
    """The local server's origin on the test-only allow-list."""
    settings.LINK_PREVIEW_TEST_ORIGINS = [site.origin]
    return site


@pytest.fixture
def on(settings, allowed) -> Site:
    """Previews on, fetched in the committing thread (the tests' LINK_PREVIEW_SYNC)."""
    settings.LINK_PREVIEWS = True
    settings.LINK_PREVIEW_SYNC = True
    return allowed


@pytest.fixture
def committing(django_capture_on_commit_callbacks):
    """Run what an action schedules on commit (its broadcasts and the preview job), as a real commit does."""

    def run(call, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return call(*args, **kwargs)

    return run


def as_person(client, user):
    client.force_login(user)
    return client


def fetch_page(url: str) -> link_fetch.Fetched:
    return link_fetch.fetch(url, accept=link_fetch.is_html, max_bytes=link_fetch.PAGE_MAX_BYTES, truncate=True)


# The guard -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/",
        "http://127.0.0.1:80/admin",
        "https://10.1.2.3/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://localhost/",
        "http://192.168.0.1/router",
    ],
)
def test_the_guard_refuses_inside_addresses_without_connecting(url, settings):
    settings.LINK_PREVIEW_TEST_ORIGINS = []
    with mock.patch("socket.create_connection") as connect, pytest.raises(link_fetch.FetchRefused):
        fetch_page(url)
    connect.assert_not_called()


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com:8080/",
        "https://example.com:8443/",
        "http://example.com:22/",
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "http://user:secret@example.com/",
        "javascript:alert(1)",
    ],
)
def test_the_guard_refuses_other_schemes_and_ports_before_any_lookup(url, settings):
    settings.LINK_PREVIEW_TEST_ORIGINS = []
    with mock.patch("socket.getaddrinfo") as lookup, pytest.raises(link_fetch.FetchRefused):
        fetch_page(url)
    lookup.assert_not_called()


def test_the_local_server_is_refused_without_the_allow_list(site, settings):
    settings.LINK_PREVIEW_TEST_ORIGINS = []
    with pytest.raises(link_fetch.FetchRefused):
        fetch_page(site.url("/page"))  # loopback, and not port 80/443
    assert site.requests == []


def test_a_name_that_resolves_to_an_inside_address_is_refused(site, settings):
    settings.LINK_PREVIEW_TEST_ORIGINS = []
    inside = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 80))]
    with (
        mock.patch("socket.getaddrinfo", return_value=inside),
        mock.patch("socket.create_connection") as connect,
        pytest.raises(link_fetch.FetchRefused),
    ):
        fetch_page("http://intranet.example/")
    connect.assert_not_called()


def test_the_fetch_connects_to_the_checked_address_with_the_name_in_host(site, settings):
    """Pinned: one lookup, the connection to the address it checked, the name only in the Host header."""
    settings.LINK_PREVIEW_TEST_ORIGINS = []
    public = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", 80))]
    dialled = []

    def connect(address, timeout, *args):
        dialled.append(address)
        # The local server stands in for the public one (no lookup: getaddrinfo is the mock's).
        stand_in = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        stand_in.settimeout(timeout)
        stand_in.connect(("127.0.0.1", site.port))
        return stand_in

    with (
        mock.patch("socket.getaddrinfo", return_value=public) as lookup,
        mock.patch("socket.create_connection", side_effect=connect),
    ):
        fetched = fetch_page("http://news.example/page")

    assert dialled == [("93.184.215.14", 80)]
    assert lookup.call_count == 1
    assert site.requests == [("/page", "news.example")]
    assert b"Rope at nine" in fetched.body


def test_a_redirect_to_loopback_is_refused_without_the_allow_list(allowed):
    allowed.redirect("/away", f"http://localhost:{allowed.port}/page")
    allowed.redirect("/metadata", "http://169.254.169.254/latest/meta-data/")

    for path in ("/away", "/metadata"):
        with pytest.raises(link_fetch.FetchRefused):
            fetch_page(allowed.url(path))

    assert allowed.asked("/page") == 0


def test_at_most_three_redirects_each_checked(allowed):
    for n in range(1, 5):
        allowed.redirect(f"/hop{n}", f"/hop{n - 1}" if n > 1 else "/page", status=301 if n % 2 else 307)

    assert b"Rope at nine" in fetch_page(allowed.url("/hop3")).body
    with pytest.raises(link_fetch.FetchRefused, match="redirects"):
        fetch_page(allowed.url("/hop4"))


def test_a_huge_page_is_read_up_to_the_cap_only(allowed):
    allowed.html("/huge", page() + b"x" * (3 * link_fetch.PAGE_MAX_BYTES))

    fetched = fetch_page(allowed.url("/huge"))

    assert fetched.truncated
    assert len(fetched.body) == link_fetch.PAGE_MAX_BYTES
    assert previews.fetch_preview(allowed.url("/huge")).title == "Rope at nine"


def test_a_picture_past_its_cap_is_refused(allowed, monkeypatch):
    monkeypatch.setattr(link_fetch, "IMAGE_MAX_BYTES", 1000)
    allowed.routes["/big.png"] = (200, {"Content-Type": "image/png"}, png((400, 400)) + b"\0" * 2000)

    with pytest.raises(link_fetch.FetchRefused, match="too large"):
        link_fetch.fetch(allowed.url("/big.png"), accept=link_fetch.is_image, max_bytes=link_fetch.IMAGE_MAX_BYTES)


def test_only_html_is_read_as_a_page(allowed):
    allowed.html("/notes.txt", b"<title>not a page</title>", content_type="text/plain")
    allowed.html("/data.json", b'{"title": "x"}', content_type="application/json")

    for path in ("/notes.txt", "/data.json", "/image.png"):
        with pytest.raises(link_fetch.FetchRefused, match="not the kind"):
            fetch_page(allowed.url(path))
        assert previews.fetch_preview(allowed.url(path)) is None


def test_a_server_that_dribbles_is_cut_at_the_deadline(allowed, monkeypatch):
    monkeypatch.setattr(link_fetch, "TOTAL_TIMEOUT", 0.5)
    started = time.monotonic()

    with pytest.raises(link_fetch.FetchRefused):
        fetch_page(allowed.url("/slow"))

    assert time.monotonic() - started < 2


def test_a_page_is_read_in_the_charset_it_declares(allowed):
    title = "Верёвка в девять".encode("cp1251")
    allowed.html("/header", b"<title>" + title + b"</title>", content_type="text/html; charset=windows-1251")
    allowed.html("/meta", b'<meta charset="windows-1251"><title>' + title + b"</title>", content_type="text/html")
    allowed.html("/unknown", b"<title>caf\xc3\xa9</title>", content_type="text/html; charset=no-such-codec")

    assert previews.fetch_preview(allowed.url("/header")).title == "Верёвка в девять"
    assert previews.fetch_preview(allowed.url("/meta")).title == "Верёвка в девять"
    assert previews.fetch_preview(allowed.url("/unknown")).title == "café"


def test_an_error_status_is_no_preview(allowed):
    assert previews.fetch_preview(allowed.url("/missing")) is None


# The first link ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "link"),
    [
        ("see https://example.com/a?b=1.", "https://example.com/a?b=1"),
        ("(https://example.com/x), then http://other.example/", "https://example.com/x"),
        ("https://en.wikipedia.org/wiki/Rope_(film)!", "https://en.wikipedia.org/wiki/Rope_(film)"),
        ("no link here, example.com is not one", None),
        ("ftp://example.com/ only", None),
        ("HTTP://EXAMPLE.COM/", "HTTP://EXAMPLE.COM/"),
        ("http:// nothing", None),
    ],
)
def test_the_first_http_link_of_a_text(text, link):
    assert previews.first_link(text) == link


# The job, the message and its page ---------------------------------------------------------------------


def test_a_sent_link_gets_its_preview_with_a_re_encoded_picture_served_by_flowchat(
    on, alice, bob, carol, chat, client, committing
):
    message, _ = committing(actions.send_message, chat, alice, f"Tonight: {on.url('/page')}")

    preview = LinkPreview.objects.get(message=message)
    assert (preview.url, preview.site_name, preview.title) == (on.url("/page"), "Climbing Club", "Rope at nine")
    assert preview.description == "Where we meet, and when."
    assert preview.image.name.startswith("pictures/") and preview.image.name.endswith(".webp")
    with default_storage.open(preview.image.name) as stored, Image.open(stored) as image:
        assert image.format == "WEBP"
        assert image.size == (60, 30)
    assert on.asked("/page") == on.asked("/image.png") == 1

    page_html = as_person(client, bob).get(reverse("chat", args=[chat.pk])).content.decode()
    assert f'href="{on.url("/page")}" {REL} target="_blank"' in page_html
    assert preview.image.url in page_html
    assert f"{on.origin}/image.png" not in page_html  # never hot-linked
    picture = client.get(preview.image.url)
    assert picture.status_code == 200 and picture["Content-Type"] == "image/webp"
    assert b"".join(picture.streaming_content)[8:12] == b"WEBP"
    assert as_person(client, carol).get(preview.image.url).status_code == 404


def test_the_api_message_carries_the_preview(on, alice, bob, chat, api, committing):
    message, _ = committing(actions.send_message, chat, alice, on.url("/page"))

    answer = api.get(f"/api/messages/{message.pk}/", **auth(bob)).json()

    preview = LinkPreview.objects.get(message=message)
    assert answer["link_preview"] == {
        "url": on.url("/page"),
        "site_name": "Climbing Club",
        "title": "Rope at nine",
        "description": "Where we meet, and when.",
        "image": preview.image.url,
        "fetched_at": answer["link_preview"]["fetched_at"],
    }


def test_a_message_without_a_link_fetches_nothing(on, alice, chat, committing):
    committing(actions.send_message, chat, alice, "No link, only example.com")

    assert on.requests == [] and not LinkPreview.objects.exists()


def test_a_page_without_a_title_description_or_picture_is_no_preview(on, alice, chat, committing):
    on.html("/bare", b"<html><body>nothing about itself</body></html>")

    committing(actions.send_message, chat, alice, on.url("/bare"))

    assert on.asked("/bare") == 1 and not LinkPreview.objects.exists()


def test_a_picture_that_is_not_one_leaves_a_preview_without_a_picture(on, alice, chat, committing):
    on.routes["/image.png"] = (200, {"Content-Type": "image/png"}, b"<svg onload=alert(1)>")

    message, _ = committing(actions.send_message, chat, alice, on.url("/page"))

    preview = LinkPreview.objects.get(message=message)
    assert preview.title == "Rope at nine" and not preview.image


def test_hostile_metadata_is_shown_as_text_and_its_picture_urls_are_never_used(
    on, alice, bob, chat, client, committing
):
    title = "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;alert(2)"
    on.html("/hostile", page(title=title, image="javascript:alert(3)"))
    on.html("/metadata", page(image="http://169.254.169.254/latest/meta-data/iam"))

    hostile, _ = committing(actions.send_message, chat, alice, on.url("/hostile"))
    inside, _ = committing(actions.send_message, chat, alice, on.url("/metadata"))

    assert LinkPreview.objects.get(message=hostile).title == '<script>alert(1)</script>" onmouseover="alert(2)'
    assert not LinkPreview.objects.get(message=hostile).image
    assert not LinkPreview.objects.get(message=inside).image
    html = as_person(client, bob).get(reverse("chat", args=[chat.pk])).content.decode()
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&quot; onmouseover=&quot;alert(2)" in html
    assert "<script>alert(1)" not in html and 'onmouseover="alert(2)' not in html
    assert "javascript:alert(3)" not in html and "169.254.169.254" not in html


def test_editing_to_another_first_link_replaces_the_preview(on, alice, chat, committing):
    on.html("/other", page(title="Another crag"))
    message, _ = committing(actions.send_message, chat, alice, on.url("/page"))
    old_picture = LinkPreview.objects.get(message=message).image.name

    committing(actions.edit_message, message, alice, f"Changed: {on.url('/other')}")

    assert LinkPreview.objects.get(message=message).title == "Another crag"
    assert not default_storage.exists(old_picture)
    committing(actions.edit_message, message, alice, f"Same link, other words: {on.url('/other')}")
    assert on.asked("/other") == 1  # the same first link is not fetched again


def test_a_preview_that_arrives_after_its_link_was_edited_away_is_dropped(on, alice, chat, committing):
    message, _ = actions.send_message(chat, alice, on.url("/page"))  # its job not run
    fetched = previews.fetch_preview(on.url("/page"))
    committing(actions.edit_message, message, alice, "No link any more")

    assert actions.set_link_preview(message.pk, fetched) is None
    assert not LinkPreview.objects.exists()


def test_deleting_the_message_deletes_its_preview_and_picture(on, alice, chat, committing):
    message, _ = committing(actions.send_message, chat, alice, on.url("/page"))
    name = LinkPreview.objects.get(message=message).image.name

    committing(actions.delete_message, message, alice)

    assert not LinkPreview.objects.exists() and not default_storage.exists(name)


def test_the_chat_page_and_the_api_list_cost_the_same_queries_with_more_previews(on, alice, bob, chat, api, client):
    def cost(get) -> int:
        get()  # the first visit after new messages also moves the read position
        with CaptureQueriesContext(connection) as queries:
            assert get().status_code == 200
        return len(queries)

    def add_previews(n: int) -> None:
        for _ in range(n):
            message, _ = actions.send_message(chat, alice, on.url("/page"))
            actions.set_link_preview(message.pk, previews.fetch_preview(on.url("/page")))

    as_bob = as_person(client, bob)
    headers = auth(bob)
    page_url, api_url = reverse("chat", args=[chat.pk]), f"/api/chats/{chat.pk}/get_messages/"
    add_previews(1)
    page_cost, api_cost = cost(lambda: as_bob.get(page_url)), cost(lambda: api.get(api_url, **headers))
    add_previews(4)
    assert cost(lambda: as_bob.get(page_url)) == page_cost
    assert cost(lambda: api.get(api_url, **headers)) == api_cost
    assert len(api.get(api_url, **headers).json()) == 5


def test_a_tab_that_was_offline_catches_up_on_a_preview_that_arrived_or_went(on, alice, bob, chat, client, committing):
    message, _ = actions.send_message(chat, alice, on.url("/page"))  # its job not run yet
    since = timezone.now()
    as_bob = as_person(client, bob)
    url = reverse("chat_updates", args=[chat.pk])

    def catch_up() -> str:
        return as_bob.get(url, {"after": message.pk, "since": since.isoformat()}, **HTMX).content.decode()

    assert "Rope at nine" not in catch_up()
    committing(actions.set_link_preview, message.pk, previews.fetch_preview(on.url("/page")))
    assert "Rope at nine" in catch_up()
    since = timezone.now()
    committing(actions.remove_link_preview, message, alice)
    caught_up = catch_up()
    assert f'id="message-{message.pk}"' in caught_up and "Rope at nine" not in caught_up


# Removing a preview ---------------------------------------------------------------------------------------


@pytest.fixture
def previewed(on, alice, chat, committing) -> Message:
    return committing(actions.send_message, chat, alice, on.url("/page"))[0]


def remove_url(message: Message) -> str:
    return reverse("remove_link_preview", args=[message.chat_id, message.pk])


def test_the_author_removes_the_preview_without_javascript(previewed, alice, client):
    response = as_person(client, alice).post(remove_url(previewed))

    assert response.status_code == 302 and response["Location"].endswith(f"#message-{previewed.pk}")
    preview = LinkPreview.objects.get(message=previewed)
    assert preview.removed and not preview.image
    page_html = client.get(reverse("chat", args=[previewed.chat_id])).content.decode()
    assert "Rope at nine" not in page_html and f'id="message-{previewed.pk}-link-preview"' in page_html


def test_the_author_removes_the_preview_with_htmx(previewed, alice, client, django_capture_on_commit_callbacks):
    name = LinkPreview.objects.get(message=previewed).image.name

    with django_capture_on_commit_callbacks(execute=True):
        response = as_person(client, alice).post(remove_url(previewed), **HTMX)

    assert response.status_code == 200
    html = response.content.decode()
    assert f'id="message-{previewed.pk}-link-preview"' in html and "Rope at nine" not in html
    assert not default_storage.exists(name)
    assert client.get(f"/media/{name}").status_code == 404


def test_only_the_author_may_remove_the_preview(previewed, bob, carol, client, api):
    assert as_person(client, bob).post(remove_url(previewed)).status_code == 403
    assert as_person(client, carol).post(remove_url(previewed)).status_code == 404
    assert api.delete(f"/api/messages/{previewed.pk}/link_preview/", **auth(bob)).status_code == 403
    assert api.delete(f"/api/messages/{previewed.pk}/link_preview/", **auth(carol)).status_code == 404
    assert not LinkPreview.objects.get(message=previewed).removed


def test_the_api_removes_the_preview_and_a_retry_gets_the_same_answer(previewed, alice, api, on):
    path = f"/api/messages/{previewed.pk}/link_preview/"

    assert api.delete(path, **auth(alice)).status_code == 204
    assert api.delete(path, **auth(alice)).status_code == 204

    assert api.get(f"/api/messages/{previewed.pk}/", **auth(alice)).json()["link_preview"] is None
    assert on.asked("/page") == 1  # removed, not fetched again


def test_the_remove_button_shows_on_the_authors_messages_only(previewed, bob, client):
    """One rendering for every member: the stylesheet shows Remove on one's own messages only."""
    html = as_person(client, bob).get(reverse("chat", args=[previewed.chat_id])).content.decode()
    assert 'class="link-preview-remove"' in html
    css = client.get(reverse("viewer_css", args=[bob.pk])).content.decode()
    assert "--own-only: block" in css


# The setting ---------------------------------------------------------------------------------------------


def test_with_previews_off_nothing_is_fetched_and_nothing_shown(previewed, settings, on, alice, bob, chat, api, client):
    settings.LINK_PREVIEWS = False

    message, _ = actions.send_message(chat, alice, on.url("/page"))
    with mock.patch.object(previews, "run") as job:
        previews.schedule(message.pk, on.url("/page"))

    job.assert_not_called()
    assert not LinkPreview.objects.filter(message=message).exists()
    assert api.get(f"/api/messages/{previewed.pk}/", **auth(bob)).json()["link_preview"] is None
    html = as_person(client, bob).get(reverse("chat", args=[chat.pk])).content.decode()
    assert "Rope at nine" not in html and "link-preview" not in html


def test_the_setting_is_on_by_default_and_the_suite_turns_it_off(monkeypatch):
    import importlib

    import flowchat.settings as production

    monkeypatch.delenv("LINK_PREVIEWS")
    try:
        assert importlib.reload(production).LINK_PREVIEWS is True
        assert production.LINK_PREVIEW_TEST_ORIGINS == []
    finally:
        monkeypatch.undo()
        importlib.reload(production)
    assert production.LINK_PREVIEWS is False


# Off the request path ---------------------------------------------------------------------------------------


def test_the_pool_never_blocks_and_drops_a_preview_when_its_queue_is_full(caplog):
    pool = previews.Pool(workers=1, size=1)
    started, release = threading.Event(), threading.Event()
    done = []

    assert pool.submit(lambda: (started.set(), release.wait(5)))
    assert started.wait(5)  # the worker is busy
    assert pool.submit(lambda: done.append("queued"))
    assert not pool.submit(lambda: done.append("dropped"))  # the queue is full: refused at once

    release.set()
    pool.jobs.join()
    assert done == ["queued"]


def test_a_full_queue_drops_the_preview_with_a_log_line(settings, caplog, monkeypatch):
    settings.LINK_PREVIEWS, settings.LINK_PREVIEW_SYNC = True, False
    full = mock.Mock(submit=mock.Mock(return_value=False))
    monkeypatch.setattr(previews, "pool", lambda: full)

    with caplog.at_level(logging.WARNING, logger="conversations.previews"):
        previews.schedule(42, "https://example.com/")

    assert "Link preview dropped for message 42" in caplog.text


def test_sending_hands_the_fetch_to_the_pool_after_the_commit(settings, alice, chat, monkeypatch, committing):
    settings.LINK_PREVIEWS, settings.LINK_PREVIEW_SYNC = True, False
    jobs = []
    monkeypatch.setattr(previews, "pool", lambda: mock.Mock(submit=lambda job: jobs.append(job) or True))

    with mock.patch.object(previews, "run") as run:
        actions.send_message(chat, alice, "https://example.com/ (not committed yet)")
        assert jobs == []  # nothing before the commit
        committing(actions.send_message, chat, alice, "https://example.com/page")
        assert len(jobs) == 1
        run.assert_not_called()  # queued, not run by the request
        jobs[0]()
    run.assert_called_once()
    assert run.call_args.args[1] == "https://example.com/page"


# The live push --------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
@pytest.mark.asyncio
async def test_a_preview_is_pushed_to_the_chats_tabs_and_scripts_when_ready(alice, bob, chat, settings):
    message = (await sync_to_async(actions.send_message)(chat, alice, "https://example.com/route"))[0]
    settings.LINK_PREVIEWS = True  # after the send: its own fetch would go to the network
    bob_tab, bob_script = await open_tab(bob, chat), await script(bob)
    assert (await bob_script.connect())[0]
    await pushed(bob_tab), await events(bob_script)
    title = "<b>Topo</b> & the route"
    image = await sync_to_async(previews.clean_image)(_upload(png()), previews.PREVIEW_IMAGE)

    await sync_to_async(actions.set_link_preview)(
        message.pk, previews.Preview("https://example.com/route", "", title, "Grade 5", image)
    )

    (event,) = await events(bob_script)
    check_event(event)
    assert event["event"] == "message.link_preview"
    assert event["data"]["message"] == message.pk and event["data"]["chat"] == chat.pk
    assert event["data"]["link_preview"]["title"] == title
    assert event["data"]["link_preview"]["site_name"] == "example.com"
    assert event["data"]["link_preview"]["image"].startswith("/media/pictures/")
    html = await pushed(bob_tab)
    assert f'id="message-{message.pk}-link-preview" hx-swap-oob="true"' in html
    assert "&lt;b&gt;Topo&lt;/b&gt; &amp; the route" in html and "<b>Topo" not in html
    assert REL in html
    assert len(html.encode()) <= 1200  # 920 bytes measured, picture included

    await sync_to_async(actions.remove_link_preview)(message, alice)

    (removed,) = await events(bob_script)
    assert removed["event"] == "message.link_preview" and removed["data"]["link_preview"] is None
    html = await pushed(bob_tab)
    assert f'id="message-{message.pk}-link-preview" hx-swap-oob="true"' in html and "Topo" not in html
    await bob_tab.disconnect()
    await bob_script.disconnect()


def _upload(data: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("preview.png", data, content_type="image/png")


def test_the_image_bytes_are_re_encoded_not_copied(allowed):
    """EXIF and all: nothing the page's server sent reaches storage as it was."""
    source = io.BytesIO()
    exif = Image.Exif()
    exif[0x010E] = "secret description"
    Image.new("RGB", (50, 50), "red").save(source, format="JPEG", exif=exif)
    allowed.routes["/photo.jpg"] = (200, {"Content-Type": "image/jpeg"}, source.getvalue())
    allowed.html("/photo-page", page(image="/photo.jpg"))

    preview = previews.fetch_preview(allowed.url("/photo-page"))

    data = preview.image.read()
    assert data[8:12] == b"WEBP" and b"secret description" not in data


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_hostile_corpus_in_a_pages_metadata_shows_as_text_on_the_page_and_in_the_frame(
    on, alice, bob, chat, client, committing, name
):
    hostile = escape(CORPUS[name])  # as a page's <meta content="…"> carries it, HTML-escaped
    on.html(
        "/hostile",
        (
            "<!doctype html><html><head>"
            f'<meta property="og:site_name" content="{hostile}"><meta property="og:title" content="{hostile}">'
            f'<meta property="og:description" content="{hostile}"></head><body>x</body></html>'
        ).encode(),
    )
    with mock.patch.object(broadcast.outbox, "put") as publishing:
        message, _ = committing(actions.send_message, chat, alice, on.url("/hostile"))

    preview = LinkPreview.objects.get(message=message)
    # Stored as the text it is: whitespace folded, format characters (bidi, zero-width) dropped.
    shown = "".join(c for c in " ".join(CORPUS[name].split()) if unicodedata.category(c) != "Cf")
    assert (preview.site_name, preview.title, preview.description) == (shown[:100], shown[:300], shown[:500])
    html = as_person(client, bob).get(reverse("chat", args=[chat.pk])).content.decode()
    # What tabs are sent: the HTML of each event (its `data`, for scripts, is JSON text).
    frames = str([call.args[1]["html"] for call in publishing.call_args_list])
    for where in (html, frames):
        for markup in MARKUP:
            assert markup not in where, (name, markup)
    assert html.count('id="messages"') == 1 and html.count('id="composer"') == 1
