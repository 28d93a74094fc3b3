"""The watch loop: poll every source, fetch each new entry's page, feed the pipeline, store small
batches so stories update as pages come in; stop cleanly on request."""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import html as lxml_html

from storyline.errors import InputError, StoreError
from storyline.ingest.encoding import decode
from storyline.ingest.run import BatchWriter
from storyline.model import Article, RawDocument, Rejection
from storyline.pipeline import Pipeline
from storyline.settings import Settings
from storyline.store.base import Store
from storyline.watch.feeds import FeedEntry, NotAFeed, entry_id, looks_like_feed, parse_feed
from storyline.watch.fetch import FetchError, PoliteClient, Response
from storyline.watch.schedule import Feed, Job, Schedule
from storyline.watch.state import FetchState

log = logging.getLogger("storyline.watch")

# Articles per store transaction: small, so a story page shows a new article within seconds of
# its fetch and a stop loses at most this much work in progress.
BATCH_SIZE = 10
# Hosts fetched at once: requests are I/O, and one host never has more than one in flight, so a
# few threads are enough for a slow host not to hold the others.
WORKERS = 4
_HTML_TYPES = ("text/html", "application/xhtml")


@dataclass
class RoundSummary:
    number: int
    sources: int = 0
    not_modified: int = 0
    new_entries: int = 0
    counts: Counter = field(default_factory=Counter)  # ingested / updated / unchanged
    rejected: int = 0
    errors: int = 0
    stopped: bool = False

    def line(self, total: int | None = None) -> str:
        text = (f"round {self.number}: {self.sources} sources ({self.not_modified} not modified), "
                f"{self.new_entries} new entries: {self.counts['ingested']} ingested, "
                f"{self.counts['updated']} updated, {self.rejected} rejected, {self.errors} errors")
        if total is not None:
            text += f"; {total} articles in store"
        return text + (" (stopped early)" if self.stopped else "")


