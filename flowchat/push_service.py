"""A push service on 127.0.0.1 for tests and benchmarks: it receives Web Push requests as
Firebase or Mozilla's would, checks their VAPID JWT and decrypts their payload with the
device's keys (a real P-256 key pair and auth secret made here), without the internet.

The server must allow its origin: WEBPUSH_TEST_ORIGINS=http://127.0.0.1:<port>.
"""

from __future__ import annotations

import base64
import json
import os
import re
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def vapid_keys() -> tuple[str, str]:
    """(public, private), as `manage.py vapid_keys` prints them."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint)
    return b64url(public), b64url(key.private_numbers().private_value.to_bytes(32, "big"))


@dataclass
class Device:
    """A browser's push subscription: its keys, and the endpoint at the local push service."""

    endpoint: str
    key: ec.EllipticCurvePrivateKey = field(default_factory=lambda: ec.generate_private_key(ec.SECP256R1()))
    auth: bytes = field(default_factory=lambda: os.urandom(16))

    def subscription(self) -> dict[str, Any]:
        """What PushSubscription.toJSON() gives a page."""
        public = self.key.public_key().public_bytes(
            serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
        )
        return {"endpoint": self.endpoint, "keys": {"p256dh": b64url(public), "auth": b64url(self.auth)}}

    def decrypt(self, body: bytes) -> dict[str, Any]:
        return json.loads(http_ece.decrypt(body, private_key=self.key, auth_secret=self.auth, version="aes128gcm"))


@dataclass
class Received:
    path: str
    headers: dict[str, str]  # by lower-case name
    body: bytes
    at: float  # time.perf_counter() when it arrived
    claims: dict[str, Any] | None = None
    jwt_error: str = ""


class PushService:
    """Answers each request with `status` (or what `answers` says for its path), after `gate` opens."""

    def __init__(self, vapid_public_key: str) -> None:
        self.vapid_public_key = vapid_public_key
        self.received: list[Received] = []
        self.status = 201
        self.answers: dict[str, list[tuple[int, dict[str, str]]]] = {}  # path -> answers, first first
        self.gate = threading.Event()
        self.gate.set()
        self.arrived = threading.Event()  # set at each request's arrival
        self.answered = threading.Event()  # set once a request has been answered
        self.lock = threading.Lock()
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                headers = {name.lower(): value for name, value in self.headers.items()}
                received = Received(self.path, headers, self.rfile.read(length), time.perf_counter())
                received.claims, received.jwt_error = service.check_jwt(received.headers)
                with service.lock:
                    service.received.append(received)
                    queued = service.answers.get(self.path)
                    status, headers = queued.pop(0) if queued else (service.status, {})
                service.arrived.set()
                service.gate.wait(30)
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", "0")
                self.end_headers()
                service.answered.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.origin = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def device(self, name: str = "") -> Device:
        return Device(f"{self.origin}/push/{name or b64url(os.urandom(9))}")

    def check_jwt(self, headers: dict[str, str]) -> tuple[dict[str, Any] | None, str]:
        """The VAPID JWT's claims when its signature is the server's key's; else why not."""
        authorization = headers.get("authorization", "")
        match = re.fullmatch(r"vapid t=([\w.-]+),\s*k=([\w-]+)", authorization)
        if not match:
            return None, f"no VAPID authorization: {authorization!r}"
        token, key = match.groups()
        if key != self.vapid_public_key:
            return None, "k is not the server's public key"
        head, payload, signature = token.split(".")
        if json.loads(unb64url(head)).get("alg") != "ES256":
            return None, "not an ES256 JWT"
        raw = unb64url(signature)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), unb64url(key))
        try:
            public.verify(
                encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")),
                f"{head}.{payload}".encode(),
                ec.ECDSA(hashes.SHA256()),
            )
        except InvalidSignature:
            return None, "bad signature"
        return json.loads(unb64url(payload)), ""

    def close(self) -> None:
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()
