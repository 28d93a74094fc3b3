"""Declared settings: defaults -> config file -> env STORYLINE_* -> CLI flags."""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from pathlib import Path

from storyline.errors import ConfigError

# Close neighbours are in the default set so that Belarusian or Bulgarian text is called what it
# is instead of being forced into uk or ru.
DEFAULT_LANGUAGES = ("uk", "ru", "en", "be", "bg", "pl", "kk", "sr", "mk", "de", "fr")
# The largest news page seen in the evaluation sets is under 3 MB of HTML; 16 MB leaves room for
# pages heavy with inline scripts while keeping one document's parse well under a gigabyte.
DEFAULT_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024
_SIZE_UNITS = {"": 1, "K": 1024, "M": 1024**2, "G": 1024**3}


@dataclass(frozen=True, slots=True)
class Settings:
    db: str = "sqlite:///storyline.db"
    languages: tuple[str, ...] = DEFAULT_LANGUAGES
    # Reference time for relative dates ("Вчера, 20:07"); None means: the input file's mtime.
    crawled_at: datetime | None = None
    min_chars: int = 200
    timezone: str = "Europe/Kyiv"
    # Dense embedder for clustering: "e5" (bundled multilingual-e5-small), "lexical", "st:MODEL".
    embedder: str = "e5"
    # Events and stories are built on ingest; off for a plain article store.
    cluster: bool = True
    # A file of vectors shared across stores (evaluations, benchmarks); None: the store only.
    vector_cache: str | None = None
    # One document (a text or HTML file after gunzip, one JSON Lines record) larger than this
    # is rejected as too_large without being read whole. Accepts 512K, 32M, 1G.
    max_document_bytes: int = DEFAULT_MAX_DOCUMENT_BYTES
    extra: dict = field(default_factory=dict)

    def with_overrides(self, **values) -> Settings:
        known = {f.name for f in fields(self)}
        unknown = set(values) - known
        if unknown:
            raise ConfigError(
                f"unknown setting(s): {', '.join(sorted(unknown))}",
                hint=f"known settings: {', '.join(sorted(known - {'extra'}))}",
            )
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def _coerce(name: str, value):
    if name == "languages":
        items = value.split(",") if isinstance(value, str) else list(value)
        langs = tuple(x.strip().lower() for x in items if x.strip())
        if not langs:
            raise ConfigError("languages must name at least one language", hint="e.g. uk,ru,en")
        return langs
    if name == "cluster" and isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    if name == "crawled_at":
        return parse_datetime_setting(value)
    if name == "min_chars":
        try:
            number = int(value)
        except (TypeError, ValueError):
            raise ConfigError(f"min_chars must be a whole number, got {value!r}") from None
        if number < 0:
            raise ConfigError(f"min_chars must be >= 0, got {number}")
        return number
    if name == "max_document_bytes":
        return parse_size(value, name)
    return value


def parse_size(value, name: str = "size") -> int:
    """Bytes from 16777216, "16M", "512K" or "1G"."""
    text = str(value).strip().upper().removesuffix("B").removesuffix("I")
    unit = text[-1:] if text[-1:] in _SIZE_UNITS and text[-1:] else ""
    try:
        number = int(float(text[: len(text) - len(unit)]) * _SIZE_UNITS[unit])
    except ValueError:
        raise ConfigError(f"{name} must be a size in bytes, got {value!r}",
                          hint="e.g. 16777216, 16M, 512K, 1G") from None
    if number < 1:
        raise ConfigError(f"{name} must be at least 1 byte, got {value!r}")
    return number


def size_text(size: int) -> str:
    """16777216 -> '16.0 MB', 1500 -> '1,500 bytes'."""
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):,.1f} MB"


def parse_datetime_setting(value) -> datetime | None:
    if value is None or isinstance(value, datetime):
        return value
    try:
        return datetime.fromisoformat(str(value))
    except ValueError:
        raise ConfigError(
            f"not an ISO 8601 date/time: {value!r}", hint="e.g. 2021-12-31T12:00+02:00"
        ) from None


def load_settings(config: Path | None = None, env: dict | None = None, **cli) -> Settings:
    """Defaults, then the TOML config file, then STORYLINE_* variables, then CLI values."""
    env = os.environ if env is None else env
    values: dict = {}
    if config is not None:
        try:
            values.update(tomllib.loads(Path(config).read_text(encoding="utf-8")))
        except OSError as exc:
            raise ConfigError(f"cannot read config file {config}: {exc.strerror}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {config} is not valid TOML: {exc}") from None
    for f in fields(Settings):
        key = f"STORYLINE_{f.name.upper()}"
        if key in env:
            values[f.name] = env[key]
    values.update({k: v for k, v in cli.items() if v is not None})
    return Settings().with_overrides(**{k: _coerce(k, v) for k, v in values.items()})
