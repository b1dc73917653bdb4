"""The installable app: the service worker at the site root and the web app manifest.

The service worker is served from /sw.js, not /static/, so that its scope is the whole site
(a worker's scope is at most its own directory, without a Service-Worker-Allowed header). It
is always revalidated (no-cache): browsers check it for updates at each navigation anyway, and
a stale one must never outlive a deploy.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

SERVICE_WORKER = Path(settings.BASE_DIR) / "static" / "js" / "sw.js"
# The palette's --accent and --bg (static/css/flowchat.css), light then dark.
THEME_COLORS = {"light": "#2f5fc4", "dark": "#0f1420"}
BACKGROUND_COLORS = {"light": "#f4f6fb", "dark": "#0f1420"}


@cache
def _service_worker() -> str:
    return SERVICE_WORKER.read_text(encoding="utf-8").replace("/static/", settings.STATIC_URL)


@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(_service_worker(), content_type="text/javascript; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    return response


def manifest_data() -> dict:
    icons = [
        {"src": static(f"img/icon-{size}.png"), "sizes": f"{size}x{size}", "type": "image/png", "purpose": "any"}
        for size in (192, 512)
    ] + [
        {
            "src": static(f"img/icon-maskable-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "maskable",
        }
        for size in (192, 512)
    ]
    return {
        "id": "/",
        "name": "FlowChat",
        "short_name": "FlowChat",
        "description": _("Chat with the people you work with."),
        "start_url": reverse("home"),
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLORS["light"],
        "background_color": BACKGROUND_COLORS["light"],
        "icons": icons,
    }


@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest; the dark theme's colours are in the pages' theme-color meta tags
    (the manifest format has one colour of each kind)."""
    response = HttpResponse(json.dumps(manifest_data(), ensure_ascii=False), content_type="application/manifest+json")
    response["Cache-Control"] = "public, max-age=3600"
    return response
