"""Settings as an operator meets them: each case starts a fresh process with its own environment."""

import json
import os
import secrets
import stat
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.conf import settings

MANAGE = str(settings.BASE_DIR / "manage.py")
PRODUCTION = {
    "DEBUG": "false",
    "SECRET_KEY": secrets.token_urlsafe(50),
    "ALLOWED_HOSTS": "chat.example.com",
    # Password reset mail must really go out: Django refuses the console mailer in production.
    "EMAIL_HOST": "smtp.example.com",
}
PRINT_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "DEBUG": settings.DEBUG,
    "ALLOWED_HOSTS": settings.ALLOWED_HOSTS,
    "DATABASE": {
        key: str(settings.DATABASES["default"].get(key)) for key in ("ENGINE", "NAME", "HOST", "PORT", "USER")
    },
    "TEST_DATABASE": str(settings.DATABASES["default"]["TEST"]["NAME"]),
    "POOL": settings.DATABASES["default"].get("OPTIONS", {}).get("pool"),
    "CONN_MAX_AGE": settings.DATABASES["default"]["CONN_MAX_AGE"],
    "CHANNEL_LAYER": settings.CHANNEL_LAYERS["default"],
    "CACHE": settings.CACHES["default"],
    "SESSION_COOKIE_SECURE": settings.SESSION_COOKIE_SECURE,
    "SECURE_SSL_REDIRECT": settings.SECURE_SSL_REDIRECT,
}))
"""


@pytest.fixture(autouse=True)
def _own_key_file(tmp_path, monkeypatch):
    """Without SECRET_KEY a process makes its key file: here in the test's own directory."""
    monkeypatch.setitem(KEY_FILE, "path", str(tmp_path / "secret_key"))


KEY_FILE: dict[str, str] = {}


def run(args, **environment):
    """Run Python in a clean environment: only what an operator would set, nothing from this test run."""
    env = {
        "PATH": os.environ.get("PATH", ""),
        "DJANGO_SETTINGS_MODULE": "flowchat.settings",
        "SECRET_KEY_FILE": KEY_FILE["path"],
        **environment,
    }
    return subprocess.run(
        [sys.executable, *args], cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=60
    )


def settings_with(**environment):
    result = run(["-c", "import django; django.setup()\n" + PRINT_SETTINGS], **environment)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_configuration_passes_check_deploy():
    result = run([MANAGE, "check", "--deploy", "--fail-level", "WARNING"], **PRODUCTION)

    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


def test_production_behind_a_proxy_passes_check_deploy():
    result = run(
        [MANAGE, "check", "--deploy", "--fail-level", "WARNING"],
        **PRODUCTION,
        TRUST_X_FORWARDED_PROTO="true",
        CSRF_TRUSTED_ORIGINS="https://chat.example.com",
    )

    assert result.returncode == 0, result.stdout + result.stderr


def test_check_deploy_does_complain_about_a_weak_key():
    # Proves the check above can fail: a short key is reported.
    result = run([MANAGE, "check", "--deploy", "--fail-level", "WARNING"], **{**PRODUCTION, "SECRET_KEY": "short"})

    assert result.returncode != 0
    assert "security.W009" in result.stdout + result.stderr


@pytest.mark.parametrize("secret_key", [None, ""], ids=["unset", "empty"])
def test_without_a_secret_key_one_is_made_once_and_kept_private(secret_key):
    environment = {key: value for key, value in PRODUCTION.items() if key != "SECRET_KEY"}
    if secret_key is not None:
        environment["SECRET_KEY"] = secret_key
    print_key = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"

    first = run(["-c", print_key], **environment)
    second = run(["-c", print_key], **environment)

    assert first.returncode == second.returncode == 0, first.stderr + second.stderr
    key_file = Path(KEY_FILE["path"])
    assert first.stdout.strip() == second.stdout.strip() == key_file.read_text().strip()
    assert len(first.stdout.strip()) >= 50
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert run([MANAGE, "check", "--deploy", "--fail-level", "WARNING"], **environment).returncode == 0


def test_secret_key_from_the_environment_wins_over_the_key_file():
    print_key = "import django; django.setup(); from django.conf import settings; print(settings.SECRET_KEY)"

    result = run(["-c", print_key], **PRODUCTION)

    assert result.stdout.strip() == PRODUCTION["SECRET_KEY"]
    assert not Path(KEY_FILE["path"]).exists()


def test_the_key_file_is_outside_git():
    ignored = subprocess.run(
        ["git", "check-ignore", "-q", ".secret_key"], cwd=settings.BASE_DIR, capture_output=True, check=False
    )

    assert ignored.returncode == 0


