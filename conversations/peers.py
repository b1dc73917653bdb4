"""A tab that closes while something is on its way to it: normal, never an error.

Between the moment a tab goes away (closed, reloaded, the laptop lid shut) and the moment its
server notices, a send to its socket fails, each server in its own words: daphne (autobahn)
raises Disconnected ("Attempt to send on a closed protocol"), uvicorn ClientDisconnected,
the websockets library ConnectionClosed, a bare transport ConnectionResetError. Left to
propagate, the consumer ends with an exception and the server logs it with a traceback.
`quiet_sends` makes such a send end the consumer as a disconnect does (StopConsumer), so
that it forgets the socket as usual (PersonSocket.__call__) and nothing is logged above DEBUG.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from channels.exceptions import StopConsumer

logger = logging.getLogger(__name__)

Send = Callable[[dict[str, Any]], Awaitable[None]]


def _gone_errors() -> tuple[type[BaseException], ...]:
    errors: list[type[BaseException]] = [ConnectionError]
    # Each server's own exception, for whichever of them is installed.
    with contextlib.suppress(ImportError):
        from autobahn.exception import Disconnected

        errors.append(Disconnected)
    with contextlib.suppress(ImportError):
        from uvicorn.protocols.utils import ClientDisconnected

        errors.append(ClientDisconnected)
    with contextlib.suppress(ImportError):
        from websockets.exceptions import ConnectionClosed

        errors.append(ConnectionClosed)
    return tuple(errors)


PEER_GONE = _gone_errors()


class PeerGone(StopConsumer):
    """The socket's peer went away during a send: the consumer stops as after a disconnect."""


def quiet_sends(send: Send, describe: Callable[[], str]) -> Send:
    """`send`, where a peer that is gone ends the consumer quietly instead of with an error."""

    async def send_to_peer(message: dict[str, Any]) -> None:
        try:
            await send(message)
        except PEER_GONE as exc:
            logger.debug("%s went away during a send (%s: %s)", describe(), type(exc).__name__, exc)
            raise PeerGone from exc

    return send_to_peer
