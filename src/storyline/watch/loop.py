"""The watch loop: poll every source, fetch each new entry's page, feed the pipeline, store small
batches so stories update as pages come in; stop cleanly on request."""

from __future__ import annotations

import logging
import signal
import threading
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime

from lxml import html as lxml_html

from storyline.errors import InputError, StoreError
from storyline.ingest.encoding import decode
from storyline.ingest.run import story_engine
from storyline.model import Article, RawDocument, Rejection
from storyline.pipeline import Pipeline
from storyline.settings import Settings
from storyline.store.base import Store
from storyline.watch.feeds import FeedEntry, NotAFeed, entry_id, looks_like_feed, parse_feed
from storyline.watch.fetch import FetchError, PoliteClient
from storyline.watch.state import FetchState

log = logging.getLogger("storyline.watch")

# Articles per store transaction: small, so a story page shows a new article within seconds of
# its fetch and a stop loses at most this much work in progress.
BATCH_SIZE = 10
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
    handler or another thread; the watcher then finishes the batch in hand and returns."""

    def __init__(self, store: Store, sources: Iterable[str], settings: Settings | None = None, *,
                 client: PoliteClient | None = None, batch_size: int = BATCH_SIZE,
                 stop: threading.Event | None = None):
        self.sources = list(dict.fromkeys(s.strip() for s in sources if s.strip()))
        if not self.sources:
            raise ValueError("nothing to watch: give at least one feed or page URL")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        self.store = store
        self.settings = settings or Settings()
        self.client = client or PoliteClient()
        self.batch_size = batch_size
        self.stop = stop or threading.Event()
        self.state = FetchState(store)
        self.pipeline = Pipeline(self.settings)
        self.rounds = 0
        self._engine = None
        self._batch: list[tuple[Article | Rejection, str]] = []

    @property
    def engine(self):
        if self._engine is None:
            self._engine = story_engine(self.store, self.settings)
        return self._engine

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
        try:
            for url in self.sources:
                if self.stop.is_set():
                    summary.stopped = True
                    break
                summary.sources += 1
                try:
                    self._poll_source(url, summary)
                except StoreError:
                    raise  # nothing more can be kept: the watch ends with the error
                except Exception as exc:  # a bug tripped by one odd source must not end the watch
                    _report(url, "failed", f"{type(exc).__name__}: {exc}")
                    summary.errors += 1
            self._flush(summary)
        except BaseException:
            self._batch.clear()
            raise
        return summary

    # -- sources ----------------------------------------------------------------------------

    def _poll_source(self, url: str, summary: RoundSummary) -> None:
        if self.state.done([url]):
            return  # a page watched directly and already dealt with
        try:
            response = self.client.get(url, self.state.validators(url))
        except FetchError as exc:
            _report(exc.url, exc.reason, exc.detail)
            summary.errors += 1
            return
        if response.not_modified:
            summary.not_modified += 1
            return
        if not looks_like_feed(response.content, response.content_type):
            summary.new_entries += 1
            self._add(self._page_document(FeedEntry(entry_id(url), url), response), url, summary)
            return
        try:
            entries = parse_feed(response.content, response.url)
        except NotAFeed as exc:
            _report(url, "bad_feed", str(exc))
            summary.errors += 1
            return
        if self._follow(entries, summary):
            # Only once every entry is stored: a 304 next time must not hide an entry we lost.
            self._flush(summary)
            self.state.save_validators(url, response.validators)

    def _follow(self, entries: list[FeedEntry], summary: RoundSummary) -> bool:
        """Fetch and process the entries not seen before; False if some must be tried again."""
        # Two feeds may carry one entry; the first copy may still be waiting in the batch.
        pending = {id for item, _ in self._batch for id in (_item_id(item),) if id}
        known = self.store.known_inputs(e.id for e in entries).keys() | pending
        done = self.state.done(e.link for e in entries) | {link for _, link in self._batch}
        complete = True
        for entry in entries:
            if entry.id in known or entry.link in done:
                continue
            if self.stop.is_set():
                summary.stopped = True
                return False
            known = known | {entry.id}
            summary.new_entries += 1
            item = self._entry_document(entry, summary)
            if item is None:
                complete = False
                continue
            self._add(item, entry.link, summary)
        return complete

    def _entry_document(self, entry: FeedEntry, summary: RoundSummary) -> RawDocument | Rejection | None:
        """The entry's page as a document; its feed summary when the page cannot be had for good;
        None when the failure may pass (the entry is tried again next round)."""
        try:
            response = self.client.get(entry.link)
        except FetchError as exc:
            _report(exc.url, exc.reason, exc.detail)
            summary.errors += 1
            if exc.transient:
                return None
            return self._summary_document(entry, exc)
        return self._page_document(entry, response)

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
            delta = self.engine.add(articles) if self.engine else None
            summary.counts.update(self.store.save_batch(articles, delta))
        for item, _ in self._batch:
            if isinstance(item, Rejection):
                summary.rejected += 1
                self.store.add_rejection(item)
                if not item.reason.startswith("fetch_"):  # already reported when the fetch failed
                    _report(item.origin, item.reason, item.detail, level=logging.INFO)
        # After the articles: a crash in between refetches a stored page, never skips a lost one.
        self.state.mark_done(link for _, link in self._batch)
        self._batch.clear()


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
