"""Geometry of a story's timeline: events on a real, vertical time axis, each labelled with its title.

Only numbers and plain strings come out of here; the template draws them, so every title goes
through Jinja's autoescaping like any other article text. Time runs downwards: a vertical axis
leaves the full width for titles, which is what makes the drawing readable on a phone."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from urllib.parse import quote

from storyline.stories.view import EventSummary
from storyline.utc import as_utc

DAY = 86_400.0
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Average advance of a sans-serif glyph in ems, Cyrillic and Latin alike; only used to wrap titles,
# so erring wide keeps lines inside the drawing.
GLYPH_EM = 0.56


@dataclass(frozen=True, slots=True)
class Shape:
    """Sizes of one rendering of the timeline (the page has a wide one and a narrow one)."""

    width: int
    font: float
    axis_x: float  # where the time axis runs; tick labels sit to its left
    min_axis: float  # shortest axis drawn, in user units
    gap: float = 14.0  # between two labels

    @property
    def label_x(self) -> float:
        return self.axis_x + self.font * 2.4

    @property
    def tick_x(self) -> float:
        # Right edge of the date labels: clear of the largest mark, which may sit on a tick.
        return self.axis_x - self.font * 1.3

    @property
    def line_height(self) -> float:
        return round(self.font * 1.3, 1)

    @property
    def meta_font(self) -> float:
        return round(self.font * 0.8, 1)

    @property
    def wrap(self) -> int:
        return max(12, int((self.width - self.label_x - 8) / (self.font * GLYPH_EM)))


WIDE = Shape(width=940, font=16, axis_x=84, min_axis=280)
NARROW = Shape(width=360, font=14, axis_x=62, min_axis=240)
# Room per day of story, so that a gap in the news looks like one; capped for stories of months.
PER_DAY = 12.0
MAX_TIME_AXIS = 1100.0


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Mark:
    number: int
    id: str
    y: float  # the event's first article
    y_end: float  # its last one (equal to y for a one-moment event)
    r: float
    label_y: float  # baseline of the first title line
    lines: tuple[str, ...]
    meta: str
    meta_y: float
    lang: str | None
    dated: bool
    connector: str  # SVG path data from the mark to its label
    href: str | None  # the article whose title labels the event


@dataclass(frozen=True, slots=True)
class Layout:
    width: int
    height: float
    shape: Shape
    axis_top: float
    axis_bottom: float
    ticks: tuple[Tick, ...]
    marks: tuple[Mark, ...]
    undated_y: float | None  # where the "date unknown" group starts, when there is one


def layout(events: Sequence[EventSummary], zone: tzinfo = UTC, shape: Shape = WIDE) -> Layout:
    """Place ``events`` (a story's timeline) by their first date; undated ones go below the axis."""
    dated = [e for e in events if e.first is not None]
    undated = [e for e in events if e.first is None]
    top = shape.font * 2.2
    lines = {e.id: _wrap(_title(e), shape.wrap) for e in events}
    blocks = {e.id: _block_height(len(lines[e.id]), shape) for e in events}
    needed = sum(blocks[e.id] + shape.gap for e in dated)
    start, end = _span(dated, zone)
    days = (end - start).total_seconds() / DAY
    axis_len = max(shape.min_axis, needed * 1.2, min(days * PER_DAY, MAX_TIME_AXIS))
    scale = axis_len / max((end - start).total_seconds(), 1.0)

    def y_of(moment: datetime) -> float:
        return round(top + (moment - start).total_seconds() * scale, 1)

    marks: list[Mark] = []
    bottom = top - shape.gap
    number = 0
    for event in dated:
        number += 1
        y = y_of(event.first)
        y_end = y_of(event.last) if event.last else y
        # A label starts level with its mark unless the previous one is still in the way.
        label_top = max(y - shape.font * 0.65, bottom + shape.gap)
        mark = _mark(number, event, y, y_end, label_top, lines[event.id], shape, zone)
        marks.append(mark)
        bottom = label_top + blocks[event.id]
    axis_bottom = top + axis_len
    undated_y = None
    if undated:
        undated_y = max(axis_bottom, bottom) + shape.font * 2.5
        bottom = undated_y
        for event in undated:
            number += 1
            label_top = bottom + shape.gap
            y = label_top + shape.font * 0.65
            marks.append(_mark(number, event, y, y, label_top, lines[event.id], shape, zone))
            bottom = label_top + blocks[event.id]
    ticks = _ticks(start, end, zone, y_of) if dated else ()
    height = math.ceil(max(axis_bottom, bottom) + shape.font * 1.5)
    axis_end = axis_bottom if dated else top
    return Layout(shape.width, height, shape, top, axis_end, ticks, tuple(marks), undated_y)


def _mark(
    number: int,
    event: EventSummary,
    y: float,
    y_end: float,
    label_top: float,
    lines: tuple[str, ...],
    shape: Shape,
    zone: tzinfo,
) -> Mark:
    baseline = round(label_top + shape.font, 1)
    meta_y = round(baseline + (len(lines) - 1) * shape.line_height + shape.meta_font * 1.55, 1)
    # Big enough for the event's number; grows gently with its articles.
    r = round(min(shape.font * 0.95, shape.font * 0.55 + 1.2 * math.sqrt(max(event.articles, 1))), 1)
    # Elbow from the mark to the middle of the first line: stays readable when labels are pushed down.
    anchor = round(baseline - shape.font * 0.35, 1)
    elbow = shape.axis_x + r + 8
    connector = f"M{shape.axis_x + r:.1f},{y:.1f} H{elbow:.1f} V{anchor:.1f} H{shape.label_x - 6:.1f}"
    langs = " ".join(event.languages)
    parts = [
        _when(event.first, event.last, zone) if event.first else "date unknown",
        f"{event.articles} article{'s' if event.articles != 1 else ''}",
        f"{len(event.outlets)} outlet{'s' if len(event.outlets) != 1 else ''}",
    ]
    if langs:
        parts.append(langs)
    return Mark(
        number=number,
        id=event.id,
        y=y,
        y_end=y_end,
        r=r,
        label_y=baseline,
        lines=lines,
        meta=" · ".join(parts),
        meta_y=meta_y,
        lang=event.headline.lang if event.headline else None,
        dated=event.first is not None,
        connector=connector,
        href=f"/articles/{quote(event.headline.article_id, safe='')}" if event.headline else None,
    )


def _title(event: EventSummary) -> str:
    return " ".join(event.headline.text.split()) if event.headline and event.headline.text else event.id


def _block_height(lines: int, shape: Shape) -> float:
    return shape.font + (lines - 1) * shape.line_height + shape.meta_font * 1.8


def _wrap(text: str, width: int, max_lines: int = 4) -> tuple[str, ...]:
    """Greedy word wrap; a word longer than a line is cut; the last line ends in an ellipsis when
    the title is longer than ``max_lines``."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[: width - 1] + "-")
            word = word[width - 1 :]
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = lines[: max_lines - 1] + [(last[: width - 1].rstrip() + "…")]
    return tuple(lines) or ("",)


def _span(dated: Sequence[EventSummary], zone: tzinfo) -> tuple[datetime, datetime]:
    """The axis runs from the start of the first event's day to the end of the last event's day
    (local time), so ticks at midnight fall inside it."""
    if not dated:
        now = datetime.now(UTC)
        return now, now + timedelta(days=1)
    first = min(as_utc(e.first) for e in dated)
    last = max(as_utc(e.last or e.first) for e in dated)
    start = _midnight(first.astimezone(zone))
    end = _midnight(last.astimezone(zone)) + timedelta(days=1)
    return start, end


def _ticks(start: datetime, end: datetime, zone: tzinfo, y_of) -> tuple[Tick, ...]:
    days = (end - start).total_seconds() / DAY
    if days <= 60:
        step = next((s for s in (1, 2, 7, 14) if days / s <= 9), 14)
        return _day_ticks(start, end, zone, step, y_of)
    return _month_ticks(start, end, zone, max(1, math.ceil(days / 30 / 9)), y_of)


def _day_ticks(start, end, zone, step, y_of) -> tuple[Tick, ...]:
    day = start.astimezone(zone)
    if step == 7:  # weekly ticks on Mondays, the way a newsroom plans
        day = _midnight(day + timedelta(days=(7 - day.weekday()) % 7))
    ticks = []
    year = None
    while day <= end:
        label = f"{day.day} {MONTHS[day.month - 1]}"
        if year is not None and day.year != year:
            label += f" {day.year}"
        year = day.year
        ticks.append(Tick(y_of(day), label))
        day = _midnight(day + timedelta(days=step, hours=3))
    return tuple(ticks)


def _month_ticks(start, end, zone, step, y_of) -> tuple[Tick, ...]:
    local = start.astimezone(zone)
    year, month = local.year, local.month
    ticks = []
    while True:
        moment = datetime(year, month, 1, tzinfo=zone)
        if moment > end:
            break
        if moment >= start:
            label = MONTHS[month - 1] + (f" {year}" if month == 1 or not ticks else "")
            ticks.append(Tick(y_of(moment), label))
        month += step
        year, month = year + (month - 1) // 12, (month - 1) % 12 + 1
    return tuple(ticks)


def _when(first: datetime, last: datetime | None, zone: tzinfo) -> str:
    a = first.astimezone(zone)
    text = f"{a.day} {MONTHS[a.month - 1]} {a:%H:%M}"
    if last is not None:
        b = last.astimezone(zone)
        if b.date() != a.date():
            text += f" – {b.day} {MONTHS[b.month - 1]}"
    return text


def _midnight(moment: datetime) -> datetime:
    # Through the wall clock, so that days across a DST change stay whole local days.
    return datetime(moment.year, moment.month, moment.day, tzinfo=moment.tzinfo)
