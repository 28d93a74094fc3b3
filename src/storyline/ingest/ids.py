"""Stable article ids: a file's stem, a record's own id, else a hash of the content."""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

# Characters that would make a name print as something else or break a line of output:
# C0/C1 controls, bidi embeddings/overrides/isolates and marks, zero-width and line separators.
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]")


def content_id(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def file_id(path: Path) -> str:
    """'000_18365f23880e082f.txt' -> '000_18365f23880e082f'; a '.gz' wrapper is looked through."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return printable(Path(name).stem)


def printable(name: str | os.PathLike) -> str:
    """A file name as text that can be stored, printed on one line and not misread: bytes that
    are not UTF-8 (which Python carries as surrogates and no store accepts) become ``\\xNN``,
    and invisible or reordering characters become ``\\uNNNN``. Ordinary names are unchanged."""
    text = os.fspath(name)
    if any("\udc80" <= ch <= "\udcff" for ch in text):
        text = os.fsencode(text).decode("utf-8", "backslashreplace")
    return _UNPRINTABLE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
