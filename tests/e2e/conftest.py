"""The browser harness: real daphne, real Chromium, axe-core, screenshots.

- `server` (session): once pytest-django has built the test database, daphne serves
  `flowchat.asgi:application` from it in a child process, as in production. Each browser
  test runs under `transactional_db`, so what it creates is committed and visible to the
  server; the database is flushed after each test while the server keeps running.
- `browser` (module): Debian's Chromium through Playwright's sync API. That API keeps an
  event loop running in the test thread while it is started, so the ORM needs
  DJANGO_ALLOW_ASYNC_UNSAFE, and `async_to_sync` (channel layer calls, actions that
  broadcast) must go through `outside_the_browser_loop`. Per module, so the loop is gone
  before any other test module runs.
- `desktop`, `phone`, `no_js` (per test): a fresh browser context each (own cookies),
  wrapped in a `Tab` that records console errors, CSP violations and serious or critical
  axe-core findings. A test that leaves any of them behind fails, listing them all.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection, connections
from django.test import Client
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Locator, Page, Response, sync_playwright

from accounts.models import Connection, User
from conftest import PASSWORD, make_person, require

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(settings.BASE_DIR) / "artifacts" / "screenshots"
SERVER_START_SECONDS = 30
# axe-core as shipped by axe-playwright-python: no network, the same version every run.
AXE_SOURCE = resources.files("axe_playwright_python").joinpath("axe.min.js").read_text(encoding="utf-8")
BLOCKING_IMPACTS = {"serious", "critical"}

TAB_OPTIONS: dict[str, dict[str, object]] = {
    "desktop": {"viewport": {"width": 1280, "height": 800}},
    "phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "device_scale_factor": 2,
    },
    "no_js": {"viewport": {"width": 1280, "height": 800}, "java_script_enabled": False},
    "no_js_phone": {
        "viewport": {"width": 390, "height": 844},
        "is_mobile": True,
        "has_touch": True,
        "java_script_enabled": False,
    },
}

# Reports `securitypolicyviolation` events; console errors catch most of them too, but
# these name the directive and the blocked thing precisely.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (event) => {
  window.__reportCspViolation(
    `${event.violatedDirective} blocked ${event.blockedURI || "inline code"} ` +
    `at ${event.sourceFile || event.documentURI}:${event.lineNumber}`
  );
});
"""


# The server ---------------------------------------------------------------------------


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path
    media_root: Path

    def log_size(self) -> int:
        return self.log.stat().st_size if self.log.exists() else 0

    def log_since(self, offset: int) -> str:
        with self.log.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


SERVER_APPLICATION_NAME = "flowchat-test-server"


def database_url(settings_dict: dict) -> str:
    """The URL of the test database pytest-django has just created, for the server process."""
    engine = settings_dict["ENGINE"]
    if engine.endswith("sqlite3"):
        name = str(settings_dict["NAME"])
        if name == ":memory:" or "mode=memory" in name:
            pytest.fail("Browser tests need a file SQLite test database that a second process can open.")
        return f"sqlite:///{Path(name).resolve()}"
    if engine.endswith("postgresql"):
        user = quote(settings_dict.get("USER") or "", safe="")
        password = quote(settings_dict.get("PASSWORD") or "", safe="")
        credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
        host = settings_dict.get("HOST") or "localhost"
        port = f":{settings_dict['PORT']}" if settings_dict.get("PORT") else ""
        # Named, so that a wait for the server's connections does not count this process's own (its pool's).
        name = quote(settings_dict["NAME"], safe="")
        return f"postgres://{credentials}{host}{port}/{name}?application_name={SERVER_APPLICATION_NAME}"
    pytest.fail(f"Browser tests do not know how to hand the {engine} test database to the server.")


def wait_until_serving(process: subprocess.Popen, url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"daphne exited with code {process.returncode}:\n{log.read_text(errors='replace')}")
        try:
            with urllib.request.urlopen(f"{url}/static/img/favicon.svg", timeout=2) as response:  # noqa: S310
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.05)
    process.kill()
    pytest.fail(f"daphne did not answer within {SERVER_START_SECONDS} s:\n{log.read_text(errors='replace')}")


def forget_rate_limits() -> None:
    """Signups and wrong passwords are limited per IP; with Redis the counts would outlive one test run."""
    if redis_url := os.getenv("REDIS_URL"):
        import redis

        client = redis.Redis.from_url(redis_url)
        for pattern in ("*allauth:rl:*", "*login-failures:*"):
            for key in client.scan_iter(pattern):
                client.delete(key)


def wait_for_server_connections_to_close(django_db_blocker) -> None:
    """PostgreSQL cannot drop the test database while the dead server's backends linger."""
    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND application_name = %s",
                [SERVER_APPLICATION_NAME],
            )
            if cursor.fetchone()[0] == 0:
                return
            time.sleep(0.05)


