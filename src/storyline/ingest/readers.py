"""Find inputs (files, directories, stdin) and turn each into RawDocuments or Rejections.

Every input the user named or a directory holds ends as a document or a Rejection naming it;
nothing is read whole before its size is known to be within ``max_bytes``, and nothing that is
not a regular file (a FIFO, a device behind a symlink) is opened at all."""

from __future__ import annotations

import errno
import gzip
import io
import os
import stat
import sys
import zlib
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from itertools import chain
from pathlib import Path

from storyline.errors import InputError
from storyline.ingest.encoding import bom_encoding, decode, drop_nul, looks_binary, utf16_order
from storyline.ingest.ids import content_id, file_id, printable
from storyline.ingest.records import parse_record
from storyline.model import RawDocument, Rejection
from storyline.settings import DEFAULT_MAX_DOCUMENT_BYTES, size_text

TEXT_SUFFIXES = (".txt", ".text")
HTML_SUFFIXES = (".html", ".htm", ".xhtml")
JSONL_SUFFIXES = (".jsonl", ".ndjson")
SUPPORTED = TEXT_SUFFIXES + HTML_SUFFIXES + JSONL_SUFFIXES
# Bytes read to sniff a JSON Lines file (binary? UTF-16?) and stdin (records, HTML or text?).
_HEAD = 64 * 1024
_CHUNK = 1024 * 1024
# A broken gzip stream surfaces as any of these, depending on where it breaks.
_GZIP_ERRORS = (gzip.BadGzipFile, EOFError, zlib.error)

Item = RawDocument | Rejection


def kind_of(path: Path) -> str | None:
    name = path.name.lower()
    if name.endswith(".gz"):
        name = name[:-3]
    for kind, suffixes in (("text", TEXT_SUFFIXES), ("html", HTML_SUFFIXES), ("jsonl", JSONL_SUFFIXES)):
        if name.endswith(suffixes):
            return kind
    return None


def expand(paths: Iterable[str]) -> Iterator[Path | str | Rejection]:
    """Named files as given (even with an unknown suffix: the reader says why it refuses them),
    directories walked recursively in a stable order, keeping only supported files.

    Symlinked directories are followed (a user's folder of links is their data), each real
    directory once: a link back into a directory being walked is a Rejection, not a hang."""
    for raw in paths:
        if raw == "-":
            yield "-"
            continue
        path = Path(raw)
        if path.is_dir():
            yield from _walk(path, set())
        else:
            yield path


def _walk(folder: Path, seen: set[tuple[int, int]]) -> Iterator[Path | Rejection]:
    try:
        info = folder.stat()
        key = (info.st_dev, info.st_ino)
        if key in seen:
            yield Rejection(printable(folder), "symlink_loop",
                            f"links back to {printable(folder.resolve())}, already being read; "
                            "not followed")
            return
        seen.add(key)
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as exc:
        yield Rejection(printable(folder), "unreadable",
                        f"cannot list directory: {exc.strerror or exc}")
        return
    subfolders = []
    for entry in entries:
        if entry.name.startswith("."):
            continue
        child = folder / entry.name
        try:
            is_dir = entry.is_dir()  # follows symlinks; False for a broken or looping link
        except OSError:
            is_dir = False
        if is_dir:
            subfolders.append(child)
        elif kind_of(child):
            yield child
    for child in subfolders:
        yield from _walk(child, seen)
    seen.discard(key)


def read_inputs(paths: Iterable[str], crawled_at: datetime | None = None, stdin=None,
                max_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES) -> Iterator[Item]:
    """Everything the user named, one RawDocument per article, one Rejection per bad input.

    ``max_bytes`` bounds one document: a text or HTML file (after gunzip) or one JSON Lines
    record; a larger one is rejected as ``too_large`` without being read into memory."""
    for target in expand(paths):
        if isinstance(target, Rejection):
            yield target
        elif target == "-":
            yield from _read_stdin(stdin or sys.stdin.buffer, crawled_at, max_bytes)
        else:
            yield from _read_path(target, crawled_at, max_bytes)


def _too_large(origin: str, what: str, max_bytes: int, size: int | None = None) -> InputError:
    enough = max(int((size or 0) * 1.1), max_bytes * 2)
    return InputError(
        origin, "too_large",
        f"{what} is larger than the limit of {size_text(max_bytes)} for one document",
        hint=f"raise the max_document_bytes setting (now {max_bytes}), e.g. "
             f"STORYLINE_MAX_DOCUMENT_BYTES={-(-enough // (1024 * 1024))}M")


