"""Story output as terminal text, Markdown or JSON.

The JSON shape of one story (``story_to_dict``; ``storyline story ID --format json``) is stable:

- ``id``: the story id (``st_...``).
- ``headline``: ``{text, lang, article_id, preferred_lang, fallback, score, penalties, method}`` or
  null. ``fallback`` is true when no title was in ``preferred_lang`` and one in ``lang`` was
  used; ``penalties`` names the clickbait signs the chosen title still has; ``method`` is
  ``centroid`` (closest to the stored vectors' mean) or ``overlap`` (top entities and terms).
- ``summary``: ``{text, lang, preferred_lang, fallback, method, sentences: [{text, article_id,
  published, position, score}]}``; sentences in time order; ``method`` ``lexical`` or ``vectors``.
- ``ranking``: ``{score, parts: [{name, value, feature, points}], explanation, reference}``; parts
  are ``outlets``, ``languages``, ``articles``, ``recency`` (value: hours since the last article
  at ``reference``), ``velocity`` (value: last day's articles over the mean daily rate).
- ``first``, ``last``: ISO 8601 times of the first and last dated article, or null.
- ``counts``: ``{articles, duplicates, outlets, languages, events}``.
- ``outlets``, ``languages``: sorted lists.
- ``timeline``: events by first date: ``[{id, headline, headline_lang, first, last, articles,
  outlets, languages}]``.
- ``articles``: ``{lang: [{id, title, source, published, url, lang, event_id, duplicate_of}]}``,
  the reader's language first, each list by published time.
- ``entities``: ``[{key, type, mentions, display, forms: {lang: surface form}}]``, most mentioned
  first (``mentions``: articles naming the entity).
- ``quotes``: ``[{speaker, speaker_key, names: {lang: name}, quotes: [{text, article_id, lang}]}]``,
  most quoted speaker first; quotes nobody is named for come last with ``speaker`` null.
- ``explanation``: ``{text, basis, units, shared_entities: [{key, display}], shared_terms,
  mean_cosine}``: what most events (``basis`` ``events``; ``articles`` for a one-event story)
  share, and the mean cosine between event centroids (or of articles to their centroid).

A listing line (``summary_to_dict``; ``storyline stories --format json|jsonl``): ``{rank, id,
score, headline, headline_lang, first, last, events, articles, outlets, languages, ranking}``.
"""

from __future__ import annotations

import json
import textwrap
from datetime import datetime

from storyline.stories.view import ArticleRef, EventView, StorySummary, StoryView

WIDTH = 100
QUOTES_SHOWN = 3  # per speaker, in text and Markdown; JSON has every quote


# -- JSON --------------------------------------------------------------------------------------


def story_to_dict(view: StoryView | EventView) -> dict:
    data = {
        "id": view.id,
        "headline": view.headline.to_dict() if view.headline else None,
        "summary": view.summary.to_dict(),
    }
    if isinstance(view, StoryView):
        data["ranking"] = view.ranking.to_dict()
    else:
        data["story_id"] = view.story_id
    data.update(
        {
            "first": _iso(view.first),
            "last": _iso(view.last),
            "counts": {
                "articles": view.articles,
                "duplicates": view.duplicates,
                "outlets": len(view.outlets),
                "languages": len(view.languages),
                "events": len(view.timeline) if isinstance(view, StoryView) else 1,
            },
            "outlets": list(view.outlets),
            "languages": list(view.languages),
        }
    )
    if isinstance(view, StoryView):
        data["timeline"] = [
            {
                "id": e.id,
                "headline": e.headline.text if e.headline else None,
                "headline_lang": e.headline.lang if e.headline else None,
                "first": _iso(e.first),
                "last": _iso(e.last),
                "articles": e.articles,
                "outlets": list(e.outlets),
                "languages": list(e.languages),
            }
            for e in view.timeline
        ]
    by_lang = view.articles_by_lang.items()
    data["articles"] = {lang: [_article_dict(a) for a in refs] for lang, refs in by_lang}
    data["entities"] = [
        {"key": e.key, "type": e.type, "mentions": e.mentions, "display": e.display, "forms": dict(e.forms)}
        for e in view.entities
    ]
    data["quotes"] = [
        {
            "speaker": q.display if q.names else None,
            "speaker_key": q.key,
            "names": dict(q.names),
            "quotes": [{"text": x.text, "article_id": x.article_id, "lang": x.lang} for x in q.quotes],
        }
        for q in view.quotes
    ]
    ex = view.explanation
    data["explanation"] = {
        "text": ex.text,
        "basis": ex.basis,
        "units": ex.units,
        "shared_entities": [{"key": e.key, "display": e.display} for e in ex.shared_entities],
        "shared_terms": list(ex.shared_terms),
        "mean_cosine": round(ex.mean_cosine, 4) if ex.mean_cosine is not None else None,
    }
    return data


