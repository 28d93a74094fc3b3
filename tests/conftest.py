from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# CI clones the project with shared/ beside it; a developer may point elsewhere.
SHARED = Path(os.environ.get("STORYLINE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED}; set STORYLINE_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def seeds(shared: Path) -> Path:
    return shared / "seeds"


@pytest.fixture(scope="session")
def datasets(shared: Path) -> Path:
    return shared / "datasets"


@pytest.fixture(scope="session")
def web_db_url(tmp_path_factory) -> str:
    """data/sample plus one hostile article (script and onerror markup in its title and text, a
    javascript: URL), clustered with the lexical embedder; the web page and browser tests share it."""
    from datetime import datetime

    from storyline.ingest.run import ingest
    from storyline.settings import Settings
    from storyline.store import open_store

    folder = tmp_path_factory.mktemp("web")
    sample = REPO / "data" / "sample"
    hostile = Path(__file__).parent / "fixtures" / "web" / "hostile.jsonl"
    url = f"sqlite:///{folder / 'web.db'}"
    paths = [str(sample / name) for name in ("pages", "html", "feed.jsonl")] + [str(hostile)]
    crawled_at = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
    with open_store(url) as store:
        ingest(paths, store, Settings(crawled_at=crawled_at, embedder="lexical"))
    return url