def _read_path(path: Path, crawled_at: datetime | None, max_bytes: int) -> Iterator[Item]:
    origin = printable(path)
    kind = kind_of(path)
    try:
        if kind is None:
            raise InputError(origin, "unsupported",
                             f"unknown file type {printable(path.suffix) or '(no suffix)'!r}",
                             hint=f"supported: {', '.join(SUPPORTED)} (optionally .gz)")
        info = _stat(path, origin)
        when = crawled_at or datetime.fromtimestamp(info.st_mtime, UTC)
        packed = path.name.lower().endswith(".gz")
        if kind == "jsonl":
            yield from _read_jsonl(path, origin, when, packed, max_bytes)
            return
        if not packed and info.st_size > max_bytes:
            raise _too_large(origin, f"the file ({size_text(info.st_size)})", max_bytes,
                             info.st_size)
        data = _read_bytes(path, origin, packed, max_bytes)
        if not data.strip():
            raise InputError(origin, "empty", "the file holds no text")
        text, encoding = decode(data, origin)
        if not text.strip():
            raise InputError(origin, "empty", "the file holds no text")
        yield RawDocument(id=file_id(path), format=kind, content=text, origin=origin,
                          crawled_at=when, encoding=encoding)
    except InputError as exc:
        yield Rejection(exc.origin, exc.reason, _with_hint(exc))
    except OSError as exc:
        yield Rejection(origin, "unreadable", exc.strerror or str(exc))


def _with_hint(exc: InputError) -> str:
    return f"{exc.detail} ({exc.hint})" if exc.hint and exc.reason == "too_large" else exc.detail


def _stat(path: Path, origin: str) -> os.stat_result:
    """The file's status, or an InputError saying precisely why it cannot be read."""
    try:
        info = path.stat()
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise InputError(origin, "unreadable", "symbolic link loop (the link points back "
                                                   "at itself)") from None
        if exc.errno == errno.ENOENT:
            if path.is_symlink():
                raise InputError(origin, "not_found", "dangling symbolic link to "
                                 f"{printable(os.readlink(path))}") from None
            raise InputError(origin, "not_found", "no such file or directory") from None
        raise InputError(origin, "unreadable", exc.strerror or str(exc)) from None
    if not stat.S_ISREG(info.st_mode):
        what = ("a named pipe" if stat.S_ISFIFO(info.st_mode) else
                "a device" if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode) else
                "a socket" if stat.S_ISSOCK(info.st_mode) else "a special file")
        raise InputError(origin, "unreadable", f"not a regular file ({what}); not read")
    return info


def _read_bytes(path: Path, origin: str, packed: bool, max_bytes: int) -> bytes:
    """At most ``max_bytes`` of the file (gunzipped): a gzip bomb stops at the limit."""
    with open(path, "rb") as raw:
        if not packed:
            data = raw.read(max_bytes + 1)
        else:
            try:
                with gzip.GzipFile(fileobj=raw) as fh:
                    data = fh.read(max_bytes + 1)
            except _GZIP_ERRORS as exc:
                raise InputError(origin, "undecodable", f"broken gzip file ({exc})") from None
    if len(data) > max_bytes:
        raise _too_large(origin, "the unpacked file" if packed else "the file", max_bytes)
    return data


def _read_jsonl(path: Path, origin: str, crawled_at: datetime, packed: bool,
                max_bytes: int) -> Iterator[Item]:
    with open(path, "rb") as raw:
        stream = gzip.GzipFile(fileobj=raw) if packed else raw
        yield from _jsonl_stream(_chunks(stream), origin, crawled_at, max_bytes)


def _chunks(stream) -> Iterator[bytes]:
    # read1: a gzip stream cut short gives the data before the cut, then raises.
    read = getattr(stream, "read1", stream.read)
    while chunk := read(_CHUNK):
        yield chunk


def _jsonl_stream(chunks: Iterator[bytes], name: str, crawled_at: datetime | None,
                  max_bytes: int) -> Iterator[Item]:
    """Records of a byte stream; a stream that breaks (a gzip cut short) keeps the records read
    before the break and ends with a Rejection saying where it broke."""
    count = number = 0
    try:
        head = next(chunks, b"")
        encoding = bom_encoding(head)
        if encoding is None and utf16_order(head):
            encoding = f"utf-16-{utf16_order(head)}"
        if encoding is None and looks_binary(head):
            yield Rejection(name, "undecodable", "binary data (NUL bytes), not JSON Lines")
            return
        stream = _ChunkReader(chain([head], chunks))
        wide = encoding is not None and encoding.startswith("utf-16") or encoding == "utf-32"
        lines = _wide_lines(stream, encoding, max_bytes) if wide else _lines(stream, max_bytes)
        for number, (line, size, problem) in enumerate(lines, start=1):
            if not line.strip() and size <= max_bytes and problem is None:
                continue
            count += 1
            yield _record(line, size, problem, f"{name}:{number}", crawled_at, max_bytes)
    except _GZIP_ERRORS as exc:
        where = f" after line {number}; the records before it are read" if number else ""
        yield Rejection(name, "undecodable", f"broken gzip file ({exc}){where}")
        return
    if count == 0:
        yield Rejection(name, "empty", "the file holds no records")


