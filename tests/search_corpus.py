"""The store the search tests run on, built once per test session: the sample corpus (uk/ru/en),
the five seed pages (uk/ru, Biden-Putin talks) and three English records written here, because
no shared text has English "Putin"."""

from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

from conftest import REPO
from storyline.ingest.run import ingest
from storyline.settings import Settings
from storyline.store import open_store

SAMPLE = REPO / "data" / "sample"
SAMPLE_CRAWLED = datetime.fromisoformat("2025-10-24T18:00:00+03:00")
SEEDS_CRAWLED = datetime.fromisoformat("2022-01-01T12:00:00+02:00")

ENGLISH = [
    {
        "id": "wire-putin-talks",
        "source": "Test Wire",
        "lang": "en",
        "published": "2021-12-07T18:30:00+00:00",
        "title": "Biden and Putin hold two hours of video talks over Ukraine",
        "text": "US President Joe Biden and Russian President Vladimir Putin held two hours of video "
                "talks on Tuesday as Western capitals worried about Russian troops near Ukraine.\n\n"
                "Biden warned Putin of strong economic measures, the White House said. Putin's aide "
                "Yuri Ushakov called the talks frank and businesslike.",
    },
    {
        "id": "wire-putin-gas",
        "source": "Test Wire",
        "lang": "en",
        "published": "2021-12-20T09:00:00+00:00",
        "title": "Putin says Russia will keep gas flowing to Europe this winter",
        "text": "Russian President Vladimir Putin said on Monday that Gazprom would keep supplying gas "
                "to European customers under its long-term contracts throughout the winter.\n\n"
                "Putin blamed European traders for the rise in prices and said Russia had never used "
                "energy as a weapon.",
    },
    {
        "id": "wire-hostile",
        "source": "Evil <Outlet>",
        "lang": "en",
        "published": "2021-12-21T09:00:00+00:00",
        "title": "<script>alert('x')</script> Putin & <b>friends</b>",
        "text": "A page that writes <script>alert(1)</script> and <b>Putin</b> & co. into its text, "
                "to check that search returns what the page said as text and never as markup.\n\n"
                "Nothing else happens here; the paragraph only makes the article long enough to keep.",
    },
]

_BUILT: dict[str, Path] = {}


def sample_labels() -> dict[str, dict]:
    """The sample corpus's gold labels by article id."""
    lines = (SAMPLE / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    return {r["id"]: r for r in map(json.loads, lines)}


def corpus_db(folder: Path, seeds: Path, embedder: str = "lexical") -> Path:
    """A SQLite file with the corpus ingested (clustered with ``embedder``); built once."""
    if embedder not in _BUILT:
        path = folder / f"search-corpus-{embedder}.db"
        records = folder / "english.jsonl"
        records.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ENGLISH), "utf-8")
        with open_store(f"sqlite:///{path}") as store:
            sample = [str(SAMPLE / "pages"), str(SAMPLE / "html"), str(SAMPLE / "feed.jsonl")]
            ingest(sample, store, Settings(crawled_at=SAMPLE_CRAWLED, embedder=embedder))
            ingest([str(seeds)], store, Settings(crawled_at=SEEDS_CRAWLED, embedder=embedder))
            ingest([str(records)], store, Settings(embedder=embedder))
        _BUILT[embedder] = path
    return _BUILT[embedder]


def copy_of(folder: Path, seeds: Path, name: str) -> Path:
    """A private copy of the corpus file, for tests that write to it."""
    target = folder / name
    shutil.copy(corpus_db(folder, seeds), target)
    return target
