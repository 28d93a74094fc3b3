"""The analysis stage: lemmas, entities and quotes of one article.

Pure per article (Article -> Article) and picklable: the analyser holds no models itself; the
pymorphy3 analysers and data tables are built once per process on first use, so it maps over a
process pool or a Dask bag.
"""

from __future__ import annotations

import dataclasses

from storyline.model import Article
from storyline.nlp.entities import Mention, aggregate, entity_key, extract_mentions
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
        mentions = _outlet_as_organisation(
            extract_mentions(article.paragraphs, lang, article.title), article.source, lang)
        entities = aggregate(mentions)
        article.lemmas = lemmas
        article.entities = entities
        article.quotes = extract_quotes(article.paragraphs, lang, entities, mentions)
        return article

    __call__ = analyse


def _outlet_as_organisation(mentions: list[Mention], source: str | None, lang: str | None) -> list[Mention]:
    """The article's own outlet named in its text ("KYIV, Oct 9 (Harbour Line) -") is an
    organisation, whatever its words look like: two capitalised English words read as a person,
    who would then be taken for the speaker of the next quote ("...," he said)."""
    outlet = (source or "").strip().casefold()
    if not outlet:
        return mentions
    return [dataclasses.replace(m, type="ORG", key=entity_key(m.text, "ORG", lang) or m.key)
            if m.text.casefold() == outlet and m.type != "ORG" else m for m in mentions]
