"""Line-level boilerplate removal: every line is kept as article text or dropped with the rule
that dropped it. The patterns live in rules/boilerplate.toml; this module only walks the lines."""

from __future__ import annotations

from dataclasses import dataclass, field

from storyline.clean.rules import Rules, load_rules, normalise


@dataclass(slots=True)
class Line:
    text: str
    norm: str
    label: str | None = None  # None: article text; otherwise the rule that removed it

    @property
    def kept(self) -> bool:
        return self.label is None


@dataclass(slots=True)
class Walk:
    lines: list[Line]
    sources: list[tuple[str, str]] = field(default_factory=list)  # (rule, outlet name)


def split_lines(text: str) -> list[Line]:
    lines = []
    for raw in text.splitlines():
        norm = normalise(raw)
        if norm:
            lines.append(Line(raw.strip(), norm))
    return lines


def walk(lines: list[Line], rules: Rules, title_norm: str | None = None) -> Walk:
    """Label every line not labelled yet. Lines labelled before (header, title) are left alone."""
    result = Walk(lines)
    in_block: str | None = None
    title_key = title_norm.casefold() if title_norm else None
    for i, line in enumerate(lines):
        if line.label is not None:
            continue
        norm = line.norm
        if title_key and norm.casefold() == title_key:
            line.label = "repeated_title"
            continue
        source = rules.source_in(norm)
        if source:
            result.sources.append(source)
            line.label = f"source:{source[0]}"
            continue
        rule = rules.drop_rule(norm)
        if rule:
            line.label = rule
            if rule in ("photo_credit", "photo_caption"):
                _drop_image_alt(lines, i, rules)
            continue
        block = rules.block_rule(norm)
        if block:
            line.label = f"{block}_marker"
            in_block = block
            continue
        link = rules.link_rule(norm)
        if link:
            line.label = link
            continue
        if in_block:
            if _leaves_block(lines, i, rules):
                in_block = None
            else:
                line.label = f"{in_block}_list"
                continue
        if rules.is_date_line(norm):
            # A bare time or date below the header belongs to a list of other news, and so
            # does the headline just above it.
            line.label = "list_time"
            _drop_list_headline(lines, i, rules)
    return result


def _leaves_block(lines: list[Line], i: int, rules: Rules) -> bool:
    """A list of links ends where article prose resumes: a long line, or a prose line followed by
    more prose. A lone sentence-like headline at the end of a list ("... у 2025р.") is still list."""
    norm = lines[i].norm
    if len(norm) >= rules.body.long_chars:
        return True
    if not rules.is_prose(norm):
        return False
    for after in lines[i + 1:]:
        if rules.drop_rule(after.norm):
            continue
        return rules.is_prose(after.norm)
    return False


def _previous_kept(lines: list[Line], i: int) -> Line | None:
    return lines[i - 1] if i > 0 and lines[i - 1].kept else None


def _drop_image_alt(lines: list[Line], i: int, rules: Rules) -> None:
    before = _previous_kept(lines, i)
    if before and len(before.norm.split()) <= 6 and rules.is_headline(before.norm) \
            and not rules.is_prose(before.norm):
        before.label = "image_alt"


def _drop_list_headline(lines: list[Line], i: int, rules: Rules) -> None:
    before = _previous_kept(lines, i)
    if before and rules.is_headline(before.norm) and not rules.is_prose(before.norm):
        before.label = "news_list"


def strip_boilerplate(paragraphs: list[str], title: str | None = None,
                      rules: Rules | None = None) -> tuple[list[str], list[tuple[str, str]]]:
    """For bodies already cut out of a page (HTML, feed records): (kept paragraphs,
    [(dropped line, rule)]). A paragraph with several lines is judged line by line."""
    rules = rules or load_rules()
    lines = [line for p in paragraphs for line in split_lines(p)]
    walk(lines, rules, normalise(title) if title else None)
    return [ln.text for ln in lines if ln.kept], [(ln.text, ln.label) for ln in lines if not ln.kept]
