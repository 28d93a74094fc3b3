"""A polite HTTP client for the watcher: robots.txt, a per-host pace, conditional GET, retries
with exponential backoff, timeouts, a size cap and a User-Agent that names storyline.

The clock and the sleep are injected so tests can check the pacing and the backoff without
waiting for them."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
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
# A Retry-After above this is taken as this: a host that asks for a day is tried again in an hour.
MAX_RETRY_AFTER = 3600.0


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
    def __init__(self, reason: str, detail: str, retry_after: float | None = None):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail
        self.retry_after = retry_after


class PoliteClient:
    """GET with manners. One instance per watcher: it holds the per-host clocks and robots rules.

    Several threads may call ``get`` at once for different hosts (the watcher keeps one request
    in flight per host); the per-host state is only touched by the thread working on that host.
    ``interrupt()`` wakes every thread waiting for its host's pace: their ``get`` raises a
    transient FetchError at once instead of sleeping on."""

    def __init__(self, options: FetchOptions | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] | None = None,
                 transport: httpx.BaseTransport | None = None):
        self.options = options or FetchOptions()
        self._clock = clock
        self._interrupted = threading.Event()
        self._sleep = sleep or self._interruptible_sleep
        self._last_request: dict[str, float] = {}
        # host -> clock time before which it asked (Retry-After) not to be asked again
        self._not_before: dict[str, float] = {}
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

    def interrupt(self) -> None:
        """Stop waiting: pauses in progress and to come end at once with a transient FetchError."""
        self._interrupted.set()

    def resume(self) -> None:
        self._interrupted.clear()

    def deferred_for(self, url: str) -> float:
        """Seconds the URL's host still asks us to wait (Retry-After); 0 when it does not."""
        until = self._not_before.get(urlsplit(url).netloc.lower())
        return max(0.0, until - self._clock()) if until is not None else 0.0

    def wait_time(self, url: str) -> float:
        """Seconds before the URL's host may be asked again (its pace, Crawl-delay, Retry-After)."""
        host = urlsplit(url).netloc.lower()
        ready = self._not_before.get(host, float("-inf"))
        last = self._last_request.get(host)
        if last is not None:
            ready = max(ready, last + max(self.options.host_delay, self._crawl_delay.get(host, 0.0)))
        return max(0.0, ready - self._clock())

    def get(self, url: str, validators: Validators | None = None) -> Response:
        """The page at ``url`` (a 304 Response when ``validators`` still hold). Raises FetchError."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise FetchError(url, "bad_url", "only http:// and https:// URLs can be watched")
        deferred = self.deferred_for(url)
        if deferred > self.options.max_backoff:
            # Too long to wait inside a round: the request is not made, and may pass next round.
            raise FetchError(url, "deferred", f"{parts.netloc.lower()} asked (Retry-After) not to "
                             f"be asked for {deferred:.0f} s more", transient=True)
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
            if exc.reason == "stopped":
                raise  # not an answer about the host: nothing to keep for an hour
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
                if exc.retry_after is not None:
                    self._defer(url, exc.retry_after)
                if attempt == opts.retries or (exc.retry_after or 0) > opts.max_backoff:
                    raise FetchError(url, exc.reason, f"{exc.detail} (after {attempt + 1} tries)",
                                     transient=True) from None
                wait = max(min(opts.backoff * 2 ** attempt, opts.max_backoff), exc.retry_after or 0)
                log.info("%s: %s, try %d of %d in %.1f s", url, exc.detail, attempt + 2,
                         opts.retries + 1, wait)
                self._sleep(wait)
        raise AssertionError("unreachable")

    def _once(self, url: str, headers: dict[str, str]) -> Response:
        if self._interrupted.is_set():
            raise FetchError(url, "stopped", "the watch is stopping", transient=True)
        self._pace(url, urlsplit(url).netloc.lower())
        started = time.monotonic()
        try:
            with self._http.stream("GET", url, headers=headers) as reply:
                if reply.status_code >= 500 or reply.status_code == 429:
                    detail, after = f"HTTP {reply.status_code}", None
                    if reply.status_code in (429, 503):
                        after = retry_after(reply.headers.get("retry-after"))
                        if after is not None:
                            detail += f", Retry-After {after:.0f} s"
                    raise _Retry("http_error", detail, after)
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

    def _pace(self, url: str, host: str) -> None:
        wait = self.wait_time(url)
        if wait > 0:
            self._sleep(wait)
            if self._interrupted.is_set():
                raise FetchError(url, "stopped", "the watch is stopping", transient=True)
        self._last_request[host] = self._clock()

    def _defer(self, url: str, seconds: float) -> None:
        host = urlsplit(url).netloc.lower()
        until = self._clock() + min(seconds, MAX_RETRY_AFTER)
        self._not_before[host] = max(until, self._not_before.get(host, until))

    def _interruptible_sleep(self, seconds: float) -> None:
        self._interrupted.wait(seconds)


def retry_after(value: str | None) -> float | None:
    """A Retry-After header (delay in seconds, or an HTTP date) -> seconds from now; None when
    absent or unreadable. A date in the past is 0."""
    if not value or not value.strip():
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:  # RFC 9110 dates are GMT
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - datetime.now(UTC)).total_seconds())


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.lower()}"
