"""Story output: ranking, headlines, summaries, story and event views, and their renderings.

``list_stories(store, limit, lang, since)`` ranks stories; ``story_view(store, id, lang)`` and
``event_view(store, id, lang)`` build what a reader sees; ``storyline.stories.render`` turns a
view into text, Markdown or JSON; ``storyline.stories.cli`` holds the click commands."""

from __future__ import annotations

from storyline.stories.headline import Headline, choose_headline, clickbait_penalties
from storyline.stories.rank import Ranking, rank_stories, rank_story
from storyline.stories.summary import Summary, summarise
from storyline.stories.view import (
    EventView,
    StorySummary,
    StoryView,
    event_view,
    list_stories,
    story_view,
)

__all__ = [
    "EventView",
    "Headline",
    "Ranking",
    "StorySummary",
    "StoryView",
    "Summary",
    "choose_headline",
    "clickbait_penalties",
    "event_view",
    "list_stories",
    "rank_stories",
    "rank_story",
    "story_view",
    "summarise",
]