def summary_to_dict(item: StorySummary, rank: int) -> dict:
    return {
        "rank": rank,
        "id": item.id,
        "score": round(item.ranking.score, 4),
        "headline": item.headline.text if item.headline else None,
        "headline_lang": item.headline.lang if item.headline else None,
        "first": _iso(item.first),
        "last": _iso(item.last),
        "events": item.events,
        "articles": item.articles,
        "outlets": list(item.outlets),
        "languages": list(item.languages),
        "ranking": item.ranking.to_dict(),
    }


def story_json(view: StoryView | EventView) -> str:
    return json.dumps(story_to_dict(view), ensure_ascii=False, indent=2)


# -- listing -----------------------------------------------------------------------------------


def stories_table(items: list[StorySummary], width: int = WIDTH + 40) -> str:
    """One line per story: rank, score, id, last date, events/articles/outlets, languages, headline."""
    head = (
        f"{'#':>3}  {'score':>5}  {'id':15}  {'last':10}  {'ev':>2} {'art':>3} {'out':>3}  "
        f"{'langs':8}  headline"
    )
    lines = [head]
    for rank, item in enumerate(items, 1):
        text = item.headline.text if item.headline else "(no title)"
        prefix = (
            f"{rank:>3}  {item.ranking.score:5.2f}  {item.id:15}  {_day(item.last):10}  "
            f"{item.events:>2} {item.articles:>3} {len(item.outlets):>3}  "
            f"{','.join(item.languages):8}  "
        )
        lines.append(prefix + _cut(text, max(20, width - len(prefix))))
    return "\n".join(lines)


# -- text --------------------------------------------------------------------------------------


def story_text(view: StoryView | EventView) -> str:
    out: list[str] = [view.headline.text if view.headline else "(no title)"]
    out.append(
        " · ".join(x for x in (view.id, _span(view.first, view.last), _counts(view), _score(view)) if x)
    )
    if view.headline and view.headline.fallback:
        out.append(f"(no title in {view.headline.preferred_lang}; headline in {view.headline.lang})")
    if isinstance(view, EventView) and view.story_id:
        out.append(f"story: {view.story_id}")
    out += ["", _title("Summary" + _lang_note(view.summary.lang, view.summary.fallback))]
    out += _wrap(view.summary.text or "(no sentences to summarise)")
    out += ["", _title("Why together")]
    out += _wrap(view.explanation.text)
    if isinstance(view, StoryView):
        out += _wrap("Rank: " + view.ranking.explain())
        out += ["", _title(f"Timeline ({_plural(len(view.timeline), 'event')})")]
        for event in view.timeline:
            out.append(
                f"  {_span(event.first, event.last):35}  {event.id}  {_plural(event.articles, 'article')}, "
                f"{_plural(len(event.outlets), 'outlet')}, {' '.join(event.languages)}"
            )
            out += _wrap(event.headline.text if event.headline else "(no title)", indent=6)
    out += ["", _title("Articles")]
    for lang, refs in view.articles_by_lang.items():
        out.append(f"  {lang} ({len(refs)})")
        out += [f"    {_line(ref)}" for ref in refs]
    if view.entities:
        out += ["", _title("Entities")]
        out += [
            f"  {e.display} ({e.mentions} {'article' if e.mentions == 1 else 'articles'}, {e.type})"
            for e in view.entities
        ]
    if view.quotes:
        out += ["", _title("Quotes")]
        for speaker in view.quotes:
            out.append(f"  {speaker.display} ({len(speaker.quotes)})")
            for quote in speaker.quotes[:QUOTES_SHOWN]:
                out += _wrap(f"«{quote.text}» [{quote.article_id}]", indent=6)
    return "\n".join(out)


# -- Markdown ----------------------------------------------------------------------------------


