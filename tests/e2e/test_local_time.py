"""Local time in a real browser: the zone comes from the browser, times and days are the
person's, a time's title is its full form, and the sticky day pill never sits on words.

alice and bob chat; the browser of the tests marked so lives in Tokyo (UTC+9), the server in UTC.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, expect

from accounts.models import User
from conversations import actions
from conversations.models import Chat, Message

from .conftest import TAB_OPTIONS, Server, Tab, outside_the_browser_loop, wait_for_sockets_to_close

pytestmark = pytest.mark.browser

TOKYO = zoneinfo.ZoneInfo("Asia/Tokyo")


@pytest.fixture
def open_tab_in(request, browser: Browser, server: Server, transactional_db) -> Iterator[Callable[[str, str], Tab]]:
    """Like conftest's open_tab, in a browser that lives in the given time zone."""
    tabs: list[Tab] = []
    request.node.browser_tabs = tabs
    request.node.server_log = (server, server.log_size())

    def open_tab(kind: str, zone: str) -> Tab:
        context = browser.new_context(base_url=server.url, locale="en-US", timezone_id=zone, **TAB_OPTIONS[kind])
        context.set_default_timeout(10_000)
        tab = Tab(kind, context, server.url)
        tabs.append(tab)
        return tab

    yield open_tab
    for tab in tabs:
        tab.close()
    wait_for_sockets_to_close()


def direct_chat(first: User, second: User) -> Chat:
    return outside_the_browser_loop(actions.get_or_create_direct_chat, first, second)[0]


def send(chat: Chat, author: User, text: str, *, at: datetime | None = None) -> Message:
    message = outside_the_browser_loop(actions.send_message, chat, author, text)[0]
    if at is not None:
        Message.objects.filter(pk=message.pk).update(created_at=at)
        message.created_at = at
    return message


def in_tokyo(moment: datetime) -> tuple[str, str]:
    """The time and the full form a person in Tokyo reads (conversations.days, in English)."""
    local = moment.astimezone(TOKYO)
    return f"{local:%H:%M}", f"{local:%A}, {local:%B} {local.day}, {local.year}, {local:%H:%M}"


def time_of(tab: Tab, message: Message):
    return tab.page.locator(f"#message-{message.pk} .message-meta time")


def test_the_browser_tells_its_zone_and_the_page_shows_tokyo_time(open_tab_in, alice, bob):
    chat = direct_chat(alice, bob)
    message = send(chat, bob, "Good morning from Tokyo")
    tab = open_tab_in("desktop", "Asia/Tokyo")
    tab.log_in(alice)

    tab.page.goto(f"/chats/{chat.pk}/")  # audited below, once it has been shown again

    # The first page is the server's zone; the browser's is saved and the page shown again in it.
    expect(tab.page.locator("body")).to_have_attribute("data-shown-zone", "Asia/Tokyo")
    assert User.objects.get(pk=alice.pk).timezone == "Asia/Tokyo"
    clock, full = in_tokyo(message.created_at)
    expect(time_of(tab, message)).to_have_text(clock)
    expect(time_of(tab, message)).to_have_attribute("title", full)
    expect(tab.page.locator("#messages .day-line").last).to_have_text("Today")
    tab.audit()


def test_a_zone_the_person_chose_stays_whatever_the_browser_says(open_tab_in, alice, bob):
    User.objects.filter(pk=alice.pk).update(timezone="Europe/Moscow")
    chat = direct_chat(alice, bob)
    send(chat, bob, "Hello")
    tab = open_tab_in("desktop", "Asia/Tokyo")
    tab.log_in(alice)

    tab.goto(f"/chats/{chat.pk}/")

    expect(tab.page.locator("body")).to_have_attribute("data-shown-zone", "Europe/Moscow")
    assert tab.page.locator("body").get_attribute("data-timezone-url") is None
    assert User.objects.get(pk=alice.pk).timezone == "Europe/Moscow"


def open_chat(tab: Tab, chat: Chat) -> None:
    tab.goto(f"/chats/{chat.pk}/")
    # The page is live once its socket is open and has caught up.
    tab.page.wait_for_function("() => window.htmx && document.querySelector('#synced')")
    tab.page.wait_for_function("() => connectedBefore === true")


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_a_pushed_message_shows_tokyo_time_and_starts_a_tokyo_day(open_tab_in, alice, bob, kind):
    User.objects.filter(pk=alice.pk).update(timezone="UTC")
    User.objects.filter(pk=bob.pk).update(timezone="Asia/Tokyo")
    chat = direct_chat(alice, bob)
    send(chat, alice, "Three days ago", at=timezone.now() - timedelta(days=3))
    alices, bobs = open_tab_in("desktop", "UTC"), open_tab_in(kind, "Asia/Tokyo")
    alices.log_in(alice)
    bobs.log_in(bob)
    open_chat(bobs, chat)
    open_chat(alices, chat)
    expect(bobs.page.locator("#messages .day-line")).to_have_count(1)

    alices.page.locator("#composer-text").fill("Pushed to Tokyo")
    alices.page.locator("#composer-text").press("Enter")

    pushed = bobs.page.locator("#messages .message", has_text="Pushed to Tokyo")
    expect(pushed).to_have_count(1)
    message = Message.objects.get(text="Pushed to Tokyo")
    clock, full = in_tokyo(message.created_at)
    expect(time_of(bobs, message)).to_have_text(clock)
    expect(time_of(bobs, message)).to_have_attribute("title", full)
    expect(bobs.page.locator("#messages .day-line")).to_have_count(2)
    expect(bobs.page.locator(f"#day-{message.pk}")).to_have_text("Today")
    # The sender's own page, in UTC, is unchanged by the push: one day line for today too.
    expect(alices.page.locator("#messages .day-line")).to_have_count(2)
    expect(time_of(alices, message)).to_have_text(f"{message.created_at.astimezone(zoneinfo.ZoneInfo('UTC')):%H:%M}")
    bobs.audit()


