"""The clustering's parameters, read from params.toml (data, calibrated by `storyline eval`)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path

from storyline.errors import ConfigError

DEFAULT_PARAMS = Path(__file__).with_name("params.toml")


@dataclass(frozen=True, slots=True)
class LevelParams:
    """Weights and thresholds of one level (event or story)."""

    bias: float
    cosine: float
    entities: float
    terms: float
    time: float
    time_scale_hours: float
    threshold: float
    candidates: int
    window_days: float
    max_cosine: float = 0.0
    same_outlet: float = 0.0
    cross_english: float = 0.0
    latent: float = 0.0
    threshold_growth: float = 0.0
    threshold_max: float = 1.0
    retire_slack_days: float = 0.0
    merge_threshold: float = 1.0
    centroid_floor: float = 0.0


@dataclass(frozen=True, slots=True)
class FeatureParams:
    max_terms: int
    max_entities: int
    core_share: float
    core_max: int


@dataclass(frozen=True, slots=True)
class DedupParams:
    threshold: float = 0.5
    num_perm: int = 128
    shingle_size: int = 5


@dataclass(frozen=True, slots=True)
class Params:
    event: LevelParams
    story: LevelParams
    features: FeatureParams
    dedup: DedupParams


def _build(cls, table: dict, where: str):
    known = {f.name for f in fields(cls)}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"unknown clustering parameter(s) in [{where}]: {', '.join(sorted(unknown))}",
                          hint=f"known: {', '.join(sorted(known))}")
    try:
        return cls(**table)
    except TypeError as exc:
        raise ConfigError(f"clustering parameters [{where}]: {exc}") from None


@lru_cache(maxsize=8)
def load_params(path: Path = DEFAULT_PARAMS, embedder: str | None = None) -> Params:
    """The parameters; an ``[embedder.NAME.event]`` (or ``.story``) table overrides the levels'
    values for that embedder, whose similarities live on another scale."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"cannot read clustering parameters {path}: {exc.strerror}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"clustering parameters {path} are not valid TOML: {exc}") from None
    family = (embedder or "").split(":", 1)[0]
    overrides = data.get("embedder", {}).get(family, {})
    return Params(
        event=_build(LevelParams, {**data.get("event", {}), **overrides.get("event", {})}, "event"),
        story=_build(LevelParams, {**data.get("story", {}), **overrides.get("story", {})}, "story"),
        features=_build(FeatureParams, data.get("features", {}), "features"),
        dedup=_build(DedupParams, data.get("dedup", {}), "dedup"),
    )
