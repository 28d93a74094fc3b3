"""GET /api/articles/{id} and POST /api/articles (ingest records)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request
from starlette.concurrency import run_in_threadpool

from storyline.api import ingest
from storyline.api.deps import ApiState, StateDep, StoreDep
from storyline.api.schemas import ArticleDetail, IngestResponse, errors
from storyline.model import Article

router = APIRouter(prefix="/api", tags=["articles"])

_RECORD = {
    "type": "object",
    "description": "A JSON Lines record of the input contract; one of text and html is required.",
    "properties": {name: {"type": ["string", "null"]}
                   for name in ("url", "title", "text", "html", "published", "source", "lang")}
    | {"id": {"type": ["string", "integer", "null"]}},
}
_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": {"oneOf": [_RECORD, {"type": "array", "items": _RECORD,
                                                                 "maxItems": ingest.MAX_RECORDS}]}},
            "application/x-ndjson": {"schema": {"type": "string",
                                                "description": "JSON Lines: one record a line."}},
        },
    }
}


# ``:path``: a record's own id may hold slashes ("wire/2025/1"); a client sends it as is or
# percent-encoded, and either way it reaches here whole.
@router.get("/articles/{article_id:path}", response_model=ArticleDetail, responses=errors(404, 422))
def get_article(store: StoreDep,
                article_id: Annotated[str, Path(min_length=1, max_length=200)]) -> dict:
    """One article: the exported fields of the contract, its paragraphs with their languages,
    and its quotes."""
    return article_detail(store.get_article(article_id))


def article_detail(article: Article) -> dict:
    return {
        **article.to_record(),
        "paragraphs": [{"text": p.text, "lang": p.lang} for p in article.paragraphs],
        "quotes": [{"text": q.text, "speaker": q.speaker, "speaker_key": q.speaker_key}
                   for q in article.quotes],
    }


@router.post("/articles", response_model=IngestResponse, openapi_extra=_BODY,
             responses=errors(401, 403, 413, 415, 422, 429))
async def post_articles(request: Request, state: StateDep) -> dict:
    """Ingest one record, a list of records, or JSON Lines (at most 1000 records): each is
    cleaned, clustered and stored like `storyline ingest` would, and answered with its status
    (`ingested`, `updated`, `unchanged`, or `rejected` with a reason). Posting the same records
    again changes nothing.

    Needs `Authorization: Bearer TOKEN` when the server has a token; without a token, only a
    server bound to 127.0.0.1 accepts writes, from this machine only."""
    state.access.check(request)
    media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    # Checked before reading, so a cross-site form (text/plain) is refused without a look at it.
    ingest.check_media_type(media_type)
    texts = ingest.split_records(await request.body(), media_type)
    outcomes = await run_in_threadpool(_ingest, state, texts)
    return {"results": [o.to_dict() for o in outcomes], "counts": ingest.counts(outcomes)}


def _ingest(state: ApiState, texts: list[str]) -> list[ingest.Outcome]:
    with state.write_lock, state.guard:
        try:
            return ingest.ingest_records(texts, state.store, state.settings)
        finally:
            state.cache.clear()