def story_markdown(view: StoryView | EventView) -> str:
    out = [f"# {_md(view.headline.text) if view.headline else '(no title)'}", ""]
    out.append(
        " · ".join(
            x for x in (f"`{view.id}`", _span(view.first, view.last), _counts(view), _score(view)) if x
        )
    )
    if view.headline and view.headline.fallback:
        out += ["", f"*No title in {view.headline.preferred_lang}; headline in {view.headline.lang}.*"]
    out += [
        "",
        "## Summary" + _lang_note(view.summary.lang, view.summary.fallback),
        "",
        _md(view.summary.text) or "*(no sentences to summarise)*",
    ]
    out += ["", "## Why these articles are together", "", _md(view.explanation.text)]
    if isinstance(view, StoryView):
        out += ["", f"Rank: {_md(view.ranking.explain())}"]
        out += [
            "",
            "## Timeline",
            "",
            "| when | event | headline | articles | outlets | languages |",
            "|---|---|---|---:|---:|---|",
        ]
        for e in view.timeline:
            title = _md(e.headline.text).replace("|", "\\|") if e.headline else ""
            out.append(
                f"| {_span(e.first, e.last)} | `{e.id}` | {title} | {e.articles} | "
                f"{len(e.outlets)} | {', '.join(e.languages)} |"
            )
    out += ["", "## Articles"]
    for lang, refs in view.articles_by_lang.items():
        out += ["", f"### {lang} ({len(refs)})", ""]
        for ref in refs:
            title = _md(ref.title or "(untitled)")
            link = f"[{title}]({ref.url})" if ref.url else title
            dup = f" — duplicate of `{ref.duplicate_of}`" if ref.duplicate_of else ""
            out.append(f"- {_when(ref.published)} · {_md(ref.source or '?')} · {link} `{ref.id}`{dup}")
    if view.entities:
        out += ["", "## Entities", ""]
        out += [f"- **{_md(e.display)}** — {e.mentions} articles ({e.type})" for e in view.entities]
    if view.quotes:
        out += ["", "## Quotes"]
        for speaker in view.quotes:
            out += ["", f"**{_md(speaker.display)}**", ""]
            out += [f"> {_md(q.text)} (`{q.article_id}`)\n" for q in speaker.quotes[:QUOTES_SHOWN]]
    return "\n".join(out).rstrip() + "\n"


# -- helpers -----------------------------------------------------------------------------------


def _article_dict(ref: ArticleRef) -> dict:
    return {
        "id": ref.id,
        "title": ref.title,
        "source": ref.source,
        "published": _iso(ref.published),
        "url": ref.url,
        "lang": ref.lang,
        "event_id": ref.event_id,
        "duplicate_of": ref.duplicate_of,
    }


def _counts(view: StoryView | EventView) -> str:
    dups = f" ({view.duplicates} duplicate{'s' * (view.duplicates != 1)})" if view.duplicates else ""
    langs = f" ({', '.join(view.languages)})" if view.languages else ""
    return (
        f"{view.articles} articles{dups}, {len(view.outlets)} outlets, {len(view.languages)} languages{langs}"
    )


def _score(view: StoryView | EventView) -> str:
    return f"score {view.ranking.score:.2f}" if isinstance(view, StoryView) else ""


def _line(ref: ArticleRef) -> str:
    dup = f"  [duplicate of {ref.duplicate_of}]" if ref.duplicate_of else ""
    source = _cut(ref.source or "?", 20)
    return f"{_when(ref.published):16}  {source:20}  {ref.id}  {ref.title or '(untitled)'}{dup}"


def _lang_note(lang: str | None, fallback: bool) -> str:
    if not lang:
        return ""
    return f" ({lang}, no text in the language asked for)" if fallback else f" ({lang})"


def _title(text: str) -> str:
    return f"{text}\n{'-' * len(text)}"


def _wrap(text: str, indent: int = 2) -> list[str]:
    return textwrap.wrap(
        text, WIDTH, initial_indent=" " * indent, subsequent_indent=" " * indent, break_on_hyphens=False
    ) or [""]


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _when(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d %H:%M") if moment else "(no date)"


def _day(moment: datetime | None) -> str:
    return moment.strftime("%Y-%m-%d") if moment else "-"


def _span(first: datetime | None, last: datetime | None) -> str:
    if first is None:
        return "no dates"
    if last is not None and first.tzinfo is not None and last.tzinfo is not None:
        last = last.astimezone(first.tzinfo)  # one clock for both ends of the span
    if last is None or _when(first) == _when(last):
        return _when(first)
    if first.date() == last.date():
        return f"{_when(first)}–{last.strftime('%H:%M')}"
    return f"{_when(first)} – {_when(last)}"


def _cut(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def _md(text: str) -> str:
    """Escape the characters that would turn plain text into Markdown markup."""
    for ch in "\\`*_[]<>#":
        text = text.replace(ch, "\\" + ch)
    return text


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
