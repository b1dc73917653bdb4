"""Django's ASGI handler, with a request whose client hangs up carried through to its end.

When the client disconnects while its request is being handled, Django cancels the request's
task and closes its body. But the view runs in a thread, which cannot be cancelled: it went on
reading a closed body ("I/O operation on closed file", logged as a 500 with a traceback), or it
finished its work (a message stored) and nobody closed its response, so what it published
(conversations.outbox.AfterTheAnswer) never left. Here the request runs to its end as if the
client were still there; only the answer is not sent, and the hang-up is logged at DEBUG.
"""

from __future__ import annotations

import asyncio
import logging

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIHandler
from django.http import HttpRequest, HttpResponseBase

logger = logging.getLogger(__name__)


class FinishingASGIHandler(ASGIHandler):
    async def run_get_response(self, request: HttpRequest) -> HttpResponseBase:
        work = asyncio.ensure_future(super().run_get_response(request))
        try:
            return await asyncio.shield(work)
        except asyncio.CancelledError:
            logger.debug("The client left before the answer to %s %s", request.method, request.path)
            # Django closes the body once this returns: let the view finish with it first.
            response = await work
            await sync_to_async(response.close)()
            raise
