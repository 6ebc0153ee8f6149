"""Search fixtures: the shipped catalog, the PlanetaHost example and the phrase set."""
from __future__ import annotations

import pytest
import yaml

from engine.catalog import Catalog, load_catalog
from engine.settings import PROJECT_ROOT

PHRASES_FILE = PROJECT_ROOT / "tests" / "data" / "search_phrases.yaml"


@pytest.fixture(scope="session")
def catalog() -> Catalog:
    return load_catalog(PROJECT_ROOT / "config")


@pytest.fixture(scope="session")
def planetahost() -> Catalog:
    return load_catalog(PROJECT_ROOT / "examples" / "planetahost")


@pytest.fixture(scope="session")
def phrases() -> list[dict]:
    return yaml.safe_load(PHRASES_FILE.read_text())["phrases"]
