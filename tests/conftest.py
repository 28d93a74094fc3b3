from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# CI clones the project with shared/ beside it; a developer may point elsewhere.
SHARED = Path(os.environ.get("STORYLINE_SHARED", REPO.parent / "shared"))


@pytest.fixture(scope="session")
def shared() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"shared data not found at {SHARED}; set STORYLINE_SHARED")
    return SHARED


@pytest.fixture(scope="session")
def seeds(shared: Path) -> Path:
    return shared / "seeds"


@pytest.fixture(scope="session")
def datasets(shared: Path) -> Path:
    return shared / "datasets"
