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

from flowchat.settings import *  # noqa: F403

# No push worker threads in the test process: a test that sends pushes runs the queue itself
# (conversations.webpush.sender.drain) or starts workers where it tests them.
PUSH_WORKERS = int(os.environ.get("PUSH_WORKERS", "0"))
