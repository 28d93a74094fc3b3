"""Stories of the article hits: each story scored by its best matching articles, headlined the
way ``storyline stories`` headlines it."""

from __future__ import annotations

from collections import defaultdict

from storyline.search.results import StoryHit
from storyline.store.base import ArticleFacts, Store
from storyline.stories.headline import Headline

# A story scores the sum of its best few article hits: several matching articles beat one, but
# a huge story with many weak matches does not bury a small one with the best match.
BEST_HITS = 3
# Stories shown at most, whatever the page size.
MAX_STORIES = 10


def story_hits(store: Store, ranked: list[tuple[str, float]], facts: dict[str, ArticleFacts],
               lang: str | None, limit: int) -> tuple[StoryHit, ...]:
    """The best stories (at most ``limit`` and ``MAX_STORIES``) of ``ranked`` (article id,
    score) hits, best first."""
    members: dict[str, list[tuple[str, float]]] = defaultdict(list)
    for article_id, score in ranked:
        story = facts[article_id].story_id if article_id in facts else None
        if story:
            members[story].append((article_id, score))
    scored = sorted(((sum(s for _, s in hits[:BEST_HITS]), sid) for sid, hits in members.items()),
                    key=lambda pair: (-pair[0], pair[1]))[:min(limit, MAX_STORIES)]
    if not scored:
        return ()
    from storyline.stories.view import _outlets

    headlines, sizes = _headlines(store, [sid for _, sid in scored], lang)
    out = []
    for score, sid in scored:
        matched = [facts[i] for i, _ in members[sid]]
        headline = headlines.get(sid)
        out.append(StoryHit(
            id=sid, headline=headline.text if headline else _fallback(matched, sid),
            score=round(score, 6), articles=len(matched),
            langs=tuple(sorted({f.lang for f in matched if f.lang})), outlets=_outlets(matched),
            size=sizes.get(sid) or len(matched), article_ids=tuple(f.id for f in matched),
            headline_lang=headline.lang if headline else None,
        ))
    return tuple(out)


def _headlines(store: Store, ids: list[str],
               lang: str | None) -> tuple[dict[str, Headline | None], dict[str, int]]:
    """Each story's headline and size as the story listing keeps them: a story has one
    headline everywhere."""
    from storyline.stories.view import story_summaries

    found = story_summaries(store, ids, lang)
    return ({sid: s.headline for sid, s in found.items()}, {sid: s.articles for sid, s in found.items()})


def _fallback(matched: list[ArticleFacts], story_id: str) -> str:
    return next((f.title for f in matched if f.title), story_id)
