"""Stable article ids: a file's stem, a record's own id, else a hash of the content."""

from __future__ import annotations

import hashlib
from pathlib import Path


def content_id(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8", "surrogatepass")).hexdigest()[:16]


def file_id(path: Path) -> str:
    return path.name.split(".")[0] if path.name.endswith(".html.gz") else path.stem
