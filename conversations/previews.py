"""Link previews: the first http(s) link of a message, fetched after it is committed, off the request path.

send_message and edit_message (when the first link changed) schedule `schedule` with
`transaction.on_commit`; it hands the fetch to a small pool of threads of this process, with a
bounded queue: when it is full the preview is dropped, with a log line (a preview is optional,
a message is not). The fetch goes through the SSRF guard (flowchat.link_fetch); the page's
picture is downloaded, verified and re-encoded (flowchat.images) and served by FlowChat.
`actions.set_link_preview` stores the result and pushes it live. With LINK_PREVIEWS off nothing
is scheduled; LINK_PREVIEW_SYNC runs the job in the caller's thread (the tests).
"""

from __future__ import annotations

import logging
import queue
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import close_old_connections, connections

from flowchat import link_fetch
from flowchat.images import ImageSpec, clean_image
from flowchat.page_meta import URL_MAX, page_meta

logger = logging.getLogger(__name__)

# A link as people write it: up to whitespace or a character no URL has unescaped.
LINK = re.compile(r"https?://[^\s<>\"'`]+", re.IGNORECASE)
# Punctuation that ends a sentence rather than the link ("see https://example.com.").
TRAILING = ".,;:!?)]}*_~"
# <meta charset="..."> or <meta http-equiv="Content-Type" content="text/html; charset=...">, near the top.
META_CHARSET = re.compile(rb"<meta[^>]+charset=[\"']?([A-Za-z0-9_.:-]{1,40})", re.IGNORECASE)
# The preview's picture, at most this many pixels on its long side.
PREVIEW_IMAGE = ImageSpec(size=480, square=False)


def first_link(text: str) -> str | None:
    """The first http(s) link in a message's text, as its preview would fetch it; None if there is none."""
    for match in LINK.finditer(text or ""):
        link = match.group(0)
        while link and link[-1] in TRAILING:
            # A closing bracket the link opened is part of it (Wikipedia's "..._(film)").
            if link[-1] == ")" and link.count("(") >= link.count(")"):
                break
            link = link[:-1]
        parts = urlsplit(link)
        if parts.hostname and len(link) <= URL_MAX:
            return link
    return None


@dataclass(frozen=True)
class Preview:
    url: str
    site_name: str
    title: str
    description: str
    image: ContentFile | None


def fetch_preview(url: str) -> Preview | None:
    """What the page at `url` says about itself, with its picture re-encoded; None if there is nothing to show.

    Never raises for what the page or the network does: a refused or failed fetch is no preview,
    a refused or broken picture is a preview without one.
    """
    try:
        page = link_fetch.fetch(url, accept=link_fetch.is_html, max_bytes=link_fetch.PAGE_MAX_BYTES, truncate=True)
    except link_fetch.FetchRefused as refusal:
        logger.info("No link preview for %s: %s", url, refusal)
        return None
    meta = page_meta(_decode(page.body, page.charset))
    image = _picture(urljoin(page.url, meta["image"])) if meta["image"] else None
    if not (meta["title"] or meta["description"] or image):
        return None
    return Preview(url, meta["site_name"], meta["title"], meta["description"], image)


def _decode(body: bytes, charset: str) -> str:
    """The page as text: in the charset its Content-Type names, else its <meta charset>, else UTF-8."""
    if not charset and (declared := META_CHARSET.search(body[:4096])):
        charset = declared.group(1).decode("ascii")
    try:
        return body.decode(charset or "utf-8", errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _picture(url: str) -> ContentFile | None:
    """The page's picture, fetched through the same guard and re-encoded; None if it cannot be."""
    try:
        fetched = link_fetch.fetch(url, accept=link_fetch.is_image, max_bytes=link_fetch.IMAGE_MAX_BYTES)
        return clean_image(SimpleUploadedFile("preview", fetched.body), PREVIEW_IMAGE)
    except link_fetch.FetchRefused as refusal:
        logger.info("No picture for a link preview from %s: %s", url, refusal)
    except ValidationError:
        logger.info("No picture for a link preview from %s: not a picture FlowChat takes", url)
    return None


def run(message_id: int, url: str) -> None:
    """The job: fetch the preview of `url` and store it on the message (which may have changed since)."""
    from . import actions

    preview = fetch_preview(url)
    if preview is not None:
        actions.set_link_preview(message_id, preview)


class Pool:
    """A few daemon threads taking jobs from a bounded queue; `submit` never blocks."""

    def __init__(self, workers: int, size: int) -> None:
        self.workers = max(1, workers)
        self.jobs: queue.Queue[Callable[[], None]] = queue.Queue(maxsize=max(1, size))
        self.threads: list[threading.Thread] = []
        self.lock = threading.Lock()

    def submit(self, job: Callable[[], None]) -> bool:
        """Queue the job; False (and nothing done) when the queue is full."""
        self._start()
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            return False
        return True

    def _start(self) -> None:
        with self.lock:
            while len(self.threads) < self.workers:
                thread = threading.Thread(target=self._work, name=f"link-preview-{len(self.threads)}", daemon=True)
                thread.start()
                self.threads.append(thread)

    def _work(self) -> None:
        while True:
            job = self.jobs.get()
            try:
                close_old_connections()
                job()
            except Exception:
                logger.exception("A link preview failed")
            finally:
                # This thread's database connection is not kept between jobs.
                connections.close_all()
                self.jobs.task_done()


_pool: Pool | None = None
_pool_lock = threading.Lock()


def pool() -> Pool:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = Pool(settings.LINK_PREVIEW_WORKERS, settings.LINK_PREVIEW_QUEUE)
        return _pool


def schedule(message_id: int, url: str) -> None:
    """Fetch the preview of a committed message's link off the request path (or now, with LINK_PREVIEW_SYNC)."""
    if not settings.LINK_PREVIEWS:
        return
    if settings.LINK_PREVIEW_SYNC:
        run(message_id, url)
        return
    if not pool().submit(lambda: run(message_id, url)):
        logger.warning("Link preview dropped for message %s: the queue of previews is full", message_id)
