"""Per-URL memory of the watcher in the store's ``fetch_state`` table (migration 5)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from sqlalchemy import Column, Integer, MetaData, Table, Text, select, update
from sqlalchemy.exc import SQLAlchemyError

from storyline.errors import StoreError
from storyline.store.base import Store
from storyline.watch.fetch import Validators

_metadata = MetaData()
fetch_state = Table(
    "fetch_state",
    _metadata,
    Column("url", Text, primary_key=True),
    Column("etag", Text),
    Column("last_modified", Text),
    Column("done", Integer, nullable=False),
    Column("updated_at", Text, nullable=False),
)


class FetchState:
    """Validators of feeds and the set of pages already dealt with, kept next to the articles so
    that a store copied elsewhere keeps polling where it stopped."""

    def __init__(self, store: Store):
        self._engine = store.engine

    def validators(self, url: str) -> Validators | None:
        row = self._run(lambda c: c.execute(
            select(fetch_state.c.etag, fetch_state.c.last_modified).where(fetch_state.c.url == url)
        ).first(), write=False)
        if row is None or not (row.etag or row.last_modified):
            return None
        return Validators(row.etag, row.last_modified)

    def save_validators(self, url: str, validators: Validators) -> None:
        values = {"etag": validators.etag, "last_modified": validators.last_modified}
        self._upsert(url, values)

    def done(self, urls: Iterable[str]) -> set[str]:
        wanted = list(dict.fromkeys(urls))
        if not wanted:
            return set()
        query = select(fetch_state.c.url).where(fetch_state.c.url.in_(wanted), fetch_state.c.done == 1)
        return set(self._run(lambda c: c.execute(query).scalars().all(), write=False))

    def mark_done(self, urls: Iterable[str]) -> None:
        for url in dict.fromkeys(urls):
            self._upsert(url, {"done": 1})

    def _upsert(self, url: str, values: dict) -> None:
        stamp = datetime.now(UTC).isoformat()

        def write(conn):
            changed = conn.execute(update(fetch_state).where(fetch_state.c.url == url)
                                   .values(**values, updated_at=stamp)).rowcount
            if not changed:
                conn.execute(fetch_state.insert().values(
                    url=url, **{"done": 0, **values}, updated_at=stamp))

        self._run(write, write=True)

    def _run(self, work, *, write: bool):
        try:
            with self._engine.connect() as conn:
                if not write:
                    return work(conn)
                conn.execution_options(storyline_write=True)
                with conn.begin():
                    return work(conn)
        except SQLAlchemyError as exc:
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError(f"cannot keep the watcher's fetch state: {reason}") from exc
