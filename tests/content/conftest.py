"""Content fixtures: the shipped Twin catalog and the PlanetaHost example, loaded once."""
from __future__ import annotations

import pytest

from engine.catalog import Catalog, load_catalog
from engine.settings import PROJECT_ROOT


@pytest.fixture(scope="session")
def twin() -> Catalog:
    return load_catalog(PROJECT_ROOT / "config")


@pytest.fixture(scope="session")
def planetahost() -> Catalog:
    return load_catalog(PROJECT_ROOT / "examples" / "planetahost")
