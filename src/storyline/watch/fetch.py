"""A polite HTTP client for the watcher: robots.txt, a per-host pace, conditional GET, retries
with exponential backoff, timeouts, a size cap and a User-Agent that names storyline.

The clock and the sleep are injected so tests can check the pacing and the backoff without
waiting for them."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

log = logging.getLogger("storyline.watch")

try:
    _VERSION = version("storyline")
except PackageNotFoundError:  # a source checkout that was never installed
    _VERSION = "dev"
USER_AGENT = f"storyline/{_VERSION} (news watcher; +https://github.com/storyline/storyline)"
# The token robots.txt groups are matched against; "storyline/1.2 (...)" would match nothing.
ROBOTS_AGENT = "storyline"
# A Crawl-delay above this is taken as this: one host must not stall the watch of all the others.
MAX_CRAWL_DELAY = 60.0


@dataclass(frozen=True, slots=True)
class FetchOptions:
    # Seconds between two requests to one host: one outlet is never hit faster than this.
    host_delay: float = 2.0
    # Seconds for connecting and for each read; the whole body must also arrive within total.
    timeout: float = 20.0
    total_timeout: float = 60.0
    # A news page is well under a megabyte; anything far larger is not an article.
    max_bytes: int = 5 * 1024 * 1024
    # Tries after the first for 5xx answers, 429, timeouts and broken connections.
    retries: int = 3
    backoff: float = 2.0  # first wait; doubled on each further try
    max_backoff: float = 60.0
    # robots.txt is read again after this many seconds.
    robots_ttl: float = 3600.0
    user_agent: str = USER_AGENT

    def __post_init__(self):
        for name in ("host_delay", "timeout", "total_timeout", "backoff", "max_backoff", "robots_ttl"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or value < 0:
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if self.timeout <= 0 or self.total_timeout <= 0:
            raise ValueError(f"timeouts must be > 0, got {self.timeout!r}/{self.total_timeout!r}")
        if not isinstance(self.max_bytes, int) or self.max_bytes < 1:
            raise ValueError(f"max_bytes must be a positive whole number, got {self.max_bytes!r}")
        if not isinstance(self.retries, int) or self.retries < 0:
            raise ValueError(f"retries must be a whole number >= 0, got {self.retries!r}")


@dataclass(frozen=True, slots=True)
class Validators:
    """What a server said about a URL's version: sent back to get a 304 when nothing changed."""

    etag: str | None = None
    last_modified: str | None = None

    def headers(self) -> dict[str, str]:
        out = {}
        if self.etag:
            out["If-None-Match"] = self.etag
        if self.last_modified:
            out["If-Modified-Since"] = self.last_modified
        return out


@dataclass(frozen=True, slots=True)
class Response:
    url: str  # after redirects
    status: int
    content: bytes
    content_type: str
    validators: Validators

    @property
    def not_modified(self) -> bool:
        return self.status == 304


class FetchError(Exception):
    """One URL could not be fetched. ``transient`` failures (5xx, timeouts, broken connections)
    are worth another try on the next round; the others (4xx, robots, size) are not."""

    def __init__(self, url: str, reason: str, detail: str, *, transient: bool = False):
        super().__init__(f"{url}: {reason}: {detail}")
        self.url = url
        self.reason = reason
        self.detail = detail
        self.transient = transient


