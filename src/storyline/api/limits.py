"""Request size and request rate limits."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable

from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from storyline.api.errors import ApiError, error_body

DEFAULT_MAX_BODY_BYTES = 5 * 1024 * 1024


class BodyTooLarge(ApiError):
    def __init__(self, limit: int):
        super().__init__(413, f"request body exceeds the limit of {limit:,} bytes",
                         detail={"limit_bytes": limit, "hint": "send fewer records per request"})


class BodyLimit:
    """ASGI middleware refusing a body over ``max_bytes``: at once when Content-Length says so,
    else as soon as the streamed (chunked) body passes the limit, before it is all read."""

    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_BODY_BYTES):
        if not isinstance(max_bytes, int) or max_bytes < 1:
            raise ValueError(f"max_bytes must be a whole number >= 1, got {max_bytes!r}")
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or ()).get(b"content-length")
        if declared is not None:
            try:
                length = int(declared)
            except ValueError:
                length = -1
            if length < 0:
                await _reply(scope, receive, send, 400, "bad_request", "Content-Length is not a number")
                return
            if length > self.max_bytes:
                exc = BodyTooLarge(self.max_bytes)
                await _reply(scope, receive, send, 413, exc.code, exc.message, exc.extra)
                return
        received = 0

        async def counted() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counted, send)


async def _reply(scope: Scope, receive: Receive, send: Send, status: int, code: str, message: str,
                 detail=None) -> None:
    # Keep-alive after an unread body would make the server parse it as the next request.
    response = JSONResponse(error_body(code, message, detail), status_code=status,
                            headers={"Connection": "close"})
    await response(scope, receive, send)


class TokenBucket:
    """Per-client token buckets: up to ``burst`` requests at once, refilled at ``rate`` a second.

    Thread-safe; keeps at most ``max_clients`` buckets, forgetting the least recently seen
    (a forgotten client starts again with a full bucket, which is the safe side of wrong)."""

    def __init__(self, rate: float, burst: int, *, max_clients: int = 10_000,
                 clock: Callable[[], float] = time.monotonic):
        if not rate > 0:
            raise ValueError(f"rate must be > 0 requests per second, got {rate!r}")
        if not isinstance(burst, int) or burst < 1:
            raise ValueError(f"burst must be a whole number >= 1, got {burst!r}")
        self.rate = float(rate)
        self.burst = burst
        self.max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def take(self, client: str) -> float:
        """Spend one token of ``client``'s: 0.0 when there was one, else the seconds until one is."""
        now = self._clock()
        with self._lock:
            tokens, stamp = self._buckets.pop(client, (float(self.burst), now))
            tokens = min(float(self.burst), tokens + (now - stamp) * self.rate)
            wait = 0.0
            if tokens >= 1.0:
                tokens -= 1.0
            else:
                wait = (1.0 - tokens) / self.rate
            self._buckets[client] = (tokens, now)
            while len(self._buckets) > self.max_clients:
                self._buckets.popitem(last=False)
        return wait
