"""The analysis stage: lemmas, entities and quotes of one article.

Pure per article (Article -> Article) and picklable: the analyser holds no models itself; the
pymorphy3 analysers and data tables are built once per process on first use, so it maps over a
process pool or a Dask bag.
"""

from __future__ import annotations

from storyline.model import Article
from storyline.nlp.entities import aggregate, extract_mentions
from storyline.nlp.lemmas import lemmatise
from storyline.nlp.quotes import extract_quotes


class Analyser:
    """Fills ``article.lemmas`` (title + body), ``article.entities`` (deduplicated by key, most
    mentioned first) and ``article.quotes``; each paragraph is read in its own language."""

    name = "analyse"
    reads = ("title", "paragraphs", "lang")
    adds = ("lemmas", "entities", "quotes")

    def analyse(self, article: Article) -> Article:
        lang = article.lang
        lemmas: list[str] = []
        if article.title:
            lemmas.extend(lemmatise(article.title, lang))
        for para in article.paragraphs:
            lemmas.extend(lemmatise(para.text, para.lang or lang))
        mentions = extract_mentions(article.paragraphs, lang, article.title)
        entities = aggregate(mentions)
        article.lemmas = lemmas
        article.entities = entities
        article.quotes = extract_quotes(article.paragraphs, lang, entities, mentions)
        return article

    __call__ = analyse
