"""The search index inside the store: FTS5 on SQLite, a tsvector with a GIN index on PostgreSQL.

Both hold the same keys (``storyline.search.keys``) and answer the same boolean question (a key
of every group, or of any group); only the ranking function differs (FTS5's bm25, PostgreSQL's
ts_rank), with matching field weights. User text never reaches either query language: it is
reduced to keys of letters and digits first, and each key is still quoted and escaped here.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from itertools import islice

from sqlalchemy import Connection, bindparam, text

from storyline.search.keys import FIELDS, IndexDocument, index_document
from storyline.store.base import IndexTerm, TextFilters
from storyline.store.schema import utc_key

# The migration step that creates the index; the store backfills it right after that step.
SCHEMA_VERSION = 3
CHUNK = 500
# Field weights: a title word counts most, then an entity, then a body lemma, then a cognate key
# (the least certain: two different words can share one).
WEIGHTS = {"title": 4.0, "entities": 2.0, "body": 1.0, "cognates": 0.5}
# Which document fields each kind of query term is looked up in.
TERM_FIELDS = {"lemma": ("title", "body"), "cognate": ("cognates",), "entity": ("entities",)}
# tsvector weight letters per field; ts_rank takes its weights as {D, C, B, A}.
PG_LETTERS = {"title": "A", "entities": "B", "body": "C", "cognates": "D"}
PG_MAX_POSITION = 16383
PG_MAX_POSITIONS = 256


class Fulltext:
    """Writes search documents and runs matches on one dialect."""

    def write(self, conn: Connection, docs: dict[str, IndexDocument]) -> None:
        raise NotImplementedError

    def clear(self, conn: Connection) -> None:
        raise NotImplementedError

    def _match_sql(self, where: str) -> str:
        """The best ``:limit`` matches (id, score), maybe each with the count of all (total)."""
        raise NotImplementedError

    def _count_sql(self, where: str) -> str:
        raise NotImplementedError

    def match_expression(self, groups: Sequence[Sequence[IndexTerm]], require_all: bool) -> str:
        raise NotImplementedError

    # -- shared ------------------------------------------------------------------------------

    def match(self, conn: Connection, groups: Sequence[Sequence[IndexTerm]], filters: TextFilters,
              require_all: bool, limit: int) -> tuple[list[tuple[str, float]], int]:
        expression = self.match_expression(groups, require_all)
        where, params = filter_clause(filters)
        params["q"] = expression
        found = conn.execute(bind_filters(self._match_sql(where), params), {**params, "limit": limit}).all()
        hits = [(row.id, float(row.score)) for row in found]
        if len(hits) < limit:
            return hits, len(hits)
        if "total" in found[0]._fields:
            return hits, int(found[0].total)
        total = conn.execute(bind_filters(self._count_sql(where), params), params).scalar_one()
        return hits, int(total)

    def index_missing(self, conn: Connection, missing_only: bool = True) -> int:
        """(Re)build the documents of stored articles (those without one when ``missing_only``)."""
        if not missing_only:
            self.clear(conn)
        missing = conn.execute(text(
            "SELECT a.id FROM articles a WHERE NOT EXISTS "
            "(SELECT 1 FROM search_documents d WHERE d.article_id = a.id) ORDER BY a.id")).scalars().all()
        load = text("SELECT id, title, lang, lemmas, entities FROM articles WHERE id IN :ids")
        load = load.bindparams(bindparam("ids", expanding=True))
        ids = iter(missing)
        while chunk := list(islice(ids, CHUNK)):
            rows = conn.execute(load, {"ids": chunk}).all()
            self.write(conn, {r.id: index_document(r.title, r.lang, json.loads(r.lemmas),
                                                   (e["key"] for e in json.loads(r.entities)))
                              for r in rows})
        return len(missing)


class SqliteFulltext(Fulltext):
    def write(self, conn: Connection, docs: dict[str, IndexDocument]) -> None:
        if not docs:
            return
        ids = list(docs)
        conn.execute(text("INSERT INTO search_documents (article_id) VALUES (:a) "
                          "ON CONFLICT (article_id) DO NOTHING"), [{"a": i} for i in ids])
        rowids = {}
        lookup = text("SELECT doc_id, article_id FROM search_documents WHERE article_id IN :ids")
        for start in range(0, len(ids), CHUNK):
            chunk = ids[start:start + CHUNK]
            found = conn.execute(lookup.bindparams(bindparam("ids", expanding=True)), {"ids": chunk})
            rowids.update({row.article_id: row.doc_id for row in found})
        # FTS5 has no upsert: a changed article's old document goes first.
        conn.execute(text("DELETE FROM search_fts WHERE rowid = :r"), [{"r": rowids[i]} for i in ids])
        columns = ", ".join(FIELDS)
        values = ", ".join(f":{name}" for name in FIELDS)
        conn.execute(text(f"INSERT INTO search_fts (rowid, {columns}) VALUES (:r, {values})"),
                     [{"r": rowids[i], **docs[i].columns()} for i in ids])

    def clear(self, conn: Connection) -> None:
        conn.execute(text("DELETE FROM search_fts"))
        conn.execute(text("DELETE FROM search_documents"))

    def match_expression(self, groups: Sequence[Sequence[IndexTerm]], require_all: bool) -> str:
        def term(t: IndexTerm) -> str:
            # A quoted string is one phrase whatever it holds; "" is the only escape FTS5 knows.
            quoted = '"' + t.token.replace('"', '""') + '"'
            return "{" + " ".join(TERM_FIELDS[t.field]) + "} : " + quoted

        parts = ["(" + " OR ".join(term(t) for t in group) + ")" for group in groups if group]
        return (" AND " if require_all else " OR ").join(parts)

    def _match_sql(self, where: str) -> str:
        weights = ", ".join(str(WEIGHTS[name]) for name in FIELDS)
        # bm25 is lower-is-better; negated so that every backend ranks higher-is-better. FTS5
        # refuses bm25 beside a window function, so the total is a second query (when needed).
        return (f"SELECT d.article_id AS id, -bm25(search_fts, {weights}) AS score {_sqlite_from(where)} "
                "ORDER BY score DESC, d.article_id LIMIT :limit")

    def _count_sql(self, where: str) -> str:
        return f"SELECT count(*) {_sqlite_from(where)}"


class PostgresFulltext(Fulltext):
    def write(self, conn: Connection, docs: dict[str, IndexDocument]) -> None:
        if not docs:
            return
        statement = text("INSERT INTO search_documents (article_id, document) "
                         "VALUES (:a, CAST(:d AS tsvector)) "
                         "ON CONFLICT (article_id) DO UPDATE SET document = EXCLUDED.document")
        conn.execute(statement, [{"a": i, "d": tsvector_literal(doc)} for i, doc in docs.items()])

    def clear(self, conn: Connection) -> None:
        conn.execute(text("DELETE FROM search_documents"))

    def match_expression(self, groups: Sequence[Sequence[IndexTerm]], require_all: bool) -> str:
        def term(t: IndexTerm) -> str:
            letters = "".join(PG_LETTERS[name] for name in TERM_FIELDS[t.field])
            return f"{_pg_quote(t.token)}:{letters}"

        parts = ["(" + " | ".join(term(t) for t in group) + ")" for group in groups if group]
        return (" & " if require_all else " | ").join(parts)

    def _match_sql(self, where: str) -> str:
        # ts_rank refuses weights above 1: the same ratios, scaled.
        top = max(WEIGHTS.values())
        order = ("cognates", "body", "entities", "title")
        weights = "{" + ", ".join(str(WEIGHTS[n] / top) for n in order) + "}"
        # Normalisation 1: divide by 1 + log(document length), as bm25 discounts long documents.
        # The total comes with the rows: a second query would rank every match again.
        return (f"SELECT d.article_id AS id, ts_rank('{weights}', d.document, CAST(:q AS tsquery), 1) "
                "AS score, count(*) OVER () AS total "
                f"FROM search_documents d{_articles(where)} "
                f"WHERE d.document @@ CAST(:q AS tsquery){where} "
                "ORDER BY score DESC, d.article_id LIMIT :limit")


def _sqlite_from(where: str) -> str:
    return ("FROM search_fts JOIN search_documents d ON d.doc_id = search_fts.rowid"
            f"{_articles(where)} WHERE search_fts MATCH :q{where}")


def _articles(where: str) -> str:
    """The join the filters need; without filters, one join less to plan and run."""
    return " JOIN articles a ON a.id = d.article_id" if where else ""


def for_dialect(name: str) -> Fulltext:
    return PostgresFulltext() if name == "postgresql" else SqliteFulltext()


def filter_clause(filters: TextFilters) -> tuple[str, dict]:
    """The filters as ``AND ...`` over ``articles a``, with their parameters."""
    clauses, params = [], {}
    if filters.langs:
        clauses.append("a.lang IN :langs")
        params["langs"] = list(filters.langs)
    if filters.sources:
        clauses.append("a.source IN :sources")
        params["sources"] = list(filters.sources)
    if filters.since is not None:
        clauses.append("a.published_key >= :since")
        params["since"] = utc_key(filters.since)
    if filters.until is not None:
        clauses.append("a.published_key < :until")
        params["until"] = utc_key(filters.until)
    return "".join(f" AND {c}" for c in clauses), params


def bind_filters(sql: str, params: dict):
    statement = text(sql)
    expanding = [bindparam(name, expanding=True) for name in ("langs", "sources") if name in params]
    return statement.bindparams(*expanding) if expanding else statement


def tsvector_literal(doc: IndexDocument) -> str:
    """The document as tsvector input: every key with its positions, weighted by field."""
    positions: dict[str, list[str]] = {}
    position = 0
    for name in ("title", "entities", "body", "cognates"):
        letter = PG_LETTERS[name]
        for key in getattr(doc, name):
            position = min(position + 1, PG_MAX_POSITION)
            found = positions.setdefault(key, [])
            if len(found) < PG_MAX_POSITIONS:
                found.append(f"{position}{letter}")
    return " ".join(f"{_pg_quote(key)}:{','.join(dict.fromkeys(p))}" for key, p in positions.items())


def _pg_quote(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def documents(articles: Iterable) -> dict[str, IndexDocument]:
    """Search documents of Articles about to be stored (the last one per id wins)."""
    return {a.id: index_document(a.title, a.lang, a.lemmas, (e.key for e in a.entities))
            for a in articles}