def test_production_turns_on_https_protections():
    values = settings_with(**PRODUCTION)

    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["chat.example.com"]
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["SECURE_SSL_REDIRECT"] is True


def test_debug_is_off_unless_asked_for():
    assert settings_with()["DEBUG"] is False
    assert settings_with(DEBUG="true")["DEBUG"] is True


def test_development_defaults_are_sqlite_and_in_memory():
    values = settings_with()

    assert values["DATABASE"]["ENGINE"] == "django.db.backends.sqlite3"
    assert values["CHANNEL_LAYER"]["BACKEND"] == "channels.layers.InMemoryChannelLayer"
    assert values["CACHE"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_database_url_selects_postgresql():
    values = settings_with(DATABASE_URL="postgres://flow:secret@db.example.com:5433/flowchat")

    assert values["DATABASE"] == {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": "flowchat",
        "HOST": "db.example.com",
        "PORT": "5433",
        "USER": "flow",
    }
    assert values["TEST_DATABASE"] == "test_flowchat"


def test_redis_url_selects_channels_redis_and_the_redis_cache():
    values = settings_with(REDIS_URL="redis://redis.example.com:6379/2")

    assert values["CHANNEL_LAYER"] == {
        "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
        "CONFIG": {"hosts": ["redis://redis.example.com:6379/2"], "prefix": "flowchat2"},
    }
    assert values["CACHE"] == {
        "BACKEND": "flowchat.cache.RedisWithFallback",
        "LOCATION": "redis://redis.example.com:6379/2",
        "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
    }


def test_a_non_numeric_limit_is_a_clear_error():
    result = run([MANAGE, "check"], UPLOAD_MAX_BYTES="5MB")

    assert result.returncode != 0
    assert "UPLOAD_MAX_BYTES must be a whole number, not '5MB'" in result.stderr


def test_postgresql_connections_come_from_a_bounded_pool_not_one_per_request():
    config = settings_with(DATABASE_URL="postgres://flowchat@db.example.com:5432/chat", DATABASE_POOL_SIZE="7")
    assert config["POOL"] == {"min_size": 2, "max_size": 7, "timeout": 10.0}
    assert config["CONN_MAX_AGE"] == 0


@pytest.mark.parametrize(
    ("url", "number"),
    [("redis://cache:6379", 0), ("redis://cache:6379/", 0), ("redis://cache/7", 7), ("redis://cache?db=3", 3)],
)
def test_the_redis_database_a_url_names(url, number):
    from flowchat.settings import redis_database

    assert redis_database(url) == number


def test_two_sites_on_one_redis_do_not_hear_each_other(settings):
    """Redis's publish/subscribe ignores the database number: the channel layer's prefix must not."""
    if not settings.REDIS_URL:
        pytest.skip("needs REDIS_URL (CI sets it)")
    import asyncio

    import redis
    from channels_redis.pubsub import RedisPubSubChannelLayer

    base = urlsplit(settings.REDIS_URL)._replace(path="", query="").geturl()
    config = {url: settings_with(REDIS_URL=url)["CHANNEL_LAYER"]["CONFIG"] for url in (f"{base}/1", f"{base}/2")}

    async def listen_and_count() -> tuple[int, int]:
        ours, theirs = (RedisPubSubChannelLayer(**config[url]) for url in config)
        channel = await ours.new_channel()
        await ours.group_add("chat.1", channel)
        try:
            # Who would receive a PUBLISH to the group's Redis channel, as each site names it.
            client = redis.Redis.from_url(settings.REDIS_URL)
            names = [layer._get_group_channel_name("chat.1") for layer in (ours, theirs)]
            counts = dict(client.pubsub_numsub(*names))
            return counts[names[0].encode()], counts[names[1].encode()]
        finally:
            await ours.group_discard("chat.1", channel)
            await ours.flush()
            await theirs.flush()

    listening_here, listening_there = asyncio.run(listen_and_count())
    assert (listening_here, listening_there) == (1, 0)


@pytest.mark.parametrize(
    ("url", "worker", "expected"),
    [
        ("redis://127.0.0.1:6379/0", "gw0", "redis://127.0.0.1:6379/0"),
        ("redis://127.0.0.1:6379/0", "gw1", "redis://127.0.0.1:6379/1"),
        ("redis://127.0.0.1:6379", "gw3", "redis://127.0.0.1:6379/3"),
        ("rediss://:secret@cache:6380/4?ssl_cert_reqs=none", "gw2", "rediss://:secret@cache:6380/6?ssl_cert_reqs=none"),
    ],
)
def test_each_test_worker_has_its_own_redis_database(url, worker, expected):
    from flowchat.settings_for_tests import _own_redis_database

    assert _own_redis_database(url, worker) == expected
