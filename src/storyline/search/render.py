"""Search results as terminal text: matches in bold where the terminal shows it, in [brackets]
where it does not (a pipe, a file), so a match is visible either way."""

from __future__ import annotations

import click

from storyline.search.results import SearchResults, Segment


def results_table(results: SearchResults, color: bool | None = None) -> str:
    query = results.query
    lines = []
    shown = f"{query.offset + 1}-{query.offset + len(results.articles)} of " if results.articles else ""
    lines.append(f"{shown}{results.total} articles for {query.text!r}")
    if results.relaxed:
        lines.append("no article has every word; showing articles with some of them")
    for rank, hit in enumerate(results.articles, query.offset + 1):
        when = hit.published.strftime("%Y-%m-%d %H:%M") if hit.published else "(no date)       "
        how = "" if hit.matched_by == ("text",) else f"  [{'+'.join(hit.matched_by)}]"
        lines.append("")
        lines.append(f"{rank:3}. {when}  {hit.lang or '??':2}  {hit.source or '?'}  {hit.id}{how}")
        title = marked(hit.title_snippet, color) if hit.title_snippet else (hit.title or "(untitled)")
        lines.append(f"     {_one_line(title)}")
        if hit.snippet:
            lines.append(f"     {_one_line(marked(hit.snippet, color))}")
    if results.stories:
        lines += ["", "Stories"]
        for rank, story in enumerate(results.stories, 1):
            langs = ", ".join(story.langs)
            outlets = len(story.outlets)
            lines.append(f"{rank:3}. {story.id}  {story.articles} of {story.size} articles match "
                         f"({langs}) · {outlets} outlet{'' if outlets == 1 else 's'}")
            lines.append(f"     {_one_line(story.headline)}")
    if results.terms:
        lines += ["", "keys: " + " ".join(results.terms)]
    return "\n".join(lines)


def marked(segments: tuple[Segment, ...], color: bool | None = None) -> str:
    if color is None:
        color = not click.utils.should_strip_ansi()
    if color:
        return "".join(click.style(s.text, bold=True, fg="yellow") if s.match else s.text for s in segments)
    return "".join(f"[{s.text}]" if s.match else s.text for s in segments)


def _one_line(text: str) -> str:
    return " ".join(text.split())
