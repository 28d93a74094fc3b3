"""Parse a publication date line ("06:50 31.12.2021", "2 грудня 2021, 17:50", "Вчера, 20:07")."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

_LABEL = re.compile(
    r"^(?:updated|published|оновлено|опубліковано|обновлено|опубликовано|дата публікації|"
    r"дата публикации)\s*:?\s*", re.IGNORECASE)
_TIME_ONLY = re.compile(r"^\d{1,2}:\d{2}$")
# dateparser reads "06:50 31.12.2021" best as "31.12.2021 06:50".
_TIME_FIRST = re.compile(r"^(\d{1,2}:\d{2})(?:\s*(am|pm))?,?\s+(.+)$", re.IGNORECASE)
_YEAR_MARK = re.compile(r"\s*(?:р\.|г\.|року|года)(?=\s|,|$)", re.IGNORECASE)
_AT = re.compile(r",?\s+(?:о|в|at)\s+(?=\d{1,2}:\d{2})", re.IGNORECASE)


def parse_date_line(line: str, crawled_at: datetime | None, timezone: str) -> datetime | None:
    """The moment a date line names, in the outlet's time zone when the line gives none.

    Relative dates ("Вчера, 20:07", "3 hours ago") are resolved against ``crawled_at``."""
    zone = ZoneInfo(timezone)
    base = (crawled_at or datetime.now(zone))
    base = base.astimezone(zone) if base.tzinfo else base.replace(tzinfo=zone)
    text = _LABEL.sub("", line.strip()).rstrip(". ")
    text = _YEAR_MARK.sub("", text)
    text = _AT.sub(" ", text)
    if _TIME_ONLY.match(text):
        hour, minute = map(int, text.split(":"))
        if hour > 23 or minute > 59:
            return None
        moment = base.replace(hour=hour, minute=minute, second=0, microsecond=0)
        return moment - timedelta(days=1) if moment > base else moment
    swapped = _TIME_FIRST.match(text)
    if swapped:
        text = f"{swapped.group(3)} {swapped.group(1)}{(' ' + swapped.group(2)) if swapped.group(2) else ''}"
    parsed = _parse(text, base.replace(tzinfo=None))
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=zone)
    return parsed


def _parse(text: str, relative_base: datetime) -> datetime | None:
    import dateparser

    return dateparser.parse(text, languages=["uk", "ru", "en"], settings={
        "DATE_ORDER": "DMY",
        "PREFER_DATES_FROM": "past",
        "RELATIVE_BASE": relative_base,
    })
