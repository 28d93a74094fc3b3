"""Find inputs (files, directories, stdin) and turn each into RawDocuments or Rejections."""

from __future__ import annotations

import gzip
import os
import sys
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path

from storyline.errors import InputError
from storyline.ingest.encoding import decode
from storyline.ingest.ids import content_id, file_id
from storyline.ingest.records import parse_record
from storyline.model import RawDocument, Rejection

TEXT_SUFFIXES = (".txt", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
SUPPORTED = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES
# One line of JSON Lines larger than this is refused rather than read into memory whole.
MAX_RECORD_BYTES = 20 * 1024 * 1024

Item = RawDocument | Rejection


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for kind, suffixes in (("text", TEXT_SUFFIXES), ("html", HTML_SUFFIXES), ("jsonl", JSONL_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    return None


def expand(paths: Iterable[str]) -> Iterator[Path | str]:
    """Named files as given (even with an unknown suffix: the reader says why it refuses them),
    directories walked recursively in a stable order, keeping only supported files."""
    for raw in paths:
        if raw == "-":
            yield "-"
            continue
        path = Path(raw)
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(files):
                    child = Path(root) / name
                    if not name.startswith(".") and kind_of(child):
                        yield child
        else:
            yield path


def read_inputs(paths: Iterable[str], crawled_at: datetime | None = None,
                stdin=None) -> Iterator[Item]:
    """Everything the user named, one RawDocument per article, one Rejection per bad input."""
    for target in expand(paths):
        if target == "-":
            yield from _read_stdin(stdin or sys.stdin.buffer, crawled_at)
        else:
            yield from _read_path(target, crawled_at)


def _read_path(path: Path, crawled_at: datetime | None) -> Iterator[Item]:
    origin = str(path)
    kind = kind_of(path)
    try:
        if kind is None:
            raise InputError(origin, "unsupported",
                             f"unknown file type {path.suffix or '(no suffix)'!r}",
                             hint=f"supported: {', '.join(SUPPORTED)} (optionally .gz)")
        if not path.exists():
            raise InputError(origin, "not_found", "no such file or directory")
        when = crawled_at or datetime.fromtimestamp(path.stat().st_mtime, UTC)
        if kind == "jsonl":
            yield from _read_jsonl(path, when)
            return
        data = _read_bytes(path)
        text, encoding = decode(data, origin)
        if not text.strip():
            raise InputError(origin, "empty", "the file holds no text")
        yield RawDocument(id=file_id(path), format=kind, content=text, origin=origin,
                          crawled_at=when, encoding=encoding)
    except InputError as exc:
        yield Rejection(exc.origin, exc.reason, exc.detail)
    except OSError as exc:
        yield Rejection(origin, "unreadable", exc.strerror or str(exc))


def _read_bytes(path: Path) -> bytes:
    if path.name.lower().endswith(".gz"):
        try:
            with gzip.open(path, "rb") as fh:
                return fh.read()
        except (gzip.BadGzipFile, EOFError) as exc:
            raise InputError(str(path), "undecodable", f"broken gzip file ({exc})") from None
    return path.read_bytes()


def _read_jsonl(path: Path, crawled_at: datetime) -> Iterator[Item]:
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    with opener(path, "rb") as fh:
        yield from _records(fh, str(path), crawled_at)


def _records(lines: Iterable[bytes], name: str, crawled_at: datetime | None) -> Iterator[Item]:
    for number, line in enumerate(lines, start=1):
        origin = f"{name}:{number}"
        if not line.strip():
            continue
        try:
            if len(line) > MAX_RECORD_BYTES:
                raise InputError(origin, "bad_record",
                                 f"line of {len(line):,} bytes exceeds {MAX_RECORD_BYTES:,}")
            text, _ = decode(line, origin)
            yield parse_record(text, origin, crawled_at)
        except InputError as exc:
            kept = line.decode("utf-8", "replace").rstrip("\r\n")
            yield Rejection(exc.origin, exc.reason, exc.detail,
                            raw=RawDocument(id=content_id(kept), format="record", content=kept,
                                            origin=origin, crawled_at=crawled_at))


def _read_stdin(stream, crawled_at: datetime | None) -> Iterator[Item]:
    """stdin is sniffed: JSON Lines if it starts with '{', HTML if with '<', else one text article."""
    when = crawled_at or datetime.now(UTC)
    data = stream.read()
    head = data.lstrip()[:1]
    if head == b"{":
        yield from _records(data.splitlines(), "<stdin>", when)
        return
    try:
        text, encoding = decode(data, "<stdin>")
        if not text.strip():
            raise InputError("<stdin>", "empty", "standard input held no text")
    except InputError as exc:
        yield Rejection(exc.origin, exc.reason, exc.detail)
        return
    kind = "html" if head == b"<" else "text"
    yield RawDocument(id=content_id(text), format=kind, content=text, origin="<stdin>",
                      crawled_at=when, encoding=encoding)