class Watcher:
    """Polls ``sources`` (feed or page URLs) into ``store``. ``stop`` may be set from a signal
    handler or another thread; the watcher then finishes the batch in hand and returns.

    Requests run on ``workers`` threads, at most one in flight per host, so a slow or pausing
    host holds only its own work. Everything else (the pipeline, the clustering, every store
    read and write) happens in the thread that calls ``poll``."""

    def __init__(self, store: Store, sources: Iterable[str], settings: Settings | None = None, *,
                 client: PoliteClient | None = None, batch_size: int = BATCH_SIZE,
                 workers: int = WORKERS, stop: threading.Event | None = None):
        self.sources = list(dict.fromkeys(s.strip() for s in sources if s.strip()))
        if not self.sources:
            raise ValueError("nothing to watch: give at least one feed or page URL")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        if not isinstance(workers, int) or workers < 1:
            raise ValueError(f"workers must be a positive whole number, got {workers!r}")
        self.store = store
        self.settings = settings or Settings()
        self.client = client or PoliteClient()
        self.batch_size = batch_size
        self.workers = workers
        self.stop = stop or threading.Event()
        self.state = FetchState(store)
        self.pipeline = Pipeline(self.settings)
        self.rounds = 0
        self._writer: BatchWriter | None = None  # built on first save: it loads the models
        self._batch: list[tuple[Article | Rejection, str]] = []
        self._finished_feeds: list[Feed] = []  # validators to save after the next flush

    @property
    def writer(self) -> BatchWriter:
        if self._writer is None:
            self._writer = BatchWriter(self.store, self.settings)
        return self._writer

    def run(self, interval: float, *, once: bool = False) -> None:
        """Poll round after round, ``interval`` seconds apart, until ``stop`` is set."""
        while not self.stop.is_set():
            summary = self.poll()
            log.info(summary.line(self.store.count_articles()))
            if once:
                return
            self.stop.wait(interval)

    def poll(self) -> RoundSummary:
        """One round over every source. Whatever was fetched is stored before this returns,
        unless a KeyboardInterrupt cuts it short: then the batch in hand is dropped (its
        transaction rolled back) and its pages are fetched again next time."""
        self.rounds += 1
        summary = RoundSummary(self.rounds)
        schedule = Schedule()
        for url in self.sources:
            schedule.add_source(Job(url))
        self.client.resume()
        pool = ThreadPoolExecutor(self.workers, thread_name_prefix="storyline-watch")
        try:
            self._run(schedule, pool, summary)
            self._flush(summary)
        except BaseException:
            self._batch.clear()
            self._finished_feeds.clear()
            self.client.interrupt()  # threads still pacing give up; requests in flight end alone
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        pool.shutdown()
        return summary

    # -- the round --------------------------------------------------------------------------

    def _run(self, schedule: Schedule, pool: ThreadPoolExecutor, summary: RoundSummary) -> None:
        running: dict[Future, Job] = {}
        while True:
            if self.stop.is_set():
                # Requests in flight are finished and stored; nothing new is asked for.
                self.client.interrupt()
                summary.stopped = summary.stopped or bool(schedule.remaining())
            else:
                for job in schedule.take(self.workers - len(running), self.client.wait_time):
                    if self._ready(job, schedule, summary):
                        running[pool.submit(self._fetch, job)] = job
                    else:
                        schedule.release(job)
            if not running:
                if self.stop.is_set() or not schedule.remaining():
                    return
                continue
            # A timeout, so that a stop request is seen while every host is slow.
            done, _ = wait(running, timeout=0.5, return_when=FIRST_COMPLETED)
            for future in done:
                job = running.pop(future)
                schedule.release(job)
                try:
                    self._handle(job, future, schedule, summary)
                except StoreError:
                    raise  # nothing more can be kept: the watch ends with the error
                except Exception as exc:  # a bug tripped by one odd source must not end the watch
                    _report(job.url, "failed", f"{type(exc).__name__}: {exc}")
                    summary.errors += 1
                    self._finish(job, failed=True)

    def _ready(self, job: Job, schedule: Schedule, summary: RoundSummary) -> bool:
        """Whether to send the job now; a source or a host that is not asked now is dealt with."""
        if job.entry is None:
            summary.sources += 1
            if self.state.done([job.url]):
                return False  # a page watched directly and already dealt with
            job.validators = self.state.validators(job.url)
        deferred = self.client.deferred_for(job.url)
        if deferred <= self.client.options.max_backoff:
            return True
        # The host asked (Retry-After) for a pause longer than a round may wait: one line, and
        # what it still had to answer is asked again in a later round.
        dropped = [job, *schedule.drop_host(job.host)]
        _report(job.host, "deferred", f"asked (Retry-After) not to be asked for {deferred:.0f} s "
                f"more; {len(dropped)} requests left for a later round")
        summary.errors += 1
        for other in dropped:
            if other.entry is None and other is not job:
                summary.sources += 1
            self._finish(other, failed=True)
        return False

    def _fetch(self, job: Job) -> tuple[Response, list[FeedEntry] | NotAFeed | None]:
        """In a worker thread: the GET, and for a source the feed's entries when it is one."""
        response = self.client.get(job.url, job.validators)
        if job.entry is not None or response.not_modified:
            return response, None
        if not looks_like_feed(response.content, response.content_type):
            return response, None
        try:
            return response, parse_feed(response.content, response.url)
        except NotAFeed as exc:
            return response, exc

    def _handle(self, job: Job, future: Future, schedule: Schedule, summary: RoundSummary) -> None:
        try:
            response, entries = future.result()
        except FetchError as exc:
            if exc.reason != "stopped":  # a stop is not the source's fault
                _report(exc.url, exc.reason, exc.detail)
                summary.errors += 1
            if job.entry is None:
                return
            if exc.transient:
                self._finish(job, failed=True)
            else:
                self._add(self._summary_document(job.entry, exc), job.entry.link, summary)
                self._finish(job)
            return
        if job.entry is not None:
            self._add(self._page_document(job.entry, response), job.entry.link, summary)
            self._finish(job)
        elif response.not_modified:
            summary.not_modified += 1
        elif entries is None:  # a page named as a source
            summary.new_entries += 1
            self._add(self._page_document(FeedEntry(entry_id(job.url), job.url), response),
                      job.url, summary)
        elif isinstance(entries, NotAFeed):
            _report(job.url, "bad_feed", str(entries))
            summary.errors += 1
        else:
            self._follow(Feed(job.url, response.validators), entries, schedule, summary)

    def _follow(self, feed: Feed, entries: list[FeedEntry], schedule: Schedule,
                summary: RoundSummary) -> None:
        """Queue the entries not seen before; the feed is finished when the last one is."""
        known = self.store.known_inputs(e.id for e in entries).keys()
        done = self.state.done(e.link for e in entries)
        new: list[Job] = []
        for entry in entries:
            if entry.id in known or entry.link in done:
                continue
            job = schedule.entry_job(entry)
            if job is None:
                summary.new_entries += 1
                job = Job(entry.link, entry)
                new.append(job)
            elif job.finished:  # fetched for another feed of this round
                feed.complete = feed.complete and not job.failed
                continue
            if feed not in job.feeds:
                job.feeds.append(feed)
                feed.pending += 1
        schedule.add_entries(new)
        if not feed.pending:
            self._feed_finished(feed)

    def _finish(self, job: Job, failed: bool = False) -> None:
        job.finished, job.failed = True, failed
        for feed in job.feeds:
            feed.pending -= 1
            feed.complete = feed.complete and not failed
            if not feed.pending:
                self._feed_finished(feed)

    def _feed_finished(self, feed: Feed) -> None:
        if not feed.complete:
            return  # an entry is tried again next round: a 304 then must not hide it
        if self._batch:
            self._finished_feeds.append(feed)  # saved after the batch holding its entries
        else:
            self.state.save_validators(feed.url, feed.validators)

    def _page_document(self, entry: FeedEntry, response) -> RawDocument | Rejection:
        if not response.content_type.startswith(_HTML_TYPES) and response.content_type:
            return Rejection(entry.link, "not_html", f"content type {response.content_type!r}")
        try:
            text, encoding = decode(response.content, entry.link)
        except InputError as exc:
            return Rejection(exc.origin, exc.reason, exc.detail)
        fallback = {"title": entry.title, "published": entry.published, "source": entry.source}
        return RawDocument(id=entry.id, format="html", content=text, origin=entry.link,
                           fields={"url": response.url,
                                   "fallback": {k: v for k, v in fallback.items() if v}},
                           crawled_at=datetime.now(UTC), encoding=encoding)

    def _summary_document(self, entry: FeedEntry, exc: FetchError) -> RawDocument | Rejection:
        body = summary_text(entry.summary or "")
        if not body:
            return Rejection(entry.link, f"fetch_{exc.reason}", exc.detail)
        fields = {"url": entry.link, "title": entry.title, "published": entry.published,
                  "source": entry.source, "from": "feed summary"}
        return RawDocument(id=entry.id, format="record", content=body, origin=entry.link,
                           fields={k: v for k, v in fields.items() if v},
                           crawled_at=datetime.now(UTC), encoding="utf-8")

    # -- batches ----------------------------------------------------------------------------

    def _add(self, item: RawDocument | Rejection, link: str, summary: RoundSummary) -> None:
        if isinstance(item, RawDocument):
            try:
                item = self.pipeline.process(item)
            except Exception as exc:  # one odd page must not end the watch
                item = Rejection(link, "failed", f"{type(exc).__name__}: {exc}", raw=item)
        self._batch.append((item, link))
        if sum(isinstance(i, Article) for i, _ in self._batch) >= self.batch_size:
            self._flush(summary)

    def _flush(self, summary: RoundSummary) -> None:
        if not self._batch:
            return
        articles = [item for item, _ in self._batch if isinstance(item, Article)]
        if articles:
            summary.counts.update(self.writer.save(articles))
        for item, _ in self._batch:
            if isinstance(item, Rejection):
                summary.rejected += 1
                self.store.add_rejection(item)
                if not item.reason.startswith("fetch_"):  # already reported when the fetch failed
                    _report(item.origin, item.reason, item.detail, level=logging.INFO)
        # After the articles: a crash in between refetches a stored page, never skips a lost one.
        self.state.mark_done(link for _, link in self._batch)
        self._batch.clear()
        for feed in self._finished_feeds:  # only now: every entry they listed is stored
            self.state.save_validators(feed.url, feed.validators)
        self._finished_feeds.clear()


