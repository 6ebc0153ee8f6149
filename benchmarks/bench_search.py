"""Benchmark the topic search: accuracy on tests/data/search_phrases.yaml and queries/s, against a naive substring scan."""
from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from channels import register_channels  # noqa: E402
from benchmarks.big_catalog import generate  # noqa: E402
from engine import search  # noqa: E402
from engine.catalog import load_catalog  # noqa: E402
from engine.catalog_sync import CatalogHolder  # noqa: E402
from engine.search import SearchIndex, suggest  # noqa: E402

register_channels()  # as run.py does at a process's start

PHRASES = ROOT / "tests" / "data" / "search_phrases.yaml"


def naive_suggest(catalog, phrase: str, limit: int = 5) -> list:
    """Baseline: count the phrase's words found as substrings of each topic's and category's text."""
    words = [w for w in phrase.lower().split() if len(w) > 2]
    scored = []
    for category in catalog.categories:
        for topic in category.topics:
            text = " ".join((topic.title, topic.description, *topic.keywords, category.title, category.description, *category.keywords)).lower()
            hits = sum(1 for w in words if w in text)
            if hits:
                scored.append((hits, topic))
    scored.sort(key=lambda item: -item[0])
    return [topic for _hits, topic in scored[:limit]]


def without_keywords(catalog):
    """The same catalog with every keyword removed: what the ranker does from titles and descriptions alone."""
    categories = tuple(
        dataclasses.replace(c, keywords=(), topics=tuple(dataclasses.replace(t, keywords=()) for t in c.topics))
        for c in catalog.categories
    )
    return dataclasses.replace(catalog, version=catalog.version + "-nokw", categories=categories)


def accuracy(cases: list[dict], ranked_categories) -> tuple[float, float, float, list[str]]:
    """Top-1 and top-3 category accuracy, top-3 topic accuracy (where a topic is expected), and the misses."""
    top1 = top3 = topic_hits = topic_cases = 0
    misses = []
    for case in cases:
        ranked = ranked_categories(case["phrase"])
        categories = [key.split("/")[0] for key in ranked]
        top1 += bool(categories[:1] == [case["category"]])
        top3 += case["category"] in categories[:3]
        if case["category"] not in categories[:3]:
            misses.append(f"{case['phrase']!r}: expected {case['category']}, got {ranked[:3]}")
        if "topic" in case:
            topic_cases += 1
            topic_hits += f"{case['category']}/{case['topic']}" in ranked[:3]
    n = len(cases)
    return top1 / n, top3 / n, topic_hits / max(topic_cases, 1), misses


def rate(fn, phrases: list[str], seconds: float = 1.0) -> float:
    """Queries per second of fn over the phrases, repeated for about `seconds`."""
    done, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds:
        for phrase in phrases:
            fn(phrase)
        done += len(phrases)
    return done / (time.perf_counter() - start)


def percentile(times: list[float], share: float) -> float:
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))] * 1000


def large(topics: int, phrases: list[str]) -> None:
    """A catalog of `topics` topics: reload time, the first search after it, then latencies of every phrase."""
    with tempfile.TemporaryDirectory() as tmp:
        count = generate(ROOT / "config", Path(tmp) / "config", topics)
        holder = CatalogHolder(Path(tmp) / "config")
        (Path(tmp) / "config" / "categories" / "added.yaml").write_text(  # a new version, as an admin's edit makes
            "id: added\ntitle: Новая категория\ntopics:\n  - {id: added, title: Новая тема, form: general}\n", encoding="utf-8")
        started = time.perf_counter()
        assert holder.reload().ok
        reload_ms = (time.perf_counter() - started) * 1000
        catalog = holder.current
        index = search.index_for(catalog)
        started = time.perf_counter()
        suggest(catalog, phrases[0])
        first_ms = (time.perf_counter() - started) * 1000
        cold, warm, typing = [], [], []
        for runs in (cold, warm):  # the first pass sees every typo for the first time; the second remembers them
            for phrase in phrases:
                started = time.perf_counter()
                suggest(catalog, phrase)
                runs.append(time.perf_counter() - started)
        getattr(index, "_fuzzy", {}).clear()
        for phrase in phrases:  # as the portal asks while a customer types: after every word
            words = phrase.split()
            for n in range(1, len(words) + 1):
                started = time.perf_counter()
                suggest(catalog, " ".join(words[:n]))
                typing.append(time.perf_counter() - started)
        print(f"catalog of {count} topics, {len(index.vocabulary)} terms; reload (load + index): {reload_ms:.0f} ms")
        print(f"first search after the reload: {first_ms:.1f} ms (goal < 200)")
        for name, runs in (("first sight of every phrase", cold), ("phrases again", warm), ("word by word, as typed", typing)):
            print(f"{name:<30} p50 {percentile(runs, 0.5):6.2f} ms  p95 {percentile(runs, 0.95):6.2f} ms  max {max(runs) * 1000:6.2f} ms  ({len(runs)} searches)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topics", type=int, default=0, help="also measure a generated catalog of this many topics")
    args = parser.parse_args()
    catalog = load_catalog(ROOT / "config")
    cases = yaml.safe_load(PHRASES.read_text())["phrases"]
    phrases = [case["phrase"] for case in cases]

    start = time.perf_counter()
    SearchIndex(catalog)
    build_ms = (time.perf_counter() - start) * 1000

    engine_rank = lambda p: [s.topic.key for s in suggest(catalog, p, limit=5)]  # noqa: E731
    naive_rank = lambda p: [t.key for t in naive_suggest(catalog, p)]  # noqa: E731
    e1, e3, et, misses = accuracy(cases, engine_rank)
    bare = without_keywords(catalog)
    k1, k3, kt, _ = accuracy(cases, lambda p: [s.topic.key for s in suggest(bare, p, limit=5)])
    b1, b3, bt, _ = accuracy(cases, lambda p: [t.key for t in naive_suggest(bare, p)])
    n1, n3, nt, _ = accuracy(cases, naive_rank)
    engine_qps = rate(engine_rank, phrases)
    naive_qps = rate(naive_rank, phrases)

    print(f"catalog: {len(catalog.categories)} categories, {len(catalog.all_topics())} topics; {len(cases)} phrases")
    print(f"index build: {build_ms:.1f} ms (once per catalog version)")
    print(f"{'':14}{'top-1 cat':>10}{'top-3 cat':>10}{'top-3 topic':>12}{'queries/s':>11}")
    print(f"{'engine.search':14}{e1:>10.1%}{e3:>10.1%}{et:>12.1%}{engine_qps:>11.0f}")
    print(f"{'naive scan':14}{n1:>10.1%}{n3:>10.1%}{nt:>12.1%}{naive_qps:>11.0f}")
    print(f"{'no keywords:':14}")
    print(f"{'engine.search':14}{k1:>10.1%}{k3:>10.1%}{kt:>12.1%}")
    print(f"{'naive scan':14}{b1:>10.1%}{b3:>10.1%}{bt:>12.1%}")
    print(f"ratios engine/naive: top-1 x{e1 / max(n1, 1e-9):.2f}, top-3 x{e3 / max(n3, 1e-9):.2f}, speed x{engine_qps / naive_qps:.2f}")
    for miss in misses:
        print("miss:", miss)
    if args.topics:
        large(args.topics, phrases)


if __name__ == "__main__":
    main()