def test_the_first_message_of_a_chat_gets_its_day_line_when_pushed(open_tab_in, alice, bob):
    User.objects.filter(pk__in=[alice.pk, bob.pk]).update(timezone="Asia/Tokyo")
    chat = direct_chat(alice, bob)
    alices, bobs = open_tab_in("desktop", "Asia/Tokyo"), open_tab_in("desktop", "Asia/Tokyo")
    alices.log_in(alice)
    bobs.log_in(bob)
    open_chat(bobs, chat)
    open_chat(alices, chat)

    alices.page.locator("#composer-text").fill("First words")
    alices.page.locator("#composer-text").press("Enter")

    expect(bobs.page.locator("#messages .message", has_text="First words")).to_have_count(1)
    expect(bobs.page.locator("#messages .day-line")).to_have_text(["Today"])
    expect(alices.page.locator("#messages .day-line")).to_have_text(["Today"])  # not doubled by the push


def test_without_javascript_the_server_shows_the_persons_zone(open_tab_in, alice, bob):
    User.objects.filter(pk=alice.pk).update(timezone="Asia/Tokyo")
    chat = direct_chat(alice, bob)
    message = send(chat, bob, "No scripts here")
    tab = open_tab_in("no_js", "UTC")
    tab.log_in(alice)

    tab.goto(f"/chats/{chat.pk}/")

    clock, full = in_tokyo(message.created_at)
    expect(time_of(tab, message)).to_have_text(clock)
    expect(time_of(tab, message)).to_have_attribute("title", full)


# What the page shows of a message's words where a day pill is, at each scroll position: the
# part of each text inside the scroller, less what an opaque band stuck above it hides.
UNDER_THE_PILL = """() => {
  const box = document.getElementById("scroller").getBoundingClientRect();
  const transparent = (colour) => colour === "transparent" || /rgba\\(.*,\\s*0\\)$/.test(colour);
  const lines = [...document.querySelectorAll("#messages > .day-line")].map((line) => ({
    band: line.getBoundingClientRect(),
    pill: line.querySelector("time").getBoundingClientRect(),
    opaque: !transparent(getComputedStyle(line).backgroundColor),
  }));
  const covered = [];
  const words = "#messages .message-text, #messages .message-author, #messages .message-meta";
  for (const text of document.querySelectorAll(words)) {
    const r = text.getBoundingClientRect();
    if (!r.width || !r.height) continue;
    let top = Math.max(r.top, box.top);
    const bottom = Math.min(r.bottom, box.bottom);
    for (const { band, opaque } of lines) {
      const across = band.left <= r.left + 0.5 && band.right >= r.right - 0.5;
      if (opaque && across && band.top <= top + 0.5 && band.bottom > top) {
        top = Math.max(top, band.bottom);
      }
    }
    if (bottom - top <= 0.5) continue;
    for (const { pill } of lines) {
      const beside = pill.right <= r.left + 0.5 || pill.left >= r.right - 0.5;
      if (!beside && pill.bottom > top + 0.5 && pill.top < bottom - 0.5) {
        covered.push(`${text.textContent.trim().slice(0, 40)} at ${Math.round(pill.top)}..${Math.round(pill.bottom)}`);
      }
    }
  }
  return covered;
}"""


@pytest.mark.parametrize("kind", ["desktop", "phone"])
def test_the_sticky_day_pill_never_covers_a_messages_words(open_tab_in, alice, bob, kind):
    chat = direct_chat(alice, bob)
    start = timezone.now() - timedelta(days=3)
    for n in range(36):
        words = " ".join(["wide words to fill the bubble across the middle"] * (1 + n % 3))
        send(chat, alice if n % 2 else bob, f"{n}: {words}", at=start + timedelta(hours=2 * n))
    tab = open_tab_in(kind, "UTC")
    tab.log_in(alice)
    tab.goto(f"/chats/{chat.pk}/")
    page = tab.page
    expect(page.locator("#messages > article")).to_have_count(36)
    assert page.locator("#messages .day-line").count() >= 3
    height = page.locator("#scroller").evaluate("box => box.scrollHeight - box.clientHeight")
    assert height > 500

    covered = []
    for position in range(0, height + 1, 23):
        page.locator("#scroller").evaluate("(box, top) => { box.scrollTop = top }", position)
        covered += page.evaluate(UNDER_THE_PILL)

    assert covered == []
