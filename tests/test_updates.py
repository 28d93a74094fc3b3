"""An article that comes again with other text (a corrected report, the same record from another
file) is an update: it keeps its event and story, and the events still list each article once."""

from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from cluster_checks import clustering_problems
from storyline.ingest.encoding import decode
from storyline.ingest.run import ingest
from storyline.settings import Settings
from storyline.store import open_store

SAMPLE = Path(__file__).resolve().parents[1] / "data" / "sample"
SETTINGS = Settings(embedder="lexical", crawled_at=datetime.fromisoformat("2025-10-24T18:00:00+03:00"))


def test_an_updated_article_keeps_its_place_and_is_listed_once(tmp_path):
    url = f"sqlite:///{tmp_path / 'store.db'}"
    with open_store(url) as store:
        ingest([str(SAMPLE / "pages")], store, SETTINGS)
        before = {a.id: (a.event_id, a.story_id) for a in store.iter_articles()}
    # Every page again from another folder, each with a correction appended: all are updates.
    again = tmp_path / "again"
    shutil.copytree(SAMPLE / "pages", again)
    for page in again.glob("*.txt"):
        text, encoding = decode(page.read_bytes(), str(page))  # some sample pages are cp1251
        page.write_bytes((text + "\n\nОновлено: редакція виправила помилку в імені.\n").encode(encoding))
    with open_store(url) as store:
        summary = ingest([str(again)], store, SETTINGS)
        after = {a.id: (a.event_id, a.story_id) for a in store.iter_articles()}
        assert summary.counts["updated"] == len(before) and summary.counts["ingested"] == 0
        assert "виправила помилку" in store.get_article(next(iter(before))).raw.content
    assert after == before
    assert clustering_problems(url) == []
