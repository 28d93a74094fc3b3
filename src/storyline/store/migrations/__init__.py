"""Versioned schema migrations: numbered SQL steps in this folder, each applied once.

A step is ``NNNN_what_it_does.sql``: portable SQL whose ``${WORD}`` placeholders become the
dialect's spelling (see ``DIALECT_WORDS``). A step that cannot be portable (full-text search is an
FTS5 virtual table on SQLite, a tsvector with a GIN index on PostgreSQL) ships one file per
dialect instead, ``NNNN_what_it_does.sqlite.sql`` and ``NNNN_what_it_does.postgresql.sql``.
The ``schema_version`` table records every applied step; opening a store applies the missing
ones in one transaction, and refuses a store that a newer storyline has migrated beyond the
steps this code knows."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import resources
from string import Template

from sqlalchemy import Connection, text

from storyline.errors import StoreError

STEP_FILE = re.compile(r"^(?P<version>\d{4})_(?P<name>[a-z0-9_]+)(?:\.(?P<dialect>[a-z]+))?\.sql$")

# Keys and sort keys must order by code point on every dialect, whatever collation the
# PostgreSQL server was initialised with, so that ORDER BY and keyset paging agree.
DIALECT_WORDS: dict[str, dict[str, str]] = {
    "sqlite": {"KEY": "TEXT", "BLOB": "BLOB"},
    "postgresql": {"KEY": 'TEXT COLLATE "C"', "BLOB": "BYTEA"},
}

# Any constant works; it only has to be the same for every storyline process.
_PG_MIGRATION_LOCK = 7_205_316_021

_VERSION_TABLE = """
CREATE TABLE IF NOT EXISTS schema_version (
    version    INTEGER PRIMARY KEY,
    name       TEXT NOT NULL,
    applied_at TEXT NOT NULL
)"""


@dataclass(frozen=True, slots=True)
class Step:
    version: int
    name: str
    sql: str
    # For a step written per dialect: dialect -> its SQL (``sql`` is then empty).
    variants: tuple[tuple[str, str], ...] = ()

    def statements(self, dialect: str) -> list[str]:
        """The step's statements for ``dialect``, comments removed (they may hold ';')."""
        if dialect not in DIALECT_WORDS:
            raise StoreError(
                f"no migration words for SQL dialect {dialect!r}",
                hint=f"known dialects: {', '.join(DIALECT_WORDS)}",
            )
        source = dict(self.variants).get(dialect, self.sql) if self.variants else self.sql
        try:
            sql = Template(source).substitute(DIALECT_WORDS[dialect])
        except (KeyError, ValueError) as exc:
            raise StoreError(f"migration {self.version:04d}_{self.name}: bad placeholder {exc}") from None
        lines = [line for line in sql.splitlines() if not line.lstrip().startswith("--")]
        return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def load_steps() -> list[Step]:
    """Every migration step shipped with the package, in version order (1, 2, 3...)."""
    folder = resources.files(__name__)
    portable: list[Step] = []
    per_dialect: dict[tuple[int, str], dict[str, str]] = {}
    for entry in folder.iterdir():
        match = STEP_FILE.match(entry.name)
        if not match:
            continue
        sql = entry.read_text(encoding="utf-8")
        if match["dialect"] is None:
            portable.append(Step(int(match["version"]), match["name"], sql))
        else:
            per_dialect.setdefault((int(match["version"]), match["name"]), {})[match["dialect"]] = sql
    steps = portable + [_dialect_step(v, n, found) for (v, n), found in per_dialect.items()]
    steps.sort(key=lambda s: s.version)
    expected = list(range(1, len(steps) + 1))
    if [s.version for s in steps] != expected:
        # A gap or a doubled number would make "which steps are applied" ambiguous.
        found = ", ".join(f"{s.version:04d}_{s.name}" for s in steps)
        raise StoreError(f"migration steps must be numbered 1..n without gaps; found: {found}")
    return steps


def _dialect_step(version: int, name: str, found: dict[str, str]) -> Step:
    missing = sorted(set(DIALECT_WORDS) - set(found))
    unknown = sorted(set(found) - set(DIALECT_WORDS))
    if missing or unknown:
        # A store on the missing dialect would stop at this version with no way forward.
        raise StoreError(
            f"migration {version:04d}_{name} is written per dialect but "
            + (f"has no file for {', '.join(missing)}" if missing else f"names unknown {', '.join(unknown)}"),
            hint=f"ship {version:04d}_{name}.<dialect>.sql for each of: {', '.join(DIALECT_WORDS)}",
        )
    return Step(version, name, "", tuple(sorted(found.items())))


def latest_version() -> int:
    return len(load_steps())


def current_version(conn: Connection) -> int:
    """The highest applied step, 0 for a store without ``schema_version``."""
    row = conn.execute(text("SELECT MAX(version) FROM schema_version")).scalar()
    return int(row or 0)


def migrate(conn: Connection, after: Mapping[int, Callable[[Connection], object]] | None = None) -> int:
    """Apply the missing steps inside the caller's (write) transaction; return the version.

    ``after`` maps a version to work that SQL cannot do (filling a new table from Python), run
    right after that step, in the same transaction, only when the step itself is applied."""
    dialect = conn.dialect.name
    if dialect == "postgresql":
        # Two processes opening a fresh database at once must not both create the tables.
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_MIGRATION_LOCK})
    conn.exec_driver_sql(_VERSION_TABLE)
    steps = load_steps()
    have = current_version(conn)
    if have > len(steps):
        raise StoreError(
            f"the store is at schema version {have}, newer than this storyline "
            f"(which knows versions up to {len(steps)})",
            hint="upgrade storyline, or open a store made by this version",
        )
    for step in steps[have:]:
        for statement in step.statements(dialect):
            conn.exec_driver_sql(statement)
        conn.execute(
            text("INSERT INTO schema_version (version, name, applied_at) VALUES (:v, :n, :t)"),
            {"v": step.version, "n": step.name, "t": datetime.now(UTC).isoformat()},
        )
        if after and step.version in after:
            after[step.version](conn)
    return len(steps)
