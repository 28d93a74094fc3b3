"""Soak test of `storyline watch`: local outlets keep publishing for several minutes, some of
their answers slow, failing or broken, and the watcher (a real subprocess, stopped with SIGINT
and started again half way) must end with every published article in the store exactly once.

    .venv/bin/python benchmarks/bench_watch.py --minutes 5 [--rate 60] [--hosts 4]
                                               [--db URL] [--json FILE]

The outlets are HTTP servers on 127.0.0.1 (one port each, so each is its own host to the
watcher's pacing). Each publishes HTML pages of the synthetic corpus (benchmarks/corpus.py: real
uk/ru/en text in outlet boilerplate) at ``--rate`` articles per minute in all, and lists its
newest 50 in an RSS feed with an ETag. Mixed into the answers, at random (seeded): slow pages
(2-4 s), 500s, 429s and 503s with a short Retry-After, pages cut off in the middle (the
connection closes before Content-Length bytes) and feeds that are not XML.

Measured: articles per minute stored, fetch errors by kind (from the watcher's log), lag from
publication to stored (the store's ingested_at), the watcher's RSS (sampled every second), how
long the SIGINT stop took. Checked at the end: every published page is an article of the store
(or a rejection the pipeline made of it, counted apart), none is missing, none is stored twice
(under another id, or with the same URL)."""

from __future__ import annotations

import argparse
import json
import os
import random
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import formatdate
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

try:
    from benchmarks import corpus as _corpus
except ImportError:  # run as a script: benchmarks/ itself is on sys.path
    import corpus as _corpus

WORK = _corpus.WORK
FEED_SIZE = 50  # entries a feed lists: a watcher away for longer than that loses entries
# Per answer: (what, probability). Feeds get only "slow" and "not_xml"; robots.txt none.
TROUBLE = {"slow": 0.04, "500": 0.03, "429": 0.02, "503": 0.02, "cut": 0.02, "not_xml": 0.04}


@dataclass
class Entry:
    id: str  # the corpus id, also the entry's guid
    path: str
    body: bytes
    published: float = 0.0  # wall clock time of publication


@dataclass
class Outlet:
    name: str
    pending: list[Entry]
    published: list[Entry] = field(default_factory=list)
    by_path: dict[str, Entry] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base: str = ""

    def publish(self) -> Entry | None:
        with self.lock:
            if not self.pending:
                return None
            entry = self.pending.pop(0)
            entry.published = time.time()
            self.published.append(entry)
            self.by_path[entry.path] = entry
            return entry

    def feed(self) -> tuple[bytes, str]:
        with self.lock:
            newest = self.published[-FEED_SIZE:][::-1]
            version = len(self.published)
        items = "".join(
            f"<item><title>{escape(e.id)}</title><guid>urn:soak:{e.id}</guid>"
            f"<link>{self.base}{e.path}</link><pubDate>{formatdate(e.published, usegmt=True)}</pubDate>"
            "</item>" for e in newest)
        body = (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
                f"<title>{escape(self.name)}</title>{items}</channel></rss>").encode()
        return body, f'"v{version}"'


class Trouble:
    """Seeded choice of misbehaviour, counted by kind."""

    def __init__(self, seed: int):
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self.counts: Counter = Counter()

    def pick(self, kinds: tuple[str, ...]) -> str | None:
        with self._lock:
            roll = self._rng.random()
            for kind in kinds:
                roll -= TROUBLE[kind]
                if roll < 0:
                    self.counts[kind] += 1
                    return kind
        return None

    def seconds(self, low: float, high: float) -> float:
        with self._lock:
            return self._rng.uniform(low, high)


