"""The store on SQLAlchemy Core: one code path for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

import json
import os
import threading
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows: SQLite turns are then only exclusive within one process
    fcntl = None

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    select,
    text,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from storyline.errors import ConfigError, NotFound, StoreError
from storyline.model import Article, Paragraph, Rejection
from storyline.store import digests, fulltext, listing, migrations
from storyline.store.base import (
    ArticleFacts,
    ArticleText,
    ClusterDelta,
    ClusterRow,
    IndexTerm,
    KnownInput,
    ListingFilters,
    ListingRow,
    SaveCounts,
    Store,
    TextFilters,
    UpsertStatus,
)
from storyline.store.schema import (
    article_signatures,
    article_to_row,
    article_vectors,
    articles,
    chunks,
    clusters,
    from_key,
    key_frequencies,
    now_text,
    rejection_to_row,
    rejections,
    row_to_article,
    row_to_cluster,
    row_to_rejection,
    utc_key,
)

# Long enough to ride out another process's write transaction, short enough to report a stuck
# lock instead of hanging the CLI.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Connections a store keeps open, and how many more it may open at a busy moment. `storyline
# serve` runs endpoints on up to 40 threads (anyio's default), each holding a connection while it
# reads: with SQLAlchemy's default of 5 + 10, the other threads queued for one, and after 30 s
# failed with a pool timeout (503) instead of reading.
POOL_SIZE = 10
POOL_OVERFLOW = 30
# Rows looked up or written per statement inside one upsert_many transaction.
WRITE_CHUNK = 500
# The writers' lock on PostgreSQL (writer_turn, save_batch). Any constant works; it only has to
# be the same for every storyline process and differ from the listing's.
_PG_WRITER_LOCK = 7_205_316_023
# The clustering counts every document it has taken in under this key (storyline.cluster.engine
# TOTAL): it grows with every batch that changes the clustering's state, and only then.
_DOCUMENTS_KEY = ""


class SqlStore(Store):
    """A Store on a SQLAlchemy engine; opening it applies pending migrations."""

    def __init__(self, url: str):
        self.url = url
        self._shown_url = safe_url(url)
        self._engine = _create_engine(url)
        self._closed = False
        self._turn = threading.local()  # .held: this thread has the writer turn
        self._memory_turn = threading.Lock()  # the turn of an in-memory store (one process)
        self._fulltext = fulltext.for_dialect(self._engine.dialect.name)
        try:
            with self._write("open") as conn:
                # Articles stored before the search index existed get their documents now.
                backfill = {fulltext.SCHEMA_VERSION: self._fulltext.index_missing}
                self.schema_version = migrations.migrate(conn, after=backfill)
                # Also the backfill of the listing's migration: it has never been computed.
                listing.ensure_current(conn)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """For layers that add their own tables (through new migration steps)."""
        self._check_open()
        return self._engine

    # -- articles ---------------------------------------------------------------------------

    def upsert_many(self, articles_: Iterable[Article]) -> SaveCounts:
        return self.save_batch(articles_)

    def save_batch(self, articles_: Iterable[Article], delta: ClusterDelta | None = None) -> SaveCounts:
        if getattr(self._turn, "held", False) or self._engine.dialect.name == "postgresql":
            return self._save_batch(articles_, delta)
        with self._turn_lock():  # SQLite: after the turn of another writer, not in its middle
            return self._save_batch(articles_, delta)

    def _save_batch(self, articles_: Iterable[Article], delta: ClusterDelta | None) -> SaveCounts:
        stamp = now_text()
        with self._write("store articles in") as conn:
            if conn.dialect.name == "postgresql" and not getattr(self._turn, "held", False):
                # One batch at a time: two batches upserting shared rows (key frequencies,
                # clusters, articles) in different orders would deadlock, and a batch must not
                # land in the middle of another writer's turn. SQLite writers are serial already.
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_WRITER_LOCK})
            counts, touched = self._upsert_article_rows(conn, articles_, stamp)
            if delta is not None:
                touched |= self._write_delta(conn, delta, stamp)
            # Same transaction: a listing never shows a story as it was before the batch.
            listing.refresh(conn, touched, delta.model if delta is not None and delta.vectors else None)
        return counts

    def _write_delta(self, conn: Connection, delta: ClusterDelta, stamp: str) -> set[str]:
        """Write the clustering's changes; return the stories whose articles or rows changed."""
        touched = {c.id if c.kind == "story" else c.parent_id for c in delta.clusters}
        touched.update(delta.deleted_clusters)
        touched.update(delta.merged_stories)
        touched.update(delta.merged_stories.values())
        touched.update(story for _, story in delta.reassigned.values())
        for chunk in chunks(list(delta.reassigned), WRITE_CHUNK):
            # The stories these articles leave.
            touched.update(conn.execute(select(articles.c.story_id).where(
                articles.c.id.in_(chunk))).scalars())
        if delta.clusters:
            conn.execute(self._upsert(clusters, ["id"]), [{
                "id": c.id, "kind": c.kind, "parent_id": c.parent_id, "size": c.size,
                "articles": c.articles, "first_key": utc_key(c.first), "last_key": utc_key(c.last),
                "state": json.dumps(c.state, ensure_ascii=False, separators=(",", ":")),
                "vector_sum": c.vector_sum, "updated_at": stamp} for c in delta.clusters])
        for model, vectors in ((delta.model, delta.vectors), (delta.latent_model, delta.latents)):
            if vectors:
                conn.execute(self._upsert(article_vectors, ["article_id", "model"]), [
                    {"article_id": k, "model": model, "vector": v} for k, v in vectors.items()])
        if delta.signatures:
            conn.execute(self._upsert(article_signatures, ["article_id"]), [
                {"article_id": k, "time_key": utc_key(t), "signature": sig}
                for k, (t, sig) in delta.signatures.items()])
        for chunk in chunks(delta.retired_signatures, WRITE_CHUNK):
            conn.execute(article_signatures.delete().where(article_signatures.c.article_id.in_(chunk)))
        if delta.frequencies:
            stmt = self._insert(key_frequencies)
            stmt = stmt.on_conflict_do_update(
                index_elements=[key_frequencies.c.key],
                set_={"documents": key_frequencies.c.documents + stmt.excluded.documents})
            rows = [{"key": k, "documents": n} for k, n in delta.frequencies.items() if n]
            for chunk in chunks(rows, WRITE_CHUNK * 4):
                conn.execute(stmt, chunk)
        for old, new in delta.merged_stories.items():
            conn.execute(articles.update().where(articles.c.story_id == old).values(
                story_id=new, updated_at=stamp))
            conn.execute(clusters.update().where(clusters.c.parent_id == old).values(
                parent_id=new, updated_at=stamp))
        for chunk in chunks(delta.deleted_clusters, WRITE_CHUNK):
            conn.execute(clusters.delete().where(clusters.c.id.in_(chunk)))
        for article_id, (event_id, story_id) in delta.reassigned.items():
            conn.execute(articles.update().where(articles.c.id == article_id).values(
                event_id=event_id, story_id=story_id, updated_at=stamp))
        touched.discard(None)
        return touched

    @contextmanager
    def writer_turn(self) -> Iterator[int]:
        self._check_open()
        if getattr(self._turn, "held", False):
            raise StoreError(f"store {self._shown_url}: writer_turn is not reentrant")
        with self._turn_lock():
            self._turn.held = True
            try:
                yield self.clustering_generation()
            finally:
                self._turn.held = False

    def clustering_generation(self) -> int:
        query = select(key_frequencies.c.documents).where(key_frequencies.c.key == _DOCUMENTS_KEY)
        rows = self._fetch(query)
        return int(rows[0][0]) if rows else 0

    @contextmanager
    def _turn_lock(self) -> Iterator[None]:
        if self._engine.dialect.name == "postgresql":
            try:
                conn = self._engine.connect().execution_options(isolation_level="AUTOCOMMIT")
                conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": _PG_WRITER_LOCK})
            except SQLAlchemyError as exc:
                raise self._error("take the writer turn of", exc) from exc
            try:
                yield
            finally:
                # Closing the session would free it too; unlocking first keeps the pooled
                # connection from holding it.
                try:
                    conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": _PG_WRITER_LOCK})
                finally:
                    conn.close()
            return
        database = self._engine.url.database
        if database in (None, "", ":memory:") or fcntl is None:
            with self._memory_turn:
                yield
            return
        # A lock file beside the database, never the database file itself: closing another
        # descriptor of that file would drop SQLite's own POSIX locks on it.
        path = f"{database}.writer-lock"
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise StoreError(f"cannot take the writer turn of store {self._shown_url}: "
                             f"{path}: {exc.strerror}") from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # frees the flock

    def known_inputs(self, article_ids: Iterable[str]) -> dict[str, KnownInput]:
        ids = list(dict.fromkeys(article_ids))
        found: dict[str, KnownInput] = {}
        cols = (articles.c.id, articles.c.raw_fingerprint, articles.c.event_id,
                articles.c.story_id, articles.c.duplicate_of)
        for chunk in chunks(ids, WRITE_CHUNK):
            for row in self._fetch(select(*cols).where(articles.c.id.in_(chunk))):
                found[row.id] = KnownInput(row.raw_fingerprint, row.event_id, row.story_id,
                                           row.duplicate_of)
        return found

    def load_clusters(self, kind: str, active_since: datetime | None = None,
                      ids: Iterable[str] | None = None) -> list[ClusterRow]:
        query = select(clusters).where(clusters.c.kind == kind)
        if ids is not None:
            wanted = list(ids)
            rows = []
            for chunk in chunks(wanted, WRITE_CHUNK):
                rows += self._fetch(query.where(clusters.c.id.in_(chunk)))
        else:
            if active_since is not None:
                query = query.where((clusters.c.last_key >= utc_key(active_since))
                                    | clusters.c.last_key.is_(None))
            rows = self._fetch(query.order_by(clusters.c.id))
        return [row_to_cluster(r) for r in rows]

    def latest_cluster_time(self, kind: str) -> datetime | None:
        query = select(func.max(clusters.c.last_key)).where(clusters.c.kind == kind)
        return from_key(self._fetch(query)[0][0])

    def get_vectors(self, model: str, article_ids: Iterable[str]) -> dict[str, bytes]:
        found = {}
        for chunk in chunks(list(article_ids), WRITE_CHUNK):
            query = select(article_vectors.c.article_id, article_vectors.c.vector).where(
                article_vectors.c.model == model, article_vectors.c.article_id.in_(chunk))
            found.update({r.article_id: bytes(r.vector) for r in self._fetch(query)})
        return found

    def iter_signatures(self) -> Iterator[tuple[str, bytes, datetime | None]]:
        """The near-duplicate signatures still indexed (retired ones are deleted), with times."""
        s = article_signatures.c
        query = select(s.article_id, s.signature, s.time_key).join(articles, articles.c.id == s.article_id)
        # The order the clustering first saw them in: batch by batch (one ingested_at stamp per
        # batch), and within a batch by time, undated last, then id. The near-duplicate index
        # prefers the earliest-added original, so an index rebuilt in another order (by id, as
        # before) made other duplicate links than the run that was interrupted would have.
        order = (articles.c.ingested_at, s.time_key.is_(None), s.time_key, s.article_id)
        for row in self._fetch(query.order_by(*order)):
            when = datetime.fromisoformat(row.time_key).replace(tzinfo=UTC) if row.time_key else None
            yield row.article_id, bytes(row.signature), when

    def load_frequencies(self) -> Counter:
        return Counter(dict(self._fetch(select(key_frequencies.c.key, key_frequencies.c.documents))))

    def articles_of(self, *, event_id: str | None = None, story_id: str | None = None) -> list[Article]:
        if (event_id is None) == (story_id is None):
            raise ValueError("give exactly one of event_id and story_id")
        where = articles.c.event_id == event_id if event_id else articles.c.story_id == story_id
        rows = self._fetch(select(articles).where(where).order_by(articles.c.published_key,
                                                                  articles.c.id))
        return [row_to_article(r) for r in rows]

    def _upsert_article_rows(self, conn: Connection, articles_: Iterable[Article],
                             stamp: str) -> tuple[SaveCounts, set[str]]:
        """Write the articles; count each status and name the stories they were and are in."""
        counts = SaveCounts()
        touched: set[str] = set()
        for chunk in chunks(articles_, WRITE_CHUNK):
            rows = [article_to_row(a) for a in chunk]
            ids = list({row["id"] for row in rows})
            known, stories = {}, {}
            query = select(articles.c.id, articles.c.fingerprint, articles.c.story_id)
            for found in conn.execute(query.where(articles.c.id.in_(ids))):
                known[found.id], stories[found.id] = found.fingerprint, found.story_id
            # Last row per id wins; one write per id keeps ON CONFLICT from seeing it twice.
            pending: dict[str, dict] = {}
            for row in rows:
                before = known.get(row["id"])
                status = ("unchanged" if before == row["fingerprint"]
                          else "ingested" if before is None else "updated")
                counts[status] += 1
                counts.statuses[row["id"]] = status
                if status == "unchanged":
                    continue
                known[row["id"]] = row["fingerprint"]
                touched.update((row["story_id"], stories.get(row["id"])))
                pending[row["id"]] = {**row, "ingested_at": stamp, "updated_at": stamp}
            if pending:
                conn.execute(self._upsert_articles(), list(pending.values()))
                # Same transaction: the search index never disagrees with the articles.
                changed = {a.id: a for a in chunk if a.id in pending}
                self._fulltext.write(conn, fulltext.documents(changed.values()))
                digests.write(conn, changed.values())
        touched.discard(None)
        return counts, touched

    def get_article(self, article_id: str) -> Article:
        with self._read("read an article from") as conn:
            row = conn.execute(select(articles).where(articles.c.id == article_id)).first()
        if row is None:
            raise NotFound(
                f"no article with id {article_id!r}", hint="`storyline export` lists every id"
            )
        return row_to_article(row)

    def has_article(self, article_id: str) -> bool:
        with self._read("look up an article in") as conn:
            query = select(articles.c.id).where(articles.c.id == article_id)
            return conn.execute(query).first() is not None

    def iter_articles(self, batch_size: int = 500) -> Iterator[Article]:
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive whole number, got {batch_size!r}")
        # Keyset paging: each batch is its own short query, so memory stays at one batch and
        # no read transaction is held open while the caller works.
        key, ident = articles.c.published_key, articles.c.id
        last: tuple | None = None
        while True:
            query = select(articles).where(key.is_not(None)).order_by(key, ident)
            if last is not None:
                query = query.where(tuple_(key, ident) > tuple_(*last))
            rows = self._fetch(query.limit(batch_size))
            yield from (row_to_article(row) for row in rows)
            if len(rows) < batch_size:
                break
            last = (rows[-1].published_key, rows[-1].id)
        last_id: str | None = None
        while True:
            query = select(articles).where(key.is_(None)).order_by(ident)
            if last_id is not None:
                query = query.where(ident > last_id)
            rows = self._fetch(query.limit(batch_size))
            yield from (row_to_article(row) for row in rows)
            if len(rows) < batch_size:
                break
            last_id = rows[-1].id

    def count_articles(self) -> int:
        with self._read("count articles in") as conn:
            return int(conn.execute(select(func.count()).select_from(articles)).scalar_one())

    # -- rejections -------------------------------------------------------------------------

    def add_rejection(self, rejection: Rejection) -> UpsertStatus:
        row = rejection_to_row(rejection)
        with self._write("store a rejection in") as conn:
            before = conn.execute(
                select(rejections.c.fingerprint).where(
                    rejections.c.origin == row["origin"], rejections.c.reason == row["reason"]
                )
            ).scalar()
            if before == row["fingerprint"]:
                return "unchanged"
            conn.execute(self._upsert_rejections(), {**row, "rejected_at": now_text()})
        return "ingested" if before is None else "updated"

    def iter_rejections(self, batch_size: int = 500) -> Iterator[Rejection]:
        key = (rejections.c.origin, rejections.c.reason)
        last: tuple | None = None
        while True:
            query = select(rejections).order_by(*key).limit(batch_size)
            if last is not None:
                query = query.where(tuple_(*key) > tuple_(*last))
            rows = self._fetch(query)
            yield from (row_to_rejection(row) for row in rows)
            if len(rows) < batch_size:
                break
            last = (rows[-1].origin, rows[-1].reason)

    # -- lifecycle --------------------------------------------------------------------------

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self._shown_url!r})"

    # -- internals --------------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise StoreError(f"store {self._shown_url} is closed")

    @contextmanager
    def _read(self, action: str) -> Iterator[Connection]:
        self._check_open()
        try:
            with self._engine.connect() as conn:
                yield conn
        except SQLAlchemyError as exc:
            raise self._error(action, exc) from exc

    @contextmanager
    def _write(self, action: str) -> Iterator[Connection]:
        self._check_open()
        try:
            with self._engine.connect() as conn:
                conn.execution_options(storyline_write=True)
                with conn.begin():
                    yield conn
        except SQLAlchemyError as exc:
            raise self._error(action, exc) from exc

    def _fetch(self, query) -> list:
        with self._read("read") as conn:
            return conn.execute(query).all()

    def _error(self, action: str, exc: SQLAlchemyError) -> StoreError:
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        hint = "check the --db URL and that the database is reachable" if action == "open" else None
        return StoreError(f"cannot {action} store {self._shown_url}: {reason}", hint=hint)

    def _insert(self, table):
        dialect = self._engine.dialect.name
        return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)

    def _upsert_articles(self):
        stmt = self._insert(articles)
        # ingested_at stays: it records when the article first arrived.
        keep = {"id", "ingested_at"}
        changes = {c.name: stmt.excluded[c.name] for c in articles.columns if c.name not in keep}
        return stmt.on_conflict_do_update(index_elements=[articles.c.id], set_=changes)

    def _upsert(self, table, keys: list[str]):
        stmt = self._insert(table)
        changes = {c.name: stmt.excluded[c.name] for c in table.columns if c.name not in keys}
        return stmt.on_conflict_do_update(index_elements=[table.c[k] for k in keys], set_=changes)

    def _upsert_rejections(self):
        stmt = self._insert(rejections)
        keep = {"origin", "reason"}
        changes = {c.name: stmt.excluded[c.name] for c in rejections.columns if c.name not in keep}
        index = [rejections.c.origin, rejections.c.reason]
        return stmt.on_conflict_do_update(index_elements=index, set_=changes)


    # -- read helpers for story output (storyline.stories) -----------------------------------

    def article_facts(self, story_ids: Iterable[str]) -> list[ArticleFacts]:
        c = articles.c
        cols = (c.id, c.event_id, c.story_id, c.source, c.lang, c.published, c.duplicate_of, c.title)
        rows = []
        for chunk in chunks(list(dict.fromkeys(story_ids)), WRITE_CHUNK):
            rows += self._fetch(select(*cols, c.published_key).where(c.story_id.in_(chunk)))
        rows.sort(key=lambda r: (r.published_key is None, r.published_key or "", r.id))
        return [_facts(r) for r in rows]

    def vector_models(self) -> list[str]:
        with self._read("list the vector models of") as conn:
            return listing.vector_models(conn)

    def listing_page(self, filters: ListingFilters, limit: int, offset: int = 0
                     ) -> tuple[datetime | None, list[ListingRow]]:
        with self._read("list stories of") as conn:
            return listing.page(conn, filters, limit, offset)

    def listing_rows(self, filters: ListingFilters | None = None,
                     story_ids: Iterable[str] | None = None) -> list[ListingRow]:
        with self._read("list stories of") as conn:
            return listing.rows(conn, filters, story_ids)

    def rebuild_listing(self) -> int:
        with self._write("rebuild the story listing of") as conn:
            return listing.rebuild(conn)

    # -- full-text search (storyline.search) -------------------------------------------------

    def match_articles(self, groups: Sequence[Sequence[IndexTerm]], filters: TextFilters, *,
                       require_all: bool = True, limit: int = 500) -> tuple[list[tuple[str, float]], int]:
        if not any(groups):
            return [], 0
        with self._read("search") as conn:
            return self._fulltext.match(conn, groups, filters, require_all, limit)

    def filtered_ids(self, filters: TextFilters) -> set[str]:
        where, params = fulltext.filter_clause(filters)
        with self._read("search") as conn:
            query = fulltext.bind_filters(f"SELECT a.id FROM articles a WHERE 1 = 1{where}", params)
            return set(conn.execute(query, params).scalars())

    def outlet_names(self) -> list[str]:
        query = select(articles.c.source).where(articles.c.source.is_not(None)).distinct()
        return sorted(r.source for r in self._fetch(query))

    def facts_of(self, article_ids: Iterable[str]) -> dict[str, ArticleFacts]:
        return {r.id: _facts(r) for r in self._rows_of(article_ids, ())}

    def event_facts(self, event_ids: Iterable[str], skip_langs: Iterable[str] = ()) -> list[ArticleFacts]:
        skip = list(skip_langs)
        where = (articles.c.lang.is_(None) | articles.c.lang.not_in(skip)) if skip else None
        rows = self._rows_of(event_ids, (), key=articles.c.event_id, where=where)
        return sorted((_facts(r) for r in rows), key=lambda f: f.id)

    def article_texts(self, article_ids: Iterable[str]) -> dict[str, ArticleText]:
        rows = self._rows_of(article_ids, (articles.c.url, articles.c.paragraphs))
        return {r.id: ArticleText(_facts(r), r.url, tuple(
            Paragraph(p["text"], p["lang"]) for p in json.loads(r.paragraphs))) for r in rows}

    def iter_vectors(self, model: str) -> Iterator[tuple[str, bytes]]:
        query = select(article_vectors.c.article_id, article_vectors.c.vector).where(
            article_vectors.c.model == model).order_by(article_vectors.c.article_id)
        for row in self._fetch(query):
            yield row.article_id, bytes(row.vector)

    def count_vectors(self, model: str) -> int:
        query = select(func.count()).select_from(article_vectors).where(article_vectors.c.model == model)
        return int(self._fetch(query)[0][0])

    def reindex_search(self, *, missing_only: bool = False) -> int:
        with self._write("reindex") as conn:
            return self._fulltext.index_missing(conn, missing_only=missing_only)

    def _rows_of(self, values: Iterable[str], extra: tuple, key=None, where=None) -> list:
        c = articles.c
        key = c.id if key is None else key
        cols = (c.id, c.event_id, c.story_id, c.source, c.lang, c.published, c.duplicate_of, c.title)
        rows = []
        for chunk in chunks(list(dict.fromkeys(values)), WRITE_CHUNK):
            query = select(*cols, *extra).where(key.in_(chunk))
            rows += self._fetch(query if where is None else query.where(where))
        return rows


