"""ASGI entry point: HTTP through Django, WebSockets through Channels (see README "Real time")."""

import asyncio
import contextlib
import gc
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowchat.settings")
# Django must be set up before anything imports models (what get_asgi_application does first).
django.setup(set_prefix=False)

from flowchat.asgi_handler import FinishingASGIHandler  # noqa: E402

django_asgi_app = FinishingASGIHandler()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from conversations.outbox import outbox  # noqa: E402
from conversations.presence import presence  # noqa: E402
from conversations.routing import websocket_urlpatterns  # noqa: E402
from conversations.webpush import sender as push_sender  # noqa: E402
from flowchat.request_bodies import BodyLimit  # noqa: E402


def adapt_daphne() -> None:
    """Stop daphne's HTTP layer (Twisted) from parsing multipart POST bodies itself, and from naming itself.

    Twisted reads every multipart/form-data POST into its own copy, which nothing uses
    (Django parses the body again), and answers one it cannot parse with a bare 400 of
    its own: no JSON, no Content-Type, before FlowChat sees the request. And daphne answers
    every request and WebSocket handshake with `Server: daphne`, which tells a prober what to
    aim at (bin/serve passes uvicorn --no-server-header; runserver has no such option). Daphne
    imports this module (the ASGI_APPLICATION) before it serves, `runserver` included.
    """
    try:
        from daphne import http_protocol
    except ImportError:  # served by another ASGI server
        return
    if getattr(http_protocol.WebRequest, "leaves_form_bodies_to_django", False):
        return

    class WebRequest(http_protocol.WebRequest):
        leaves_form_bodies_to_django = True

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self._parsePOSTFormSubmission = False
            # Daphne names itself only when its server has a name; the socket handshake likewise.
            server = getattr(self, "server", None)
            if getattr(server, "server_name", None):
                server.server_name = ""
                server.ws_factory.server = None

    # HTTPFactory.buildProtocol looks the class up by this name on every connection.
    http_protocol.WebRequest = WebRequest


adapt_daphne()

# A graceful stop waits at most this long for presence and events to be written and published.
SHUTDOWN_SECONDS = 5

# Oversized bodies are refused before Django reads them (flowchat.request_bodies).
router = ProtocolTypeRouter({"http": BodyLimit(django_asgi_app), "websocket": URLRouter(websocket_urlpatterns)})


# Young objects may number this many before a collection (Python's default is 700). A fan-out to a
# thousand sockets makes its frames and events faster than they die: collected every 700, they
# were promoted to the old generation, whose full collections (every object of every socket,
# 300,000 of them at 1,000 sockets) paused the event loop for 70-170 ms mid-fan-out. With this
# room they die young; a young collection takes 5-10 ms there. docs/performance-notes.md
YOUNG_OBJECTS = 20_000


def tune_garbage_collection() -> None:
    """What the app loaded to serve is kept for good: out of every collection (gc.freeze)."""
    gc.freeze()
    _young, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_OBJECTS, middle, old)


tune_garbage_collection()


async def application(scope, receive, send):
    """The router, with the outbox publishing from this server's event loop (conversations.outbox)."""
    if scope["type"] == "lifespan":
        await lifespan(receive, send)
        return
    outbox.start()
    # The push workers (conversations.webpush), also for jobs left in Redis by a restart.
    push_sender.start()
    await router(scope, receive, send)


async def lifespan(receive, send) -> None:
    """Servers that say when they start and stop (uvicorn, granian; not daphne).

    At a graceful stop the server has closed its sockets first: what they told the outbox and
    presence is published and written before the process ends, so their people go offline now,
    not when their heartbeat expires.
    """
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            outbox.start()
            push_sender.start()
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            # Not for ever: with the database or Redis gone, the heartbeat's expiry does it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(asyncio.gather(presence.settled(), outbox.drain()), SHUTDOWN_SECONDS)
            await send({"type": "lifespan.shutdown.complete"})
            return
