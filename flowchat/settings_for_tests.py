"""The test suite's settings: flowchat.settings in development mode, unless the environment says otherwise.

FlowChat's default is DEBUG off (a real server, HTTPS assumed); the tests talk plain HTTP to
the development configuration, as they always have, and set DEBUG themselves where it matters
(tests/e2e passes DEBUG to its servers; flowchat/tests/test_settings.py starts fresh processes).
"""

import os

os.environ.setdefault("DEBUG", "true")
# The suite never reaches the network: a message with a link fetches nothing, unless a test
# turns previews on against its own local server (conversations/tests/test_link_previews.py).
os.environ.setdefault("LINK_PREVIEWS", "false")


def _own_redis_database(url: str, worker: str) -> str:
    """The worker's own Redis database: the URL's (0 when it names none) plus the worker's number.

    Under pytest-xdist each worker (gw0, gw1, …) gets its own test database from pytest-django;
    this gives it its own Redis too, so that one worker's flush or rate limits never reach another's
    tests. Set in the environment, so that the servers a test starts (tests/e2e) inherit it.
    """
    scheme, _, rest = url.partition("://")
    address, _, database = rest.partition("/")
    database, _, query = database.partition("?")
    number = int(database or 0) + int(worker.removeprefix("gw"))
    return f"{scheme}://{address}/{number}" + (f"?{query}" if query else "")


if (worker := os.environ.get("PYTEST_XDIST_WORKER", "")) and os.environ.get("REDIS_URL"):
    os.environ["REDIS_URL"] = _own_redis_database(os.environ["REDIS_URL"], worker)

from flowchat.settings import *  # noqa: E402, F403 - after the environment above is set

# No push worker threads in the test process: a test that sends pushes runs the queue itself
# (conversations.webpush.sender.drain) or starts workers where it tests them.
PUSH_WORKERS = int(os.environ.get("PUSH_WORKERS", "0"))