class _Retry(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


class PoliteClient:
    """GET with manners. One instance per watcher: it holds the per-host clocks and robots rules."""

    def __init__(self, options: FetchOptions | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 transport: httpx.BaseTransport | None = None):
        self.options = options or FetchOptions()
        self._clock = clock
        self._sleep = sleep
        self._last_request: dict[str, float] = {}
        self._robots: dict[str, tuple[float, RobotFileParser | None]] = {}
        self._crawl_delay: dict[str, float] = {}  # host -> seconds its robots.txt asks for
        timeout = httpx.Timeout(self.options.timeout)
        self._http = httpx.Client(timeout=timeout, follow_redirects=True, transport=transport,
                                  headers={"User-Agent": self.options.user_agent})

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> PoliteClient:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    # -- public -----------------------------------------------------------------------------

    def get(self, url: str, validators: Validators | None = None) -> Response:
        """The page at ``url`` (a 304 Response when ``validators`` still hold). Raises FetchError."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(url, "bad_url", "only http:// and https:// URLs can be watched")
        if not self.allowed(url):
            raise FetchError(url, "robots", f"disallowed by {_origin(url)}/robots.txt")
        headers = validators.headers() if validators else {}
        response = self._with_retries(url, headers)
        if response.status >= 400:
            raise FetchError(url, "http_error", f"HTTP {response.status}")
        return response

    def allowed(self, url: str) -> bool:
        """Whether robots.txt of the URL's host lets storyline fetch it (read once per TTL)."""
        origin = _origin(url)
        cached = self._robots.get(origin)
        if cached is None or self._clock() - cached[0] > self.options.robots_ttl:
            cached = (self._clock(), self._read_robots(origin))
            self._robots[origin] = cached
            delay = cached[1].crawl_delay(ROBOTS_AGENT) if cached[1] is not None else None
            self._crawl_delay[urlsplit(origin).netloc] = min(float(delay or 0), MAX_CRAWL_DELAY)
        rules = cached[1]
        return True if rules is None else rules.can_fetch(ROBOTS_AGENT, url)

    # -- internals --------------------------------------------------------------------------

    def _read_robots(self, origin: str) -> RobotFileParser | None:
        """Rules for a host; None when it has none. Following RFC 9309, a missing robots.txt (4xx)
        allows everything and an unreachable one (5xx, network) forbids everything for now."""
        url = f"{origin}/robots.txt"
        rules = RobotFileParser(url)
        try:
            response = self._with_retries(url, {})
        except FetchError as exc:
            log.warning("%s: robots.txt unreachable (%s); not fetching from this host for now",
                        origin, exc.detail)
            rules.disallow_all = True
            return rules
        if 400 <= response.status < 500:
            return None
        text = response.content.decode("utf-8", "replace")
        rules.parse(text.splitlines())
        return rules

    def _with_retries(self, url: str, headers: dict[str, str]) -> Response:
        opts = self.options
        for attempt in range(opts.retries + 1):
            try:
                return self._once(url, headers)
            except _Retry as exc:
                if attempt == opts.retries:
                    raise FetchError(url, exc.reason, f"{exc.detail} (after {attempt + 1} tries)",
                                     transient=True) from None
                wait = min(opts.backoff * 2 ** attempt, opts.max_backoff)
                log.info("%s: %s, try %d of %d in %.1f s", url, exc.detail, attempt + 2,
                         opts.retries + 1, wait)
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: dict[str, str]) -> Response:
        self._pace(urlsplit(url).netloc.lower())
        started = time.monotonic()
        try:
            with self._http.stream("GET", url, headers=headers) as reply:
                if reply.status_code >= 500 or reply.status_code == 429:
                    raise _Retry("http_error", f"HTTP {reply.status_code}")
                content = self._read_body(url, reply, started)
                return Response(
                    url=str(reply.url), status=reply.status_code, content=content,
                    content_type=reply.headers.get("content-type", "").lower(),
                    validators=Validators(reply.headers.get("etag"),
                                          reply.headers.get("last-modified")),
                )
        except httpx.TimeoutException:
            raise _Retry("timeout", f"no answer within {self.options.timeout:g} s") from None
        except httpx.TransportError as exc:
            raise _Retry("connection", f"{type(exc).__name__}: {exc}") from None
        except httpx.HTTPError as exc:  # a bad redirect, an invalid header...
            raise FetchError(url, "http_error", str(exc)) from None

    def _read_body(self, url: str, reply: httpx.Response, started: float) -> bytes:
        limit = self.options.max_bytes
        declared = reply.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise FetchError(url, "too_large", f"{int(declared):,} bytes declared, limit {limit:,}")
        chunks, size = [], 0
        for chunk in reply.iter_bytes():
            size += len(chunk)
            if size > limit:
                raise FetchError(url, "too_large", f"more than {limit:,} bytes")
            # A server that drips one byte per read never trips the read timeout.
            if time.monotonic() - started > self.options.total_timeout:
                raise _Retry("timeout", f"body not complete within {self.options.total_timeout:g} s")
            chunks.append(chunk)
        return b"".join(chunks)

    def _pace(self, host: str) -> None:
        last = self._last_request.get(host)
        if last is not None:
            gap = max(self.options.host_delay, self._crawl_delay.get(host, 0.0))
            wait = last + gap - self._clock()
            if wait > 0:
                self._sleep(wait)
        self._last_request[host] = self._clock()


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"