def summary_text(fragment: str) -> str:
    """A feed's HTML summary -> paragraphs separated by blank lines."""
    if not fragment.strip():
        return ""
    try:
        root = lxml_html.fragment_fromstring(fragment, create_parent="div")
    except Exception:  # lxml raises several types on hopeless markup; plain text is still text
        return fragment.strip()
    for br in root.iter("br"):
        br.tail = "\n" + (br.tail or "")
    for block in root.iter("p", "div", "li", "blockquote", "h1", "h2", "h3", "h4", "h5", "h6"):
        block.tail = "\n\n" + (block.tail or "")
    paragraphs = (" ".join(p.split()) for p in root.text_content().split("\n\n"))
    return "\n\n".join(p for p in paragraphs if p)


@contextmanager
def stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """First Ctrl-C or SIGTERM: finish the batch in hand, then stop. A second Ctrl-C: stop now,
    dropping that batch (its pages are fetched again on the next run)."""

    def handle(signum, _frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        log.warning("%s: stopping after the current batch (Ctrl-C again to stop at once)",
                    signal.Signals(signum).name)

    previous = {sig: signal.signal(sig, handle) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _item_id(item: Article | Rejection) -> str | None:
    if isinstance(item, Article):
        return item.id
    return item.raw.id if item.raw is not None else None


def _report(url: str, reason: str, detail: str, level: int = logging.WARNING) -> None:
    log.log(level, "%s: %s: %s", url, reason, detail)