def start_server(root: Path, *, production: bool = False, port: int | None = None, **env: str) -> Server:
    """FlowChat from the test database on a free port (or `port`, to restart one): daphne, or with
    `production` what bin/serve starts."""
    log = root / "server.log"
    media_root = root / "media"
    port = port or free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "flowchat.settings",
        "DATABASE_URL": database_url(connection.settings_dict),
        "DEBUG": "true",  # WhiteNoise serves static files straight from the finders
        "HTTPS": "false",
        "MEDIA_ROOT": str(media_root),
        "PYTHONUNBUFFERED": "1",
        **env,
    }
    environment.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    command = [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "flowchat.asgi:application"]
    if production:
        command = [str(Path(settings.BASE_DIR) / "bin" / "serve")]
        environment |= {"HOST": "127.0.0.1", "PORT": str(port)}
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            command, cwd=settings.BASE_DIR, env=environment, stdout=log_file, stderr=subprocess.STDOUT
        )
    wait_until_serving(process, url, log)
    return Server(url=url, process=process, log=log, media_root=media_root)


def stop_server(server: Server) -> None:
    server.process.terminate()
    try:
        server.process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.process.kill()
        server.process.wait()


@pytest.fixture(scope="session")
def server(django_db_setup, django_db_blocker, tmp_path_factory) -> Iterator[Server]:
    """One server for the whole session."""
    forget_rate_limits()
    running = start_server(tmp_path_factory.mktemp("server"))
    try:
        yield running
    finally:
        stop_server(running)
        wait_for_server_connections_to_close(django_db_blocker)


# The browser --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    require(CHROMIUM.exists(), "Chromium is not installed: apt-get install -y chromium")
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    playwright = sync_playwright().start()
    try:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
    finally:
        playwright.stop()
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


def outside_the_browser_loop[T](function: Callable[..., T], *args: object, **kwargs: object) -> T:
    """Call Django code that uses async_to_sync, which refuses to run beside Playwright's loop."""

    def call() -> T:
        try:
            return function(*args, **kwargs)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(call).result()


class Tab:
    """One browser context and its page, with what went wrong in it along the way."""

    def __init__(self, kind: str, context: BrowserContext, base_url: str) -> None:
        self.kind = kind
        self.context = context
        self.base_url = base_url
        self.problems: list[str] = []
        self.javascript = TAB_OPTIONS[kind].get("java_script_enabled", True)
        if self.javascript:
            context.expose_binding(
                "__reportCspViolation", lambda source, text: self.problems.append(f"CSP violation: {text}")
            )
            context.add_init_script(CSP_LISTENER)
        # Pages answered 4xx on purpose (a form with errors is a 400): the test checks those
        # statuses itself, so Chromium's "Failed to load resource" for them is not a problem.
        self.client_error_pages: set[str] = set()
        self.page: Page = context.new_page()
        self.page.on("response", self._on_response)
        self.page.on("console", self._on_console)
        self.page.on("pageerror", lambda error: self.problems.append(f"Uncaught error on {self.page.url}: {error}"))

    def _on_response(self, response: Response) -> None:
        request = response.request
        if request.is_navigation_request() and request.frame == self.page.main_frame and 400 <= response.status < 500:
            self.client_error_pages.add(response.url)

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        location = message.location.get("url", "")
        if message.text.startswith("Failed to load resource") and location in self.client_error_pages:
            return
        self.problems.append(f"Console error on {self.page.url}: {message.text} ({location})")

    def goto(self, path: str) -> Response | None:
        """Open a page and check its accessibility."""
        response = self.page.goto(path)
        self.audit()
        return response

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def submit(self, button: Locator) -> Response | None:
        """Click a button that posts a form, wait for the page it leads to, and check that page."""
        with self.page.expect_navigation() as navigation:
            button.click()
        self.audit()
        return navigation.value

    def audit(self) -> None:
        """Run axe-core on the page as it is now; serious and critical findings fail the test.

        Not with JavaScript off: axe schedules its work with timers, which never fire then.
        Those pages come from the same templates, audited in the JavaScript tests.
        """
        if not self.javascript:
            return
        page = self.page
        page.wait_for_load_state()
        if not page.evaluate("typeof window.axe === 'object'"):
            # Evaluated over the DevTools protocol, which the page's CSP does not govern, so the
            # app needs no test-only script or CSP exception.
            page.evaluate(f"() => {{ {AXE_SOURCE}\n; window.axe = axe; }}")
        theme = page.evaluate("document.documentElement.dataset.theme")
        violations = page.evaluate("() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations)")
        for violation in violations:
            if violation["impact"] in BLOCKING_IMPACTS:
                self.problems.append(self._describe(violation, theme=theme))

    def _describe(self, violation: dict, theme: str) -> str:
        lines = [
            f"Accessibility ({violation['impact']}) {violation['id']}: {violation['help']}",
            f"  on {self.page.url} [{self.kind}, theme {theme}] — {violation['helpUrl']}",
        ]
        for node in violation["nodes"][:10]:
            lines.append(f"  - {' '.join(map(str, node['target']))}: {node['html'][:200]}")
            summary = node.get("failureSummary", "").replace("\n", "\n      ")
            lines.append(f"      {summary}")
        return "\n".join(lines)

    def log_in(self, user: User) -> None:
        """Log in by handing the browser a session cookie, without going through the form."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": self.base_url}])

    def screenshot(self, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{name}-{self.kind}.png"
        self.page.screenshot(path=path, full_page=True)
        return path

    def assert_fits_the_screen(self) -> None:
        """Nothing scrolls sideways. Compared with the device's width, because a phone zooms out
        to show an overflowing page, which makes innerWidth grow with it."""
        width = self.page.viewport_size["width"]
        overflow = self.page.evaluate(
            """(width) => ({
              scrollWidth: document.scrollingElement.scrollWidth,
              innerWidth: window.innerWidth,
              culprits: [...document.querySelectorAll("body *")]
                .filter((element) => element.getBoundingClientRect().right > width + 0.5)
                .slice(0, 5)
                .map((element) => element.outerHTML.slice(0, 120)),
            })""",
            width,
        )
        assert overflow["scrollWidth"] <= width and overflow["innerWidth"] <= width, (
            f"{self.page.url} is wider than the {width}px screen: {overflow}"
        )

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def open_tab(request, browser: Browser, server: Server, transactional_db) -> Iterator[Callable[[str], Tab]]:
    tabs: list[Tab] = []
    request.node.browser_tabs = tabs
    request.node.server_log = (server, server.log_size())

    def open_tab(kind: str) -> Tab:
        context = browser.new_context(base_url=server.url, locale="en-US", **TAB_OPTIONS[kind])
        context.set_default_timeout(10_000)
        tab = Tab(kind, context, server.url)
        tabs.append(tab)
        return tab

    yield open_tab
    for tab in tabs:
        tab.close()
    wait_for_sockets_to_close()


def wait_for_sockets_to_close() -> None:
    """A closed tab's socket ends on the server a moment later, with database writes (presence)
    that must not race the flush after the test."""
    deadline = time.monotonic() + 10
    while Connection.objects.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    wait_for_the_server_to_settle()


def wait_for_the_server_to_settle() -> None:
    """And for what the closing set off (presence batches, the queries of their broadcasts) to end:
    the flush after the test TRUNCATEs table after table, and a server transaction reading one of
    them meanwhile deadlocks with it (PostgreSQL; seen under two workers). Settled means no backend
    of the server's but an idle one, three looks in a row."""
    if connection.vendor != "postgresql":
        return
    deadline, quiet = time.monotonic() + 10, 0
    with connection.cursor() as cursor:
        while quiet < 3 and time.monotonic() < deadline:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND application_name = %s AND state <> 'idle'",
                [SERVER_APPLICATION_NAME],
            )
            quiet = quiet + 1 if cursor.fetchone()[0] == 0 else 0
            time.sleep(0.05)


