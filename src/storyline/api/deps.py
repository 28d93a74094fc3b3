"""What endpoints share: the app's one store, its settings, and the query parameters of lists."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Hashable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Annotated

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel

from storyline.api.cache import ResultCache
from storyline.api.errors import ApiError
from storyline.api.security import WriteAccess
from storyline.settings import Settings
from storyline.store.base import Store

MAX_PAGE = 100
DEFAULT_PAGE = 20


@dataclass
class ApiState:
    """Everything the endpoints of one app share; kept on ``app.state.storyline``."""

    store: Store
    settings: Settings
    access: WriteAccess
    owns_store: bool = True
    cache: ResultCache = field(default_factory=lambda: ResultCache(0))
    # An in-memory SQLite store is one connection shared by every thread: reads take turns.
    # A file or a server store pools connections, and WAL lets readers run beside a writer.
    guard: contextlib.AbstractContextManager = field(default_factory=contextlib.nullcontext)
    # One ingest at a time per process: the clustering state is read, updated and written whole.
    write_lock: threading.Lock = field(default_factory=threading.Lock)


def api_state(request: Request) -> ApiState:
    return request.app.state.storyline


def store(state: Annotated[ApiState, Depends(api_state)]) -> Iterator[Store]:
    with state.guard:
        yield state.store


StoreDep = Annotated[Store, Depends(store)]
StateDep = Annotated[ApiState, Depends(api_state)]

Limit = Annotated[int, Query(ge=1, le=MAX_PAGE, description=f"Items per page (at most {MAX_PAGE}).")]
Offset = Annotated[int, Query(ge=0, le=1_000_000, description="Items to skip.")]
Lang = Annotated[str | None, Query(min_length=2, max_length=8, pattern=r"^[A-Za-z-]+$",
                                   description="Language code: uk, ru, en, ...")]
Outlet = Annotated[str | None, Query(min_length=1, max_length=200,
                                     description="Outlet name (case and spaces do not matter).")]
Since = Annotated[str | None, Query(
    max_length=40, examples=["2021-12-01", "2021-12-01T12:00+02:00"],
    description="ISO 8601 date or date-time; a time without offset is UTC.")]
Until = Since


def moment(value: str | None, name: str, *, end_of_day: bool = False) -> datetime | None:
    """A query's ISO 8601 date or date-time as an aware datetime (UTC when it gives no offset);
    a bare date is its midnight, or with ``end_of_day`` (an upper bound) its last instant."""
    if value is None:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            parsed = datetime(day.year, day.month, day.day, tzinfo=UTC)
            if end_of_day:
                parsed = parsed.replace(hour=23, minute=59, second=59, microsecond=999_999)
        else:
            parsed = datetime.fromisoformat(text)
    except ValueError:
        raise ApiError(422, f"{name}: not an ISO 8601 date or date-time: {value!r}",
                       detail=[{"field": name, "in": "query", "message": "not an ISO 8601 date",
                                "type": "datetime_parsing"}]) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


def check_range(since: datetime | None, until: datetime | None) -> None:
    if since is not None and until is not None and since > until:
        raise ApiError(422, f"since ({since.isoformat()}) is after until ({until.isoformat()})",
                       detail=[{"field": "since", "in": "query", "message": "after until",
                                "type": "value_error"}])


def cached_json(state: ApiState, key: Hashable, model: type[BaseModel],
                compute: Callable[[], dict]) -> Response:
    """The answer ``compute`` makes, checked against ``model`` and encoded once, then served from
    the cache: a cached answer costs no validation and no encoding again."""
    body = state.cache.get(key, lambda: model.model_validate(compute()).model_dump_json().encode())
    return Response(body, media_type="application/json")


def lang_of(value: str | None) -> str | None:
    return value.lower() if value else None
