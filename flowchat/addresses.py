"""The address a request came from, as every rate limit counts it.

Behind a proxy every request comes from the proxy; the client's own address is in the header
the proxy sets (CLIENT_IP_HEADER, for example X-Real-IP), which settings turn into
RATELIMIT_IP_META_KEY (django_ratelimit's own name for it).
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

# Longer than any IPv6 address with a zone: a header that is not an address counts as one, capped.
MAX_LENGTH = 64


def client_address(request: HttpRequest) -> str:
    """The client's address, or "unknown" (a unix socket, a test's ASGI scope): they share one counter."""
    meta_key = getattr(settings, "RATELIMIT_IP_META_KEY", None) or "REMOTE_ADDR"
    return (request.META.get(meta_key) or "").strip()[:MAX_LENGTH] or "unknown"
