"""GET /api/health: is the store reachable, how many articles, which version."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

from fastapi import APIRouter

from storyline.api.deps import StateDep, StoreDep
from storyline.api.schemas import Health, errors

router = APIRouter(prefix="/api", tags=["health"])


def storyline_version() -> str:
    try:
        return version("storyline")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "unknown"


@router.get("/health", response_model=Health, responses=errors())
def get_health(state: StateDep, store: StoreDep) -> dict:
    """200 with the article count when the store answers; 503 (store_unavailable) when not."""
    count = store.count_articles()
    return {
        "status": "ok",
        "version": storyline_version(),
        # The backend only: the URL would show file paths or user names.
        "store": store.url.split(":", 1)[0].split("+", 1)[0],
        "schema_version": getattr(store, "schema_version", None),
        "articles": count,
        "writes": state.access.mode,
    }
