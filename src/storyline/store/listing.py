"""The story listing inside the store (migration 4): one row per story with its rank score at the
store's reference time and the facts a listing shows (``storyline.stories.listing`` computes
them), rewritten in the transaction that changes the story. A page of ranked stories is then a
walk down one index that stops after the page, whatever the size of the store.

"Now" for recency is the newest article in the store (what ``list_stories`` has always used), so
the stored score is the listing's score exactly and the index serves ORDER BY ... LIMIT. The
other choice, a stored score without recency plus a decay computed in each query, would have to
compute the decay of every story that passes the filters before sorting: the cost of a page
would grow with the store again. The price of this one is paid by writes: when a batch moves the
newest article forward, every story whose recency still shows in its score (``settled = 0``,
in practice those of the last few months) is scored again, in Python with the same function
the page uses, so the stored order and the shown scores never differ by a rounding."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

import numpy as np
from sqlalchemy import Connection, bindparam, delete, exists, func, select, text, update

from storyline.nlp.latent import is_latent_model
from storyline.store import digests
from storyline.store.base import ListingFilters, ListingRow
from storyline.store.schema import (
    LISTED,
    article_digests,
    article_vectors,
    articles,
    chunks,
    clusters,
    from_key,
    now_text,
    row_to_article,
    row_to_cluster,
    row_to_listed_article,
    story_listing,
    story_listing_langs,
    story_listing_meta,
    story_listing_outlets,
    utc_key,
)

# Stories whose articles are read and computed together (one query for each kind of row).
CHUNK = 200
# Any constant works; it only has to be the same for every storyline process.
_PG_LISTING_LOCK = 7_205_316_022
# The raw input and the removed boilerplate are never shown in a listing: not read.
_UNREAD = {"raw_content", "raw_fields", "removed"}
_COLUMNS = [c for c in articles.columns if c.name not in _UNREAD]
_LISTED = [articles.c[name] for name in LISTED]
_D = article_digests.c
_L = story_listing.c


def refresh(conn: Connection, story_ids: Iterable[str | None], vectors_of: str | None = None) -> None:
    """Compute the listing rows of ``story_ids`` again (a story without articles or without a
    row loses its listing row), after the batch that changed them wrote everything else.
    ``vectors_of``: the embedder whose vectors the batch wrote."""
    # Counting the vectors by model scans them all: at 100k articles that took seconds per
    # batch. The answer can only change when a batch writes another model's vectors.
    model = _meta(conn, "model")
    if model is None or (vectors_of is not None and vectors_of != model):
        model = _default_model(conn)
        _set_meta(conn, "model", model)
    ids = sorted({s for s in story_ids if s})
    if not ids:
        return
    if conn.dialect.name == "postgresql":
        # Two writers' batches both rescore the unsettled stories: one after the other, not
        # row by row in two orders (a deadlock). Past this lock a writer only reads rows the
        # other may have written, so the wait cannot close a cycle. SQLite writers are serial.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LISTING_LOCK})
    reference = _reference(conn)
    before = _meta(conn, "reference")
    if before != _key(reference):
        # A newest article that went back in time (its story merged or emptied) makes old
        # stories more recent again: settled scores are no longer safe, so all are redone.
        back = before is None or reference is None or _key(reference) < before
        _rescore(conn, reference, everything=back, skip=set(ids))
        _set_meta(conn, "reference", _key(reference))
    for chunk in chunks(ids, CHUNK):
        _write(conn, chunk, reference, model)


def rebuild(conn: Connection) -> int:
    """Every story's row again (the backfill of migration 4, and after a change of code or
    parameters that would compute other facts); return how many stories are listed."""
    from storyline.stories.listing import params_fingerprint

    for table in (story_listing, story_listing_langs, story_listing_outlets, story_listing_meta):
        conn.execute(delete(table))
    reference = _reference(conn)
    _set_meta(conn, "reference", _key(reference))
    model = _default_model(conn)
    _set_meta(conn, "model", model)
    ids = conn.execute(select(clusters.c.id).where(clusters.c.kind == "story").order_by(clusters.c.id))
    for chunk in chunks(ids.scalars().all(), CHUNK):
        _write(conn, chunk, reference, model)
    _set_meta(conn, "params", params_fingerprint())
    return int(conn.execute(select(func.count()).select_from(story_listing)).scalar_one())


def ensure_current(conn: Connection) -> bool:
    """Rebuild the listing when other code or parameters computed it; say whether it was."""
    from storyline.stories.listing import params_fingerprint

    if _meta(conn, "params") == params_fingerprint():
        return False
    rebuild(conn)
    return True


def page(conn: Connection, filters: ListingFilters, limit: int, offset: int
         ) -> tuple[datetime | None, list[ListingRow]]:
    query = _filtered(select(_L.story_id, _L.score, _L.measures, _L.facts), filters)
    query = query.order_by(_L.score.desc(), _L.rank_last.desc(), _L.story_id).limit(limit).offset(offset)
    found = conn.execute(query).all()
    return from_key(_meta(conn, "reference")), [_listing_row(r) for r in found]


def rows(conn: Connection, filters: ListingFilters | None, story_ids: Iterable[str] | None
         ) -> list[ListingRow]:
    query = _filtered(select(_L.story_id, _L.score, _L.measures, _L.facts), filters or ListingFilters())
    if story_ids is None:
        return [_listing_row(r) for r in conn.execute(query)]
    found = []
    for chunk in chunks(sorted(set(story_ids)), 500):
        found += conn.execute(query.where(_L.story_id.in_(chunk))).all()
    return [_listing_row(r) for r in found]


# -- internals ---------------------------------------------------------------------------------


def _write(conn: Connection, story_ids: list[str], reference: datetime | None, model: str | None) -> None:
    from storyline.stories.listing import story_facts
    from storyline.stories.rank import recency_settled, score_measures

    query = select(clusters).where(clusters.c.kind == "story", clusters.c.id.in_(story_ids))
    rows = {r.id: row_to_cluster(r) for r in conn.execute(query)}
    members, known = _members(conn, story_ids, rows)
    vectors = _vectors(conn, model, [a.id for arts in members.values() for a in arts])
    for table in (story_listing, story_listing_langs, story_listing_outlets):
        conn.execute(delete(table).where(table.c.story_id.in_(story_ids)))
    stamp = now_text()
    listed, langs, outlets = [], [], []
    for story_id in story_ids:
        if story_id not in rows or not members[story_id]:
            continue
        row = rows[story_id]
        facts = story_facts(story_id, members[story_id], row, vectors, known)
        ranking = score_measures(facts.measures, reference)
        listed.append({
            "story_id": story_id, "score": ranking.score, "settled": int(recency_settled(ranking)),
            "rank_last": _key(facts.measures.last) or "", "span_first": _key(row.first),
            "span_last": _key(row.last), "measures": json.dumps(facts.measures.to_dict()),
            "facts": facts.to_json(), "updated_at": stamp,
        })
        langs += [{"story_id": story_id, "lang": lang} for lang in facts.languages]
        outlets += [{"story_id": story_id, "outlet": key} for key in facts.outlet_keys]
    for table, values in ((story_listing, listed), (story_listing_langs, langs),
                          (story_listing_outlets, outlets)):
        if values:
            conn.execute(table.insert(), values)


def _members(conn: Connection, story_ids: list[str], rows: dict) -> tuple[dict[str, list], dict]:
    """The stories' articles in ``articles_of``'s order (which ``story_view`` reads them in) and
    their digests. An article comes without its text when its digest is current; the others
    are read whole, and their digests computed and stored. A story whose row lacks top terms
    or entities is read whole: its summary counts them over the articles' own analysis."""
    from storyline.stories.digest import DIGEST_VERSION, Digest, digest_of
    from storyline.stories.listing import needs_full_articles

    members: dict[str, list] = defaultdict(list)
    found: dict[str, Digest] = {}
    whole: list[str] = []
    query = (select(*_LISTED, _D.version, _D.title_keys, _D.sentences, _D.texts)
             .select_from(articles.outerjoin(article_digests, _D.article_id == articles.c.id))
             .where(articles.c.story_id.in_(story_ids))
             .order_by(articles.c.published_key, articles.c.id))
    for row in conn.execute(query):
        members[row.story_id].append(row_to_listed_article(row))
        if row.version == DIGEST_VERSION:
            found[row.id] = Digest.stored(row.title_keys, bytes(row.sentences), row.texts)
        elif row.story_id in rows:
            whole.append(row.id)
    whole += [a.id for sid in story_ids if sid in rows and needs_full_articles(rows[sid])
              for a in members[sid] if a.id in found]
    if whole:
        full = {}
        for chunk in chunks(whole, 500):
            full.update({r.id: row_to_article(r) for r in
                         conn.execute(select(*_COLUMNS).where(articles.c.id.in_(chunk)))})
        made = {k: digest_of(a) for k, a in full.items() if k not in found}
        digests.store(conn, made)
        found.update(made)
        for sid in story_ids:
            members[sid] = [full.get(a.id, a) for a in members[sid]]
    return members, found