def _facts(row) -> ArticleFacts:
    return ArticleFacts(row.id, row.event_id, row.story_id, row.source, row.lang,
                        datetime.fromisoformat(row.published) if row.published else None,
                        row.duplicate_of, row.title)


def safe_url(url: str) -> str:
    """The URL with any password masked, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def _create_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"not a store URL: {url!r}", hint="e.g. sqlite:///storyline.db") from None
    backend = parsed.get_backend_name()
    try:
        if backend == "sqlite":
            return _sqlite_engine(parsed)
        if backend in ("postgresql", "postgres"):
            return _postgresql_engine(parsed)
    except (NoSuchModuleError, ImportError) as exc:
        raise StoreError(
            f"cannot open store {safe_url(url)}: database driver missing ({exc})",
            hint="for PostgreSQL: pip install 'psycopg[binary]'",
        ) from None
    raise ConfigError(
        f"unsupported store URL {safe_url(url)!r}", hint="use sqlite:// or postgresql://"
    )


def _sqlite_engine(url: URL) -> Engine:
    if url.database in (None, "", ":memory:"):
        # One shared connection: every thread sees the same in-memory database.
        engine = create_engine(
            "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
        )
    else:
        folder = Path(url.database).expanduser().resolve().parent
        if not folder.is_dir():
            raise StoreError(
                f"cannot open store {url}: folder {folder} does not exist",
                hint="create the folder first, or pass another --db",
            )
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
                               pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn, _record):
        # pysqlite's own transaction handling skips DDL; SQLAlchemy emits BEGIN instead (below).
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_MS)}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        # Writers take the write lock up front: a deferred transaction that reads and then
        # writes fails at once with SQLITE_BUSY instead of waiting out the busy timeout.
        write = conn.get_execution_options().get("storyline_write", False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _postgresql_engine(url: URL) -> Engine:
    if url.drivername in ("postgresql", "postgres"):
        # psycopg 3 rather than SQLAlchemy's default psycopg2.
        url = url.set(drivername="postgresql+psycopg")
    return create_engine(url, pool_pre_ping=True, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)