def handler(outlet: Outlet, trouble: Trouble, served: Counter):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):
            pass

        def do_GET(self):
            if self.path == "/robots.txt":
                return self.send(200, "text/plain", b"User-agent: *\nAllow: /\n")
            if self.path == "/feed.rss":
                body, etag = outlet.feed()
                kind = trouble.pick(("slow", "not_xml"))
                if kind == "slow":
                    time.sleep(trouble.seconds(2, 4))
                elif kind == "not_xml":
                    return self.send(200, "application/rss+xml", b"<html><body>maintenance</body>")
                if self.headers.get("If-None-Match") == etag:
                    return self.send(304, None, b"", {"ETag": etag})
                return self.send(200, "application/rss+xml", body, {"ETag": etag})
            entry = outlet.by_path.get(self.path)
            if entry is None:
                return self.send(404, "text/plain", b"not found")
            served[entry.id] += 1
            kind = trouble.pick(("slow", "500", "429", "503", "cut"))
            if kind == "slow":
                time.sleep(trouble.seconds(2, 4))
            elif kind == "500":
                return self.send(500, "text/plain", b"internal error")
            elif kind in ("429", "503"):
                wait = str(int(trouble.seconds(1, 4)))
                return self.send(int(kind), "text/plain", b"busy", {"Retry-After": wait})
            elif kind == "cut":
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(entry.body)))
                self.end_headers()
                self.wfile.write(entry.body[: len(entry.body) // 3])
                self.close_connection = True
                return None
            return self.send(200, "text/html; charset=utf-8", entry.body)

        def send(self, status, content_type, body, headers=None):
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            try:
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                pass

    return Handler


def corpus_pages(n: int, seed: int) -> list[tuple[str, bytes]]:
    out = WORK / f"corpus-watch-n{n}-s{seed}"
    manifest = _corpus.existing_manifest(out)
    if not (manifest and manifest.get("n") == n and manifest.get("formats") == ["html"]):
        print(f"generating {n} HTML pages into {out} ...", file=sys.stderr)
        _corpus.generate(n, out, seed=seed, formats=("html",))
    pages = sorted((out / "pages" / "html").rglob("*.html"))
    return [(path.stem, path.read_bytes()) for path in pages]


class Watcher:
    """The `storyline watch` subprocess, its log, and its RSS sampled every second."""

    def __init__(self, feeds: list[str], db: str, log: Path, interval: float):
        self.command = [sys.executable, "-c", "from storyline.cli import main; main()", "watch",
                        *feeds, "--db", db, "--interval", str(interval), "--host-delay", "0.2",
                        "--retries", "1", "--timeout", "10"]
        self.env = {**os.environ, "STORYLINE_EMBEDDER": "lexical"}
        self.log = log
        self.process: subprocess.Popen | None = None
        self.rss_mb: list[float] = []
        self.stops: list[dict] = []

    def start(self) -> None:
        stream = self.log.open("a", encoding="utf-8")
        self.process = subprocess.Popen(self.command, env=self.env, stdout=stream, stderr=stream)
        threading.Thread(target=self._sample, args=(self.process,), daemon=True).start()

    def stop(self, timeout: float = 120) -> None:
        started = time.monotonic()
        self.process.send_signal(signal.SIGINT)
        try:
            code = self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            code = self.process.wait()
        self.stops.append({"exit": code, "seconds": round(time.monotonic() - started, 1)})

    def _sample(self, process: subprocess.Popen) -> None:
        status = Path(f"/proc/{process.pid}/status")
        while process.poll() is None:
            try:
                line = next(x for x in status.read_text().splitlines() if x.startswith("VmRSS"))
                self.rss_mb.append(int(line.split()[1]) / 1024)
            except (OSError, StopIteration):
                pass
            time.sleep(1)


def log_kinds(log: Path) -> tuple[Counter, Counter]:
    """From the watcher's log: failures that stood (`HH:MM:SS URL: reason: detail`, one line
    each, rejections by the pipeline included) by reason, and tries again
    (`HH:MM:SS URL: detail, try N of M in S s`) by what was wrong."""
    failures: Counter = Counter()
    retries: Counter = Counter()
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        stamp, _, rest = line.partition(" ")
        if stamp.count(":") != 2 or not rest.startswith("http"):
            continue
        detail = rest.split(": ", 1)[1] if ": " in rest else ""
        if ", try " in detail:
            what = detail.split(", try ")[0]
            retries[" ".join(what.split()[:2]).rstrip(",") if what.startswith("HTTP ")
                    else "timeout" if what.startswith(("no answer", "body not complete"))
                    else what.split(":")[0]] += 1
        elif ": " in detail:
            failures[detail.split(": ")[0]] += 1
    return failures, retries


def check_store(db: str, outlets: list[Outlet]) -> dict:
    from sqlalchemy import text

    from storyline.store import open_store
    from storyline.watch.feeds import entry_id

    published = {entry_id(f"urn:soak:{e.id}"): e for o in outlets for e in o.published}
    with open_store(db) as store:
        articles = list(store.iter_articles())
        rejected = {r.raw.id for r in store.iter_rejections() if r.raw is not None}
    stored = Counter(a.id for a in articles)
    by_url = Counter(a.url for a in articles)
    lags = []
    with open_store(db) as store, store.engine.connect() as conn:
        ingested = dict(conn.execute(text("SELECT id, ingested_at FROM articles")).all())
    for article_id, entry in published.items():
        if article_id in ingested:
            lags.append(datetime.fromisoformat(ingested[article_id]).timestamp() - entry.published)
    missing = [e.id for k, e in published.items() if k not in stored and k not in rejected]
    return {
        "published": len(published),
        "stored": sum(1 for k in published if k in stored),
        "rejected_by_pipeline": sum(1 for k in published if k in rejected and k not in stored),
        "missing": len(missing), "missing_ids": missing[:20],
        "extra_articles": sum(1 for k in stored if k not in published),
        "same_id_twice": sum(1 for n in stored.values() if n > 1),
        "same_url_twice": sum(1 for url, n in by_url.items() if url and n > 1),
        "lag_s": {"p50": round(statistics.median(lags), 1) if lags else None,
                  "p95": round(sorted(lags)[int(0.95 * (len(lags) - 1))], 1) if lags else None,
                  "max": round(max(lags), 1) if lags else None},
    }


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="how long the outlets publish")
    parser.add_argument("--rate", type=float, default=60.0, help="articles published per minute, all outlets")
    parser.add_argument("--hosts", type=int, default=4, help="outlets (one port each)")
    parser.add_argument("--interval", type=float, default=5.0, help="the watcher's --interval")
    parser.add_argument("--drain", type=float, default=180.0,
                        help="seconds allowed after publishing ends for the last articles")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", default=None,
                        help="store URL (default: a fresh SQLite file in benchmarks/work)")
    parser.add_argument("--json", type=Path, default=None, help="append the result to this JSON array")
    args = parser.parse_args(argv)

    total = max(1, round(args.minutes * args.rate))
    pages = corpus_pages(total, args.seed)[:total]
    WORK.mkdir(parents=True, exist_ok=True)
    db = args.db
    if db is None:
        path = WORK / "watch-soak.db"
        for suffix in ("", "-wal", "-shm", ".writer-lock"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        db = f"sqlite:///{path}"
    from storyline.store import open_store

    with open_store(db) as store:
        if store.count_articles():
            sys.exit(f"{db.split('?')[0]} already holds articles: give an empty store")
    log = WORK / "watch-soak.log"
    log.write_text("", encoding="utf-8")

    trouble, served = Trouble(args.seed), Counter()
    outlets = [Outlet(f"Outlet {i + 1}", []) for i in range(args.hosts)]
    for i, (page_id, body) in enumerate(pages):
        outlets[i % args.hosts].pending.append(Entry(page_id, f"/news/{page_id}.html", body))
    servers = []
    for outlet in outlets:
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler(outlet, trouble, served))
        server.daemon_threads = True
        outlet.base = f"http://127.0.0.1:{server.server_address[1]}"
        threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
        servers.append(server)

    watcher = Watcher([f"{o.base}/feed.rss" for o in outlets], db, log, args.interval)
    load_before = [round(x, 2) for x in os.getloadavg()]
    print(f"{total} articles over {args.minutes:g} min from {args.hosts} outlets into {db}; "
          f"load average {load_before}", file=sys.stderr)
    started = time.monotonic()
    watcher.start()
    restarted = False
    gap = 60.0 / args.rate
    for i in range(total):
        outlets[i % args.hosts].publish()
        if not restarted and i >= total // 2:
            restarted = True
            print(f"{time.monotonic() - started:.0f} s: SIGINT, then start again", file=sys.stderr)
            watcher.stop()
            watcher.start()
        time.sleep(max(0.0, started + (i + 1) * gap - time.monotonic()))
    publishing = time.monotonic() - started
    deadline = time.monotonic() + args.drain
    with open_store(db) as store:
        while store.count_articles() + len(list(store.iter_rejections())) < total \
                and time.monotonic() < deadline and watcher.process.poll() is None:
            time.sleep(2)
    watching = time.monotonic() - started
    watcher.stop()
    for server in servers:
        server.shutdown()

    result = {"bench": "watch-soak", "minutes": args.minutes, "rate_per_min": args.rate,
              "hosts": args.hosts, "db": db.split("?")[0], "load_before": load_before,
              "load_after": [round(x, 2) for x in os.getloadavg()],
              "publishing_s": round(publishing, 1), "watching_s": round(watching, 1),
              **check_store(db, outlets),
              "served_trouble": dict(trouble.counts),
              "page_requests_per_article": round(sum(served.values()) / max(1, len(served)), 2),
              "stops": watcher.stops,
              "rss_mb": {"max": round(max(watcher.rss_mb, default=0)),
                         "last": round(watcher.rss_mb[-1]) if watcher.rss_mb else None}}
    failures, retries = log_kinds(log)
    result["failures_logged"], result["retries_logged"] = dict(failures), dict(retries)
    result["articles_per_min"] = round(result["stored"] / (watching / 60), 1)
    ok = result["missing"] == 0 and result["same_id_twice"] == 0 and result["same_url_twice"] == 0 \
        and result["extra_articles"] == 0 and all(s["exit"] == 0 for s in watcher.stops)
    result["ok"] = ok

    rows = [("published", result["published"]), ("stored", result["stored"]),
            ("rejected by the pipeline", result["rejected_by_pipeline"]),
            ("missing", result["missing"]), ("stored twice (id / url)",
                                             f"{result['same_id_twice']} / {result['same_url_twice']}"),
            ("articles not published", result["extra_articles"]),
            ("articles per minute", result["articles_per_min"]),
            ("lag p50 / p95 / max s", " / ".join(str(result["lag_s"][k]) for k in ("p50", "p95", "max"))),
            ("watcher RSS max / last MB", f"{result['rss_mb']['max']} / {result['rss_mb']['last']}"),
            ("SIGINT stops (exit, s)", ", ".join(f"{s['exit']} in {s['seconds']} s" for s in watcher.stops)),
            ("trouble served", ", ".join(f"{k} {v}" for k, v in sorted(trouble.counts.items()))),
            ("tried again (watcher log)", ", ".join(f"{k} {v}" for k, v in sorted(retries.items()))),
            ("failures that stood (log)", ", ".join(f"{k} {v}" for k, v in sorted(failures.items()))),
            ("page requests per article", result["page_requests_per_article"]),
            ("load average before / after", f"{load_before} / {result['load_after']}"),
            ("verdict", "OK: every article once" if ok else "FAILED")]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:{width}}  {value}")
    if args.json:
        runs = json.loads(args.json.read_text()) if args.json.exists() else []
        args.json.write_text(json.dumps(runs + [result], ensure_ascii=False, indent=1))
    if not ok:
        sys.exit(1)
    return result


if __name__ == "__main__":
    main()
