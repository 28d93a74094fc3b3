"""The store on SQLAlchemy Core: one code path for SQLite (embedded) and PostgreSQL."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from itertools import islice
from pathlib import Path

from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    event,
    func,
    select,
    tuple_,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

from storyline.errors import ConfigError, NotFound, StoreError
from storyline.model import Article, Rejection
from storyline.store import migrations
from storyline.store.base import Store, UpsertStatus
from storyline.store.schema import (
    article_to_row,
    articles,
    now_text,
    rejection_to_row,
    rejections,
    row_to_article,
    row_to_rejection,
)

# Long enough to ride out another process's write transaction, short enough to report a stuck
# lock instead of hanging the CLI.
SQLITE_BUSY_TIMEOUT_MS = 30_000
# Rows looked up or written per statement inside one upsert_many transaction.
WRITE_CHUNK = 500


class SqlStore(Store):
    """A Store on a SQLAlchemy engine; opening it applies pending migrations."""

    def __init__(self, url: str):
        self.url = url
        self._shown_url = safe_url(url)
        self._engine = _create_engine(url)
        self._closed = False
        try:
            with self._write("open") as conn:
                self.schema_version = migrations.migrate(conn)
        except BaseException:
            self._engine.dispose()
            raise

    @property
    def engine(self) -> Engine:
        """For layers that add their own tables (through new migration steps)."""
        self._check_open()
        return self._engine

    # -- articles ---------------------------------------------------------------------------

    def upsert_many(self, articles_: Iterable[Article]) -> Counter:
        counts: Counter = Counter()
        stamp = now_text()
        with self._write("store articles in") as conn:
            for chunk in _chunks(articles_, WRITE_CHUNK):
                rows = [article_to_row(a) for a in chunk]
                ids = list({row["id"] for row in rows})
                known = dict(
                    conn.execute(
                        select(articles.c.id, articles.c.fingerprint).where(articles.c.id.in_(ids))
                    ).all()
                )
                # Last row per id wins; one write per id keeps ON CONFLICT from seeing it twice.
                pending: dict[str, dict] = {}
                for row in rows:
                    before = known.get(row["id"])
                    if before == row["fingerprint"]:
                        counts["unchanged"] += 1
                        continue
                    counts["ingested" if before is None else "updated"] += 1
                    known[row["id"]] = row["fingerprint"]
                    pending[row["id"]] = {**row, "ingested_at": stamp, "updated_at": stamp}
                if pending:
                    conn.execute(self._upsert_articles(), list(pending.values()))
        return counts

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

    def _upsert_rejections(self):
        stmt = self._insert(rejections)
        keep = {"origin", "reason"}
        changes = {c.name: stmt.excluded[c.name] for c in rejections.columns if c.name not in keep}
        index = [rejections.c.origin, rejections.c.reason]
        return stmt.on_conflict_do_update(index_elements=index, set_=changes)


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
        engine = create_engine(url, connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000})

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
    return create_engine(url, pool_pre_ping=True)


def _chunks(items: Iterable, size: int) -> Iterator[list]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk
