"""The search index of a large catalog is built when the catalog loads, and its fast lookups match a full scan."""
from __future__ import annotations

import shutil

import pytest
from rapidfuzz import fuzz

from engine import search
from engine.catalog_sync import CatalogHolder
from engine.settings import PROJECT_ROOT

TOPICS = 10_000


def big_config(root, topics: int):
    """The shipped config plus generated categories of 100 topics each, `topics` generated topics in all."""
    config = root / "config"
    shutil.copytree(PROJECT_ROOT / "config", config)
    for c in range(topics // 100):
        lines = [f"id: gen{c}", f"title: Продукт номер {c}", "order: 1000", "topics:"]
        lines += [f"  - {{id: t{t}, title: 'Сбой модуля м{c}x{t}', description: 'Не работает узел у{t}', form: general,"
                  f" keywords: [изделие{c}, деталь{t}]}}" for t in range(100)]
        (config / "categories" / f"gen{c}.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return config


@pytest.fixture(scope="module")
def holder(tmp_path_factory):
    return CatalogHolder(big_config(tmp_path_factory.mktemp("big"), TOPICS))


def test_a_large_catalog_is_indexed_when_it_loads(holder):
    catalog = holder.current
    assert len(catalog.all_topics()) > TOPICS
    assert search.is_indexed(catalog)  # before any search asked for it
    index = search.index_for(catalog)
    assert len(index.topics) == len(catalog.all_topics())
    assert index.offered("web") and "web" in index._by_channel  # per-channel sets built too


def test_a_reload_indexes_the_new_version_before_it_is_served(holder):
    extra = holder.config_dir / "categories" / "gen0.yaml"
    extra.write_text(extra.read_text(encoding="utf-8") + "  - {id: added, title: Новая тема, form: general}\n", encoding="utf-8")
    result = holder.reload()
    assert result.ok
    assert search.is_indexed(holder.current) and holder.current.version == result.version
    assert [s.topic.key for s in search.suggest(holder.current, "новая тема", limit=1)] == ["gen0/added"]


def test_lookups_by_prefix_and_length_find_what_a_full_scan_finds(holder):
    index = search.index_for(holder.current)
    for stem in ("изделие1", "детал", "модул", "сбо", "телефон", "тлефония", "изделе", "м5x7"):
        prefixed = {t for t in index.vocabulary if t.startswith(stem)}
        assert set(index._starting_with(stem)) == prefixed
        reachable = {t for t in index.vocabulary if fuzz.ratio(stem, t) >= search.FUZZY_CUTOFF}
        assert reachable <= set(index._similar_length(stem))
