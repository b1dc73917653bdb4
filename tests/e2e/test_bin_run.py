"""bin/run as a person runs it: a real server by default, the development mode with DEBUG=true.

Each case starts bin/run itself (set-up, migrations, collectstatic, the server) on a database,
static directory and key file of its own, and reads what it printed.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import pytest
from django.conf import settings

from .conftest import free_port, wait_until_serving

pytestmark = pytest.mark.browser  # a real server process, like the browser tests

NOT_FOUND = "/no/such/page/"


class Running:
    def __init__(self, root: Path, **env: str) -> None:
        self.root, self.log, self.port = root, root / "bin-run.log", free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        environment = {
            key: value
            for key, value in os.environ.items()
            if key not in {"DEBUG", "DJANGO_SETTINGS_MODULE", "SECRET_KEY", "HTTPS", "DATABASE_URL", "REDIS_URL"}
        }
        environment |= {
            "PORT": str(self.port),
            "DATABASE_URL": f"sqlite:///{root / 'flowchat.sqlite3'}",
            "STATIC_ROOT": str(root / "static"),
            "SECRET_KEY_FILE": str(root / "secret_key"),
            "MEDIA_ROOT": str(root / "media"),
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [str(Path(settings.BASE_DIR) / "bin" / "run")],
                cwd=settings.BASE_DIR,
                env=environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # runserver's reloader runs the server in a child: stop them both
            )
        wait_until_serving(self.process, self.url, self.log)

    def get(self, path: str, **headers: str) -> tuple[int, Message, str]:
        request = urllib.request.Request(self.url + path, headers=headers)  # noqa: S310 (http://127.0.0.1)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return response.status, response.headers, response.read().decode()
        except urllib.error.HTTPError as error:
            return error.code, error.headers, error.read().decode()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def bin_run(tmp_path) -> Iterator[type[Running]]:
    started: list[Running] = []

    def start(**env: str) -> Running:
        started.append(Running(tmp_path, **env))
        return started[-1]

    yield start
    for running in started:
        running.stop()


def lines_with(output: str, text: str) -> list[str]:
    return [line for line in output.splitlines() if text in line]


def test_bin_run_serves_the_translated_404_page_not_the_debug_page(bin_run):
    running = bin_run()

    status, headers, page = running.get(NOT_FOUND, **{"Accept-Language": "ru"})

    assert status == 404
    assert headers["Content-Type"].startswith("text/html")
    assert "<h1>Такой страницы нет</h1>" in page
    assert "Page not found" not in page and "URLconf" not in page and "DEBUG = True" not in page
    status, _, page = running.get(NOT_FOUND)
    assert "<h1>This page does not exist</h1>" in page


def test_bin_run_serves_static_files_through_whitenoise_under_hashed_names_kept_for_good(bin_run):
    running = bin_run()
    _, _, login_page = running.get("/accounts/login/")
    stylesheet = next(line for line in login_page.split('"') if line.startswith("/static/css/flowchat."))

    status, headers, _ = running.get(stylesheet)

    assert stylesheet.count(".") == 2  # flowchat.<hash>.css
    assert status == 200
    assert headers["Cache-Control"] == "max-age=315360000, public, immutable"
    assert headers["Content-Type"].startswith("text/css")


def test_bin_run_makes_its_secret_key_once_readable_by_its_owner_alone(bin_run, tmp_path):
    bin_run()

    key_file = tmp_path / "secret_key"
    assert len(key_file.read_text().strip()) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600


@pytest.mark.parametrize("debug", ["false", "true"], ids=["server", "development"])
def test_bin_run_prints_each_log_line_once(bin_run, debug):
    running = bin_run(DEBUG=debug)

    running.get(NOT_FOUND)
    running.get("/accounts/login/?marker=1")

    running.stop()
    output = running.output()
    assert len(lines_with(output, f"Not Found: {NOT_FOUND}")) == 1, output
    assert len(lines_with(output, "/accounts/login/?marker=1")) == 1, output  # the access log line


def test_debug_true_bin_run_is_the_development_mode_with_its_debug_pages(bin_run):
    running = bin_run(DEBUG="true")

    status, _, page = running.get(NOT_FOUND)

    assert status == 404
    assert "Page not found" in page and "URLconf" in page
    assert "development mode" in running.output()