def _rescore(conn: Connection, reference: datetime | None, *, everything: bool, skip: set[str]) -> None:
    from storyline.stories.rank import Measures, recency_settled, score_measures

    query = select(_L.story_id, _L.measures)
    if not everything:
        query = query.where(_L.settled == 0)
    changes = []
    for row in conn.execute(query).all():
        if row.story_id in skip:
            continue
        ranking = score_measures(Measures.from_dict(json.loads(row.measures)), reference)
        changes.append({"sid": row.story_id, "new_score": ranking.score,
                        "new_settled": int(recency_settled(ranking))})
    if changes:
        stmt = (update(story_listing).where(_L.story_id == bindparam("sid"))
                .values(score=bindparam("new_score"), settled=bindparam("new_settled")))
        conn.execute(stmt, changes)


def _filtered(query, filters: ListingFilters):
    # EXISTS, not IN: SQLite then walks the rank index and probes each story, stopping after
    # the page (10k articles, lang=uk: 0.05 ms); with IN it reads every story of the language
    # and sorts them (6 ms). PostgreSQL plans both forms as the same semi-join.
    if filters.lang:
        langs = story_listing_langs.c
        query = query.where(exists().where(langs.story_id == _L.story_id, langs.lang == filters.lang))
    if filters.outlet:
        outlets = story_listing_outlets.c
        query = query.where(exists().where(outlets.story_id == _L.story_id, outlets.outlet == filters.outlet))
    if filters.since is not None:
        query = query.where(_L.span_last >= utc_key(filters.since))
    if filters.until is not None:
        query = query.where(_L.span_first <= utc_key(filters.until))
    return query


