"""One round's requests, host by host: which request goes next, and which feeds wait for which
entries (a feed's validators are saved only once every entry it listed is stored)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from storyline.watch.feeds import FeedEntry
from storyline.watch.fetch import Validators


@dataclass(eq=False)
class Feed:
    """A feed read this round, until every entry it listed is dealt with."""

    url: str
    validators: Validators
    pending: int = 0  # entries listed and not finished yet
    complete: bool = True  # False when an entry must be tried again: the validators stay as they were


@dataclass(eq=False)
class Job:
    """One GET: a source the user named (``entry`` None), or the page of a feed entry."""

    url: str
    entry: FeedEntry | None = None
    validators: Validators | None = None
    feeds: list[Feed] = field(default_factory=list)  # the feeds waiting for this entry
    finished: bool = False
    failed: bool = False  # for now: the feeds waiting for it are read again next round

    @property
    def host(self) -> str:
        return host_of(self.url)


def host_of(url: str) -> str:
    """What requests are paced by: the URL's host and port."""
    return urlsplit(url).netloc.lower()


class Schedule:
    """Queues of requests per host, at most one in flight per host."""

    def __init__(self):
        self._queues: dict[str, deque[Job]] = {}
        self._busy: set[str] = set()
        self._entries: dict[str, Job] = {}  # entry id and link -> the job fetching it this round

    def add_source(self, job: Job) -> None:
        self._queues.setdefault(job.host, deque()).append(job)

    def add_entries(self, jobs: list[Job]) -> None:
        """A feed's new entries go ahead of the host's other work, in the feed's order: the
        sooner a feed is finished, the sooner its validators are saved."""
        by_host: dict[str, list[Job]] = {}
        for job in jobs:
            by_host.setdefault(job.host, []).append(job)
            self._entries[job.entry.id] = self._entries[job.entry.link] = job
        for host, queued in by_host.items():
            self._queues.setdefault(host, deque()).extendleft(reversed(queued))

    def entry_job(self, entry: FeedEntry) -> Job | None:
        """The job that fetches this entry in this round (another feed listed it too)."""
        return self._entries.get(entry.id) or self._entries.get(entry.link)

    def take(self, limit: int, wait: Callable[[str], float]) -> list[Job]:
        """Up to ``limit`` jobs of idle hosts, the hosts that may be asked soonest first
        (``wait(url)`` is how long the host's pace still holds)."""
        idle = [queue for host, queue in self._queues.items() if queue and host not in self._busy]
        idle.sort(key=lambda queue: wait(queue[0].url))
        taken = [queue.popleft() for queue in idle[:max(limit, 0)]]
        self._busy.update(job.host for job in taken)
        return taken

    def release(self, job: Job) -> None:
        self._busy.discard(job.host)

    def drop_host(self, host: str) -> list[Job]:
        """Every job still queued for ``host`` (it asked not to be asked for a while)."""
        return list(self._queues.pop(host, ()))

    def remaining(self) -> list[Job]:
        return [job for queue in self._queues.values() for job in queue]
