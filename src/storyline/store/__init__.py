"""Where articles live: one small interface (``Store``), chosen by URL (``open_store``)."""

from __future__ import annotations

from storyline.errors import ConfigError
from storyline.store.base import Store, UpsertStatus

DEFAULT_URL = "sqlite:///storyline.db"
SUPPORTED_SCHEMES = {
    "sqlite": "sqlite:///PATH (a file), sqlite:// (in memory)",
    "postgresql": "postgresql://USER@HOST:PORT/DATABASE",
}


def open_store(url: str = DEFAULT_URL) -> Store:
    """Open (creating and migrating if needed) the store at ``url``.

    ``sqlite:///path`` is a file, ``sqlite://`` or ``sqlite:///:memory:`` lives in memory,
    ``postgresql://...`` is a server (psycopg 3). Raises ConfigError for another scheme and
    StoreError when the store cannot be opened or is newer than this code."""
    scheme, sep, _ = (url or "").partition("://")
    backend = scheme.split("+", 1)[0].lower()
    if backend == "postgres":
        backend = "postgresql"
    if not sep or backend not in SUPPORTED_SCHEMES:
        from storyline.store.sql import safe_url

        raise ConfigError(
            f"unsupported store URL {safe_url(url)!r}: scheme {scheme or '(none)'!r}",
            hint="supported: " + "; ".join(SUPPORTED_SCHEMES.values()),
        )
    from storyline.store.sql import SqlStore  # SQLAlchemy loads only when a store opens

    return SqlStore(url)


__all__ = ["DEFAULT_URL", "SUPPORTED_SCHEMES", "Store", "UpsertStatus", "open_store"]
