"""The shared seed pages (../shared/seeds) through the article pipeline, for the NLP tests."""

from pathlib import Path

from storyline.model import Article, RawDocument
from storyline.pipeline import Pipeline


def seed_article(seeds: Path, prefix: str) -> Article:
    path = next(seeds.glob(f"{prefix}_*.txt"))
    raw = RawDocument(id=path.stem, format="text", content=path.read_text("utf-8"), origin=str(path))
    article = Pipeline().process(raw)
    assert article.paragraphs, f"the pipeline rejected seed {prefix}: {article}"
    return article