def _reference(conn: Connection) -> datetime | None:
    """The newest article of any story: what ``list_stories`` ranks against by default."""
    key = conn.execute(select(func.max(clusters.c.last_key)).where(clusters.c.kind == "story")).scalar()
    return from_key(key)


def _default_model(conn: Connection) -> str | None:
    """The store's most used embedder, the one ``story_view`` reads vectors of."""
    models = vector_models(conn)
    return models[0] if models else None


def vector_models(conn: Connection) -> list[str]:
    """The embedders whose vectors the store holds, the most used first; latent terms, stored
    beside them, are not vectors of an embedder."""
    count = func.count().label("n")
    found = conn.execute(select(article_vectors.c.model, count).group_by(article_vectors.c.model)).all()
    return [r.model for r in sorted(found, key=lambda r: (-r.n, r.model)) if not is_latent_model(r.model)]


def _vectors(conn: Connection, model: str | None, ids: list[str]) -> dict[str, np.ndarray]:
    if not model:
        return {}
    found = {}
    for chunk in chunks(ids, 500):
        query = select(article_vectors.c.article_id, article_vectors.c.vector).where(
            article_vectors.c.model == model, article_vectors.c.article_id.in_(chunk))
        found.update({r.article_id: np.frombuffer(bytes(r.vector), dtype=np.float32)
                      for r in conn.execute(query)})
    return found


def _meta(conn: Connection, name: str) -> str | None:
    """The value, None when unset or set to None."""
    query = select(story_listing_meta.c.value).where(story_listing_meta.c.name == name)
    return conn.execute(query).scalar() or None


def _set_meta(conn: Connection, name: str, value: str | None) -> None:
    conn.execute(delete(story_listing_meta).where(story_listing_meta.c.name == name))
    conn.execute(story_listing_meta.insert().values(name=name, value=value or ""))


def _listing_row(row) -> ListingRow:
    return ListingRow(row.story_id, float(row.score), json.loads(row.measures), row.facts)


def _key(moment: datetime | None) -> str | None:
    return utc_key(moment)
