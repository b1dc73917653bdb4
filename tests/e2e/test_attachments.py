"""Files in a real browser: attached with the plain file input (JavaScript off), dropped on and
pasted into the composer (JavaScript on); the other person sees them arrive live and downloads one.

Data is made through the actions; every page is checked with axe-core, and console errors or CSP
violations fail the test (conftest.py).
"""

from __future__ import annotations

import base64
import io
from pathlib import Path

import pytest
from django.urls import reverse
from PIL import Image
from playwright.sync_api import expect

from conftest import make_person
from conversations import actions

from .conftest import give_password, outside_the_browser_loop
from .test_live import open_chat

pytestmark = pytest.mark.browser

PDF = b"%PDF-1.4\n% the route to the crag\n"


def png_bytes(size: tuple[int, int] = (120, 80)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, "#2e86c1").save(buffer, format="PNG")
    return buffer.getvalue()


# Drop and paste as a person's browser fires them, with files in a DataTransfer.
DROP = """([selector, name, type, data]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type }));
  const target = document.querySelector(selector);
  for (const kind of ["dragenter", "dragover", "drop"]) {
    target.dispatchEvent(new DragEvent(kind, { bubbles: true, cancelable: true, dataTransfer: transfer }));
  }
}"""
PASTE = """([selector, name, type, data]) => {
  const transfer = new DataTransfer();
  transfer.items.add(new File([Uint8Array.from(atob(data), (c) => c.charCodeAt(0))], name, { type }));
  document.querySelector(selector).dispatchEvent(
    new ClipboardEvent("paste", { bubbles: true, cancelable: true, clipboardData: transfer })
  );
}"""


@pytest.fixture
def people():
    alice = give_password(make_person("alice", "Alice", "Archer"))
    bob = give_password(make_person("bob", "Bob", "Baker"))
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    return alice, bob, chat


def test_two_files_sent_without_javascript_arrive_live_and_one_downloads(open_tab, people, tmp_path: Path):
    alice, bob, chat = people
    alices, bobs = open_tab("no_js"), open_tab("desktop")
    alices.log_in(alice)
    bobs.log_in(bob)
    open_chat(bobs, chat)
    alices.goto(reverse("chat", args=[chat.pk]))
    route, photo = tmp_path / "Маршрут (v2).pdf", tmp_path / "crag.png"
    route.write_bytes(PDF)
    photo.write_bytes(png_bytes())

    alices.page.get_by_label("Attach files").set_input_files([route, photo])
    alices.submit(alices.page.get_by_role("button", name="Send"))

    # Alice's page (reloaded, no JavaScript) and Bob's (live, over the socket) show both.
    for page in (alices.page, bobs.page):
        files = page.locator("#messages .attachment")
        expect(files).to_have_count(2)
        expect(files.nth(0).locator(".attachment-name")).to_have_text("Маршрут (v2).pdf")
        expect(files.nth(1).locator(".attachment-name")).to_have_text("crag.webp")
        expect(files.nth(1).locator("img")).to_be_visible()
    expect(bobs.page.locator("#messages .attachment-size").first).to_have_text("33\xa0bytes")

    with bobs.page.expect_download() as download:
        bobs.page.locator("#messages .attachment-file").first.click()
    assert download.value.suggested_filename == "Маршрут (v2).pdf"  # from filename*, in UTF-8
    assert Path(download.value.path()).read_bytes() == PDF


def test_files_dropped_and_pasted_with_javascript_are_listed_removable_and_arrive_live(open_tab, people):
    alice, bob, chat = people
    alices, bobs = open_tab("desktop"), open_tab("desktop")
    alices.log_in(alice)
    bobs.log_in(bob)
    open_chat(bobs, chat)
    open_chat(alices, chat)
    page = alices.page
    pdf, png = base64.b64encode(PDF).decode(), base64.b64encode(png_bytes()).decode()

    page.evaluate(DROP, ["#composer-text", "notes.pdf", "application/pdf", pdf])
    page.evaluate(DROP, ["#composer", "wrong.pdf", "application/pdf", pdf])
    page.locator("#composer-text").click()
    page.evaluate(PASTE, ["#composer-text", "image.png", "image/png", png])

    chosen = page.locator("#chosen-files li")
    expect(chosen).to_have_count(3)
    expect(chosen).to_have_text(["notes.pdfRemove", "wrong.pdfRemove", "image.pngRemove"])
    page.get_by_role("button", name="Remove wrong.pdf").click()
    expect(chosen).to_have_count(2)
    alices.audit()
    page.locator("#composer-text").fill("The topo and a photo")
    page.locator("#composer-text").press("Enter")
    expect(page.locator("#chosen-files li")).to_have_count(0)  # a fresh composer

    arrived = bobs.page.locator("#messages .message").filter(has_text="The topo and a photo")
    expect(arrived.locator(".attachment-name")).to_have_text(["notes.pdf", "image.webp"])
    expect(arrived.locator(".attachment img")).to_be_visible()
    expect(
        page.locator("#messages .message").filter(has_text="The topo and a photo").locator(".attachment")
    ).to_have_count(2)

    with bobs.page.expect_download() as download:
        arrived.locator(".attachment-file").first.click()
    assert download.value.suggested_filename == "notes.pdf"
    assert Path(download.value.path()).read_bytes() == PDF


def test_on_a_phone_files_are_chosen_listed_and_fit_the_screen(open_tab, people, tmp_path: Path):
    alice, _, chat = people
    phone = open_tab("phone")
    phone.log_in(alice)
    open_chat(phone, chat)
    page = phone.page
    long_name = tmp_path / ("A very long name for the route description of the north face " * 2).strip()
    long_name = long_name.with_suffix(".pdf")
    long_name.write_bytes(PDF)
    photo = tmp_path / "crag.png"
    photo.write_bytes(png_bytes((1600, 1200)))

    page.get_by_label("Attach files").set_input_files([long_name, photo])
    expect(page.locator("#chosen-files li")).to_have_count(2)
    page.get_by_role("button", name="Send").tap()

    sent = page.locator("#messages .message").last
    expect(sent.locator(".attachment")).to_have_count(2)
    expect(sent.locator(".attachment img")).to_be_visible()
    for element in (sent.locator(".attachment").first, sent.locator(".attachment img")):
        box = element.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 390, box
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the chat is {overflow}px wider than the phone"
    phone.audit()
