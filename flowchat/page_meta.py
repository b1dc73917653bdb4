"""What a fetched page says about itself, for a link preview: Open Graph, twitter:, <title>, description.

html.parser never raises on junk; every text is stripped of control and bidi-control characters
and capped, since the page is anyone's.
"""

from __future__ import annotations

import re
import unicodedata
from html.parser import HTMLParser

SITE_NAME_MAX = 100
TITLE_MAX = 300
DESCRIPTION_MAX = 500
URL_MAX = 2000

WHITESPACE = re.compile(r"\s+")


def clean_text(value: str, limit: int) -> str:
    """One line, without control or format characters (RTL overrides included), at most `limit` long."""
    kept = "".join(" " if char in "\t\n\r" else char for char in value[: limit * 4])
    kept = "".join(char for char in kept if unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co"))
    kept = WHITESPACE.sub(" ", kept).strip()
    return kept if len(kept) <= limit else kept[: limit - 1].rstrip() + "…"


class _MetaParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.meta: dict[str, str] = {}
        self.title: list[str] = []
        self.in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): value or "" for name, value in attrs}
        if tag == "title" and not self.title:
            self.in_title = True
        elif tag == "meta":
            key = (values.get("property") or values.get("name") or "").strip().lower()
            if key and "content" in values:
                self.meta.setdefault(key, values["content"])

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self.in_title = False

    def handle_data(self, data: str) -> None:
        if self.in_title and sum(map(len, self.title)) < TITLE_MAX * 4:
            self.title.append(data)


def page_meta(html: str) -> dict[str, str]:
    """site_name, title, description and image (as found, unresolved) of a page; empty strings where none."""
    parser = _MetaParser()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # noqa: S110 - a page's junk must not break a preview; what was parsed stays
        pass
    meta = parser.meta

    def first(*keys: str) -> str:
        return next((meta[key] for key in keys if meta.get(key, "").strip()), "")

    return {
        "site_name": clean_text(first("og:site_name", "application-name"), SITE_NAME_MAX),
        "title": clean_text(first("og:title", "twitter:title") or "".join(parser.title), TITLE_MAX),
        "description": clean_text(first("og:description", "twitter:description", "description"), DESCRIPTION_MAX),
        "image": first("og:image:secure_url", "og:image", "og:image:url", "twitter:image", "twitter:image:src").strip()[
            :URL_MAX
        ],
    }
