"""JSON Lines records of the contract: {"id","url","title","text"|"html","published","source","lang"}."""

from __future__ import annotations

import json
from datetime import datetime

from storyline.errors import InputError
from storyline.ingest.encoding import drop_nul
from storyline.ingest.ids import content_id
from storyline.model import RawDocument

_STRING_FIELDS = ("url", "title", "text", "html", "published", "source", "lang")


def parse_record(line: str, origin: str, crawled_at: datetime | None) -> RawDocument:
    """One JSON Lines line -> RawDocument, or InputError('bad_record') saying exactly what is wrong."""
    try:
        record = json.loads(line)
    except json.JSONDecodeError as exc:
        message = exc.msg.removesuffix(" at")
        raise InputError(origin, "bad_record", f"not valid JSON ({message} at column {exc.colno})") from None
    except RecursionError:
        raise InputError(origin, "bad_record", "JSON nested too deeply to read",
                         hint="a record is one flat object of strings") from None
    except ValueError:  # Python converts integers of at most 4,300 digits
        raise InputError(origin, "bad_record",
                         "not usable JSON (a number of more than 4,300 digits)") from None
    if not isinstance(record, dict):
        raise InputError(origin, "bad_record", f"expected a JSON object, got {type(record).__name__}")
    for name in _STRING_FIELDS:
        value = record.get(name)
        if value is not None and not isinstance(value, str):
            raise InputError(origin, "bad_record",
                             f'field "{name}" must be a string or null, got {type(value).__name__}')
    record_id = record.get("id")
    if record_id is not None and not isinstance(record_id, (str, int)):
        raise InputError(origin, "bad_record",
                         f'field "id" must be a string or number, got {type(record_id).__name__}')
    text, html = record.get("text"), record.get("html")
    if not (text or "").strip() and not (html or "").strip():
        raise InputError(origin, "bad_record", 'needs a non-empty "text" or "html" field')
    is_html = bool((html or "").strip()) and not (text or "").strip()
    content = drop_nul(html if is_html else text)
    fmt = "html" if is_html else "text"
    if record_id is None or str(record_id).strip() == "":
        record_id = content_id(content)
    fields = {k: drop_nul(v) if isinstance(v, str) else v
              for k, v in record.items() if k not in ("text", "html")}
    return RawDocument(
        id=str(record_id).strip(),
        format="record" if fmt == "text" else "html",
        content=content,
        origin=origin,
        fields=fields,
        crawled_at=crawled_at,
        encoding="utf-8",
    )
