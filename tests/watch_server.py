"""A local HTTP server for the watch tests: fixture feeds and pages on 127.0.0.1, plus pages that
misbehave on purpose (a 500 then a 200, a slow answer, a huge body, a 304 for a known ETag)."""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass, field
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

FIXTURES = Path(__file__).parent / "fixtures" / "watch"
ROBOTS = "User-agent: *\nDisallow: /private/\n"


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0  # answer failure_status this many times first
    failure_status: int = 500
    retry_after: str | None = None  # sent with the failures
    delay: float = 0.0  # seconds before answering
    length: bool = True  # send Content-Length (else the body ends when the connection closes)
    hits: int = 0


@dataclass
class Request:
    path: str
    headers: dict
    at: float


@dataclass
class Site:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Request] = field(default_factory=list)
    base: str = ""
    seen: threading.Event = field(default_factory=threading.Event)
    watch_path: str | None = None  # ``seen`` is set when this path is asked for
    in_flight: int = 0  # requests being answered now, and the most there ever were at once
    most_in_flight: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, path: str, route: Route) -> str:
        self.routes[path] = route
        return self.base + path

    def fixture(self, path: str, name: str, **kwargs) -> str:
        body = (FIXTURES / name).read_text(encoding="utf-8").replace("{base}", self.base)
        kind = {"rss": "application/rss+xml", "atom": "application/atom+xml"}.get(
            name.rsplit(".", 1)[-1], "text/html; charset=utf-8")
        kwargs.setdefault("content_type", kind)
        return self.add(path, Route(body=body.encode("utf-8"), **kwargs))

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]


def _handler(site: Site):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):
            with site.lock:
                site.in_flight += 1
                site.most_in_flight = max(site.most_in_flight, site.in_flight)
            try:
                self._answer()
            finally:
                with site.lock:
                    site.in_flight -= 1

        def _answer(self):
            site.requests.append(Request(self.path, dict(self.headers), time.monotonic()))
            if site.watch_path == self.path:
                site.seen.set()
            if self.path == "/robots.txt" and "/robots.txt" not in site.routes:
                return self._send(200, "text/plain", ROBOTS.encode())
            route = site.routes.get(self.path)
            if route is None:
                return self._send(404, "text/plain", b"not found")
            route.hits += 1
            if route.delay:
                time.sleep(route.delay)
            if route.hits <= route.failures:
                return self._send(route.failure_status, "text/plain", b"try later",
                                  retry_after=route.retry_after)
            if route.etag and self.headers.get("If-None-Match") == route.etag:
                return self._send(304, None, b"", etag=route.etag)
            self._send(route.status, route.content_type, route.body, etag=route.etag,
                       last_modified=route.last_modified, length=route.length)

        def _send(self, status, content_type, body, *, etag=None, last_modified=None, length=True,
                  retry_after=None):
            self.send_response(status)
            if retry_after:
                self.send_header("Retry-After", retry_after)
            if content_type:
                self.send_header("Content-Type", content_type)
            if etag:
                self.send_header("ETag", etag)
            if last_modified:
                self.send_header("Last-Modified", last_modified)
            if length:
                self.send_header("Content-Length", str(len(body)))
            else:
                self.send_header("Connection", "close")
                self.close_connection = True
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a size limit, a timeout): that is the point

    return Handler


class FakeTime:
    """A clock and a sleep for the client: sleeping moves the clock, nothing really waits."""

    def __init__(self):
        self.now = 1000.0
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


class LocalServer:
    def __init__(self):
        self.site = Site()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self.site))
        self._server.daemon_threads = True
        self.site.base = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Site:
        self._thread.start()
        return self.site

    def __exit__(self, *exc_info) -> None:
        self._server.shutdown()
        self._server.server_close()


def article_page(title: str, paragraphs: list[str], *, published: str | None = None,
                 source: str | None = None) -> bytes:
    """An article page as outlets make them: metadata in <head>, the body in <article>."""
    meta = [f'<meta property="og:title" content="{escape(title)}">']
    if published:
        meta.append(f'<meta property="article:published_time" content="{escape(published)}">')
    if source:
        meta.append(f'<meta property="og:site_name" content="{escape(source)}">')
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f"<!doctype html><html><head><meta charset='utf-8'><title>{escape(title)}</title>"
            f"{''.join(meta)}</head><body><nav><a href='/'>Home</a></nav><article>"
            f"<h1>{escape(title)}</h1>{body}</article><footer>© {escape(source or '')}</footer>"
            "</body></html>").encode()


def rss(title: str, items: list[tuple[str, str, str]]) -> bytes:
    """An RSS 2.0 feed of ``(guid, link, title)`` items, newest first as feeds list them."""
    entries = "".join(f"<item><title>{escape(t)}</title><guid>{escape(g)}</guid>"
                      f"<link>{escape(link)}</link></item>" for g, link, t in items)
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
            f"<title>{escape(title)}</title>{entries}</channel></rss>").encode()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
