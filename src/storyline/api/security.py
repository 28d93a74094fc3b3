"""Who may write: a Bearer token when one is configured; without one, only a server bound to
loopback taking requests from this machine; nobody otherwise. Writes are rate limited per client."""

from __future__ import annotations

import hmac
import ipaddress
import math
from dataclasses import dataclass

from fastapi import Request
from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storyline.api.errors import ApiError, error_response
from storyline.api.limits import TokenBucket

LOCAL_HOST_NAMES = frozenset({"localhost", "127.0.0.1", "::1", "[::1]"})
# JSON is data, never a page: a browser must not sniff it into HTML, frame it or run anything in it.
API_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
# Everything else (static files, /openapi.json, /docs, redirects); pages set their own, stricter.
OTHER_HEADERS = {"X-Content-Type-Options": "nosniff", "Referrer-Policy": "no-referrer"}


def is_loopback(host: str | None) -> bool:
    """True for localhost and loopback addresses (127.0.0.0/8, ::1)."""
    if not host:
        return False
    name = host.strip().lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class WriteAccess:
    token: str | None = None
    # Tokenless writes from this machine: only for a server bound to a loopback address.
    local_writes: bool = False
    bucket: TokenBucket | None = None

    def __post_init__(self):
        if self.token is not None and not self.token.strip():
            raise ValueError("the API token is empty; set a long random one or none at all")

    @property
    def enabled(self) -> bool:
        return bool(self.token) or self.local_writes

    @property
    def mode(self) -> str:
        return "token" if self.token else "local" if self.local_writes else "disabled"

    def check(self, request: Request) -> None:
        """Raise 429, 403 or 401 (in that order of checking) unless ``request`` may write."""
        client = request.client.host if request.client else "unknown"
        if self.bucket is not None:
            wait = self.bucket.take(client)
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                raise ApiError(429, f"too many write requests; retry in {seconds} s",
                               detail={"retry_after": seconds},
                               headers={"Retry-After": str(seconds)})
        if self.token:
            self._check_token(request)
        elif not self.local_writes:
            raise ApiError(403, "writes are disabled: this server has no API token",
                           code="writes_disabled",
                           detail={"hint": "start `storyline serve` with STORYLINE_API_TOKEN set "
                                           "(or bound to 127.0.0.1 for tokenless local writes)"})
        else:
            self._check_local(request, client)

    def _check_token(self, request: Request) -> None:
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        challenge = {"WWW-Authenticate": "Bearer"}
        if scheme.lower() != "bearer" or not given.strip():
            raise ApiError(401, "this endpoint needs an API token: Authorization: Bearer TOKEN",
                           headers=challenge)
        if not hmac.compare_digest(given.strip().encode("utf-8"), self.token.encode("utf-8")):
            raise ApiError(401, "the API token is not valid", headers=challenge)

    def _check_local(self, request: Request, client: str) -> None:
        host = request.headers.get("host", "")
        name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
        # A page on another site can make a browser post here; a remote peer behind a proxy, or a
        # DNS name rebound to 127.0.0.1, shows up as a non-local peer or Host.
        if not is_loopback(client) or name.lower() not in LOCAL_HOST_NAMES:
            raise ApiError(403, "tokenless writes are accepted only from this machine",
                           code="writes_disabled",
                           detail={"hint": "set an API token to write from elsewhere"})


class RequestHygiene:
    """ASGI middleware: a URL holding a NUL byte is refused (400) before any route sees it, and
    every answer gets the security headers it does not set itself.

    NUL is no character of any id, query or filter; PostgreSQL refuses it in a text parameter,
    which made such a request a 503 naming the store."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        query = scope.get("query_string", b"")
        if "\x00" in path or b"\x00" in query or b"%00" in query:
            response = error_response(Request(scope), 400, "bad_request",
                                      "a NUL byte is not allowed in a URL")
            await response(scope, receive, send)
            return
        wanted = API_HEADERS if path.startswith("/api/") else OTHER_HEADERS

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in wanted.items():
                    if name not in headers:
                        headers[name] = value
            await send(message)

        await self.app(scope, receive, send_with_headers)
