"""Records posted to ``POST /api/articles``: parsed like JSON Lines input, ingested like a file
(``ingest_documents``: pipeline, clustering, store), and answered record by record."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass

from storyline.api.errors import ApiError
from storyline.errors import InputError
from storyline.ingest.ids import content_id
from storyline.ingest.records import parse_record
from storyline.ingest.run import ingest_documents
from storyline.model import Article, RawDocument, Rejection
from storyline.settings import Settings
from storyline.store.base import SaveCounts, Store

MAX_RECORDS = 1000
JSON_TYPES = frozenset({"application/json"})
JSONL_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/x-jsonlines",
                         "application/jsonlines", "application/json-lines"})


@dataclass
class Outcome:
    index: int
    id: str | None
    status: str = "rejected"
    reason: str | None = None
    detail: str | None = None
    event_id: str | None = None
    story_id: str | None = None
    duplicate_of: str | None = None

    def to_dict(self) -> dict:
        return asdict(self)


def check_media_type(media_type: str) -> None:
    if media_type not in JSON_TYPES | JSONL_TYPES:
        raise ApiError(415, f"unsupported content type {media_type or '(none)'!r}",
                       detail={"hint": "send application/json (a record or a list of records) "
                                       "or application/x-ndjson (JSON Lines)"})


def split_records(body: bytes, media_type: str) -> list[str]:
    """One JSON text per record: a JSON object or array of objects, or JSON Lines.

    Raises ApiError 415/422 for a body that holds no records at all; a single bad record is
    kept, to be rejected on its own."""
    if media_type in JSONL_TYPES:
        texts = [line.decode("utf-8", "replace") for line in body.split(b"\n") if line.strip()]
    elif media_type in JSON_TYPES:
        try:
            data = json.loads(body)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            where = (f" (line {exc.lineno}, column {exc.colno})"
                     if isinstance(exc, json.JSONDecodeError) else "")
            raise ApiError(422, f"the body is not valid JSON{where}",
                           detail=[{"field": "body", "in": "body", "message": str(exc)[:200],
                                    "type": "json_invalid"}]) from None
        if isinstance(data, dict):
            data = [data]
        if not isinstance(data, list):
            raise ApiError(422, "the body must be a record (a JSON object) or a list of records",
                           detail=[{"field": "body", "in": "body", "type": "type_error",
                                    "message": f"got {type(data).__name__}"}])
        texts = [json.dumps(item, ensure_ascii=False) for item in data]
    else:
        check_media_type(media_type)
    if not texts:
        raise ApiError(422, "the body holds no records")
    if len(texts) > MAX_RECORDS:
        raise ApiError(422, f"{len(texts):,} records in one request; at most {MAX_RECORDS:,}",
                       detail={"hint": "send the records in several requests"})
    return texts


def ingest_records(texts: Iterable[str], store: Store, settings: Settings) -> list[Outcome]:
    """Parse and ingest each record; the outcome of each, in request order."""
    outcomes: list[Outcome] = []
    items: list[RawDocument | Rejection] = []
    index_of: dict[int, int] = {}  # id() of a document or rejection handed in -> record index
    first_index: dict[str, int] = {}
    for index, text in enumerate(texts):
        item, claimed = _document(text, index, first_index)
        outcomes.append(Outcome(index, claimed))
        index_of[id(item)] = index
        items.append(item)

    def rejected(rejection: Rejection) -> None:
        index = index_of.get(id(rejection), index_of.get(id(rejection.raw)))
        if index is not None:
            outcomes[index].reason, outcomes[index].detail = rejection.reason, rejection.detail

    recorder = _SaveRecorder(store)
    ingest_documents(items, recorder, settings, on_rejection=rejected)
    by_id = {o.id: o for o in outcomes if o.reason is None}
    for article_id, (status, article) in recorder.saved.items():
        outcome = by_id.get(article_id)
        if outcome is not None:
            outcome.status = status
            outcome.event_id, outcome.story_id = article.event_id, article.story_id
            outcome.duplicate_of = article.duplicate_of
    return outcomes


def counts(outcomes: Iterable[Outcome]) -> dict[str, int]:
    found = Counter(o.status for o in outcomes)
    return {status: found[status] for status in ("ingested", "updated", "unchanged", "rejected")}


def _document(text: str, index: int,
              first_index: dict[str, int]) -> tuple[RawDocument | Rejection, str | None]:
    """The record as a document (or a rejection), and the id to answer it with."""
    text = _without_nul(text)
    # Records carry no crawl time: the same record posted twice is the same input (idempotent).
    try:
        doc = parse_record(text, f"api:record-{index}", None)
    except InputError as exc:
        raw = RawDocument(id=content_id(text), format="record", content=text,
                          origin=f"api:{content_id(text)}")
        return Rejection(raw.origin, exc.reason, exc.detail, raw=raw), _given_id(text)
    # The origin names the record, not the request: a rejection is kept once per record.
    doc.origin = f"api:{doc.id}"
    earlier = first_index.setdefault(doc.id, index)
    if earlier != index:
        return Rejection(doc.origin, "duplicate_id",
                         f"id {doc.id!r} is already taken by record {earlier} of this request",
                         raw=doc), doc.id
    return doc, doc.id


def _without_nul(text: str) -> str:
    """The record without NUL characters, as `storyline ingest` reads files: NUL is not text, and
    PostgreSQL refuses it in any text value (a record with one failed the whole request, 503)."""
    text = text.replace("\x00", "")
    if "\\u0000" not in text:
        return text
    try:
        return json.dumps(_strip_nul(json.loads(text)), ensure_ascii=False)
    except ValueError:  # not JSON: it is rejected as it is, minus the escapes
        return text.replace("\\u0000", "")


def _strip_nul(value):
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, list):
        return [_strip_nul(v) for v in value]
    if isinstance(value, dict):
        return {_strip_nul(k): _strip_nul(v) for k, v in value.items()}
    return value


def _given_id(text: str) -> str | None:
    """The id a record that could not be read claims, to name it in the answer."""
    try:
        record = json.loads(text)
    except ValueError:
        return None
    given = record.get("id") if isinstance(record, dict) else None
    return str(given)[:200] if isinstance(given, (str, int)) and str(given).strip() else None


class _SaveRecorder:
    """The store as ``ingest_documents`` sees it, noting what each save did to each article, as
    the client wants to know about each of its records."""

    def __init__(self, store: Store):
        self._store = store
        self.saved: dict[str, tuple[str, Article]] = {}

    def __getattr__(self, name: str):
        return getattr(self._store, name)

    def save_batch(self, batch: Iterable[Article], delta=None) -> SaveCounts:
        batch = list(batch)
        result = self._store.save_batch(batch, delta)
        for article in batch:
            self.saved[article.id] = (result.statuses[article.id], article)
        return result
