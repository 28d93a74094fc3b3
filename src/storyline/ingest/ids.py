"""Stable article ids: a file's stem, a record's own id, else a hash of the content."""

from __future__ import annotations

import hashlib
from pathlib import Path


def content_id(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def file_id(path: Path) -> str:
    """'000_18365f23880e082f.txt' -> '000_18365f23880e082f'; a '.gz' wrapper is looked through."""
    name = path.name[:-3] if path.name.lower().endswith(".gz") else path.name
    return Path(name).stem