@pytest.fixture
def desktop(open_tab) -> Tab:
    """1280×800 with JavaScript."""
    return open_tab("desktop")


@pytest.fixture
def phone(open_tab) -> Tab:
    """390×844, touch, with JavaScript."""
    return open_tab("phone")


@pytest.fixture
def no_js(open_tab) -> Tab:
    """1280×800 with JavaScript switched off: forms post and redirect."""
    return open_tab("no_js")


@pytest.fixture
def tab(request, open_tab) -> Tab:
    """The tab named by `@pytest.mark.parametrize("tab", [...], indirect=True)`."""
    return open_tab(request.param)


# The cast, with passwords the server can check --------------------------------------


def give_password(user: User, password: str = PASSWORD) -> User:
    """Hash with PBKDF2 the server knows (the tests' MD5 hasher is not in its settings), cheaply."""
    hasher = PBKDF2PasswordHasher()
    user.password = hasher.encode(password, hasher.salt(), iterations=1_000)
    user.save(update_fields=["password"])
    return user


@pytest.fixture
def alice(transactional_db) -> User:
    return give_password(make_person("alice", "Alice", "Archer"))


@pytest.fixture
def bob(transactional_db) -> User:
    return give_password(make_person("bob", "Bob", "Baker"))


@pytest.fixture
def carol(transactional_db) -> User:
    """The outsider."""
    return give_password(make_person("carol", "Carol", "Cole"))


# Reporting ------------------------------------------------------------------------------


def problems_of(item: pytest.Item) -> list[str]:
    return [problem for tab in getattr(item, "browser_tabs", []) for problem in tab.problems]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """A test whose pages logged errors or broke accessibility fails, even if its asserts passed."""
    result = yield
    if problems := problems_of(item):
        pytest.fail("The pages had problems:\n\n" + "\n\n".join(problems), pytrace=False)
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and report.when == "call":
        if (problems := problems_of(item)) and not str(report.longrepr).startswith("The pages had problems"):
            report.sections.append(("browser problems", "\n\n".join(problems)))
        if hasattr(item, "server_log"):
            server, offset = item.server_log
            report.sections.append(("server log", server.log_since(offset) or "(empty)"))
    return report
