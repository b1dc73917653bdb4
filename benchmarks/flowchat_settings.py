"""FlowChat's own settings for the real-time benchmark, with one change: its channel-layer prefix.

Redis publish/subscribe channels are shared by every database number, so without a prefix of
its own a benchmark's `user.<id>` groups would be the same channels as those of tests running
on the same Redis at the same time (their user 5 would hear our user 5). The layer, its
backend and every other setting stay exactly as flowchat.settings makes them.
"""

from flowchat.settings import *  # noqa: F403
from flowchat.settings import CHANNEL_LAYERS

CHANNEL_LAYERS["default"].setdefault("CONFIG", {})["prefix"] = "flowchat-bench"
