"""The socket routes (flowchat.asgi): tabs at /ws/, scripts at /ws/api/."""

from channels.auth import AuthMiddlewareStack
from channels.generic.websocket import AsyncWebsocketConsumer
from django.urls import path, re_path

from flowchat.origins import SiteOriginOnly

from .consumers import ApiSocket, BrowserSocket


class NoSuchSocket(AsyncWebsocketConsumer):
    async def connect(self) -> None:
        await self.close()


websocket_urlpatterns = [
    # A tab: the session cookie says who it is, so only pages of this site (its full origin) may open it.
    path("ws/", SiteOriginOnly(AuthMiddlewareStack(BrowserSocket.as_asgi()))),
    # A script: the token header says who it is; browsers never send that header by themselves,
    # so no Origin is asked for (scripts send none).
    path("ws/api/", ApiSocket.as_asgi()),
    re_path(r"", NoSuchSocket.as_asgi()),
]
