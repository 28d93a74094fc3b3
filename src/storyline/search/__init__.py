"""Morphology-aware, cross-lingual full-text search over articles and stories.

``search(store, SearchQuery("Путин переговоры"))`` finds Ukrainian Путіна/переговорів, Russian
Путина/переговоров and English Putin: the index (``storyline.store.fulltext``) holds normalised
keys of every article (lemmas, uk/ru cognate keys, entity keys, see ``keys.py``), the query
is reduced to the same keys (``analyse.py``), and the store's multilingual vectors add what no
key bridges (``dense.py``). How it works and what it measured: docs/search.md.
"""

from storyline.errors import InvalidQuery
from storyline.search.engine import search
from storyline.search.results import ArticleHit, SearchQuery, SearchResults, Segment, StoryHit

SearchError = InvalidQuery

__all__ = ["ArticleHit", "InvalidQuery", "SearchError", "SearchQuery", "SearchResults", "Segment",
           "StoryHit", "search"]
