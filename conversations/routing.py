"""The socket routes (flowchat.asgi): tabs at /ws/, scripts at /ws/api/."""

from channels.generic.websocket import AsyncWebsocketConsumer
from channels.sessions import SessionMiddlewareStack
from django.urls import path, re_path

from flowchat.origins import SiteOriginOnly

from .consumers import ApiSocket, BrowserSocket


class NoSuchSocket(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.close()


websocket_urlpatterns = [
    # A tab: the session cookie says who it is, so only pages of this site (its full origin) may open it.
    # The socket reads the session's person itself, with its chats, in one trip to the database.
    path("ws/", SiteOriginOnly(SessionMiddlewareStack(BrowserSocket.as_asgi()))),
    # A script: the token header says who it is; browsers never send that header by themselves,
    # so no Origin is asked for (scripts send none).
    path("ws/api/", ApiSocket.as_asgi()),
    re_path(r"", NoSuchSocket.as_asgi()),
]
