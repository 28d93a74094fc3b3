"""Story output's parameters (ranking weights, headline penalties, summary sizes), read from
``data/stories.toml``: data, not code paths."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from pathlib import Path

from storyline.errors import ConfigError

DEFAULT_PATH = Path(__file__).with_name("data") / "stories.toml"
SECTIONS = ("rank", "headline", "summary")


@lru_cache(maxsize=4)
def load_params(path: Path = DEFAULT_PATH) -> dict:
    """The parsed file; raises ConfigError naming the file when it is missing or incomplete."""
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"cannot read story parameters {path}: {exc}") from None
    missing = [name for name in SECTIONS if name not in data]
    if missing:
        raise ConfigError(f"story parameters {path} lack section(s): {', '.join(missing)}")
    return data


def section(name: str) -> dict:
    if name not in SECTIONS:
        raise ValueError(f"unknown story parameter section {name!r}; known: {', '.join(SECTIONS)}")
    return load_params()[name]
