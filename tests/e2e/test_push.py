"""Web Push in Chromium, against a server with VAPID keys and a local push service.

Headless Chromium has no push service of its own (Chrome's is Google's FCM, out of reach here):
`pushManager.subscribe` cannot make a real subscription offline. So the page's PushManager
hands back a subscription made in the test — a real P-256 key pair and auth secret whose
endpoint is the local push service — and everything around it is real: the permission
prompt's answer, the service worker's registration at /sw.js, the settings button's request,
the server's worker sending, the JWT check and decryption (flowchat.push_service), and the
tab's visibility reaching the server over its socket.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Iterator

import pytest

from accounts.models import Connection, PushSubscription
from conversations import actions
from flowchat.push_service import PushService, unb64url, vapid_keys
from flowchat.testing import token_for

from .conftest import (
    TAB_OPTIONS,
    Server,
    Tab,
    give_password,
    make_person,
    outside_the_browser_loop,
    start_server,
    stop_server,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def push_server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[tuple[Server, PushService]]:
    public, private = vapid_keys()
    service = PushService(public)
    server = start_server(
        tmp_path_factory.mktemp("push-server"),
        VAPID_PUBLIC_KEY=public,
        VAPID_PRIVATE_KEY=private,
        VAPID_SUBJECT="mailto:ops@flowchat.test",
        WEBPUSH_TEST_ORIGINS=service.origin,
    )
    try:
        yield server, service
    finally:
        stop_server(server)
        service.close()


@pytest.fixture
def push_tab(request, browser, push_server) -> Iterator[Tab]:
    server, _ = push_server
    context = browser.new_context(base_url=server.url, locale="en-US", **TAB_OPTIONS["desktop"])
    context.set_default_timeout(10_000)
    context.grant_permissions(["notifications"], origin=server.url)
    tab = Tab("desktop", context, server.url)
    request.node.browser_tabs = [tab]  # its console errors and CSP violations fail the test (conftest)
    yield tab
    tab.close()


def wait_for(condition, what: str, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)


def post_message(server: Server, key: str, chat_id: int, text: str) -> None:
    request = urllib.request.Request(  # noqa: S310 — our own server
        f"{server.url}/api/messages/",
        data=json.dumps({"chat": chat_id, "text": text}).encode(),
        headers={"Authorization": f"Token {key}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status == 201


FAKE_SUBSCRIBE = """(subscription) => {
  const made = { endpoint: subscription.endpoint, expirationTime: null, keys: subscription.keys };
  let current = null;
  PushManager.prototype.getSubscription = async () => current;
  PushManager.prototype.subscribe = async function (options) {
    // What the page asks for is checked: the server's key, visible notifications only.
    if (!options.userVisibleOnly || !(options.applicationServerKey instanceof Uint8Array)
        || options.applicationServerKey.length !== 65) throw new Error("bad subscribe options");
    window.__subscribedWith(btoa(String.fromCharCode(...options.applicationServerKey)));
    current = { ...made, toJSON: () => made };
    return current;
  };
}"""


def test_the_service_worker_registers_and_the_manifest_is_valid(push_tab):
    push_tab.log_in(give_password(make_person("alice", "Alice", "Archer")))
    push_tab.goto("/settings/")
    page = push_tab.page

    scope = page.evaluate(
        """async () => {
          await navigator.serviceWorker.register("/sw.js", { scope: "/" });
          const ready = await navigator.serviceWorker.ready;
          const worker = ready.active;
          if (worker.state !== "activated") {
            await new Promise((done) =>
              worker.addEventListener("statechange", () => worker.state === "activated" && done()));
          }
          return { scope: ready.scope, state: worker.state };
        }"""
    )
    assert scope == {"scope": push_tab.url("/"), "state": "activated"}

    # Chromium's own reading of the manifest: no errors, installable fields in place.
    cdp = push_tab.context.new_cdp_session(page)
    manifest = cdp.send("Page.getAppManifest")
    assert manifest["url"] == push_tab.url("/manifest.webmanifest")
    assert manifest["errors"] == []
    data = json.loads(manifest["data"])
    assert data["display"] == "standalone" and data["short_name"] == "FlowChat"
    for icon in data["icons"]:
        assert page.request.get(push_tab.url(icon["src"])).headers["content-type"] == "image/png"


def test_the_settings_button_registers_the_device_and_a_push_follows_when_no_tab_is_shown(push_tab, push_server):
    server, service = push_server
    alice = give_password(make_person("alice", "Alice", "Archer"))
    bob = make_person("bob", "Bob", "Baker")
    chat = outside_the_browser_loop(actions.get_or_create_direct_chat, alice, bob)[0]
    device = service.device("alice")
    keys: list[str] = []
    push_tab.context.expose_binding("__subscribedWith", lambda source, key: keys.append(key))
    push_tab.context.add_init_script(f"({FAKE_SUBSCRIBE})({json.dumps(device.subscription())})")
    push_tab.log_in(alice)
    push_tab.goto("/settings/")
    page = push_tab.page

    page.get_by_role("button", name="Turn on notifications on this device").click()
    page.wait_for_url("**/settings/?device=added#notifications")

    subscription = PushSubscription.objects.get(user=alice)
    assert subscription.endpoint == device.endpoint
    assert subscription.session_key  # logging out of this session removes it
    assert page.evaluate("navigator.serviceWorker.getRegistration('/').then((r) => r.scope)") == push_tab.url("/")
    # Subscribed with the server's VAPID public key, as the settings page gives it.
    assert [unb64url(service.vapid_public_key)] == [base64.b64decode(key) for key in keys]
    assert "Chrome on Linux" in page.locator("#push-devices").inner_text()

    # A shown tab: no push.
    wait_for(lambda: Connection.objects.filter(user=alice, visible=True).exists(), "alice's tab is connected")
    key = token_for(bob)
    post_message(server, key, chat.pk, "While you look")

    # The tab is hidden (as when another tab is brought to the front): it says so over its socket.
    page.evaluate(
        """() => {
          Object.defineProperty(document, "visibilityState", { configurable: true, get: () => "hidden" });
          document.dispatchEvent(new Event("visibilitychange"));
        }"""
    )
    wait_for(lambda: Connection.objects.filter(user=alice, visible=False).exists(), "the hidden tab is told")
    post_message(server, key, chat.pk, "Rope at nine?")

    wait_for(lambda: len(service.received) >= 1, "a push reached the push service")
    [received] = service.received  # the first message, sent while the tab was shown, made none
    assert received.jwt_error == "" and received.claims["aud"] == service.origin
    payload = device.decrypt(received.body)
    assert payload["title"] == "Bob Baker"
    assert payload["body"] == "2 new messages · Rope at nine?"
    assert payload["url"] == f"/chats/{chat.pk}/"

    # Logging out removes this device.
    push_tab.goto("/accounts/logout/")
    page.locator("main form button[type=submit]").click()
    wait_for(lambda: not PushSubscription.objects.filter(user=alice).exists(), "the device is removed at logout")