class _ChunkReader(io.RawIOBase):
    """A file-like view of an iterator of byte chunks, so readline() can bound each line."""

    def __init__(self, chunks: Iterator[bytes]):
        self._chunks = chunks
        self._buffer = b""

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:
        while not self._buffer:
            chunk = next(self._chunks, None)
            if chunk is None:
                return 0
            self._buffer = chunk
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        return n


Line = tuple[bytes, int, str | None]  # (UTF-8 or undecoded bytes, size in bytes, problem)


def _lines(raw: io.RawIOBase, max_bytes: int) -> Iterator[Line]:
    """A line over ``max_bytes`` comes as (b"", its size) after being skipped in chunks, never
    held whole."""
    stream = io.BufferedReader(raw, _CHUNK)
    while line := stream.readline(max_bytes + 1):
        size = len(line)
        if size > max_bytes and not line.endswith(b"\n"):
            while line and not line.endswith(b"\n"):
                line = stream.readline(_CHUNK)
                size += len(line)
            line = b""
        yield line, size, None


def _wide_lines(raw: io.RawIOBase, encoding: str, max_bytes: int) -> Iterator[Line]:
    """Lines of a UTF-16/32 file as UTF-8, which the record parser reads."""
    text = io.TextIOWrapper(io.BufferedReader(raw, _CHUNK), encoding=encoding, newline=None)
    try:
        while line := text.readline(max_bytes + 1):
            data = line.lstrip("\ufeff").encode("utf-8", "surrogatepass")
            size = len(data)
            if size > max_bytes and not line.endswith("\n"):
                while line and not line.endswith("\n"):
                    line = text.readline(_CHUNK)
                    size += len(line.encode("utf-8", "surrogatepass"))
                data = b""
            yield data, size, None
    except UnicodeDecodeError as exc:
        yield b"", 0, f"not valid {encoding} ({exc.reason}); the lines after it are not read"


def _record(line: bytes, size: int, problem: str | None, origin: str,
            crawled_at: datetime | None, max_bytes: int) -> Item:
    try:
        if problem:
            raise InputError(origin, "undecodable", problem)
        if size > max_bytes:
            raise _too_large(origin, f"the record ({size_text(size)})", max_bytes, size)
        text, _ = decode(line, origin)
        return parse_record(text, origin, crawled_at)
    except InputError as exc:
        if not line:
            return Rejection(exc.origin, exc.reason, _with_hint(exc))
        kept = drop_nul(line.decode("utf-8", "replace").rstrip("\r\n"))
        return Rejection(exc.origin, exc.reason, exc.detail,
                         raw=RawDocument(id=content_id(kept), format="record", content=kept,
                                         origin=origin, crawled_at=crawled_at))


def _read_stdin(stream, crawled_at: datetime | None, max_bytes: int) -> Iterator[Item]:
    """stdin is sniffed: JSON Lines if it starts with '{', HTML if with '<', else one text article."""
    when = crawled_at or datetime.now(UTC)
    head = stream.read(_HEAD)
    first = head.lstrip().lstrip(b"\xef\xbb\xbf")[:1]
    if first == b"{":
        yield from _jsonl_stream(chain([head], _chunks(stream)), "<stdin>", when, max_bytes)
        return
    try:
        data = head + stream.read(max_bytes + 1 - len(head)) if len(head) == _HEAD else head
        if len(data) > max_bytes:
            raise _too_large("<stdin>", "standard input", max_bytes)
        text, encoding = decode(data, "<stdin>")
        if not text.strip():
            raise InputError("<stdin>", "empty", "standard input held no text")
    except InputError as exc:
        yield Rejection(exc.origin, exc.reason, _with_hint(exc))
        return
    kind = "html" if first == b"<" else "text"
    yield RawDocument(id=content_id(text), format=kind, content=text, origin="<stdin>",
                      crawled_at=when, encoding=encoding)
